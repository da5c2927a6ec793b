/**
 * The shared test fixture: one webgpu and one cpu backend for the whole run (made in a root
 * `before`, so a runtime without an adapter fails the run instead of skipping), and every test
 * wrapped in 'validation' and 'out-of-memory' error scopes with device loss watched.
 */
import { createBackend } from '../../src/backend.js';
import { CpuBackend } from '../../src/cpu/backend.js';
import { WebGpuBackend } from '../../src/gpu/backend.js';

export const RUNTIME: 'node' | 'chromium' =
  typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof window === 'undefined'
    ? 'node'
    : 'chromium';

let gpu: WebGpuBackend | null = null;
let cpu: CpuBackend | null = null;
let lostMessage: string | null = null;

export function gpuBackend(): WebGpuBackend {
  if (!gpu) throw new Error('the webgpu backend was not created (see the root before hook)');
  return gpu;
}

export function cpuBackend(): CpuBackend {
  if (!cpu) throw new Error('the cpu backend was not created');
  return cpu;
}

/**
 * The most bytes a test puts in one storage binding: the device's limit, capped at 128 MiB
 * (what Chromium grants SwiftShader; Dawn in Node reports 1 GiB there, which the suite does
 * not allocate, to keep its memory and time sane).
 */
export const TEST_BINDING_CAP = 128 * 1024 * 1024;
export function maxTestBindingBytes(): number {
  const l = gpuBackend().runtime.limits;
  return Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize, TEST_BINDING_CAP);
}

/** Both backends, for tests that run an op on each and compare. */
export const backends = () => ({ gpu: gpuBackend(), cpu: cpuBackend() });

before(async function () {
  this.timeout(120_000);
  cpu = new CpuBackend();
  const b = await createBackend({ kind: 'webgpu' });
  if (!(b instanceof WebGpuBackend)) throw new Error('createBackend({ kind: "webgpu" }) did not give a webgpu backend');
  gpu = b;
  void gpu.device.lost.then((info) => (lostMessage = `${info.reason}: ${info.message}`));
  // The harness reads this line to report which adapter each runtime used.
  const a = gpu.info.adapter!;
  const brief = { vendor: a.vendor, architecture: a.architecture, description: a.description, isFallbackAdapter: a.isFallbackAdapter };
  console.log(`[webgpu-bandits] runtime=${RUNTIME} adapter=${JSON.stringify(brief)} summary=${gpu.info.summary}`);
});

after(() => {
  gpu?.dispose();
});

beforeEach(function () {
  if (!gpu || gpu.disposed) return;
  gpu.device.pushErrorScope('out-of-memory');
  gpu.device.pushErrorScope('validation');
});

afterEach(async function () {
  if (!gpu || gpu.disposed) return;
  if (lostMessage) throw new Error(`the shared GPU device was lost during "${this.currentTest?.fullTitle()}": ${lostMessage}`);
  // Submit whatever the test left encoded, so the runtime's own scopes are closed first.
  gpu.runtime.flush();
  const validation = await gpu.device.popErrorScope();
  const oom = await gpu.device.popErrorScope();
  const error = validation ?? oom;
  if (error) throw new Error(`WebGPU ${error.constructor.name} during "${this.currentTest?.fullTitle()}": ${error.message}`);
});
