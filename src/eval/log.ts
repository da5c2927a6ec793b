import { BanditError } from '../core/errors.js';
import { FeatureBatch, type DecisionBatch, type FeatureShape } from './batch.js';

/**
 * Logged bandit feedback, columnar: row i showed item `actions[i]` to user `users[i]` in context
 * row i of `contexts`, got `rewards[i]`, and the logging policy chose that item with probability
 * `propensities[i]`. Made by `parseObd` (the Open Bandit Dataset) and, in `webgpu-bandits/sim`,
 * by `EcommerceSimulator.randomLog`.
 *
 * @example
 * const log: BanditLog = parseObd(menCsv, itemContextCsv);
 * console.log(log.length, log.shape.arms, log.propensities[0]);
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

/**
 * Checks that a log's columns agree with its shape and length, and that every action is an item.
 *
 * @example
 * checkLog('myEvaluator', log);   // throws a BanditError naming the column or row at fault
 */
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

/**
 * The log rows `rows` (indices, in the order given) as a log of their own, with the same shape
 * and item features: e.g. the training half of a log.
 *
 * @example
 * const firstHalf = selectRows(log, Int32Array.from({ length: log.length >> 1 }, (_, i) => i));
 */
export function selectRows(log: BanditLog, rows: ArrayLike<number>): BanditLog {
  checkLog('selectRows', log);
  const du = log.shape.userDim, n = rows.length;
  const users = new Int32Array(n), actions = new Int32Array(n), rewards = new Float32Array(n), propensities = new Float64Array(n);
  const contexts = new Float32Array(n * du);
  for (let j = 0; j < n; j++) {
    const i = rows[j]!;
    if (!Number.isInteger(i) || i < 0 || i >= log.length) throw new BanditError(`selectRows: row ${i} is out of range 0..${log.length - 1}`);
    users[j] = log.users[i]!;
    actions[j] = log.actions[i]!;
    rewards[j] = log.rewards[i]!;
    propensities[j] = log.propensities[i]!;
    contexts.set(log.contexts.subarray(i * du, (i + 1) * du), j * du);
  }
  return { shape: log.shape, length: n, users, contexts, actions, rewards, propensities, itemFeatures: log.itemFeatures, hybridItemFeatures: log.hybridItemFeatures };
}
