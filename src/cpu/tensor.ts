import { Tensor, type TensorOptions } from '../core/tensor.js';

/** A tensor of the cpu backend: float64 (f32 tensors) or int32 storage. */
export class CpuTensor extends Tensor {
  data: Float64Array | Int32Array;
  readonly owner: object;

  constructor(owner: object, shape: readonly number[], options: TensorOptions) {
    const dtype = options.dtype ?? 'f32';
    super(shape, dtype, options.label ?? `tensor[${shape.join('x')}]`);
    this.owner = owner;
    this.data = dtype === 'i32' ? new Int32Array(this.size) : new Float64Array(this.size);
  }

  protected release(): void {
    this.data = new Float64Array(0);
  }
}

/** The float64 data behind a cpu tensor (the public functions have checked it). */
export const f64 = (t: Tensor): Float64Array => (t as CpuTensor).data as Float64Array;
/** The int32 data behind an i32 cpu tensor. */
export const i32 = (t: Tensor): Int32Array => (t as CpuTensor).data as Int32Array;
