import { segmentIndex } from '../../core/segments.js';
import source from '../../../shaders/hybrid.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { SCORE, SEGMENTS, TILE, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import { withRoom } from './index-data.js';
import type { HybridArmUpdateArgs, HybridScoresArgs, OuterAddArgs } from '../../core/op-args.js';

const WG = 64;
const code = wgsl(source, TILE, SCORE, SEGMENTS);
const HybridScoreParams = uniforms('HybridScoreParams', {
  rows: 'u32', arms: 'u32', d: 'u32', k: 'u32', xRowStride: 'u32', zRowStride: 'u32', armOffset: 'u32', outCols: 'u32',
  rowTiles: 'u32', alpha: 'f32',
});
const ArmUpdateParams = uniforms('ArmUpdateParams', { d: 'u32', k: 'u32', segments: 'u32', rewardsAt: 'u32' });
const OuterParams = uniforms('OuterParams', { d: 'u32', k: 'u32', segments: 'u32', groupsPerArm: 'u32' });

const SCORE_STORAGE = ['read', 'read', 'read', 'read', 'read', 'read', 'read', 'rw'] as const;
/**
 * Row tiles of hybridScores, the largest ≤ B is used (a small batch computes few clamped copies).
 * A⁻¹ and D are loaded once a tile: on SwiftShader at K = 1000, B = 64, d = 16, k = 8, tiles of
 * 1, 2, 4, 8 rows took 214, 155, 111, 89 ms; at d = k = 32, 4 and 8 rows took 672 and 482 ms.
 */
const SCORE_VEC4_ROW_TILES = [8, 4, 2, 1] as const;
const SCORE_SCALAR_ROW_TILES = [4, 2, 1] as const;
const scoreKernel = (entryPoint: 'hybridScoresVec4' | 'hybridScoresScalar', rows: number) => kernel({
  name: `${entryPoint}Rows${rows}`, source: code, entryPoint, storage: SCORE_STORAGE, workgroupSize: WG, constants: { ROWS: rows },
  uniforms: HybridScoreParams,
});
const SCORE_VEC4 = new Map(SCORE_VEC4_ROW_TILES.map((r) => [r, scoreKernel('hybridScoresVec4', r)]));
const SCORE_SCALAR = new Map(SCORE_SCALAR_ROW_TILES.map((r) => [r, scoreKernel('hybridScoresScalar', r)]));

export function hybridScoresWebGpu(rt: GpuRuntime, a: HybridScoresArgs): void {
  const vec4 = a.d % 4 === 0 && a.k % 4 === 0;
  const tile = (vec4 ? SCORE_VEC4_ROW_TILES : SCORE_SCALAR_ROW_TILES).find((r) => r <= a.rows)!;
  const program = (vec4 ? SCORE_VEC4 : SCORE_SCALAR).get(tile)!;
  const rowTiles = Math.ceil(a.rows / tile);
  rt.dispatch({
    kernel: program,
    buffers: [a.x, a.z, a.aInv, a.dMat, a.theta, a.l, a.beta, a.out].map(bufferOf),
    params: {
      rows: a.rows, arms: a.arms, d: a.d, k: a.k, xRowStride: a.xArms * a.d, zRowStride: a.xArms * a.k, armOffset: a.armOffset,
      outCols: a.outCols, rowTiles, alpha: a.alpha,
    },
    workgroups: Math.ceil((a.arms * rowTiles) / WG),
  });
}

/**
 * hybridArmUpdate runs one workgroup an arm with an invocation a column of [A⁻¹ | C | φ]: the
 * smallest size that gives every column its own invocation, 4 to 64. SwiftShader pays for every
 * invocation at each barrier (one a row), so idle invocations cost time there.
 */
const ARM_UPDATE_SIZES = [4, 8, 16, 32, 64] as const;
const ARM_UPDATE_KERNELS = new Map(ARM_UPDATE_SIZES.map((wg) => [wg, kernel({
  name: `hybridArmUpdate-wg${wg}`, source: code, entryPoint: 'hybridArmUpdate',
  storage: ['read', 'read', 'rw', 'rw', 'rw', 'rw', 'rw', 'rw'], workgroupSize: wg, uniforms: ArmUpdateParams,
})]));

export function hybridArmUpdateWebGpu(rt: GpuRuntime, a: HybridArmUpdateArgs): void {
  const { index, segments } = segmentIndex(a.arms, a.matrices);
  const { data, bits } = withRoom(index, a.count);
  bits.set(a.rewards, index.length);
  const columns = a.d + a.k + 1;
  const wg = ARM_UPDATE_SIZES.find((s) => s >= columns) ?? 64;
  const idx = rt.upload(data, 'hybridArmUpdate index');
  const scratch = rt.acquire(segments * 2 * columns * 4, 'hybridArmUpdate scratch');
  rt.dispatch({
    kernel: ARM_UPDATE_KERNELS.get(wg)!,
    buffers: [idx, bufferOf(a.xz), bufferOf(a.aInv), bufferOf(a.c), bufferOf(a.phi), bufferOf(a.w), bufferOf(a.rho), scratch],
    params: { d: a.d, k: a.k, segments, rewardsAt: index.length },
    workgroups: segments,
  });
  rt.releaseBuffer(idx);
  rt.releaseBuffer(scratch);
}

const OUTER_KERNEL = kernel({
  name: 'scatterOuterAdd', source: code, entryPoint: 'scatterOuterAdd', storage: ['read', 'read', 'read', 'rw'], workgroupSize: WG,
  uniforms: OuterParams,
});

export function scatterOuterAddWebGpu(rt: GpuRuntime, a: OuterAddArgs): void {
  const { index, segments } = segmentIndex(a.arms, a.matrices);
  const groupsPerArm = Math.ceil((a.d * a.k) / WG);
  const idx = rt.upload(index, 'scatterOuterAdd index');
  rt.dispatch({
    kernel: OUTER_KERNEL,
    buffers: [idx, bufferOf(a.x), bufferOf(a.z), bufferOf(a.m)],
    params: { d: a.d, k: a.k, segments, groupsPerArm },
    workgroups: segments * groupsPerArm,
  });
  rt.releaseBuffer(idx);
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'hybridScores' | 'hybridArmUpdate' | 'scatterOuterAdd'> = {
  ops: { hybridScores: hybridScoresWebGpu, hybridArmUpdate: hybridArmUpdateWebGpu, scatterOuterAdd: scatterOuterAddWebGpu },
  kernels: [
    ...SCORE_VEC4.values(), ...SCORE_SCALAR.values(), ...ARM_UPDATE_KERNELS.values(), OUTER_KERNEL,
  ],
};
