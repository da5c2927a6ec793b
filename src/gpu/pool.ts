/**
 * GPU buffers kept for reuse: free lists by usage and normalised size, so a steady stream of
 * same-shaped steps (a select, an update, a training step) makes no buffers after its first run.
 *
 * A released buffer goes back to a free list only once nothing still to be submitted uses it: the
 * runtime says whether the open command encoder references it (then it waits, `pending`, for the
 * next submit) — work already submitted is ordered before anything later on the queue, so a
 * recycled buffer may be written and reused at once. Free buffers are bounded: by count per size
 * class, by total bytes (oldest destroyed first), and by idleness (large buffers unused for
 * IDLE_SUBMITS submits are destroyed).
 */

/** Bounds of the free lists. */
export interface PoolBounds {
  /** Most bytes held in free buffers (default 64 MiB). */
  readonly maxFreeBytes: number;
  /**
   * Most free buffers of one usage and size class: `maxFreePerBucket`, or more for small classes,
   * up to `bucketBytes` in all (so a step's many small uploads all come back). Defaults 16, 1 MiB.
   */
  readonly maxFreePerBucket: number;
  readonly bucketBytes: number;
  /** Free buffers of at least `idleTrimBytes` unused for this many submits are destroyed (default 256). */
  readonly idleSubmits: number;
  readonly idleTrimBytes: number;
}

export const DEFAULT_POOL_BOUNDS: PoolBounds = { maxFreeBytes: 64 * 2 ** 20, maxFreePerBucket: 16, bucketBytes: 2 ** 20, idleSubmits: 256, idleTrimBytes: 64 * 1024 };

/** Counters of the pool, for tests and the soak benchmark. */
export interface PoolStats {
  /** Buffers the pool made and has not destroyed: in use, pending and free. */
  readonly live: number;
  readonly liveBytes: number;
  readonly inUse: number;
  /** Released while the open step still uses them; free after its submit. */
  readonly pending: number;
  readonly free: number;
  readonly freeBytes: number;
  /** Buffers made, buffers handed out again from a free list, buffers destroyed (since creation). */
  readonly created: number;
  readonly reused: number;
  readonly destroyed: number;
}

/** Smallest size class: small per-op uploads share one. */
const MIN_CLASS = 256;
/** Above this, sizes round up to SIZE_STEP_LARGE only: large state tensors would waste up to a quarter. */
const LARGE = 2 ** 20;
const SIZE_STEP_LARGE = 64 * 1024;
/** How often (in submits) idle free buffers are looked for. */
const TRIM_EVERY = 32;
/** Free entries looked through for one last taken under the same label. */
const ROLE_SCAN = 16;

const roundUp = (v: number, to: number): number => Math.ceil(v / to) * to;

/**
 * The size class of a request: quarter-octave classes from 256 bytes to 1 MiB (at most a quarter
 * more than asked), 64 KiB steps above, at most `max` (the request itself rounded to 16 past it).
 *
 * @example
 * sizeClass(1000, 2 ** 28);   // 1024
 * sizeClass(4_096_000, 2 ** 28);   // 4_128_768 (63 × 64 KiB)
 */
export function sizeClass(bytes: number, max: number): number {
  const b = Math.max(MIN_CLASS, bytes);
  let size: number;
  if (b > LARGE) size = roundUp(b, SIZE_STEP_LARGE);
  else size = roundUp(b, 2 ** Math.max(4, Math.floor(Math.log2(b - 1)) - 2));
  return size <= max ? size : roundUp(Math.max(16, bytes), 16);
}

interface Entry {
  readonly buffer: GPUBuffer;
  readonly size: number;
  readonly usage: number;
  state: 'used' | 'pending' | 'free';
  /** Submit index when it became free. */
  freedAt: number;
  /** Order of its last acquire (a count over all acquires). */
  acquiredAt: number;
  /** The label it was last taken under: the role it had (e.g. 'scatterAddScaled index'). */
  label: string;
  /** An allocation that failed (out of memory): never handed out again. */
  failed: boolean;
}

export class BufferPool {
  private readonly entries = new Map<GPUBuffer, Entry>();
  /** Free buffers by usage and size class, most recently freed last. */
  private readonly freeLists = new Map<number, Entry[]>();
  /** Every free entry, oldest first (the order to destroy in when over maxFreeBytes). */
  private readonly freeOrder = new Set<Entry>();
  private pendingList: Entry[] = [];
  private freeBytes = 0;
  private liveBytes = 0;
  private submits = 0;
  private created = 0;
  private reused = 0;
  private destroyed = 0;
  private acquires = 0;

  /**
   * @param make creates a buffer (the runtime wraps it in an out-of-memory error scope)
   * @param forgetGroups called for a buffer destroyed (before it is) and for one handed out under
   *   another label than it last had: the runtime drops the bind groups that bind it. Groups made
   *   for a role are kept while their buffers keep that role; a buffer taken into another role
   *   (work of the same size class in between) would otherwise leave groups of combinations
   *   that never come again, filling the cache to its bound over a long run.
   */
  constructor(
    private readonly make: (size: number, usage: number, label: string) => GPUBuffer,
    private readonly forgetGroups: (buffer: GPUBuffer) => void,
    private readonly maxSize: number,
    readonly bounds: PoolBounds = DEFAULT_POOL_BOUNDS,
  ) {}

  /** A buffer of at least `bytes` with exactly `usage`; `fresh` when newly made (so zero-filled). */
  acquire(bytes: number, usage: number, label: string): { buffer: GPUBuffer; fresh: boolean } {
    const size = sizeClass(bytes, this.maxSize);
    const list = this.freeLists.get(size * 1024 + usage);
    const entry = list && this.takeFree(list, label);
    if (entry) {
      this.freeOrder.delete(entry);
      this.freeBytes -= entry.size;
      entry.state = 'used';
      entry.acquiredAt = this.acquires++;
      if (entry.label !== label) {
        this.forgetGroups(entry.buffer);
        entry.buffer.label = entry.label = label;
      }
      this.reused++;
      return { buffer: entry.buffer, fresh: false };
    }
    const buffer = this.make(size, usage, label);
    this.entries.set(buffer, { buffer, size, usage, state: 'used', freedAt: 0, acquiredAt: this.acquires++, label, failed: false });
    this.liveBytes += size;
    this.created++;
    return { buffer, fresh: true };
  }

  /**
   * The most recently freed entry last taken under `label` (among the top ROLE_SCAN), else the most
   * recently freed: a buffer goes back to the role it had, so the bind groups made for that role are
   * found again even when other work of the same size class came in between.
   */
  private takeFree(list: Entry[], label: string): Entry | undefined {
    for (let i = list.length - 1; i >= Math.max(0, list.length - ROLE_SCAN); i--) {
      if (list[i]!.label === label) return list.splice(i, 1)[0];
    }
    return list.pop();
  }

  /** Whether the pool made `buffer` and has not destroyed it. */
  owns(buffer: GPUBuffer): boolean {
    return this.entries.has(buffer);
  }

  /** Marks a buffer whose allocation failed: it is destroyed when released, not reused. */
  markFailed(buffer: GPUBuffer): void {
    const e = this.entries.get(buffer);
    if (e) e.failed = true;
  }

  /**
   * Gives a buffer back: free at once, or after the next submit when `stillEncoded` (the open
   * command encoder uses it). Buffers the pool did not make are destroyed.
   */
  release(buffer: GPUBuffer, stillEncoded: boolean): void {
    const e = this.entries.get(buffer);
    if (!e) {
      buffer.destroy();
      return;
    }
    if (e.state !== 'used') return;
    if (stillEncoded) {
      e.state = 'pending';
      this.pendingList.push(e);
    } else {
      this.toFree(e);
    }
  }

  /** Destroys a buffer now (a readback whose mapping failed); later use of it is an error. */
  discard(buffer: GPUBuffer): void {
    const e = this.entries.get(buffer);
    if (e) this.destroy(e);
    else buffer.destroy();
  }

  /** After a submit: pending buffers become free, and every TRIM_EVERY submits idle ones are trimmed. */
  afterSubmit(): void {
    this.submits++;
    const pending = this.pendingList;
    this.pendingList = [];
    // Last taken first onto the lists, so a step like this one pops each buffer into the role it
    // had (and finds its bind groups cached) whatever order the buffers were released in.
    pending.sort((a, b) => b.acquiredAt - a.acquiredAt);
    for (const e of pending) this.toFree(e);
    if (this.submits % TRIM_EVERY === 0) this.trimIdle();
  }

  private toFree(e: Entry): void {
    if (e.failed) return this.destroy(e);
    const key = e.size * 1024 + e.usage;
    let list = this.freeLists.get(key);
    if (!list) this.freeLists.set(key, (list = []));
    e.state = 'free';
    e.freedAt = this.submits;
    list.push(e);
    this.freeOrder.add(e);
    this.freeBytes += e.size;
    if (list.length > Math.max(this.bounds.maxFreePerBucket, Math.floor(this.bounds.bucketBytes / e.size))) this.destroy(list[0]!);
    for (const oldest of this.freeOrder) {
      if (this.freeBytes <= this.bounds.maxFreeBytes) break;
      this.destroy(oldest);
    }
  }

  private trimIdle(): void {
    for (const e of this.freeOrder) {
      if (this.submits - e.freedAt < this.bounds.idleSubmits) break;
      if (e.size >= this.bounds.idleTrimBytes) this.destroy(e);
    }
  }

  private destroy(e: Entry): void {
    if (e.state === 'free') {
      const key = e.size * 1024 + e.usage;
      const list = this.freeLists.get(key)!;
      list.splice(list.indexOf(e), 1);
      if (list.length === 0) this.freeLists.delete(key);
      this.freeOrder.delete(e);
      this.freeBytes -= e.size;
    } else if (e.state === 'pending') {
      this.pendingList.splice(this.pendingList.indexOf(e), 1);
    }
    this.entries.delete(e.buffer);
    this.liveBytes -= e.size;
    this.destroyed++;
    this.forgetGroups(e.buffer);
    e.buffer.destroy();
  }

  /** Destroys every buffer the pool made, in use or not (the runtime is going away). */
  destroyAll(): void {
    for (const e of [...this.entries.values()]) this.destroy(e);
  }

  stats(): PoolStats {
    let inUse = 0;
    for (const e of this.entries.values()) if (e.state === 'used') inUse++;
    return {
      live: this.entries.size, liveBytes: this.liveBytes, inUse, pending: this.pendingList.length, free: this.freeOrder.size,
      freeBytes: this.freeBytes, created: this.created, reused: this.reused, destroyed: this.destroyed,
    };
  }
}
