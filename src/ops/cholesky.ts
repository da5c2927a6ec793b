import { BanditError } from '../core/errors.js';
import { asMatrices, checkTensor } from '../core/check.js';
import type { FactorArgs } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

import { MAX_FACTOR_DIM } from '../core/limits.js';

export { MAX_FACTOR_DIM };

/**
 * A batched factorisation's result. `status[b]` is 0, or j + 1 for the first pivot j of matrix b
 * that is not a normal, finite, positive f32 (≤ 0, NaN, ±Inf, or under 2⁻¹²⁶, which GPUs may
 * flush to zero); `result` is then NaN throughout for that matrix and only that one.
 */
export interface Factorisation {
  readonly result: Tensor;
  readonly status: Tensor;
}

function factorArgs(backend: Backend, op: string, a: Tensor): FactorArgs {
  checkTensor(backend, a, 'a', op);
  const A = asMatrices(a, 'a', op);
  if (A.rows !== A.cols) throw new BanditError(`${op}: a must hold square matrices, got ${A.rows}×${A.cols}`);
  if (A.rows > MAX_FACTOR_DIM) throw new BanditError(`${op}: d = ${A.rows} is over the limit of ${MAX_FACTOR_DIM}`);
  const out = backend.zeros(a.shape, { label: `${op} out` });
  const status = backend.zeros([A.batch], { dtype: 'i32', label: `${op} status` });
  return { a, out, status, batch: A.batch, d: A.rows };
}

/**
 * Batched Cholesky factorisation A_b = L_b L_bᵀ of symmetric positive definite matrices (d ≤ 256).
 * Only the lower triangle (and diagonal) of each A_b is read: the upper one may hold anything.
 * `result` holds L (zeros above the diagonal; NaN throughout where the matrix is not SPD).
 *
 * @example
 * const { result: L, status } = cholesky(backend, a);
 * if ((await backend.read(status)).some((s) => s !== 0)) throw new Error('not SPD');
 */
export function cholesky(backend: Backend, a: Tensor): Factorisation {
  const args = factorArgs(backend, 'cholesky', a);
  backend.ops.cholesky(args);
  return { result: args.out, status: args.status };
}

/**
 * Batched inverse of symmetric positive definite matrices through Cholesky (d ≤ 256):
 * A⁻¹ = L⁻ᵀL⁻¹. Only the lower triangle of each A_b is read. `result` holds A⁻¹, exactly symmetric
 * (each pair (i, j), (j, i) is one computed value), or NaN throughout where the matrix is not SPD
 * (see `status`).
 *
 * @example
 * const { result: aInv } = spdInverse(backend, a);     // re-factorise drifted inverses
 */
export function spdInverse(backend: Backend, a: Tensor): Factorisation {
  const args = factorArgs(backend, 'spdInverse', a);
  backend.ops.spdInverse(args);
  return { result: args.out, status: args.status };
}
