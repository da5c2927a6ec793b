import type { GpuRuntime } from './runtime.js';
import { Tensor, type DType } from '../core/tensor.js';

/** A tensor held in one GPU storage buffer (4 bytes an element, f32 or i32), taken from the runtime's pool. */
export class GpuTensor extends Tensor {
  readonly buffer: GPUBuffer;
  readonly runtime: GpuRuntime;

  /** `zeroed`: the buffer is zero-filled (else its contents are whatever its last user left). */
  constructor(runtime: GpuRuntime, shape: readonly number[], dtype: DType, label: string, zeroed: boolean) {
    super(shape, dtype, label);
    this.runtime = runtime;
    const bytes = this.size * 4;
    this.buffer = zeroed ? runtime.createBuffer(bytes, label) : runtime.acquire(bytes, label);
  }

  /** Back to the pool; reused once the open step (if it uses the buffer) is submitted. */
  protected release(): void {
    if (!this.runtime.lost) this.runtime.releaseBuffer(this.buffer);
  }
}

/** The GPU buffer behind a tensor of the webgpu backend (the public functions have checked it). */
export const bufferOf = (t: Tensor): GPUBuffer => (t as GpuTensor).buffer;
