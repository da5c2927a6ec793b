import source from '../../../shaders/confidence.wgsl';
import { params, type GpuRuntime, type KernelDescriptor } from '../runtime.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { ConfidenceArgs, SquaresArgs } from '../../core/op-args.js';

const WG = 64;
const kernel = (entryPoint: string, storage: readonly ('read' | 'rw')[]): KernelDescriptor => ({
  name: entryPoint, source, entryPoint, storage, workgroupSize: WG,
});
const CONFIDENCE_KERNEL = kernel('confidenceScores', ['read', 'read', 'rw']);
const SQUARES_KERNEL = kernel('accumulateSquares', ['read', 'rw']);

export function confidenceScoresWebGpu(rt: GpuRuntime, a: ConfidenceArgs): void {
  rt.dispatch({
    kernel: CONFIDENCE_KERNEL, buffers: [bufferOf(a.mean), bufferOf(a.width2), bufferOf(a.out)],
    uniforms: params('uuf', a.rows, 0, a.scale), workgroups: Math.ceil(a.rows / WG),
  });
}

export function accumulateSquaresWebGpu(rt: GpuRuntime, a: SquaresArgs): void {
  if (a.rows === 0) return;
  rt.dispatch({
    kernel: SQUARES_KERNEL, buffers: [bufferOf(a.jac), bufferOf(a.z)],
    uniforms: params('uuf', a.cols, a.rows, a.scale), workgroups: Math.ceil(a.cols / WG),
  });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'confidenceScores' | 'accumulateSquares'> = {
  ops: { confidenceScores: confidenceScoresWebGpu, accumulateSquares: accumulateSquaresWebGpu },
  kernels: [CONFIDENCE_KERNEL, SQUARES_KERNEL],
};
