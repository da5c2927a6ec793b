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

/** y = M v for a row-major rows×cols M. */
function matVecF64(m: ArrayLike<number>, v: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i]! += m[i * cols + j]! * v[j]!;
  return out;
}

/** y = Mᵀ v for a row-major rows×cols M. */
function matTVecF64(m: ArrayLike<number>, v: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j]! += m[i * cols + j]! * v[i]!;
  return out;
}

const dotF64 = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/**
 * Hybrid LinUCB (Li, Chu, Langford, Schapire 2010, Algorithm 2) in float64, line by line: A0, b0
 * and per arm A_a, B_a, b_a kept explicitly, every inverse recomputed by Gauss–Jordan for each
 * score, and each observation applied by the algorithm's seven update lines in order. The oracle
 * for HybridLinUCB's cpu backend.
 */
export class DirectHybridLinUCB {
  private readonly a0: Float64Array;
  private readonly b0: Float64Array;
  private readonly a: Float64Array[];
  private readonly bm: Float64Array[];
  private readonly b: Float64Array[];

  constructor(
    readonly arms: number, readonly dim: number, readonly sharedDim: number, readonly alpha: number, readonly lambda: number,
  ) {
    const eye = (n: number) => {
      const m = new Float64Array(n * n);
      for (let i = 0; i < n; i++) m[i * n + i] = lambda;
      return m;
    };
    this.a0 = eye(sharedDim);
    this.b0 = new Float64Array(sharedDim);
    this.a = Array.from({ length: arms }, () => eye(dim));
    this.bm = Array.from({ length: arms }, () => new Float64Array(dim * sharedDim));
    this.b = Array.from({ length: arms }, () => new Float64Array(dim));
  }

  /** β̂ = A0⁻¹ b0. */
  beta(): Float64Array {
    return matVecF64(inverseSpd(this.a0, this.sharedDim), this.b0, this.sharedDim, this.sharedDim);
  }

  /** Scores B×K for x: B×K×dim and z: B×K×sharedDim. */
  scores(x: ArrayLike<number>, z: ArrayLike<number>): Float64Array {
    const d = this.dim, k = this.sharedDim, K = this.arms;
    const rows = x.length / (K * d);
    const out = new Float64Array(rows * K);
    const a0Inv = inverseSpd(this.a0, k);
    const beta = matVecF64(a0Inv, this.b0, k, k);
    for (let arm = 0; arm < K; arm++) {
      const aInv = inverseSpd(this.a[arm]!, d);
      const bBeta = matVecF64(this.bm[arm]!, beta, d, k);
      const theta = matVecF64(aInv, this.b[arm]!.map((v, i) => v - bBeta[i]!), d, d);
      for (let r = 0; r < rows; r++) {
        const xs = Array.from({ length: d }, (_, i) => x[(r * K + arm) * d + i]!);
        const zs = Array.from({ length: k }, (_, i) => z[(r * K + arm) * k + i]!);
        const aInvX = matVecF64(aInv, xs, d, d);
        const btAInvX = matTVecF64(this.bm[arm]!, aInvX, d, k); // B_aᵀA_a⁻¹x
        const a0InvZ = matVecF64(a0Inv, zs, k, k);
        const a0InvBtAInvX = matVecF64(a0Inv, btAInvX, k, k);
        // s = zᵀA0⁻¹z − 2zᵀA0⁻¹B_aᵀA_a⁻¹x + xᵀA_a⁻¹x + xᵀA_a⁻¹B_a A0⁻¹B_aᵀA_a⁻¹x
        const s = dotF64(zs, a0InvZ) - 2 * dotF64(zs, a0InvBtAInvX) + dotF64(xs, aInvX) + dotF64(btAInvX, a0InvBtAInvX);
        out[r * K + arm] = dotF64(zs, beta) + dotF64(xs, theta) + this.alpha * Math.sqrt(Math.max(s, 0));
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

  /** Algorithm 2's update for one observation (x: dim values, z: sharedDim values). */
  update(arm: number, x: ArrayLike<number>, z: ArrayLike<number>, reward: number): void {
    const d = this.dim, k = this.sharedDim;
    const a = this.a[arm]!, bm = this.bm[arm]!, b = this.b[arm]!;
    // A0 += B_aᵀA_a⁻¹B_a, b0 += B_aᵀA_a⁻¹b_a; then A_a, B_a, b_a; then the same terms subtracted.
    const shared = (sign: number) => {
      const aInv = inverseSpd(a, d);
      for (let i = 0; i < k; i++) {
        const bCol = Array.from({ length: d }, (_, r) => bm[r * k + i]!);
        const aInvBCol = matVecF64(aInv, bCol, d, d);
        for (let j = 0; j < k; j++) {
          let s = 0;
          for (let r = 0; r < d; r++) s += bm[r * k + j]! * aInvBCol[r]!;
          this.a0[j * k + i]! += sign * s;
        }
        this.b0[i]! += sign * dotF64(aInvBCol, b);
      }
    };
    shared(1);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) a[i * d + j]! += x[i]! * x[j]!;
      for (let j = 0; j < k; j++) bm[i * k + j]! += x[i]! * z[j]!;
      b[i]! += reward * x[i]!;
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) this.a0[i * k + j]! += z[i]! * z[j]!;
      this.b0[i]! += reward * z[i]!;
    }
    shared(-1);
  }
}
