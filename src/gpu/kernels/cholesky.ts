import { MAX_FACTOR_DIM } from '../../core/limits.js';
import source from '../../../shaders/cholesky.wgsl';
import { BackendError } from '../../core/errors.js';
import type { GpuRuntime } from '../runtime.js';
import { kernel, type KernelDescriptor } from '../kernel.js';
import { GRID, wgsl } from '../shader.js';
import { uniforms, type FieldsOf } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { FactorArgs } from '../../core/op-args.js';

/**
 * Workgroup sizes of the workgroup-per-matrix kernels: the smallest one ≥ d is used, since a
 * barrier costs in proportion to the workgroup (on SwiftShader ~0.5 µs per 4 invocations).
 */
const WORKGROUP_SIZES = [8, 16, 32, 64, 128, 256] as const;
/**
 * Workgroup sizes of the invocation-per-matrix kernels: 256 once the batch is large (on
 * SwiftShader each workgroup has a fixed cost: 256 is up to 1.5× faster than 64 at K = 10000),
 * 64 below so a few hundred matrices still spread over several workgroups.
 */
const INVOCATION_WORKGROUP_SIZES = [64, 256] as const;
const LARGE_BATCH = 4096;
/** Quiet NaN bits for the kernels' NaN fill (WGSL has no NaN literal). */
const NAN_BITS = 0x7fc00000;

const code = wgsl(source, GRID);
const FactorParams = uniforms('FactorParams', { batch: 'u32', d: 'u32', nanBits: 'u32' });
type FactorKernel = KernelDescriptor<FieldsOf<typeof FactorParams>>;
type FactorOp = 'cholesky' | 'spdInverse';
const STORAGE = ['read', 'rw', 'rw'] as const;
const ENTRY_POINTS: Record<FactorLayout, string> = { workgroup: 'factorWorkgroupPerMatrix', invocation: 'factorInvocationPerMatrix' };

const kernelsOf = (op: FactorOp, layout: FactorLayout, sizes: readonly number[]): FactorKernel[] =>
  sizes.map((wg) => kernel({
    name: `${op}-${layout}-wg${wg}`, source: code, entryPoint: ENTRY_POINTS[layout], storage: STORAGE, workgroupSize: wg,
    constants: { INVERSE: op === 'spdInverse' ? 1 : 0 }, uniforms: FactorParams,
  }));
const WORKGROUP_KERNELS: Record<FactorOp, readonly FactorKernel[]> = {
  cholesky: kernelsOf('cholesky', 'workgroup', WORKGROUP_SIZES),
  spdInverse: kernelsOf('spdInverse', 'workgroup', WORKGROUP_SIZES),
};
const INVOCATION_KERNELS: Record<FactorOp, readonly FactorKernel[]> = {
  cholesky: kernelsOf('cholesky', 'invocation', INVOCATION_WORKGROUP_SIZES),
  spdInverse: kernelsOf('spdInverse', 'invocation', INVOCATION_WORKGROUP_SIZES),
};

/** How the factorisation kernels map matrices to the GPU. */
export type FactorLayout = 'invocation' | 'workgroup';

/**
 * One invocation a matrix (sequential, no barriers) or one workgroup a matrix (a row an
 * invocation, d + 1 barriers for the factor, 3 more for the inverse). Both do the same ~d³/6 to
 * d³/2 multiply-adds in all. On a CPU adapter invocations are SIMD lanes and a barrier switches
 * every group of lanes (SwiftShader: ~0.5 µs per 4 invocations), so one invocation a matrix wins
 * once the batch fills a few workgroups — measured up to d = 64 (SwiftShader, medians, invocation
 * vs workgroup: K = 10000, d = 8: factor 40 vs 136 ms, inverse 79 vs 178 ms; K = 1000, d = 64:
 * 0.74 vs 1.1 s, 1.3 vs 2.5 s; K = 128, d = 64: about even). On a GPU a thread working alone
 * through a d×d matrix is latency-bound (~d³ dependent loads) while barriers are cheap, so one
 * invocation a matrix is kept to small d and large batches (not measured on a GPU yet).
 */
export function factorLayout(batch: number, d: number, cpuAdapter: boolean): FactorLayout {
  if (cpuAdapter) return d <= 64 && batch >= 128 ? 'invocation' : 'workgroup';
  return d <= 16 && batch >= 1024 ? 'invocation' : 'workgroup';
}

function dispatchFactor(rt: GpuRuntime, op: FactorOp, { a, out, status, batch, d }: FactorArgs): void {
  const buffers = [bufferOf(a), bufferOf(out), bufferOf(status)];
  const values = { batch, d, nanBits: NAN_BITS };
  if (factorLayout(batch, d, rt.fallbackAdapter) === 'invocation') {
    const program = INVOCATION_KERNELS[op][batch >= LARGE_BATCH ? 1 : 0]!;
    rt.dispatch({ kernel: program, buffers, params: values, workgroups: Math.ceil(batch / program.workgroupSize) });
    return;
  }
  const program = WORKGROUP_KERNELS[op].find((k) => k.workgroupSize >= d);
  if (!program) throw new BackendError(`${op}: d = ${d} is over ${MAX_FACTOR_DIM}`);
  rt.dispatch({ kernel: program, buffers, params: values, workgroups: batch });
}

export function choleskyWebGpu(rt: GpuRuntime, args: FactorArgs): void {
  dispatchFactor(rt, 'cholesky', args);
}

export function spdInverseWebGpu(rt: GpuRuntime, args: FactorArgs): void {
  dispatchFactor(rt, 'spdInverse', args);
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'cholesky' | 'spdInverse'> = {
  ops: { cholesky: choleskyWebGpu, spdInverse: spdInverseWebGpu },
  kernels: [
    ...WORKGROUP_KERNELS.cholesky, ...WORKGROUP_KERNELS.spdInverse, ...INVOCATION_KERNELS.cholesky, ...INVOCATION_KERNELS.spdInverse,
  ],
};
