// NeuralUCB's select step as a careful JS developer would write it without a library, for a
// network of one hidden ReLU layer (f(x) = w2ᵀ relu(W1 x + b1) + b2, the library's mlpLayout):
// float64 typed arrays, one pass over a row's hidden units that does the forward pass, the
// backward pass (δ = w2 ⊙ relu′) and the diagonal bonus Σ_q g_q²/Z_q together, with 1/Z and the
// squared row precomputed. The benchmark peer of the library's op composition (bench/suite.ts).
//
// It is also the suite's float64 reference: `reference` gives each score with an error bound for
// an f32 implementation of the same formula (see there).

export interface NeuralNet {
  readonly dim: number;
  readonly width: number;
  /** θ in mlpLayout order: W1 (width×dim, row-major), b1, w2, b2. */
  readonly theta: Float32Array;
  /** The diagonal of Z, laid out like θ (all > 0). */
  readonly zDiag: Float32Array;
  /** Exploration weight: score = f + nu·sqrt(bonus / width). */
  readonly nu: number;
}

export const paramCount = (dim: number, width: number): number => width * dim + 2 * width + 1;

const U = 2 ** -24;

export class PlainNeuralUCB {
  readonly dim: number;
  readonly width: number;
  private readonly w1: Float64Array;
  private readonly b1: Float64Array;
  private readonly w2: Float64Array;
  private readonly b2: number;
  /** 1/Z, laid out like θ. */
  private readonly zInv: Float64Array;
  private readonly nuScale: number;
  private readonly x2: Float64Array;

  constructor(net: NeuralNet) {
    const { dim: d, width: m } = net;
    if (net.theta.length !== paramCount(d, m) || net.zDiag.length !== paramCount(d, m)) throw new Error('PlainNeuralUCB: θ or Z has the wrong length');
    const t = Float64Array.from(net.theta);
    this.dim = d;
    this.width = m;
    this.w1 = t.subarray(0, m * d);
    this.b1 = t.subarray(m * d, m * d + m);
    this.w2 = t.subarray(m * d + m, m * d + 2 * m);
    this.b2 = t[m * d + 2 * m]!;
    this.zInv = Float64Array.from(net.zDiag, (z) => 1 / z);
    this.nuScale = net.nu / Math.sqrt(m);
    this.x2 = new Float64Array(d);
  }

  /** Score of feature row n of x: f(x_n) + nu·sqrt(bonus_n / m). */
  private score(x: Float32Array, n: number): number {
    const d = this.dim, m = this.width, w1 = this.w1, b1 = this.b1, w2 = this.w2, zInv = this.zInv, x2 = this.x2;
    const xn = n * d, zb1 = m * d, zw2 = zb1 + m;
    for (let j = 0; j < d; j++) x2[j] = x[xn + j]! * x[xn + j]!;
    let f = this.b2, bonus = zInv[zw2 + m]!;
    for (let i = 0; i < m; i++) {
      const row = i * d;
      let z = b1[i]!;
      for (let j = 0; j < d; j++) z += w1[row + j]! * x[xn + j]!;
      if (z > 0) {
        f += w2[i]! * z;
        bonus += z * z * zInv[zw2 + i]!;
        // δ_i = w2_i: the gradient by W1[i, :] is δ_i·x, by b1[i] is δ_i.
        let s = zInv[zb1 + i]!;
        for (let j = 0; j < d; j++) s += x2[j]! * zInv[row + j]!;
        bonus += w2[i]! * w2[i]! * s;
      }
    }
    return f + this.nuScale * Math.sqrt(bonus);
  }

  /** The arm with the highest score for each of the B rows of x (B×K×dim), ties to the lowest arm. */
  select(x: Float32Array, arms: number): Int32Array {
    const rows = x.length / (arms * this.dim);
    const chosen = new Int32Array(rows);
    for (let b = 0; b < rows; b++) {
      let best = -Infinity;
      for (let k = 0; k < arms; k++) {
        const s = this.score(x, b * arms + k);
        if (s > best) {
          best = s;
          chosen[b] = k;
        }
      }
    }
    return chosen;
  }

  /** Every row's score (B·K values). */
  scores(x: Float32Array): Float64Array {
    const n = x.length / this.dim;
    return Float64Array.from({ length: n }, (_, i) => this.score(x, i));
  }

  /**
   * Every row's float64 score and a bound on |score_f32 − score| for an f32 evaluation of the same
   * formula in any summation order: f carries at most γ_{d+m+2}·(Σ_i |w2_i|·(Σ_j |W1_ij x_j| + |b1_i|) + |b2|)
   * (a dot product of d + 1 terms inside one of m + 1); the bonus, a sum of p positive terms each a
   * few roundings deep, carries (p + 8)·u relative, plus its h² terms' error from h's own
   * (2·h·e_h + e_h²), plus, for a hidden unit whose pre-activation lies within its error of 0 (a
   * ReLU that f32 may switch the other way), that unit's whole contribution; and
   * |sqrt(a) − sqrt(b)| ≤ min(|a − b|/sqrt(b), sqrt(|a − b|)).
   */
  reference(x: Float32Array): { scores: Float64Array; bounds: Float64Array } {
    const d = this.dim, m = this.width, n = x.length / d, w1 = this.w1, b1 = this.b1, w2 = this.w2, zInv = this.zInv;
    const p = paramCount(d, m), zb1 = m * d, zw2 = zb1 + m;
    const scores = new Float64Array(n), bounds = new Float64Array(n);
    const gammaF = (d + m + 4) * U * 1.01, gammaZ = (d + 2) * U * 1.01;
    for (let r = 0; r < n; r++) {
      const xn = r * d;
      let f = this.b2, bonus = zInv[zw2 + m]!, fAbs = Math.abs(this.b2), bonusErr = 0;
      for (let i = 0; i < m; i++) {
        const row = i * d;
        let z = b1[i]!, zAbs = Math.abs(b1[i]!);
        for (let j = 0; j < d; j++) {
          z += w1[row + j]! * x[xn + j]!;
          zAbs += Math.abs(w1[row + j]! * x[xn + j]!);
        }
        fAbs += Math.abs(w2[i]!) * zAbs;
        let s = zInv[zb1 + i]!;
        for (let j = 0; j < d; j++) s += x[xn + j]! * x[xn + j]! * zInv[row + j]!;
        const eZ = gammaZ * zAbs, unit = w2[i]! * w2[i]! * s;
        if (z > 0) {
          f += w2[i]! * z;
          bonus += z * z * zInv[zw2 + i]! + unit;
        }
        if (Math.abs(z) <= eZ) bonusErr += unit + (Math.abs(z) + eZ) ** 2 * zInv[zw2 + i]!;
        else if (z > 0) bonusErr += (2 * z * eZ + eZ * eZ) * zInv[zw2 + i]!;
      }
      bonusErr += (p + 8) * U * 1.01 * bonus;
      scores[r] = f + this.nuScale * Math.sqrt(bonus);
      const sqrtErr = Math.min(bonus > 0 ? bonusErr / Math.sqrt(bonus) : Infinity, Math.sqrt(bonusErr));
      bounds[r] = gammaF * fAbs + this.nuScale * sqrtErr * 1.01 + 4 * U * Math.abs(scores[r]!);
    }
    return { scores, bounds };
  }
}

/**
 * One plain gradient-descent step of the same network on a minibatch, as a careful JS developer
 * would write it: float64, per row a forward pass, the residual e = f − y, then the gradient of
 * Σ_n (f_n − y_n)²/(2B) accumulated in place (by w2: e·h, by b2: e, by W1[i, :]: e·w2_i·x for the
 * units that are on, by b1: e·w2_i), and θ ← θ − lr·g. θ in mlpLayout order, updated in place.
 */
export class PlainMlpTrainer {
  readonly theta: Float64Array;
  readonly grad: Float64Array;
  private readonly h: Float64Array;

  constructor(theta: Float32Array | Float64Array, readonly dim: number, readonly width: number, readonly lr: number) {
    this.theta = Float64Array.from(theta);
    this.grad = new Float64Array(theta.length);
    this.h = new Float64Array(width);
  }

  step(x: Float32Array, y: Float32Array): void {
    const d = this.dim, m = this.width, t = this.theta, g = this.grad, h = this.h, rows = y.length;
    const b1 = m * d, w2 = b1 + m, b2 = w2 + m, scale = 1 / rows;
    g.fill(0);
    for (let n = 0; n < rows; n++) {
      const xn = n * d;
      let f = t[b2]!;
      for (let i = 0; i < m; i++) {
        let z = t[b1 + i]!;
        const row = i * d;
        for (let j = 0; j < d; j++) z += t[row + j]! * x[xn + j]!;
        h[i] = z > 0 ? z : 0;
        f += t[w2 + i]! * h[i]!;
      }
      const e = (f - y[n]!) * scale;
      g[b2] = g[b2]! + e;
      for (let i = 0; i < m; i++) {
        if (h[i]! <= 0) continue;
        g[w2 + i] = g[w2 + i]! + e * h[i]!;
        const delta = e * t[w2 + i]!, row = i * d;
        g[b1 + i] = g[b1 + i]! + delta;
        for (let j = 0; j < d; j++) g[row + j] = g[row + j]! + delta * x[xn + j]!;
      }
    }
    const lr = this.lr;
    for (let q = 0; q < t.length; q++) t[q] = t[q]! - lr * g[q]!;
  }
}
