export { createBackend, type CreateBackendOptions } from './backend.js';
export { BanditError, BackendError } from './core/errors.js';
export type { AdapterDescription } from './gpu/device.js';
export { Tensor } from './core/op-args.js';
export type { Backend, BackendInfo, DType, HostArray, TensorOptions } from './core/op-args.js';
export { gemm, matVec, type GemmOptions, type MatVecOptions } from './ops/gemm.js';
export { quadForm, type QuadFormOptions } from './ops/quadform.js';
export { shermanMorrisonUpdate, symRank1Update } from './ops/rank1.js';
export { rowArgmax } from './ops/argmax.js';
export { cholesky, spdInverse, MAX_FACTOR_DIM, type Factorisation } from './ops/cholesky.js';
export { axpy, scale } from './ops/elementwise.js';
export {
  ucbScores, scatterAddScaled, gatherMatVec, discountedUpdate, inverseDrift,
  type UcbScoresOptions, type DiscountOptions,
} from './ops/linucb.js';
export {
  mlpLayout, mlpForward, perArmGradients, diagonalBonus, kPassGradients,
  type MlpShape, type MlpLayout, type MlpLayer, type MlpForwardOptions, type MlpForwardResult, type MlpGradientOptions,
} from './ops/mlp.js';
export { LinUCB, type LinUCBOptions, type LinUCBDiagnostics } from './linucb/linucb.js';
export {
  hybridScores, hybridArmUpdate, scatterOuterAdd,
  type HybridScoresOptions, type HybridArmTensors, type HybridSharedTensors, type HybridInverses, type HybridUpdateRows,
} from './ops/hybrid.js';
export {
  HybridLinUCB, type HybridLinUCBOptions, type HybridLinUCBDiagnostics, type HybridContexts,
} from './linucb/hybrid.js';
export { confidenceScores, accumulateSquares } from './ops/confidence.js';
export { NeuralUCB, type NeuralUCBOptions, type NeuralUCBDiagnostics } from './neural/neuralucb.js';
export { Random } from './core/random.js';
export {
  mlpLossGradient, optimizerStep, gatherRows, scatterAddRows,
  type MlpLoss, type MlpLossOptions, type OptimizerStepOptions, type AdamState, type GatherRowsOptions, type ScatterAddRowsOptions,
} from './ops/mlp-train.js';
export { EcommerceSimulator, type EcommerceSimulatorOptions, type MarketShockOptions, type ResolvedSimulatorOptions, type SimBatch } from './sim/simulator.js';
export { FeatureBatch, armFeatureDim, hybridSharedDim, playedArmFeatures, type DecisionBatch, type FeatureShape } from './sim/batch.js';
export {
  runHeadToHead, recoveryTime, randomPolicy, oraclePolicy, linUCBPolicy, discountedLinUCBPolicy, hybridLinUCBPolicy, standardPolicies,
  DEFAULT_POLICY_ALPHA, DEFAULT_DISCOUNT_GAMMA,
  type Policy, type RoundSnapshot, type HeadToHeadOptions, type HeadToHeadResult, type PolicyMetrics, type LinUCBPolicyOptions, type HybridLinUCBPolicyOptions,
} from './sim/headtohead.js';
export {
  neuralUCBPolicy, embeddingMLPPolicy, neuralUCBPolicyFor, embeddingMLPPolicyFor, interactionsOf,
  DEFAULT_NEURAL_POLICY_OPTIONS, DEFAULT_EMBEDDING_TRAINING,
  type NeuralUCBModel, type EmbeddingMLPModel, type NeuralUCBPolicyOptions, type EmbeddingMLPPolicyOptions,
} from './sim/policies-extra.js';
export {
  ALGORITHMS, ALGORITHM_DESCRIPTIONS, resolveScenario, scenarioSimulator, defaultPolicies, runScenario,
  type AlgorithmKey, type ScenarioOptions, type Scenario, type ScenarioHooks, type ScenarioRun,
} from './sim/scenario.js';
export {
  lineChartSvg, resultCharts, resultRows, formatResultTable, reportHtml, seriesColor, escapeHtml, RESULT_COLUMNS,
  type LineSeries, type LineChartOptions, type ReportContext,
} from './sim/report.js';
export {
  replayEvaluate, ipsEstimate, snipsEstimate, logBatch, checkLog,
  type BanditLog, type EstimatorInput, type ReplayOptions, type ReplayResult,
} from './sim/replay.js';
export { parseObd, type ObdLog, type ObdOptions } from './sim/obd.js';
export {
  EmbeddingMLP, type EmbeddingMLPOptions, type InteractionLog, type FitOptions, type EmbeddingMLPGradients,
} from './neural/embedding-mlp.js';
