// 'webgpu-bandits/sim': the e-commerce simulator, the policies, the head-to-head, its scenarios
// and report. The types a policy is written in (Policy, DecisionBatch, FeatureShape, BanditLog)
// belong to the evaluation layer below ('webgpu-bandits/eval', which replay shares) and are
// re-exported here so a policy can be written against this entry alone.
export { Random } from '../core/random.js';
export type { Policy, PolicyDecision } from '../eval/policy.js';
export type { BanditLog } from '../eval/log.js';
export { FeatureBatch, armFeatureDim, hybridSharedDim, playedArmFeatures, type DecisionBatch, type FeatureShape } from '../eval/batch.js';
export { EcommerceSimulator, type SimBatch } from './simulator.js';
export type { EcommerceSimulatorOptions, MarketShockOptions, NewCollectionOptions, StockOutOptions, ResolvedSimulatorOptions } from './simulator-options.js';
export { newItemShare, type NewItemShare } from './fair-share.js';
export { eligibleOption } from './policies/catalogue.js';
export { loggedPropensity, LogRecorder, type PolicyLog } from './logging.js';
export {
  runHeadToHead, logPolicy, recoveryTime, type RoundSnapshot, type HeadToHeadOptions, type HeadToHeadResult, type PolicyMetrics,
} from './headtohead.js';
export { randomPolicy } from './policies/random.js';
export { oraclePolicy } from './policies/oracle.js';
export {
  linUCBPolicy, discountedLinUCBPolicy, DEFAULT_POLICY_ALPHA, DEFAULT_DISCOUNT_GAMMA, type LinUCBPolicyOptions,
} from './policies/linucb.js';
export { hybridLinUCBPolicy, type HybridLinUCBPolicyOptions } from './policies/hybrid.js';
export {
  epsilonGreedyLinUCBPolicy, squareCBLinUCBPolicy, DEFAULT_EPSILON, DEFAULT_SQUARECB_GAMMA, type ExploringLinUCBPolicyOptions,
} from './policies/exploring.js';
export { linTSPolicy, DEFAULT_LINTS_V, DEFAULT_TARGET_DRAWS, type LinTSPolicyOptions } from './policies/lints.js';
export { neuralTSPolicyFor, DEFAULT_NEURALTS_NU, type NeuralTSPolicyOptions } from './policies/neuralts.js';
export {
  neuralUCBPolicy, neuralUCBPolicyFor, DEFAULT_NEURAL_POLICY_OPTIONS, type NeuralUCBModel, type NeuralUCBPolicyOptions,
} from './policies/neuralucb.js';
export {
  embeddingMLPPolicy, embeddingMLPPolicyFor, interactionsOf, DEFAULT_EMBEDDING_TRAINING,
  type EmbeddingMLPModel, type EmbeddingMLPPolicyOptions,
} from './policies/embedding-mlp.js';
export { standardPolicies } from './policies/standard.js';
export {
  ALGORITHMS, DEFAULT_ALGORITHMS, ALGORITHM_DESCRIPTIONS, resolveScenario, scenarioSimulator, defaultPolicies, runScenario,
  type AlgorithmKey, type ScenarioOptions, type Scenario, type ScenarioHooks, type ScenarioRun, type TrainedModels,
} from './scenario.js';
export {
  lineChartSvg, resultCharts, resultRows, formatResultTable, reportHtml, scenarioRunJson, seriesColor, escapeHtml, RESULT_COLUMNS, REPORT_STYLE,
  settingsTable, scenarioSettings,
  type LineSeries, type LineChartOptions, type ReportContext,
} from './report.js';
export {
  evaluateOffPolicy, OFF_POLICY_TARGETS, DEFAULT_OFF_POLICY_TARGETS, OFF_POLICY_ESTIMATORS,
  type OffPolicyOptions, type OffPolicyReport, type OffPolicyTargetResult, type OffPolicyEstimate, type OffPolicyEstimator,
  type OffPolicyTargetKey, type OffPolicyTargetKind, type OffPolicyTargetSpec, type OffPolicyComparison, type OffPolicyDistribution, type OffPolicyMakeOptions,
} from './off-policy.js';
export { formatOffPolicyTable, offPolicyMarkdown, offPolicyReading, estimatorLabel, type OffPolicyReportContext } from './off-policy-report.js';
export {
  runSeeds, summarizeSeeds, seedLoop, SEED_METRICS, COMPARED_METRICS, REFERENCE_ALGORITHMS,
  type SeedsOptions, type SeedLoop, type NewItemsOverSeeds, type SeedsHooks, type MultiSeedRun, type SeedsPolicy, type CurveBand, type PairComparison, type SeedMetric, type ComparedMetric,
} from './seeds.js';
export {
  runDelaySweep, CATALOGUE_SCENARIO, DEFAULT_DELAYS, type DelaySweepOptions, type DelaySweepRun, type DelaySweepHooks, type DelayEffect,
} from './delay-sweep.js';
export { formatDelaySweep, delaySweepHtml, delaySweepJson, delaySweepRows, delaySweepCharts } from './delay-sweep-report.js';
export { seedsSentence, seedsRows, seedsCharts, seedsReportHtml, seedsRunJson, significantPairs, formatSeedsSummary, SEEDS_COLUMNS } from './seeds-report.js';
export { meanInterval, pairedTTest, holm, studentTQuantile, studentTTwoSided, regularizedBeta, type MeanInterval, type PairedTest } from './stats.js';
export { ProgressText, type ProgressSink } from './progress.js';
