import type { BackendInfo } from '../core/backend.js';
import { BackendError, BanditError } from '../core/errors.js';
import type { HybridLinUCB, HybridLinUCBOptions } from '../linucb/hybrid.js';
import type { LinUCB, LinUCBOptions } from '../linucb/linucb.js';
import type { EmbeddingMLP, EmbeddingMLPOptions } from '../neural/embedding-mlp.js';
import type { NeuralUCB, NeuralUCBOptions } from '../neural/neuralucb.js';
import type { Endpoint, EndpointMessage, ModelKind, RemoteMethod, RequestBody, Response } from './protocol.js';

/** The model classes a worker serves, with their create options. */
export interface WorkerModels {
  LinUCB: { model: LinUCB; options: LinUCBOptions };
  HybridLinUCB: { model: HybridLinUCB; options: HybridLinUCBOptions };
  NeuralUCB: { model: NeuralUCB; options: NeuralUCBOptions };
  EmbeddingMLP: { model: EmbeddingMLP; options: EmbeddingMLPOptions };
}

/**
 * A model living in a worker: the model's own methods (select, scores, update, save, train, fit,
 * predict, diagnostics, …), each returning a promise of what the model returns. Arguments are
 * copied when the call is made (reusing an input array right after is safe); typed arrays in
 * results are transferred, not copied. Functions (such as fit's onProgress) cannot cross.
 */
export type RemoteModel<M> = {
  [K in RemoteMethod as K extends keyof M ? K : never]: K extends keyof M
    ? M[K] extends (...args: infer A) => infer R
      ? (...args: A) => Promise<Awaited<R>>
      : never
    : never;
} & {
  /** Frees the model in the worker; later calls reject with a BanditError. */
  dispose(): Promise<void>;
};

/** What `BanditWorker.start` takes besides the worker. */
export interface BanditWorkerOptions {
  /** The backend the worker creates. Default 'auto'. */
  readonly kind?: 'webgpu' | 'cpu' | 'auto';
}

/**
 * The page's side of a module worker that runs models (see `serveBandits`): models are created
 * or loaded in the worker and called through promises, so the main thread never waits on the GPU.
 *
 * @example
 * // the page (bandit-worker.js calls serveBandits()):
 * const worker = new Worker(new URL('./bandit-worker.js', import.meta.url), { type: 'module' });
 * const bandits = await BanditWorker.start(worker, { kind: 'webgpu' });
 * const model = await bandits.create('LinUCB', { arms: 100, dim: 16 });
 * const arms = await model.select(contexts);
 * await model.update(arms, contexts, rewards);
 * const bytes = await model.save();                 // Uint8Array, transferred from the worker
 * const again = await bandits.load('LinUCB', bytes);
 * await bandits.close();                            // disposes every model and the backend
 */
export class BanditWorker {
  /** The worker's backend, as `backend.info` says there. */
  readonly info: BackendInfo;
  private readonly endpoint: Endpoint;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; where: string }>();
  private nextId = 1;
  private closed = false;
  private readonly onMessage = (event: EndpointMessage): void => {
    const res = event.data as Response;
    const waiting = res && this.pending.get(res.id);
    if (!waiting) return;
    this.pending.delete(res.id);
    if (res.ok) waiting.resolve(res.value);
    else waiting.reject(res.name === 'BanditError' ? new BanditError(res.message) : res.name === 'BackendError' ? new BackendError(res.message) : Object.assign(new Error(res.message), { name: res.name }));
  };

  private constructor(endpoint: Endpoint, info: BackendInfo) {
    this.endpoint = endpoint;
    this.info = info;
  }

  /**
   * Connects to a worker that called `serveBandits()` and has it create its backend.
   *
   * @example
   * const bandits = await BanditWorker.start(new Worker('/bandit-worker.js', { type: 'module' }));
   * console.log(bandits.info.summary);
   */
  static async start(worker: Endpoint, options: BanditWorkerOptions = {}): Promise<BanditWorker> {
    const connecting = new BanditWorker(worker, { kind: 'cpu', summary: '' });
    worker.addEventListener('message', connecting.onMessage);
    worker.start?.();
    const info = (await connecting.request({ type: 'backend', kind: options.kind ?? 'auto' }, 'BanditWorker.start')) as BackendInfo;
    const started = new BanditWorker(worker, info);
    worker.removeEventListener?.('message', connecting.onMessage);
    worker.addEventListener('message', started.onMessage);
    return started;
  }

  /**
   * Creates a model in the worker.
   *
   * @example
   * const model = await bandits.create('NeuralUCB', { dim: 16, hidden: [100], seed: 1 });
   */
  async create<K extends ModelKind>(kind: K, options: WorkerModels[K]['options']): Promise<RemoteModel<WorkerModels[K]['model']>> {
    const handle = (await this.request({ type: 'create', model: kind, options }, `BanditWorker.create('${kind}')`)) as number;
    return this.remote(kind, handle);
  }

  /**
   * Loads saved bytes (from `save()`, a ModelStore, a file) into a model in the worker.
   *
   * @example
   * const model = await bandits.load('LinUCB', await store.get('shop'));
   */
  async load<K extends ModelKind>(kind: K, bytes: Uint8Array): Promise<RemoteModel<WorkerModels[K]['model']>> {
    const handle = (await this.request({ type: 'load', model: kind, bytes }, `BanditWorker.load('${kind}')`)) as number;
    return this.remote(kind, handle);
  }

  /**
   * Disposes every model and the backend in the worker (the worker itself is the caller's to terminate).
   *
   * @example
   * await bandits.close();
   * worker.terminate();
   */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.request({ type: 'close' }, 'BanditWorker.close');
    this.closed = true;
    this.endpoint.removeEventListener?.('message', this.onMessage);
  }

  private remote<K extends ModelKind>(kind: K, handle: number): RemoteModel<WorkerModels[K]['model']> {
    let disposed = false;
    return new Proxy({} as RemoteModel<WorkerModels[K]['model']>, {
      get: (_, method) => {
        if (typeof method !== 'string' || method === 'then') return undefined;
        if (method === 'dispose') {
          return async () => {
            if (disposed) return;
            disposed = true;
            await this.request({ type: 'dispose', handle }, `${kind}.dispose`);
          };
        }
        return (...args: unknown[]) =>
          disposed
            ? Promise.reject(new BanditError(`${kind}.${method}: this model has been disposed`))
            : this.request({ type: 'call', handle, method, args }, `${kind}.${method}`);
      },
    });
  }

  private request(body: RequestBody, where: string): Promise<unknown> {
    if (this.closed) return Promise.reject(new BanditError(`${where}: the BanditWorker has been closed`));
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, where });
      try {
        this.endpoint.postMessage({ ...body, id }, []);
      } catch (e) {
        this.pending.delete(id);
        // A DataCloneError: something in the arguments (a function, a class instance) cannot be copied.
        reject(new BanditError(`${where}: the arguments cannot be sent to the worker (${e instanceof Error ? e.message : String(e)})`));
      }
    });
  }
}
