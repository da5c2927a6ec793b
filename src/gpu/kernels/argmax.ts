import source from '../../../shaders/argmax.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { GRID, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { ArgmaxArgs } from '../../core/op-args.js';

const WG = 64;
/**
 * Entries one invocation scans in the two-pass kernels; rows up to this long get one invocation
 * each (rowArgmaxSerial). On SwiftShader slices of 16 to 1024 entries measured within noise on long rows.
 */
export const ARGMAX_SLICE = 256;

const code = wgsl(source, GRID);
const ArgmaxParams = uniforms('ArgmaxParams', { rows: 'u32', cols: 'u32', slices: 'u32' });
const argmaxKernel = (entryPoint: string) => kernel({
  name: entryPoint, source: code, entryPoint, storage: ['read', 'rw'], workgroupSize: WG, uniforms: ArgmaxParams,
});
export const ROW_ARGMAX_SERIAL_KERNEL = argmaxKernel('rowArgmaxSerial');
export const ROW_ARGMAX_SLICES_KERNEL = argmaxKernel('rowArgmaxSlices');
export const ROW_ARGMAX_COMBINE_KERNEL = argmaxKernel('rowArgmaxCombine');

export function rowArgmaxWebGpu(rt: GpuRuntime, a: ArgmaxArgs): void {
  if (a.cols <= ARGMAX_SLICE) {
    rt.dispatch({
      kernel: ROW_ARGMAX_SERIAL_KERNEL,
      buffers: [bufferOf(a.s), bufferOf(a.out)],
      params: { rows: a.rows, cols: a.cols, slices: 1 },
      workgroups: Math.ceil(a.rows / WG),
    });
    return;
  }
  const slices = Math.ceil(a.cols / ARGMAX_SLICE);
  const values = { rows: a.rows, cols: a.cols, slices };
  // One (key, index) pair of u32 per slice.
  const candidates = rt.acquire(a.rows * slices * 8, 'rowArgmax candidates');
  rt.dispatch({
    kernel: ROW_ARGMAX_SLICES_KERNEL,
    buffers: [bufferOf(a.s), candidates],
    params: values,
    workgroups: Math.ceil((a.rows * slices) / WG),
  });
  rt.dispatch({ kernel: ROW_ARGMAX_COMBINE_KERNEL, buffers: [candidates, bufferOf(a.out)], params: values, workgroups: Math.ceil(a.rows / WG) });
  rt.releaseBuffer(candidates);
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'rowArgmax'> = {
  ops: { rowArgmax: rowArgmaxWebGpu },
  kernels: [
    ROW_ARGMAX_SERIAL_KERNEL, ROW_ARGMAX_SLICES_KERNEL, ROW_ARGMAX_COMBINE_KERNEL,
  ],
};
