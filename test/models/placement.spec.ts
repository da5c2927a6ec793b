import { expect } from 'chai';
import { BackendError, BanditError, createBackend, HybridLinUCB, LinTS, LinUCB, NeuralUCB, EmbeddingMLP } from '../../src/index.js';
import { AUTO_GPU_MIN_WORK, autoBackend, type AutoFound, type AutoMakers } from '../../src/backend.js';
import type { AutoRole, Backend } from '../../src/core/backend.js';
import { acquireDevice } from '../../src/gpu/device.js';
import { WebGpuBackend } from '../../src/gpu/backend.js';
import { WasmBackend } from '../../src/wasm/backend.js';
import { CpuBackend } from '../../src/cpu/backend.js';
import { mlpLayout } from '../../src/ops/mlp.js';
import { uniform } from '../support/random.js';

// kind 'auto' places each model by its size (src/backend.ts: AutoPlacer). No machine here has a
// real GPU, so these tests hand autoBackend an adapter that says it is not a fallback one, with
// makers that build the real backends (the webgpu one on this machine's SwiftShader).

const REAL: AutoFound = { adapter: { fallback: false, name: 'Test GPU (SwiftShader standing in)' }, noGpu: '', wasm: '' };

/** The real makers, counting what each made. */
function makers(fail: Partial<Record<'webgpu' | 'wasm' | 'cpu', string>> = {}): AutoMakers & { made: Backend[] } {
  const made: Backend[] = [];
  const keep = <B extends Backend>(b: B): B => (made.push(b), b);
  const failing = (kind: 'webgpu' | 'wasm' | 'cpu'): void => {
    if (fail[kind]) throw new BackendError(fail[kind]!);
  };
  return {
    made,
    webgpu: async (role: AutoRole) => {
      failing('webgpu');
      const g = await acquireDevice();
      return keep(new WebGpuBackend(g.device, g.adapter, true, g.owner, role));
    },
    wasm: async (role: AutoRole) => (failing('wasm'), keep(await WasmBackend.create({ auto: role }))),
    cpu: async (role: AutoRole) => (failing('cpu'), keep(new CpuBackend(role))),
  };
}

const contexts = (rows: number, dim: number, seed: number): Float32Array => uniform(rows * dim, seed);

describe("kind 'auto': each model placed by its size", function () {
  this.timeout(120_000);

  it('a small LinUCB goes to wasm beside a GPU, a large one stays on it; info.placements says which and why', async () => {
    const m = makers();
    const root = await autoBackend(REAL, m);
    try {
      expect(root.kind).to.equal('webgpu');
      expect(root.info.reason).to.contain('a real WebGPU adapter (Test GPU');
      expect(root.info.placements).to.deep.equal([]);
      const small = await LinUCB.create(root, { arms: 7, dim: 9 });
      expect(small.backend.kind).to.equal('wasm');
      expect(small.backend.info.reason).to.match(/^made by kind 'auto' beside webgpu for a model's size: 567 multiply-adds a call are under 4194304/);
      // 2²² multiply-adds exactly: the GPU.
      const large = await LinUCB.create(root, { arms: AUTO_GPU_MIN_WORK / 64 ** 2, dim: 64 });
      expect(large.backend).to.equal(root);
      const alsoSmall = await LinTS.create(root, { arms: 3, dim: 2, seed: 1 });
      expect(alsoSmall.backend).to.equal(small.backend);
      expect(m.made.map((b) => b.kind)).to.deep.equal(['webgpu', 'wasm']);
      const placements = root.info.placements!;
      expect(placements.map(({ model, multiplyAdds, kind }) => ({ model, multiplyAdds, kind }))).to.deep.equal([
        { model: 'LinUCB', multiplyAdds: 567, kind: 'wasm' },
        { model: 'LinUCB', multiplyAdds: AUTO_GPU_MIN_WORK, kind: 'webgpu' },
        { model: 'LinTS', multiplyAdds: 12, kind: 'wasm' },
      ]);
      expect(placements[0]!.reason).to.match(/567 multiply-adds a call are under 4194304: a GPU round trip .* wasm f32 SIMD/);
      expect(placements[1]!.reason).to.match(/a real WebGPU adapter .*4194304 multiply-adds a call amortise a GPU round trip/);
      // Both sides see the same live list.
      expect(small.backend.info.placements).to.equal(placements);
    } finally {
      root.dispose();
    }
    expect(m.made.every((b) => b.disposed)).to.equal(true);
  });

  it('a model on a backend made beside the GPU learns as it would on that backend alone, saves, loads back to it, and goes with the returned backend', async () => {
    const m = makers();
    const root = await autoBackend(REAL, m);
    const alone = await createBackend({ kind: 'wasm' });
    try {
      const [placedModel, aloneModel] = await Promise.all([root, alone].map((b) => LinUCB.create(b, { arms: 5, dim: 3, alpha: 0.7 })));
      for (let step = 0; step < 20; step++) {
        const x = contexts(2, 3, step + 1);
        const [a, b] = [await placedModel!.select(x), await aloneModel!.select(x)];
        expect(Array.from(a)).to.deep.equal(Array.from(b));
        const r = Float32Array.from(a, (arm) => (arm % 2 ? 1 : 0.25));
        await placedModel!.update(a, x, r);
        await aloneModel!.update(b, x, r);
      }
      const bytes = await placedModel!.save();
      expect(Array.from(bytes)).to.deep.equal(Array.from(await aloneModel!.save()));
      const back = await LinUCB.load(root, bytes);
      expect(back.backend).to.equal(placedModel!.backend);
      expect(root.info.placements!.length).to.equal(2);
      // A model keeps its backend as its catalogue grows; loading its save places it again at its new size.
      const growing = await LinUCB.create(root, { arms: 8, dim: 64 });
      await growing.addArms(AUTO_GPU_MIN_WORK / 64 ** 2 - 8);
      expect(growing.backend.kind).to.equal('wasm');
      const moved = await LinUCB.load(root, await growing.save());
      expect(moved.backend).to.equal(root);
      const x = contexts(3, 64, 7);
      expect(Array.from(await moved.select(x))).to.deep.equal(Array.from(await growing.select(x)));
      root.dispose();
      expect(placedModel!.backend.disposed).to.equal(true);
      const late = await placedModel!.select(contexts(1, 3, 99)).catch((e: unknown) => e);
      expect(late).to.be.instanceOf(BanditError);
      expect(String(late)).to.contain('disposed');
    } finally {
      root.dispose();
      alone.dispose();
    }
  });

  it('the neural models and hybrid by their sizes: parameters, the full Z⁻¹, training, and workload hints', async () => {
    const root = await autoBackend(REAL, makers(), { arms: 10, dim: 1, batch: 1 });
    try {
      // The workload (10·1·1 multiply-adds) puts the returned backend on wasm; large models still get the GPU.
      expect(root.kind).to.equal('wasm');
      const tiny = await NeuralUCB.create(root, { dim: 4, hidden: [4], trainEvery: 0 });
      expect(tiny.backend).to.equal(root);
      // p = 2201 with the default training (10 minibatches of 64 a round, ≈ 3p a row) is over 2²².
      const trained = await NeuralUCB.create(root, { dim: 20, hidden: [100] });
      expect(trained.backend.kind).to.equal('webgpu');
      // Full Z⁻¹ at p = 2201 for 10 arms a call (the workload's arms): 10·(p² + 3p), without training.
      const full = await NeuralUCB.create(root, { dim: 20, hidden: [100], confidence: 'full', trainEvery: 0 });
      expect(full.backend).to.equal(trained.backend);
      const hybrid = await HybridLinUCB.create(root, { arms: 4, dim: 3, sharedDim: 2 });
      expect(hybrid.backend).to.equal(root);
      const served = await EmbeddingMLP.create(root, { users: 5, items: 4, contextDim: 0, hidden: [4], seed: 1 });
      expect(served.backend).to.equal(root);
      expect(root.info.placements!.map((p) => [p.model, p.multiplyAdds, p.kind])).to.deep.equal([
        ['NeuralUCB', 10 * 4 * 25, 'wasm'],
        ['NeuralUCB', 10 * 64 * 3 * 2201 + 10 * 4 * 2201, 'webgpu'],
        ['NeuralUCB', 10 * (2201 * 2201 + 3 * 2201), 'webgpu'],
        ['HybridLinUCB', 4 * 25, 'wasm'],
        ['EmbeddingMLP', 4 * mlpLayout(2 * 8, [4]).paramCount, 'wasm'],
      ]);
      const x = contexts(10, 20, 5);
      expect((await trained.select(x, { arms: 10 })).length).to.equal(1);
    } finally {
      root.dispose();
    }
  });

  it('a batch hint scales every model; bad options throw before anything is made; a kind that cannot start leaves the model on the returned backend', async () => {
    const m = makers({ wasm: 'no SIMD in this test' });
    const batched = await autoBackend(REAL, m, { arms: 7, dim: 9, batch: 10_000 });
    try {
      expect(batched.kind).to.equal('webgpu');
      expect((await LinUCB.create(batched, { arms: 7, dim: 9 })).backend).to.equal(batched);
      const tiny = await LinUCB.create(batched, { arms: 1, dim: 1 });
      expect(tiny.backend).to.equal(batched);
      expect(batched.info.placements![1]!.reason).to.match(/10000 multiply-adds a call are under .*; but no wasm backend could start \(no SIMD in this test\), so on webgpu/);
      let error: unknown;
      await LinUCB.create(batched, { arms: 0, dim: 9 }).catch((e) => (error = e));
      expect(error).to.be.instanceOf(BanditError);
      expect(batched.info.placements!.length).to.equal(2);
      expect(m.made.length).to.equal(1);
    } finally {
      batched.dispose();
    }
  });

  it('on a fallback adapter or none every model runs on the returned backend', async () => {
    for (const found of [{ ...REAL, adapter: { fallback: true, name: 'SwiftShader' } }, { adapter: null, noGpu: 'no usable WebGPU adapter (test)', wasm: '' }]) {
      const m = makers();
      const root = await autoBackend(found, m);
      try {
        expect(root.kind).to.equal('wasm');
        const big = await LinUCB.create(root, { arms: 2048, dim: 64 });
        expect(big.backend).to.equal(root);
        expect(root.info.placements![0]!.reason).to.match(found.adapter ? /is a fallback\/CPU adapter/ : /no usable WebGPU adapter \(test\)/);
        expect(m.made.length).to.equal(1);
      } finally {
        root.dispose();
      }
    }
  });
});
