/**
 * The shared test fixture: one webgpu, one wasm and one cpu backend for the whole run (made in a
 * root `before`, so a runtime without an adapter fails the run instead of skipping), and every
 * test wrapped in 'validation' and 'out-of-memory' error scopes with device loss watched.
 *
 * The op and model specs run once per f32 backend (`describeBackends`): inside, `f32Backend()`
 * and `backends().gpu` are the backend under test, webgpu or wasm, compared with the cpu twin.
 */
import { createBackend } from '../../src/backend.js';
import type { Backend } from '../../src/core/backend.js';
import { CpuBackend } from '../../src/cpu/backend.js';
import { WebGpuBackend } from '../../src/gpu/backend.js';
import { WasmBackend } from '../../src/wasm/backend.js';
import { instantiateKernels } from '../../src/wasm/module.js';
import { countingKernels } from './wasm-calls.js';

export const RUNTIME: 'node' | 'chromium' =
  typeof process !== 'undefined' && typeof process.versions?.node === 'string' && typeof window === 'undefined'
    ? 'node'
    : 'chromium';

let gpu: WebGpuBackend | null = null;
let wasm: WasmBackend | null = null;
let cpu: CpuBackend | null = null;
let lostMessage: string | null = null;

/** The f32 backends every op and model spec runs on. */
export const F32_KINDS = ['webgpu', 'wasm'] as const;
export type F32Kind = (typeof F32_KINDS)[number];
let underTest: F32Kind = 'webgpu';

export function gpuBackend(): WebGpuBackend {
  if (!gpu) throw new Error('the webgpu backend was not created (see the root before hook)');
  return gpu;
}

export function wasmBackend(): WasmBackend {
  if (!wasm) throw new Error('the wasm backend was not created (see the root before hook)');
  return wasm;
}

/** The f32 backend under test in the enclosing `describeBackends` (webgpu outside one). */
export function f32Backend(): Backend {
  return underTest === 'wasm' ? wasmBackend() : gpuBackend();
}

/**
 * Registers `body`'s suite once per f32 backend, titled "title [kind]"; its tests see that backend
 * through `f32Backend()` and `backends().gpu`. `kind` is known while the suite is declared, so a
 * test about the WebGPU kernels themselves (layouts, limits) can be declared for webgpu only.
 *
 * @example
 * describeBackends('gemm', (kind) => { it('matches the twin', async () => { const { gpu, cpu } = backends(); … }); });
 */
export function describeBackends(title: string, body: (this: Mocha.Suite, kind: F32Kind) => void): void {
  for (const kind of F32_KINDS) {
    describe(`${title} [${kind}]`, function () {
      before(() => {
        underTest = kind;
      });
      after(() => {
        underTest = 'webgpu';
      });
      body.call(this, kind);
    });
  }
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
  return Math.min(f32Backend().maxBindingBytes, TEST_BINDING_CAP);
}

/** The f32 backend under test (`gpu`: webgpu or wasm) and the cpu twin, for tests that run an op on each and compare. */
export const backends = (): { gpu: Backend; cpu: CpuBackend } => ({ gpu: f32Backend(), cpu: cpuBackend() });

before(async function () {
  this.timeout(120_000);
  cpu = new CpuBackend();
  const w = await createBackend({ kind: 'wasm' });
  if (!(w instanceof WasmBackend)) throw new Error('createBackend({ kind: "wasm" }) did not give a wasm backend');
  w.dispose();
  // The suite's wasm backend counts its kernel calls, so test/wasm/exports.spec.ts can tell that every export ran.
  wasm = new WasmBackend(countingKernels(await instantiateKernels()));
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
  wasm?.dispose();
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
