import { BackendError, BanditError } from '../errors.js';
import type { GpuRuntime, KernelDescriptor } from '../gpu/runtime.js';
import { asMatrices, checkTensor } from './check.js';
import type { Backend, FactorArgs, Tensor } from './types.js';

/** Largest matrix side the batched factorisations accept (one workgroup a matrix). */
export const MAX_FACTOR_DIM = 256;

/** A batched factorisation's result; `status[b]` is 0, or j+1 when pivot j of matrix b was not positive. */
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
 * Batched inverse of symmetric positive definite matrices through Cholesky (d ≤ 256).
 * `result` holds A⁻¹ (NaN throughout where the matrix is not SPD; see `status`).
 *
 * @example
 * const { result: aInv } = spdInverse(backend, a);     // re-factorise drifted inverses
 */
export function spdInverse(backend: Backend, a: Tensor): Factorisation {
  const args = factorArgs(backend, 'spdInverse', a);
  backend.ops.spdInverse(args);
  return { result: args.out, status: args.status };
}

export function choleskyWebGpu(_rt: GpuRuntime, _a: FactorArgs): void {
  throw new BackendError('cholesky: not implemented on webgpu yet');
}

export function spdInverseWebGpu(_rt: GpuRuntime, _a: FactorArgs): void {
  throw new BackendError('spdInverse: not implemented on webgpu yet');
}

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [];
