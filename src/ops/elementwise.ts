import source from '../../shaders/elementwise.wgsl';
import { BanditError } from '../core/errors.js';
import { params, type GpuRuntime, type KernelDescriptor } from '../gpu/runtime.js';
import { checkFinite, checkTensor } from '../core/check.js';
import { bufferOf } from '../gpu/tensor.js';
import type { AxpyArgs, Backend, Tensor } from '../core/op-args.js';

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

/**
 * y ← α·x + y, in place, over all elements (x and y of equal size, any shape).
 *
 * @example
 * axpy(backend, 0.5, x, y); // y += x / 2
 */
export function axpy(backend: Backend, alpha: number, x: Tensor, y: Tensor): void {
  checkTensor(backend, x, 'x', 'axpy');
  checkTensor(backend, y, 'y', 'axpy');
  checkFinite('axpy', 'alpha', alpha);
  if (x.size !== y.size) throw new BanditError(`axpy: x has ${x.size} elements, y has ${y.size}`);
  if (x === y) throw new BanditError('axpy: x and y must be different tensors (use scale)');
  backend.ops.axpy({ alpha, x, y, n: x.size });
}

/**
 * x ← α·x, in place.
 *
 * @example
 * scale(backend, 0.99, aInv); // discount
 */
export function scale(backend: Backend, alpha: number, x: Tensor): void {
  checkTensor(backend, x, 'x', 'scale');
  checkFinite('scale', 'alpha', alpha);
  backend.ops.scale({ alpha, x, y: x, n: x.size });
}

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [AXPY_KERNEL, SCALE_KERNEL];
