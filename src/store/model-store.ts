import { BanditError } from '../core/errors.js';
import { readModelHeader } from '../models/persist.js';

declare global {
  // Merges with lib "dom"'s IndexedDB factory where a project has it, stands in where it has not,
  // so the declarations compile without lib "dom" (as in a Node project).
  interface IDBFactory {}
}

/** What the store knows of one saved model without reading its bytes. */
export interface StoredModelInfo {
  readonly key: string;
  /** The model class that saved it, from the container header: 'LinUCB', 'NeuralUCB', … */
  readonly model: string;
  /** That model's format version, from the header. */
  readonly modelVersion: number;
  readonly byteLength: number;
  /** When it was put, in milliseconds since the epoch. */
  readonly savedAt: number;
}

export interface ModelStoreOptions {
  /** The IndexedDB database name. Default 'webgpu-bandits'. */
  readonly name?: string;
  /** The IndexedDB factory to use. Default `globalThis.indexedDB` (pages and workers). */
  readonly indexedDB?: IDBFactory;
}

/**
 * Thrown by ModelStore when the browser's storage fails: `quota` when the site is out of its
 * storage quota (the put changed nothing), `unavailable` when there is no IndexedDB here.
 *
 * @example
 * try { await store.put('shop', bytes); }
 * catch (e) { if (e instanceof ModelStoreError && e.reason === 'quota') await store.delete('old'); else throw e; }
 */
export class ModelStoreError extends Error {
  override readonly name = 'ModelStoreError';
  readonly reason: 'quota' | 'unavailable' | 'failed';
  constructor(reason: 'quota' | 'unavailable' | 'failed', message: string) {
    super(message);
    this.reason = reason;
  }
}

const BYTES = 'bytes';
const INFO = 'info';
const VERSION = 1;

interface BytesRecord {
  readonly key: string;
  readonly bytes: ArrayBuffer;
}

const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;

/**
 * Saved models in the browser's IndexedDB, by key: the bytes of `model.save()` with the model
 * kind and format version read from their header, so `list()` tells what is kept without
 * loading any of it. Tens of MB a model are fine (localStorage holds ~5 MB of strings and
 * `btoa` of a big model overflows the stack); each put is one transaction, all or nothing.
 * Works in pages and workers; in Node keep the bytes in a file (`writeFileSync`/`readFileSync`).
 *
 * @example
 * const store = await ModelStore.open();
 * await store.put('shop-linucb', await model.save());
 * const bytes = await store.get('shop-linucb');          // Uint8Array, or undefined
 * const again = bytes && await LinUCB.load(backend, bytes);
 * console.log(await store.list());                       // [{ key, model: 'LinUCB', modelVersion, byteLength, savedAt }]
 * await store.delete('shop-linucb');
 * store.close();
 */
export class ModelStore {
  private readonly db: IDBDatabase;
  private closed = false;

  private constructor(db: IDBDatabase) {
    this.db = db;
  }

  /**
   * Opens (creating if needed) the store's database.
   *
   * @example
   * const store = await ModelStore.open({ name: 'my-app-models' });
   */
  static async open(options: ModelStoreOptions = {}): Promise<ModelStore> {
    const name = options.name ?? 'webgpu-bandits';
    if (typeof name !== 'string' || name === '') throw new BanditError(`ModelStore.open: name must be a non-empty string, got ${String(name)}`);
    const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
    if (!factory) {
      throw new ModelStoreError(
        'unavailable',
        'ModelStore.open: IndexedDB is not available here (it is in pages and workers). In Node, keep the bytes of ' +
          "model.save() in a file: writeFileSync('model.bin', bytes), then Model.load(backend, readFileSync('model.bin')).",
      );
    }
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = factory.open(name, VERSION);
      request.onupgradeneeded = () => {
        const created = request.result;
        if (!created.objectStoreNames.contains(BYTES)) created.createObjectStore(BYTES, { keyPath: 'key' });
        if (!created.objectStoreNames.contains(INFO)) created.createObjectStore(INFO, { keyPath: 'key' });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(storeError(`ModelStore.open('${name}')`, request.error));
      request.onblocked = () => reject(new ModelStoreError('failed', `ModelStore.open('${name}'): blocked by another tab holding an older version open`));
    });
    return new ModelStore(db);
  }

  /**
   * Stores a model's saved bytes under `key`, replacing what was there; resolves to what the
   * store now knows of it. The bytes are copied: the caller may reuse its array.
   *
   * @example
   * const info = await store.put('shop', await model.save());   // { model: 'LinUCB', byteLength: … }
   */
  async put(key: string, bytes: Uint8Array): Promise<StoredModelInfo> {
    const where = `ModelStore.put(${JSON.stringify(key)})`;
    this.checkKey(key, where);
    const header = readModelHeader(bytes, `${where}: bytes`);
    const info: StoredModelInfo = { key, model: header.model, modelVersion: header.modelVersion, byteLength: bytes.byteLength, savedAt: Date.now() };
    // Exactly these bytes, whatever view (a Node Buffer, a subarray) they come in.
    const record: BytesRecord = { key, bytes: new Uint8Array(bytes).buffer };
    try {
      await this.transaction('readwrite', (stores) => {
        stores.bytes.put(record);
        stores.info.put(info);
      });
    } catch (e) {
      throw await quotaAware(where, bytes.byteLength, e);
    }
    return info;
  }

  /**
   * The bytes stored under `key`, or undefined.
   *
   * @example
   * const bytes = await store.get('shop');
   * if (bytes) model = await LinUCB.load(backend, bytes);
   */
  async get(key: string): Promise<Uint8Array | undefined> {
    const where = `ModelStore.get(${JSON.stringify(key)})`;
    this.checkKey(key, where);
    const record = await this.read<BytesRecord>(BYTES, key, where);
    return record ? new Uint8Array(record.bytes) : undefined;
  }

  /**
   * What the store knows of `key` (kind, version, size, time), or undefined; reads no model bytes.
   *
   * @example
   * const info = await store.info('shop');   // { model: 'LinUCB', modelVersion: 1, byteLength, savedAt }
   */
  async info(key: string): Promise<StoredModelInfo | undefined> {
    const where = `ModelStore.info(${JSON.stringify(key)})`;
    this.checkKey(key, where);
    return this.read<StoredModelInfo>(INFO, key, where);
  }

  /**
   * Every stored model's info, by key; reads no model bytes.
   *
   * @example
   * for (const { key, model, byteLength } of await store.list()) console.log(key, model, byteLength);
   */
  async list(): Promise<StoredModelInfo[]> {
    this.checkOpen('ModelStore.list');
    const all = await this.request<StoredModelInfo[]>(INFO, 'readonly', (s) => s.getAll(), 'ModelStore.list');
    return all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /**
   * Removes `key`; resolves to whether it was there.
   *
   * @example
   * if (await store.delete('old-model')) console.log('freed');
   */
  async delete(key: string): Promise<boolean> {
    const where = `ModelStore.delete(${JSON.stringify(key)})`;
    this.checkKey(key, where);
    const had = (await this.read<StoredModelInfo>(INFO, key, where)) !== undefined;
    await this.transaction('readwrite', (stores) => {
      stores.bytes.delete(key);
      stores.info.delete(key);
    }).catch((e) => {
      throw storeError(where, e);
    });
    return had;
  }

  /**
   * Closes the database; later calls throw a BanditError.
   *
   * @example
   * store.close();
   */
  close(): void {
    this.closed = true;
    this.db.close();
  }

  private checkOpen(where: string): void {
    if (this.closed) throw new BanditError(`${where}: the store has been closed`);
  }

  private checkKey(key: unknown, where: string): void {
    this.checkOpen(where);
    if (typeof key !== 'string' || key === '') throw new BanditError(`${where}: the key must be a non-empty string, got ${typeof key === 'string' ? "''" : String(key)}`);
  }

  private read<T>(store: string, key: string, where: string): Promise<T | undefined> {
    return this.request<T | undefined>(store, 'readonly', (s) => s.get(key), where);
  }

  private request<T>(store: string, mode: IDBTransactionMode, make: (s: IDBObjectStore) => IDBRequest, where: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const request = make(this.db.transaction(store, mode).objectStore(store));
      request.onsuccess = () => resolve(request.result as T);
      request.onerror = () => reject(storeError(where, request.error));
    });
  }

  /** One transaction over both stores; resolves when it commits, rejects with why it aborted. */
  private transaction(mode: IDBTransactionMode, body: (stores: { bytes: IDBObjectStore; info: IDBObjectStore }) => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const tx = this.db.transaction([BYTES, INFO], mode);
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error ?? new Error('the transaction was aborted'));
      tx.onerror = (ev) => ev.preventDefault(); // onabort follows with the error
      body({ bytes: tx.objectStore(BYTES), info: tx.objectStore(INFO) });
    });
  }
}

function storeError(where: string, cause: unknown): ModelStoreError {
  const name = (cause as { name?: string } | null)?.name ?? 'Error';
  const message = (cause as { message?: string } | null)?.message ?? String(cause);
  return new ModelStoreError(name === 'QuotaExceededError' ? 'quota' : 'failed', `${where}: IndexedDB failed (${name}: ${message})`);
}

/** A quota failure as a message a user can act on, with the site's usage where the browser tells it. */
async function quotaAware(where: string, bytes: number, cause: unknown): Promise<ModelStoreError> {
  const plain = storeError(where, cause);
  if (plain.reason !== 'quota') return plain;
  let usage = '';
  try {
    const estimate = await (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage?.estimate();
    if (estimate?.quota !== undefined) usage = `; this site uses ${mb(estimate.usage ?? 0)} of its ${mb(estimate.quota)} quota`;
  } catch {
    // no estimate: the message stands without it
  }
  return new ModelStoreError(
    'quota',
    `${where}: the browser refused to store ${mb(bytes)}: the storage quota is exceeded${usage}. Nothing was changed. ` +
      'Delete models you no longer need (store.delete(key)), or ask for persistent storage (navigator.storage.persist()).',
  );
}
