// 'webgpu-bandits/ops': the batched kernels as validated functions over a Backend.
export type { Backend, BackendInfo } from '../core/backend.js';
export { Tensor, type DType, type HostArray, type TensorOptions } from '../core/tensor.js';
export { gemm, matVec, type GemmOptions, type MatVecOptions } from './gemm.js';
export type { AccumulateOptions } from './accumulate.js';
export { quadForm, type QuadFormOptions } from './quadform.js';
export { shermanMorrisonUpdate, symRank1Update } from './rank1.js';
export { rowArgmax } from './argmax.js';
export { cholesky, spdInverse, MAX_FACTOR_DIM, type Factorisation } from './cholesky.js';
export { axpy, scale } from './elementwise.js';
export {
  ucbScores, scatterAddScaled, gatherMatVec, discountedUpdate, inverseDrift,
  type UcbScoresOptions, type DiscountOptions,
} from './linucb.js';
export {
  mlpLayout, mlpForward, perArmGradients, diagonalBonus, kPassGradients,
  type MlpShape, type MlpLayout, type MlpLayer, type MlpForwardOptions, type MlpForwardResult, type MlpGradientOptions,
} from './mlp.js';
export {
  hybridScores, hybridArmUpdate, scatterOuterAdd,
  type HybridScoresOptions, type HybridArmTensors, type HybridSharedTensors, type HybridInverses, type HybridUpdateRows,
} from './hybrid.js';
export { confidenceScores, accumulateSquares } from './confidence.js';
export {
  mlpLossGradient, optimizerStep, gatherRows, scatterAddRows,
  type MlpLoss, type MlpLossOptions, type OptimizerStepOptions, type AdamState, type GatherRowsOptions, type ScatterAddRowsOptions,
} from './mlp-train.js';
export {
  sampleArms, sampleScores, thompsonPropensities, posteriorDraws, decodeSampleStatus, checkSamplingPolicy,
  POLICY_PARAMETER_RANGE, MAX_PROPENSITY_DRAWS,
  type SamplingPolicy, type RandomKey, type SampleArmsOptions, type SampledArms, type SampleStatus, type ThompsonPropensityOptions,
} from './explore.js';
export { accumulateOuter, accurateResidual, addAccurate, refineSolve, type Accurate, type RefineSolveOptions } from './accurate.js';
