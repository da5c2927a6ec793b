import type { AccumulateArgs, AddAccurateArgs, RefineSolveArgs, ResidualArgs } from '../core/op-args.js';
import { f64 } from './tensor.js';

// The float64 twins of the float-float ops: float64 holds what hi + lo holds on the GPU (and
// more), so the value goes into hi and lo is read as part of it but never written.

export function accumulateOuterF64({ hi, x, z, arms, weights, count, d, width, outer }: AccumulateArgs): void {
  const m = f64(hi), xs = f64(x);
  // x xᵀ is x zᵀ with z = x; the vector form has neither.
  const zs = z ? f64(z) : xs, zStride = z ? width : d;
  const n = d * width;
  for (let u = 0; u < count; u++) {
    const base = arms[u]! * n, xo = u * d, zo = u * zStride, w = weights[u]!;
    for (let i = 0; i < d; i++) {
      if (!outer) m[base + i] = m[base + i]! + w * xs[xo + i]!;
      else for (let j = 0; j < width; j++) m[base + i * width + j] = m[base + i * width + j]! + w * (xs[xo + i]! * zs[zo + j]!);
    }
  }
}

export function accurateResidualF64({ aHi, aLo, aInv, aInvLo, r, norms, matrices, d }: ResidualArgs): void {
  const ah = f64(aHi), al = f64(aLo), xh = f64(aInv), xl = aInvLo ? f64(aInvLo) : null, out = r ? f64(r) : null, nm = f64(norms);
  const xs = xl ? Float64Array.from(xh, (v, e) => v + xl[e]!) : xh;
  for (let k = 0; k < matrices; k++) {
    const base = k * d * d;
    let worst = 0, mag = 0;
    for (let i = 0; i < d; i++) {
      let rowAbs = 0, rowMag = 0;
      for (let j = 0; j < d; j++) {
        // (A·X)_ij first, then δ_ij − it: with lo = 0 the same float64 operations as inverseDrift's twin.
        let acc = 0;
        for (let l = 0; l < d; l++) {
          const p = (ah[base + i * d + l]! + al[base + i * d + l]!) * xs[base + l * d + j]!;
          acc += p;
          rowMag += Math.abs(p);
        }
        const r = (i === j ? 1 : 0) - acc;
        if (out) out[base + i * d + j] = r;
        rowAbs += Math.abs(r);
      }
      // Math.max lets a NaN row win, as the kernel's atomicMax on the bits does.
      worst = Math.max(worst, rowAbs);
      mag = Math.max(mag, rowMag);
    }
    nm[2 * k] = worst;
    nm[2 * k + 1] = mag;
  }
}

export function addAccurateF64({ hi, lo, c, n }: AddAccurateArgs): void {
  const h = f64(hi), l = f64(lo), cs = f64(c);
  // lo is 0 on the cpu backend; a wasm copy's lo is kept beside the float64 sum.
  for (let e = 0; e < n; e++) {
    h[e] = h[e]! + cs[e]! + l[e]!;
    l[e] = 0;
  }
}

export function refineSolveF64({ aHi, aLo, bHi, bLo, aInv, theta, arms, d, cols, iterations, restart }: RefineSolveArgs): void {
  const ah = f64(aHi), al = f64(aLo), bh = f64(bHi), bl = f64(bLo), xs = f64(aInv), th = f64(theta);
  const res = new Float64Array(d);
  for (const k of new Set(arms)) {
    const base = k * d * d, v = k * d;
    if (restart) th.fill(0, v * cols, (v + d) * cols);
    // Column c of b and θ: element i at (v + i)·cols + c.
    for (let c = 0; c < cols; c++) {
      const at = (i: number) => (v + i) * cols + c;
      for (let it = 0; it < iterations; it++) {
        for (let i = 0; i < d; i++) {
          let acc = bh[at(i)]! + bl[at(i)]!;
          for (let l = 0; l < d; l++) acc -= (ah[base + i * d + l]! + al[base + i * d + l]!) * th[at(l)]!;
          res[i] = acc;
        }
        for (let i = 0; i < d; i++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += xs[base + i * d + j]! * res[j]!;
          th[at(i)] = th[at(i)]! + s;
        }
      }
    }
  }
}
