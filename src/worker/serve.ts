import { createBackend } from '../backend.js';
import type { Backend } from '../core/backend.js';
import { BanditError } from '../core/errors.js';
import { HybridLinUCB } from '../linucb/hybrid.js';
import { LinUCB } from '../linucb/linucb.js';
import { EmbeddingMLP } from '../neural/embedding-mlp.js';
import { NeuralUCB } from '../neural/neuralucb.js';
import { MODEL_KINDS, REMOTE_METHODS, transferables, type Endpoint, type EndpointMessage, type ModelKind, type Request, type Response } from './protocol.js';

interface ModelClass {
  create(backend: Backend, options: never): Promise<{ dispose(): void }>;
  load(backend: Backend, bytes: Uint8Array): Promise<{ dispose(): void }>;
}
const CLASSES: Record<ModelKind, ModelClass> = {
  LinUCB: LinUCB as unknown as ModelClass,
  HybridLinUCB: HybridLinUCB as unknown as ModelClass,
  NeuralUCB: NeuralUCB as unknown as ModelClass,
  EmbeddingMLP: EmbeddingMLP as unknown as ModelClass,
};

/**
 * Serves models to a page's `BanditWorker`: call it once in a module worker. The worker owns the
 * backend and every model, so the page's main thread never waits on the GPU (or the cpu
 * backend's arithmetic); WebGPU exists in workers as `navigator.gpu`.
 *
 * @example
 * // bandit-worker.ts, bundled as a module worker:
 * import { serveBandits } from 'webgpu-bandits';
 * serveBandits();
 */
export function serveBandits(endpoint: Endpoint = globalThis as unknown as Endpoint): void {
  let backend: Promise<Backend> | null = null;
  const models = new Map<number, { dispose(): void } & Record<string, unknown>>();
  let nextHandle = 1;

  const theBackend = (): Promise<Backend> => (backend ??= createBackend({ kind: 'auto' }));
  const modelOf = (handle: number, where: string) => {
    const m = models.get(handle);
    if (!m) throw new BanditError(`${where}: this model has been disposed`);
    return m;
  };
  const classOf = (kind: unknown, where: string): ModelClass => {
    if (!MODEL_KINDS.includes(kind as ModelKind)) throw new BanditError(`${where}: model must be one of ${MODEL_KINDS.join(', ')}, got ${String(kind)}`);
    return CLASSES[kind as ModelKind];
  };

  async function handle(req: Request): Promise<unknown> {
    switch (req.type) {
      case 'backend': {
        if (backend) throw new BanditError('BanditWorker.start: this worker already has a backend');
        backend = createBackend({ kind: req.kind });
        return (await backend).info;
      }
      case 'create':
      case 'load': {
        const cls = classOf(req.model, `BanditWorker.${req.type}`);
        const b = await theBackend();
        const model = req.type === 'create' ? await cls.create(b, req.options as never) : await cls.load(b, req.bytes);
        const h = nextHandle++;
        models.set(h, model as { dispose(): void } & Record<string, unknown>);
        return h;
      }
      case 'call': {
        const model = modelOf(req.handle, `${req.method}`);
        const fn = model[req.method];
        if (!(REMOTE_METHODS as readonly string[]).includes(req.method) || typeof fn !== 'function') {
          throw new BanditError(`BanditWorker: ${req.method} is not a method this model serves in a worker`);
        }
        return await (fn as (...a: unknown[]) => unknown).apply(model, req.args as unknown[]);
      }
      case 'dispose': {
        models.get(req.handle)?.dispose();
        models.delete(req.handle);
        return null;
      }
      case 'close': {
        for (const m of models.values()) m.dispose();
        models.clear();
        if (backend) (await backend.catch(() => null))?.dispose();
        backend = null;
        return null;
      }
    }
  }

  endpoint.addEventListener('message', (event: EndpointMessage) => {
    const req = event.data as Request;
    if (!req || typeof req.id !== 'number') return;
    handle(req).then(
      (value) => {
        const res: Response = { id: req.id, ok: true, value };
        endpoint.postMessage(res, transferables(value));
      },
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        const res: Response = { id: req.id, ok: false, name: err.name, message: err.message };
        endpoint.postMessage(res, []);
      },
    );
  });
  endpoint.start?.();
}
