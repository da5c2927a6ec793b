/**
 * The evaluated (target) policy as the off-policy estimators need it: π_e(a | x_i) for EVERY arm
 * of every logged row (`EstimatorInput.targetDistribution`, n×K), not only the probability of the
 * arm a decision happened to draw. Three ways to get it from a model:
 * - greedy (`greedyTarget`): a one-hot row at the arm `select` returns;
 * - a score-based randomised policy (`scoredTarget`): the model's scores through the exploration
 *   formula, computed by the same float64 twin the cpu backend samples with
 *   (`slotDistributionF64` in src/cpu/explore.ts): ε-greedy, softmax, SquareCB, or greedy;
 * - any `decide`-style function (`decidedTarget`), e.g. a Thompson-sampling model, whose
 *   distribution has no closed form: the frequencies of the arms over repeated decisions.
 */
import { BanditError } from '../core/errors.js';
import type { SamplingPolicy } from '../core/op-args.js';
import { slotDistributionF64 } from '../cpu/explore.js';
import { checkSamplingPolicy } from '../ops/explore.js';
import { FeatureBatch, type DecisionBatch } from './batch.js';
import { DISTRIBUTION_TOLERANCE } from './estimator-input.js';
import { checkLog, logBatch, type BanditLog } from './log.js';

/**
 * A policy's probability of every arm in each row of a batch.
 *
 * @example
 * const target = greedyTarget('LinUCB (greedy)', (batch) => model.select(batch.userFeatures));
 * const pi = await target.distribution(logBatch(log, [0, 1]));   // Float64Array 2×K, one-hot rows
 */
export interface TargetPolicy {
  readonly name: string;
  /** π(a | x_i), B×K row-major (K = batch.shape.arms), each row summing to 1. */
  distribution(batch: DecisionBatch): Promise<Float64Array>;
}

/**
 * What a `decide`-style call returns (DESIGN.md's `model.decide`): B chosen arms and the
 * probability each had. Event ids and slates (k > 1) are not read.
 */
export interface Decision {
  readonly arms: Int32Array;
  readonly propensities: ArrayLike<number>;
}

/**
 * n×K one-hot rows at `arms` (each in 0..K−1): the distribution of a deterministic policy that
 * chose them (e.g. `ReplayResult.chosen`).
 *
 * @example
 * const targetDistribution = oneHot(replay.chosen, log.shape.arms);
 */
export function oneHot(arms: ArrayLike<number>, k: number): Float64Array {
  const out = new Float64Array(arms.length * k);
  for (let i = 0; i < arms.length; i++) {
    const a = arms[i]!;
    if (!(Number.isInteger(a) && a >= 0 && a < k)) throw new BanditError(`oneHot: arms[${i}] is ${String(a)}, not an arm in 0..${k - 1}`);
    out[i * k + a] = 1;
  }
  return out;
}

/**
 * The uniformly random policy: 1/K on every arm.
 *
 * @example
 * const random = uniformTarget();
 */
export function uniformTarget(name = 'random'): TargetPolicy {
  return { name, distribution: async (batch) => new Float64Array(batch.size * batch.shape.arms).fill(1 / batch.shape.arms) };
}

function checkArms(op: string, arms: unknown, rows: number, k: number): Int32Array {
  if (!(arms instanceof Int32Array) || arms.length !== rows) throw new BanditError(`${op}: expected an Int32Array of ${rows} arms, got ${arms instanceof Int32Array ? arms.length : typeof arms}`);
  arms.forEach((a, i) => {
    if (!(a >= 0 && a < k)) throw new BanditError(`${op}: arm ${a} (row ${i}) is out of range 0..${k - 1}`);
  });
  return arms;
}

/**
 * A deterministic policy from any `select`: one-hot rows at the arms it picks.
 *
 * @example
 * const target = greedyTarget('Embedding + MLP', (batch) => mlp.select(batch.users, batch.userFeatures));
 */
export function greedyTarget(name: string, select: (batch: DecisionBatch) => Promise<Int32Array>): TargetPolicy {
  return {
    name,
    distribution: async (batch) => oneHot(checkArms(`greedyTarget(${name})`, await select(batch), batch.size, batch.shape.arms), batch.shape.arms),
  };
}

/**
 * A score-based policy — greedy, ε-greedy, softmax or SquareCB over a model's B×K `scores` —
 * with the exact probabilities of the cpu twin of `sampleArms` (the same formulas, tie rule and
 * floors: `slotDistributionF64`), so the distribution is the one a model deciding with that
 * `exploration` samples from (up to f32 scores on a GPU backend). Arms with a non-finite score
 * get 0; a row without a finite score is a BanditError.
 *
 * @example
 * const target = scoredTarget('LinUCB ε = 0.1', (b) => linucb.scores(b.userFeatures), { kind: 'epsilon-greedy', epsilon: 0.1 });
 */
export function scoredTarget(name: string, scores: (batch: DecisionBatch) => Promise<ArrayLike<number>>, policy: SamplingPolicy): TargetPolicy {
  const checked = checkSamplingPolicy(`scoredTarget(${name})`, policy);
  return {
    name,
    distribution: async (batch) => {
      const k = batch.shape.arms;
      const s = await scores(batch);
      if (!s || s.length !== batch.size * k) throw new BanditError(`scoredTarget(${name}): scores returned ${s?.length} values for ${batch.size} rows × ${k} arms`);
      const out = slotDistributionF64(checked, s, batch.size, k);
      for (let r = 0; r < batch.size; r++) {
        if (Number.isNaN(out[r * k]!)) throw new BanditError(`scoredTarget(${name}): row ${r} has no finite score`);
      }
      return out;
    },
  };
}

/** Options of `decidedTarget`. */
export interface DecidedTargetOptions {
  /**
   * Decisions a row, M ≥ 1: π̂(a|x) = (times a was drawn)/M, unbiased for π(a|x) with variance
   * π(1 − π)/M. Rows whose first decision came with propensity 1 (deterministic) are exact after it.
   */
  readonly draws: number;
  /**
   * Make a row's M decisions in ONE call, on a batch of M copies of each row (B·M rows, the copies
   * of row r at r·M … r·M + M − 1), instead of M calls on the batch. Only for a policy whose rows
   * draw independently within a call (the Thompson models: each draw is keyed by its row) and that
   * takes any batch size. One call instead of M, the same estimate in distribution. Default false.
   */
  readonly replicate?: boolean;
}

/** Row r of `batch` repeated `m` times (r·m … r·m + m − 1), as a batch of B·m rows. */
export function replicateRows(batch: DecisionBatch, m: number): DecisionBatch {
  const du = batch.shape.userDim, b = batch.size;
  const users = new Int32Array(b * m), contexts = new Float32Array(b * m * du);
  for (let r = 0; r < b; r++) {
    const row = batch.userFeatures.subarray(r * du, (r + 1) * du);
    for (let j = 0; j < m; j++) {
      users[r * m + j] = batch.users[r]!;
      contexts.set(row, (r * m + j) * du);
    }
  }
  return new FeatureBatch(batch.shape, users, contexts, batch.itemFeatures, batch.hybridItemFeatures);
}

/**
 * A randomised policy known only through its decisions (a `decide`-style function, e.g. a
 * Thompson-sampling model, whose π(a|x) has no closed form): each row's distribution is the
 * frequency of each arm over `draws` decisions (each must draw afresh, as a model's decision
 * stream does). `decide` may return a Decision, or the arms alone (an Int32Array: a randomised
 * `select`, which for a Thompson model skips the propensity draws `decide` makes). When every
 * row of the first call reports propensity 1 the policy is deterministic there and no more calls
 * are made. For a model whose exploration has a formula (ε-greedy, softmax, SquareCB),
 * `scoredTarget` gives the exact distribution instead.
 *
 * An arm whose probability is far below 1/M is usually never drawn and gets π̂ = 0. That is not a
 * bias (E π̂ = π for every arm): an importance weight π̂(a_i|x_i)/μ_i is then 0 on that row and
 * larger on the rows where the arm was drawn; M only sets the variance. (The opposite case, a
 * Thompson LOGGING propensity estimated as 0, would be a division by zero: see the simulator's
 * `loggedPropensity`.)
 *
 * @example
 * const target = decidedTarget('LinTS', (b) => lints.decide(b.userFeatures), { draws: 200 });
 * const sampled = decidedTarget('LinTS', (b) => lints.select(b.userFeatures), { draws: 64, replicate: true });
 */
export function decidedTarget(name: string, decide: (batch: DecisionBatch) => Promise<Decision | Int32Array>, options: DecidedTargetOptions): TargetPolicy {
  const op = `decidedTarget(${name})`;
  const draws = options?.draws;
  if (!(Number.isInteger(draws) && draws >= 1)) throw new BanditError(`${op}: option draws must be a positive integer, got ${String(draws)}`);
  const replicate = options.replicate ?? false;
  if (typeof replicate !== 'boolean') throw new BanditError(`${op}: option replicate must be a boolean, got ${String(replicate)}`);
  const armsOf = (d: Decision | Int32Array, rows: number, k: number): { arms: Int32Array; deterministic: boolean } => {
    if (d instanceof Int32Array) return { arms: checkArms(op, d, rows, k), deterministic: false };
    const arms = checkArms(op, d?.arms, rows, k);
    if (!d.propensities || d.propensities.length !== rows) throw new BanditError(`${op}: decide returned ${d.propensities?.length} propensities for ${rows} rows`);
    return { arms, deterministic: Array.from(d.propensities).every((p) => p === 1) };
  };
  return {
    name,
    distribution: async (batch) => {
      const k = batch.shape.arms, rows = batch.size;
      const counts = new Float64Array(rows * k);
      if (replicate) {
        const { arms } = armsOf(await decide(replicateRows(batch, draws)), rows * draws, k);
        arms.forEach((a, i) => counts[Math.floor(i / draws) * k + a]!++);
      } else {
        for (let m = 0; m < draws; m++) {
          const { arms, deterministic } = armsOf(await decide(batch), rows, k);
          arms.forEach((a, r) => counts[r * k + a]!++);
          if (m === 0 && deterministic) return counts;
        }
      }
      for (let i = 0; i < counts.length; i++) counts[i]! /= draws;
      return counts;
    },
  };
}

/**
 * The target policy's distribution over the whole log, n×K, in batches of `batchSize` rows (the
 * policy does not learn: for a learning policy, replay it and take `oneHot(result.chosen, K)`).
 * Checks every row sums to 1.
 *
 * @example
 * const targetDistribution = await targetDistributionOf(log, greedyTarget('LinUCB', (b) => model.select(b.userFeatures)));
 */
export async function targetDistributionOf(log: BanditLog, target: TargetPolicy, options: { readonly batchSize?: number; readonly rows?: ArrayLike<number> } = {}): Promise<Float64Array> {
  checkLog('targetDistributionOf', log);
  if (!target || typeof target.distribution !== 'function') throw new BanditError('targetDistributionOf: a TargetPolicy ({ name, distribution }) is required');
  const batchSize = options.batchSize ?? 512;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new BanditError(`targetDistributionOf: batchSize must be a positive integer, got ${String(batchSize)}`);
  const rows = options.rows ?? Int32Array.from({ length: log.length }, (_, i) => i);
  const k = log.shape.arms;
  const out = new Float64Array(rows.length * k);
  for (let start = 0; start < rows.length; start += batchSize) {
    const chunk = Array.from({ length: Math.min(batchSize, rows.length - start) }, (_, j) => rows[start + j]!);
    const pi = await target.distribution(logBatch(log, chunk));
    if (!(pi instanceof Float64Array) || pi.length !== chunk.length * k) throw new BanditError(`targetDistributionOf: ${target.name} returned ${pi?.length} values for ${chunk.length} rows × ${k} arms`);
    for (let j = 0; j < chunk.length; j++) {
      let total = 0;
      for (let a = 0; a < k; a++) total += pi[j * k + a]!;
      if (!(Math.abs(total - 1) <= DISTRIBUTION_TOLERANCE)) throw new BanditError(`targetDistributionOf: ${target.name}'s row ${chunk[j]} sums to ${total}, not 1`);
    }
    out.set(pi, start * k);
  }
  return out;
}
