import { BanditError } from '../core/errors.js';
import { checkBatchBindings, isNumberArray } from '../core/check.js';

/** Logged interactions: row n is user `users[n]` shown item `items[n]` in context n, clicked or not. */
export interface InteractionLog {
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** N×contextDim, row-major (may be empty when contextDim is 0). */
  readonly contexts: Float32Array | ArrayLike<number>;
  /** Click labels in [0, 1] (0/1 clicks, or click rates). */
  readonly clicks: Float32Array | ArrayLike<number>;
}

/** A log that passed every check: ids in range, finite contexts as f32, clicks in [0, 1]. */
export interface CheckedLog {
  readonly users: Int32Array;
  readonly items: Int32Array;
  readonly contexts: Float32Array;
  readonly clicks: Float32Array;
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
    if (typeof v !== 'number' || !Number.isFinite(v)) {
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
  checkBatchBindings(op, bindingBytes, rows, [['contexts', 4 * Math.max(sizes.contextDim, 1)]]);
  return { users, items, contexts, clicks: Float32Array.from(clicks), rows };
}
