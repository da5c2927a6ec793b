import { BanditError } from '../core/errors.js';
import { checkBatchBindings, isFiniteF32, isNumberArray, numberOption, positiveInt } from '../core/check.js';
import { resolveExploration, saveExploration, type Exploration } from '../models/exploration.js';
import type { Random } from '../core/random.js';

const MODEL = 'EmbeddingMLP';

/** Options of `EmbeddingMLP.create`. */
export interface EmbeddingMLPOptions {
  /** Number of users (ids 0 … users − 1). */
  readonly users: number;
  /** Number of items (ids 0 … items − 1). */
  readonly items: number;
  /** Width of the context features of an interaction (0: none). */
  readonly contextDim: number;
  /** Width of each user and item embedding. Default 8. */
  readonly embeddingDim?: number;
  /** Hidden layer widths of the ReLU network on [user embedding | item embedding | context]. Default [64]. */
  readonly hidden?: readonly number[];
  /** Adam's step size. Default 1e-2. */
  readonly lr?: number;
  /** Interactions a minibatch (the last one of an epoch may be smaller). Default 256. */
  readonly batchSize?: number;
  /** Passes over the log a `fit` makes unless it says otherwise. Default 5. */
  readonly epochs?: number;
  /** L2 weight decay: l2·w is added to the gradient of every weight and embedding (the loss gains l2/2·‖w‖²). Default 0. */
  readonly l2?: number;
  /** Seed of the initial weights, the minibatch order and (its low 32 bits) the decision stream. Default 0. */
  readonly seed?: number;
  /**
   * Randomised exploration when serving (ε-greedy, softmax or SquareCB) over the model's mean
   * estimates, its logits f (the click probability is σ(f)): the frozen baseline then explores.
   * Saved with the model. Default: none (greedy on the predicted click probability).
   */
  readonly exploration?: Exploration;
}

/** The options with every default filled in. */
export type ResolvedEmbeddingMLPOptions = Required<Omit<EmbeddingMLPOptions, 'hidden' | 'exploration'>> & {
  readonly hidden: readonly number[];
  readonly exploration: Exploration | null;
};

/**
 * Checks the options and fills in the defaults.
 *
 * @example
 * const o = resolveEmbeddingMLPOptions({ users: 100, items: 10, contextDim: 4 });   // o.hidden: [64]
 */
export function resolveEmbeddingMLPOptions(o: EmbeddingMLPOptions): ResolvedEmbeddingMLPOptions {
  if (!o || typeof o !== 'object') throw new BanditError(`${MODEL}.create: options are required ({ users, items, contextDim, … })`);
  const users = positiveInt(MODEL, 'users', o.users);
  const items = positiveInt(MODEL, 'items', o.items);
  const contextDim = numberOption(MODEL, 'contextDim', o.contextDim, NaN, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  const embeddingDim = o.embeddingDim === undefined ? 8 : positiveInt(MODEL, 'embeddingDim', o.embeddingDim);
  const hidden = o.hidden === undefined ? [64] : o.hidden;
  if (!Array.isArray(hidden)) throw new BanditError(`${MODEL}: option hidden must be an array of widths, got ${String(hidden)}`);
  hidden.forEach((h, l) => positiveInt(MODEL, `hidden[${l}]`, h));
  const lr = numberOption(MODEL, 'lr', o.lr, 1e-2, (v) => v > 0, '> 0');
  const batchSize = o.batchSize === undefined ? 256 : positiveInt(MODEL, 'batchSize', o.batchSize);
  const epochs = numberOption(MODEL, 'epochs', o.epochs, 5, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  const l2 = numberOption(MODEL, 'l2', o.l2, 0, (v) => v >= 0, '≥ 0');
  const seed = numberOption(MODEL, 'seed', o.seed, 0, (v) => Number.isInteger(v), 'an integer');
  const exploration = resolveExploration(MODEL, o.exploration);
  return { users, items, contextDim, embeddingDim, hidden: [...hidden], lr, batchSize, epochs, l2, seed, exploration };
}

/** Logged interactions: row n is user `users[n]` shown item `items[n]` in context n, clicked or not. */
export interface InteractionLog {
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** N×contextDim, row-major (may be empty when contextDim is 0). */
  readonly contexts: Float32Array | ArrayLike<number>;
  /** Click labels in [0, 1] (0/1 clicks, or click rates). */
  readonly clicks: Float32Array | ArrayLike<number>;
  /**
   * Importance weights of the rows (finite, ≥ 0): the loss is Σ w_n·ℓ_n over a minibatch (over
   * its size), so row n counts w_n times. Default: every row 1.
   */
  readonly weights?: Float32Array | ArrayLike<number>;
}

/**
 * A logged dataset of EmbeddingMLP decisions for `warmStart`: row n served item `arms[n]` to
 * user `users[n]` in context n (N×contextDim), was clicked `rewards[n]` (in [0, 1]), with the
 * logging policy's probability `propensities[n]` of that item.
 *
 * @example
 * const log: EmbeddingLoggedDecisions = { users, arms: d.arms, contexts, rewards: clicks, propensities: d.propensities };
 */
export interface EmbeddingLoggedDecisions {
  readonly users: Int32Array;
  readonly arms: Int32Array;
  readonly contexts: Float32Array | ArrayLike<number>;
  readonly rewards: Float32Array | ArrayLike<number>;
  readonly propensities: Float32Array | ArrayLike<number>;
}

/** A log that passed every check: ids in range, finite contexts as f32, clicks in [0, 1]. */
export interface CheckedLog {
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly contexts: Float32Array;
  readonly clicks: Float32Array;
  /** Null: every row 1. */
  readonly weights: Float32Array | null;
  readonly rows: number;
}

/** The sizes the input checks of an EmbeddingMLP need. */
export interface EmbeddingSizes {
  readonly users: number;
  readonly items: number;
  readonly contextDim: number;
}

/**
 * Throws unless `ids` is an Int32Array of user (or item) ids in range, `rows` of them when given.
 *
 * @example
 * const users = checkIds('EmbeddingMLP.select', sizes, 'users', input);
 */
export function checkIds(op: string, sizes: EmbeddingSizes, name: 'users' | 'items', ids: unknown, rows?: number): Int32Array {
  const count = sizes[name];
  if (!(ids instanceof Int32Array)) throw new BanditError(`${op}: ${name} must be an Int32Array`);
  if (rows !== undefined && ids.length !== rows) throw new BanditError(`${op}: ${rows} rows but ${ids.length} ${name}`);
  for (let n = 0; n < ids.length; n++) {
    const id = ids[n]!;
    if (id < 0 || id >= count) throw new BanditError(`${op}: ${name}[${n}] = ${id} is out of range 0..${count - 1}`);
  }
  return ids;
}

/**
 * rows×contextDim finite context values as f32 (an absent or empty array when contextDim is 0).
 *
 * @example
 * const ctx = checkInteractionContexts('EmbeddingMLP.predict', sizes, contexts, users.length);
 */
export function checkInteractionContexts(op: string, sizes: EmbeddingSizes, contexts: unknown, rows: number): Float32Array {
  const c = sizes.contextDim;
  if (c === 0 && (contexts === undefined || (isNumberArray(contexts) && contexts.length === 0))) return new Float32Array(0);
  if (!isNumberArray(contexts)) throw new BanditError(`${op}: contexts must be a Float32Array (or an array of numbers)`);
  if (contexts.length !== rows * c) throw new BanditError(`${op}: contexts has ${contexts.length} values; ${rows} rows need ${rows}×${c}`);
  for (let i = 0; i < contexts.length; i++) {
    const v = contexts[i]!;
    if (!isFiniteF32(v)) {
      throw new BanditError(`${op}: contexts[${i}] (row ${Math.floor(i / c)}, element ${i % c}) is ${String(v)}; values must be finite`);
    }
  }
  return Float32Array.from(contexts);
}

/**
 * Checks a whole log (ids, contexts, clicks in [0, 1], and that its contexts fit one binding of
 * `bindingBytes`) and returns it as f32.
 *
 * @example
 * const data = checkLog('EmbeddingMLP.fit', sizes, backend.maxBindingBytes, log);
 */
export function checkLog(op: string, sizes: EmbeddingSizes, bindingBytes: number, log: InteractionLog): CheckedLog {
  if (!log || typeof log !== 'object') throw new BanditError(`${op}: the log must be { users, items, contexts, clicks }`);
  const users = checkIds(op, sizes, 'users', log.users);
  const rows = users.length;
  if (rows === 0) throw new BanditError(`${op}: the log is empty`);
  const items = checkIds(op, sizes, 'items', log.items, rows);
  const contexts = checkInteractionContexts(op, sizes, log.contexts, rows);
  const clicks = log.clicks;
  if (!isNumberArray(clicks)) throw new BanditError(`${op}: clicks must be a Float32Array (or an array of numbers)`);
  if (clicks.length !== rows) throw new BanditError(`${op}: ${rows} rows but ${clicks.length} clicks`);
  for (let n = 0; n < rows; n++) {
    const v = clicks[n]!;
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new BanditError(`${op}: clicks[${n}] is ${String(v)}; labels must be in [0, 1]`);
  }
  let weights: Float32Array | null = null;
  if (log.weights !== undefined) {
    const w = log.weights;
    if (!isNumberArray(w)) throw new BanditError(`${op}: weights must be a Float32Array (or an array of numbers)`);
    if (w.length !== rows) throw new BanditError(`${op}: ${rows} rows but ${w.length} weights`);
    for (let n = 0; n < rows; n++) {
      const v = w[n]!;
      if (!isFiniteF32(v) || v < 0) throw new BanditError(`${op}: weights[${n}] is ${String(v)}; weights must be finite and ≥ 0`);
    }
    weights = Float32Array.from(w);
  }
  checkBatchBindings(op, bindingBytes, rows, [['contexts', 4 * Math.max(sizes.contextDim, 1)]]);
  return { users, items, contexts, clicks: Float32Array.from(clicks), weights, rows };
}

/**
 * The options as saved: the exploration only when there is one, so a model without saves as
 * it did before the option existed.
 *
 * @example
 * const options = { ...savedEmbeddingOptions(model.options), hidden: [...model.options.hidden] };
 */
export function savedEmbeddingOptions(o: ResolvedEmbeddingMLPOptions): Record<string, unknown> {
  const { exploration, ...rest } = o;
  return exploration ? { ...rest, exploration: saveExploration(exploration) } : rest;
}

/**
 * A uniformly random order of 0 … n−1 (Fisher–Yates on the model's generator).
 *
 * @example
 * const order = permutation(random, rows);
 */
export function permutation(random: Random, n: number): Int32Array {
  const order = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return order;
}

/**
 * Every (user row, item) pair of `items` items, row-major: users repeated over the items, the items tiled.
 *
 * @example
 * const { users, items, contextRows } = allPairs(50, Int32Array.of(3, 9));   // 100 pairs
 */
export function allPairs(items: number, users: Int32Array): { users: Int32Array; items: Int32Array; contextRows: Int32Array } {
  const K = items, B = users.length;
  const u = new Int32Array(B * K), it = new Int32Array(B * K), rows = new Int32Array(B * K);
  for (let r = 0; r < B; r++) {
    u.fill(users[r]!, r * K, (r + 1) * K);
    rows.fill(r, r * K, (r + 1) * K);
    for (let k = 0; k < K; k++) it[r * K + k] = k;
  }
  return { users: u, items: it, contextRows: rows };
}

/**
 * σ(f), computed without overflow for either sign.
 *
 * @example
 * sigmoid(0);   // 0.5
 */
export function sigmoid(f: number): number {
  return f >= 0 ? 1 / (1 + Math.exp(-f)) : Math.exp(f) / (1 + Math.exp(f));
}

/**
 * The log without its rows of weight 0 (they are not trained on at all), with weights null when
 * every row left weighs 1 (so the plain path runs, bit for bit).
 *
 * @example
 * const data = withoutZeroWeightRows(checkLog(op, sizes, bindingBytes, log));
 */
export function withoutZeroWeightRows(log: CheckedLog): CheckedLog {
  const w = log.weights;
  if (!w) return log;
  const keep: number[] = [];
  w.forEach((v, n) => v > 0 && keep.push(n));
  const weights = keep.every((n) => w[n] === 1) ? null : Float32Array.from(keep, (n) => w[n]!);
  if (keep.length === log.rows) return { ...log, weights };
  const c = log.contexts.length / log.rows;
  const contexts = new Float32Array(keep.length * c);
  keep.forEach((n, j) => contexts.set(log.contexts.subarray(n * c, (n + 1) * c), j * c));
  const pick = <T extends Int32Array | Float32Array>(a: T): T => a.constructor === Int32Array
    ? Int32Array.from(keep, (n) => a[n]!) as T : Float32Array.from(keep, (n) => a[n]!) as T;
  return { users: pick(log.users), items: pick(log.items), contexts, clicks: pick(log.clicks), weights, rows: keep.length };
}
