import { decayFactors } from '../core/discount.js';
import type { DiscountedUpdateArgs, DriftArgs, GatherMatVecArgs, ScatterAddArgs, UcbScoresArgs } from '../core/op-args.js';
import { f64 } from './tensor.js';

/** θ_kᵀx + α·sqrt(max(q, 0)), q = Σ_l (Σ_j x_j M_jl) x_l; Math.max keeps a NaN q NaN. */
export function ucbScoresF64({ x, aInv, theta, out, rows, arms, d, perArm, xArms, outCols, armOffset, alpha }: UcbScoresArgs): void {
  const xs = f64(x), ms = f64(aInv), ts = f64(theta), o = f64(out);
  const z = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < arms; k++) {
      const xb = perArm ? (i * xArms + armOffset + k) * d : i * d;
      const mb = k * d * d, tb = k * d;
      z.fill(0);
      for (let j = 0; j < d; j++) {
        const xj = xs[xb + j]!, row = mb + j * d;
        for (let l = 0; l < d; l++) z[l]! += xj * ms[row + l]!;
      }
      let q = 0, th = 0;
      for (let l = 0; l < d; l++) {
        q += z[l]! * xs[xb + l]!;
        th += ts[tb + l]! * xs[xb + l]!;
      }
      o[i * outCols + armOffset + k] = th + alpha * Math.sqrt(Math.max(q, 0));
    }
  }
}

export function scatterAddScaledF64({ b, x, arms, weights, count, d }: ScatterAddArgs): void {
  const bs = f64(b), xs = f64(x);
  for (let u = 0; u < count; u++) {
    const bo = arms[u]! * d, xo = u * d, w = weights[u]!;
    for (let e = 0; e < d; e++) bs[bo + e] = bs[bo + e]! + w * xs[xo + e]!;
  }
}

export function gatherMatVecF64({ m, v, out, arms, d }: GatherMatVecArgs): void {
  const ms = f64(m), vs = f64(v), o = f64(out);
  for (const k of new Set(arms)) {
    for (let r = 0; r < d; r++) {
      const row = (k * d + r) * d;
      let acc = 0;
      for (let l = 0; l < d; l++) acc += ms[row + l]! * vs[k * d + l]!;
      o[k * d + r] = acc;
    }
  }
}

/**
 * Step by step as the kernel walks it: an arm's pending decays (every step since its last play,
 * this one included) are applied in one go with the factors of `decayFactors` (exact float64
 * here; the GPU gets them rounded to f32), then the play adds.
 */
export function discountedUpdateF64({ a, b, x, arms, rewards, count, d, matrices, gamma, lambda }: DiscountedUpdateArgs): void {
  const as = f64(a), bs = f64(b), xs = f64(x);
  const last = new Int32Array(matrices).fill(-1);
  const decay = (k: number, g: number) => {
    const [f, c] = decayFactors(gamma, lambda, g);
    const ao = k * d * d, bo = k * d;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) as[ao + i * d + j] = f * as[ao + i * d + j]! + (i === j ? c : 0);
      bs[bo + i] = f * bs[bo + i]!;
    }
  };
  for (let u = 0; u < count; u++) {
    const k = arms[u]!;
    if (k < 0) continue; // a step of another shard: only the decay
    decay(k, u - last[k]!);
    last[k] = u;
    const ao = k * d * d, bo = k * d, xo = u * d, r = rewards[u]!;
    for (let i = 0; i < d; i++) {
      const xi = xs[xo + i]!;
      for (let j = 0; j < d; j++) as[ao + i * d + j] = as[ao + i * d + j]! + xi * xs[xo + j]!;
      bs[bo + i] = bs[bo + i]! + r * xi;
    }
  }
  for (let k = 0; k < matrices; k++) decay(k, count - 1 - last[k]!);
}

/** max_i Σ_j |(A·A⁻¹)_ij − δ_ij| per arm; Math.max lets a NaN row win. */
export function inverseDriftF64({ a, aInv, out, matrices, d }: DriftArgs): void {
  const as = f64(a), ns = f64(aInv), o = f64(out);
  const p = new Float64Array(d);
  for (let k = 0; k < matrices; k++) {
    const base = k * d * d;
    let drift = 0;
    for (let i = 0; i < d; i++) {
      p.fill(0);
      for (let l = 0; l < d; l++) {
        const ail = as[base + i * d + l]!, row = base + l * d;
        for (let j = 0; j < d; j++) p[j]! += ail * ns[row + j]!;
      }
      let sum = 0;
      for (let j = 0; j < d; j++) sum += Math.abs(p[j]! - (i === j ? 1 : 0));
      drift = Math.max(drift, sum);
    }
    o[k] = drift;
  }
}
