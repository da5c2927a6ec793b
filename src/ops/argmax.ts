import { BackendError, BanditError } from '../errors.js';
import type { GpuRuntime, KernelDescriptor } from '../gpu/runtime.js';
import { checkTensor } from './check.js';
import type { ArgmaxArgs, Backend, Tensor } from './types.js';

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

export function rowArgmaxWebGpu(_rt: GpuRuntime, _a: ArgmaxArgs): void {
  throw new BackendError('rowArgmax: not implemented on webgpu yet');
}

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [];
