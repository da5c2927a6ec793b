import { CpuBackend } from './cpu/backend.js';
import { BackendError } from './core/errors.js';
import { acquireDevice, describeDevice } from './gpu/device.js';
import type { Backend } from './core/backend.js';
import { WebGpuBackend } from './gpu/backend.js';

export interface CreateBackendOptions {
  /**
   * 'webgpu': a WebGPU device or a BackendError naming what was tried.
   * 'cpu': the float64 backend.
   * 'auto' (default): WebGPU on a real (non-fallback) adapter, else the cpu backend, with the
   * reason in `backend.info.fallbackReason` (a software adapter such as SwiftShader is slower
   * than plain float64 JS on the same cores).
   */
  readonly kind?: 'webgpu' | 'cpu' | 'auto';
  /** Use this device instead of acquiring one (kind becomes 'webgpu'); it is not destroyed by dispose(). */
  readonly device?: GPUDevice;
  readonly powerPreference?: GPUPowerPreference;
}

/**
 * Creates a compute backend.
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * console.log(backend.info.summary); // "webgpu: google swiftshader … (fallback/CPU adapter) via …"
 * backend.dispose();
 */
export async function createBackend(options: CreateBackendOptions = {}): Promise<Backend> {
  if (options.device) {
    return new WebGpuBackend(options.device, describeDevice(options.device), false);
  }
  const kind = options.kind ?? 'auto';
  if (kind === 'cpu') return new CpuBackend();
  if (kind !== 'webgpu' && kind !== 'auto') {
    throw new BackendError(`createBackend: kind must be 'webgpu', 'cpu' or 'auto', got '${String(kind)}'`);
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
