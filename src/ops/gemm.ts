import { BanditError } from '../core/errors.js';
import { asMatrices, asVectors, broadcastBatch, checkFiniteNumber, checkTensor } from '../core/check.js';
import type { GemmArgs, MatVecArgs } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

export interface GemmOptions {
  readonly transA?: boolean;
  readonly transB?: boolean;
  readonly alpha?: number;
  /** Weight of the existing `c`; ignored (c is not read) when 0 or when no `c` is given. */
  readonly beta?: number;
  /** Output, updated in place: c ← α·op(A)·op(B) + β·c. */
  readonly c?: Tensor;
}

/**
 * Batched GEMM: C_b ← α·op(A_b)·op(B_b) + β·C_b with op(X) = X or Xᵀ. A and B are m×k / k×n
 * after op, rank 2 or rank 3 (batch first); a batch of one broadcasts over the other side.
 *
 * @example
 * const c = gemm(backend, a, b, { transB: true });   // c = a·bᵀ
 * gemm(backend, a, b, { c, alpha: 2, beta: 1 });     // c += 2·a·b
 */
export function gemm(backend: Backend, a: Tensor, b: Tensor, options: GemmOptions = {}): Tensor {
  const op = 'gemm';
  checkTensor(backend, a, 'a', op);
  checkTensor(backend, b, 'b', op);
  const transA = options.transA ?? false, transB = options.transB ?? false;
  const alpha = options.alpha ?? 1;
  checkFiniteNumber(op, 'alpha', alpha);
  const A = asMatrices(a, 'a', op), B = asMatrices(b, 'b', op);
  const m = transA ? A.cols : A.rows, k = transA ? A.rows : A.cols;
  const kb = transB ? B.cols : B.rows, n = transB ? B.rows : B.cols;
  if (k !== kb) throw new BanditError(`gemm: inner sizes differ: op(a) is ${m}×${k}, op(b) is ${kb}×${n}`);
  let batch = broadcastBatch(op, ['a', A.batch], ['b', B.batch]);
  let c = options.c;
  let beta = 0;
  if (c) {
    checkTensor(backend, c, 'c', op);
    const C = asMatrices(c, 'c', op);
    if (C.rows !== m || C.cols !== n) throw new BanditError(`gemm: c is ${C.rows}×${C.cols}, expected ${m}×${n}`);
    if (C.batch < batch) throw new BanditError(`gemm: c has batch ${C.batch}, expected ${batch}`);
    batch = broadcastBatch(op, ['a', A.batch], ['b', B.batch], ['c', C.batch]);
    if (c === a || c === b) throw new BanditError('gemm: c must not be a or b');
    beta = options.beta ?? 0;
    checkFiniteNumber(op, 'beta', beta);
  } else {
    c = backend.zeros(a.shape.length === 3 || b.shape.length === 3 ? [batch, m, n] : [m, n], { label: 'gemm out' });
  }
  const args: GemmArgs = {
    a, b, c, batch, m, n, k, transA, transB, alpha, beta,
    strideA: A.batch === 1 ? 0 : m * k, strideB: B.batch === 1 ? 0 : k * n, strideC: m * n,
  };
  backend.ops.gemm(args);
  return c;
}

export interface MatVecOptions {
  /** y = op(A)·x with op(A) = Aᵀ. */
  readonly trans?: boolean;
  readonly alpha?: number;
  readonly beta?: number;
  /** Output, updated in place: y ← α·op(A)·x + β·y. */
  readonly y?: Tensor;
}

/**
 * Batched matrix–vector product: y_b ← α·op(A_b)·x_b + β·y_b. A: batch×rows×cols (or rows×cols,
 * broadcast); x: batch×len (or len, broadcast).
 *
 * @example
 * const theta = matVec(backend, aInv, b);   // θ_k = A_k⁻¹ b_k for every arm k
 */
export function matVec(backend: Backend, a: Tensor, x: Tensor, options: MatVecOptions = {}): Tensor {
  const op = 'matVec';
  checkTensor(backend, a, 'a', op);
  checkTensor(backend, x, 'x', op);
  const trans = options.trans ?? false;
  const alpha = options.alpha ?? 1;
  checkFiniteNumber(op, 'alpha', alpha);
  const A = asMatrices(a, 'a', op), X = asVectors(x, 'x', op);
  const inLen = trans ? A.rows : A.cols, outLen = trans ? A.cols : A.rows;
  if (X.len !== inLen) throw new BanditError(`matVec: x has length ${X.len}, op(a) has ${inLen} columns`);
  let batch = broadcastBatch(op, ['a', A.batch], ['x', X.batch]);
  let y = options.y;
  let beta = 0;
  if (y) {
    checkTensor(backend, y, 'y', op);
    const Y = asVectors(y, 'y', op);
    if (Y.len !== outLen) throw new BanditError(`matVec: y has length ${Y.len}, expected ${outLen}`);
    if (Y.batch < batch) throw new BanditError(`matVec: y has batch ${Y.batch}, expected ${batch}`);
    batch = broadcastBatch(op, ['a', A.batch], ['x', X.batch], ['y', Y.batch]);
    if (y === x) throw new BanditError('matVec: y must not be x');
    beta = options.beta ?? 0;
    checkFiniteNumber(op, 'beta', beta);
  } else {
    y = backend.zeros(a.shape.length === 3 || x.shape.length === 2 ? [batch, outLen] : [outLen], { label: 'matVec out' });
  }
  const args: MatVecArgs = {
    a, x, y, batch, rows: A.rows, cols: A.cols, trans, alpha, beta,
    strideA: A.batch === 1 ? 0 : A.rows * A.cols, strideX: X.batch === 1 ? 0 : X.len, strideY: outLen,
  };
  backend.ops.matVec(args);
  return y;
}
