import { BanditError } from '../core/errors.js';
import { asMatrices, asVectors, checkTensors } from '../core/check.js';
import { accumulator, type AccumulateOptions } from './accumulate.js';
import type { GemmArgs, MatVecArgs } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

export interface GemmOptions extends AccumulateOptions {
  readonly transA?: boolean;
  readonly transB?: boolean;
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
  checkTensors(backend, op, { a, b });
  const transA = options.transA ?? false, transB = options.transB ?? false;
  const A = asMatrices(a, 'a', op), B = asMatrices(b, 'b', op);
  const m = transA ? A.cols : A.rows, k = transA ? A.rows : A.cols;
  const kb = transB ? B.cols : B.rows, n = transB ? B.rows : B.cols;
  if (k !== kb) throw new BanditError(`gemm: inner sizes differ: op(a) is ${m}×${k}, op(b) is ${kb}×${n}`);
  const { out: c, alpha, beta, batch } = accumulator(backend, op, options.alpha, {
    name: 'c', given: options.c, beta: options.beta, batches: [['a', A.batch], ['b', B.batch]], distinct: [['a', a], ['b', b]],
    batchOf: (c) => {
      const C = asMatrices(c, 'c', op);
      if (C.rows !== m || C.cols !== n) throw new BanditError(`gemm: c is ${C.rows}×${C.cols}, expected ${m}×${n}`);
      return C.batch;
    },
    shape: (batch) => (a.shape.length === 3 || b.shape.length === 3 ? [batch, m, n] : [m, n]),
  });
  const args: GemmArgs = {
    a, b, c, batch, m, n, k, transA, transB, alpha, beta,
    strideA: A.batch === 1 ? 0 : m * k, strideB: B.batch === 1 ? 0 : k * n, strideC: m * n,
  };
  backend.ops.gemm(args);
  return c;
}

export interface MatVecOptions extends AccumulateOptions {
  /** y = op(A)·x with op(A) = Aᵀ. */
  readonly trans?: boolean;
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
  checkTensors(backend, op, { a, x });
  const trans = options.trans ?? false;
  const A = asMatrices(a, 'a', op), X = asVectors(x, 'x', op);
  const inLen = trans ? A.rows : A.cols, outLen = trans ? A.cols : A.rows;
  if (X.len !== inLen) throw new BanditError(`matVec: x has length ${X.len}, op(a) has ${inLen} columns`);
  const { out: y, alpha, beta, batch } = accumulator(backend, op, options.alpha, {
    name: 'y', given: options.y, beta: options.beta, batches: [['a', A.batch], ['x', X.batch]], distinct: [['x', x]],
    batchOf: (y) => {
      const Y = asVectors(y, 'y', op);
      if (Y.len !== outLen) throw new BanditError(`matVec: y has length ${Y.len}, expected ${outLen}`);
      return Y.batch;
    },
    shape: (batch) => (a.shape.length === 3 || x.shape.length === 2 ? [batch, outLen] : [outLen]),
  });
  const args: MatVecArgs = {
    a, x, y, batch, rows: A.rows, cols: A.cols, trans, alpha, beta,
    strideA: A.batch === 1 ? 0 : A.rows * A.cols, strideX: X.batch === 1 ? 0 : X.len, strideY: outLen,
  };
  backend.ops.matVec(args);
  return y;
}
