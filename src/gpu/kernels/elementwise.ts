import source from '../../../shaders/elementwise.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { GRID, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { AxpyArgs } from '../../core/op-args.js';

const WG = 256;
const code = wgsl(source, GRID);
const ElementwiseParams = uniforms('ElementwiseParams', { n: 'u32', alpha: 'f32' });
export const AXPY_KERNEL = kernel({ name: 'axpy', source: code, entryPoint: 'axpy', storage: ['read', 'rw'], workgroupSize: WG, uniforms: ElementwiseParams });
export const SCALE_KERNEL = kernel({ name: 'scale', source: code, entryPoint: 'scale', storage: ['rw'], workgroupSize: WG, uniforms: ElementwiseParams });

export function axpyWebGpu(rt: GpuRuntime, a: AxpyArgs): void {
  rt.dispatch({
    kernel: AXPY_KERNEL,
    buffers: [bufferOf(a.x), bufferOf(a.y)],
    params: { n: a.n, alpha: a.alpha },
    workgroups: Math.ceil(a.n / WG),
  });
}

export function scaleWebGpu(rt: GpuRuntime, a: AxpyArgs): void {
  rt.dispatch({ kernel: SCALE_KERNEL, buffers: [bufferOf(a.x)], params: { n: a.n, alpha: a.alpha }, workgroups: Math.ceil(a.n / WG) });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'axpy' | 'scale'> = {
  ops: { axpy: axpyWebGpu, scale: scaleWebGpu },
  kernels: [AXPY_KERNEL, SCALE_KERNEL],
};
