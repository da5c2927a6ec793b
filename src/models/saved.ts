import { BanditError } from '../core/errors.js';
import { decodeModel, encodeModel, savedCounters, type SavedArray } from './persist.js';

/** What a model writes into the saved container: its options, its counters and its arrays. */
export interface ModelSave {
  readonly model: string;
  readonly version: number;
  readonly options: Record<string, unknown>;
  readonly counters: Record<string, unknown>;
  readonly arrays: Readonly<Record<string, SavedArray>>;
}

/**
 * The container bytes of a model: `{ options, counters }` in the header's meta, then the arrays.
 *
 * @example
 * const bytes = saveModel({ model: 'LinUCB', version: 1, options, counters: { updates: 3 }, arrays: { a, b } });
 */
export function saveModel(save: ModelSave): Uint8Array {
  return encodeModel({
    model: save.model,
    modelVersion: save.version,
    meta: { options: save.options, counters: save.counters },
    arrays: save.arrays,
  });
}

/**
 * Runs a model's `load` (`body`): a BanditError from inside it (the saved options refused by
 * `create`, say) is given the prefix `${model}.load:`, so every refusal names the call.
 *
 * @example
 * return loadSaved('LinUCB', async () => { … });
 */
export async function loadSaved<M>(model: string, body: () => Promise<M>): Promise<M> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof BanditError && !e.message.startsWith(`${model}.load`)) throw new BanditError(`${model}.load: the save is refused: ${e.message}`);
    throw e;
  }
}

/**
 * The overrides a `load` takes beside the save (what is not saved: a clock, a shard size),
 * checked: anything else, a saved option above all, is refused rather than silently replacing
 * what the save holds.
 *
 * @example
 * const o = loadOverrides('LinUCB', overrides, ['armsPerShard', 'clock']);
 */
export function loadOverrides(model: string, overrides: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (overrides === undefined) return {};
  if (!isObject(overrides)) throw new BanditError(`${model}.load: overrides must be an object ({ ${allowed.join(', ')} }), got ${String(overrides)}`);
  for (const key of Object.keys(overrides)) {
    if (!allowed.includes(key)) {
      throw new BanditError(`${model}.load: option ${key} cannot be overridden at load (the save holds the model's options); ${allowed.length > 0 ? `only ${allowed.join(", ")} may be given` : "it takes none"}`);
    }
  }
  return overrides;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A saved model opened for `load`: the container checked (magic, version, checksum, model name),
 * its options and counters, and the arrays, each taken with the length the model expects.
 * Every defect is a BanditError that names the model, the array or the counter.
 *
 * @example
 * const saved = SavedModelReader.open(bytes, 'LinUCB', [1]);
 * const model = await LinUCB.create(backend, saved.options as LinUCBOptions);
 * const b = saved.need('b', arms * dim);
 * const { updates } = saved.counts(['updates']);
 */
export class SavedModelReader {
  readonly options: Record<string, unknown>;
  readonly counters: Record<string, unknown>;
  readonly arrays: Readonly<Record<string, SavedArray>>;
  private readonly model: string;

  private constructor(model: string, options: Record<string, unknown>, counters: Record<string, unknown>, arrays: Readonly<Record<string, SavedArray>>) {
    this.model = model;
    this.options = options;
    this.counters = counters;
    this.arrays = arrays;
  }

  /** Decodes and checks `bytes` as a `model` of one of `versions`. */
  static open(bytes: Uint8Array, model: string, versions: readonly number[]): SavedModelReader {
    const saved = decodeModel(bytes, model, versions);
    const meta = saved.meta as { options?: unknown; counters?: unknown };
    if (!isObject(meta.options) || !isObject(meta.counters)) throw new BanditError(`${model}.load: the header lacks options or counters`);
    return new SavedModelReader(model, meta.options, meta.counters, saved.arrays);
  }

  /**
   * The array `name`, which must hold exactly `length` values (every float array's values were
   * checked finite in float32 when the bytes were decoded), each ≥ `min` when given.
   */
  need(name: string, length: number, check: { readonly min?: number } = {}): SavedArray {
    const a = this.arrays[name];
    if (!a || a.length !== length) throw new BanditError(`${this.model}.load: array ${name} should hold ${length} values, has ${a?.length ?? 'none'}`);
    if (check.min !== undefined) {
      for (let i = 0; i < a.length; i++) {
        if (!(a[i]! >= check.min)) throw new BanditError(`${this.model}.load: array ${name} holds ${a[i]} at ${i}; its values must be ≥ ${check.min}`);
      }
    }
    return a;
  }

  /**
   * Checks, before the model is allocated, that each array `lengths` names holds exactly that
   * many values: the sizes the header's options describe must be the arrays present, so a forged
   * `arms: 1e7` is refused without allocating anything.
   *
   * @example
   * saved.expect({ a: arms * dim * dim, b: arms * dim, plays: arms });
   */
  expect(lengths: Readonly<Record<string, number>>): void {
    for (const [name, length] of Object.entries(lengths)) this.need(name, length);
  }

  /**
   * Checks that each `d`×`d` block of `name` (present: an absent optional array passes) is
   * symmetric to within `1e-3` of the block's diagonal in `scale` (the array itself, or the high
   * part it is the low part of): every update adds the same to A_ij and A_ji (and A⁻¹ stays
   * symmetric to rounding), so a save where they differ is forged or corrupt, and an inverse refined
   * against it turns non-finite.
   *
   * @example
   * saved.symmetric('a', arms, dim);
   * saved.symmetric('aLo', arms, dim, saved.arrays.a);
   */
  symmetric(name: string, blocks: number, d: number, scale?: SavedArray): void {
    const a = this.arrays[name];
    if (!a) return;
    const s = scale ?? a;
    for (let k = 0; k < blocks; k++) {
      const at = k * d * d;
      for (let i = 0; i < d; i++) {
        for (let j = i + 1; j < d; j++) {
          const ij = at + i * d + j, ji = at + j * d + i;
          if (!(Math.abs(a[ij]! - a[ji]!) <= 1e-3 * (Math.abs(s[at + i * d + i]!) + Math.abs(s[at + j * d + j]!)))) {
            throw new BanditError(`${this.model}.load: array ${name} is not symmetric: block ${k} holds ${a[ij]} at (${i}, ${j}) and ${a[ji]} at (${j}, ${i})`);
          }
        }
      }
    }
  }

  /** Integer counters ≥ 0; a missing or bad one is a BanditError. */
  counts<K extends string>(keys: readonly K[]): Record<K, number> {
    return savedCounters(this.model, this.counters, keys);
  }

  /** A counter that may be null (never measured): a number, or null for anything else. */
  numberOrNull(key: string): number | null {
    const v = this.counters[key];
    return typeof v === 'number' ? v : null;
  }

  /**
   * Arm ids saved as an Int32Array (the arms touched since a check): each in 0 … arms−1. A model
   * saved before the array existed has none: `fallback` is returned.
   */
  armSet(name: string, arms: number, fallback: 'error' | 'all'): Set<number> {
    const list = this.arrays[name];
    if (list === undefined && fallback === 'all') return new Set(Array.from({ length: arms }, (_, k) => k));
    if (!(list instanceof Int32Array) || list.some((k) => k < 0 || k >= arms)) {
      throw new BanditError(`${this.model}.load: array ${name} is missing or holds an arm out of range`);
    }
    return new Set(list);
  }
}
