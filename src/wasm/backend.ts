import { BanditError } from '../core/errors.js';
import { checkCopy, checkShape, type CopyRegion } from '../core/check.js';
import type { OpArgs, OpImpls, OpName } from '../core/op-args.js';
import type { HostArray, Tensor, TensorOptions } from '../core/tensor.js';
import type { AutoRole, Backend, BackendInfo } from '../core/backend.js';
import { HostBackend } from '../core/host-backend.js';
import { WasmHeap, WasmScratch } from './heap.js';
import { instantiateKernels, type WasmKernels } from './module.js';
import { MAX_NATIVE_LAYERS, nativeOps, type NativeOps } from './ops.js';
import { loadPlatform } from '../platform/load.js';
import { WasmThreads } from './threads.js';
import { twinOp, withTwinAdapter } from './twin.js';
import { WasmTensor } from './tensor.js';

/** The most bytes one tensor may hold: models split their state by it (wasm32 memory is 4 GiB in all). */
export const WASM_MAX_TENSOR_BYTES = 1024 * 1024 * 1024;

/** The MLP ops fall back to the twin past MAX_NATIVE_LAYERS layers. */
function layerGuard(native: NativeOps): NativeOps {
  const guarded: Record<string, unknown> = { ...native };
  for (const name of ['mlpForward', 'mlpJacobian', 'mlpKPassJacobian', 'mlpDiagonalBonus', 'mlpLossGradient'] as const) {
    const own = native[name] as ((a: OpArgs[typeof name]) => void) | undefined;
    if (!own) continue;
    const twin = twinOp(name) as (a: OpArgs[typeof name]) => void;
    guarded[name] = (a: OpArgs[typeof name]) => (a.layers.length > MAX_NATIVE_LAYERS ? twin(a) : own(a));
  }
  return guarded as NativeOps;
}

export interface WasmBackendOptions {
  /**
   * 2: a second thread (a worker over a shared memory) takes half of each large enough call
   * (see SPLIT_MIN_WORK in split.ts); where none can start (no SharedArrayBuffer: a page that is not
   * cross-origin isolated) one thread, with the reason in `info.summary`. 1 (default): one thread.
   */
  readonly threads?: 1 | 2;
  /** Made by `kind: 'auto'`: why, for `info`, and what to tell when disposed. */
  readonly auto?: AutoRole;
  /** Test hook: ops to serve through the twin adapter even though they have a kernel. */
  readonly twinOps?: readonly OpName[];
}

/**
 * The wasm backend: tensors are f32 (or i32) regions of one WebAssembly memory, ops are the f32
 * SIMD kernels of wasm/*.c (one thread). Made by `createBackend({ kind: 'wasm' })`.
 */
export class WasmBackend extends HostBackend implements Backend {
  readonly kind = 'wasm' as const;
  readonly info: BackendInfo;
  readonly ops: OpImpls;
  readonly maxBindingBytes = WASM_MAX_TENSOR_BYTES;
  readonly kernels: WasmKernels;
  readonly heap: WasmHeap;
  /** Ops of the registry served by the twin adapter (src/wasm/twin.ts) rather than a kernel. */
  readonly twinOps: readonly OpName[];

  /** The second thread, when there is one. */
  readonly threads: WasmThreads | null;

  /** A backend over a fresh kernel instance (and a worker, with `threads: 2`). */
  static async create(options: WasmBackendOptions = {}): Promise<WasmBackend> {
    if ((options.threads ?? 1) === 1) return new WasmBackend(await instantiateKernels(), options);
    const platform = await loadPlatform();
    const started = await WasmThreads.start((source) => platform.spawnWorker(source), (k) => new WasmHeap(k.memory, k.__heap_base.value as number));
    if ('reason' in started) return new WasmBackend(await instantiateKernels(), { ...options, oneThreadBecause: started.reason });
    return new WasmBackend(started.threads.kernels, options, started);
  }

  constructor(kernels: WasmKernels, options: WasmBackendOptions & { readonly oneThreadBecause?: string } = {},
    threaded?: { readonly threads: WasmThreads; readonly heap: WasmHeap }) {
    super(options.auto);
    this.kernels = kernels;
    this.heap = threaded?.heap ?? new WasmHeap(kernels.memory, kernels.__heap_base.value as number);
    this.threads = threaded?.threads ?? null;
    const native: Record<string, unknown> = { ...layerGuard(nativeOps({ k: kernels, heap: this.heap, scratch: new WasmScratch(this.heap), threads: this.threads })) };
    for (const name of options.twinOps ?? []) delete native[name];
    const { ops, twinOps } = withTwinAdapter(native as NativeOps);
    this.ops = ops;
    this.twinOps = twinOps;
    const served = twinOps.length ? `; ${twinOps.join(', ')} through the float64 twin` : '';
    const threads = this.threads ? '2 threads' : `1 thread${options.oneThreadBecause ? ` (no second: ${options.oneThreadBecause})` : ''}`;
    const auto = options.auto;
    const summary = `wasm (f32 SIMD, ${threads}${served})${auto ? `: ${auto.reason}` : ''}`;
    this.info = { kind: 'wasm', summary, twinOps, ...(auto ? { reason: auto.reason, placements: auto.placements } : {}) };
  }

  owns(t: Tensor): boolean {
    return t instanceof WasmTensor && t.owner === this;
  }

  zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    this.live('zeros');
    checkShape(shape, 'tensor');
    const bytes = shape.reduce((a, b) => a * b, 4);
    if (bytes > this.maxBindingBytes) throw new BanditError(`tensor: [${shape.join(', ')}] needs ${bytes} bytes, over the wasm backend's ${this.maxBindingBytes} a tensor`);
    const t = new WasmTensor(this, this.heap, shape, options);
    t.view().fill(0);
    return t;
  }

  protected store(t: Tensor, data: ArrayLike<number>): void {
    (t as WasmTensor).view().set(data);
  }

  protected contents(t: Tensor): HostArray {
    return (t as WasmTensor).view().slice();
  }

  copy(src: Tensor, dst: Tensor, region?: CopyRegion): void {
    const r = checkCopy(this, src, dst, region);
    const s = (src as WasmTensor).ptr + r.srcOffset * 4, d = (dst as WasmTensor).ptr + r.dstOffset * 4;
    this.heap.u8.copyWithin(d, s, s + r.count * 4);
  }

  override dispose(): void {
    this.threads?.dispose();
    super.dispose();
  }
}
