import type { OpImpls } from './op-args.js';
import type { AdapterDescription, HostArray, Tensor, TensorOptions } from './tensor.js';

/** What a backend runs on. */
export interface BackendInfo {
  readonly kind: 'webgpu' | 'wasm' | 'cpu';
  /** The adapter, for `webgpu`. */
  readonly adapter?: AdapterDescription;
  /** Why the cpu backend was chosen by `kind: 'auto'`. */
  readonly fallbackReason?: string;
  /** Why `kind: 'auto'` chose this backend (wasm and webgpu; the cpu backend's is `fallbackReason`). */
  readonly reason?: string;
  /**
   * Made by `kind: 'auto'`: where each model created on this backend runs and why, in creation
   * order (a live list; a model's `backend` is the one named). See `autoChoice`.
   */
  readonly placements?: readonly ModelPlacement[];
  /** wasm: the ops of the registry served by the float64 twin on f32 copies rather than a kernel (newer ops). */
  readonly twinOps?: readonly string[];
  /** One line for logs: e.g. "webgpu: Google SwiftShader (fallback adapter) via webgpu package". */
  readonly summary: string;
}

/** Where `kind: 'auto'` put one model (BackendInfo.placements). */
export interface ModelPlacement {
  /** The model's class name ('LinUCB', 'NeuralUCB', …). */
  readonly model: string;
  /** The cost model's estimate of one decision call's multiply-adds (see `autoChoice`). */
  readonly multiplyAdds: number;
  /** The backend the model runs on. */
  readonly kind: 'webgpu' | 'wasm' | 'cpu';
  readonly reason: string;
}

/**
 * @internal What `kind: 'auto'` gives the backend it returns and the ones it makes for models
 * beside it: the reason for `info`, the placements list every one of them shows, and what to
 * dispose with it (the backends made for models, when this is the one returned).
 */
export interface AutoRole {
  readonly reason: string;
  readonly placements: readonly ModelPlacement[];
  readonly onDispose?: () => void;
}

/**
 * A compute backend: `webgpu` (kernels on a GPUDevice), `wasm` (f32 SIMD kernels in
 * WebAssembly) or `cpu` (float64, the test oracle). Made by `createBackend`.
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * console.log(backend.info.summary);
 * const a = backend.tensor(new Float32Array(6).fill(1), [2, 3]);
 * const b = backend.tensor(new Float32Array(6).fill(2), [3, 2]);
 * const c = gemm(backend, a, b);          // 2×2, every entry 6
 * console.log(await backend.read(c));
 * backend.dispose();
 */
export interface Backend {
  readonly kind: 'webgpu' | 'wasm' | 'cpu';
  readonly info: BackendInfo;
  /** Copies host data into a new tensor (f32 by default). */
  tensor(data: ArrayLike<number>, shape: readonly number[], options?: TensorOptions): Tensor;
  /** A new tensor of zeros. */
  zeros(shape: readonly number[], options?: TensorOptions): Tensor;
  /** Overwrites a tensor's contents with host data of the same length. */
  write(t: Tensor, data: ArrayLike<number>): void;
  /**
   * Copies `src` into `dst` (same size and dtype), or with `region` `count` elements from
   * `src[srcOffset…]` to `dst[dstOffset…]` of two different tensors, in the current step.
   */
  copy(src: Tensor, dst: Tensor, region?: { srcOffset: number; dstOffset: number; count: number }): void;
  /** Reads a tensor back: Float32Array on webgpu and wasm, Float64Array on cpu, Int32Array for i32. */
  read(t: Tensor): Promise<HostArray>;
  /** Submits pending work and waits for it, rejecting on GPU errors or device loss. */
  sync(): Promise<void>;
  /** Releases the device (webgpu) and every later call throws. */
  dispose(): void;
  readonly disposed: boolean;
  /**
   * The most bytes one tensor may hold: one storage binding on webgpu (the smaller of
   * maxStorageBufferBindingSize and maxBufferSize), 1 GiB on wasm, unbounded on cpu. Models split their state by it.
   */
  readonly maxBindingBytes: number;
  /** Whether `t` was made by this backend. */
  owns(t: Tensor): boolean;
  /** @internal The op implementations; use the functions exported from the package. */
  readonly ops: OpImpls;
}
