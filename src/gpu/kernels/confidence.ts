import source from '../../../shaders/confidence.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { GRID, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { ConfidenceArgs, SquaresArgs } from '../../core/op-args.js';

const WG = 64;
const code = wgsl(source, GRID);
const ConfidenceParams = uniforms('ConfidenceParams', { n: 'u32', rows: 'u32', scale: 'f32' });
const confidenceKernel = (entryPoint: string, storage: readonly ('read' | 'rw')[]) => kernel({
  name: entryPoint, source: code, entryPoint, storage, workgroupSize: WG, uniforms: ConfidenceParams,
});
const CONFIDENCE_KERNEL = confidenceKernel('confidenceScores', ['read', 'read', 'rw']);
const SQUARES_KERNEL = confidenceKernel('accumulateSquares', ['read', 'rw']);

export function confidenceScoresWebGpu(rt: GpuRuntime, a: ConfidenceArgs): void {
  rt.dispatch({
    kernel: CONFIDENCE_KERNEL, buffers: [bufferOf(a.mean), bufferOf(a.width2), bufferOf(a.out)],
    params: { n: a.rows, rows: 0, scale: a.scale }, workgroups: Math.ceil(a.rows / WG),
  });
}

export function accumulateSquaresWebGpu(rt: GpuRuntime, a: SquaresArgs): void {
  if (a.rows === 0) return;
  rt.dispatch({
    kernel: SQUARES_KERNEL, buffers: [bufferOf(a.jac), bufferOf(a.z)],
    params: { n: a.cols, rows: a.rows, scale: a.scale }, workgroups: Math.ceil(a.cols / WG),
  });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'confidenceScores' | 'accumulateSquares'> = {
  ops: { confidenceScores: confidenceScoresWebGpu, accumulateSquares: accumulateSquaresWebGpu },
  kernels: [CONFIDENCE_KERNEL, SQUARES_KERNEL],
};
