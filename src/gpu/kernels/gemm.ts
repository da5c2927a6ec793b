import source from '../../../shaders/gemm.wgsl';
import { params, type GpuRuntime, type KernelDescriptor } from '../runtime.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { GemmArgs, MatVecArgs } from '../../core/op-args.js';

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

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'gemm' | 'matVec'> = {
  ops: { gemm: gemmWebGpu, matVec: matVecWebGpu },
  kernels: [
    ...GEMM_VEC4_KERNELS, GEMM_SCALAR_KERNEL,
    MATVEC_ROWS_VEC4_KERNEL, MATVEC_COLS_VEC4_KERNEL, ...MATVEC_SCALAR_KERNELS,
  ],
};
