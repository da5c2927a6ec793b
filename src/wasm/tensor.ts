import { Tensor, type TensorOptions } from '../core/tensor.js';
import type { WasmHeap } from './heap.js';

/** A tensor of the wasm backend: `size` f32 (or i32) values at byte offset `ptr` of the module's memory. */
export class WasmTensor extends Tensor {
  readonly owner: object;
  readonly ptr: number;
  private readonly heap: WasmHeap;

  constructor(owner: object, heap: WasmHeap, shape: readonly number[], options: TensorOptions) {
    super(shape, options.dtype ?? 'f32', options.label ?? `tensor[${shape.join('x')}]`);
    this.owner = owner;
    this.heap = heap;
    this.ptr = heap.alloc(this.size * 4);
  }

  /** Its values as a view of the memory: valid until the next allocation. */
  view(): Float32Array | Int32Array {
    const from = this.ptr >> 2;
    return this.dtype === 'i32' ? this.heap.i32.subarray(from, from + this.size) : this.heap.f32.subarray(from, from + this.size);
  }

  protected release(): void {
    this.heap.release(this.ptr);
  }
}

/** The byte offset of a wasm tensor (the public functions have checked it is one). */
export const ptrOf = (t: Tensor): number => (t as WasmTensor).ptr;
