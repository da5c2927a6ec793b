import type { OpArgs, OpName } from '../../core/op-args.js';
import type { GpuRuntime } from '../runtime.js';
import type { KernelDescriptor } from '../kernel.js';

/** The WebGPU implementation of one op: encodes its dispatches into the runtime's open step. */
export type GpuOp<K extends OpName> = (rt: GpuRuntime, args: OpArgs[K]) => void;

/** Every op of the registry, implemented for WebGPU. */
export type GpuOpTable = { readonly [K in OpName]: GpuOp<K> };

/**
 * One kernel family (one shaders/*.wgsl file): the ops it implements and every kernel variant it
 * can dispatch (the shader-compilation test builds them all).
 */
export interface KernelFamily<K extends OpName> {
  readonly ops: { readonly [P in K]: GpuOp<P> };
  readonly kernels: readonly KernelDescriptor[];
}
