import type { BackendInfo } from '../core/backend.js';
import { BanditError, BackendError } from '../core/errors.js';
import {
  markedBuffers, requireEndpoint, revivedError, withoutCallbacks,
  type Endpoint, type EndpointMessage, type MethodsOf, type ModelKind, type Opened, type Portable, type RemoteMethod, type StaticResult,
  type RemoteProperty, type RequestBody, type Response, type SendableArgs, type WorkerModel, type WorkerModels,
} from './protocol.js';

/**
 * A model living in a worker: the model's own public methods (select, decide, reward, update,
 * addArms, retireArms, warmStart, save, train, fit, diagnostics, …), each taking the model's
 * arguments (`Sendable`) and returning a promise of what the model returns (`Portable`), and its
 * properties (options, itemIds, retiredArms, …) as promises. Arguments are copied when the call
 * is made (refilling an input array right after is safe) unless marked with
 * `BanditWorker.transfer`; typed arrays in results are transferred, not copied. Calls are
 * answered in the order they were made.
 *
 * @example
 * const model: RemoteModel<LinUCB> = await bandits.create('LinUCB', { arms: 10, dim: 4, seed: 1 });
 * const { arms, propensities, eventIds } = await model.decide(contexts, { k: 2 });
 * await model.reward(eventIds, rewards);
 * const ids = await model.itemIds;
 */
export type RemoteModel<M> = {
  readonly [K in MethodsOf<M> & RemoteMethod]: M[K] extends (...args: infer A) => infer R
    ? (...args: SendableArgs<A>) => Promise<Portable<Awaited<R>>>
    : never;
} & {
  readonly [P in Exclude<keyof M, MethodsOf<M>> & RemoteProperty]: Promise<Portable<M[P]>>;
} & RemoteHandle;

/**
 * What every remote model has besides the model's members.
 *
 * @example
 * if (!model.disposed) await model.dispose();
 */
export interface RemoteHandle {
  /** The model class, as `create` and `load` name it. */
  readonly kind: ModelKind;
  /** Whether `dispose()` was called (or the BanditWorker closed or terminated). */
  readonly disposed: boolean;
  /**
   * Frees the model in the worker once the calls made before it are done; calls made after
   * reject with a BanditError.
   */
  dispose(): Promise<void>;
}

/**
 * The arguments of a model class's static method `N` after the backend (the worker passes its
 * own), as they cross.
 *
 * @example
 * const args: WorkerStaticArgs<'LinUCB', 'armsPerBinding'> = [64];   // dim
 */
export type WorkerStaticArgs<K extends ModelKind, N extends string> = N extends keyof WorkerModels[K]
  ? WorkerModels[K][N] extends (backend: never, ...rest: infer R) => unknown ? SendableArgs<R> : never
  : never;

/**
 * The arguments of a kind's `create` after the backend (the options), as they cross.
 *
 * @example
 * const args: WorkerCreateArgs<'LinTS'> = [{ arms: 10, dim: 4, v: 0.5, seed: 1 }];
 */
export type WorkerCreateArgs<K extends ModelKind> = WorkerStaticArgs<K, 'create'>;

/**
 * The arguments of a kind's `load` after the backend (the bytes, and the overrides a kind takes), as they cross.
 *
 * @example
 * const args: WorkerLoadArgs<'LinUCB'> = [bytes, { armsPerShard: 64 }];
 */
export type WorkerLoadArgs<K extends ModelKind> = WorkerStaticArgs<K, 'load'>;

/**
 * The static methods of a kind other than `create` and `load` (those make models): what
 * `BanditWorker.callStatic` takes.
 *
 * @example
 * const n: WorkerStatic<'HybridLinUCB'> = 'armsPerBinding';
 */
export type WorkerStatic<K extends ModelKind> = Exclude<MethodsOf<WorkerModels[K]>, 'create' | 'load'> & string;

/** What `BanditWorker.start` takes besides the worker. */
export interface BanditWorkerOptions {
  /** The backend the worker creates. Default 'auto'. */
  readonly kind?: 'webgpu' | 'cpu' | 'auto';
}

interface Waiting {
  resolve(v: unknown): void;
  reject(e: Error): void;
  readonly where: string;
  readonly callbacks: ReadonlyArray<(...a: unknown[]) => unknown>;
}

const TERMINATED = 'the BanditWorker has been terminated';

/** Typed arrays the caller handed over (BanditWorker.transfer): their buffers move instead of being copied. */
const handedOver = new WeakSet<object>();

/**
 * The page's side of a worker that runs models (see `serveBandits`): models are created or
 * loaded in the worker and called through promises, so the main thread never waits on the GPU.
 * Requests are answered in the order they were made.
 *
 * @example
 * // the page (bandit-worker.js calls serveBandits()):
 * const worker = new Worker(new URL('./bandit-worker.js', import.meta.url), { type: 'module' });
 * const bandits = await BanditWorker.start(worker, { kind: 'webgpu' });
 * const model = await bandits.create('LinUCB', { arms: 100, dim: 16, seed: 1 });
 * const d = await model.decide(contexts);          // { arms, propensities, eventIds }
 * await model.reward(d.eventIds, rewards);
 * const bytes = await model.save();                 // Uint8Array, transferred from the worker
 * const again = await bandits.load('LinUCB', bytes);
 * await bandits.close();                            // disposes every model and the backend
 */
export class BanditWorker {
  private readonly endpoint: Endpoint;
  private readonly pending = new Map<number, Waiting>();
  private backendInfo: BackendInfo | null = null;
  private nextId = 1;
  /** Why calls are refused now (and the error class that says it), or null while the worker takes them. */
  private refusal: { readonly why: string; readonly Class: typeof BanditError | typeof BackendError } | null = null;
  private readonly onMessage = (event: EndpointMessage): void => {
    const res = event.data as Response;
    const waiting = res && typeof res === 'object' ? this.pending.get(res.id) : undefined;
    if (!waiting) return;
    if (res.type === 'callback') {
      waiting.callbacks[res.slot]?.(...res.args);
      return;
    }
    this.pending.delete(res.id);
    if (res.type === 'result') waiting.resolve(res.value);
    else waiting.reject(revivedError(res.error));
  };
  private readonly onFailure = (event: EndpointMessage): void => {
    const message = (event as { message?: unknown }).message;
    this.fail(`the worker failed${typeof message === 'string' && message ? ` (${message})` : ''}`, BackendError);
  };
  private readonly onUnreadable = (): void => {
    this.fail('a message from the worker could not be read', BanditError, false);
  };

  private constructor(endpoint: Endpoint) {
    this.endpoint = endpoint;
    endpoint.addEventListener('message', this.onMessage);
    endpoint.addEventListener('messageerror', this.onUnreadable);
    endpoint.addEventListener('error', this.onFailure);
    endpoint.start?.();
  }

  /**
   * Connects to a worker that called `serveBandits()` and has it create its backend. A worker
   * that fails to start rejects with a BackendError.
   *
   * @example
   * const bandits = await BanditWorker.start(new Worker('/bandit-worker.js', { type: 'module' }));
   * console.log(bandits.info.summary);
   */
  static async start(worker: Endpoint, options: BanditWorkerOptions = {}): Promise<BanditWorker> {
    requireEndpoint('BanditWorker.start', worker);
    const bandits = new BanditWorker(worker);
    try {
      bandits.backendInfo = (await bandits.request({ type: 'backend', kind: options.kind ?? 'auto' }, 'BanditWorker.start', [], [])) as BackendInfo;
    } catch (e) {
      bandits.detach();
      throw e;
    }
    return bandits;
  }

  /**
   * Marks a typed array to be moved to the worker by the next call that takes it, instead of
   * copied: no copy is made, and the array is empty (detached) on the page afterwards. The whole
   * buffer under the array moves with it.
   *
   * @example
   * await model.update(arms, BanditWorker.transfer(contexts), rewards);   // contexts.length is 0 now
   */
  static transfer<T extends ArrayBufferView>(array: T): T {
    handedOver.add(array);
    return array;
  }

  /** The worker's backend, as `backend.info` says there. */
  get info(): BackendInfo {
    return this.backendInfo!;
  }

  /**
   * Creates a model in the worker: the kind's `create` options (functions other than callbacks,
   * such as a clock, cannot cross).
   *
   * @example
   * const model = await bandits.create('NeuralTS', { dim: 16, hidden: [100], seed: 1 });
   */
  async create<K extends ModelKind>(kind: K, ...args: WorkerCreateArgs<K>): Promise<RemoteModel<WorkerModel<K>>> {
    return this.open(kind, 'create', args as readonly unknown[]);
  }

  /**
   * Loads saved bytes (from `save()`, a ModelStore, a file) into a model in the worker, with the
   * overrides the kind's `load` takes.
   *
   * @example
   * const model = await bandits.load('LinUCB', await store.get('shop'), { armsPerShard: 256 });
   */
  async load<K extends ModelKind>(kind: K, ...args: WorkerLoadArgs<K>): Promise<RemoteModel<WorkerModel<K>>> {
    return this.open(kind, 'load', args as readonly unknown[]);
  }

  /**
   * Calls a static method of a model class other than `create` and `load` in the worker, on the
   * worker's backend (e.g. `armsPerBinding`: how many arms one binding of the worker's device holds).
   *
   * @example
   * const perShard = await bandits.callStatic('LinUCB', 'armsPerBinding', 64);
   */
  async callStatic<K extends ModelKind, N extends WorkerStatic<K>>(
    kind: K, name: N, ...args: WorkerStaticArgs<K, N>
  ): Promise<N extends keyof WorkerModels[K] ? (WorkerModels[K][N] extends (...a: never[]) => infer R ? Portable<Awaited<R>> : never) : never> {
    if ((name as string) === 'create' || (name as string) === 'load') throw new BanditError(`BanditWorker.callStatic: ${kind}.${name} makes a model: call bandits.${name}`);
    const answer = (await this.call(`${kind}.${name}`, { type: 'static', model: kind, name }, args as readonly unknown[])) as StaticResult;
    return ('value' in answer ? answer.value : undefined) as never;
  }

  /**
   * Disposes every model and the backend in the worker once the calls made before are done;
   * later calls reject with a BanditError (the worker itself is the caller's to terminate).
   *
   * @example
   * await bandits.close();
   * worker.terminate();
   */
  async close(): Promise<void> {
    if (this.refusal) return;
    const closing = this.request({ type: 'close' }, 'BanditWorker.close', [], []);
    this.refusal = { why: 'the BanditWorker has been closed', Class: BanditError };
    try {
      await closing;
    } finally {
      this.detach();
    }
  }

  /**
   * Ends the worker now (`terminate()` of a Worker, `close()` of a port): every call not yet
   * answered rejects with a BanditError that says so, and so does every later call.
   *
   * @example
   * bandits.terminate();   // a pending model.train(…) rejects: "… terminated before the worker answered"
   */
  terminate(): void {
    if (this.refusal?.why === TERMINATED) return;
    if (this.endpoint.terminate) this.endpoint.terminate();
    else this.endpoint.close?.();
    this.fail('the BanditWorker was terminated before the worker answered', BanditError);
    this.refusal = { why: TERMINATED, Class: BanditError };
  }

  private async open<K extends ModelKind>(kind: K, name: 'create' | 'load', args: readonly unknown[]): Promise<RemoteModel<WorkerModel<K>>> {
    const answer = (await this.call(`${kind}.${name}`, { type: 'static', model: kind, name }, args)) as StaticResult;
    if (!('opened' in answer)) throw new BanditError(`${kind}.${name}: the worker made no model`);
    return this.remote(kind, answer.opened);
  }

  /** A call whose arguments (callbacks taken out, handed-over buffers moved) are posted now. */
  private call(where: string, body: { type: 'static'; model: ModelKind; name: string } | { type: 'member'; handle: number; name: string }, args: readonly unknown[]): Promise<unknown> {
    let sent: ReturnType<typeof withoutCallbacks>;
    try {
      sent = withoutCallbacks(where, args);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.request({ ...body, args: sent.args, callbacks: sent.callbacks }, where, markedBuffers(args, handedOver), sent.functions);
  }

  private remote<K extends ModelKind>(kind: K, opened: Opened): RemoteModel<WorkerModel<K>> {
    let disposed = false;
    const member = (name: RemoteMethod | RemoteProperty, args: readonly unknown[]): Promise<unknown> =>
      disposed || this.refusal
        ? this.refused(`${kind}.${name}`, this.refusal ?? { why: 'the model has been disposed', Class: BanditError })
        : this.call(`${kind}.${name}`, { type: 'member', handle: opened.handle, name }, args);
    const remote: Record<string, unknown> = {};
    for (const m of opened.methods) remote[m] = (...args: unknown[]) => member(m, args);
    for (const p of opened.properties) Object.defineProperty(remote, p, { get: () => member(p, []), enumerable: true });
    Object.defineProperties(remote, {
      kind: { value: kind, enumerable: true },
      disposed: { get: () => disposed || this.refusal !== null, enumerable: true },
      dispose: {
        value: (): Promise<void> => {
          if (disposed || this.refusal) return Promise.resolve();
          disposed = true;
          return this.request({ type: 'dispose', handle: opened.handle }, `${kind}.dispose`, [], []).then(() => undefined);
        },
      },
    });
    return Object.freeze(remote) as unknown as RemoteModel<WorkerModel<K>>;
  }

  private request(body: RequestBody, where: string, transfer: ArrayBuffer[], callbacks: Waiting['callbacks']): Promise<unknown> {
    if (this.refusal) return this.refused(where, this.refusal);
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, where, callbacks });
      try {
        this.endpoint.postMessage({ ...body, id }, transfer);
      } catch (e) {
        this.pending.delete(id);
        // A DataCloneError: something in the arguments (a class instance with private state, a symbol) cannot be copied.
        reject(new BanditError(`${where}: the arguments cannot be sent to the worker (${e instanceof Error ? e.message : String(e)})`));
      }
    });
  }

  private refused(where: string, { why, Class }: NonNullable<BanditWorker['refusal']>): Promise<never> {
    return Promise.reject(new Class(`${where}: ${why}`));
  }

  /** Rejects every call not yet answered (`${where}: ${why}`); with `refuseLater`, every later one too. */
  private fail(why: string, Class: typeof BanditError | typeof BackendError, refuseLater = true): void {
    if (refuseLater && !this.refusal) this.refusal = { why, Class };
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const w of waiting) w.reject(new Class(`${w.where}: ${why}`));
    if (refuseLater) this.detach();
  }

  private detach(): void {
    this.endpoint.removeEventListener?.('message', this.onMessage);
    this.endpoint.removeEventListener?.('messageerror', this.onUnreadable);
    this.endpoint.removeEventListener?.('error', this.onFailure);
  }
}
