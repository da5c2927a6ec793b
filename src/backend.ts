import { CpuBackend } from './cpu/backend.js';
import { BackendError } from './core/errors.js';
import { acquireDevice, describeDevice, holdInstance } from './gpu/device.js';
import type { Backend } from './core/backend.js';
import { WebGpuBackend } from './gpu/backend.js';
import { WasmBackend } from './wasm/backend.js';

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
   * 'auto' (default): WebGPU on a real (non-fallback) adapter, else the cpu backend, with the
   * reason in `backend.info.fallbackReason` (no adapter, no `webgpu` package in Node, or a
   * software adapter such as SwiftShader, slower than plain float64 JS on the same cores).
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
  if (kind === 'wasm') return WasmBackend.create();
  if (kind !== 'webgpu' && kind !== 'auto') {
    throw new BackendError(`createBackend: kind must be 'webgpu', 'wasm', 'cpu' or 'auto', got '${String(kind)}'`);
  }
  const acquireOptions = options.powerPreference ? { powerPreference: options.powerPreference } : {};
  if (kind === 'webgpu') {
    const got = await acquireDevice(acquireOptions);
    return new WebGpuBackend(got.device, got.adapter, true, got.owner);
  }
  let got;
  try {
    got = await acquireDevice(acquireOptions);
  } catch (e) {
    return new CpuBackend(`no usable WebGPU adapter (${e instanceof Error ? e.message : String(e)})`);
  }
  if (got.adapter.isFallbackAdapter) {
    got.device.destroy();
    const name = [got.adapter.vendor, got.adapter.architecture].filter(Boolean).join(' ');
    return new CpuBackend(
      `the only WebGPU adapter (${name || 'unknown'}) is a fallback/CPU adapter, slower than float64 JS here; ` +
        "pass { kind: 'webgpu' } to use it anyway",
    );
  }
  return new WebGpuBackend(got.device, got.adapter, true, got.owner);
}
