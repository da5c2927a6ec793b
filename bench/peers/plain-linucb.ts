// Disjoint LinUCB as a careful JS developer would write it without a library: float64 typed
// arrays, one contiguous block per arm, the inverse kept by Sherman–Morrison, θ kept current,
// scoring arm by arm so each arm's A⁻¹ is walked once per batch while it is in cache.
// The benchmark peer of the library's LinUCB (bench/linucb.ts). No input validation: a user's
// own loop would not check contexts for NaN on every call.

export interface PlainLinUCBOptions {
  readonly alpha: number;
  readonly lambda: number;
}

export class PlainLinUCB {
  readonly arms: number;
  readonly dim: number;
  readonly alpha: number;
  /** K blocks of d×d, row-major: A_a⁻¹ (symmetric). */
  private readonly aInv: Float64Array;
  /** K×d: b_a = Σ r x. */
  private readonly b: Float64Array;
  /** K×d: θ_a = A_a⁻¹ b_a, kept current by update. */
  private readonly theta: Float64Array;
  private readonly v: Float64Array;

  constructor(arms: number, dim: number, options: PlainLinUCBOptions) {
    this.arms = arms;
    this.dim = dim;
    this.alpha = options.alpha;
    this.aInv = new Float64Array(arms * dim * dim);
    for (let k = 0; k < arms; k++) for (let i = 0; i < dim; i++) this.aInv[(k * dim + i) * dim + i] = 1 / options.lambda;
    this.b = new Float64Array(arms * dim);
    this.theta = new Float64Array(arms * dim);
    this.v = new Float64Array(dim);
  }

  /** UCB score θ_aᵀx + α·sqrt(max(xᵀA_a⁻¹x, 0)) of arm k for context row i of x. */
  score(k: number, x: Float32Array, i: number): number {
    const d = this.dim, m = this.aInv, th = this.theta, mk = k * d * d, tk = k * d, xi = i * d;
    let q = 0, mean = 0;
    for (let r = 0; r < d; r++) {
      const row = mk + r * d;
      let z = 0;
      for (let c = 0; c < d; c++) z += m[row + c]! * x[xi + c]!;
      q += z * x[xi + r]!;
      mean += th[tk + r]! * x[xi + r]!;
    }
    return mean + this.alpha * Math.sqrt(q > 0 ? q : 0);
  }

  /**
   * The arm with the highest UCB score per context row, ties to the lowest arm. Arms outside,
   * rows inside: each A⁻¹_a comes from memory once per call, then from cache.
   */
  select(x: Float32Array, chosen = new Int32Array(x.length / this.dim)): Int32Array {
    const d = this.dim, m = this.aInv, th = this.theta, alpha = this.alpha, rows = x.length / d;
    const best = new Float64Array(rows).fill(-Infinity);
    chosen.fill(0);
    for (let k = 0; k < this.arms; k++) {
      const mk = k * d * d, tk = k * d;
      for (let i = 0; i < rows; i++) {
        const xi = i * d;
        let q = 0, mean = 0;
        for (let r = 0; r < d; r++) {
          const row = mk + r * d;
          let z = 0;
          for (let c = 0; c < d; c++) z += m[row + c]! * x[xi + c]!;
          q += z * x[xi + r]!;
          mean += th[tk + r]! * x[xi + r]!;
        }
        const s = mean + alpha * Math.sqrt(q > 0 ? q : 0);
        if (s > best[i]!) {
          best[i] = s;
          chosen[i] = k;
        }
      }
    }
    return chosen;
  }

  /** Applies the rows in order: A⁻¹ ← A⁻¹ − (A⁻¹x)(A⁻¹x)ᵀ/(1 + xᵀA⁻¹x), b += r·x, θ = A⁻¹b. */
  update(arms: Int32Array, contexts: Float32Array, rewards: ArrayLike<number>): void {
    const d = this.dim, m = this.aInv, b = this.b, th = this.theta, v = this.v;
    for (let u = 0; u < arms.length; u++) {
      const k = arms[u]!, mk = k * d * d, bk = k * d, xu = u * d, r = rewards[u]!;
      let xv = 0;
      for (let i = 0; i < d; i++) {
        const row = mk + i * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += m[row + j]! * contexts[xu + j]!;
        v[i] = s;
        xv += contexts[xu + i]! * s;
      }
      const scale = 1 / (1 + xv);
      for (let i = 0; i < d; i++) {
        const vi = v[i]! * scale, row = mk + i * d;
        for (let j = 0; j < d; j++) m[row + j] = m[row + j]! - vi * v[j]!;
        b[bk + i] = b[bk + i]! + r * contexts[xu + i]!;
      }
      for (let i = 0; i < d; i++) {
        const row = mk + i * d;
        let s = 0;
        for (let j = 0; j < d; j++) s += m[row + j]! * b[bk + j]!;
        th[bk + i] = s;
      }
    }
  }
}
