import { BanditError } from './errors.js';
import { checkContextScale, checkRewardScale } from './limits.js';
import type { DType, Tensor } from './tensor.js';
import type { Backend } from './backend.js';

/** Throws unless `t` is a live tensor of `backend` with the given dtype. */
export function checkTensor(backend: Backend, t: Tensor, name: string, op: string, dtype: DType = 'f32'): void {
  if (backend.disposed) throw new BanditError(`${op}: the backend has been disposed`);
  if (!t || typeof t !== 'object' || !('shape' in t)) throw new BanditError(`${op}: ${name} is not a tensor`);
  if (t.disposed) throw new BanditError(`${op}: ${name} (${t.label}) has been disposed`);
  if (!backend.owns(t)) throw new BanditError(`${op}: ${name} (${t.label}) belongs to another backend`);
  if (t.dtype !== dtype) throw new BanditError(`${op}: ${name} must be ${dtype}, got ${t.dtype}`);
}

/**
 * `checkTensor` (f32) for each tensor, named by its key, in order.
 *
 * @example
 * checkTensors(backend, 'gemm', { a, b });
 */
export function checkTensors(backend: Backend, op: string, named: Readonly<Record<string, Tensor>>): void {
  for (const name in named) checkTensor(backend, named[name]!, name, op);
}

/** A tensor seen as a batch of rows×cols matrices: rank 2 is a batch of one. */
export function asMatrices(t: Tensor, name: string, op: string): { batch: number; rows: number; cols: number } {
  const s = t.shape;
  if (s.length === 2) return { batch: 1, rows: s[0]!, cols: s[1]! };
  if (s.length === 3) return { batch: s[0]!, rows: s[1]!, cols: s[2]! };
  throw new BanditError(`${op}: ${name} must be rank 2 (rows×cols) or 3 (batch×rows×cols), got shape [${s.join(', ')}]`);
}

/** A tensor seen as a batch of vectors: rank 1 is a batch of one. */
export function asVectors(t: Tensor, name: string, op: string): { batch: number; len: number } {
  const s = t.shape;
  if (s.length === 1) return { batch: 1, len: s[0]! };
  if (s.length === 2) return { batch: s[0]!, len: s[1]! };
  throw new BanditError(`${op}: ${name} must be rank 1 (len) or 2 (batch×len), got shape [${s.join(', ')}]`);
}

/** The batch of the result when one side may be a single matrix broadcast over the other. */
export function broadcastBatch(op: string, ...batches: [string, number][]): number {
  const n = Math.max(...batches.map(([, b]) => b));
  for (const [name, b] of batches) {
    if (b !== 1 && b !== n) throw new BanditError(`${op}: ${name} has batch ${b}, expected 1 or ${n}`);
  }
  return n;
}

/** The largest finite float32: a larger magnitude becomes ±Infinity on its way to the GPU. */
export const F32_MAX = 3.4028234663852886e38;

/** What messages say a value must be. */
export const F32_RANGE = `finite and within the float32 range (|v| ≤ ${F32_MAX})`;

/**
 * Whether `v` is a number that stays finite as a float32 (|v| ≤ F32_MAX): a value finite in
 * float64 but not in float32 (1e39, -Number.MAX_VALUE) would become ±Infinity in the state.
 *
 * @example
 * isFiniteF32(1e38);   // true
 * isFiniteF32(1e39);   // false
 */
export function isFiniteF32(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= F32_MAX;
}

/**
 * The largest magnitude a saved state value may have: √F32_MAX ≈ 1.8e19. Every model squares its
 * state on the next update or score (x xᵀ, (A⁻¹x)(A⁻¹x)ᵀ, gᵀZ⁻¹g, Adam's v), so a larger value,
 * though finite in float32, overflows to ±Infinity there: a save holding one is a forgery or a
 * model already past its numerics, refused at load.
 */
export const SAVED_VALUE_MAX = Math.sqrt(F32_MAX);

/** Throws unless a scalar is a number that stays finite as a float32. */
export function checkFiniteNumber(op: string, name: string, value: number): void {
  if (!isFiniteF32(value)) throw new BanditError(`${op}: ${name} must be ${F32_RANGE}, got ${String(value)}`);
}

/**
 * Throws on the first value of `values` that is not a number finite as a float32, naming the
 * array (`what`) and the index; `op` begins the message.
 *
 * @example
 * checkFiniteF32Array('LinUCB.load', 'array b', saved);
 */
export function checkFiniteF32Array(op: string, what: string, values: ArrayLike<unknown>): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!isFiniteF32(v)) throw new BanditError(`${op}: ${what}[${i}] is ${String(v)}; values must be ${F32_RANGE}`);
  }
}

export function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new BanditError(`${what}: shape must be a non-empty list of positive integers, got [${String(shape)}]`);
  }
}

/**
 * The most bytes of state one model may hold (4 GiB). WebGPU says nothing of a device's memory,
 * and a huge allocation that fails can leave the device (or the process) unusable, so a size past
 * this is refused before anything is allocated.
 */
export const MAX_MODEL_BYTES = 2 ** 32;

/**
 * Refuses a model whose state would hold `values` numbers (4 bytes each on the GPU, 8 on the
 * float64 cpu backend) past MAX_MODEL_BYTES; `what` names the size ("1e9 arms × dim 8"). Called
 * on the sizes alone, before any allocation.
 *
 * @example
 * checkModelSize('LinUCB.create', `${arms} arms × dim ${dim}`, arms * (2 * dim * dim + 2 * dim), backend);
 */
export function checkModelSize(where: string, what: string, values: number, backend: Pick<Backend, 'kind'>): void {
  const bytes = values * (backend.kind === 'cpu' ? 8 : 4);
  if (!(bytes <= MAX_MODEL_BYTES)) {
    throw new BanditError(
      `${where}: ${what} need ${(bytes / 2 ** 30).toFixed(1)} GiB of state, over the ${MAX_MODEL_BYTES / 2 ** 30} GiB a model may hold; nothing was allocated`,
    );
  }
}

/** Part of a tensor to copy, in elements. */
export interface CopyRegion {
  readonly srcOffset: number;
  readonly dstOffset: number;
  readonly count: number;
}

/** Throws unless `src` (or the region of it) can be copied into `dst`; returns the region. */
export function checkCopy(backend: Backend, src: Tensor, dst: Tensor, region?: CopyRegion): CopyRegion {
  checkTensor(backend, src, 'src', 'copy', src.dtype);
  checkTensor(backend, dst, 'dst', 'copy', src.dtype);
  if (!region) {
    if (src.size !== dst.size) throw new BanditError(`copy: src has ${src.size} elements, dst has ${dst.size}`);
    return { srcOffset: 0, dstOffset: 0, count: src.size };
  }
  const { srcOffset, dstOffset, count } = region;
  for (const [name, v] of [['srcOffset', srcOffset], ['dstOffset', dstOffset], ['count', count]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new BanditError(`copy: ${name} must be an integer ≥ 0, got ${v}`);
  }
  if (srcOffset + count > src.size) throw new BanditError(`copy: src has ${src.size} elements, the region ends at ${srcOffset + count}`);
  if (dstOffset + count > dst.size) throw new BanditError(`copy: dst has ${dst.size} elements, the region ends at ${dstOffset + count}`);
  if (src === dst) throw new BanditError('copy: a region copy needs two different tensors');
  return region;
}

export function squareMatrices(t: Tensor, name: string, op: string): { batch: number; d: number } {
  const M = asMatrices(t, name, op);
  if (M.rows !== M.cols) throw new BanditError(`${op}: ${name} must hold square matrices, got ${M.rows}×${M.cols}`);
  return { batch: M.batch, d: M.rows };
}

export function checkVectors(t: Tensor, name: string, op: string, count: number, d: number): void {
  const V = asVectors(t, name, op);
  if (V.batch !== count || V.len !== d) {
    throw new BanditError(`${op}: ${name} must be ${count}×${d}, got [${t.shape.join(', ')}]`);
  }
}

/**
 * Whether two shapes are equal, dimension by dimension (a loop: checked on every call of the hot ops).
 *
 * @example
 * sameDims(a.shape, b.shape);
 */
export function sameDims(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function checkDistinct(op: string, ...named: [string, Tensor][]): void {
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      if (named[i]![1] === named[j]![1]) throw new BanditError(`${op}: ${named[i]![0]} and ${named[j]![0]} must be different tensors`);
    }
  }
}

/** Throws unless `arms` holds `count` indices of 0 … matrices−1 (or −1 where `allowNone`). */
export function checkArmIndices(op: string, arms: Int32Array, count: number, matrices: number, allowNone = false): void {
  if (!(arms instanceof Int32Array)) throw new BanditError(`${op}: arms must be an Int32Array`);
  if (arms.length !== count) throw new BanditError(`${op}: ${count} rows of x but ${arms.length} arm indices`);
  for (let u = 0; u < count; u++) {
    const k = arms[u]!;
    if (allowNone && k === -1) continue;
    if (k < 0 || k >= matrices) throw new BanditError(`${op}: arms[${u}] = ${k} is out of range 0..${matrices - 1}`);
  }
}

export function checkWeights(op: string, name: string, w: Float32Array, count: number): void {
  if (!(w instanceof Float32Array)) throw new BanditError(`${op}: ${name} must be a Float32Array`);
  if (w.length !== count) throw new BanditError(`${op}: ${count} rows of x but ${w.length} ${name}`);
  for (let u = 0; u < count; u++) {
    if (!isFiniteF32(w[u])) throw new BanditError(`${op}: ${name}[${u}] must be ${F32_RANGE}, got ${w[u]}`);
  }
}

// Checks of what callers pass to models.

/** How a model lays out its contexts. */
export interface ContextLayout {
  readonly arms: number;
  readonly dim: number;
  /** B×arms×dim instead of B×dim. */
  readonly perArm: boolean;
}

export function positiveInt(model: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new BanditError(`${model}: option ${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/**
 * A boolean option: `fallback` when left out, else true or false exactly (never 'false' read as true).
 *
 * @example
 * const perArm = booleanOption('LinUCB', 'perArmFeatures', options.perArmFeatures, false);
 */
export function booleanOption(model: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new BanditError(`${model}: option ${name} must be true or false, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`);
  return value;
}

export function numberOption(
  model: string, name: string, value: unknown, fallback: number, ok: (v: number) => boolean, what: string,
): number {
  if (value === undefined) {
    if (Number.isNaN(fallback)) throw new BanditError(`${model}: option ${name} is required (${what})`);
    return fallback;
  }
  if (!isFiniteF32(value) || !ok(value)) {
    throw new BanditError(`${model}: option ${name} must be ${what} (and finite in float32), got ${String(value)}`);
  }
  return value;
}

export function isNumberArray(v: unknown): v is ArrayLike<number> {
  return ArrayBuffer.isView(v) && !(v instanceof DataView) ? true : Array.isArray(v);
}

/** Throws on the first non-finite value, naming its row and column. */
export function checkFiniteValues(op: string, what: string, values: ArrayLike<number>, rowLength: number): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!isFiniteF32(v)) {
      const row = Math.floor(i / rowLength);
      throw new BanditError(`${op}: ${what}[${i}] (row ${row}, element ${i - row * rowLength}) is ${String(v)}; values must be ${F32_RANGE}`);
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
  checkFiniteValues(op, name, contexts, rowLength);
  checkContextScale(op, name, contexts, layout.dim);
  return contexts.length / rowLength;
}

/** Checks played arm indices and returns B. */
export function checkPlayedArms(op: string, arms: number, chosen: unknown): number {
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
  checkFiniteValues(op, 'rewards', rewards, 1);
  checkRewardScale(op, rewards);
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
    checkFiniteValues(op, name, contexts, d);
    checkContextScale(op, name, contexts, d);
    return Float32Array.from(contexts);
  }
  if (layout.perArm && contexts.length === rows * layout.arms * d) {
    // Every value is the caller's input, the unplayed arms' rows too: a NaN there is bad input.
    checkFiniteValues(op, name, contexts, layout.arms * d);
    const out = new Float32Array(rows * d);
    for (let i = 0; i < rows; i++) {
      const from = (i * layout.arms + chosen[i]!) * d;
      for (let j = 0; j < d; j++) {
        // Checked before the copy: a Float32Array would turn '1', true or null into numbers.
        const v: unknown = contexts[from + j];
        if (!isFiniteF32(v)) {
          throw new BanditError(`${op}: ${name}[${from + j}] (row ${i}, the played arm ${chosen[i]}, element ${j}) is ${String(v)}; values must be ${F32_RANGE}`);
        }
        out[i * d + j] = v;
      }
    }
    checkContextScale(op, `${name} (played rows)`, out, d);
    return out;
  }
  const forms = layout.perArm ? `${rows}×${d} or ${rows}×${layout.arms}×${d}` : `${rows}×${d}`;
  throw new BanditError(`${op}: ${name} has ${contexts.length} values; ${rows} arms need ${forms}`);
}

/**
 * Refuses a batch of `rows` rows when one of its tensors (`[name, bytes a row]`) would not fit
 * one storage binding of `limit` bytes, naming the most rows that would. `where` begins the
 * message; `unit` is what a row is called.
 *
 * @example
 * checkBatchBindings('LinUCB', backend.maxBindingBytes, rows, [['contexts', 4 * dim], ['scores', 4 * arms]]);
 */
export function checkBatchBindings(
  where: string, limit: number, rows: number, tensors: readonly (readonly [string, number])[], unit = 'rows',
): void {
  for (const [name, perRow] of tensors) {
    const bytes = rows * perRow;
    if (bytes > limit) {
      const most = Math.max(1, Math.floor(limit / perRow));
      throw new BanditError(`${where}: ${rows} ${unit} of ${name} need ${bytes} bytes, over the ${limit} one binding holds; pass at most ${most} ${unit} a call`);
    }
  }
}
