import source from '../../shaders/argmax.wgsl';
import { BanditError } from '../core/errors.js';
import { params, type GpuRuntime, type KernelDescriptor } from '../gpu/runtime.js';
import { checkTensor } from '../core/check.js';
import { bufferOf } from '../gpu/tensor.js';
import type { ArgmaxArgs, Backend, Tensor } from '../core/op-args.js';

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

const WG = 64;
/**
 * Entries one invocation scans in the two-pass kernels; rows up to this long get one invocation
 * each (rowArgmaxSerial). On SwiftShader slices of 16 to 1024 entries measured within noise on long rows.
 */
export const ARGMAX_SLICE = 256;

const argmaxKernel = (entryPoint: string): KernelDescriptor => ({
  name: entryPoint, source, entryPoint, storage: ['read', 'rw'], workgroupSize: WG,
});
export const ROW_ARGMAX_SERIAL_KERNEL = argmaxKernel('rowArgmaxSerial');
export const ROW_ARGMAX_SLICES_KERNEL = argmaxKernel('rowArgmaxSlices');
export const ROW_ARGMAX_COMBINE_KERNEL = argmaxKernel('rowArgmaxCombine');

export function rowArgmaxWebGpu(rt: GpuRuntime, a: ArgmaxArgs): void {
  if (a.cols <= ARGMAX_SLICE) {
    rt.dispatch({
      kernel: ROW_ARGMAX_SERIAL_KERNEL,
      buffers: [bufferOf(a.s), bufferOf(a.out)],
      uniforms: params('uuu', a.rows, a.cols, 1),
      workgroups: Math.ceil(a.rows / WG),
    });
    return;
  }
  const slices = Math.ceil(a.cols / ARGMAX_SLICE);
  const uniforms = params('uuu', a.rows, a.cols, slices);
  // One (key, index) pair of u32 per slice.
  const candidates = rt.createBuffer(a.rows * slices * 8, 'rowArgmax candidates');
  rt.dispatch({
    kernel: ROW_ARGMAX_SLICES_KERNEL,
    buffers: [bufferOf(a.s), candidates],
    uniforms,
    workgroups: Math.ceil((a.rows * slices) / WG),
  });
  rt.dispatch({ kernel: ROW_ARGMAX_COMBINE_KERNEL, buffers: [candidates, bufferOf(a.out)], uniforms, workgroups: Math.ceil(a.rows / WG) });
  rt.releaseBuffer(candidates);
}

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [
  ROW_ARGMAX_SERIAL_KERNEL, ROW_ARGMAX_SLICES_KERNEL, ROW_ARGMAX_COMBINE_KERNEL,
];
