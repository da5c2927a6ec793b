import source from '../../shaders/gemm.wgsl';
import { BanditError } from '../core/errors.js';
import { params, type GpuRuntime, type KernelDescriptor } from '../gpu/runtime.js';
import { asMatrices, asVectors, broadcastBatch, checkFinite, checkTensor } from '../core/check.js';
import { bufferOf } from '../gpu/tensor.js';
import type { Backend, GemmArgs, MatVecArgs, Tensor } from '../core/op-args.js';

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
  checkFinite(op, 'alpha', alpha);
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
    checkFinite(op, 'beta', beta);
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
  checkFinite(op, 'alpha', alpha);
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
    checkFinite(op, 'beta', beta);
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

const WG = 64;
/**
 * Rows and columns of C an invocation computes (both paths). 8×8 gave 1.3–1.6× the GFLOP/s per
 * CPU-second of 4×4 on SwiftShader (fewer loads per FMA), and is the usual register tile on GPUs.
 */
const GEMM_TILE = 8;

const gemmVec4Kernel = (transA: boolean, transB: boolean): KernelDescriptor => ({
  name: `gemmVec4${transA ? 'TransA' : ''}${transB ? 'TransB' : ''}`,
  source,
  entryPoint: 'gemmVec4',
  storage: ['read', 'read', 'rw'],
  workgroupSize: WG,
  constants: { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0 },
});
/** Indexed by transA + 2·transB. */
const GEMM_VEC4_KERNELS = [gemmVec4Kernel(false, false), gemmVec4Kernel(true, false), gemmVec4Kernel(false, true), gemmVec4Kernel(true, true)] as const;
const GEMM_SCALAR_KERNEL: KernelDescriptor = {
  name: 'gemmScalar', source, entryPoint: 'gemmScalar', storage: ['read', 'read', 'rw'], workgroupSize: WG,
};
const MATVEC_ROWS_VEC4_KERNEL: KernelDescriptor = {
  name: 'matVecRowsVec4', source, entryPoint: 'matVecRowsVec4', storage: ['read', 'read', 'rw'], workgroupSize: WG,
};
const MATVEC_COLS_VEC4_KERNEL: KernelDescriptor = {
  name: 'matVecColsVec4', source, entryPoint: 'matVecColsVec4', storage: ['read', 'read', 'rw'], workgroupSize: WG,
};
const matVecScalarKernel = (trans: boolean): KernelDescriptor => ({
  name: `matVecScalar${trans ? 'Trans' : ''}`,
  source,
  entryPoint: 'matVecScalar',
  storage: ['read', 'read', 'rw'],
  workgroupSize: WG,
  constants: { TRANS_A: trans ? 1 : 0 },
});
const MATVEC_SCALAR_KERNELS = [matVecScalarKernel(false), matVecScalarKernel(true)] as const;

const nextPow2 = (v: number): number => 2 ** Math.ceil(Math.log2(Math.max(1, v)));

/**
 * How workgroups map to tiles of C: a block of tiles of one matrix (shared reads, see the shader)
 * when blocks cover the matrix with little waste, else consecutive tiles across the batch.
 */
function gemmLayout(batch: number, tilesM: number, tilesN: number) {
  let bm = 8, bn = 8;
  if (tilesM < bm) bm = nextPow2(tilesM), bn = WG / bm;
  if (tilesN < bn) bn = nextPow2(tilesN), bm = WG / bn;
  const blocksM = Math.ceil(tilesM / bm), blocksN = Math.ceil(tilesN / bn);
  const blockedUse = (tilesM * tilesN) / (blocksM * bm * blocksN * bn);
  if (blockedUse >= 0.75) {
    return { blocked: 1, bnLog2: Math.log2(bn), blocksN, blocksPerMatrix: blocksM * blocksN, workgroups: batch * blocksM * blocksN };
  }
  return { blocked: 0, bnLog2: 0, blocksN: 0, blocksPerMatrix: 0, workgroups: Math.ceil((batch * tilesM * tilesN) / WG) };
}

export function gemmWebGpu(rt: GpuRuntime, a: GemmArgs): void {
  const { m, n, k, transA, transB } = a;
  const aligned =
    n % 4 === 0 && k % 4 === 0 && (!transA || m % 4 === 0) &&
    a.strideA % 4 === 0 && a.strideB % 4 === 0 && a.strideC % 4 === 0;
  const kernel = aligned ? GEMM_VEC4_KERNELS[(transA ? 1 : 0) + (transB ? 2 : 0)]! : GEMM_SCALAR_KERNEL;
  const tilesM = Math.ceil(m / GEMM_TILE), tilesN = Math.ceil(n / GEMM_TILE);
  const layout = gemmLayout(a.batch, tilesM, tilesN);
  const [aRow, aCol] = transA ? [1, m] : [k, 1];
  const [bRow, bCol] = transB ? [1, k] : [n, 1];
  rt.dispatch({
    kernel,
    buffers: [bufferOf(a.a), bufferOf(a.b), bufferOf(a.c)],
    uniforms: params(
      'uuuuuuuffuuuuuuuuuu',
      a.batch, m, n, k, a.strideA, a.strideB, a.strideC, a.alpha, a.beta,
      tilesM, tilesN, layout.blocked, layout.bnLog2, layout.blocksN, layout.blocksPerMatrix,
      aRow, aCol, bRow, bCol,
    ),
    workgroups: layout.workgroups,
  });
}

export function matVecWebGpu(rt: GpuRuntime, a: MatVecArgs): void {
  const { rows, cols, trans } = a;
  const outLen = trans ? cols : rows;
  const aligned = cols % 4 === 0 && a.strideA % 4 === 0 && a.strideX % 4 === 0 && a.strideY % 4 === 0;
  const kernel = !aligned
    ? MATVEC_SCALAR_KERNELS[trans ? 1 : 0]!
    : trans ? MATVEC_COLS_VEC4_KERNEL : MATVEC_ROWS_VEC4_KERNEL;
  const groupsPerVector = Math.ceil(outLen / 4);
  rt.dispatch({
    kernel,
    buffers: [bufferOf(a.a), bufferOf(a.x), bufferOf(a.y)],
    uniforms: params('uuuuuuffuu', a.batch, rows, cols, a.strideA, a.strideX, a.strideY, a.alpha, a.beta, outLen, groupsPerVector),
    workgroups: Math.ceil((a.batch * groupsPerVector) / WG),
  });
}

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [
  ...GEMM_VEC4_KERNELS, GEMM_SCALAR_KERNEL,
  MATVEC_ROWS_VEC4_KERNEL, MATVEC_COLS_VEC4_KERNEL, ...MATVEC_SCALAR_KERNELS,
];
