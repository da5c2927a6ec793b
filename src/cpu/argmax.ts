import type { ArgmaxArgs } from '../core/op-args.js';
import { f64, i32 } from './tensor.js';

/** Per row: the lowest index of the largest non-NaN entry (−0 ties +0), or −1 when every entry is NaN. */
export function rowArgmaxF64({ s, out, rows, cols }: ArgmaxArgs): void {
  const v = f64(s), o = i32(out);
  for (let r = 0; r < rows; r++) {
    let best = -1, bestValue = -Infinity;
    for (let j = 0; j < cols; j++) {
      const value = v[r * cols + j]!;
      if (Number.isNaN(value)) continue;
      if (best < 0 || value > bestValue) {
        best = j;
        bestValue = value;
      }
    }
    o[r] = best;
  }
}
