// 'webgpu-bandits/sim': the e-commerce simulator, the head-to-head, its scenarios and report.
export { Random } from '../core/random.js';
export { EcommerceSimulator, type EcommerceSimulatorOptions, type MarketShockOptions, type ResolvedSimulatorOptions, type SimBatch } from './simulator.js';
export { FeatureBatch, armFeatureDim, hybridSharedDim, playedArmFeatures, type DecisionBatch, type FeatureShape } from './batch.js';
export {
  runHeadToHead, recoveryTime, randomPolicy, oraclePolicy, linUCBPolicy, discountedLinUCBPolicy, hybridLinUCBPolicy, standardPolicies,
  DEFAULT_POLICY_ALPHA, DEFAULT_DISCOUNT_GAMMA,
  type Policy, type RoundSnapshot, type HeadToHeadOptions, type HeadToHeadResult, type PolicyMetrics, type LinUCBPolicyOptions, type HybridLinUCBPolicyOptions,
} from './headtohead.js';
export {
  neuralUCBPolicy, embeddingMLPPolicy, neuralUCBPolicyFor, embeddingMLPPolicyFor, interactionsOf,
  DEFAULT_NEURAL_POLICY_OPTIONS, DEFAULT_EMBEDDING_TRAINING,
  type NeuralUCBModel, type EmbeddingMLPModel, type NeuralUCBPolicyOptions, type EmbeddingMLPPolicyOptions,
} from './policies-extra.js';
export {
  ALGORITHMS, ALGORITHM_DESCRIPTIONS, resolveScenario, scenarioSimulator, defaultPolicies, runScenario,
  type AlgorithmKey, type ScenarioOptions, type Scenario, type ScenarioHooks, type ScenarioRun,
} from './scenario.js';
export {
  lineChartSvg, resultCharts, resultRows, formatResultTable, reportHtml, seriesColor, escapeHtml, RESULT_COLUMNS,
  type LineSeries, type LineChartOptions, type ReportContext,
} from './report.js';
