import { BanditError } from './errors.js';
import type { Backend, DType, Tensor } from './op-args.js';

/** Throws unless `t` is a live tensor of `backend` with the given dtype. */
export function checkTensor(backend: Backend, t: Tensor, name: string, op: string, dtype: DType = 'f32'): void {
  if (backend.disposed) throw new BanditError(`${op}: the backend has been disposed`);
  if (!t || typeof t !== 'object' || !('shape' in t)) throw new BanditError(`${op}: ${name} is not a tensor`);
  if (t.disposed) throw new BanditError(`${op}: ${name} (${t.label}) has been disposed`);
  if (!backend.owns(t)) throw new BanditError(`${op}: ${name} (${t.label}) belongs to another backend`);
  if (t.dtype !== dtype) throw new BanditError(`${op}: ${name} must be ${dtype}, got ${t.dtype}`);
}

/** A tensor seen as a batch of rows×cols matrices: rank 2 is a batch of one. */
export function asMatrices(t: Tensor, name: string, op: string): { batch: number; rows: number; cols: number } {
  const s = t.shape;
  if (s.length === 2) return { batch: 1, rows: s[0]!, cols: s[1]! };
  if (s.length === 3) return { batch: s[0]!, rows: s[1]!, cols: s[2]! };
  throw new BanditError(`${op}: ${name} must be rank 2 (rows×cols) or 3 (batch×rows×cols), got shape [${s.join(', ')}]`);
}

/** A tensor seen as a batch of vectors: rank 1 is a batch of one. */
export function asVectors(t: Tensor, name: string, op: string): { batch: number; len: number } {
  const s = t.shape;
  if (s.length === 1) return { batch: 1, len: s[0]! };
  if (s.length === 2) return { batch: s[0]!, len: s[1]! };
  throw new BanditError(`${op}: ${name} must be rank 1 (len) or 2 (batch×len), got shape [${s.join(', ')}]`);
}

/** The batch of the result when one side may be a single matrix broadcast over the other. */
export function broadcastBatch(op: string, ...batches: [string, number][]): number {
  const n = Math.max(...batches.map(([, b]) => b));
  for (const [name, b] of batches) {
    if (b !== 1 && b !== n) throw new BanditError(`${op}: ${name} has batch ${b}, expected 1 or ${n}`);
  }
  return n;
}

export function checkFinite(op: string, name: string, value: number): void {
  if (!Number.isFinite(value)) throw new BanditError(`${op}: ${name} must be finite, got ${value}`);
}

export function checkShape(shape: readonly number[], what: string): void {
  if (!Array.isArray(shape) || shape.length === 0 || shape.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new BanditError(`${what}: shape must be a non-empty list of positive integers, got [${String(shape)}]`);
  }
}

/** Part of a tensor to copy, in elements. */
export interface CopyRegion {
  readonly srcOffset: number;
  readonly dstOffset: number;
  readonly count: number;
}

/** Throws unless `src` (or the region of it) can be copied into `dst`; returns the region. */
export function checkCopy(backend: Backend, src: Tensor, dst: Tensor, region?: CopyRegion): CopyRegion {
  checkTensor(backend, src, 'src', 'copy', src.dtype);
  checkTensor(backend, dst, 'dst', 'copy', src.dtype);
  if (!region) {
    if (src.size !== dst.size) throw new BanditError(`copy: src has ${src.size} elements, dst has ${dst.size}`);
    return { srcOffset: 0, dstOffset: 0, count: src.size };
  }
  const { srcOffset, dstOffset, count } = region;
  for (const [name, v] of [['srcOffset', srcOffset], ['dstOffset', dstOffset], ['count', count]] as const) {
    if (!Number.isInteger(v) || v < 0) throw new BanditError(`copy: ${name} must be an integer ≥ 0, got ${v}`);
  }
  if (srcOffset + count > src.size) throw new BanditError(`copy: src has ${src.size} elements, the region ends at ${srcOffset + count}`);
  if (dstOffset + count > dst.size) throw new BanditError(`copy: dst has ${dst.size} elements, the region ends at ${dstOffset + count}`);
  if (src === dst) throw new BanditError('copy: a region copy needs two different tensors');
  return region;
}
