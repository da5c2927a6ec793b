import { BanditError } from '../core/errors.js';
import { checkTensor } from '../core/check.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/**
 * Index of the largest entry of each row of a B×K matrix, as an i32 tensor of length B.
 * Ties go to the lowest index; NaN never wins; a row of NaN only gives -1.
 *
 * @example
 * const chosen = rowArgmax(backend, scores);           // i32 [B]
 * console.log(await backend.read(chosen));             // Int32Array
 */
export function rowArgmax(backend: Backend, s: Tensor, out?: Tensor): Tensor {
  checkTensor(backend, s, 's', 'rowArgmax');
  if (s.shape.length !== 2) throw new BanditError(`rowArgmax: s must be B×K, got [${s.shape.join(', ')}]`);
  const rows = s.shape[0]!, cols = s.shape[1]!;
  if (out) {
    checkTensor(backend, out, 'out', 'rowArgmax', 'i32');
    if (out.size !== rows) throw new BanditError(`rowArgmax: out must hold ${rows} elements, got ${out.size}`);
  } else {
    out = backend.zeros([rows], { dtype: 'i32', label: 'rowArgmax out' });
  }
  backend.ops.rowArgmax({ s, out, rows, cols });
  return out;
}
