import { BanditError } from '../core/errors.js';

/** How a model lays out its contexts. */
export interface ContextLayout {
  readonly arms: number;
  readonly dim: number;
  /** B×arms×dim instead of B×dim. */
  readonly perArm: boolean;
}

export function positiveInt(model: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new BanditError(`${model}: option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

export function numberOption(
  model: string, name: string, value: unknown, fallback: number, ok: (v: number) => boolean, what: string,
): number {
  if (value === undefined) {
    if (Number.isNaN(fallback)) throw new BanditError(`${model}: option ${name} is required (${what})`);
    return fallback;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || !ok(value)) {
    throw new BanditError(`${model}: option ${name} must be ${what}, got ${String(value)}`);
  }
  return value;
}

export function isNumberArray(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) ? true : Array.isArray(v);
}

/** Throws on the first non-finite value, naming its row and column. */
export function checkFinite(op: string, what: string, values: ArrayLike<number>, rowLength: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      const row = Math.floor(i / rowLength);
      throw new BanditError(`${op}: ${what}[${i}] (row ${row}, element ${i - row * rowLength}) is ${String(v)}; values must be finite`);
    }
  }
}

/** Checks contexts laid out as B×dim (or B×arms×dim) and returns B; `name` is what messages call them. */
export function checkContexts(op: string, layout: ContextLayout, contexts: unknown, name = 'contexts'): number {
  if (!isNumberArray(contexts)) throw new BanditError(`${op}: ${name} must be a Float32Array (or an array of numbers)`);
  const rowLength = layout.perArm ? layout.arms * layout.dim : layout.dim;
  const shape = layout.perArm ? `B×${layout.arms}×${layout.dim}` : `B×${layout.dim}`;
  if (contexts.length === 0 || contexts.length % rowLength !== 0) {
    throw new BanditError(`${op}: ${name} has ${contexts.length} values, not a whole number of rows of ${shape} (${rowLength} a row)`);
  }
  checkFinite(op, name, contexts, rowLength);
  return contexts.length / rowLength;
}

/** Checks played arm indices and returns B. */
export function checkArms(op: string, arms: number, chosen: unknown): number {
  if (!(chosen instanceof Int32Array)) throw new BanditError(`${op}: arms must be an Int32Array`);
  for (let i = 0; i < chosen.length; i++) {
    const a = chosen[i]!;
    if (a < 0 || a >= arms) throw new BanditError(`${op}: arms[${i}] = ${a} is out of range 0..${arms - 1}`);
  }
  return chosen.length;
}

export function checkRewards(op: string, rewards: unknown, rows: number): void {
  if (!isNumberArray(rewards)) throw new BanditError(`${op}: rewards must be a Float32Array (or an array of numbers)`);
  if (rewards.length !== rows) throw new BanditError(`${op}: ${rows} arms but ${rewards.length} rewards`);
  checkFinite(op, 'rewards', rewards, 1);
}

/**
 * The played arms' contexts as B×dim. Shared contexts are B×dim; per-arm contexts may be
 * B×arms×dim (the played arm's row is taken) or already B×dim. B comes from `arms`, so the two
 * per-arm forms are told apart without guessing (they coincide, and agree, when arms = 1).
 * `name` is what messages call the contexts.
 */
export function playedRows(op: string, layout: ContextLayout, contexts: unknown, chosen: Int32Array, name = 'contexts'): Float32Array {
  if (!isNumberArray(contexts)) throw new BanditError(`${op}: ${name} must be a Float32Array (or an array of numbers)`);
  const rows = chosen.length, d = layout.dim;
  if (contexts.length === rows * d) {
    checkFinite(op, name, contexts, d);
    return Float32Array.from(contexts);
  }
  if (layout.perArm && contexts.length === rows * layout.arms * d) {
    const out = new Float32Array(rows * d);
    for (let i = 0; i < rows; i++) {
      const from = (i * layout.arms + chosen[i]!) * d;
      for (let j = 0; j < d; j++) out[i * d + j] = contexts[from + j]!;
    }
    checkFinite(op, `${name} (played rows)`, out, d);
    return out;
  }
  const forms = layout.perArm ? `${rows}×${d} or ${rows}×${layout.arms}×${d}` : `${rows}×${d}`;
  throw new BanditError(`${op}: ${name} has ${contexts.length} values; ${rows} arms need ${forms}`);
}
