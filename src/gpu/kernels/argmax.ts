import source from '../../../shaders/argmax.wgsl';
import { params, type GpuRuntime, type KernelDescriptor } from '../runtime.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { ArgmaxArgs } from '../../core/op-args.js';

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

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'rowArgmax'> = {
  ops: { rowArgmax: rowArgmaxWebGpu },
  kernels: [
    ROW_ARGMAX_SERIAL_KERNEL, ROW_ARGMAX_SLICES_KERNEL, ROW_ARGMAX_COMBINE_KERNEL,
  ],
};
