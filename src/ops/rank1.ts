import { BanditError } from '../core/errors.js';
import { asMatrices, checkFiniteNumber, checkTensor } from '../core/check.js';
import type { Rank1Args } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

function rank1Args(backend: Backend, op: string, mats: Tensor, x: Tensor, arms: Int32Array, alpha: number): Rank1Args {
  checkTensor(backend, mats, 'mats', op);
  checkTensor(backend, x, 'x', op);
  checkFiniteNumber(op, 'alpha', alpha);
  const M = asMatrices(mats, 'mats', op);
  if (M.rows !== M.cols) throw new BanditError(`${op}: mats must hold square matrices, got ${M.rows}×${M.cols}`);
  const d = M.rows;
  if (x.shape.length !== 2 || x.shape[1] !== d) throw new BanditError(`${op}: x must be U×${d}, got [${x.shape.join(', ')}]`);
  if (!(arms instanceof Int32Array)) throw new BanditError(`${op}: arms must be an Int32Array`);
  if (x === mats) throw new BanditError(`${op}: x and mats must be different tensors`);
  const count = x.shape[0]!;
  if (arms.length !== count) throw new BanditError(`${op}: ${count} vectors but ${arms.length} arm indices`);
  for (let u = 0; u < count; u++) {
    const k = arms[u]!;
    if (k < 0 || k >= M.batch) throw new BanditError(`${op}: arms[${u}] = ${k} is out of range 0..${M.batch - 1}`);
  }
  return { mats, x, arms, count, d, matrices: M.batch, alpha };
}

/**
 * Sherman–Morrison rank-1 updates of inverses, for every (arm, x) pair in order:
 * M_k ← M_k − (M_k x)(M_k x)ᵀ / (1 + xᵀ M_k x), i.e. (M_k⁻¹ + x xᵀ)⁻¹ for symmetric M_k.
 * Updates of different arms run in parallel; several of one arm apply one after another.
 *
 * @example
 * shermanMorrisonUpdate(backend, aInv, contexts, new Int32Array([3, 0, 3]));
 */
export function shermanMorrisonUpdate(backend: Backend, mats: Tensor, x: Tensor, arms: Int32Array): void {
  backend.ops.shermanMorrison(rank1Args(backend, 'shermanMorrisonUpdate', mats, x, arms, 1));
}

/**
 * Symmetric rank-1 updates M_k ← M_k + α·x xᵀ for every (arm, x) pair, in order.
 *
 * @example
 * symRank1Update(backend, a, contexts, arms);        // A_k += x xᵀ beside the inverse
 */
export function symRank1Update(backend: Backend, mats: Tensor, x: Tensor, arms: Int32Array, alpha = 1): void {
  backend.ops.symRank1(rank1Args(backend, 'symRank1Update', mats, x, arms, alpha));
}
