import source from '../../../shaders/gemm.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { GRID, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { GemmArgs, MatVecArgs } from '../../core/op-args.js';

const WG = 64;
/**
 * Rows and columns of C an invocation computes (both paths). 8×8 gave 1.3–1.6× the GFLOP/s per
 * CPU-second of 4×4 on SwiftShader (fewer loads per FMA), and is the usual register tile on GPUs.
 */
const GEMM_TILE = 8;
const code = wgsl(source, GRID);
const GemmParams = uniforms('GemmParams', {
  batch: 'u32', m: 'u32', n: 'u32', k: 'u32', strideA: 'u32', strideB: 'u32', strideC: 'u32', alpha: 'f32', beta: 'f32',
  tilesM: 'u32', tilesN: 'u32', blocked: 'u32', bnLog2: 'u32', blocksN: 'u32', blocksPerMatrix: 'u32',
  aRow: 'u32', aCol: 'u32', bRow: 'u32', bCol: 'u32',
});
const MatVecParams = uniforms('MatVecParams', {
  batch: 'u32', rows: 'u32', cols: 'u32', strideA: 'u32', strideX: 'u32', strideY: 'u32', alpha: 'f32', beta: 'f32',
  outLen: 'u32', groupsPerVector: 'u32',
});

const gemmVec4Kernel = (transA: boolean, transB: boolean) => kernel({
  name: `gemmVec4${transA ? 'TransA' : ''}${transB ? 'TransB' : ''}`,
  source: code,
  entryPoint: 'gemmVec4',
  storage: ['read', 'read', 'rw'],
  workgroupSize: WG,
  constants: { TRANS_A: transA ? 1 : 0, TRANS_B: transB ? 1 : 0 },
  uniforms: GemmParams,
});
/** Indexed by transA + 2·transB. */
const GEMM_VEC4_KERNELS = [gemmVec4Kernel(false, false), gemmVec4Kernel(true, false), gemmVec4Kernel(false, true), gemmVec4Kernel(true, true)] as const;
const GEMM_SCALAR_KERNEL = kernel({
  name: 'gemmScalar', source: code, entryPoint: 'gemmScalar', storage: ['read', 'read', 'rw'], workgroupSize: WG, uniforms: GemmParams,
});
const matVecKernel = (entryPoint: string, name = entryPoint, constants: Readonly<Record<string, number>> = {}) => kernel({
  name, source: code, entryPoint, storage: ['read', 'read', 'rw'], workgroupSize: WG, constants, uniforms: MatVecParams,
});
const MATVEC_ROWS_VEC4_KERNEL = matVecKernel('matVecRowsVec4');
const MATVEC_COLS_VEC4_KERNEL = matVecKernel('matVecColsVec4');
const matVecScalarKernel = (trans: boolean) => matVecKernel('matVecScalar', `matVecScalar${trans ? 'Trans' : ''}`, { TRANS_A: trans ? 1 : 0 });
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
  const program = aligned ? GEMM_VEC4_KERNELS[(transA ? 1 : 0) + (transB ? 2 : 0)]! : GEMM_SCALAR_KERNEL;
  const tilesM = Math.ceil(m / GEMM_TILE), tilesN = Math.ceil(n / GEMM_TILE);
  const layout = gemmLayout(a.batch, tilesM, tilesN);
  const [aRow, aCol] = transA ? [1, m] : [k, 1];
  const [bRow, bCol] = transB ? [1, k] : [n, 1];
  rt.dispatch({
    kernel: program,
    buffers: [bufferOf(a.a), bufferOf(a.b), bufferOf(a.c)],
    params: {
      batch: a.batch, m, n, k, strideA: a.strideA, strideB: a.strideB, strideC: a.strideC, alpha: a.alpha, beta: a.beta,
      tilesM, tilesN, blocked: layout.blocked, bnLog2: layout.bnLog2, blocksN: layout.blocksN, blocksPerMatrix: layout.blocksPerMatrix,
      aRow, aCol, bRow, bCol,
    },
    workgroups: layout.workgroups,
  });
}

export function matVecWebGpu(rt: GpuRuntime, a: MatVecArgs): void {
  const { rows, cols, trans } = a;
  const outLen = trans ? cols : rows;
  const aligned = cols % 4 === 0 && a.strideA % 4 === 0 && a.strideX % 4 === 0 && a.strideY % 4 === 0;
  const program = !aligned
    ? MATVEC_SCALAR_KERNELS[trans ? 1 : 0]!
    : trans ? MATVEC_COLS_VEC4_KERNEL : MATVEC_ROWS_VEC4_KERNEL;
  const groupsPerVector = Math.ceil(outLen / 4);
  rt.dispatch({
    kernel: program,
    buffers: [bufferOf(a.a), bufferOf(a.x), bufferOf(a.y)],
    params: {
      batch: a.batch, rows, cols, strideA: a.strideA, strideX: a.strideX, strideY: a.strideY, alpha: a.alpha, beta: a.beta, outLen, groupsPerVector,
    },
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
