import { decayFactors } from '../../core/discount.js';
import { segmentIndex } from '../../core/segments.js';
import source from '../../../shaders/linucb.wgsl';
import { params, type GpuRuntime, type KernelDescriptor } from '../runtime.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { DiscountedUpdateArgs, DriftArgs, GatherMatVecArgs, ScatterAddArgs, UcbScoresArgs } from '../../core/op-args.js';

const WG = 64;
const NO_SEGMENT = 0xffffffff;

const kernel = (entryPoint: string, storage: readonly ('read' | 'rw')[], rows?: number, name?: string): KernelDescriptor => ({
  name: name ?? (rows === undefined ? entryPoint : `${entryPoint}Rows${rows}`),
  source,
  entryPoint,
  storage,
  workgroupSize: WG,
  ...(rows === undefined ? {} : { constants: { ROWS: rows } }),
});

const UCB_STORAGE = ['read', 'read', 'read', 'rw'] as const;
/**
 * Row tiles of ucbScores, the largest ≤ B is used (a small batch computes few clamped copies).
 * On SwiftShader 8 rows ran ~20% faster than 4 at B = 64 (A⁻¹ loaded half as often); B = 1 walks
 * A⁻¹ by rows (ucbScoresVec4Row), as fast there as the column walk and friendlier to GPU caches.
 */
const UCB_VEC4_ROW_TILES = [8, 4, 2, 1] as const;
const UCB_SCALAR_ROW_TILES = [4, 2, 1] as const;
const UCB_VEC4 = new Map(UCB_VEC4_ROW_TILES.map((r) => [r, r === 1 ? kernel('ucbScoresVec4Row', UCB_STORAGE, 1, 'ucbScoresVec4Row') : kernel('ucbScoresVec4', UCB_STORAGE, r)]));
const UCB_SCALAR = new Map(UCB_SCALAR_ROW_TILES.map((r) => [r, kernel('ucbScoresScalar', UCB_STORAGE, r)]));

export function ucbScoresWebGpu(rt: GpuRuntime, a: UcbScoresArgs): void {
  const vec4 = a.d % 4 === 0;
  const tile = (vec4 ? UCB_VEC4_ROW_TILES : UCB_SCALAR_ROW_TILES).find((r) => r <= a.rows)!;
  const k = (vec4 ? UCB_VEC4 : UCB_SCALAR).get(tile)!;
  const rowTiles = Math.ceil(a.rows / tile);
  const xRowStride = a.perArm ? a.xArms * a.d : a.d;
  const xArmStride = a.perArm ? a.d : 0;
  const xBase = a.perArm ? a.armOffset * a.d : 0;
  rt.dispatch({
    kernel: k,
    buffers: [bufferOf(a.x), bufferOf(a.aInv), bufferOf(a.theta), bufferOf(a.out)],
    uniforms: params('uuuuuuuuuf', a.rows, a.arms, a.d, xRowStride, xArmStride, xBase, a.outCols, a.armOffset, rowTiles, a.alpha),
    workgroups: Math.ceil((a.arms * rowTiles) / WG),
  });
}

/** `index` followed by room for `extra` more u32 (f32 bits) of per-op data. */
export function withRoom(index: Uint32Array, extra: number): { data: Uint32Array; bits: Float32Array } {
  const data = new Uint32Array(index.length + extra);
  data.set(index);
  return { data, bits: new Float32Array(data.buffer) };
}

const SCATTER_KERNEL = kernel('scatterAddScaled', ['read', 'read', 'rw']);

export function scatterAddScaledWebGpu(rt: GpuRuntime, a: ScatterAddArgs): void {
  const { index, segments } = segmentIndex(a.arms, a.vectors);
  const { data, bits } = withRoom(index, a.count);
  bits.set(a.weights, index.length);
  const buffer = rt.upload(data, 'scatterAddScaled index');
  rt.dispatch({
    kernel: SCATTER_KERNEL,
    buffers: [buffer, bufferOf(a.x), bufferOf(a.b)],
    uniforms: params('uuuuuuuuff', a.d, segments, a.count, a.vectors, index.length, 0, 0, 0, 0, 0),
    workgroups: Math.ceil((segments * a.d) / WG),
  });
  rt.releaseBuffer(buffer);
}

const MV_STORAGE = ['read', 'read', 'read', 'rw'] as const;
const GATHER_KERNEL = kernel('gatherMatVec', MV_STORAGE);
const GATHER_VEC4_KERNEL = kernel('gatherMatVecVec4', MV_STORAGE);

export function gatherMatVecWebGpu(rt: GpuRuntime, a: GatherMatVecArgs): void {
  const distinct = Uint32Array.from(new Set(a.arms));
  if (distinct.length === 0) return;
  const vec4 = a.d % 4 === 0;
  const buffer = rt.upload(distinct, 'gatherMatVec arms');
  rt.dispatch({
    kernel: vec4 ? GATHER_VEC4_KERNEL : GATHER_KERNEL,
    buffers: [buffer, bufferOf(a.m), bufferOf(a.v), bufferOf(a.out)],
    uniforms: params('uu', a.d, distinct.length),
    workgroups: Math.ceil((distinct.length * (vec4 ? a.d / 4 : a.d)) / WG),
  });
  rt.releaseBuffer(buffer);
}

const DISCOUNT_STORAGE = ['read', 'read', 'rw', 'rw'] as const;
const DISCOUNT_A_KERNEL = kernel('discountedA', DISCOUNT_STORAGE);
const DISCOUNT_A_VEC4_KERNEL = kernel('discountedAVec4', DISCOUNT_STORAGE);
const DISCOUNT_B_KERNEL = kernel('discountedB', DISCOUNT_STORAGE);

/**
 * The index the discounted kernels read: segmentIndex, then per arm its segment, then per
 * segment entry s of segment t (and one more after its last play, at end + t) the factors
 * γ^g and (1−γ^g)λ of the gap g before it, then the rewards by row. Factors are computed in
 * float64 and rounded once to f32 (relative error ≤ 2⁻²⁴ each, one more rounding in the walk).
 */
function discountIndex(a: Pick<DiscountedUpdateArgs, 'arms' | 'rewards' | 'count' | 'matrices' | 'gamma' | 'lambda'>): {
  data: Uint32Array; segments: number; offsets: [number, number, number, number];
} {
  const { index, segments } = segmentIndex(a.arms, a.matrices);
  const U = a.count, T = segments;
  const off0 = index.length, off1 = off0 + a.matrices, off2 = off1 + U + T, off3 = off2 + U + T;
  const { data, bits } = withRoom(index, a.matrices + 2 * (U + T) + U);
  data.fill(NO_SEGMENT, off0, off1);
  const rows = 2 * T + 1;
  for (let t = 0; t < T; t++) {
    data[off0 + index[t]!] = t;
    const start = index[T + t]!, end = index[T + t + 1]!;
    let prev = -1;
    for (let s = start; s <= end; s++) {
      // A play's own step decays too (before the add); after the last play, the steps to U − 1.
      const u = s < end ? index[rows + s]! : U - 1;
      const [f, c] = decayFactors(a.gamma, a.lambda, u - prev);
      bits[off1 + s + t] = f;
      bits[off2 + s + t] = c;
      prev = u;
    }
  }
  bits.set(a.rewards, off3);
  return { data, segments, offsets: [off0, off1, off2, off3] };
}

export function discountedUpdateWebGpu(rt: GpuRuntime, a: DiscountedUpdateArgs): void {
  const { data, segments, offsets } = discountIndex(a);
  const [fAll, cAll] = decayFactors(a.gamma, a.lambda, a.count);
  const buffer = rt.upload(data, 'discountedUpdate index');
  const uniforms = params('uuuuuuuuff', a.d, segments, a.count, a.matrices, ...offsets, fAll, cAll);
  const buffers = [buffer, bufferOf(a.x), bufferOf(a.a), bufferOf(a.b)];
  const vec4 = a.d % 4 === 0;
  const perArm = vec4 ? (a.d * a.d) / 4 : a.d * a.d;
  rt.dispatch({
    kernel: vec4 ? DISCOUNT_A_VEC4_KERNEL : DISCOUNT_A_KERNEL,
    buffers,
    uniforms,
    workgroups: Math.ceil((a.matrices * perArm) / WG),
  });
  rt.dispatch({ kernel: DISCOUNT_B_KERNEL, buffers, uniforms, workgroups: Math.ceil((a.matrices * a.d) / WG) });
  rt.releaseBuffer(buffer);
}

/** Rows of A one inverseDrift invocation takes: A⁻¹ is read once for four rows. */
const DRIFT_ROWS = 4;
const DRIFT_STORAGE = ['read', 'read', 'rw'] as const;
const DRIFT_VEC4_KERNEL = kernel('inverseDriftVec4', DRIFT_STORAGE, DRIFT_ROWS);
const DRIFT_SCALAR_KERNEL = kernel('inverseDriftScalar', DRIFT_STORAGE, DRIFT_ROWS);

export function inverseDriftWebGpu(rt: GpuRuntime, a: DriftArgs): void {
  const rowTiles = Math.ceil(a.d / DRIFT_ROWS);
  rt.dispatch({
    kernel: a.d % 4 === 0 ? DRIFT_VEC4_KERNEL : DRIFT_SCALAR_KERNEL,
    buffers: [bufferOf(a.a), bufferOf(a.aInv), bufferOf(a.out)],
    uniforms: params('uuu', a.d, a.matrices, rowTiles),
    workgroups: Math.ceil((a.matrices * rowTiles) / WG),
  });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'ucbScores' | 'scatterAddScaled' | 'gatherMatVec' | 'discountedUpdate' | 'inverseDrift'> = {
  ops: { ucbScores: ucbScoresWebGpu, scatterAddScaled: scatterAddScaledWebGpu, gatherMatVec: gatherMatVecWebGpu, discountedUpdate: discountedUpdateWebGpu, inverseDrift: inverseDriftWebGpu },
  kernels: [
    ...UCB_VEC4.values(), ...UCB_SCALAR.values(), SCATTER_KERNEL, GATHER_KERNEL, GATHER_VEC4_KERNEL,
    DISCOUNT_A_KERNEL, DISCOUNT_A_VEC4_KERNEL, DISCOUNT_B_KERNEL, DRIFT_VEC4_KERNEL, DRIFT_SCALAR_KERNEL,
  ],
};
