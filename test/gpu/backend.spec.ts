import { expect } from 'chai';
import { BackendError, BanditError, createBackend } from '../../src/index.js';
import { axpy } from '../../src/ops/index.js';
import { AUTO_GPU_MIN_WORK, autoChoice } from '../../src/backend.js';
import { WebGpuBackend } from '../../src/gpu/backend.js';
import { cpuBackend, gpuBackend } from '../support/fixture.js';

describe('createBackend', () => {
  it("kind 'cpu' gives the float64 backend", async () => {
    const b = await createBackend({ kind: 'cpu' });
    expect(b.kind).to.equal('cpu');
    expect(b.info.summary).to.match(/^cpu/);
    const t = b.tensor([0.1, 0.2], [2]);
    expect(await b.read(t)).to.be.instanceOf(Float64Array);
    b.dispose();
  });

  it("kind 'webgpu' reports the adapter it runs on", () => {
    const { info } = gpuBackend();
    expect(info.kind).to.equal('webgpu');
    expect(info.adapter).to.not.equal(undefined);
    expect(info.adapter!.isFallbackAdapter).to.be.a('boolean');
    expect(info.adapter!.route).to.be.a('string').and.not.equal('');
    expect(info.summary).to.contain('webgpu');
  });

  it("kind 'auto' picks the wasm backend on a fallback adapter and says why, else webgpu", async function () {
    this.timeout(60_000);
    const b = await createBackend({ kind: 'auto' });
    try {
      if (gpuBackend().info.adapter!.isFallbackAdapter) {
        expect(b.kind).to.equal('wasm');
        expect(b.info.reason).to.match(/fallback\/CPU adapter.*wasm f32 SIMD/);
        expect(b.info.summary).to.contain(b.info.reason!);
      } else {
        expect(b.kind).to.equal('webgpu');
      }
    } finally {
      b.dispose();
    }
  });

  it("kind 'auto' by problem size: a small workload stays on the CPU even with a real adapter", () => {
    const real = { adapter: { fallback: false, name: 'Vendor X' }, noGpu: '', wasm: '' };
    const big = autoChoice({ ...real, workload: { arms: 1000, dim: 32, batch: 64 } });
    expect(big.kind).to.equal('webgpu');
    expect(big.reason).to.contain('65536000 multiply-adds');
    expect(autoChoice(real).kind).to.equal('webgpu');
    // At the threshold and one under it.
    expect(autoChoice({ ...real, workload: { arms: AUTO_GPU_MIN_WORK, dim: 1 } }).kind).to.equal('webgpu');
    const small = autoChoice({ ...real, workload: { arms: AUTO_GPU_MIN_WORK - 1, dim: 1 } });
    expect(small.kind).to.equal('wasm');
    expect(small.reason).to.match(/under 4194304: a GPU round trip/);
    const tiny = autoChoice({ ...real, workload: { arms: 7, dim: 9 }, wasm: 'no SIMD' });
    expect(tiny.kind).to.equal('cpu');
    expect(tiny.reason).to.match(/567 multiply-adds.*cannot run here \(no SIMD\)/);
    const none = autoChoice({ adapter: null, noGpu: 'no usable WebGPU adapter (x)', wasm: '', workload: { arms: 1e6, dim: 64 } });
    expect(none).to.deep.equal({ kind: 'wasm', reason: 'no usable WebGPU adapter (x); wasm f32 SIMD is the fastest CPU path' });
    expect(autoChoice({ adapter: { fallback: true, name: 'SwiftShader' }, noGpu: '', wasm: '' }).reason).to.match(/SwiftShader\) is a fallback/);
  });

  it('rejects an unknown kind', async () => {
    let error: unknown;
    await createBackend({ kind: 'tpu' as never }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(BackendError);
    expect(String(error)).to.contain("'tpu'");
  });

  it('wraps a device the caller made and leaves it alive on dispose', async () => {
    const device = gpuBackend().device;
    const b = await createBackend({ device });
    expect(b.kind).to.equal('webgpu');
    const t = b.tensor([1, 2, 3], [3]);
    expect(Array.from(await b.read(t))).to.deep.equal([1, 2, 3]);
    b.dispose();
    const again = gpuBackend().tensor([4], [1]);
    expect(Array.from(await gpuBackend().read(again))).to.deep.equal([4]);
    again.dispose();
  });
});

describe('backend runtime', () => {
  it('round-trips f32 and i32 tensors', async () => {
    for (const b of [gpuBackend(), cpuBackend()]) {
      const f = b.tensor(new Float32Array([1.5, -2, 3e-8]), [3]);
      const i = b.tensor(new Int32Array([-7, 0, 2147483647]), [3], { dtype: 'i32' });
      // The cpu backend widens the f32 input to float64 exactly.
      expect(Array.from(await b.read(f))).to.deep.equal([1.5, -2, Math.fround(3e-8)]);
      expect(Array.from(await b.read(i))).to.deep.equal([-7, 0, 2147483647]);
      f.dispose();
      i.dispose();
    }
  });

  it('encodes a whole step into one submit', async () => {
    const b = gpuBackend();
    const x = b.tensor([1, 2, 3], [3]);
    const y = b.zeros([3]);
    await b.sync();
    const before = b.runtime.submitCount;
    for (let i = 0; i < 5; i++) axpy(b, 1, x, y);
    const result = await b.read(y);
    expect(Array.from(result)).to.deep.equal([5, 10, 15]);
    expect(b.runtime.submitCount - before).to.equal(1);
    x.dispose();
    y.dispose();
  });

  it('caches pipelines per device', () => {
    const { runtime } = gpuBackend();
    const k = { name: 'axpy', source: '', entryPoint: 'axpy', storage: ['read', 'rw'], workgroupSize: 256 } as const;
    expect(runtime.pipeline(k)).to.equal(runtime.pipeline(k));
  });

  it('refuses a tensor over maxStorageBufferBindingSize with a clear error', () => {
    const b = gpuBackend();
    const max = Math.min(b.runtime.limits.maxStorageBufferBindingSize, b.runtime.limits.maxBufferSize);
    expect(() => b.zeros([max / 4 + 1])).to.throw(BackendError, /maxStorageBufferBindingSize/);
  });

  it('refuses bad shapes, lengths and foreign tensors', () => {
    const g = gpuBackend(), c = cpuBackend();
    expect(() => g.zeros([2, 0])).to.throw(BanditError, /positive integers/);
    expect(() => g.tensor([1, 2, 3], [2])).to.throw(BanditError, /holds 2 elements, got 3/);
    const t = c.zeros([2]);
    expect(() => axpy(g, 1, t, t)).to.throw(BanditError, /another backend/);
  });

  it('a call after dispose throws', async () => {
    const b = await createBackend({ kind: 'cpu' });
    const t = b.zeros([1]);
    b.dispose();
    expect(() => b.zeros([1])).to.throw(BanditError, /disposed/);
    let error: unknown;
    await b.read(t).catch((e) => (error = e));
    expect(error).to.be.instanceOf(BanditError);
  });

  it('notices device loss: pending and later calls reject instead of hanging', async function () {
    this.timeout(60_000);
    const b = (await createBackend({ kind: 'webgpu' })) as WebGpuBackend;
    const t = b.tensor(new Float32Array(1024).fill(1), [1024]);
    const pending = b.read(t);
    b.device.destroy();
    const settled = await pending.then(() => 'resolved', (e: unknown) => e);
    // A read already submitted may complete before the loss; it must not hang either way.
    if (settled !== 'resolved') expect(settled).to.be.instanceOf(Error);
    await b.device.lost;
    expect(() => b.zeros([1])).to.throw(BackendError, /lost/);
    let error: unknown;
    await b.read(t).catch((e) => (error = e));
    expect(error).to.be.instanceOf(BackendError);
    expect(String(error)).to.match(/device was lost \(destroyed/);
    b.dispose();
  });
});

describe('backend runtime: uniform slots', () => {
  it('keeps every dispatch\'s uniforms apart in one step of more dispatches than a uniform chunk holds', async () => {
    const b = gpuBackend();
    const x = b.tensor([1, 2], [2]);
    const y = b.zeros([2]);
    await b.sync();
    const before = b.runtime.submitCount;
    // 600 dispatches with different α in one command buffer: 256 slots a chunk, so three chunks.
    let expected = 0;
    for (let i = 1; i <= 600; i++) {
      axpy(b, i / 64, x, y);
      expected += i / 64;
    }
    expect(Array.from(await b.read(y))).to.deep.equal([expected, 2 * expected]);
    expect(b.runtime.submitCount - before).to.equal(1);
    x.dispose();
    y.dispose();
  });
});

describe('backend copy', () => {
  it('copies within a step on both backends and refuses mismatched tensors', async () => {
    for (const b of [gpuBackend(), cpuBackend()]) {
      const src = b.tensor([1, 2, 3, 4], [2, 2]);
      const dst = b.zeros([4]);
      axpy(b, 1, src, dst);
      b.copy(src, dst);
      axpy(b, 1, src, dst);
      expect(Array.from(await b.read(dst))).to.deep.equal([2, 4, 6, 8]);
      expect(() => b.copy(src, b.zeros([3]))).to.throw(BanditError, /src has 4 elements, dst has 3/);
      // A region: elements 1..2 of src to 0..1 of a longer tensor, the rest untouched.
      const wide = b.tensor([9, 9, 9, 9, 9], [5]);
      b.copy(src, wide, { srcOffset: 1, dstOffset: 0, count: 2 });
      b.copy(src, wide, { srcOffset: 3, dstOffset: 4, count: 1 });
      expect(Array.from(await b.read(wide))).to.deep.equal([2, 3, 9, 9, 4]);
      expect(() => b.copy(src, wide, { srcOffset: 3, dstOffset: 0, count: 2 })).to.throw(BanditError, /src has 4 elements, the region ends at 5/);
      expect(() => b.copy(src, wide, { srcOffset: 0, dstOffset: 4, count: 2 })).to.throw(BanditError, /dst has 5 elements/);
      expect(() => b.copy(src, src, { srcOffset: 0, dstOffset: 2, count: 2 })).to.throw(BanditError, /two different tensors/);
      expect(() => b.copy(src, wide, { srcOffset: -1, dstOffset: 0, count: 1 })).to.throw(BanditError, /srcOffset must be an integer/);
      wide.dispose();
      expect(() => b.copy(src, b.zeros([4], { dtype: 'i32' }))).to.throw(BanditError, /must be f32/);
      src.dispose();
      dst.dispose();
    }
  });
});
