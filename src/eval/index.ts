// 'webgpu-bandits/eval': replay evaluation and off-policy estimators on logged data.
export {
  replayEvaluate, ipsEstimate, snipsEstimate, logBatch, checkLog,
  type BanditLog, type EstimatorInput, type ReplayOptions, type ReplayResult,
} from '../sim/replay.js';
export { parseObd, type ObdLog, type ObdOptions } from '../sim/obd.js';
