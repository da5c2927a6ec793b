import { BackendError, BanditError } from '../core/errors.js';
import { rowArgmax } from '../ops/argmax.js';
import { sameDims } from '../core/check.js';
import { CallQueue } from './queue.js';
import type { DecisionHost } from './decisions.js';
import type { DType, Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { placeModel, type ModelSize } from '../backend.js';

/** Anything a model frees when it is disposed: a tensor, or a part that holds tensors. */
export interface Disposable {
  dispose(): void;
}

/**
 * Throws unless `backend` is a live backend from createBackend(); `model` names the model in the
 * message (`${model}.create: …`).
 *
 * @example
 * requireBackend('LinUCB', backend);
 */
export function requireBackend(model: string, backend: unknown, call = 'create'): asserts backend is Backend {
  const b = backend as Backend | null | undefined;
  if (!b || typeof b !== 'object' || typeof b.zeros !== 'function' || typeof b.owns !== 'function' || typeof b.maxBindingBytes !== 'number') {
    throw new BanditError(`${model}.${call}: a backend from createBackend() is required`);
  }
  if (b.disposed) throw new BanditError(`${model}.${call}: the backend has been disposed`);
}

/**
 * The backend a new model runs on and its options resolved for it: `backend` itself, or where
 * `backend` came from `kind: 'auto'`, the one its cost model gives the model's `size` (resolving
 * against the given backend first checks the options before anything is made).
 *
 * @example
 * const { backend: b, options: o } = await placed('LinUCB', backend, (b) => resolveOptions(b, options), (o) => ({ multiplyAdds: o.arms * o.dim ** 2 }));
 */
export async function placed<O>(model: string, backend: Backend, resolve: (b: Backend) => O, size: (o: O) => ModelSize): Promise<{ backend: Backend; options: O }> {
  const first = resolve(backend);
  const chosen = await placeModel(backend, model, size(first));
  return { backend: chosen, options: chosen === backend ? first : resolve(chosen) };
}

/**
 * `error` again, or, when the device ran out of memory, a BackendError that says what the model
 * tried to allocate (`what`) before the device's own message.
 *
 * @example
 * catch (e) { throw outOfMemory(e, `LinUCB.create: the device could not allocate ${arms} arms`); }
 */
export function outOfMemory(error: unknown, what: string): unknown {
  if (error instanceof BackendError && /OutOfMemory/i.test(error.message)) return new BackendError(`${what}: ${error.message}`);
  return error;
}

/**
 * A new model from `make` (which allocates its state), once the backend has made it; if that
 * fails, what was made is freed and an out-of-memory error says `what` was asked for.
 * `init` runs before the wait (a first derived state, say).
 *
 * @example
 * return built(() => new LinUCB(backend, o), `LinUCB.create: the device could not allocate ${o.arms} arms`);
 */
export async function built<M extends ModelBase>(make: () => M, what: string, init?: (model: M) => Promise<void>): Promise<M> {
  let model: M | null = null;
  try {
    model = make();
    await init?.(model);
    await model.backend.sync();
    return model;
  } catch (e) {
    model?.dispose();
    throw outOfMemory(e, what);
  }
}

/**
 * `model` (just created from a save's options) once `fill` has written the rest of the save into
 * it and the backend has done so; on any failure the model is freed and the error rethrown.
 *
 * @example
 * return restored(await LinUCB.create(backend, saved.options), (m) => m.state.write('a', saved.need('a', n)));
 */
export async function restored<M extends ModelBase>(model: M, fill: (model: M) => void | Promise<void>): Promise<M> {
  try {
    await fill(model);
    await model.backend.sync();
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

const TYPED_ARRAYS = {
  Float32Array, Float64Array, Int8Array, Int16Array, Int32Array, Uint8Array, Uint8ClampedArray, Uint16Array, Uint32Array, BigInt64Array, BigUint64Array,
} as const;

/** %TypedArray%.prototype[@@toStringTag]'s getter: the type's name for a typed array, undefined for anything else. */
const TYPED_ARRAY_TAG = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)!.get! as (this: unknown) => string | undefined;

/**
 * A copy of a call's argument as it is now: typed arrays copied (as their own type: a Node Buffer
 * becomes a Uint8Array), plain arrays and plain objects (contexts `{ arm, shared }`, logs,
 * options) copied member by member, a few levels deep; anything else (functions such as a
 * progress callback, class instances, primitives) as it is. What a queued call reads is then what
 * the caller passed when it made the call, whatever the caller writes into its buffers after.
 *
 * @example
 * const x = Float32Array.of(1, 2);
 * const copy = snapshot({ contexts: x });
 * x[0] = 9;   // copy.contexts[0] is still 1
 */
export function snapshot<T>(value: T, depth = 0): T {
  if (value === null || typeof value !== 'object' || depth > 4) return value;
  if (ArrayBuffer.isView(value)) {
    if (value instanceof DataView) return value;
    // The typed arrays' own @@toStringTag getter: their type from the internal slot (a Node
    // Buffer says 'Uint8Array'), without building Object.prototype.toString's string.
    const tag = TYPED_ARRAY_TAG.call(value) as keyof typeof TYPED_ARRAYS | undefined;
    const Typed = tag === undefined ? undefined : TYPED_ARRAYS[tag];
    if (!Typed) return value;
    const source = value as unknown as Float32Array;
    const copy = new (Typed as unknown as Float32ArrayConstructor)(source.length);
    copy.set(source);
    return copy as unknown as T;
  }
  if (Array.isArray(value)) return Array.from(value, (v: unknown) => snapshot(v, depth + 1)) as unknown as T;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) out[key] = snapshot((value as Record<string, unknown>)[key], depth + 1);
  return out as T;
}

/**
 * What every model shares: its backend, one queue its calls run through (each call sees the state
 * the one before left), the tensors and parts it owns (freed once, by `dispose`) and the scratch
 * tensors its calls keep from one call to the next while the sizes stay the same.
 *
 * @example
 * class Counter extends ModelBase {
 *   private readonly total = this.own(this.backend.zeros([1], { label: 'Counter total' }));
 *   constructor(backend: Backend) { super(backend, 'Counter'); }
 *   read(): Promise<number> { return this.run('read', async () => (await this.backend.read(this.total))[0]!); }
 * }
 */
export abstract class ModelBase {
  readonly backend: Backend;
  /** The model's name: the prefix of its messages and tensor labels ('LinUCB', …). */
  protected readonly model: string;
  private readonly calls = new CallQueue();
  private readonly owned = new Set<Disposable>();
  private readonly kept = new Map<string, Tensor>();
  private isDisposed = false;

  protected constructor(backend: Backend, model: string) {
    this.backend = backend;
    this.model = model;
  }

  /**
   * Queues a public call named `what`: it runs once every earlier call has settled, and rejects
   * after dispose. With `args` (the call's arguments), `body` gets a copy of them taken now, when
   * the call is made (see `snapshot`): a caller may refill its buffers as soon as the call returns,
   * awaited or not.
   */
  protected run<T>(what: string, body: () => Promise<T>): Promise<T>;
  protected run<A extends readonly unknown[], T>(what: string, args: readonly [...A], body: (...args: A) => Promise<T>): Promise<T>;
  protected run<A extends readonly unknown[], T>(what: string, a: readonly [...A] | (() => Promise<T>), b?: (...args: A) => Promise<T>): Promise<T> {
    const name = `${this.model}.${what}`;
    if (this.isDisposed) return this.calls.run(name, true, () => Promise.reject(new Error('unreachable')));
    // Checked again when the call runs: the backend may be disposed while it waits.
    const live = <R>(body: () => Promise<R>) => () => {
      if (this.backend.disposed) return Promise.reject(new BanditError(`${name}: the backend has been disposed (the model's state went with it)`));
      return body();
    };
    if (typeof a === 'function') return this.calls.run(name, false, live(a));
    let taken: A;
    try {
      taken = a.map((v) => snapshot(v)) as unknown as A;
    } catch (e) {
      return Promise.reject(new BanditError(`${name}: its arguments could not be read (${e instanceof Error ? e.message : String(e)})`));
    }
    return this.calls.run(name, false, live(() => b!(...taken)));
  }

  /** Takes ownership of `part`: `dispose()` frees it (once). */
  protected own<T extends Disposable>(part: T): T {
    this.owned.add(part);
    return part;
  }

  /**
   * A tensor kept for `key` from one call to the next while `shape` and `dtype` stay the same
   * (per-call temporaries of calls that repeat: contexts, scores, minibatches); a new shape
   * replaces it. Its contents are whatever the last call left.
   */
  protected scratch(key: string, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const t = this.kept.get(key);
    if (t && t.dtype === dtype && sameDims(t.shape, shape)) return t;
    t?.dispose();
    this.kept.delete(key);
    const made = this.backend.zeros(shape, { dtype, label: `${this.model} ${key}` });
    this.kept.set(key, made);
    return made;
  }

  /** The highest-scoring column of each row of `scores` (B×K; ties to the lowest), read back as B integers. */
  protected async argmaxRows(scores: Tensor): Promise<Int32Array> {
    const chosen = this.scratch('chosen', [scores.shape[0]!], 'i32');
    rowArgmax(this.backend, scores, chosen);
    return Int32Array.from(await this.backend.read(chosen));
  }

  /** What the model's Decisions use of it: its backend, its kept scratch tensors and its argmax. */
  protected get host(): DecisionHost {
    return (this.decisionHost ??= {
      backend: this.backend,
      scratch: (key, shape, dtype) => this.scratch(key, shape, dtype),
      argmaxRows: (scores) => this.argmaxRows(scores),
    });
  }

  private decisionHost: DecisionHost | undefined;

  /**
   * Frees the model's tensors (each once); every later call rejects with BanditError.
   *
   * @example
   * model.dispose();
   * await model.select(x).catch((e) => console.log(e.message));   // "LinUCB.select: the model has been disposed"
   */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    for (const t of this.kept.values()) t.dispose();
    this.kept.clear();
    for (const part of this.owned) part.dispose();
    this.owned.clear();
  }

  /**
   * Whether `dispose()` was called.
   *
   * @example
   * if (!model.disposed) model.dispose();
   */
  get disposed(): boolean {
    return this.isDisposed;
  }
}
