import { BanditError } from '../core/errors.js';
import { FeatureBatch, type DecisionBatch, type FeatureShape } from './batch.js';
import type { Policy } from './headtohead.js';

/**
 * Logged bandit feedback, columnar: row i showed item `actions[i]` to user `users[i]` in context
 * row i of `contexts`, got `rewards[i]`, and the logging policy chose that item with probability
 * `propensities[i]`. Made by `parseObd` (the Open Bandit Dataset) and `EcommerceSimulator.randomLog`.
 */
export interface BanditLog {
  readonly shape: FeatureShape;
  /** n, the number of rows. */
  readonly length: number;
  /** n user ids in 0..shape.users−1. */
  readonly users: Int32Array;
  /** n×userDim user contexts. */
  readonly contexts: Float32Array;
  /** n logged actions (items) in 0..K−1. */
  readonly actions: Int32Array;
  /** n rewards (clicks). */
  readonly rewards: Float32Array;
  /** n probabilities μ(a_i | x_i) with which the logging policy took the logged action, in (0, 1]. */
  readonly propensities: Float64Array;
  /** K×itemDim item features. */
  readonly itemFeatures: Float32Array;
  /** K×hybridItemDim: the item half of the hybrid shared features. */
  readonly hybridItemFeatures: Float32Array;
}

/** The inputs of an off-policy estimator, one entry a logged row. */
export interface EstimatorInput {
  /** r_i. */
  readonly rewards: ArrayLike<number>;
  /** μ(a_i | x_i): the logging policy's probability of the logged action, in (0, 1]. */
  readonly propensities: ArrayLike<number>;
  /** π(a_i | x_i): the evaluated policy's probability of the logged action, in [0, 1] (0/1 for a deterministic policy). */
  readonly targetProbabilities: ArrayLike<number>;
}

function checkEstimatorInput(op: string, input: EstimatorInput): number {
  if (!input || typeof input !== 'object') throw new BanditError(`${op}: input must be { rewards, propensities, targetProbabilities }`);
  const { rewards, propensities, targetProbabilities } = input;
  const n = rewards?.length;
  if (typeof n !== 'number' || propensities?.length !== n || targetProbabilities?.length !== n) {
    throw new BanditError(
      `${op}: rewards, propensities and targetProbabilities must have one entry a row, got ${rewards?.length}, ${propensities?.length}, ${targetProbabilities?.length}`,
    );
  }
  if (n === 0) throw new BanditError(`${op}: the log is empty`);
  for (let i = 0; i < n; i++) {
    const r = rewards[i]!, mu = propensities[i]!, pi = targetProbabilities[i]!;
    if (!Number.isFinite(r)) throw new BanditError(`${op}: rewards[${i}] is ${r}; rewards must be finite`);
    if (!(mu > 0 && mu <= 1)) throw new BanditError(`${op}: propensities[${i}] is ${mu}; propensities must be in (0, 1]`);
    if (!(pi >= 0 && pi <= 1)) throw new BanditError(`${op}: targetProbabilities[${i}] is ${pi}; probabilities must be in [0, 1]`);
  }
  return n;
}

/**
 * Inverse propensity scoring: the value of the target policy π estimated from a log of μ,
 *
 *     V̂_IPS = (1/n) Σ_i w_i r_i,   w_i = π(a_i|x_i) / μ(a_i|x_i)
 *
 * unbiased when μ gives every action π takes a positive probability; its variance grows with the
 * weights. `maxWeight` clips each w_i (clipped IPS: less variance, biased down).
 *
 * @example
 * // 4 rows logged uniformly over 2 items (μ = 1/2); π agrees with the log on rows 0 and 2
 * ipsEstimate({ rewards: [1, 0, 0, 1], propensities: [0.5, 0.5, 0.5, 0.5], targetProbabilities: [1, 0, 1, 0] });
 * // (1/4)(2·1 + 2·0) = 0.5
 */
export function ipsEstimate(input: EstimatorInput, options: { readonly maxWeight?: number } = {}): number {
  const n = checkEstimatorInput('ipsEstimate', input);
  const cap = options.maxWeight ?? Infinity;
  if (!(cap > 0)) throw new BanditError(`ipsEstimate: maxWeight must be > 0, got ${String(options.maxWeight)}`);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.min(input.targetProbabilities[i]! / input.propensities[i]!, cap) * input.rewards[i]!;
  return sum / n;
}

/**
 * Self-normalised IPS: the weighted mean of the rewards with the IPS weights,
 *
 *     V̂_SNIPS = Σ_i w_i r_i / Σ_i w_i,   w_i = π(a_i|x_i) / μ(a_i|x_i)
 *
 * slightly biased but of much lower variance than IPS, and always within the range of the
 * rewards. NaN when every weight is 0 (π never takes a logged action: nothing to estimate from).
 *
 * @example
 * snipsEstimate({ rewards: [1, 0, 0, 1], propensities: [0.5, 0.5, 0.5, 0.5], targetProbabilities: [1, 0, 1, 0] });
 * // (2·1 + 2·0) / (2 + 2) = 0.5
 */
export function snipsEstimate(input: EstimatorInput): number {
  const n = checkEstimatorInput('snipsEstimate', input);
  let num = 0, den = 0;
  for (let i = 0; i < n; i++) {
    const w = input.targetProbabilities[i]! / input.propensities[i]!;
    num += w * input.rewards[i]!;
    den += w;
  }
  return den > 0 ? num / den : NaN;
}

/** Checks that a log's columns agree with its shape and length. */
export function checkLog(op: string, log: BanditLog): void {
  if (!log || typeof log !== 'object' || !log.shape) throw new BanditError(`${op}: a BanditLog is required`);
  const { length: n, shape } = log;
  const want: [string, ArrayLike<number> | undefined, number][] = [
    ['users', log.users, n], ['contexts', log.contexts, n * shape.userDim], ['actions', log.actions, n],
    ['rewards', log.rewards, n], ['propensities', log.propensities, n],
    ['itemFeatures', log.itemFeatures, shape.arms * shape.itemDim],
    ['hybridItemFeatures', log.hybridItemFeatures, shape.arms * shape.hybridItemDim],
  ];
  for (const [name, a, len] of want) {
    if (a?.length !== len) throw new BanditError(`${op}: log.${name} holds ${a?.length} values, expected ${len}`);
  }
  for (let i = 0; i < n; i++) {
    const a = log.actions[i]!;
    if (a < 0 || a >= shape.arms) throw new BanditError(`${op}: log.actions[${i}] = ${a} is out of range 0..${shape.arms - 1}`);
  }
}

/**
 * The log rows `rows` (indices) as a DecisionBatch: what a policy sees when replayed on them.
 *
 * @example
 * const first = logBatch(log, [0, 1, 2]);
 */
export function logBatch(log: BanditLog, rows: ArrayLike<number>): DecisionBatch {
  const du = log.shape.userDim;
  const users = new Int32Array(rows.length);
  const contexts = new Float32Array(rows.length * du);
  for (let j = 0; j < rows.length; j++) {
    const i = rows[j]!;
    if (!Number.isInteger(i) || i < 0 || i >= log.length) throw new BanditError(`logBatch: row ${i} is out of range 0..${log.length - 1}`);
    users[j] = log.users[i]!;
    contexts.set(log.contexts.subarray(i * du, (i + 1) * du), j * du);
  }
  return new FeatureBatch(log.shape, users, contexts, log.itemFeatures, log.hybridItemFeatures);
}

/** Options of `replayEvaluate`. */
export interface ReplayOptions {
  /**
   * Rows the policy decides at once before it learns from the matched ones. 1 (default) is the
   * exact replay method; B > 1 evaluates the policy that learns once every B logged rows (faster
   * on a GPU backend, slightly pessimistic for a learning policy).
   */
  readonly batchSize?: number;
  /** Replay only the first `maxRows` rows. Default: all. */
  readonly maxRows?: number;
  /** Called after each batch with rows done and rows in all; may return a promise (awaited). */
  readonly onProgress?: (done: number, total: number) => void | Promise<void>;
  /** Stops the replay between batches (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

/** What `replayEvaluate` measured. */
export interface ReplayResult {
  readonly policy: string;
  /** Log rows walked. */
  readonly rows: number;
  /** Rows where the policy chose the logged action (the only ones it was scored and trained on). */
  readonly matched: number;
  /** Sum of the rewards of the matched rows. */
  readonly clicks: number;
  /** Replay estimate of the policy's click rate: clicks / matched (NaN when nothing matched). */
  readonly replayCtr: number;
  /** IPS estimate with π(a_i|x_i) = 1 on the matched rows, 0 elsewhere (see ipsEstimate). */
  readonly ips: number;
  /** SNIPS on the same weights (see snipsEstimate); equals replayCtr when the logging propensities are all equal. */
  readonly snips: number;
  /** The indices of the matched rows, in order. */
  readonly matchedRows: Int32Array;
}

/**
 * The replay method (Li, Chu, Langford, Wang, WSDM 2011): walk the log in order, ask the policy
 * for an item for each row's context, and where it equals the logged item keep the row: score
 * its reward and feed it to the policy (`update`); other rows are skipped as if they never
 * happened. With a uniformly random logging policy, the mean reward of the kept rows is an
 * unbiased estimate of the policy's online click rate (the kept rows are a random sample of the
 * stream the policy would have seen). IPS and SNIPS of the same run are returned with it, using
 * the log's propensities, which is what to read when the logging policy was not uniform.
 *
 * The policy is used (selected and updated), not disposed: make a fresh one per evaluation.
 *
 * @example
 * const log = parseObd(menCsv, itemCsv);
 * const policy = await linUCBPolicy(backend, log.shape, { alpha: 0.5 });
 * const r = await replayEvaluate(log, policy);
 * console.log(r.matched, r.replayCtr, r.ips, r.snips);
 * policy.dispose();
 */
export async function replayEvaluate(log: BanditLog, policy: Policy, options: ReplayOptions = {}): Promise<ReplayResult> {
  checkLog('replayEvaluate', log);
  if (!policy || typeof policy.select !== 'function' || typeof policy.update !== 'function') {
    throw new BanditError('replayEvaluate: a Policy ({ name, select, update, dispose }) is required');
  }
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new BanditError(`replayEvaluate: batchSize must be a positive integer, got ${batchSize}`);
  const total = options.maxRows === undefined ? log.length : options.maxRows;
  if (!Number.isInteger(total) || total < 0) throw new BanditError(`replayEvaluate: maxRows must be an integer ≥ 0, got ${options.maxRows}`);
  const rows = Math.min(total, log.length);
  const target = new Float64Array(rows);
  const matchedRows: number[] = [];
  let clicks = 0;
  for (let start = 0; start < rows; start += batchSize) {
    options.signal?.throwIfAborted();
    const size = Math.min(batchSize, rows - start);
    const indices = Int32Array.from({ length: size }, (_, j) => start + j);
    const chosen = await policy.select(logBatch(log, indices));
    if (!(chosen instanceof Int32Array) || chosen.length !== size) {
      throw new BanditError(`replayEvaluate: policy ${policy.name}.select returned ${describe(chosen)} for ${size} rows; expected an Int32Array of ${size}`);
    }
    const hits: number[] = [];
    for (let j = 0; j < size; j++) {
      const i = start + j;
      if (chosen[j] === log.actions[i]) {
        hits.push(i);
        target[i] = 1;
        clicks += log.rewards[i]!;
      }
    }
    if (hits.length > 0) {
      const played = Int32Array.from(hits, (i) => log.actions[i]!);
      await policy.update(logBatch(log, hits), played, Float32Array.from(hits, (i) => log.rewards[i]!));
      matchedRows.push(...hits);
    }
    await options.onProgress?.(start + size, rows);
  }
  const matched = matchedRows.length;
  const estimatorInput = { rewards: log.rewards.subarray(0, rows), propensities: log.propensities.subarray(0, rows), targetProbabilities: target };
  return {
    policy: policy.name,
    rows,
    matched,
    clicks,
    replayCtr: matched > 0 ? clicks / matched : NaN,
    ips: rows > 0 ? ipsEstimate(estimatorInput) : NaN,
    snips: rows > 0 ? snipsEstimate(estimatorInput) : NaN,
    matchedRows: Int32Array.from(matchedRows),
  };
}

function describe(v: unknown): string {
  if (v instanceof Int32Array) return `an Int32Array of ${v.length}`;
  return v === null ? 'null' : typeof v === 'object' ? (v as object).constructor?.name ?? 'an object' : typeof v;
}
