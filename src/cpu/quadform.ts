import type { QuadFormArgs } from '../core/op-args.js';
import { f64 } from './tensor.js';

/** out[i, k] = Σ_l (Σ_j x_j M_jl) x_l in float64, walking M by rows. */
export function quadFormF64({ x, m, out, rows, arms, d, perArm }: QuadFormArgs): void {
  const xs = f64(x), ms = f64(m), o = f64(out);
  const z = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < arms; k++) {
      const xb = perArm ? (i * arms + k) * d : i * d;
      const mb = k * d * d;
      z.fill(0);
      for (let j = 0; j < d; j++) {
        const xj = xs[xb + j]!, row = mb + j * d;
        for (let l = 0; l < d; l++) z[l]! += xj * ms[row + l]!;
      }
      let acc = 0;
      for (let l = 0; l < d; l++) acc += z[l]! * xs[xb + l]!;
      o[i * arms + k] = acc;
    }
  }
}
