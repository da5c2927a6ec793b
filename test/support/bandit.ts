import { rng } from './random.js';

/**
 * A synthetic disjoint linear bandit with known parameters: arm k pays θ*_kᵀx + noise, contexts
 * are random unit vectors. `shock(at)` permutes the arms' parameters from step `at` on, so the
 * best arm changes (a market shock).
 */
export class LinearBandit {
  readonly arms: number;
  readonly dim: number;
  private readonly theta: Float64Array[];
  private readonly shocked: Float64Array[];
  private readonly random: () => number;
  private readonly noise: number;
  shockAt = Infinity;

  constructor(arms: number, dim: number, seed: number, noise = 0.1) {
    this.arms = arms;
    this.dim = dim;
    this.random = rng(seed);
    this.noise = noise;
    const unit = () => {
      const v = Float64Array.from({ length: dim }, () => this.gauss());
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    this.theta = Array.from({ length: arms }, unit);
    // After the shock the arms' parameters rotate by one: the old best arm loses its edge.
    this.shocked = this.theta.map((_, k) => this.theta[(k + 1) % arms]!);
  }

  private gauss(): number {
    const u = Math.max(this.random(), 1e-12), v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** `rows` random unit contexts, B×dim. */
  contexts(rows: number): Float32Array {
    const out = new Float32Array(rows * this.dim);
    for (let i = 0; i < rows; i++) {
      let n = 0;
      for (let j = 0; j < this.dim; j++) n += (out[i * this.dim + j] = this.gauss()) ** 2;
      n = Math.sqrt(n);
      for (let j = 0; j < this.dim; j++) out[i * this.dim + j]! /= n;
    }
    return out;
  }

  /** Expected reward of `arm` in context row `i` of `x` at time `t`. */
  mean(arm: number, x: Float32Array, i: number, t: number): number {
    const th = t >= this.shockAt ? this.shocked[arm]! : this.theta[arm]!;
    let s = 0;
    for (let j = 0; j < this.dim; j++) s += th[j]! * x[i * this.dim + j]!;
    return s;
  }

  /** Regret of playing `arm` (best mean minus its mean) and a noisy reward. */
  play(arm: number, x: Float32Array, i: number, t: number): { reward: number; regret: number } {
    let best = -Infinity;
    for (let k = 0; k < this.arms; k++) best = Math.max(best, this.mean(k, x, i, t));
    const m = this.mean(arm, x, i, t);
    return { reward: m + this.noise * this.gauss(), regret: best - m };
  }
}
