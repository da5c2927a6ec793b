import { createBackend } from '../backend.js';
import type { Backend } from '../core/backend.js';
import { BanditError } from '../core/errors.js';
import { HybridLinUCB } from '../linucb/hybrid.js';
import { LinTS } from '../linucb/lints.js';
import { LinUCB } from '../linucb/linucb.js';
import { EmbeddingMLP } from '../neural/embedding-mlp.js';
import { NeuralTS } from '../neural/neuralts.js';
import { NeuralUCB } from '../neural/neuralucb.js';
import {
  MODEL_KINDS, REMOTE_METHODS, REMOTE_PROPERTIES, STATIC_METHODS, portable, requireEndpoint, wireError,
  type CallbackSlot, type Endpoint, type EndpointMessage, type ModelKind, type Opened, type StaticResult, type Request, type Response, type WorkerModels,
} from './protocol.js';

const CLASSES = { LinUCB, LinTS, HybridLinUCB, NeuralUCB, NeuralTS, EmbeddingMLP } satisfies WorkerModels;

type Served = { dispose(): void } & Record<string, unknown>;

const listed = (names: readonly string[], name: unknown): boolean => typeof name === 'string' && names.includes(name);

/** What a request's errors and refusals name: the call as the page made it. */
function whereOf(req: Request, kindOf: (handle: number) => string): string {
  switch (req.type) {
    case 'backend': return 'BanditWorker.start';
    case 'static': return `${String(req.model)}.${String(req.name)}`;
    case 'member': return `${kindOf(req.handle)}.${String(req.name)}`;
    case 'dispose': return `${kindOf(req.handle)}.dispose`;
    case 'close': return 'BanditWorker.close';
  }
}

/**
 * Serves models to a page's `BanditWorker`: call it once in a module worker (or, in Node, with
 * the `worker_threads` port the page handed over). The worker owns the backend and every model,
 * so the page's main thread never waits on the GPU (or the cpu backend's arithmetic); WebGPU
 * exists in workers as `navigator.gpu`. Requests run one at a time, in the order they came.
 *
 * @example
 * // bandit-worker.ts, bundled as a module worker:
 * import { serveBandits } from 'webgpu-bandits';
 * serveBandits();
 */
export function serveBandits(endpoint: Endpoint = globalThis as unknown as Endpoint): void {
  requireEndpoint('serveBandits', endpoint);
  let backend: Promise<Backend> | null = null;
  const models = new Map<number, { kind: ModelKind; model: Served }>();
  let nextHandle = 1;
  let queue: Promise<void> = Promise.resolve();
  const kindOf = (handle: number): string => models.get(handle)?.kind ?? 'BanditWorker';

  /** `args` with each callback slot filled by a function that posts its arguments to the page. */
  const withCallbacks = (id: number, args: readonly unknown[], slots: readonly CallbackSlot[]): unknown[] => {
    const out = [...args];
    slots.forEach(({ arg, key }, slot) => {
      const call = (...a: unknown[]): void => {
        const transfer: ArrayBuffer[] = [];
        const res: Response = { id, type: 'callback', slot, args: portable(a, transfer) as unknown[] };
        endpoint.postMessage(res, transfer);
      };
      out[arg] = { ...(out[arg] as object | undefined), [key]: call };
    });
    return out;
  };

  async function handle(req: Request, where: string): Promise<unknown> {
    switch (req.type) {
      case 'backend': {
        if (backend) throw new BanditError(`${where}: this worker already has a backend`);
        const made = (backend = createBackend({ kind: req.kind }));
        return (await made.catch((e: unknown) => { backend = null; throw e; })).info;
      }
      case 'static': {
        if (!listed(MODEL_KINDS, req.model)) throw new BanditError(`BanditWorker: model must be one of ${MODEL_KINDS.join(', ')}, got ${String(req.model)}`);
        const cls = CLASSES[req.model];
        const fn = listed(STATIC_METHODS, req.name) ? (cls as unknown as Record<string, unknown>)[req.name] : undefined;
        if (typeof fn !== 'function') throw new BanditError(`${where}: not a static method ${req.model} serves in a worker`);
        const b = await (backend ??= createBackend({ kind: 'auto' }));
        const made: unknown = await (fn as (backend: Backend, ...a: unknown[]) => unknown).call(cls, b, ...withCallbacks(req.id, req.args, req.callbacks));
        if (!(made instanceof cls)) return { value: made } satisfies StaticResult;
        const model = made as unknown as Served;
        const handle = nextHandle++;
        models.set(handle, { kind: req.model, model });
        const opened: Opened = {
          handle,
          methods: REMOTE_METHODS.filter((m) => typeof model[m] === 'function'),
          properties: REMOTE_PROPERTIES.filter((p) => p in model),
        };
        return { opened } satisfies StaticResult;
      }
      case 'member': {
        const served = models.get(req.handle);
        if (!served) throw new BanditError(`${where}: the model has been disposed`);
        const { model } = served;
        const value = listed(REMOTE_METHODS, req.name) || listed(REMOTE_PROPERTIES, req.name) ? model[req.name] : undefined;
        if (listed(REMOTE_METHODS, req.name) && typeof value === 'function') {
          return await (value as (...a: unknown[]) => unknown).apply(model, withCallbacks(req.id, req.args, req.callbacks));
        }
        if (listed(REMOTE_PROPERTIES, req.name) && req.name in model) return value;
        throw new BanditError(`${where}: not a member ${served.kind} serves in a worker`);
      }
      case 'dispose': {
        models.get(req.handle)?.model.dispose();
        models.delete(req.handle);
        return null;
      }
      case 'close': {
        for (const { model } of models.values()) model.dispose();
        models.clear();
        if (backend) (await backend.catch(() => null))?.dispose();
        backend = null;
        return null;
      }
    }
  }

  const answer = async (req: Request): Promise<void> => {
    const where = whereOf(req, kindOf);
    let res: Response, transfer: ArrayBuffer[] = [];
    try {
      res = { id: req.id, type: 'result', value: portable(await handle(req, where), transfer) };
    } catch (e) {
      res = { id: req.id, type: 'error', error: wireError(e) };
      transfer = [];
    }
    try {
      endpoint.postMessage(res, transfer);
    } catch (e) {
      const why = new BanditError(`${where}: the ${res.type} cannot be sent to the page (${e instanceof Error ? e.message : String(e)})`);
      endpoint.postMessage({ id: req.id, type: 'error', error: wireError(why) } satisfies Response, []);
    }
  };

  endpoint.addEventListener('message', (event: EndpointMessage) => {
    const req = event.data as Request;
    if (!req || typeof req !== 'object' || typeof req.id !== 'number') return;
    queue = queue.then(() => answer(req));
  });
  endpoint.start?.();
}
