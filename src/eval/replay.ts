import { BanditError } from '../core/errors.js';
import { Random } from '../core/random.js';
import { ipsEstimate, snipsEstimate } from './estimators.js';
import { checkLog, logBatch, type BanditLog } from './log.js';
import type { Policy } from './policy.js';

/**
 * How replay keeps the rows where the policy picked the logged item:
 * - 'rejection' (default): row i is kept with probability c/μ_i, c = the smallest logged
 *   propensity of the rows walked (the rejection-sampling replay of Li et al. 2011 §4 and Dudík,
 *   Erhan, Langford & Li 2012): a logged item a is then kept with probability μ(a|x)·c/μ(a|x) = c
 *   whatever the logging policy, so the kept rows are the stream a uniform logger would give.
 *   Under a uniform logger c/μ_i = 1: every matched row is kept, no draw is made.
 * - 'matched': every matched row is kept (the method for a uniform logger; with any other it
 *   over-represents the logger's favourite items and is biased).
 *
 * @example
 * const r = await replayEvaluate(epsilonGreedyLog, policy, { acceptance: 'rejection', seed: 2 });
 */
export type ReplayAcceptance = 'rejection' | 'matched';

/** Options of `replayEvaluate`. */
export interface ReplayOptions {
  /**
   * Rows the policy decides at once before it learns from the kept ones. 1 (default) is the
   * exact replay method; B > 1 evaluates the policy that learns once every B logged rows (faster
   * on a GPU backend, slightly pessimistic for a learning policy).
   */
  readonly batchSize?: number;
  /** Replay only the first `maxRows` rows. Default: all. */
  readonly maxRows?: number;
  /** Which matched rows are kept (see ReplayAcceptance). Default 'rejection'. */
  readonly acceptance?: ReplayAcceptance;
  /** Seed of the rejection draws (one uniform a row walked). Default 1. */
  readonly seed?: number;
  /**
   * Record the policy's `distribution` (π(a|x) of every arm) on every row, in the state the
   * policy had there (before it learns from the row's batch): the result's `targetDistribution`,
   * which IPS and SNIPS then use instead of the one-hot choices. Needs `policy.distribution`.
   * Default false.
   */
  readonly distribution?: boolean;
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
  /** Rows where the policy chose the logged action. */
  readonly matched: number;
  /** Of those, the rows kept (all of them under a uniform logger): the only ones the policy was scored and trained on. */
  readonly accepted: number;
  /** c, the probability with which a matched row is kept is c/μ_i (1 under 'matched'; see ReplayAcceptance). */
  readonly acceptanceScale: number;
  /** Sum of the rewards of the kept rows. */
  readonly clicks: number;
  /** Replay estimate of the policy's click rate: clicks / accepted (NaN when none was kept). */
  readonly replayCtr: number;
  /** IPS estimate of `targetDistribution` with the log's propensities (see ipsEstimate). */
  readonly ips: number;
  /** SNIPS on the same weights (see snipsEstimate). */
  readonly snips: number;
  /** The indices of the matched rows, in order. */
  readonly matchedRows: Int32Array;
  /** The indices of the kept rows, in order (a subset of matchedRows). */
  readonly acceptedRows: Int32Array;
  /**
   * The item the policy chose on each row walked (rows): with the log, the input of any other
   * estimator (a one-hot targetDistribution of the learning policy as it was replayed).
   */
  readonly chosen: Int32Array;
  /**
   * rows×K: the policy's recorded distribution on each row (option `distribution`), else the
   * one-hot rows of `chosen`.
   */
  readonly targetDistribution: Float64Array;
}

/**
 * Which rows of a log the rejection-sampling replay keeps when they match: c = min_i μ_i over
 * `rows` rows, and row i kept iff u_i < c/μ_i, with u_i the i-th uniform of a generator seeded
 * by `seed` (one draw a row, whether it matches or not, so the decision of a row does not depend
 * on the policy). With equal propensities every row is kept.
 *
 * @example
 * const { scale, keep } = replayAcceptance(log.propensities, log.length, 1);
 * const kept = matchedRows.filter((i) => keep[i]);
 */
export function replayAcceptance(propensities: ArrayLike<number>, rows: number, seed: number): { scale: number; keep: Uint8Array } {
  let c = Infinity;
  for (let i = 0; i < rows; i++) c = Math.min(c, propensities[i]!);
  const keep = new Uint8Array(rows).fill(1);
  if (!(c > 0 && c <= 1)) {
    if (rows === 0) return { scale: 1, keep };
    throw new BanditError(`replayAcceptance: the smallest propensity is ${c}; propensities must be in (0, 1]`);
  }
  const random = new Random(seed);
  let all = true;
  for (let i = 0; i < rows; i++) all &&= propensities[i]! === c;
  if (!all) for (let i = 0; i < rows; i++) keep[i] = random.uniform() < c / propensities[i]! ? 1 : 0;
  return { scale: all ? 1 : c, keep };
}

/**
 * The replay method (Li, Chu, Langford, Wang, WSDM 2011): walk the log in order, ask the policy
 * for an item for each row's context, and where it equals the logged item keep the row: score
 * its reward and feed it to the policy (`update`); other rows are skipped as if they never
 * happened. With a uniformly random logging policy the kept rows are a random sample of the
 * stream the policy would have seen, and their mean reward is an unbiased estimate of its online
 * click rate. With any other logging policy the logged propensities are read: a matched row is
 * kept with probability c/μ_i (rejection sampling, `acceptance: 'rejection'`, the default), which
 * restores that property at the price of keeping a share c of the rows instead of 1/K. IPS and
 * SNIPS of the same run are returned with it, on the log's propensities.
 *
 * The policy is used (selected and updated), not disposed: make a fresh one per evaluation.
 *
 * @example
 * const log = parseObd(menCsv, itemCsv);
 * const policy = await linUCBPolicy(backend, log.shape, { alpha: 0.5 });   // from 'webgpu-bandits/sim'
 * const r = await replayEvaluate(log, policy);
 * console.log(r.accepted, r.replayCtr, r.ips, r.snips);
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
  const acceptance = options.acceptance ?? 'rejection';
  if (acceptance !== 'rejection' && acceptance !== 'matched') throw new BanditError(`replayEvaluate: acceptance must be 'rejection' or 'matched', got ${String(acceptance)}`);
  const seed = options.seed ?? 1;
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new BanditError(`replayEvaluate: seed must be an integer in 0 … 2^32−1, got ${String(seed)}`);
  const record = options.distribution ?? false;
  if (record && typeof policy.distribution !== 'function') throw new BanditError(`replayEvaluate: option distribution needs policy ${policy.name} to have a distribution(batch) method`);
  const rows = Math.min(total, log.length);
  const k = log.shape.arms;
  const { scale, keep } = acceptance === 'rejection'
    ? replayAcceptance(log.propensities, rows, seed) : { scale: 1, keep: new Uint8Array(rows).fill(1) };
  // One-hot rows at the chosen items unless the policy's distribution is recorded (rows×K).
  const target = new Float64Array(rows * k);
  const picks = new Int32Array(rows);
  const matchedRows: number[] = [], acceptedRows: number[] = [];
  let clicks = 0;
  for (let start = 0; start < rows; start += batchSize) {
    options.signal?.throwIfAborted();
    const size = Math.min(batchSize, rows - start);
    const indices = Int32Array.from({ length: size }, (_, j) => start + j);
    const batch = logBatch(log, indices);
    if (record) {
      const pi = await policy.distribution!(batch);
      if (!(pi instanceof Float64Array) || pi.length !== size * k) {
        throw new BanditError(`replayEvaluate: policy ${policy.name}.distribution returned ${pi?.length} values for ${size} rows × ${k} arms`);
      }
      target.set(pi, start * k);
    }
    const chosen = await policy.select(batch);
    if (!(chosen instanceof Int32Array) || chosen.length !== size) {
      throw new BanditError(`replayEvaluate: policy ${policy.name}.select returned ${describe(chosen)} for ${size} rows; expected an Int32Array of ${size}`);
    }
    const hits: number[] = [];
    for (let j = 0; j < size; j++) {
      const i = start + j;
      const item = chosen[j]!;
      if (!(item >= 0 && item < k)) throw new BanditError(`replayEvaluate: policy ${policy.name} chose item ${item} (row ${i}), out of range 0..${k - 1}`);
      if (!record) target[i * k + item] = 1;
      picks[i] = item;
      if (item === log.actions[i]) {
        matchedRows.push(i);
        if (keep[i]) {
          hits.push(i);
          clicks += log.rewards[i]!;
        }
      }
    }
    if (hits.length > 0) {
      const played = Int32Array.from(hits, (i) => log.actions[i]!);
      await policy.update(logBatch(log, hits), played, Float32Array.from(hits, (i) => log.rewards[i]!));
      acceptedRows.push(...hits);
    }
    await options.onProgress?.(start + size, rows);
  }
  const accepted = acceptedRows.length;
  const estimatorInput = {
    rewards: log.rewards.subarray(0, rows), actions: log.actions.subarray(0, rows), propensities: log.propensities.subarray(0, rows), targetDistribution: target,
  };
  return {
    policy: policy.name,
    rows,
    matched: matchedRows.length,
    accepted,
    acceptanceScale: scale,
    clicks,
    replayCtr: accepted > 0 ? clicks / accepted : NaN,
    ips: rows > 0 ? ipsEstimate(estimatorInput) : NaN,
    snips: rows > 0 ? snipsEstimate(estimatorInput) : NaN,
    matchedRows: Int32Array.from(matchedRows),
    acceptedRows: Int32Array.from(acceptedRows),
    chosen: picks,
    targetDistribution: target,
  };
}

function describe(v: unknown): string {
  if (v instanceof Int32Array) return `an Int32Array of ${v.length}`;
  return v === null ? 'null' : typeof v === 'object' ? (v as object).constructor?.name ?? 'an object' : typeof v;
}
