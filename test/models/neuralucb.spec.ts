import { expect } from 'chai';
import { BanditError, LinUCB, NeuralUCB, type Backend, type NeuralUCBOptions } from '../../src/index.js';
import { accumulateSquares, confidenceScores, mlpLayout, type MlpLayout } from '../../src/ops/index.js';
import { decodeModel } from '../../src/models/persist.js';
import { F32_EPS, TOL_ELEMENTWISE, TOL_EXACT, expectClose, type Tolerance } from '../support/compare.js';
import { backends, cpuBackend, describeBackends, f32Backend } from '../support/fixture.js';
import { inverseSpd } from '../support/reference.js';
import { rng, uniform } from '../support/random.js';
import { CosineBandit } from './nonlinear-bandit.js';

/** confidenceScores: a sqrt, a multiply and an add in f32, each one rounding, plus the inputs' rounding to f32. */
const TOL_CONFIDENCE: Tolerance = { abs: 1e-7, rel: 8 * F32_EPS };
/** The cpu backend against the direct float64 reference: only the order of float64 sums differs, then one f32 rounding of the score. */
const TOL_CPU_VS_DIRECT: Tolerance = { abs: 1e-9, rel: 2 * F32_EPS };
/**
 * The webgpu model against the float64 reference, small networks (p < 300), a few dozen updates and
 * no training: f and g carry ~d + width f32 roundings (1e-6 relative), and the full Z⁻¹ a few dozen
 * Sherman–Morrison updates of p² entries in f32.
 */
const TOL_GPU_MODEL: Tolerance = { abs: 2e-5, rel: 1e-4 };
/** webgpu against cpu after training too: the parameters move by a few hundred f32-rounded steps. */
const TOL_GPU_TRAINED: Tolerance = { abs: 1e-3, rel: 1e-3 };

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  let error: unknown = null;
  await p.catch((e) => (error = e));
  expect(error, 'expected a rejection').to.be.instanceOf(BanditError);
  expect(String((error as Error).message)).to.match(pattern);
}

/** The network, its gradient and NeuralUCB's state in float64, one arm at a time (K backward passes). */
class DirectNeuralUCB {
  readonly p: number;
  readonly z: Float64Array;

  constructor(readonly layout: MlpLayout, readonly theta: Float64Array, readonly width: number, readonly lambda: number, readonly nu: number, readonly full: boolean) {
    this.p = layout.paramCount;
    this.z = new Float64Array(full ? this.p * this.p : this.p);
    for (let q = 0; q < this.p; q++) this.z[full ? q * this.p + q : q] = lambda;
  }

  /** f(x) and ∇θ f(x) by plain backprop. */
  valueAndGradient(x: ArrayLike<number>): { f: number; g: Float64Array } {
    const { layers } = this.layout, th = this.theta;
    const hs: Float64Array[] = [Float64Array.from(x)];
    layers.forEach((layer, l) => {
      const h = new Float64Array(layer.out), input = hs[l]!;
      for (let i = 0; i < layer.out; i++) {
        let z = th[layer.biasOffset + i]!;
        for (let j = 0; j < layer.in; j++) z += th[layer.weightOffset + i * layer.in + j]! * input[j]!;
        h[i] = l === layers.length - 1 || z > 0 ? z : 0;
      }
      hs.push(h);
    });
    const g = new Float64Array(this.p);
    let delta = new Float64Array([1]);
    for (let l = layers.length - 1; l >= 0; l--) {
      const layer = layers[l]!, input = hs[l]!;
      for (let i = 0; i < layer.out; i++) {
        for (let j = 0; j < layer.in; j++) g[layer.weightOffset + i * layer.in + j] = delta[i]! * input[j]!;
        g[layer.biasOffset + i] = delta[i]!;
      }
      if (l === 0) break;
      const below = new Float64Array(layer.in);
      for (let j = 0; j < layer.in; j++) {
        let s = 0;
        for (let i = 0; i < layer.out; i++) s += th[layer.weightOffset + i * layer.in + j]! * delta[i]!;
        below[j] = input[j]! > 0 ? s : 0;
      }
      delta = below;
    }
    return { f: hs[layers.length]![0]!, g };
  }

  scores(features: Float32Array, dim: number): Float64Array {
    const K = features.length / dim, out = new Float64Array(K);
    const inv = this.full ? inverseSpd(this.z, this.p) : null;
    for (let a = 0; a < K; a++) {
      const { f, g } = this.valueAndGradient(features.subarray(a * dim, (a + 1) * dim));
      let w = 0;
      for (let q = 0; q < this.p; q++) {
        if (inv) {
          let s = 0;
          for (let r = 0; r < this.p; r++) s += inv[q * this.p + r]! * g[r]!;
          w += g[q]! * s;
        } else {
          w += (g[q]! * g[q]!) / this.z[q]!;
        }
      }
      out[a] = f + this.nu * Math.sqrt(Math.max(w, 0) / this.width);
    }
    return out;
  }

  update(x: Float32Array): void {
    const { g } = this.valueAndGradient(x);
    for (let q = 0; q < this.p; q++) {
      if (!this.full) this.z[q] = this.z[q]! + (g[q]! * g[q]!) / this.width;
      else for (let r = 0; r < this.p; r++) this.z[q * this.p + r] = this.z[q * this.p + r]! + (g[q]! * g[r]!) / this.width;
    }
  }
}

const savedTheta = async (model: NeuralUCB): Promise<Float64Array> =>
  Float64Array.from(decodeModel(await model.save(), 'NeuralUCB', [1]).arrays['theta']!);

describeBackends('NeuralUCB ops', function () {
  this.timeout(120_000);

  for (const n of [1, 67, 4099]) {
    it(`confidenceScores matches its float64 twin (n = ${n}; negative widths clamp to 0)`, async () => {
      const { gpu, cpu } = backends();
      const mean = uniform(n, n), width2 = uniform(n, n + 1);
      const results: ArrayLike<number>[] = [];
      for (const b of [gpu, cpu] as Backend[]) {
        const m = b.tensor(mean, [n]), w = b.tensor(width2, [n]);
        const out = confidenceScores(b, m, w, 0.37);
        results.push(await b.read(out));
        for (const t of [m, w, out]) t.dispose();
      }
      expectClose(results[0]!, results[1]!, TOL_CONFIDENCE, 'gpu vs twin');
      for (let i = 0; i < n; i++) expect(results[1]![i]).to.equal(mean[i]! + 0.37 * Math.sqrt(Math.max(width2[i]!, 0)));
    });
  }

  for (const [rows, cols] of [[1, 1], [3, 67], [64, 3401], [1000, 5]] as const) {
    it(`accumulateSquares matches its float64 twin (${rows}×${cols})`, async () => {
      const { gpu, cpu } = backends();
      const z0 = uniform(cols, 5).map(Math.abs), jac = uniform(rows * cols, 6);
      const results: ArrayLike<number>[] = [];
      for (const b of [gpu, cpu] as Backend[]) {
        const z = b.tensor(z0, [cols]), j = b.tensor(jac, [rows, cols]);
        accumulateSquares(b, z, j, 0.01);
        results.push(await b.read(z));
        z.dispose();
        j.dispose();
      }
      // A sum of `rows` non-negative squares: relative error ≤ γ_(rows+2), whatever the values.
      const tol: Tolerance = { abs: 0, rel: ((rows + 3) * F32_EPS) / (1 - (rows + 3) * F32_EPS) };
      expectClose(results[0]!, results[1]!, tol, 'gpu vs twin');
    });
  }

  it('refuses bad input and leaves the output untouched', async () => {
    const b = f32Backend();
    const m = b.tensor(new Float32Array(4), [4]), w = b.tensor(new Float32Array(3), [3]);
    const out = b.tensor(new Float32Array(4).fill(-7.25), [4]);
    expect(() => confidenceScores(b, m, w, 1, out)).to.throw(BanditError, /width2/);
    expect(() => confidenceScores(b, m, m, NaN, out)).to.throw(BanditError, /scale/);
    expect(() => confidenceScores(b, m, m, 1, m)).to.throw(BanditError, /different/);
    expect(() => accumulateSquares(b, out, b.tensor(new Float32Array(6), [2, 3]), 1)).to.throw(BanditError, /N×4/);
    expectClose(await b.read(out), new Float32Array(4).fill(-7.25), TOL_EXACT, 'out after refused calls');
    for (const t of [m, w, out]) t.dispose();
  });
});

describeBackends('NeuralUCB', function () {
  this.timeout(300_000);

  it('starts at f ≡ 0 (symmetric initialisation) with the bonus of Z = λI', async () => {
    for (const b of [f32Backend(), cpuBackend()] as Backend[]) {
      const model = await NeuralUCB.create(b, { dim: 5, hidden: [8, 6], nu: 0, seed: 3 });
      const s = await model.scores(uniform(7 * 5, 9), { arms: 7 });
      expectClose(s, new Float32Array(7), { abs: 1e-6, rel: 0 }, `${b.kind}: f(x; θ₀)`);
      model.dispose();
    }
  });

  for (const confidence of ['diagonal', 'full'] as const) {
    for (const hidden of [[6], [4, 10]]) {
      it(`scores equal a direct float64 NeuralUCB with K backward passes (${confidence} Z, hidden [${hidden}])`, async () => {
        const dim = 3, lambda = 0.5, nu = 0.8;
        const options: NeuralUCBOptions = { dim, hidden, lambda, nu, confidence, trainEvery: 0, seed: 7 };
        const gpu = await NeuralUCB.create(f32Backend(), options);
        const cpu = await NeuralUCB.create(cpuBackend(), options);
        const layout = mlpLayout(dim, hidden);
        const ref = new DirectNeuralUCB(layout, await savedTheta(cpu), hidden[hidden.length - 1]!, lambda, nu, confidence === 'full');
        const r = rng(21);
        for (let step = 0; step < 12; step++) {
          const K = 1 + (step % 5);
          const x = uniform(K * dim, 300 + step);
          const expected = ref.scores(x, dim);
          expectClose(await cpu.scores(x), expected, TOL_CPU_VS_DIRECT, `cpu scores at step ${step}`);
          expectClose(await gpu.scores(x), expected, TOL_GPU_MODEL, `gpu scores at step ${step}`);
          const B = 1 + (step % 3);
          const arms = Int32Array.from({ length: B }, () => Math.floor(r() * K));
          const played = new Float32Array(B * dim);
          arms.forEach((a, i) => played.set(x.subarray(a * dim, (a + 1) * dim), i * dim));
          const rewards = Float32Array.from({ length: B }, () => r());
          await gpu.update(arms, played, rewards);
          await cpu.update(arms, played, rewards);
          for (let i = 0; i < B; i++) ref.update(played.subarray(i * dim, (i + 1) * dim));
        }
        expect(gpu.diagnostics().updates).to.equal(cpu.diagnostics().updates);
        gpu.dispose();
        cpu.dispose();
      });
    }
  }

  it('full Z past the Cholesky limit (p = 265 > 256) is repaired by Newton–Schulz and still scores right', async () => {
    const dim = 20, hidden = [12], lambda = 0.5, nu = 1;
    // A bound below what f32 Sherman–Morrison keeps, so every check repairs.
    const options: NeuralUCBOptions = { dim, hidden, lambda, nu, confidence: 'full', trainEvery: 0, driftCheckEvery: 6, driftBound: 1e-7, seed: 4 };
    const gpu = await NeuralUCB.create(f32Backend(), options);
    const ref = new DirectNeuralUCB(mlpLayout(dim, hidden), await savedTheta(gpu), 12, lambda, nu, true);
    expect(gpu.layout.paramCount).to.equal(265);
    for (let step = 0; step < 4; step++) {
      const x = uniform(3 * dim, 900 + step);
      await gpu.update(new Int32Array(3), x, uniform(3, 950 + step));
      for (let i = 0; i < 3; i++) ref.update(x.subarray(i * dim, (i + 1) * dim));
    }
    const d = gpu.diagnostics();
    expect(d.driftChecks).to.equal(2);
    expect(d.repairs).to.equal(2);
    expect(d.lastDrift).to.be.below(1e-4);
    const probe = uniform(7 * dim, 990);
    expectClose(await gpu.scores(probe), ref.scores(probe, dim), TOL_GPU_MODEL, 'scores after two repairs');
    gpu.dispose();
  });

  it("takes 'diagonal' by default and resolves 'auto' by the memory budget", async () => {
    const b = f32Backend();
    const made = [
      await NeuralUCB.create(b, { dim: 3, hidden: [4] }),
      await NeuralUCB.create(b, { dim: 3, hidden: [4], confidence: 'auto' }),
      await NeuralUCB.create(b, { dim: 64, hidden: [128], confidence: 'auto', fullMemoryBytes: 2 ** 20 }),
    ];
    expect(made.map((m) => m.diagnostics().confidence)).to.deep.equal(['diagonal', 'full', 'diagonal']);
    for (const m of made) m.dispose();
  });

  it('full Z equals diagonal Z while Z is diagonal (at λI)', async () => {
    const options: NeuralUCBOptions = { dim: 4, hidden: [10], lambda: 0.3, nu: 1.5, trainEvery: 0, seed: 2 };
    const full = await NeuralUCB.create(f32Backend(), { ...options, confidence: 'full' });
    const diag = await NeuralUCB.create(f32Backend(), { ...options, confidence: 'diagonal' });
    const x = uniform(9 * 4, 12);
    expectClose(await full.scores(x), await diag.scores(x), { abs: 1e-6, rel: 1e-5 }, 'full vs diagonal');
    full.dispose();
    diag.dispose();
  });

  it('a training run lowers the loss on a planted target, on both backends, and they agree', async () => {
    const dim = 4, rows = 48;
    const thetas: Float64Array[] = [];
    for (const b of [f32Backend(), cpuBackend()] as Backend[]) {
      const model = await NeuralUCB.create(b, { dim, hidden: [16], trainEvery: 0, optimizer: 'adam', lr: 0.01, batchSize: 64, seed: 5 });
      const x = uniform(rows * dim, 40);
      const y = Float32Array.from({ length: rows }, (_, i) => Math.cos(3 * (x[i * dim]! - x[i * dim + 1]!)));
      await model.update(new Int32Array(rows), x, y);
      const first = (await model.train(1))!;
      const last = (await model.train(200))!;
      expect(last, `${b.kind}: loss after 200 steps vs the first`).to.be.below(first * 0.5);
      thetas.push(await savedTheta(model));
      model.dispose();
    }
    expectClose(thetas[0]!, thetas[1]!, TOL_GPU_TRAINED, 'θ after training, webgpu vs cpu');
  });

  for (const kind of ['cpu', 'webgpu'] as const) {
    for (const optimizer of ['sgd', 'adam'] as const) {
      it(`save/load continues exactly (${kind}, ${optimizer}, training on sampled minibatches)`, async () => {
        const b: Backend = kind === 'cpu' ? cpuBackend() : f32Backend();
        const options: NeuralUCBOptions = {
          dim: 3, hidden: [6], optimizer, trainEvery: 4, trainSteps: 3, batchSize: 5, confidence: 'full', driftCheckEvery: 7, seed: 9,
        };
        const a = await NeuralUCB.create(b, options);
        const stream = (step: number) => ({ x: uniform(4 * 3, 500 + step), r: uniform(4, 600 + step) });
        const play = async (m: NeuralUCB, step: number) => {
          const { x, r } = stream(step);
          const chosen = await m.select(x, { arms: 4 });
          const played = x.subarray(chosen[0]! * 3, chosen[0]! * 3 + 3);
          await m.update(chosen, played, r.subarray(0, 1));
          return m.scores(x, { arms: 4 });
        };
        for (let s = 0; s < 10; s++) await play(a, s);
        const bytes = await a.save();
        const c = await NeuralUCB.load(b, bytes);
        expect(c.diagnostics()).to.deep.equal(a.diagnostics());
        for (let s = 10; s < 20; s++) expectClose(await play(c, s), await play(a, s), TOL_EXACT, `scores at step ${s}`);
        expect(await c.save()).to.deep.equal(await a.save());
        a.dispose();
        c.dispose();
      });
    }
  }

  it('keeps the history as a ring of historyLimit rows, growing until then', async () => {
    for (const [limit, batches] of [[5, [4, 4, 4]], [2000, [700, 700, 1]]] as const) {
      const dim = 2;
      const model = await NeuralUCB.create(f32Backend(), { dim, hidden: [2], historyLimit: limit, trainEvery: 0 });
      const rows: number[] = [];
      let next = 0;
      for (const n of batches) {
        const x = Float32Array.from({ length: n * dim }, (_, i) => next * dim + i);
        await model.update(new Int32Array(n), x, Float32Array.from({ length: n }, (_, i) => next + i));
        for (let i = 0; i < n; i++) rows.push(next + i);
        next += n;
      }
      const kept = Math.min(limit, rows.length);
      const expected = new Float32Array(kept);
      rows.forEach((r, i) => (expected[i % limit] = r));
      const saved = decodeModel(await model.save(), 'NeuralUCB', [1]).arrays;
      expectClose(saved['historyR']!, expected, TOL_EXACT, `rewards in the ring (limit ${limit})`);
      expectClose(saved['historyX']!, Float32Array.from({ length: kept * dim }, (_, i) => expected[Math.floor(i / dim)]! * dim + (i % dim)), TOL_EXACT, 'features');
      expect(model.diagnostics().historyRows).to.equal(kept);
      model.dispose();
    }
  });

  it('refuses bad input with BanditError and leaves the model as it was', async () => {
    const b = f32Backend();
    await rejects(NeuralUCB.create(b, { dim: 4, hidden: [7] }), /even/);
    await rejects(NeuralUCB.create(b, { dim: 4, hidden: [] }), /non-empty/);
    await rejects(NeuralUCB.create(b, { dim: 0 }), /dim/);
    await rejects(NeuralUCB.create(b, { dim: 4, lambda: -1 }), /lambda/);
    await rejects(NeuralUCB.create(b, { dim: 4, confidence: 'big' as 'full' }), /confidence/);
    await rejects(NeuralUCB.create(b, { dim: 64, hidden: [128], confidence: 'full', fullMemoryBytes: 2 ** 20 }), /diagonal/);
    const model = await NeuralUCB.create(b, { dim: 3, hidden: [4], seed: 1 });
    const x = uniform(5 * 3, 1);
    await model.update(new Int32Array([2]), x.subarray(6, 9), new Float32Array([1]));
    const before = await model.scores(x);
    const saved = await model.save();
    await rejects(model.select(x.subarray(0, 14)), /whole number/);
    await rejects(model.select(x, { arms: 2 }), /2 arms/);
    await rejects(model.select(Float32Array.from(x).fill(NaN, 4, 5)), /armFeatures\[4\].*finite/);
    await rejects(model.update(new Int32Array([-1]), x.subarray(0, 3), new Float32Array([1])), /negative/);
    await rejects(model.update(new Int32Array([1]), x.subarray(0, 6), new Float32Array([1])), /played arms' features/);
    await rejects(model.update(new Int32Array([1]), x.subarray(0, 3), new Float32Array([Infinity])), /finite/);
    await rejects(model.update([1] as unknown as Int32Array, x.subarray(0, 3), new Float32Array([1])), /Int32Array/);
    await rejects(NeuralUCB.load(b, saved.slice(0, 40)), /./);
    expectClose(await model.scores(x), before, TOL_EXACT, 'scores after refused calls');
    expect(await model.save()).to.deep.equal(saved);
    model.dispose();
    await rejects(model.select(x), /disposed/);
  });

  it('beats LinUCB clearly on a nonlinear bandit (reward cos(3·xᵀθ*) + noise)', async () => {
    const dim = 5, K = 10, rounds = 200;
    const env = new CosineBandit(dim, K, 77);
    // Training every 4th round keeps the test short on SwiftShader (~25 ms a round).
    const neural = await NeuralUCB.create(f32Backend(), { dim, hidden: [16], optimizer: 'adam', lr: 0.01, trainEvery: 4, seed: 1 });
    const linear = await LinUCB.create(f32Backend(), { arms: K, dim, perArmFeatures: true, alpha: 0.5 });
    let regretNeural = 0, regretLinear = 0;
    for (let t = 0; t < rounds; t++) {
      const { x, means } = env.round();
      const best = Math.max(...means);
      const [a] = await neural.select(x, { arms: K });
      const [l] = await linear.select(x);
      regretNeural += best - means[a!]!;
      regretLinear += best - means[l!]!;
      await neural.update(Int32Array.of(a!), x.subarray(a! * dim, (a! + 1) * dim), Float32Array.of(env.reward(means[a!]!)));
      await linear.update(Int32Array.of(l!), x, Float32Array.of(env.reward(means[l!]!)));
    }
    expect(regretNeural, `NeuralUCB regret ${regretNeural.toFixed(1)} vs LinUCB ${regretLinear.toFixed(1)}`).to.be.below(0.5 * regretLinear);
    neural.dispose();
    linear.dispose();
  });
});
