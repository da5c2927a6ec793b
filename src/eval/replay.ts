import { BanditError } from '../core/errors.js';
import { ipsEstimate, snipsEstimate } from './estimators.js';
import { checkLog, logBatch, type BanditLog } from './log.js';
import type { Policy } from './policy.js';

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
  /**
   * The item the policy chose on each row walked (rows): with the log, the input of any other
   * estimator (a one-hot targetDistribution of the learning policy as it was replayed).
   */
  readonly chosen: Int32Array;
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
 * const policy = await linUCBPolicy(backend, log.shape, { alpha: 0.5 });   // from 'webgpu-bandits/sim'
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
  const k = log.shape.arms;
  // The policy's choices as a one-hot targetDistribution (rows×K): π(a|x_i) = 1 at the chosen item.
  const target = new Float64Array(rows * k);
  const picks = new Int32Array(rows);
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
      const item = chosen[j]!;
      if (!(item >= 0 && item < k)) throw new BanditError(`replayEvaluate: policy ${policy.name} chose item ${item} (row ${i}), out of range 0..${k - 1}`);
      target[i * k + item] = 1;
      picks[i] = item;
      if (item === log.actions[i]) {
        hits.push(i);
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
  const estimatorInput = {
    rewards: log.rewards.subarray(0, rows), actions: log.actions.subarray(0, rows), propensities: log.propensities.subarray(0, rows), targetDistribution: target,
  };
  return {
    policy: policy.name,
    rows,
    matched,
    clicks,
    replayCtr: matched > 0 ? clicks / matched : NaN,
    ips: rows > 0 ? ipsEstimate(estimatorInput) : NaN,
    snips: rows > 0 ? snipsEstimate(estimatorInput) : NaN,
    matchedRows: Int32Array.from(matchedRows),
    chosen: picks,
  };
}

function describe(v: unknown): string {
  if (v instanceof Int32Array) return `an Int32Array of ${v.length}`;
  return v === null ? 'null' : typeof v === 'object' ? (v as object).constructor?.name ?? 'an object' : typeof v;
}
