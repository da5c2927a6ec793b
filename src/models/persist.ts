import { BanditError } from '../core/errors.js';
import { SAVED_VALUE_MAX } from '../core/check.js';

/**
 * The saved-model container shared by every model: self-describing and checked.
 *
 *   0   8 bytes  magic "WGBANDIT"
 *   8   u32      container version (CONTAINER_VERSION)
 *   12  u32      header length H
 *   16  H bytes  UTF-8 JSON header: { model, modelVersion, meta, arrays: [{ name, dtype, length }] }
 *   …            padding to 8 bytes, then each array in header order (little-endian), each padded to 8
 *   end−4 u32    CRC-32 (IEEE) of every byte before it
 */
export const MAGIC = 'WGBANDIT';
export const CONTAINER_VERSION = 1;

export type SavedDType = 'f32' | 'f64' | 'i32' | 'u32';
export type SavedArray = Float32Array | Float64Array | Int32Array | Uint32Array;

export interface SavedModel {
  readonly model: string;
  readonly modelVersion: number;
  readonly meta: Record<string, unknown>;
  readonly arrays: Readonly<Record<string, SavedArray>>;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const dtypeOf = (a: SavedArray): SavedDType =>
  a instanceof Float32Array ? 'f32' : a instanceof Float64Array ? 'f64' : a instanceof Int32Array ? 'i32' : 'u32';
const BYTES: Record<SavedDType, number> = { f32: 4, f64: 8, i32: 4, u32: 4 };
/** Typed arrays are host-endian; the format is little-endian. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const pad8 = (n: number): number => Math.ceil(n / 8) * 8;

export function encodeModel(saved: SavedModel): Uint8Array {
  const names = Object.keys(saved.arrays);
  const header = new TextEncoder().encode(
    JSON.stringify({
      model: saved.model,
      modelVersion: saved.modelVersion,
      meta: saved.meta,
      arrays: names.map((name) => ({ name, dtype: dtypeOf(saved.arrays[name]!), length: saved.arrays[name]!.length })),
    }),
  );
  let size = pad8(16 + header.length);
  for (const name of names) size += pad8(saved.arrays[name]!.byteLength);
  const out = new Uint8Array(size + 4);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(MAGIC), 0);
  view.setUint32(8, CONTAINER_VERSION, true);
  view.setUint32(12, header.length, true);
  out.set(header, 16);
  let at = pad8(16 + header.length);
  for (const name of names) {
    const a = saved.arrays[name]!;
    const bytes = BYTES[dtypeOf(a)];
    if (LITTLE_ENDIAN) out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    else for (let i = 0; i < a.length; i++) {
      const o = at + i * bytes;
      if (a instanceof Float32Array) view.setFloat32(o, a[i]!, true);
      else if (a instanceof Float64Array) view.setFloat64(o, a[i]!, true);
      else if (a instanceof Int32Array) view.setInt32(o, a[i]!, true);
      else view.setUint32(o, a[i]!, true);
    }
    at += pad8(a.byteLength);
  }
  view.setUint32(size, crc32(out.subarray(0, size)), true);
  return out;
}

/** What a saved model's container says about itself, read without decoding its arrays. */
export interface SavedModelHeader {
  /** The model class that wrote the bytes: 'LinUCB', 'HybridLinUCB', 'NeuralUCB', 'EmbeddingMLP'. */
  readonly model: string;
  /** That model's format version. */
  readonly modelVersion: number;
  /** The container's version (CONTAINER_VERSION when this library wrote it). */
  readonly containerVersion: number;
  readonly byteLength: number;
}

/**
 * Reads the header of saved-model bytes (any Uint8Array view) and checks their checksum, so a
 * store can label what it keeps; a defect is a BanditError naming `where`.
 *
 * @example
 * const { model, modelVersion } = readModelHeader(await linucb.save());   // 'LinUCB', 1
 */
export function readModelHeader(bytes: Uint8Array, where = 'readModelHeader'): SavedModelHeader {
  const fail = (why: string): never => {
    throw new BanditError(`${where}: ${why}`);
  };
  if (!(bytes instanceof Uint8Array)) fail(`expected the Uint8Array from a model's save(), got ${Object.prototype.toString.call(bytes)}`);
  if (bytes.length < 20) fail(`${bytes.length} bytes is too short to be a saved model (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== MAGIC) fail(`not a webgpu-bandits model (magic ${JSON.stringify(magic)}, expected "${MAGIC}")`);
  const stored = view.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) fail(`checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}): the bytes are corrupt or truncated`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length - 4) fail('header runs past the end (truncated?)');
  let header: { model?: unknown; modelVersion?: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  } catch {
    return fail('header is not valid JSON');
  }
  if (typeof header.model !== 'string' || typeof header.modelVersion !== 'number') fail('header lacks the model name or version');
  return { model: header.model as string, modelVersion: header.modelVersion as number, containerVersion: view.getUint32(8, true), byteLength: bytes.length };
}

/** Parses and checks a saved model; every defect is a BanditError that says what is wrong. */
export function decodeModel(bytes: Uint8Array, expectModel: string, supportedVersions: readonly number[]): SavedModel {
  const fail = (why: string): never => {
    throw new BanditError(`${expectModel}.load: ${why}`);
  };
  if (!(bytes instanceof Uint8Array)) fail('expected a Uint8Array');
  if (bytes.length < 20) fail(`${bytes.length} bytes is too short to be a saved model (truncated?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = new TextDecoder().decode(bytes.subarray(0, 8));
  if (magic !== MAGIC) fail(`not a webgpu-bandits model (magic ${JSON.stringify(magic)}, expected "${MAGIC}")`);
  const container = view.getUint32(8, true);
  if (container !== CONTAINER_VERSION) {
    fail(`container version ${container} is not supported (this library reads version ${CONTAINER_VERSION})`);
  }
  const stored = view.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) fail(`checksum mismatch (stored ${stored.toString(16)}, computed ${actual.toString(16)}): the bytes are corrupt or truncated`);
  const headerLength = view.getUint32(12, true);
  if (16 + headerLength > bytes.length - 4) fail('header runs past the end (truncated?)');
  let header: { model?: unknown; modelVersion?: unknown; meta?: unknown; arrays?: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + headerLength)));
  } catch {
    return fail('header is not valid JSON');
  }
  if (header.model !== expectModel) fail(`these bytes hold a ${String(header.model)}, not a ${expectModel}`);
  if (typeof header.modelVersion !== 'number' || !supportedVersions.includes(header.modelVersion)) {
    fail(`${expectModel} format version ${String(header.modelVersion)} is not supported (supported: ${supportedVersions.join(', ')})`);
  }
  if (!Array.isArray(header.arrays) || typeof header.meta !== 'object' || header.meta === null) fail('header lacks arrays or meta');
  // Every description checked against the bytes present before any array is allocated.
  const entries = header.arrays as unknown[];
  const seen = new Set<string>();
  let end = pad8(16 + headerLength);
  for (const [i, e] of entries.entries()) {
    const entry = e as { name?: unknown; dtype?: unknown; length?: unknown } | null;
    const name = typeof entry?.name === 'string' ? entry.name : `#${i}`;
    const per = typeof entry?.dtype === 'string' && Object.hasOwn(BYTES, entry.dtype) ? BYTES[entry.dtype as SavedDType] : 0;
    const length = entry?.length;
    if (typeof entry?.name !== 'string' || !per || typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
      fail(`array ${name} has a bad description (name, dtype f32/f64/i32/u32, length an integer ≥ 0)`);
    }
    if (seen.has(name)) fail(`array ${name} is described twice`);
    seen.add(name);
    end += pad8((length as number) * per);
    if (end > bytes.length - 4) fail(`array ${name} runs past the end (truncated?): the header describes more bytes than the ${bytes.length} present`);
  }
  if (end !== bytes.length - 4) fail(`${bytes.length - 4 - end} unexpected bytes after the arrays`);
  const arrays: Record<string, SavedArray> = {};
  let at = pad8(16 + headerLength);
  for (const entry of header.arrays as { name: string; dtype: SavedDType; length: number }[]) {
    const per = BYTES[entry.dtype];
    const byteLength = entry.length * per;
    if (LITTLE_ENDIAN) {
      // A fresh buffer of exactly this array: `bytes` may be any view (a Node Buffer's slice() is a
      // view of its whole pool, and `.buffer` of a view holds more than the view), at any offset.
      const copy = new ArrayBuffer(byteLength);
      new Uint8Array(copy).set(bytes.subarray(at, at + byteLength));
      arrays[entry.name] =
        entry.dtype === 'f32' ? new Float32Array(copy)
        : entry.dtype === 'f64' ? new Float64Array(copy)
        : entry.dtype === 'i32' ? new Int32Array(copy)
        : new Uint32Array(copy);
      at += pad8(byteLength);
      continue;
    }
    const out =
      entry.dtype === 'f32' ? new Float32Array(entry.length)
      : entry.dtype === 'f64' ? new Float64Array(entry.length)
      : entry.dtype === 'i32' ? new Int32Array(entry.length)
      : new Uint32Array(entry.length);
    for (let i = 0; i < entry.length; i++) {
      const o = at + i * per;
      out[i] =
        entry.dtype === 'f32' ? view.getFloat32(o, true)
        : entry.dtype === 'f64' ? view.getFloat64(o, true)
        : entry.dtype === 'i32' ? view.getInt32(o, true)
        : view.getUint32(o, true);
    }
    arrays[entry.name] = out;
    at += pad8(byteLength);
  }
  for (const [name, a] of Object.entries(arrays)) checkSavedValues(fail, name, a);
  return { model: expectModel, modelVersion: header.modelVersion as number, meta: header.meta as Record<string, unknown>, arrays };
}

/**
 * Refuses an array whose float values are not all finite with |v| ≤ SAVED_VALUE_MAX (the state on
 * a GPU is float32: a NaN, ±Inf, or a value whose square overflows float32, poisons every later
 * score). Every float array of a save is checked, by whatever name: arrays a format adds are
 * covered without a line of their own.
 */
function checkSavedValues(fail: (why: string) => never, name: string, a: SavedArray): void {
  if (!(a instanceof Float32Array) && !(a instanceof Float64Array)) return;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (!(Math.abs(v) <= SAVED_VALUE_MAX)) {
      fail(`array ${name} holds ${v} at ${i}; saved values must be finite with |v| ≤ ${SAVED_VALUE_MAX.toPrecision(3)} (the square of a larger one overflows float32 at the next update or score)`);
    }
  }
}

/** Reads integer counters (≥ 0) saved in a model's header; a missing or bad one is a BanditError. */
export function savedCounters<K extends string>(model: string, counters: Record<string, unknown>, keys: readonly K[]): Record<K, number> {
  const out = {} as Record<K, number>;
  for (const key of keys) {
    const v = counters[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new BanditError(`${model}.load: counter ${key} is invalid (an integer ≥ 0 expected, got ${String(v)})`);
    out[key] = v;
  }
  return out;
}
