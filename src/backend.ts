import { CpuBackend } from './cpu/backend.js';
import { BackendError } from './core/errors.js';
import { acquireDevice, describeDevice, holdInstance, type AcquiredDevice } from './gpu/device.js';
import type { AutoRole, Backend, ModelPlacement } from './core/backend.js';
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
   * else the wasm backend; the cpu backend only where WebAssembly SIMD is missing. Each model
   * created on it is placed again by its own size (`placeModel`; `info.placements` says where
   * and why): a small model beside a GPU runs on a wasm backend made for it, and the reverse.
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
   * decisions a call), so that a small one stays on the CPU even where a real GPU exists; its
   * `batch` also scales every model's size, and `arms` the neural models' (their arms come per call).
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
  let got: AcquiredDevice | null = null, noGpu = '';
  try {
    got = await acquireDevice(acquireOptions);
  } catch (e) {
    noGpu = `no usable WebGPU adapter (${e instanceof Error ? e.message : String(e)})`;
  }
  const adapter = got ? { fallback: got.adapter.isFallbackAdapter, name: [got.adapter.vendor, got.adapter.architecture].filter(Boolean).join(' ') || 'unknown' } : null;
  const wasm = await kernelModule().then(() => '', (e: unknown) => (e instanceof Error ? e.message : String(e)));
  const threads = options.threads ?? ((await loadPlatform()).cores() >= 2 ? 2 : 1);
  // The probed device serves the first webgpu backend; later ones (for models) acquire their own.
  let spare = got && !got.adapter.isFallbackAdapter ? got : null;
  if (got && !spare) got.device.destroy();
  const makers: AutoMakers = {
    webgpu: async (role) => {
      const g = spare ?? await acquireDevice(acquireOptions);
      spare = null;
      return new WebGpuBackend(g.device, g.adapter, true, g.owner, role);
    },
    wasm: (role) => WasmBackend.create({ auto: role, threads }),
    cpu: async (role) => new CpuBackend(role),
  };
  const backend = await autoBackend({ adapter, noGpu, wasm }, makers, options.workload);
  spare?.device.destroy();
  spare = null;
  return backend;
}

/** @internal How `autoBackend` makes a backend of each kind (tests pass their own). */
export type AutoMakers = { readonly [K in 'webgpu' | 'wasm' | 'cpu']: (role: AutoRole) => Promise<Backend> };

/** What `kind: 'auto'` found: the adapter (null: `noGpu` says why) and '' when the wasm kernels compile, else why not. */
export interface AutoFound {
  readonly adapter: { readonly fallback: boolean; readonly name: string } | null;
  readonly noGpu: string;
  readonly wasm: string;
}

/** The auto backend behind each backend `autoBackend` returned, for `placeModel`. */
const placers = new WeakMap<Backend, AutoPlacer>();

/**
 * The backends of one `kind: 'auto'`: the one returned (chosen for `workload`, or for no size at
 * all), and one of each other kind made the first time a model's size calls for it, disposed
 * with the returned one.
 */
class AutoPlacer {
  readonly placements: ModelPlacement[] = [];
  private readonly made = new Map<'webgpu' | 'wasm' | 'cpu', Promise<Backend>>();
  /** The backends made for models (disposed with the root). */
  private readonly others = new Set<Backend>();
  private root: Backend | null = null;

  constructor(private readonly found: AutoFound, private readonly makers: AutoMakers, private readonly workload: AutoWorkload | undefined) {}

  async start(): Promise<Backend> {
    const w = this.workload;
    const choice = autoChoice({ ...this.found, ...(w ? { multiplyAdds: w.arms * w.dim * w.dim * (w.batch ?? 1) } : {}) });
    const root = await this.makers[choice.kind]({ reason: choice.reason, placements: this.placements, onDispose: () => this.disposeOthers() });
    this.root = root;
    this.made.set(choice.kind, Promise.resolve(root));
    placers.set(root, this);
    return root;
  }

  async place(model: string, size: ModelSize): Promise<Backend> {
    const root = this.root!;
    const multiplyAdds = ((size.multiplyAdds ?? 0) + (size.perArm ?? 0) * (this.workload?.arms ?? 1)) * (this.workload?.batch ?? 1);
    const choice = autoChoice({ ...this.found, multiplyAdds });
    let made = this.made.get(choice.kind);
    if (!made) {
      made = this.makers[choice.kind]({ reason: `made by kind 'auto' beside ${root.kind} for a model's size: ${choice.reason}`, placements: this.placements });
      this.made.set(choice.kind, made);
      made.catch(() => this.made.delete(choice.kind));
    }
    let backend: Backend, reason = choice.reason;
    try {
      backend = await made;
    } catch (e) {
      backend = root;
      reason += `; but no ${choice.kind} backend could start (${e instanceof Error ? e.message : String(e)}), so on ${root.kind}`;
    }
    if (backend !== root) {
      this.others.add(backend);
      // The root was disposed while this one started: the model goes to the root, whose calls say so.
      if (root.disposed) {
        backend.dispose();
        backend = root;
      }
    }
    this.placements.push({ model, multiplyAdds, kind: backend.kind, reason });
    return backend;
  }

  private disposeOthers(): void {
    for (const b of this.others) b.dispose();
  }
}

/**
 * A model's size for the cost model: the multiply-adds of one decision (with its share of the
 * training), plus `perArm` for each arm a call scores where the model does not fix its arms
 * (`workload.arms`, 1 when absent); times `workload.batch`.
 */
export interface ModelSize {
  readonly multiplyAdds?: number;
  readonly perArm?: number;
}

/**
 * @internal The backend `kind: 'auto'` returns, from what was found and how to make each kind;
 * `createBackend` calls it with the real makers, tests with an adapter of their choosing.
 */
export function autoBackend(found: AutoFound, makers: AutoMakers, workload?: AutoWorkload): Promise<Backend> {
  return new AutoPlacer(found, makers, workload).start();
}

/**
 * The backend a model of `size` runs on: `backend` itself, or where `backend` came from
 * `kind: 'auto'`, the kind the cost model (`autoChoice`) gives that size (made beside it the
 * first time), recorded in `backend.info.placements`.
 */
export function placeModel(backend: Backend, model: string, size: ModelSize): Promise<Backend> {
  return placers.get(backend)?.place(model, size) ?? Promise.resolve(backend);
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
export function autoChoice(found: AutoFound & {
  readonly workload?: AutoWorkload;
  /** The work of one call, multiply-adds (instead of `workload`'s arms·dim²·batch). */
  readonly multiplyAdds?: number;
}): { kind: 'webgpu' | 'wasm' | 'cpu'; reason: string } {
  const w = found.workload;
  const work = found.multiplyAdds ?? (w ? w.arms * w.dim * w.dim * (w.batch ?? 1) : null);
  let why: string;
  if (found.adapter && !found.adapter.fallback) {
    if (work === null || work >= AUTO_GPU_MIN_WORK) {
      return { kind: 'webgpu', reason: `a real WebGPU adapter (${found.adapter.name})${work === null ? '' : `, and ${work} multiply-adds a call amortise a GPU round trip`}` };
    }
    why = `${work} multiply-adds a call are under ${AUTO_GPU_MIN_WORK}: a GPU round trip (~0.3 ms) costs more than the call on the CPU`;
  } else if (found.adapter) {
    why = `the only WebGPU adapter (${found.adapter.name}) is a fallback/CPU adapter, slower than the CPU backends here; pass { kind: 'webgpu' } to use it anyway`;
  } else {
    why = found.noGpu;
  }
  if (!found.wasm) return { kind: 'wasm', reason: `${why}; wasm f32 SIMD is the fastest CPU path` };
  return { kind: 'cpu', reason: `${why}; and the wasm kernels cannot run here (${found.wasm})` };
}
