// The messages between a page's BanditWorker and serveBandits() inside a worker. Typed arrays are
// structured-cloned page → worker (so inputs are snapshotted at call time) and transferred back.

/** The model classes a worker serves, by the name the page uses. */
export type ModelKind = 'LinUCB' | 'HybridLinUCB' | 'NeuralUCB' | 'EmbeddingMLP';
export const MODEL_KINDS: readonly ModelKind[] = ['LinUCB', 'HybridLinUCB', 'NeuralUCB', 'EmbeddingMLP'];

/** The model methods that cross to a worker (each model serves those it has). */
export type RemoteMethod =
  | 'select' | 'scores' | 'update' | 'save' | 'diagnostics' | 'train' | 'fit' | 'predict' | 'gradients' | 'measureDrift' | 'sharedCoefficients';
export const REMOTE_METHODS: readonly RemoteMethod[] = [
  'select', 'scores', 'update', 'save', 'diagnostics', 'train', 'fit', 'predict', 'gradients', 'measureDrift', 'sharedCoefficients',
];

export type Request =
  | { readonly id: number; readonly type: 'backend'; readonly kind: 'webgpu' | 'cpu' | 'auto' }
  | { readonly id: number; readonly type: 'create'; readonly model: ModelKind; readonly options: unknown }
  | { readonly id: number; readonly type: 'load'; readonly model: ModelKind; readonly bytes: Uint8Array }
  | { readonly id: number; readonly type: 'call'; readonly handle: number; readonly method: string; readonly args: readonly unknown[] }
  | { readonly id: number; readonly type: 'dispose'; readonly handle: number }
  | { readonly id: number; readonly type: 'close' };

export type Response =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly name: string; readonly message: string };

/** The part of a message event the endpoints read. */
export interface EndpointMessage {
  readonly data: unknown;
}

/**
 * What a message endpoint needs: a Worker, a worker's global scope, a MessagePort. Written
 * structurally, so the declarations need no lib "dom".
 */
export interface Endpoint {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: EndpointMessage) => void): void;
  removeEventListener?(type: 'message', listener: (event: EndpointMessage) => void): void;
  start?(): void;
}

/** The buffers of the typed arrays in a result, to transfer instead of copy. */
export function transferables(value: unknown): ArrayBuffer[] {
  const out = new Set<ArrayBuffer>();
  const visit = (v: unknown, depth: number): void => {
    if (ArrayBuffer.isView(v)) {
      if (v.buffer instanceof ArrayBuffer) out.add(v.buffer);
    } else if (depth < 3 && v && typeof v === 'object') {
      for (const x of Array.isArray(v) ? v : Object.values(v)) visit(x, depth + 1);
    }
  };
  visit(value, 0);
  return [...out];
}

/** A request before the client numbers it. */
export type RequestBody = { [T in Request['type']]: Omit<Extract<Request, { type: T }>, 'id'> }[Request['type']];
