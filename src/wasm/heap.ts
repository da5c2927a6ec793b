import { BackendError } from '../core/errors.js';

const ALIGN = 16;
const PAGE = 65536;
const roundUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/**
 * The tensors' memory: regions of the module's linear memory above its stack and data
 * (`__heap_base`), handed out first-fit from a free list that merges neighbours, the top of the
 * heap growing the memory by whole pages. `memory.grow` detaches every view of the old buffer, so
 * views are taken afresh through `f32()` / `i32()` after any allocation, never kept.
 */
export class WasmHeap {
  private readonly memory: WebAssembly.Memory;
  private top: number;
  /** Free blocks sorted by address. */
  private readonly free: { ptr: number; size: number }[] = [];
  private readonly sizes = new Map<number, number>();
  private f32View: Float32Array;
  private i32View: Int32Array;
  private u8View: Uint8Array;

  constructor(memory: WebAssembly.Memory, heapBase: number) {
    this.memory = memory;
    this.top = roundUp(heapBase, ALIGN);
    this.f32View = new Float32Array(memory.buffer);
    this.i32View = new Int32Array(memory.buffer);
    this.u8View = new Uint8Array(memory.buffer);
  }

  /** Bytes in use (allocated regions, not counting free blocks below the top). */
  get used(): number {
    let n = 0;
    for (const s of this.sizes.values()) n += s;
    return n;
  }

  /** A region of at least `bytes` bytes, 16-aligned, contents unspecified. */
  alloc(bytes: number): number {
    const size = roundUp(Math.max(bytes, 1), ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const block = this.free[i]!;
      if (block.size < size) continue;
      const ptr = block.ptr;
      if (block.size === size) this.free.splice(i, 1);
      else {
        block.ptr += size;
        block.size -= size;
      }
      this.sizes.set(ptr, size);
      return ptr;
    }
    const ptr = this.top;
    this.ensure(ptr + size);
    this.top = ptr + size;
    this.sizes.set(ptr, size);
    return ptr;
  }

  /** Returns a region to the free list (merged with free neighbours; the top shrinks back). */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    let lo = 0, hi = this.free.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.free[mid]!.ptr < ptr) lo = mid + 1;
      else hi = mid;
    }
    this.free.splice(lo, 0, { ptr, size });
    const next = this.free[lo + 1];
    if (next && ptr + size === next.ptr) {
      this.free[lo]!.size += next.size;
      this.free.splice(lo + 1, 1);
    }
    const prev = this.free[lo - 1];
    if (prev && prev.ptr + prev.size === ptr) {
      prev.size += this.free[lo]!.size;
      this.free.splice(lo, 1);
      lo--;
    }
    const last = this.free[this.free.length - 1];
    if (last && last.ptr + last.size === this.top) {
      this.top = last.ptr;
      this.free.pop();
    }
  }

  private ensure(end: number): void {
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    try {
      this.memory.grow(Math.ceil((end - have) / PAGE));
    } catch (e) {
      throw new BackendError(`wasm: cannot grow the memory to ${end} bytes (${e instanceof Error ? e.message : String(e)})`);
    }
    this.f32View = new Float32Array(this.memory.buffer);
    this.i32View = new Int32Array(this.memory.buffer);
    this.u8View = new Uint8Array(this.memory.buffer);
  }

  /** The whole memory as f32 (index = byte offset / 4); valid until the next allocation. */
  get f32(): Float32Array {
    return this.f32View;
  }

  get i32(): Int32Array {
    return this.i32View;
  }

  get u8(): Uint8Array {
    return this.u8View;
  }
}

/**
 * Per-call scratch: one kept region that grows to the largest request, cut into aligned parts
 * (staged host arrays such as arm indices, and the kernels' temporaries). A call takes all its
 * parts at once, so a growth never moves a part handed out earlier in the same call.
 */
export class WasmScratch {
  private readonly heap: WasmHeap;
  private ptr = 0;
  private size = 0;

  constructor(heap: WasmHeap) {
    this.heap = heap;
  }

  /** Byte offsets of parts of the given byte sizes, each 16-aligned. */
  take(bytes: readonly number[]): number[] {
    const sizes = bytes.map((b) => roundUp(Math.max(b, 1), ALIGN));
    const total = sizes.reduce((a, b) => a + b, 0);
    if (total > this.size) {
      if (this.size > 0) this.heap.release(this.ptr);
      this.size = roundUp(Math.max(total, 2 * this.size), 4096);
      this.ptr = this.heap.alloc(this.size);
    }
    const out: number[] = [];
    let at = this.ptr;
    for (const s of sizes) {
      out.push(at);
      at += s;
    }
    return out;
  }
}
