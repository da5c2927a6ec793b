import type { ConfidenceArgs, SquaresArgs } from '../core/op-args.js';
import { f64 } from './tensor.js';

export function confidenceScoresF64(a: ConfidenceArgs): void {
  const mean = f64(a.mean), w = f64(a.width2), out = f64(a.out);
  // Math.max(NaN, 0) is NaN: a NaN width stays NaN, as it does on the GPUs we test.
  for (let n = 0; n < a.rows; n++) out[n] = mean[n]! + a.scale * Math.sqrt(Math.max(w[n]!, 0));
}

export function accumulateSquaresF64(a: SquaresArgs): void {
  const z = f64(a.z), j = f64(a.jac);
  for (let q = 0; q < a.cols; q++) {
    let s = 0;
    for (let r = 0; r < a.rows; r++) s += j[r * a.cols + q]! ** 2;
    z[q] = z[q]! + a.scale * s;
  }
}
