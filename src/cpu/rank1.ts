import type { Rank1Args } from '../core/op-args.js';
import { f64 } from './tensor.js';

// The same formulation as the kernel: v_j = Σ_i M_ij·x_i (column j, i ascending; (M x)_j for symmetric M),
// then M_ij −= v_i·v_j / (1 + xᵀv) for all i, j.
export function shermanMorrisonF64({ mats, x, arms, count, d }: Rank1Args): void {
  const m = f64(mats), xs = f64(x);
  const v = new Float64Array(d);
  for (let u = 0; u < count; u++) {
    const base = arms[u]! * d * d, xo = u * d;
    v.fill(0);
    for (let i = 0; i < d; i++) {
      const xi = xs[xo + i]!, row = base + i * d;
      for (let j = 0; j < d; j++) v[j] = v[j]! + m[row + j]! * xi;
    }
    let xv = 0;
    for (let i = 0; i < d; i++) xv += xs[xo + i]! * v[i]!;
    const scale = 1 / (1 + xv);
    for (let i = 0; i < d; i++) {
      const vi = v[i]! * scale, row = base + i * d;
      for (let j = 0; j < d; j++) m[row + j] = m[row + j]! - vi * v[j]!;
    }
  }
}

export function symRank1F64({ mats, x, arms, count, d, alpha }: Rank1Args): void {
  const m = f64(mats), xs = f64(x);
  for (let u = 0; u < count; u++) {
    const base = arms[u]! * d * d, xo = u * d;
    for (let i = 0; i < d; i++) {
      const axi = alpha * xs[xo + i]!, row = base + i * d;
      for (let j = 0; j < d; j++) m[row + j] = m[row + j]! + axi * xs[xo + j]!;
    }
  }
}
