// The messages between a page's BanditWorker and serveBandits() inside a worker, and the types
// that make a remote model's members the model's own. Inputs are structured-cloned page → worker
// when the call is made (a snapshot; buffers the caller marked with BanditWorker.transfer are
// moved instead); results come back as copies made in the worker and transferred, so the page
// never pays for them and the worker never hands over a buffer its model may still hold.
import { BackendError, BanditError } from '../core/errors.js';
import type { HybridLinUCB } from '../linucb/hybrid.js';
import type { LinTS } from '../linucb/lints.js';
import type { LinUCB } from '../linucb/linucb.js';
import type { EmbeddingMLP } from '../neural/embedding-mlp.js';
import type { NeuralTS } from '../neural/neuralts.js';
import type { NeuralUCB } from '../neural/neuralucb.js';

/**
 * The model classes a worker serves, by the name the page uses (`bandits.create('LinTS', …)`).
 *
 * @example
 * type Options = Parameters<WorkerModels['LinTS']['create']>[1];   // LinTSOptions
 */
export interface WorkerModels {
  LinUCB: typeof LinUCB;
  LinTS: typeof LinTS;
  HybridLinUCB: typeof HybridLinUCB;
  NeuralUCB: typeof NeuralUCB;
  NeuralTS: typeof NeuralTS;
  EmbeddingMLP: typeof EmbeddingMLP;
}

/**
 * A model class a worker serves.
 *
 * @example
 * const kind: ModelKind = 'NeuralTS';
 */
export type ModelKind = keyof WorkerModels;
export const MODEL_KINDS = ['LinUCB', 'LinTS', 'HybridLinUCB', 'NeuralUCB', 'NeuralTS', 'EmbeddingMLP'] as const satisfies readonly ModelKind[];

/**
 * The model a kind's `create` makes.
 *
 * @example
 * const local: WorkerModel<'LinUCB'> = await LinUCB.create(backend, { arms: 4, dim: 2 });
 */
export type WorkerModel<K extends ModelKind> = Awaited<ReturnType<WorkerModels[K]['create']>>;

type AnyFunction = (...args: never[]) => unknown;

/**
 * The names of `M`'s public methods (what `keyof` sees: protected and private members are not in it).
 *
 * @example
 * type M = MethodsOf<LinUCB>;   // 'select' | 'decide' | 'update' | …
 */
export type MethodsOf<M> = { [K in keyof M]-?: M[K] extends AnyFunction ? K : never }[keyof M];

/**
 * The model methods that cross to a worker: every public method of every model kind but `dispose`.
 *
 * @example
 * REMOTE_METHODS.includes('decide');   // true
 */
export const REMOTE_METHODS = [
  'select', 'decide', 'scores', 'sampledScores', 'update', 'reward', 'warmStart', 'addArms', 'retireArms', 'armsOf', 'eligibleOf',
  'diagnostics', 'measureDrift', 'sharedCoefficients', 'save', 'train', 'fit', 'gradients', 'predict', 'addUsers', 'addItems', 'retireItems',
] as const;

/**
 * A model method a worker serves (each model serves those it has).
 *
 * @example
 * const m: RemoteMethod = 'decide';
 */
export type RemoteMethod = (typeof REMOTE_METHODS)[number];

/**
 * The model properties a page reads through a worker: every public one but `backend` and `disposed`.
 *
 * @example
 * REMOTE_PROPERTIES.includes('itemIds');   // true
 */
export const REMOTE_PROPERTIES = ['options', 'itemIds', 'retiredArms', 'layout', 'width', 'inputDim'] as const;

/**
 * A model property a worker serves (read as a promise: `await remote.itemIds`).
 *
 * @example
 * const p: RemoteProperty = 'retiredArms';
 */
export type RemoteProperty = (typeof REMOTE_PROPERTIES)[number];

/**
 * Option keys whose functions are called back on the page (the worker posts their arguments).
 *
 * @example
 * CALLBACK_OPTIONS;   // ['onProgress']
 */
export const CALLBACK_OPTIONS = ['onProgress'] as const;

/**
 * An option a function may be given for through a worker: the worker posts its arguments and the
 * page calls it, before the call's answer arrives. Its result is not sent back (the model needs
 * none), and an exception it throws is the page's, like an event listener's: the call in the
 * worker goes on.
 *
 * @example
 * await remote.fit(log, { epochs: 5, onProgress: (epoch, loss) => console.log(epoch, loss) });
 */
export type CallbackOption = (typeof CALLBACK_OPTIONS)[number];

type Primitive = string | number | boolean | bigint | symbol | null | undefined;
type FunctionKeys<T> = { [K in keyof T]-?: NonNullable<T[K]> extends AnyFunction ? K : never }[keyof T];

/**
 * What an argument of a remote call may be: the model's own parameter type, less the options
 * that are functions (a clock cannot run on another thread), except the callbacks
 * (`CallbackOption`), which run on the page.
 *
 * @example
 * type CreateOptions = Sendable<LinUCBOptions>;   // LinUCBOptions without `clock`
 */
export type Sendable<T> = T extends AnyFunction
  ? never
  : T extends Primitive | ArrayBufferView | readonly unknown[]
    ? T
    : [Exclude<FunctionKeys<T>, CallbackOption>] extends [never]
      ? T
      : Omit<T, Exclude<FunctionKeys<T>, CallbackOption>>;

/**
 * The arguments of a remote call: each the model's parameter, as `Sendable`.
 *
 * @example
 * type Args = SendableArgs<Parameters<LinUCB['decide']>>;
 */
export type SendableArgs<A extends readonly unknown[]> = { [I in keyof A]: Sendable<A[I]> };

/**
 * What a value the model returns is on the page: the same, less any functions in it (the
 * resolved `options` hold the delayed rewards' clock, which stays in the worker).
 *
 * @example
 * const d: Portable<Decision> = await remote.decide(contexts);
 */
export type Portable<T> = T extends AnyFunction
  ? undefined
  : T extends Primitive | ArrayBufferView
    ? T
    : T extends readonly unknown[]
      ? { [I in keyof T]: Portable<T[I]> }
      : { [K in keyof T as NonNullable<T[K]> extends AnyFunction ? never : K]: Portable<T[K]> };

/**
 * The static methods of the model classes that cross (each takes the backend first; the worker
 * passes its own): `create` and `load`, which make a model, and `armsPerBinding`.
 *
 * @example
 * STATIC_METHODS.includes('armsPerBinding');   // true
 */
export const STATIC_METHODS = ['create', 'load', 'armsPerBinding'] as const;

/**
 * A static method of a model class a worker serves.
 *
 * @example
 * const m: StaticMethod = 'armsPerBinding';
 */
export type StaticMethod = (typeof STATIC_METHODS)[number];

// Compile-time checks: a kind missing from MODEL_KINDS, a public model method or property missing
// from the lists above, or a listed name no model has fails the build here, naming it.
type Never<T extends never> = T;
type PropertiesOf<M> = Exclude<keyof M, MethodsOf<M> | 'backend' | 'disposed'>;
type EveryKindListed = Never<Exclude<ModelKind, (typeof MODEL_KINDS)[number]>>;
type EveryMethodServed = Never<{ [K in ModelKind]: Exclude<MethodsOf<WorkerModel<K>>, RemoteMethod | 'dispose'> }[ModelKind]>;
type NoStrayMethod = Never<Exclude<RemoteMethod, { [K in ModelKind]: MethodsOf<WorkerModel<K>> }[ModelKind]>>;
type EveryPropertyServed = Never<{ [K in ModelKind]: Exclude<PropertiesOf<WorkerModel<K>>, RemoteProperty> }[ModelKind]>;
type NoStrayProperty = Never<Exclude<RemoteProperty, { [K in ModelKind]: PropertiesOf<WorkerModel<K>> }[ModelKind]>>;
type EveryStaticServed = Never<{ [K in ModelKind]: Exclude<MethodsOf<WorkerModels[K]>, StaticMethod> }[ModelKind]>;
type NoStrayStatic = Never<Exclude<StaticMethod, { [K in ModelKind]: MethodsOf<WorkerModels[K]> }[ModelKind]>>;

/** One callback an argument carried: the option `key` of argument `arg`, removed before sending. */
export interface CallbackSlot {
  readonly arg: number;
  readonly key: CallbackOption;
}

export type Request =
  | { readonly id: number; readonly type: 'backend'; readonly kind: 'webgpu' | 'cpu' | 'auto' }
  | { readonly id: number; readonly type: 'static'; readonly model: ModelKind; readonly name: string; readonly args: readonly unknown[]; readonly callbacks: readonly CallbackSlot[] }
  | { readonly id: number; readonly type: 'member'; readonly handle: number; readonly name: string; readonly args: readonly unknown[]; readonly callbacks: readonly CallbackSlot[] }
  | { readonly id: number; readonly type: 'dispose'; readonly handle: number }
  | { readonly id: number; readonly type: 'close' };

/** A request before the client numbers it. */
export type RequestBody = { [T in Request['type']]: Omit<Extract<Request, { type: T }>, 'id'> }[Request['type']];

/** A model the worker made: its handle and the members it has. */
export interface Opened {
  readonly handle: number;
  readonly methods: readonly RemoteMethod[];
  readonly properties: readonly RemoteProperty[];
}

/** What a static method answered: a model it made (create, load), or its value. */
export type StaticResult = { readonly opened: Opened } | { readonly value: unknown };

/** An error as it crosses: its class name, message and own fields (BanditError has none; a subclass may). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly fields: Record<string, unknown>;
}

export type Response =
  | { readonly id: number; readonly type: 'result'; readonly value: unknown }
  | { readonly id: number; readonly type: 'error'; readonly error: WireError }
  | { readonly id: number; readonly type: 'callback'; readonly slot: number; readonly args: readonly unknown[] };

/** The part of a message event the endpoints read. */
export interface EndpointMessage {
  readonly data: unknown;
}

/**
 * What a message endpoint needs: a Worker, a worker's global scope, a MessagePort (in Node, a
 * `worker_threads` port). Written structurally, so the declarations need no lib "dom".
 * `terminate` (a Worker) or `close` (a port) is what `BanditWorker.terminate()` calls.
 */
export interface Endpoint {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message' | 'messageerror' | 'error', listener: (event: EndpointMessage) => void): void;
  removeEventListener?(type: 'message' | 'messageerror' | 'error', listener: (event: EndpointMessage) => void): void;
  start?(): void;
  terminate?(): void;
  close?(): void;
}

/**
 * Throws unless `endpoint` can post and listen for messages (`where` names the caller): a Node
 * `worker_threads` Worker cannot (it is an EventEmitter), a port of a MessageChannel can.
 */
export function requireEndpoint(where: string, endpoint: unknown): asserts endpoint is Endpoint {
  const e = endpoint as Partial<Endpoint> | null | undefined;
  if (!e || typeof e.postMessage !== 'function' || typeof e.addEventListener !== 'function') {
    throw new BanditError(`${where}: a message endpoint is required (a Worker, a worker's scope or a MessagePort; in Node, a worker_threads MessageChannel port)`);
  }
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

/**
 * `value` as it may cross: typed arrays copied (their buffers listed in `transfer`), arrays and
 * plain objects copied member by member, functions left out; anything else as it is (for the
 * structured clone). Copying in the worker means a result never detaches the model's own arrays.
 */
export function portable(value: unknown, transfer: ArrayBuffer[], depth = 0): unknown {
  if (ArrayBuffer.isView(value)) {
    const copy = (value as unknown as { slice(): ArrayBufferView }).slice?.() ?? new Uint8Array(value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength));
    if (copy.buffer instanceof ArrayBuffer) transfer.push(copy.buffer);
    return copy;
  }
  if (depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => portable(v, transfer, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (typeof v !== 'function') out[k] = portable(v, transfer, depth + 1);
  return out;
}

/**
 * The arguments of a call made ready to post: the callbacks (`CallbackOption` keys of an options
 * argument) taken out, with where they were; any other function is a BanditError that names it
 * (`where` is the call, e.g. 'LinUCB.create').
 */
export function withoutCallbacks(where: string, args: readonly unknown[]): { args: unknown[]; callbacks: CallbackSlot[]; functions: Array<(...a: unknown[]) => unknown> } {
  const callbacks: CallbackSlot[] = [];
  const functions: Array<(...a: unknown[]) => unknown> = [];
  const refuse = (what: string): never => {
    throw new BanditError(`${where}: ${what} is a function, which cannot be sent to a worker (only ${CALLBACK_OPTIONS.join(', ')} is called back on the page)`);
  };
  const out = args.map((arg, i) => {
    if (typeof arg === 'function') refuse(`argument ${i + 1}`);
    if (!isPlainObject(arg) || !Object.values(arg).some((v) => typeof v === 'function')) return arg;
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(arg)) {
      if (typeof v !== 'function') copy[k] = v;
      else if ((CALLBACK_OPTIONS as readonly string[]).includes(k)) {
        callbacks.push({ arg: i, key: k as CallbackOption });
        functions.push(v as (...a: unknown[]) => unknown);
      } else refuse(`${k}`);
    }
    return copy;
  });
  return { args: out, callbacks, functions };
}

/** The buffers of the typed arrays among `args` (and their options' members) that `marked` holds. */
export function markedBuffers(args: readonly unknown[], marked: WeakSet<object>): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown, depth: number): void => {
    if (ArrayBuffer.isView(v)) {
      if (marked.has(v) && v.buffer instanceof ArrayBuffer) out.add(v.buffer);
    } else if (depth < 2 && (Array.isArray(v) || isPlainObject(v))) {
      for (const x of Object.values(v)) visit(x, depth + 1);
    }
  };
  for (const a of args) visit(a, 0);
  return [...out];
}

/** `e` as it crosses to the page. */
export function wireError(e: unknown): WireError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) {
    if (k !== 'name' && k !== 'message' && k !== 'stack') fields[k] = portable(v, []);
  }
  return { name: e.name, message: e.message, fields };
}

const ERROR_CLASSES: Record<string, new (message: string) => Error> = { BanditError, BackendError, TypeError, RangeError };

/** The error a WireError was, as an instance of its own class (BanditError, BackendError, …) with its fields. */
export function revivedError(w: WireError): Error {
  const Class = ERROR_CLASSES[w.name];
  const e = Class ? new Class(w.message) : Object.assign(new Error(w.message), { name: w.name });
  return Object.assign(e, w.fields);
}
