import { BanditError } from '../core/errors.js';
import type { AdapterDescription } from './device.js';
import { GpuRuntime } from './runtime.js';
import { GPU_OPS } from './kernels/index.js';
import { GpuTensor } from './tensor.js';
import { checkCopy, checkShape, type CopyRegion } from '../core/check.js';
import type { OpImpls } from '../core/op-args.js';
import type { HostArray, Tensor, TensorOptions } from '../core/tensor.js';
import type { AutoRole, Backend, BackendInfo } from '../core/backend.js';

/** The registry's WebGPU table with the runtime bound in, as the Backend interface calls it. */
function bindOps(rt: GpuRuntime): OpImpls {
  const bound: Record<string, (args: never) => void> = {};
  for (const [name, op] of Object.entries(GPU_OPS)) bound[name] = (args) => (op as (rt: GpuRuntime, a: unknown) => void)(rt, args);
  return bound as unknown as OpImpls;
}

function summarize(a: AdapterDescription): string {
  const name = [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' ') || 'unknown adapter';
  return `webgpu: ${name}${a.isFallbackAdapter ? ' (fallback/CPU adapter)' : ''} via ${a.route}`;
}

/** The WebGPU backend: tensors are GPU buffers, ops are WGSL kernels. */
export class WebGpuBackend implements Backend {
  readonly kind = 'webgpu' as const;
  readonly info: BackendInfo;
  readonly runtime: GpuRuntime;
  readonly ops: OpImpls;
  private readonly ownsDevice: boolean;
  private readonly keepAlive: unknown;
  private isDisposed = false;
  private readonly auto: AutoRole | undefined;

  /** `auto`: made by `kind: 'auto'` (why, for `info`, and what to tell when disposed). */
  constructor(device: GPUDevice, adapter: AdapterDescription, ownsDevice: boolean, keepAlive: unknown = null, auto?: AutoRole) {
    this.runtime = new GpuRuntime(device, adapter.isFallbackAdapter);
    this.auto = auto;
    this.info = auto
      ? { kind: 'webgpu', adapter, reason: auto.reason, placements: auto.placements, summary: `${summarize(adapter)}: ${auto.reason}` }
      : { kind: 'webgpu', adapter, summary: summarize(adapter) };
    this.ownsDevice = ownsDevice;
    this.keepAlive = keepAlive;
    this.ops = bindOps(this.runtime);
  }

  get maxBindingBytes(): number {
    return this.runtime.maxBindingBytes;
  }

  get device(): GPUDevice {
    return this.runtime.device;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  private live(what: string): void {
    if (this.isDisposed) throw new BanditError(`${what}: the backend has been disposed`);
    this.runtime.assertUsable();
  }

  owns(t: Tensor): boolean {
    return t instanceof GpuTensor && t.runtime === this.runtime;
  }

  tensor(data: ArrayLike<number>, shape: readonly number[], options: TensorOptions = {}): Tensor {
    const t = this.make('tensor', shape, options, false);
    try {
      this.write(t, data);
    } catch (e) {
      t.dispose();
      throw e;
    }
    return t;
  }

  zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    return this.make('zeros', shape, options, true);
  }

  private make(what: string, shape: readonly number[], options: TensorOptions, zeroed: boolean): GpuTensor {
    this.live(what);
    checkShape(shape, 'tensor');
    const dtype = options.dtype ?? 'f32';
    return new GpuTensor(this.runtime, shape, dtype, options.label ?? `tensor[${shape.join('x')}]`, zeroed);
  }

  /** Copies host data in without ending the open step (see GpuRuntime.write: ordered after the work encoded so far). */
  write(t: Tensor, data: ArrayLike<number>): void {
    this.live('write');
    if (!this.owns(t) || t.disposed) throw new BanditError(`write: ${t.label} is not a live tensor of this backend`);
    if (data.length !== t.size) {
      throw new BanditError(`write: ${t.label} holds ${t.size} elements, got ${data.length}`);
    }
    const host = t.dtype === 'i32' ? Int32Array.from(data) : data instanceof Float32Array ? data : Float32Array.from(data);
    this.runtime.write((t as GpuTensor).buffer, 0, host);
  }

  copy(src: Tensor, dst: Tensor, region?: CopyRegion): void {
    const r = checkCopy(this, src, dst, region);
    if (src === dst || r.count === 0) return;
    this.runtime.copy((src as GpuTensor).buffer, r.srcOffset * 4, (dst as GpuTensor).buffer, r.dstOffset * 4, r.count * 4);
  }

  async read(t: Tensor): Promise<HostArray> {
    this.live('read');
    if (!this.owns(t) || t.disposed) throw new BanditError(`read: ${t.label} is not a live tensor of this backend`);
    const bytes = await this.runtime.read((t as GpuTensor).buffer, t.size * 4);
    return t.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  async sync(): Promise<void> {
    this.live('sync');
    await this.runtime.sync();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.auto?.onDispose?.();
    this.runtime.destroy();
    if (this.ownsDevice) this.runtime.device.destroy();
    void this.keepAlive;
  }
}
