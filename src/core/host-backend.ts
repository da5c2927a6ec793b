import { BanditError } from './errors.js';
import type { HostArray, Tensor, TensorOptions } from './tensor.js';
import type { AutoRole } from './backend.js';

/**
 * What the backends whose tensors live in this thread's memory (cpu: float64 arrays, wasm: regions
 * of one WebAssembly memory) share: the disposed state and the checks of `tensor`, `write` and
 * `read`. A subclass says which tensors are its own and how its storage is filled and copied out.
 */
export abstract class HostBackend {
  private isDisposed = false;

  /** `auto`: made by `kind: 'auto'`, which `dispose` tells. */
  constructor(protected readonly auto?: AutoRole) {}

  get disposed(): boolean {
    return this.isDisposed;
  }

  protected live(what: string): void {
    if (this.isDisposed) throw new BanditError(`${what}: the backend has been disposed`);
  }

  abstract owns(t: Tensor): boolean;
  abstract zeros(shape: readonly number[], options?: TensorOptions): Tensor;
  /** Writes `data` (the tensor's size, checked) into `t`'s storage. */
  protected abstract store(t: Tensor, data: ArrayLike<number>): void;
  /** A copy of `t`'s storage. */
  protected abstract contents(t: Tensor): HostArray;

  tensor(data: ArrayLike<number>, shape: readonly number[], options: TensorOptions = {}): Tensor {
    const t = this.zeros(shape, options);
    this.write(t, data);
    return t;
  }

  write(t: Tensor, data: ArrayLike<number>): void {
    this.live('write');
    if (!this.owns(t) || t.disposed) throw new BanditError(`write: ${t.label} is not a live tensor of this backend`);
    if (data.length !== t.size) throw new BanditError(`write: ${t.label} holds ${t.size} elements, got ${data.length}`);
    this.store(t, data);
  }

  async read(t: Tensor): Promise<HostArray> {
    this.live('read');
    if (!this.owns(t) || t.disposed) throw new BanditError(`read: ${t.label} is not a live tensor of this backend`);
    return this.contents(t);
  }

  async sync(): Promise<void> {
    this.live('sync');
  }

  dispose(): void {
    if (!this.isDisposed) this.auto?.onDispose?.();
    this.isDisposed = true;
  }
}
