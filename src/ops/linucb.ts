import source from '../../shaders/linucb.wgsl';
import { BanditError } from '../core/errors.js';
import { params, type GpuRuntime, type KernelDescriptor } from '../gpu/runtime.js';
import { asMatrices, asVectors, checkFinite, checkTensor } from '../core/check.js';
import { bufferOf } from '../gpu/tensor.js';
import { segmentIndex } from './rank1.js';
import type {
  Backend, DiscountedUpdateArgs, DriftArgs, GatherMatVecArgs, ScatterAddArgs, Tensor, UcbScoresArgs,
} from '../core/op-args.js';

// ---------------------------------------------------------------------------------------------
// Public functions: validate everything before any work, so bad input leaves the tensors as they were.

export interface UcbScoresOptions {
  /** Width of the confidence bonus, finite and ≥ 0. */
  readonly alpha: number;
  /** x is B×Ktotal×d (a context per row and arm) instead of B×d shared by all arms. */
  readonly perArm?: boolean;
  /** B×Ktotal scores; only columns armOffset … armOffset+K−1 are written. Required when armOffset > 0. */
  readonly out?: Tensor;
  /** Column of `out` (and arm of a per-arm x) of this shard's first arm; default 0. */
  readonly armOffset?: number;
}

export function squareMatrices(t: Tensor, name: string, op: string): { batch: number; d: number } {
  const M = asMatrices(t, name, op);
  if (M.rows !== M.cols) throw new BanditError(`${op}: ${name} must hold square matrices, got ${M.rows}×${M.cols}`);
  return { batch: M.batch, d: M.rows };
}

export function checkVectors(t: Tensor, name: string, op: string, count: number, d: number): void {
  const V = asVectors(t, name, op);
  if (V.batch !== count || V.len !== d) {
    throw new BanditError(`${op}: ${name} must be ${count}×${d}, got [${t.shape.join(', ')}]`);
  }
}

export function checkDistinct(op: string, ...named: [string, Tensor][]): void {
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      if (named[i]![1] === named[j]![1]) throw new BanditError(`${op}: ${named[i]![0]} and ${named[j]![0]} must be different tensors`);
    }
  }
}

export function checkArms(op: string, arms: Int32Array, count: number, matrices: number, allowNone = false): void {
  if (!(arms instanceof Int32Array)) throw new BanditError(`${op}: arms must be an Int32Array`);
  if (arms.length !== count) throw new BanditError(`${op}: ${count} rows of x but ${arms.length} arm indices`);
  for (let u = 0; u < count; u++) {
    const k = arms[u]!;
    if (allowNone && k === -1) continue;
    if (k < 0 || k >= matrices) throw new BanditError(`${op}: arms[${u}] = ${k} is out of range 0..${matrices - 1}`);
  }
}

/** The α (finite, ≥ 0, required) and armOffset (integer ≥ 0, default 0) of a UCB scoring op. */
export function scoreOptions(op: string, options: { readonly alpha?: number; readonly armOffset?: number } | undefined): { alpha: number; armOffset: number } {
  const alpha = options?.alpha;
  if (typeof alpha !== 'number') throw new BanditError(`${op}: options.alpha is required`);
  checkFinite(op, 'alpha', alpha);
  if (alpha < 0) throw new BanditError(`${op}: alpha must be ≥ 0, got ${alpha}`);
  const armOffset = options?.armOffset ?? 0;
  if (!Number.isInteger(armOffset) || armOffset < 0) throw new BanditError(`${op}: armOffset must be an integer ≥ 0, got ${armOffset}`);
  return { alpha, armOffset };
}

export function checkWeights(op: string, name: string, w: Float32Array, count: number): void {
  if (!(w instanceof Float32Array)) throw new BanditError(`${op}: ${name} must be a Float32Array`);
  if (w.length !== count) throw new BanditError(`${op}: ${count} rows of x but ${w.length} ${name}`);
  for (let u = 0; u < count; u++) {
    if (!Number.isFinite(w[u]!)) throw new BanditError(`${op}: ${name}[${u}] must be finite, got ${w[u]}`);
  }
}

/**
 * LinUCB scores of one shard of arms: out[i, armOffset + k] = θ_kᵀx + α·sqrt(max(xᵀA⁻¹_k x, 0))
 * with x = x_i (shared) or x_{i, armOffset+k} (`perArm`). A NaN quadratic form gives a NaN score.
 * Other columns of `out` are left as they are, so shards of a model larger than one storage
 * binding write side by side into one score matrix.
 *
 * @example
 * const scores = ucbScores(backend, contexts, aInv, theta, { alpha: 1 });     // B×K
 * ucbScores(backend, contexts, aInv2, theta2, { alpha: 1, out: all, armOffset: 5000 }); // second shard
 */
export function ucbScores(backend: Backend, x: Tensor, aInv: Tensor, theta: Tensor, options: UcbScoresOptions): Tensor {
  const op = 'ucbScores';
  checkTensor(backend, x, 'x', op);
  checkTensor(backend, aInv, 'aInv', op);
  checkTensor(backend, theta, 'theta', op);
  const { alpha, armOffset } = scoreOptions(op, options);
  const { batch: arms, d } = squareMatrices(aInv, 'aInv', op);
  checkVectors(theta, 'theta', op, arms, d);
  const perArm = options.perArm ?? false;
  const needArms = armOffset + arms;
  let xArms = 0;
  if (perArm) {
    if (x.shape.length !== 3 || x.shape[2] !== d || x.shape[1]! < needArms) {
      throw new BanditError(`${op}: with perArm, x must be B×Ktotal×${d} with Ktotal ≥ ${needArms} (armOffset ${armOffset} + ${arms} arms), got [${x.shape.join(', ')}]`);
    }
    xArms = x.shape[1]!;
  } else if (x.shape.length !== 2 || x.shape[1] !== d) {
    throw new BanditError(`${op}: x must be B×${d}, got [${x.shape.join(', ')}]`);
  }
  const rows = x.shape[0]!;
  let out = options.out;
  if (out) {
    checkTensor(backend, out, 'out', op);
    checkDistinct(op, ['out', out], ['x', x], ['aInv', aInv], ['theta', theta]);
    if (out.shape.length !== 2 || out.shape[0] !== rows || out.shape[1]! < needArms) {
      throw new BanditError(`${op}: out must be ${rows}×Ktotal with Ktotal ≥ ${needArms} (armOffset ${armOffset} + ${arms} arms), got [${out.shape.join(', ')}]`);
    }
    if (perArm && out.shape[1] !== xArms) {
      throw new BanditError(`${op}: out has ${out.shape[1]} columns but the per-arm x has ${xArms} arms`);
    }
  } else {
    if (armOffset > 0) throw new BanditError(`${op}: out is required when armOffset > 0`);
    out = backend.zeros([rows, arms], { label: 'ucbScores out' });
  }
  const args: UcbScoresArgs = { x, aInv, theta, out, rows, arms, d, perArm, xArms, outCols: out.shape[1]!, armOffset, alpha };
  backend.ops.ucbScores(args);
  return out;
}

/**
 * b[arms[u]] += weights[u]·x_u for every row u of x, in order (several rows of one arm add up in
 * call order). For LinUCB: b_k += r·x.
 *
 * @example
 * scatterAddScaled(backend, b, contexts, new Int32Array([3, 0, 3]), new Float32Array([1, 0, 0.5]));
 */
export function scatterAddScaled(backend: Backend, b: Tensor, x: Tensor, arms: Int32Array, weights: Float32Array): void {
  const op = 'scatterAddScaled';
  checkTensor(backend, b, 'b', op);
  checkTensor(backend, x, 'x', op);
  checkDistinct(op, ['b', b], ['x', x]);
  const B = asVectors(b, 'b', op);
  const d = B.len;
  if (x.shape.length !== 2 || x.shape[1] !== d) throw new BanditError(`${op}: x must be U×${d}, got [${x.shape.join(', ')}]`);
  const count = x.shape[0]!;
  checkArms(op, arms, count, B.batch);
  checkWeights(op, 'weights', weights, count);
  const args: ScatterAddArgs = { b, x, arms, weights, count, d, vectors: B.batch };
  backend.ops.scatterAddScaled(args);
}

/**
 * out_k = M_k v_k for the arms listed (duplicates count once); other rows of `out` are left as
 * they are. For LinUCB: θ_k = A⁻¹_k b_k for the arms an update touched.
 *
 * @example
 * gatherMatVec(backend, aInv, b, theta, arms);
 */
export function gatherMatVec(backend: Backend, m: Tensor, v: Tensor, out: Tensor, arms: Int32Array): void {
  const op = 'gatherMatVec';
  checkTensor(backend, m, 'm', op);
  checkTensor(backend, v, 'v', op);
  checkTensor(backend, out, 'out', op);
  checkDistinct(op, ['out', out], ['m', m], ['v', v]);
  const { batch: matrices, d } = squareMatrices(m, 'm', op);
  checkVectors(v, 'v', op, matrices, d);
  checkVectors(out, 'out', op, matrices, d);
  checkArms(op, arms, arms instanceof Int32Array ? arms.length : 0, matrices);
  const args: GatherMatVecArgs = { m, v, out, arms, d, matrices };
  backend.ops.gatherMatVec(args);
}

export interface DiscountOptions {
  /** Discount a step, 0 < γ ≤ 1 (1: no forgetting). */
  readonly gamma: number;
  /** Regularisation restored each step, λ > 0. */
  readonly lambda: number;
}

/**
 * Discounted LinUCB update (Russac et al. 2019) with the regularisation restored each step: the
 * U rows are U consecutive steps; at every step every arm decays, A_k ← γA_k + (1−γ)λI,
 * b_k ← γb_k, then that step's arm adds x xᵀ to A and r·x to b. Arms not played decay by γ^U.
 * An arm index of -1 is a step that plays none of these arms (of another shard of the model):
 * everything only decays. The caller then recomputes A⁻¹ (spdInverse) and θ (matVec).
 *
 * @example
 * discountedUpdate(backend, a, b, contexts, arms, rewards, { gamma: 0.99, lambda: 1 });
 */
export function discountedUpdate(
  backend: Backend, a: Tensor, b: Tensor, x: Tensor, arms: Int32Array, rewards: Float32Array, options: DiscountOptions,
): void {
  const op = 'discountedUpdate';
  checkTensor(backend, a, 'a', op);
  checkTensor(backend, b, 'b', op);
  checkTensor(backend, x, 'x', op);
  checkDistinct(op, ['a', a], ['b', b], ['x', x]);
  const gamma = options?.gamma, lambda = options?.lambda;
  if (typeof gamma !== 'number' || !(gamma > 0 && gamma <= 1)) throw new BanditError(`${op}: gamma must be in (0, 1], got ${gamma}`);
  if (typeof lambda !== 'number' || !Number.isFinite(lambda) || !(lambda > 0)) {
    throw new BanditError(`${op}: lambda must be finite and > 0, got ${lambda}`);
  }
  const { batch: matrices, d } = squareMatrices(a, 'a', op);
  checkVectors(b, 'b', op, matrices, d);
  if (x.shape.length !== 2 || x.shape[1] !== d) throw new BanditError(`${op}: x must be U×${d}, got [${x.shape.join(', ')}]`);
  const count = x.shape[0]!;
  checkArms(op, arms, count, matrices, true);
  checkWeights(op, 'rewards', rewards, count);
  const args: DiscountedUpdateArgs = { a, b, x, arms, rewards, count, d, matrices, gamma, lambda };
  backend.ops.discountedUpdate(args);
}

/**
 * drift_k = ‖A_k·A⁻¹_k − I‖∞ (the largest absolute row sum), a new K-vector: how far the kept
 * inverse has drifted from the inverse of the kept A, to decide when to re-factorise.
 *
 * @example
 * const drift = inverseDrift(backend, a, aInv);
 * if (Math.max(...(await backend.read(drift))) > 1e-3) aInv = spdInverse(backend, a).result;
 */
export function inverseDrift(backend: Backend, a: Tensor, aInv: Tensor): Tensor {
  const op = 'inverseDrift';
  checkTensor(backend, a, 'a', op);
  checkTensor(backend, aInv, 'aInv', op);
  const A = squareMatrices(a, 'a', op);
  const N = squareMatrices(aInv, 'aInv', op);
  if (A.batch !== N.batch || A.d !== N.d) {
    throw new BanditError(`${op}: a is ${A.batch}×${A.d}×${A.d} but aInv is ${N.batch}×${N.d}×${N.d}`);
  }
  const out = backend.zeros([A.batch], { label: 'inverseDrift out' });
  const args: DriftArgs = { a, aInv, out, matrices: A.batch, d: A.d };
  backend.ops.inverseDrift(args);
  return out;
}

/**
 * g decay steps at once: [γ^g, (1 − γ^g)·λ] in float64. 1 − γ^g goes through expm1/log1p so it
 * keeps its relative accuracy when γ is near 1; +0 (not −0) at γ = 1.
 */
export function decayFactors(gamma: number, lambda: number, g: number): [number, number] {
  return [Math.pow(gamma, g), (0 - Math.expm1(g * Math.log1p(gamma - 1))) * lambda];
}

// ---------------------------------------------------------------------------------------------
// WebGPU implementations.

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

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [
  ...UCB_VEC4.values(), ...UCB_SCALAR.values(), SCATTER_KERNEL, GATHER_KERNEL, GATHER_VEC4_KERNEL,
  DISCOUNT_A_KERNEL, DISCOUNT_A_VEC4_KERNEL, DISCOUNT_B_KERNEL, DRIFT_VEC4_KERNEL, DRIFT_SCALAR_KERNEL,
];
