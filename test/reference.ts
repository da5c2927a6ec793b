// Float64 references written the plain way, for tests that check an op or a model end to end.

/** The f64 inverse of an SPD matrix (Gauss–Jordan; no pivoting needed for SPD). */
export function inverseSpd(a: ArrayLike<number>, d: number): Float64Array {
  const w = Float64Array.from(a);
  const inv = new Float64Array(d * d);
  for (let i = 0; i < d; i++) inv[i * d + i] = 1;
  for (let c = 0; c < d; c++) {
    const p = 1 / w[c * d + c]!;
    for (let j = 0; j < d; j++) {
      w[c * d + j] = w[c * d + j]! * p;
      inv[c * d + j] = inv[c * d + j]! * p;
    }
    for (let r = 0; r < d; r++) {
      if (r === c) continue;
      const f = w[r * d + c]!;
      if (f === 0) continue;
      for (let j = 0; j < d; j++) {
        w[r * d + j] = w[r * d + j]! - f * w[c * d + j]!;
        inv[r * d + j] = inv[r * d + j]! - f * inv[c * d + j]!;
      }
    }
  }
  return inv;
}

/**
 * Disjoint LinUCB in float64 the direct way: A_k and b_k kept explicitly, A_k⁻¹ recomputed by
 * Gauss–Jordan for every score. The oracle for the model's cpu backend.
 */
export class DirectLinUCB {
  private readonly a: Float64Array[];
  private readonly b: Float64Array[];

  constructor(readonly arms: number, readonly dim: number, readonly alpha: number, readonly lambda: number) {
    this.a = Array.from({ length: arms }, () => {
      const m = new Float64Array(dim * dim);
      for (let i = 0; i < dim; i++) m[i * dim + i] = lambda;
      return m;
    });
    this.b = Array.from({ length: arms }, () => new Float64Array(dim));
  }

  /** Scores B×K for contexts B×dim (or B×K×dim with perArm). */
  scores(x: ArrayLike<number>, perArm = false): Float64Array {
    const d = this.dim, K = this.arms;
    const rows = x.length / (perArm ? K * d : d);
    const out = new Float64Array(rows * K);
    for (let k = 0; k < K; k++) {
      const inv = inverseSpd(this.a[k]!, d);
      const theta = new Float64Array(d);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) theta[i]! += inv[i * d + j]! * this.b[k]![j]!;
      for (let r = 0; r < rows; r++) {
        const o = perArm ? (r * K + k) * d : r * d;
        let mean = 0, q = 0;
        for (let i = 0; i < d; i++) {
          mean += theta[i]! * x[o + i]!;
          let v = 0;
          for (let j = 0; j < d; j++) v += inv[i * d + j]! * x[o + j]!;
          q += x[o + i]! * v;
        }
        out[r * K + k] = mean + this.alpha * Math.sqrt(Math.max(q, 0));
      }
    }
    return out;
  }

  /** Every arm's A⁻¹ (K×d×d), by Gauss–Jordan. */
  inverses(): Float64Array {
    const d = this.dim, out = new Float64Array(this.arms * d * d);
    this.a.forEach((a, k) => out.set(inverseSpd(a, d), k * d * d));
    return out;
  }

  /** Every arm's θ = A⁻¹b (K×d). */
  thetas(): Float64Array {
    const d = this.dim, out = new Float64Array(this.arms * d);
    const inv = this.inverses();
    for (let k = 0; k < this.arms; k++) {
      for (let i = 0; i < d; i++) {
        let s = 0;
        for (let j = 0; j < d; j++) s += inv[k * d * d + i * d + j]! * this.b[k]![j]!;
        out[k * d + i] = s;
      }
    }
    return out;
  }

  /** Adds one observation: A_k += x xᵀ, b_k += r·x (x: dim values). */
  update(arm: number, x: ArrayLike<number>, reward: number): void {
    const d = this.dim, a = this.a[arm]!, b = this.b[arm]!;
    for (let i = 0; i < d; i++) {
      b[i]! += reward * x[i]!;
      for (let j = 0; j < d; j++) a[i * d + j]! += x[i]! * x[j]!;
    }
  }
}
