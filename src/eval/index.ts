// 'webgpu-bandits/eval': off-policy estimators (Open Bandit Pipeline's definitions) and replay
// evaluation on logged data; the decision batch and Policy types that replay and the simulator share.
export {
  dmEstimate, ipsEstimate, snipsEstimate, drEstimate, sndrEstimate, switchDrEstimate, drosEstimate, ESTIMATOR_NAMES,
  type EstimatorName, type ClippingOptions, type SwitchDrOptions, type DrosOptions, type AnyEstimatorOptions,
} from './estimators.js';
export { DISTRIBUTION_TOLERANCE, type EstimatorInput } from './estimator-input.js';
export {
  bootstrapInterval, bootstrapIntervals, bootstrapMeanInterval, bootstrapDifferences,
  type BootstrapOptions, type BootstrapAllOptions, type BootstrapSettings, type BootstrapInterval, type BootstrapDifference,
  type BootstrapDifferenceOptions,
} from './bootstrap.js';
export { crossFit, foldAssignment, type CrossFitOptions, type CrossFitResult, type RewardLearner } from './cross-fit.js';
export {
  fitRewardModel, ridgeRewardLearner, mlpRewardLearner, REWARD_MODELS,
  type RewardModelKind, type RewardModelOptions, type RidgeRewardOptions, type MlpRewardOptions,
} from './reward-model.js';
export {
  oneHot, uniformTarget, greedyTarget, scoredTarget, decidedTarget, replicateRows, targetDistributionOf,
  type TargetPolicy, type Decision, type DecidedTargetOptions,
} from './target-policy.js';
export { replayEvaluate, replayAcceptance, type ReplayAcceptance, type ReplayOptions, type ReplayResult } from './replay.js';
export { checkLog, logBatch, selectRows, type BanditLog } from './log.js';
export { decisionOf, type Policy, type PolicyDecision } from './policy.js';
export { FeatureBatch, armFeatureDim, hybridSharedDim, playedArmFeatures, type DecisionBatch, type FeatureShape } from './batch.js';
export { parseObd, type ObdLog, type ObdOptions } from './obd.js';
