import { HostBackend } from '../core/host-backend.js';
import { checkCopy, checkShape, type CopyRegion } from '../core/check.js';
import { CpuTensor } from './tensor.js';
import type { OpImpls } from '../core/op-args.js';
import type { Tensor, HostArray, TensorOptions } from '../core/tensor.js';
import type { AutoRole, Backend, BackendInfo } from '../core/backend.js';
import { axpyF64, scaleF64 } from './elementwise.js';
import { gemmF64, matVecF64 } from './gemm.js';
import { quadFormF64 } from './quadform.js';
import { shermanMorrisonF64, symRank1F64 } from './rank1.js';
import { rowArgmaxF64 } from './argmax.js';
import { choleskyF64, spdInverseF64 } from './cholesky.js';
import { hybridArmUpdateF64, hybridScoresF64, scatterOuterAddF64 } from './hybrid.js';
import { accumulateSquaresF64, confidenceScoresF64 } from './confidence.js';
import { gatherRowsF64, mlpLossGradientF64, optimizerStepF64, scatterAddRowsF64 } from './mlp-train.js';
import { mlpDiagonalBonusF64, mlpForwardF64, mlpJacobianF64, mlpKPassJacobianF64 } from './mlp.js';
import { discountedUpdateF64, gatherMatVecF64, inverseDriftF64, scatterAddScaledF64, ucbScoresF64 } from './linucb.js';
import { accumulateOuterF64, accurateResidualF64, addAccurateF64, refineSolveF64 } from './accurate.js';
import { posteriorDrawsF64, sampleArmsF64, sampleScoresF64, thompsonPropensitiesF64 } from './explore.js';

/** Every op in float64: the cpu backend's table, and what the wasm backend's twin adapter runs (src/wasm/twin.ts). */
export const CPU_OPS = {
  gemm: gemmF64,
  matVec: matVecF64,
  quadForm: quadFormF64,
  shermanMorrison: shermanMorrisonF64,
  symRank1: symRank1F64,
  rowArgmax: rowArgmaxF64,
  cholesky: choleskyF64,
  spdInverse: spdInverseF64,
  axpy: axpyF64,
  scale: scaleF64,
  ucbScores: ucbScoresF64,
  scatterAddScaled: scatterAddScaledF64,
  gatherMatVec: gatherMatVecF64,
  discountedUpdate: discountedUpdateF64,
  inverseDrift: inverseDriftF64,
  accumulateOuter: accumulateOuterF64,
  accurateResidual: accurateResidualF64,
  addAccurate: addAccurateF64,
  refineSolve: refineSolveF64,
  hybridScores: hybridScoresF64,
  hybridArmUpdate: hybridArmUpdateF64,
  scatterOuterAdd: scatterOuterAddF64,
  mlpForward: mlpForwardF64,
  mlpJacobian: mlpJacobianF64,
  mlpKPassJacobian: mlpKPassJacobianF64,
  mlpDiagonalBonus: mlpDiagonalBonusF64,
  mlpLossGradient: mlpLossGradientF64,
  optimizerStep: optimizerStepF64,
  gatherRows: gatherRowsF64,
  scatterAddRows: scatterAddRowsF64,
  confidenceScores: confidenceScoresF64,
  accumulateSquares: accumulateSquaresF64,
  sampleArms: sampleArmsF64,
  sampleScores: sampleScoresF64,
  thompsonPropensities: thompsonPropensitiesF64,
  posteriorDraws: posteriorDrawsF64,
} satisfies OpImpls;

/**
 * The cpu backend: every op in float64, the oracle the WebGPU kernels are tested against and
 * the fallback where no (fast) adapter exists.
 */
export class CpuBackend extends HostBackend implements Backend {
  readonly kind = 'cpu' as const;
  readonly info: BackendInfo;
  readonly ops = CPU_OPS;
  /** Tensors are host arrays: no binding limit beyond the typed-array length. */
  readonly maxBindingBytes = Number.MAX_SAFE_INTEGER;

  /** `auto`: made by `kind: 'auto'` (its reason is `info.fallbackReason`). */
  constructor(auto?: AutoRole) {
    super(auto);
    this.info = auto
      ? { kind: 'cpu', fallbackReason: auto.reason, placements: auto.placements, summary: `cpu (float64): ${auto.reason}` }
      : { kind: 'cpu', summary: 'cpu (float64)' };
  }

  owns(t: Tensor): boolean {
    return t instanceof CpuTensor && t.owner === this;
  }

  zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    this.live('zeros');
    checkShape(shape, 'tensor');
    return new CpuTensor(this, shape, options);
  }

  protected store(t: Tensor, data: ArrayLike<number>): void {
    const dst = (t as CpuTensor).data;
    for (let i = 0; i < dst.length; i++) dst[i] = data[i]!;
  }

  protected contents(t: Tensor): HostArray {
    return (t as CpuTensor).data.slice();
  }

  copy(src: Tensor, dst: Tensor, region?: CopyRegion): void {
    const r = checkCopy(this, src, dst, region);
    const from = (src as CpuTensor).data;
    (dst as CpuTensor).data.set(from.subarray(r.srcOffset, r.srcOffset + r.count), r.dstOffset);
  }
}
