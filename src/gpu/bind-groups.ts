/**
 * Bind groups kept for reuse, keyed by kernel, uniform chunk and buffers. A group is dropped when
 * any of its buffers is destroyed — and its key from the index of every one of its buffers, so no
 * stale key is left behind — and the least recently used are dropped past `max` groups.
 */
export class BindGroupCache {
  /** In order of last use, least recent first. */
  private readonly groups = new Map<string, { readonly group: GPUBindGroup; readonly buffers: readonly GPUBuffer[] }>();
  private readonly keysByBuffer = new Map<GPUBuffer, Set<string>>();

  constructor(readonly max = 1024) {}

  get(key: string): GPUBindGroup | undefined {
    const entry = this.groups.get(key);
    if (!entry) return undefined;
    // Map order is insertion order: re-inserting marks it most recently used.
    this.groups.delete(key);
    this.groups.set(key, entry);
    return entry.group;
  }

  set(key: string, group: GPUBindGroup, buffers: readonly GPUBuffer[]): void {
    this.evict(key);
    this.groups.set(key, { group, buffers });
    for (const b of buffers) {
      let keys = this.keysByBuffer.get(b);
      if (!keys) this.keysByBuffer.set(b, (keys = new Set()));
      keys.add(key);
    }
    for (const [oldest] of this.groups) {
      if (this.groups.size <= this.max) break;
      this.evict(oldest);
    }
  }

  /** Drops every group that binds `buffer`. */
  forgetBuffer(buffer: GPUBuffer): void {
    const keys = this.keysByBuffer.get(buffer);
    if (!keys) return;
    for (const key of [...keys]) this.evict(key);
  }

  private evict(key: string): void {
    const entry = this.groups.get(key);
    if (!entry) return;
    this.groups.delete(key);
    for (const b of entry.buffers) {
      const keys = this.keysByBuffer.get(b);
      keys?.delete(key);
      if (keys?.size === 0) this.keysByBuffer.delete(b);
    }
  }

  clear(): void {
    this.groups.clear();
    this.keysByBuffer.clear();
  }

  /** Groups held, and buffers indexed (each has at least one group). */
  get size(): number {
    return this.groups.size;
  }

  get indexedBuffers(): number {
    return this.keysByBuffer.size;
  }

  /** Keys in the per-buffer index, all buffers together: with no stale key, Σ over groups of their buffers. */
  get indexedKeys(): number {
    let n = 0;
    for (const keys of this.keysByBuffer.values()) n += keys.size;
    return n;
  }
}
