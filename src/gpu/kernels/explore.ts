import exploreSource from '../../../shaders/explore.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel as declare } from '../kernel.js';
import { GRID, RANDOM, wgsl } from '../shader.js';
import { uniforms as declareUniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type {
  PosteriorDrawsArgs, SampleArmsArgs, SampleScoresArgs, SamplingPolicy, ThompsonPropensitiesArgs,
} from '../../core/op-args.js';

const source = wgsl(exploreSource, GRID, RANDOM);
/** The one uniform struct of shaders/explore.wgsl; the fields each kernel reads are listed there. */
const ExploreParams = declareUniforms('Params', {
  rows: 'u32', cols: 'u32', k: 'u32', policy: 'u32', param0: 'f32', param1: 'f32', eligibleStride: 'u32', hasEligible: 'u32',
  slotStride: 'u32', seed: 'u32', step: 'u32', chunkWords: 'u32', draws: 'u32', d: 'u32', scale: 'f32', nanBits: 'u32',
});

const WG = 64;
const F32_MAX = 3.4028234663852886e38;
/** Must match GAP_CAP in shaders/explore.wgsl and src/cpu/explore.ts. */
const GAP_CAP = 2 ** 100;
const LOGIT_FLOOR = 87;
const NAN_BITS = 0x7fc00000;

const kernel = (entryPoint: string, storage: readonly ('read' | 'rw')[], workgroupSize = WG, name = entryPoint) => declare({
  name, source, entryPoint, storage, workgroupSize, uniforms: ExploreParams,
});

/**
 * sampleArms' one-workgroup-a-row kernel comes in power-of-two sizes up to 64, chosen so that
 * every invocation owns at least one 32-arm word of the row.
 */
export const SAMPLE_ARMS_SIZES = [1, 2, 4, 8, 16, 32, 64] as const;
const SAMPLE_ARMS_KERNELS = new Map(SAMPLE_ARMS_SIZES.map((size) => [
  size, kernel('sampleArms', ['read', 'read', 'rw', 'rw', 'rw', 'rw'], size, `sampleArms/wg${size}`),
]));
/** One invocation a row; 8 rows a workgroup on CPU adapters (a workgroup runs on one core there), 64 on GPUs. */
const SAMPLE_ARMS_SERIAL_KERNELS = [8, 64].map((size) => kernel('sampleArmsSerial', ['read', 'read', 'rw', 'rw', 'rw', 'rw'], size, `sampleArmsSerial/wg${size}`));

/** How sampleArms maps rows to the GPU. */
export type SampleArmsLayout = 'invocation' | 'workgroup';

/**
 * One invocation a row (sequential passes, no barriers) or one workgroup a row (passes split over
 * 32-arm chunks, about six barriers a slot). Rows of at most 64 arms are too short to split. On
 * a CPU adapter a barrier switches every group of lanes (SwiftShader: barriers of 64 workgroups
 * of 32 invocations cost B = 64, K = 1000 some 12 ms against 1 ms for rowArgmax), so from 8 rows
 * on, one invocation a row wins; on a GPU one thread scanning a long row is latency-bound while
 * barriers are cheap (not measured on a GPU yet).
 */
export function sampleArmsLayout(rows: number, cols: number, cpuAdapter: boolean): SampleArmsLayout {
  return cols <= 64 || (cpuAdapter && rows >= 8) ? 'invocation' : 'workgroup';
}

const SAMPLE_SCORES_KERNEL = kernel('sampleScores', ['read', 'read', 'rw']);
const THOMPSON_KERNEL = kernel('thompsonPropensities', ['read', 'read', 'read', 'read', 'rw']);
const FREQUENCIES_KERNEL = kernel('thompsonFrequencies', ['read', 'rw']);
const POSTERIOR_KERNEL = kernel('posteriorDraws', ['read', 'read', 'rw']);

/** The workgroup size of sampleArms' one-workgroup-a-row kernel for rows of `cols` arms. */
export function sampleArmsWorkgroup(cols: number): number {
  const words = Math.ceil(cols / 32);
  let size = 1;
  while (size < WG && size < words) size *= 2;
  return size;
}

/** The policy code and the two constants the kernel needs, rounded to f32 here once. */
function policyConstants(policy: SamplingPolicy): [number, number, number] {
  switch (policy.kind) {
    case 'greedy':
      return [0, 0, 0];
    case 'epsilon-greedy':
      return [1, policy.epsilon, 1 - policy.epsilon];
    case 'softmax': {
      const halfT = Math.fround(policy.temperature) / 2;
      return [2, halfT, -LOGIT_FLOOR * halfT];
    }
    case 'squarecb': {
      const twoGamma = 2 * Math.fround(policy.gamma);
      // Above this half-gap γ·gap passes the cap; F32_MAX where no finite half-gap can pass it,
      // so (2γ)·h never overflows.
      return [3, twoGamma, Math.min(GAP_CAP / twoGamma, F32_MAX)];
    }
  }
}

/** A 16-byte buffer bound where a kernel's optional eligibility mask is absent, one per device. */
const noMask = new WeakMap<GpuRuntime, GPUBuffer>();
function maskBuffer(rt: GpuRuntime, eligible: SampleArmsArgs['eligible']): GPUBuffer {
  if (eligible) return bufferOf(eligible);
  let b = noMask.get(rt);
  if (!b) noMask.set(rt, (b = rt.createBuffer(16, 'explore: no eligibility mask')));
  return b;
}

interface Uniforms {
  rows: number; cols: number; k: number; policy?: number; param0?: number; param1?: number;
  eligibleStride?: number; hasEligible?: boolean; slotStride?: number; seed: number; step: number;
  chunkWords?: number; draws?: number; d?: number; scale?: number;
}

function uniforms(u: Uniforms) {
  return {
    rows: u.rows, cols: u.cols, k: u.k, policy: u.policy ?? 0, param0: u.param0 ?? 0, param1: u.param1 ?? 0,
    eligibleStride: u.eligibleStride ?? 0, hasEligible: u.hasEligible ? 1 : 0, slotStride: u.slotStride ?? 0, seed: u.seed,
    step: u.step, chunkWords: u.chunkWords ?? 0, draws: u.draws ?? 0, d: u.d ?? 0, scale: u.scale ?? 0, nanBits: NAN_BITS,
  };
}

export function sampleArmsWebGpu(rt: GpuRuntime, a: SampleArmsArgs): void {
  const words = Math.ceil(a.cols / 32);
  const [policy, param0, param1] = policyConstants(a.policy);
  const taken = rt.createBuffer(a.rows * words * 4, 'sampleArms taken');
  const serial = sampleArmsLayout(a.rows, a.cols, rt.fallbackAdapter) === 'invocation';
  const size = serial ? 1 : sampleArmsWorkgroup(a.cols);
  const kernel = serial
    ? SAMPLE_ARMS_SERIAL_KERNELS[rt.fallbackAdapter ? 0 : 1]!
    : SAMPLE_ARMS_KERNELS.get(size as (typeof SAMPLE_ARMS_SIZES)[number])!;
  rt.dispatch({
    kernel,
    buffers: [bufferOf(a.scores), maskBuffer(rt, a.eligible), bufferOf(a.arms), bufferOf(a.propensities), bufferOf(a.status), taken],
    params: uniforms({
      rows: a.rows, cols: a.cols, k: a.k, policy, param0, param1, eligibleStride: a.eligibleStride,
      hasEligible: a.eligible !== null, slotStride: a.slotStride, seed: a.seed, step: a.step,
      chunkWords: Math.ceil(words / size),
    }),
    workgroups: serial ? Math.ceil(a.rows / kernel.workgroupSize) : a.rows,
  });
  rt.releaseBuffer(taken);
}

export function sampleScoresWebGpu(rt: GpuRuntime, a: SampleScoresArgs): void {
  rt.dispatch({
    kernel: SAMPLE_SCORES_KERNEL,
    buffers: [bufferOf(a.mean), bufferOf(a.width2), bufferOf(a.out)],
    params: uniforms({ rows: a.rows, cols: a.cols, k: a.draws, seed: a.seed, step: a.step, scale: a.scale }),
    workgroups: Math.ceil((a.draws * a.rows * a.cols) / WG),
  });
}

/**
 * Workgroups a row for thompsonPropensities: enough that each invocation has a block of four
 * draws, at most 64 (then the row's blocks are strided over 64·64 invocations).
 */
export function thompsonGroups(draws: number): number {
  return Math.min(64, Math.max(1, Math.ceil(Math.ceil(draws / 4) / WG)));
}

export function thompsonPropensitiesWebGpu(rt: GpuRuntime, a: ThompsonPropensitiesArgs): void {
  const groups = thompsonGroups(a.draws);
  // Every (row, slot, workgroup) part is written by its workgroup, so no clearing is needed.
  const parts = rt.acquire(a.rows * a.k * groups * 4, 'thompsonPropensities parts');
  const u = uniforms({
    rows: a.rows, cols: a.cols, k: a.k, eligibleStride: a.eligibleStride, hasEligible: a.eligible !== null,
    seed: a.seed, step: a.step, draws: a.draws, scale: a.scale, chunkWords: groups,
  });
  rt.dispatch({
    kernel: THOMPSON_KERNEL,
    buffers: [bufferOf(a.mean), bufferOf(a.width2), maskBuffer(rt, a.eligible), bufferOf(a.chosen), parts],
    params: u,
    workgroups: a.rows * groups,
  });
  rt.dispatch({ kernel: FREQUENCIES_KERNEL, buffers: [parts, bufferOf(a.out)], params: u, workgroups: Math.ceil((a.rows * a.k) / WG) });
  rt.releaseBuffer(parts);
}

export function posteriorDrawsWebGpu(rt: GpuRuntime, a: PosteriorDrawsArgs): void {
  rt.dispatch({
    kernel: POSTERIOR_KERNEL,
    buffers: [bufferOf(a.theta), bufferOf(a.factor), bufferOf(a.out)],
    params: uniforms({ rows: 0, cols: a.arms, k: 0, seed: a.seed, step: a.step, draws: a.draws, d: a.d, scale: a.scale }),
    workgroups: Math.ceil((a.draws * a.arms * a.d) / WG),
  });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'sampleArms' | 'sampleScores' | 'thompsonPropensities' | 'posteriorDraws'> = {
  ops: {
    sampleArms: sampleArmsWebGpu,
    sampleScores: sampleScoresWebGpu,
    thompsonPropensities: thompsonPropensitiesWebGpu,
    posteriorDraws: posteriorDrawsWebGpu,
  },
  kernels: [...SAMPLE_ARMS_KERNELS.values(), ...SAMPLE_ARMS_SERIAL_KERNELS, SAMPLE_SCORES_KERNEL, THOMPSON_KERNEL, FREQUENCIES_KERNEL, POSTERIOR_KERNEL],
};
