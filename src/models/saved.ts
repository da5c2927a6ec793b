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

  /** The array `name`, which must hold exactly `length` values (and, with `finite`, only finite ones). */
  need(name: string, length: number, check: { readonly finite?: boolean } = {}): SavedArray {
    const a = this.arrays[name];
    if (!a || a.length !== length) throw new BanditError(`${this.model}.load: array ${name} should hold ${length} values, has ${a?.length ?? 'none'}`);
    if (check.finite) {
      for (let i = 0; i < a.length; i++) {
        if (!Number.isFinite(a[i]!)) throw new BanditError(`${this.model}.load: array ${name} holds ${a[i]} at ${i}`);
      }
    }
    return a;
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
