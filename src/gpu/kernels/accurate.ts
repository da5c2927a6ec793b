import { segmentIndex } from '../../core/segments.js';
import source from '../../../shaders/accurate.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { FF, GRID, SEGMENTS, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import { withRoom } from './index-data.js';
import type { AccumulateArgs, AddAccurateArgs, RefineSolveArgs, ResidualArgs } from '../../core/op-args.js';

const WG = 64;
const code = wgsl(source, GRID, SEGMENTS, FF);
const AccumulateParams = uniforms('AccumulateParams', { d: 'u32', width: 'u32', outer: 'u32', zStride: 'u32', segments: 'u32', groupsPerArm: 'u32', weightsAt: 'u32' });
const ResidualParams = uniforms('ResidualParams', { d: 'u32', matrices: 'u32', writeR: 'u32', xLo: 'u32' });
const AddParams = uniforms('AddParams', { n: 'u32' });
const SolveParams = uniforms('SolveParams', { d: 'u32', count: 'u32', iterations: 'u32', restart: 'u32', cols: 'u32' });

const ACCUMULATE_KERNEL = kernel({
  name: 'accumulateOuter', source: code, entryPoint: 'accumulateOuter', storage: ['read', 'read', 'read', 'rw', 'rw'], workgroupSize: WG, uniforms: AccumulateParams,
});
const RESIDUAL_KERNEL = kernel({
  name: 'accurateResidual', source: code, entryPoint: 'accurateResidual', storage: ['read', 'read', 'read', 'read', 'rw', 'rw'], workgroupSize: WG, uniforms: ResidualParams,
});
const ADD_KERNEL = kernel({
  name: 'addAccurate', source: code, entryPoint: 'addAccurate', storage: ['read', 'rw', 'rw'], workgroupSize: WG, uniforms: AddParams,
});
const SOLVE_KERNEL = kernel({
  name: 'refineSolve', source: code, entryPoint: 'refineSolve', storage: ['read', 'read', 'read', 'read', 'read', 'read', 'rw'], workgroupSize: WG, uniforms: SolveParams,
});

export function accumulateOuterWebGpu(rt: GpuRuntime, a: AccumulateArgs): void {
  if (a.count === 0) return;
  const { index, segments } = segmentIndex(a.arms, a.matrices);
  const { data, bits } = withRoom(index, a.count);
  bits.set(a.weights, index.length);
  const buffer = rt.upload(data, 'accumulateOuter index');
  // Four elements an invocation. x xᵀ reads x as its z (two read-only bindings of one buffer).
  const groupsPerArm = Math.ceil((a.d * a.width) / (4 * WG));
  rt.dispatch({
    kernel: ACCUMULATE_KERNEL,
    buffers: [buffer, bufferOf(a.x), bufferOf(a.z ?? a.x), bufferOf(a.hi), bufferOf(a.lo)],
    params: { d: a.d, width: a.width, outer: a.outer ? 1 : 0, zStride: a.z ? a.width : a.d, segments, groupsPerArm, weightsAt: index.length },
    workgroups: segments * groupsPerArm,
  });
  rt.releaseBuffer(buffer);
}

export function accurateResidualWebGpu(rt: GpuRuntime, a: ResidualArgs): void {
  if (a.matrices === 0) return;
  // Without R the kernel still needs a buffer at its binding: a small pooled one it never writes.
  const unused = a.r ? null : rt.acquire(16, 'accurateResidual (no R)');
  rt.dispatch({
    kernel: RESIDUAL_KERNEL,
    // Without X's lo part its binding reads X again (never used: xLo 0).
    buffers: [bufferOf(a.aHi), bufferOf(a.aLo), bufferOf(a.aInv), bufferOf(a.aInvLo ?? a.aInv), a.r ? bufferOf(a.r) : unused!, bufferOf(a.norms)],
    params: { d: a.d, matrices: a.matrices, writeR: a.r ? 1 : 0, xLo: a.aInvLo ? 1 : 0 },
    workgroups: Math.ceil((a.matrices * a.d) / WG),
  });
  if (unused) rt.releaseBuffer(unused);
}

export function addAccurateWebGpu(rt: GpuRuntime, a: AddAccurateArgs): void {
  if (a.n === 0) return;
  rt.dispatch({ kernel: ADD_KERNEL, buffers: [bufferOf(a.c), bufferOf(a.hi), bufferOf(a.lo)], params: { n: a.n }, workgroups: Math.ceil(a.n / WG) });
}

export function refineSolveWebGpu(rt: GpuRuntime, a: RefineSolveArgs): void {
  const distinct = Uint32Array.from(new Set(a.arms));
  if (distinct.length === 0 || (a.iterations === 0 && !a.restart)) return;
  const buffer = rt.upload(distinct, 'refineSolve arms');
  rt.dispatch({
    kernel: SOLVE_KERNEL,
    buffers: [buffer, bufferOf(a.aHi), bufferOf(a.aLo), bufferOf(a.bHi), bufferOf(a.bLo), bufferOf(a.aInv), bufferOf(a.theta)],
    params: { d: a.d, count: distinct.length, iterations: a.iterations, restart: a.restart ? 1 : 0, cols: a.cols },
    workgroups: distinct.length,
  });
  rt.releaseBuffer(buffer);
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'accumulateOuter' | 'accurateResidual' | 'addAccurate' | 'refineSolve'> = {
  ops: { accumulateOuter: accumulateOuterWebGpu, accurateResidual: accurateResidualWebGpu, addAccurate: addAccurateWebGpu, refineSolve: refineSolveWebGpu },
  kernels: [ACCUMULATE_KERNEL, RESIDUAL_KERNEL, ADD_KERNEL, SOLVE_KERNEL],
};
