import type { HybridArmUpdateArgs, HybridScoresArgs, OuterAddArgs } from '../core/op-args.js';
import { f64 } from './tensor.js';

/**
 * θ_aᵀx + βᵀz + α·sqrt(max(xᵀA⁻¹_a x + ‖Lᵀz − D_aᵀx‖², 0)); L is read on and below the diagonal
 * only (its zeros above add nothing). Math.max keeps a NaN form NaN.
 */
export function hybridScoresF64(a: HybridScoresArgs): void {
  const { rows, arms, d, k, xArms, outCols, armOffset, alpha } = a;
  const xs = f64(a.x), zs = f64(a.z), ms = f64(a.aInv), ds = f64(a.dMat), ts = f64(a.theta), ls = f64(a.l), bs = f64(a.beta);
  const o = f64(a.out);
  const w = new Float64Array(d), v = new Float64Array(k);
  for (let i = 0; i < rows; i++) {
    for (let arm = 0; arm < arms; arm++) {
      const xb = (i * xArms + armOffset + arm) * d, zb = (i * xArms + armOffset + arm) * k;
      const mb = arm * d * d, db = arm * d * k;
      w.fill(0);
      v.fill(0);
      for (let j = 0; j < d; j++) {
        const xj = xs[xb + j]!;
        for (let l = 0; l < d; l++) w[l]! += xj * ms[mb + j * d + l]!;
        for (let l = 0; l < k; l++) v[l]! -= xj * ds[db + j * k + l]!;
      }
      for (let j = 0; j < k; j++) {
        const zj = zs[zb + j]!;
        for (let l = 0; l <= j; l++) v[l]! += zj * ls[j * k + l]!;
      }
      let q = 0, mean = 0;
      for (let l = 0; l < d; l++) {
        q += w[l]! * xs[xb + l]!;
        mean += ts[arm * d + l]! * xs[xb + l]!;
      }
      for (let l = 0; l < k; l++) {
        q += v[l]! * v[l]!;
        mean += bs[l]! * zs[zb + l]!;
      }
      o[i * outCols + armOffset + arm] = mean + alpha * Math.sqrt(Math.max(q, 0));
    }
  }
}

/** Row by row in call order (rows of different arms do not interact), as the kernel does per arm. */
export function hybridArmUpdateF64(a: HybridArmUpdateArgs): void {
  const { arms, rewards, count, d, k } = a;
  const ms = f64(a.aInv), cs = f64(a.c), ps = f64(a.phi), xzs = f64(a.xz), ws = f64(a.w), rs = f64(a.rho);
  const y = new Float64Array(d), u = new Float64Array(k);
  for (let row = 0; row < count; row++) {
    const arm = arms[row]!;
    const xo = row * (d + k), mb = arm * d * d, cb = arm * d * k, pb = arm * d;
    // ℓ = xᵀ[A⁻¹ | C | φ]
    y.fill(0);
    u.fill(0);
    let e = 0;
    for (let i = 0; i < d; i++) {
      const xi = xzs[xo + i]!;
      for (let j = 0; j < d; j++) y[j]! += xi * ms[mb + i * d + j]!;
      for (let j = 0; j < k; j++) u[j]! += xi * cs[cb + i * k + j]!;
      e += xi * ps[pb + i]!;
    }
    let xy = 0;
    for (let i = 0; i < d; i++) xy += xzs[xo + i]! * y[i]!;
    const s = 1 / (1 + xy), root = Math.sqrt(s);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) ms[mb + i * d + j] = ms[mb + i * d + j]! - y[i]! * y[j]! * s;
    }
    for (let j = 0; j < k; j++) {
      const resid = xzs[xo + d + j]! - u[j]!;
      for (let i = 0; i < d; i++) cs[cb + i * k + j] = cs[cb + i * k + j]! + y[i]! * resid * s;
      ws[row * k + j] = resid * root;
    }
    const resid = rewards[row]! - e;
    for (let i = 0; i < d; i++) ps[pb + i] = ps[pb + i]! + y[i]! * resid * s;
    rs[row] = resid * root;
  }
}

export function scatterOuterAddF64({ m, x, z, arms, count, d, k }: OuterAddArgs): void {
  const ms = f64(m), xs = f64(x), zs = f64(z);
  for (let row = 0; row < count; row++) {
    const arm = arms[row]!;
    const mb = arm * d * k;
    for (let i = 0; i < d; i++) {
      const xi = xs[row * d + i]!;
      for (let j = 0; j < k; j++) ms[mb + i * k + j] = ms[mb + i * k + j]! + xi * zs[row * k + j]!;
    }
  }
}
