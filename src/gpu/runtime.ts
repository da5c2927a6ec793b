import { BackendError } from '../core/errors.js';
import { params, type UniformFields } from './uniforms.js';
import type { DispatchRequest, KernelDescriptor } from './kernel.js';

// Kernels written before the uniform layouts were declared import these from here.
export { params };
export type { DispatchRequest, KernelDescriptor };

interface CachedPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** Bytes per uniform slot; also the dynamic-offset alignment (minUniformBufferOffsetAlignment ≤ 256). */
export const UNIFORM_SLOT = 256;
const SLOTS_PER_CHUNK = 256;
const CHUNK_BYTES = UNIFORM_SLOT * SLOTS_PER_CHUNK;

/** Pipelines per device, held weakly so a destroyed or lost device takes its pipelines with it. */
const pipelineCache = new WeakMap<GPUDevice, Map<string, CachedPipeline>>();

let nextBufferId = 1;
const bufferIds = new WeakMap<GPUBuffer, number>();
const idOf = (b: GPUBuffer): number => {
  let id = bufferIds.get(b);
  if (id === undefined) bufferIds.set(b, (id = nextBufferId++));
  return id;
};

/**
 * The per-device machinery: pipeline cache, reusable uniform slots and bind groups, one command
 * encoder per step (every dispatch until `flush()` goes into one command buffer and one submit),
 * readback through a staging buffer destroyed in `finally`, error scopes and device loss.
 */
export class GpuRuntime {
  readonly device: GPUDevice;
  readonly limits: GPUSupportedLimits;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private destroyed = false;
  private readonly lostPromise: Promise<never>;

  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private readonly chunks: { buffer: GPUBuffer; staging: Uint8Array; view: DataView }[] = [];
  private slot = 0;
  private readonly bindGroups = new Map<string, GPUBindGroup>();
  private readonly bindGroupKeysByBuffer = new Map<number, Set<string>>();
  /** The first error of the steps submitted since the last check (one promise, however many steps). */
  private pendingError: Promise<GPUError | null> = Promise.resolve(null);
  private uncaptured: GPUError | null = null;
  /** Dispatches encoded since creation, for tests and benchmarks. */
  dispatchCount = 0;
  submitCount = 0;

  /**
   * Whether the device runs on a fallback (CPU) adapter such as SwiftShader, where invocations
   * are SIMD lanes and barriers are costly: some kernels pick their layout by it.
   */
  readonly fallbackAdapter: boolean;

  constructor(device: GPUDevice, fallbackAdapter: boolean) {
    this.device = device;
    this.limits = device.limits;
    this.fallbackAdapter = fallbackAdapter;
    this.lostPromise = device.lost.then((info) => {
      this.lostInfo = info;
      throw this.lostError();
    });
    this.lostPromise.catch(() => undefined);
    device.addEventListener?.('uncapturederror', (ev) => {
      this.uncaptured ??= (ev as GPUUncapturedErrorEvent).error;
    });
  }

  get lost(): boolean {
    return this.lostInfo !== null;
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

  /** Checks a buffer size against maxBufferSize and maxStorageBufferBindingSize. */
  checkBufferSize(bytes: number, what: string): void {
    const binding = this.limits.maxStorageBufferBindingSize;
    const max = Math.min(binding, this.limits.maxBufferSize);
    if (bytes > max) {
      throw new BackendError(
        `webgpu-bandits: ${what} needs ${bytes} bytes in one storage binding; this device allows ` +
          `${max} (maxStorageBufferBindingSize ${binding}, maxBufferSize ${this.limits.maxBufferSize}).`,
      );
    }
  }

  createBuffer(bytes: number, label: string, usage = 0): GPUBuffer {
    this.assertUsable();
    this.checkBufferSize(bytes, label);
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    return this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST | usage,
    });
  }

  /** Destroys a buffer and forgets the bind groups that used it. Safe after encoding: destroy waits for submitted work. */
  releaseBuffer(buffer: GPUBuffer): void {
    const id = idOf(buffer);
    const keys = this.bindGroupKeysByBuffer.get(id);
    if (keys) {
      for (const k of keys) this.bindGroups.delete(k);
      this.bindGroupKeysByBuffer.delete(id);
    }
    if (this.encoder) {
      // Still referenced by the open command buffer: destroy once it is submitted.
      this.afterSubmit.push(() => buffer.destroy());
    } else {
      buffer.destroy();
    }
  }

  private afterSubmit: (() => void)[] = [];

  /**
   * A new storage buffer holding `data`, written at creation (mappedAtCreation), so unlike
   * `write` it needs no queue operation and does not end the open step: for per-step index
   * data. Release it with `releaseBuffer` once encoded.
   */
  upload(data: Int32Array | Uint32Array | Float32Array, label: string): GPUBuffer {
    this.assertUsable();
    this.checkBufferSize(data.byteLength, label);
    const size = Math.max(16, Math.ceil(data.byteLength / 16) * 16);
    const buffer = this.device.createBuffer({
      label,
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      mappedAtCreation: true,
    });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    buffer.unmap();
    return buffer;
  }

  write(buffer: GPUBuffer, offset: number, data: ArrayBufferView): void {
    this.assertUsable();
    // Writes are queue operations: put earlier encoded work ahead of them.
    this.flush();
    this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  pipeline(kernel: KernelDescriptor): CachedPipeline {
    let perDevice = pipelineCache.get(this.device);
    if (!perDevice) pipelineCache.set(this.device, (perDevice = new Map()));
    const key = `${kernel.name}|${kernel.entryPoint}|${kernel.workgroupSize}|${JSON.stringify(kernel.constants ?? {})}`;
    let cached = perDevice.get(key);
    if (!cached) {
      if (kernel.workgroupSize > this.limits.maxComputeInvocationsPerWorkgroup) {
        throw new BackendError(
          `webgpu-bandits: kernel ${kernel.name} wants ${kernel.workgroupSize} invocations a workgroup; ` +
            `this device allows ${this.limits.maxComputeInvocationsPerWorkgroup}.`,
        );
      }
      const entries: GPUBindGroupLayoutEntry[] = [
        { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
        ...kernel.storage.map((access, i) => ({
          binding: i + 1,
          visibility: GPUShaderStage.COMPUTE,
          buffer: { type: access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
        })),
      ];
      const layout = this.device.createBindGroupLayout({ label: kernel.name, entries });
      const module = this.device.createShaderModule({ label: kernel.name, code: kernel.source });
      const pipeline = this.device.createComputePipeline({
        label: kernel.name,
        layout: this.device.createPipelineLayout({ label: kernel.name, bindGroupLayouts: [layout] }),
        compute: {
          module,
          entryPoint: kernel.entryPoint,
          constants: { WG: kernel.workgroupSize, ...(kernel.constants ?? {}) },
        },
      });
      cached = { pipeline, layout };
      perDevice.set(key, cached);
    }
    return cached;
  }

  private uniformSlot(req: DispatchRequest): { chunk: number; offset: number } {
    const chunk = Math.floor(this.slot / SLOTS_PER_CHUNK);
    const offset = (this.slot % SLOTS_PER_CHUNK) * UNIFORM_SLOT;
    while (this.chunks.length <= chunk) {
      const staging = new Uint8Array(CHUNK_BYTES);
      this.chunks.push({
        buffer: this.device.createBuffer({
          label: `uniforms ${this.chunks.length}`,
          size: CHUNK_BYTES,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        staging,
        view: new DataView(staging.buffer),
      });
    }
    const { staging, view } = this.chunks[chunk]!;
    if (req.params !== undefined) {
      const layout = req.kernel.uniforms;
      if (!layout) throw new Error(`${req.kernel.name}: params given, but the kernel declares no uniform layout`);
      layout.write(req.params, view, offset);
    } else {
      if (req.kernel.uniforms) throw new Error(`${req.kernel.name}: declares ${req.kernel.uniforms.name}; pass params, not packed bytes`);
      if (req.uniforms.byteLength > UNIFORM_SLOT) throw new Error(`uniforms of ${req.uniforms.byteLength} bytes exceed one slot`);
      staging.set(new Uint8Array(req.uniforms), offset);
    }
    this.slot++;
    return { chunk, offset };
  }

  private bindGroup(kernel: KernelDescriptor, layout: GPUBindGroupLayout, chunk: number, buffers: readonly GPUBuffer[]): GPUBindGroup {
    const ids = buffers.map(idOf);
    const key = `${kernel.name}|${kernel.entryPoint}|${chunk}|${ids.join(',')}`;
    let group = this.bindGroups.get(key);
    if (!group) {
      group = this.device.createBindGroup({
        label: kernel.name,
        layout,
        entries: [
          { binding: 0, resource: { buffer: this.chunks[chunk]!.buffer, offset: 0, size: UNIFORM_SLOT } },
          ...buffers.map((buffer, i) => ({ binding: i + 1, resource: { buffer } })),
        ],
      });
      this.bindGroups.set(key, group);
      for (const id of ids) {
        let set = this.bindGroupKeysByBuffer.get(id);
        if (!set) this.bindGroupKeysByBuffer.set(id, (set = new Set()));
        set.add(key);
      }
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
  dispatch<F extends UniformFields>(req: DispatchRequest<F>): void {
    this.assertUsable();
    if (req.kernel.storage.length !== req.buffers.length) {
      throw new Error(`${req.kernel.name}: ${req.kernel.storage.length} storage bindings, ${req.buffers.length} buffers given`);
    }
    if (req.workgroups === 0) return;
    const { pipeline, layout } = this.pipeline(req.kernel);
    const [x, y] = this.grid(req.workgroups, req.kernel.name);
    const { chunk, offset } = this.uniformSlot(req as DispatchRequest);
    const group = this.bindGroup(req.kernel, layout, chunk, req.buffers);
    if (!this.pass) this.pass = this.currentEncoder().beginComputePass({ label: 'webgpu-bandits step' });
    this.pass.setPipeline(pipeline);
    this.pass.setBindGroup(0, group, [offset]);
    this.pass.dispatchWorkgroups(x, y);
    this.dispatchCount++;
    if (this.slot >= SLOTS_PER_CHUNK * 64) this.flush();
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.assertUsable();
    this.endPass();
    this.currentEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
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
    const used = this.slot;
    for (let c = 0; c * SLOTS_PER_CHUNK < used; c++) {
      const bytes = Math.min(used - c * SLOTS_PER_CHUNK, SLOTS_PER_CHUNK) * UNIFORM_SLOT;
      const { buffer, staging } = this.chunks[c]!;
      this.device.queue.writeBuffer(buffer, 0, staging.buffer, 0, bytes);
    }
    this.slot = 0;
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.submitCount++;
    const validation = this.device.popErrorScope(), oom = this.device.popErrorScope();
    this.pendingError = Promise.all([this.pendingError, validation, oom]).then(([a, b, c]) => a ?? b ?? c);
    const after = this.afterSubmit;
    this.afterSubmit = [];
    for (const f of after) f();
  }

  /** Rejects with the first validation / out-of-memory error reported since the last check. */
  async checkErrors(): Promise<void> {
    const pending = this.pendingError;
    this.pendingError = Promise.resolve(null);
    const first = (await Promise.race([pending, this.lostPromise])) ?? this.uncaptured;
    this.uncaptured = null;
    if (first) {
      throw new BackendError(`webgpu-bandits: WebGPU reported ${first.constructor.name}: ${first.message}`);
    }
  }

  /** Submits pending work and waits for the queue, surfacing GPU errors and device loss. */
  async sync(): Promise<void> {
    this.assertUsable();
    this.flush();
    await Promise.race([this.device.queue.onSubmittedWorkDone(), this.lostPromise]);
    await this.checkErrors();
  }

  /** Copies `bytes` of `buffer` into a staging buffer and returns them; the staging buffer is destroyed in `finally`. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.assertUsable();
    const staging = this.device.createBuffer({
      label: 'webgpu-bandits readback',
      size: Math.max(16, Math.ceil(bytes / 4) * 4),
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
    try {
      this.copy(buffer, 0, staging, 0, Math.ceil(bytes / 4) * 4);
      this.flush();
      try {
        await Promise.race([staging.mapAsync(GPUMapMode.READ), this.lostPromise]);
      } catch (cause) {
        // A failed map usually follows an earlier validation or out-of-memory error: report that one.
        await this.checkErrors();
        if (cause instanceof BackendError) throw cause;
        throw new BackendError(`webgpu-bandits: reading ${bytes} bytes back failed: ${String(cause)}`);
      }
      await this.checkErrors();
      return staging.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.encoder = null;
    this.pass = null;
    for (const c of this.chunks) c.buffer.destroy();
    this.bindGroups.clear();
  }
}
