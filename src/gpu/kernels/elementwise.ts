import source from '../../../shaders/elementwise.wgsl';
import { params, type GpuRuntime, type KernelDescriptor } from '../runtime.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { AxpyArgs } from '../../core/op-args.js';

const WG = 256;
export const AXPY_KERNEL: KernelDescriptor = { name: 'axpy', source, entryPoint: 'axpy', storage: ['read', 'rw'], workgroupSize: WG };
export const SCALE_KERNEL: KernelDescriptor = { name: 'scale', source, entryPoint: 'scale', storage: ['rw'], workgroupSize: WG };

export function axpyWebGpu(rt: GpuRuntime, a: AxpyArgs): void {
  rt.dispatch({
    kernel: AXPY_KERNEL,
    buffers: [bufferOf(a.x), bufferOf(a.y)],
    uniforms: params('uf', a.n, a.alpha),
    workgroups: Math.ceil(a.n / WG),
  });
}

export function scaleWebGpu(rt: GpuRuntime, a: AxpyArgs): void {
  rt.dispatch({ kernel: SCALE_KERNEL, buffers: [bufferOf(a.x)], uniforms: params('uf', a.n, a.alpha), workgroups: Math.ceil(a.n / WG) });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'axpy' | 'scale'> = {
  ops: { axpy: axpyWebGpu, scale: scaleWebGpu },
  kernels: [AXPY_KERNEL, SCALE_KERNEL],
};
