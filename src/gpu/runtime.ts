import { BackendError } from '../core/errors.js';
import { BindGroupCache } from './bind-groups.js';
import { pipelineFor, pipelinesOf, type CachedPipeline } from './pipelines.js';
import { unwatchLoss, watchLoss } from './loss.js';
import { BufferPool, DEFAULT_POOL_BOUNDS, type PoolBounds, type PoolStats } from './pool.js';
import { SLOTS_PER_CHUNK, UNIFORM_SLOT, UniformSlots } from './uniform-slots.js';
import { params, type UniformFields } from './uniforms.js';
import type { DispatchRequest, KernelDescriptor } from './kernel.js';

// Kernels written before the uniform layouts were declared import these from here.
export { params, UNIFORM_SLOT };
export type { DispatchRequest, KernelDescriptor };

let nextBufferId = 1;
const bufferIds = new WeakMap<GPUBuffer, number>();
const idOf = (b: GPUBuffer): number => {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, (id = nextBufferId++));
  return id;
};

/** Steps whose uniforms fill this many chunks are submitted early (a bound on host staging). */
const MAX_STEP_SLOTS = SLOTS_PER_CHUNK * 64;

/** Recycled buffers up to this size are zeroed by a queue write, larger ones by clearBuffer in the step. */
const ZERO_WRITE_MAX = 256 * 1024;

const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** Counters of the runtime's own state, for tests and the soak benchmark. */
export interface RuntimeStats extends PoolStats {
  /** Cached bind groups, buffers in their index, and keys in that index (no stale key: one per group and buffer). */
  readonly bindGroups: number;
  readonly bindGroupBuffers: number;
  readonly bindGroupKeys: number;
  /** Uniform chunk buffers (made once, 64 KiB each). */
  readonly uniformChunks: number;
  readonly pipelines: number;
  readonly submits: number;
  readonly dispatches: number;
  /** Waits in progress (readbacks, syncs, error checks): 0 between calls. */
  readonly waits: number;
}

/**
 * The per-device machinery: pipeline cache, reusable uniform slots and bind groups, a buffer pool,
 * one command encoder per step (every dispatch until `flush()` goes into one command buffer and one
 * submit), readback through pooled staging buffers, error scopes and device loss.
 *
 * Host data reaches the GPU without ending the open step: `queue.writeBuffer` goes straight into a
 * buffer the open encoder does not use yet (the write is then ordered before every use of it), and
 * through a pooled upload and a copy in the encoder into one it does use (the copy lands after the
 * work encoded before it).
 */
export class GpuRuntime {
  readonly device: GPUDevice;
  readonly limits: GPUSupportedLimits;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private destroyed = false;
  /** Waits in progress, each rejected at once if the device is lost (see untilLost). */
  private readonly lostWaiters = new Set<(error: BackendError) => void>();

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  /** Buffers the open encoder references: they may not be rewritten by a queue write, nor recycled, before its submit. */
  private readonly usedInStep = new Set<GPUBuffer>();
  private readonly uniforms: UniformSlots;
  private readonly bindGroups = new BindGroupCache();
  private readonly pool: BufferPool;
  /** The first error reported since the last check (one promise, however many steps and allocations). */
  private pendingError: Promise<string | null> = Promise.resolve(null);
  private uncaptured: GPUError | null = null;
  /** Zeros for the queue writes that clear small recycled buffers (grown to the largest, ≤ ZERO_WRITE_MAX). */
  private zeroBytes = new Uint8Array(1024);
  /**
   * Storage buffers (tensors, per-op uploads and scratch) all have one usage, so they share free
   * lists. (GPUBufferUsage exists in Node only once the 'webgpu' package is loaded: read it here.)
   */
  private readonly storageUsage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  private readonly readbackUsage = GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST;
  /** Dispatches encoded and steps submitted since creation, for tests and benchmarks. */
  dispatchCount = 0;
  submitCount = 0;

  /**
   * Whether the device runs on a fallback (CPU) adapter such as SwiftShader, where invocations
   * are SIMD lanes and barriers are costly: some kernels pick their layout by it.
   */
  readonly fallbackAdapter: boolean;

  constructor(device: GPUDevice, fallbackAdapter: boolean, poolBounds: PoolBounds = DEFAULT_POOL_BOUNDS) {
    this.device = device;
    this.limits = device.limits;
    this.fallbackAdapter = fallbackAdapter;
    this.uniforms = new UniformSlots(device);
    this.pool = new BufferPool(
      (size, usage, label) => this.allocate(size, usage, label),
      (buffer) => this.bindGroups.forgetBuffer(buffer),
      this.maxBindingBytes,
      poolBounds,
    );
    watchLoss(device, this);
    device.addEventListener?.('uncapturederror', this.onUncapturedError);
  }

  get lost(): boolean {
    return this.lostInfo !== null;
  }

  /** The most bytes of one storage buffer: the smaller of maxStorageBufferBindingSize and maxBufferSize. */
  get maxBindingBytes(): number {
    return Math.min(this.limits.maxStorageBufferBindingSize, this.limits.maxBufferSize);
  }

  private readonly onUncapturedError = (ev: Event): void => {
    this.uncaptured ??= (ev as GPUUncapturedErrorEvent).error;
  };

  /** @internal Called once the device is lost (see watchLoss). */
  markLost(info: GPUDeviceLostInfo): void {
    this.lostInfo = info;
    const error = this.lostError();
    for (const reject of this.lostWaiters) reject(error);
    this.lostWaiters.clear();
  }

  private lostError(): BackendError {
    const info = this.lostInfo;
    return new BackendError(
      `webgpu-bandits: the GPU device was lost (${info?.reason ?? 'unknown'}${info?.message ? `: ${info.message}` : ''}); ` +
        'create a new backend to continue.',
    );
  }

  /** Throws if the device is lost or the backend disposed; call before any GPU work. */
  assertUsable(): void {
    if (this.destroyed) throw new BackendError('webgpu-bandits: this backend has been disposed.');
    if (this.lostInfo) throw this.lostError();
  }

  /** Checks a buffer size against maxBufferSize and maxStorageBufferBindingSize before anything is allocated. */
  checkBufferSize(bytes: number, what: string): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      throw new BackendError(`webgpu-bandits: ${what} needs ${bytes} bytes, not a size a buffer can have.`);
    }
    const binding = this.limits.maxStorageBufferBindingSize;
    const max = this.maxBindingBytes;
    if (bytes > max) {
      throw new BackendError(
        `webgpu-bandits: ${what} needs ${bytes} bytes (${mib(bytes)}) in one storage binding; this device allows ` +
          `${max} (maxStorageBufferBindingSize ${binding}, maxBufferSize ${this.limits.maxBufferSize}).`,
      );
    }
  }

  /**
   * A new buffer, in its own error scopes: an allocation the device cannot make (out of memory) is
   * reported by the next error check as a BackendError naming it, and the buffer is never reused,
   * instead of a stale GPUOutOfMemoryError surfacing in some later call.
   */
  private allocate(size: number, usage: number, label: string): GPUBuffer {
    this.device.pushErrorScope('out-of-memory');
    this.device.pushErrorScope('validation');
    const buffer = this.device.createBuffer({ label, size, usage });
    const validation = this.device.popErrorScope(), oom = this.device.popErrorScope();
    const failed = Promise.all([validation, oom]).then(([v, o]) => {
      const error = o ?? v;
      if (!error) return null;
      this.pool.markFailed(buffer);
      return `could not allocate ${label} (${size} bytes, ${mib(size)}): ${error.constructor.name}: ${error.message}`;
    });
    this.chainError(failed);
    return buffer;
  }

  private chainError(next: Promise<string | null>): void {
    const before = this.pendingError;
    this.pendingError = Promise.all([before, next]).then(([a, b]) => a ?? b);
  }

  /**
   * A storage buffer of at least `bytes` from the pool, its contents undefined: for op scratch that
   * the kernels write before they read. Give it back with `releaseBuffer`.
   */
  acquire(bytes: number, label: string): GPUBuffer {
    this.assertUsable();
    this.checkBufferSize(bytes, label);
    return this.pool.acquire(bytes, this.storageUsage, label).buffer;
  }

  /**
   * A storage buffer of at least `bytes` from the pool whose first `bytes` are zero: a new one is
   * zero already, a recycled one is cleared. Give it back with `releaseBuffer`.
   */
  createBuffer(bytes: number, label: string): GPUBuffer {
    this.assertUsable();
    this.checkBufferSize(bytes, label);
    const { buffer, fresh } = this.pool.acquire(bytes, this.storageUsage, label);
    if (fresh) return buffer;
    const padded = Math.ceil(bytes / 4) * 4;
    if (padded <= ZERO_WRITE_MAX) {
      // Recycled, so not in the open step: a queue write of zeros lands before any use of it and,
      // unlike clearBuffer, does not break the open compute pass.
      if (this.zeroBytes.byteLength < padded) this.zeroBytes = new Uint8Array(Math.max(padded, 2 * this.zeroBytes.byteLength));
      this.device.queue.writeBuffer(buffer, 0, this.zeroBytes.buffer, 0, padded);
    } else {
      this.endPass();
      this.currentEncoder().clearBuffer(buffer, 0, padded);
      this.usedInStep.add(buffer);
    }
    return buffer;
  }

  /** A storage buffer holding `data`, for per-step index data; give it back with `releaseBuffer` once encoded. */
  upload(data: ArrayBufferView, label: string): GPUBuffer {
    const buffer = this.acquire(data.byteLength, label);
    // Fresh or from a free list, the open encoder does not use it: a queue write is in order.
    this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  /** Gives a buffer back to the pool: reusable at once, or after the open step's submit if the step uses it. */
  releaseBuffer(buffer: GPUBuffer): void {
    if (this.destroyed) return;
    this.pool.release(buffer, this.usedInStep.has(buffer));
  }

  /** Overwrites bytes of `buffer` from `offset`, in order with the work encoded so far, without ending the step. */
  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    this.assertUsable();
    if (!this.usedInStep.has(buffer)) {
      this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
      return;
    }
    // The open step reads or writes it before this point: stage the data and copy it in the step.
    const staging = this.upload(data, 'webgpu-bandits write');
    this.copy(staging, 0, buffer, offset, data.byteLength);
    this.releaseBuffer(staging);
  }

  pipeline(kernel: KernelDescriptor): CachedPipeline {
    return pipelineFor(this.device, kernel);
  }

  private bindGroup(kernel: KernelDescriptor, layout: GPUBindGroupLayout, chunk: number, buffers: readonly GPUBuffer[]): GPUBindGroup {
    let key = `${kernel.name}|${kernel.entryPoint}|${chunk}`;
    for (const b of buffers) key += `|${idOf(b)}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      group = this.device.createBindGroup({
        label: kernel.name,
        layout,
        entries: [
          { binding: 0, resource: { buffer: this.uniforms.chunk(chunk), offset: 0, size: UNIFORM_SLOT } },
          ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
        ],
      });
      this.bindGroups.set(key, group, buffers);
    }
    return group;
  }

  /** Workgroup grid for `total` workgroups within maxComputeWorkgroupsPerDimension. */
  grid(total: number, name: string): [number, number] {
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (total <= max) return [Math.max(1, total), 1];
    const y = Math.ceil(total / max);
    if (y > max) {
      throw new BackendError(`webgpu-bandits: ${name} needs ${total} workgroups, over ${max}² on this device.`);
    }
    return [Math.ceil(total / y), y];
  }

  /** Encodes one dispatch into the current step's command buffer. */
  dispatch<F extends UniformFields>(request: DispatchRequest<F>): void {
    const req = request as unknown as DispatchRequest;
    this.assertUsable();
    if (req.kernel.storage.length !== req.buffers.length) {
      throw new Error(`${req.kernel.name}: ${req.kernel.storage.length} storage bindings, ${req.buffers.length} buffers given`);
    }
    if (req.workgroups === 0) return;
    const { pipeline, layout } = this.pipeline(req.kernel);
    const [x, y] = this.grid(req.workgroups, req.kernel.name);
    const { chunk, offset } = this.uniforms.take(req);
    const group = this.bindGroup(req.kernel, layout, chunk, req.buffers);
    if (!this.pass) this.pass = this.currentEncoder().beginComputePass({ label: 'webgpu-bandits step' });
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group, [offset]);
    this.pass.dispatchWorkgroups(x, y);
    for (const b of req.buffers) this.usedInStep.add(b);
    this.dispatchCount++;
    if (this.uniforms.used >= MAX_STEP_SLOTS) this.flush();
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.assertUsable();
    this.endPass();
    this.currentEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
    this.usedInStep.add(src);
    this.usedInStep.add(dst);
  }

  private currentEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder({ label: 'webgpu-bandits step' });
    }
    return this.encoder;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Submits the step's command buffer (one submit), after writing the step's uniforms. */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    this.uniforms.writeAll(this.device.queue);
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.submitCount++;
    const validation = this.device.popErrorScope(), oom = this.device.popErrorScope();
    this.chainError(Promise.all([validation, oom]).then(([v, o]) => {
      const error = v ?? o;
      return error ? `WebGPU reported ${error.constructor.name}: ${error.message}` : null;
    }));
    this.usedInStep.clear();
    this.pool.afterSubmit();
  }

  /**
   * `p`, or a rejection with the device-lost BackendError as soon as the device is lost, so no wait
   * hangs on a dead device. Not Promise.race with a promise of the loss: that promise never settles
   * while the device lives, and every race would leave a reaction on it for good (a heap leak of a
   * few objects a call).
   */
  private untilLost<T>(p: Promise<T>): Promise<T> {
    if (this.lostInfo) return Promise.reject(this.lostError());
    return new Promise<T>((resolve, reject) => {
      this.lostWaiters.add(reject);
      p.then(
        (v) => {
          this.lostWaiters.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          this.lostWaiters.delete(reject);
          reject(e);
        },
      );
    });
  }

  /** Rejects with the first validation / out-of-memory error reported since the last check. */
  async checkErrors(): Promise<void> {
    const pending = this.pendingError;
    this.pendingError = Promise.resolve(null);
    const first = await this.untilLost(pending);
    const uncaptured = this.uncaptured;
    this.uncaptured = null;
    const message = first ?? (uncaptured ? `WebGPU reported ${uncaptured.constructor.name}: ${uncaptured.message}` : null);
    if (message) throw new BackendError(`webgpu-bandits: ${message}`);
  }

  /** Submits pending work and waits for the queue, surfacing GPU errors and device loss. */
  async sync(): Promise<void> {
    this.assertUsable();
    this.flush();
    await this.untilLost(this.device.queue.onSubmittedWorkDone());
    await this.checkErrors();
  }

  /** Copies `bytes` of `buffer` into a pooled staging buffer and returns them (the step is submitted). */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.assertUsable();
    const padded = Math.ceil(bytes / 4) * 4;
    const staging = this.pool.acquire(Math.max(16, padded), this.readbackUsage, 'webgpu-bandits readback').buffer;
    let mapped = false;
    try {
      this.copy(buffer, 0, staging, 0, padded);
      this.flush();
      try {
        await this.untilLost(staging.mapAsync(GPUMapMode.READ, 0, padded));
        mapped = true;
      } catch (cause) {
        // A failed map usually follows an earlier validation or out-of-memory error: report that one.
        await this.checkErrors();
        if (cause instanceof BackendError) throw cause;
        throw new BackendError(`webgpu-bandits: reading ${bytes} bytes back failed: ${String(cause)}`);
      }
      await this.checkErrors();
      return staging.getMappedRange(0, padded).slice(0, bytes);
    } finally {
      if (mapped && !this.destroyed && !this.lostInfo) {
        staging.unmap();
        this.releaseBuffer(staging);
      } else if (!this.destroyed) {
        this.pool.discard(staging);
      }
    }
  }

  /** The runtime's counters: its pool, bind groups, uniform chunks, pipelines, submits. */
  stats(): RuntimeStats {
    return {
      ...this.pool.stats(),
      bindGroups: this.bindGroups.size,
      bindGroupBuffers: this.bindGroups.indexedBuffers,
      bindGroupKeys: this.bindGroups.indexedKeys,
      uniformChunks: this.uniforms.chunkCount,
      pipelines: pipelinesOf(this.device),
      submits: this.submitCount,
      dispatches: this.dispatchCount,
      waits: this.lostWaiters.size,
    };
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.removeEventListener?.('uncapturederror', this.onUncapturedError);
    unwatchLoss(this.device, this);
    this.encoder = null;
    this.pass = null;
    this.uniforms.reset();
    this.usedInStep.clear();
    this.pool.destroyAll();
    this.uniforms.destroy();
    this.bindGroups.clear();
  }
}
