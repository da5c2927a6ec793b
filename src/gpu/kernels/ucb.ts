import source from '../../../shaders/ucb.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { SCORE, TILE, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { UcbScoresArgs } from '../../core/op-args.js';

const WG = 64;
const code = wgsl(source, TILE, SCORE);
const UcbParams = uniforms('UcbParams', {
  rows: 'u32', arms: 'u32', d: 'u32', xRowStride: 'u32', xArmStride: 'u32', xBase: 'u32', outCols: 'u32', outBase: 'u32',
  rowTiles: 'u32', alpha: 'f32',
});

const ucbKernel = (entryPoint: string, rows: number, name = `${entryPoint}Rows${rows}`) => kernel({
  name, source: code, entryPoint, storage: ['read', 'read', 'read', 'rw'], workgroupSize: WG, constants: { ROWS: rows }, uniforms: UcbParams,
});
/**
 * Row tiles of ucbScores, the largest ≤ B is used (a small batch computes few clamped copies).
 * On SwiftShader 8 rows ran ~20% faster than 4 at B = 64 (A⁻¹ loaded half as often); B = 1 walks
 * A⁻¹ by rows (ucbScoresVec4Row), as fast there as the column walk and friendlier to GPU caches.
 */
const UCB_VEC4_ROW_TILES = [8, 4, 2, 1] as const;
const UCB_SCALAR_ROW_TILES = [4, 2, 1] as const;
const UCB_VEC4 = new Map(UCB_VEC4_ROW_TILES.map((r) => [r, r === 1 ? ucbKernel('ucbScoresVec4Row', 1, 'ucbScoresVec4Row') : ucbKernel('ucbScoresVec4', r)]));
const UCB_SCALAR = new Map(UCB_SCALAR_ROW_TILES.map((r) => [r, ucbKernel('ucbScoresScalar', r)]));

export function ucbScoresWebGpu(rt: GpuRuntime, a: UcbScoresArgs): void {
  const vec4 = a.d % 4 === 0;
  const tile = (vec4 ? UCB_VEC4_ROW_TILES : UCB_SCALAR_ROW_TILES).find((r) => r <= a.rows)!;
  const k = (vec4 ? UCB_VEC4 : UCB_SCALAR).get(tile)!;
  const rowTiles = Math.ceil(a.rows / tile);
  rt.dispatch({
    kernel: k,
    buffers: [bufferOf(a.x), bufferOf(a.aInv), bufferOf(a.theta), bufferOf(a.out)],
    params: {
      rows: a.rows, arms: a.arms, d: a.d,
      xRowStride: a.perArm ? a.xArms * a.d : a.d, xArmStride: a.perArm ? a.d : 0, xBase: a.perArm ? a.armOffset * a.d : 0,
      outCols: a.outCols, outBase: a.armOffset, rowTiles, alpha: a.alpha,
    },
    workgroups: Math.ceil((a.arms * rowTiles) / WG),
  });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'ucbScores'> = {
  ops: { ucbScores: ucbScoresWebGpu },
  kernels: [...UCB_VEC4.values(), ...UCB_SCALAR.values()],
};
