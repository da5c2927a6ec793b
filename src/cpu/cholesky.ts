import type { FactorArgs } from '../core/op-args.js';
import { f64, i32 } from './tensor.js';

// The same pivot test as the WGSL kernels (`usablePivot` in shaders/cholesky.wgsl): a pivot must be
// a normal, finite f32 to be accepted. Subnormal pivots are refused because GPUs may flush them
// to zero; infinite ones because they turn the rest of the factor into NaN.
const MIN_NORMAL_F32 = 2 ** -126;
const MAX_F32 = 3.4028234663852886e38;
const usablePivot = (p: number): boolean => p >= MIN_NORMAL_F32 && p <= MAX_F32;

/**
 * Cholesky–Banachiewicz of the matrix at offset `oa` of `a`, reading only its lower triangle,
 * into the lower triangle (and diagonal) of the matrix at offset `ol` of `l`. Returns the first
 * failing pivot, or -1.
 */
function factor(a: Float64Array, oa: number, l: Float64Array, ol: number, d: number): number {
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[oa + i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[ol + i * d + k]! * l[ol + j * d + k]!;
      if (i === j) {
        if (!usablePivot(s)) return i;
        l[ol + i * d + i] = Math.sqrt(s);
      } else {
        l[ol + i * d + j] = s / l[ol + j * d + j]!;
      }
    }
  }
  return -1;
}

export function choleskyF64({ a, out, status, batch, d }: FactorArgs): void {
  const as = f64(a), ls = f64(out), st = i32(status);
  for (let b = 0; b < batch; b++) {
    const o = b * d * d;
    const failed = factor(as, o, ls, o, d);
    st[b] = failed + 1;
    if (failed >= 0) {
      ls.fill(NaN, o, o + d * d);
      continue;
    }
    for (let i = 0; i < d; i++) ls.fill(0, o + i * d + i + 1, o + (i + 1) * d);
  }
}

export function spdInverseF64({ a, out, status, batch, d }: FactorArgs): void {
  const as = f64(a), xs = f64(out), st = i32(status);
  const l = new Float64Array(d * d), m = new Float64Array(d * d);
  for (let b = 0; b < batch; b++) {
    const o = b * d * d;
    const failed = factor(as, o, l, 0, d);
    st[b] = failed + 1;
    if (failed >= 0) {
      xs.fill(NaN, o, o + d * d);
      continue;
    }
    // M = L⁻¹ by forward substitution, a column at a time (only its lower triangle is used).
    for (let j = 0; j < d; j++) {
      m[j * d + j] = 1 / l[j * d + j]!;
      for (let i = j + 1; i < d; i++) {
        let s = 0;
        for (let k = j; k < i; k++) s += l[i * d + k]! * m[k * d + j]!;
        m[i * d + j] = -s / l[i * d + i]!;
      }
    }
    // A⁻¹ = Mᵀ M, computed once per pair so (i, j) and (j, i) hold the same value.
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = i; k < d; k++) s += m[k * d + i]! * m[k * d + j]!;
        xs[o + i * d + j] = s;
        xs[o + j * d + i] = s;
      }
    }
  }
}
