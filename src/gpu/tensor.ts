import type { GpuRuntime } from './runtime.js';
import { Tensor, type DType } from '../core/tensor.js';

/** A tensor held in one GPU storage buffer (4 bytes an element, f32 or i32). */
export class GpuTensor extends Tensor {
  readonly buffer: GPUBuffer;
  readonly runtime: GpuRuntime;

  constructor(runtime: GpuRuntime, shape: readonly number[], dtype: DType, label: string) {
    super(shape, dtype, label);
    this.runtime = runtime;
    this.buffer = runtime.createBuffer(this.size * 4, label);
  }

  protected release(): void {
    if (!this.runtime.lost) this.runtime.releaseBuffer(this.buffer);
  }
}

/** The GPU buffer behind a tensor of the webgpu backend (the public functions have checked it). */
export const bufferOf = (t: Tensor): GPUBuffer => (t as GpuTensor).buffer;
