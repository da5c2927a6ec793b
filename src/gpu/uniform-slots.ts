import type { DispatchRequest } from './kernel.js';

/** Bytes per uniform slot; also the dynamic-offset alignment (minUniformBufferOffsetAlignment ≤ 256). */
export const UNIFORM_SLOT = 256;
export const SLOTS_PER_CHUNK = 256;
const CHUNK_BYTES = UNIFORM_SLOT * SLOTS_PER_CHUNK;

/**
 * The uniforms of one step: every dispatch gets its own 256-byte slot in a chunk buffer, bound
 * with a dynamic offset, so one bind group a (kernel, chunk, buffers) serves every dispatch. The
 * slots are filled on the host and written with one queue write a chunk, just before the step's
 * submit; the chunks are made once and kept.
 */
export class UniformSlots {
  private readonly chunks: { readonly buffer: GPUBuffer; readonly staging: Uint8Array; readonly view: DataView }[] = [];
  private slot = 0;

  constructor(private readonly device: GPUDevice) {}

  /** Slots taken in the open step. */
  get used(): number {
    return this.slot;
  }

  get chunkCount(): number {
    return this.chunks.length;
  }

  chunk(index: number): GPUBuffer {
    return this.chunks[index]!.buffer;
  }

  /** The next slot, filled with the request's uniforms (nothing is taken when they are refused). */
  take(req: DispatchRequest): { chunk: number; offset: number } {
    const chunk = Math.floor(this.slot / SLOTS_PER_CHUNK);
    const offset = (this.slot % SLOTS_PER_CHUNK) * UNIFORM_SLOT;
    while (this.chunks.length <= chunk) {
      const staging = new Uint8Array(CHUNK_BYTES);
      this.chunks.push({
        buffer: this.device.createBuffer({
          label: `uniforms ${this.chunks.length}`, size: CHUNK_BYTES, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        staging,
        view: new DataView(staging.buffer),
      });
    }
    const { staging, view } = this.chunks[chunk]!;
    const layout = req.kernel.uniforms;
    if (req.params !== undefined) {
      if (!layout) throw new Error(`${req.kernel.name}: params given, but the kernel declares no uniform layout`);
      layout.write(req.params, view, offset);
    } else {
      if (layout) throw new Error(`${req.kernel.name}: declares ${layout.name}; pass params, not packed bytes`);
      if (req.uniforms.byteLength > UNIFORM_SLOT) throw new Error(`uniforms of ${req.uniforms.byteLength} bytes exceed one slot`);
      staging.set(new Uint8Array(req.uniforms), offset);
    }
    this.slot++;
    return { chunk, offset };
  }

  /** Writes the step's slots to their chunks (one queue write a chunk used) and starts the next step. */
  writeAll(queue: GPUQueue): void {
    const used = this.slot;
    for (let c = 0; c * SLOTS_PER_CHUNK < used; c++) {
      const bytes = Math.min(used - c * SLOTS_PER_CHUNK, SLOTS_PER_CHUNK) * UNIFORM_SLOT;
      const { buffer, staging } = this.chunks[c]!;
      queue.writeBuffer(buffer, 0, staging.buffer, 0, bytes);
    }
    this.slot = 0;
  }

  /** Forgets the open step's slots without writing them (the step was dropped). */
  reset(): void {
    this.slot = 0;
  }

  destroy(): void {
    for (const c of this.chunks) c.buffer.destroy();
    this.chunks.length = 0;
  }
}
