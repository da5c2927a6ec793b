// A nonlinear bandit for the neural models' regret tests.
import { rng } from '../support/random.js';

/** A nonlinear bandit: reward cos(3·xᵀθ*) + noise for K unit-norm arm features a round. */
export class CosineBandit {
  private readonly r: () => number;
  readonly thetaStar: Float64Array;

  constructor(readonly dim: number, readonly arms: number, seed: number) {
    this.r = rng(seed);
    this.thetaStar = unit(Float64Array.from({ length: dim }, () => this.gauss()));
  }

  gauss(): number {
    return Math.sqrt(-2 * Math.log(1 - this.r())) * Math.cos(2 * Math.PI * this.r());
  }

  round(): { x: Float32Array; means: Float64Array } {
    const { dim, arms } = this;
    const x = new Float32Array(arms * dim), means = new Float64Array(arms);
    for (let a = 0; a < arms; a++) {
      const v = unit(Float64Array.from({ length: dim }, () => this.gauss()));
      x.set(v, a * dim);
      let s = 0;
      for (let j = 0; j < dim; j++) s += v[j]! * this.thetaStar[j]!;
      means[a] = Math.cos(3 * s);
    }
    return { x, means };
  }

  reward(mean: number): number {
    return mean + 0.1 * this.gauss();
  }
}

export function unit(v: Float64Array): Float64Array {
  const n = Math.hypot(...v);
  return v.map((e) => e / n);
}

