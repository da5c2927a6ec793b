import { CpuBackend } from './cpu/backend.js';
import { BackendError } from './core/errors.js';
import { acquireDevice, describeDevice, holdInstance } from './gpu/device.js';
import type { Backend } from './core/backend.js';
import { WebGpuBackend } from './gpu/backend.js';
import { WasmBackend } from './wasm/backend.js';
import { kernelModule } from './wasm/module.js';
import { loadPlatform } from './platform/load.js';

declare global {
  // Empty declarations that merge with the real WebGPU types where a project has them (lib "dom",
  // or @webgpu/types) and stand in for them where it has not, so a consumer's TypeScript needs
  // neither for these declarations to compile.
  interface GPUDevice {}
  interface GPU {}
}

export interface CreateBackendOptions {
  /**
   * 'webgpu': a WebGPU device or a BackendError naming what was tried (in Node without the
   * optional `webgpu` package: one that says `npm install webgpu`).
   * 'wasm': the f32 SIMD WebAssembly backend (a BackendError where WebAssembly SIMD is missing).
   * 'cpu': the float64 backend.
   * 'auto' (default): chosen by the cost model of `autoChoice` (see there), with the reason in
   * `backend.info.reason` (`fallbackReason` where it is the cpu backend): WebGPU on a real
   * (non-fallback) adapter unless `workload` says the problem is too small for a GPU round trip;
   * else the wasm backend; the cpu backend only where WebAssembly SIMD is missing.
   */
  readonly kind?: 'webgpu' | 'wasm' | 'cpu' | 'auto';
  /** Use this device instead of acquiring one (kind becomes 'webgpu'); it is not destroyed by dispose(). */
  readonly device?: GPUDevice;
  /**
   * With `device` in Node: the `GPU` object (from the `webgpu` package's `create()`) the device
   * came from. Dawn's Node bindings free their instance when that object is garbage-collected,
   * even while its devices still need it, and nothing on a device leads back to it; given here,
   * the library holds it until the device is lost, so the caller may drop it. Unneeded in
   * browsers (`navigator.gpu` lives as long as the page).
   */
  readonly gpu?: GPU;
  /**
   * With kind 'auto': the problem the backend is for (LinUCB-like: arms, feature dimension,
   * decisions a call), so that a small one stays on the CPU even where a real GPU exists.
   */
  readonly workload?: AutoWorkload;
  /**
   * The wasm backend's threads (kind 'wasm', or 'auto' when it chooses wasm): 2 puts a worker on
   * a shared memory beside this thread and splits large calls; where none can start (a page that
   * is not cross-origin isolated has no SharedArrayBuffer) one thread, said in `info.summary`.
   * Default: 1 for 'wasm'; 'auto' takes 2 where the runtime reports at least 2 cores.
   */
  readonly threads?: 1 | 2;
  /** Passed to `requestAdapter` when the library acquires the device. */
  readonly powerPreference?: 'low-power' | 'high-performance';
}

/**
 * Creates a compute backend.
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * console.log(backend.info.summary); // "webgpu: google swiftshader … (fallback/CPU adapter) via …"
 * backend.dispose();
 *
 * @example
 * // Node, with a device of your own (shared with other WebGPU code):
 * import { create, globals } from 'webgpu';
 * Object.assign(globalThis, globals);
 * const gpu = create([]);
 * const device = await (await gpu.requestAdapter())!.requestDevice();
 * const backend = await createBackend({ device, gpu });   // gpu: so Dawn's instance outlives your reference
 */
export async function createBackend(options: CreateBackendOptions = {}): Promise<Backend> {
  if (options.device) {
    if (options.gpu) holdInstance(options.device, options.gpu);
    return new WebGpuBackend(options.device, describeDevice(options.device), false, options.gpu ?? null);
  }
  const kind = options.kind ?? 'auto';
  if (kind === 'cpu') return new CpuBackend();
  if (kind === 'wasm') return WasmBackend.create({ threads: options.threads ?? 1 });
  if (kind !== 'webgpu' && kind !== 'auto') {
    throw new BackendError(`createBackend: kind must be 'webgpu', 'wasm', 'cpu' or 'auto', got '${String(kind)}'`);
  }
  const acquireOptions = options.powerPreference ? { powerPreference: options.powerPreference } : {};
  if (kind === 'webgpu') {
    const got = await acquireDevice(acquireOptions);
    return new WebGpuBackend(got.device, got.adapter, true, got.owner);
  }
  let got: Awaited<ReturnType<typeof acquireDevice>> | null = null, noGpu = '';
  try {
    got = await acquireDevice(acquireOptions);
  } catch (e) {
    noGpu = `no usable WebGPU adapter (${e instanceof Error ? e.message : String(e)})`;
  }
  const adapter = got ? { fallback: got.adapter.isFallbackAdapter, name: [got.adapter.vendor, got.adapter.architecture].filter(Boolean).join(' ') || 'unknown' } : null;
  const wasm = await kernelModule().then(() => '', (e: unknown) => (e instanceof Error ? e.message : String(e)));
  const choice = autoChoice({ adapter, noGpu, wasm, ...(options.workload ? { workload: options.workload } : {}) });
  if (choice.kind === 'webgpu') return new WebGpuBackend(got!.device, got!.adapter, true, got!.owner);
  got?.device.destroy();
  const threads = options.threads ?? ((await loadPlatform()).cores() >= 2 ? 2 : 1);
  return choice.kind === 'wasm' ? WasmBackend.create({ reason: choice.reason, threads }) : new CpuBackend(choice.reason);
}

/** The problem `kind: 'auto'` chooses for. */
export interface AutoWorkload {
  readonly arms: number;
  readonly dim: number;
  /** Decisions (contexts) a call; 1 when absent. */
  readonly batch?: number;
}

/**
 * Below this many multiply-adds a call (arms·dim²·batch, a LinUCB select's quadratic forms), a
 * GPU round trip (~0.3 ms measured here: submit, map, read back) costs more than the whole
 * call on one core of wasm f32 SIMD (≈ 15 GFLOP/s measured by bench/wasm.ts's calibrate_fma,
 * 2²² multiply-adds ≈ 0.55 ms).
 */
export const AUTO_GPU_MIN_WORK = 2 ** 22;

/**
 * The cost model of `kind: 'auto'`, a pure function of what was found: a real (non-fallback)
 * WebGPU adapter wins unless the workload is under AUTO_GPU_MIN_WORK; otherwise the wasm
 * backend (f32 SIMD: 4–40× the float64 backend on the bench's LinUCB select, update and
 * NeuralUCB cases, and far faster than SwiftShader), and the cpu backend only where the
 * kernels cannot compile.
 */
export function autoChoice(found: {
  /** The adapter found, or null (then `noGpu` says why). */
  readonly adapter: { readonly fallback: boolean; readonly name: string } | null;
  readonly noGpu: string;
  /** '' when the wasm kernels compile, else why not. */
  readonly wasm: string;
  readonly workload?: AutoWorkload;
}): { kind: 'webgpu' | 'wasm' | 'cpu'; reason: string } {
  const w = found.workload;
  const work = w ? w.arms * w.dim * w.dim * (w.batch ?? 1) : null;
  let why: string;
  if (found.adapter && !found.adapter.fallback) {
    if (work === null || work >= AUTO_GPU_MIN_WORK) {
      return { kind: 'webgpu', reason: `a real WebGPU adapter (${found.adapter.name})${work === null ? '' : `, and ${work} multiply-adds a call amortise a GPU round trip`}` };
    }
    why = `${work} multiply-adds a call (arms·dim²·batch) are under ${AUTO_GPU_MIN_WORK}: a GPU round trip (~0.3 ms) costs more than the call on the CPU`;
  } else if (found.adapter) {
    why = `the only WebGPU adapter (${found.adapter.name}) is a fallback/CPU adapter, slower than the CPU backends here; pass { kind: 'webgpu' } to use it anyway`;
  } else {
    why = found.noGpu;
  }
  if (!found.wasm) return { kind: 'wasm', reason: `${why}; wasm f32 SIMD is the fastest CPU path` };
  return { kind: 'cpu', reason: `${why}; and the wasm kernels cannot run here (${found.wasm})` };
}
