import { BanditError } from '../core/errors.js';
import {
  isFiniteF32,
  asMatrices, asVectors, checkArmIndices, checkDistinct, checkFiniteNumber, checkTensor, checkTensors, checkVectors, checkWeights, squareMatrices,
} from '../core/check.js';
import type { DiscountedUpdateArgs, DriftArgs, GatherMatVecArgs, ScatterAddArgs, UcbScoresArgs } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

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

/** The α (finite, ≥ 0, required) and armOffset (integer ≥ 0, default 0) of a UCB scoring op. */
export function scoreOptions(op: string, options: { readonly alpha?: number; readonly armOffset?: number } | undefined): { alpha: number; armOffset: number } {
  const alpha = options?.alpha;
  if (typeof alpha !== 'number') throw new BanditError(`${op}: options.alpha is required`);
  checkFiniteNumber(op, 'alpha', alpha);
  if (alpha < 0) throw new BanditError(`${op}: alpha must be ≥ 0, got ${alpha}`);
  const armOffset = options?.armOffset ?? 0;
  if (!Number.isInteger(armOffset) || armOffset < 0) throw new BanditError(`${op}: armOffset must be an integer ≥ 0, got ${armOffset}`);
  return { alpha, armOffset };
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
  checkTensors(backend, op, { x, aInv, theta });
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
  checkTensors(backend, op, { b, x });
  checkDistinct(op, ['b', b], ['x', x]);
  const B = asVectors(b, 'b', op);
  const d = B.len;
  if (x.shape.length !== 2 || x.shape[1] !== d) throw new BanditError(`${op}: x must be U×${d}, got [${x.shape.join(', ')}]`);
  const count = x.shape[0]!;
  checkArmIndices(op, arms, count, B.batch);
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
  checkTensors(backend, op, { m, v, out });
  checkDistinct(op, ['out', out], ['m', m], ['v', v]);
  const { batch: matrices, d } = squareMatrices(m, 'm', op);
  checkVectors(v, 'v', op, matrices, d);
  checkVectors(out, 'out', op, matrices, d);
  checkArmIndices(op, arms, arms instanceof Int32Array ? arms.length : 0, matrices);
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
  checkTensors(backend, op, { a, b, x });
  checkDistinct(op, ['a', a], ['b', b], ['x', x]);
  const gamma = options?.gamma, lambda = options?.lambda;
  if (typeof gamma !== 'number' || !(gamma > 0 && gamma <= 1)) throw new BanditError(`${op}: gamma must be in (0, 1], got ${gamma}`);
  if (!isFiniteF32(lambda) || !(lambda > 0)) {
    throw new BanditError(`${op}: lambda must be finite and > 0, got ${lambda}`);
  }
  const { batch: matrices, d } = squareMatrices(a, 'a', op);
  checkVectors(b, 'b', op, matrices, d);
  if (x.shape.length !== 2 || x.shape[1] !== d) throw new BanditError(`${op}: x must be U×${d}, got [${x.shape.join(', ')}]`);
  const count = x.shape[0]!;
  checkArmIndices(op, arms, count, matrices, true);
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
  checkTensors(backend, op, { a, aInv });
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
