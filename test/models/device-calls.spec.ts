import { expect } from 'chai';
import { createBackend, EmbeddingMLP, HybridLinUCB, LinTS, LinUCB, NeuralTS, NeuralUCB, type Backend, type LinUCBOptions } from '../../src/index.js';
import { gpuBackend } from '../support/fixture.js';
import { uniform } from '../support/random.js';
import { countingBackend, countingDevice, type BackendCalls, type DeviceCalls } from './counting.js';

interface Measured {
  readonly device: DeviceCalls;
  /** Tensors the model itself made (labels that start with its name), not those of the ops it called. */
  readonly modelAllocations: string[];
  readonly allocations: number;
  readonly writes: number;
  readonly reads: number;
}

/** Runs `call` once to warm up (pipelines, kept scratch), then counts a second, steady-state run. */
async function steadyState(
  model: string, counters: { device: DeviceCalls; backend: BackendCalls }, call: () => Promise<unknown>,
): Promise<Measured> {
  await call();
  await call();
  const d0 = { ...counters.device }, a0 = counters.backend.allocations.length, w0 = counters.backend.writes, r0 = counters.backend.reads;
  await call();
  const made = counters.backend.allocations.slice(a0);
  const device = {
    submits: counters.device.submits - d0.submits,
    createBuffer: counters.device.createBuffer - d0.createBuffer,
    createBindGroup: counters.device.createBindGroup - d0.createBindGroup,
  };
  return { device, modelAllocations: made.filter((l) => l.startsWith(model)), allocations: made.length, writes: counters.backend.writes - w0, reads: counters.backend.reads - r0 };
}

const report = (what: string, m: Measured): void => {
  console.log(
    `      ${what}: ${m.device.submits} submits, ${m.device.createBuffer} createBuffer, ${m.device.createBindGroup} createBindGroup; ` +
      `${m.allocations} tensors (${m.modelAllocations.length} by the model), ${m.writes} writes, ${m.reads} readbacks`,
  );
};

/** The steady state every public call should reach: one submit, and no tensor made by the model itself. */
function expectOneSubmitNothingAllocated(what: string, m: Measured): void {
  report(what, m);
  expect(m.device.submits, `${what}: submits`).to.equal(1);
  expect(m.modelAllocations, `${what}: tensors made by the model`).to.deep.equal([]);
}

describe('device calls of the models (steady state, one GPUDevice proxy)', function () {
  this.timeout(300_000);
  let counted: { backend: Backend; device: DeviceCalls; calls: BackendCalls };

  before(async () => {
    const { device, calls: deviceCalls } = countingDevice(gpuBackend().device);
    const made = await createBackend({ device });
    const { backend, calls } = countingBackend(made);
    counted = { backend, device: deviceCalls, calls };
  });

  after(() => counted.backend.dispose());

  const counters = () => ({ device: counted.device, backend: counted.calls });

  it('LinUCB.select and update over 4 shards: one submit each, nothing allocated by the model', async () => {
    const d = 8, K = 40, B = 4;
    const model = await LinUCB.create(counted.backend, { arms: K, dim: d, armsPerShard: 10 });
    const x = uniform(B * d, 1), arms = Int32Array.of(3, 14, 25, 36), rewards = uniform(B, 2);
    const select = await steadyState('LinUCB', counters(), () => model.select(x));
    const update = await steadyState('LinUCB', counters(), () => model.update(arms, x, rewards));
    expectOneSubmitNothingAllocated('LinUCB.select (4 shards, B = 4)', select);
    expectOneSubmitNothingAllocated('LinUCB.update (4 shards, B = 4)', update);
    model.dispose();
  });

  it('LinUCB drift checks and re-factorisations: one readback each, as many submits over 4 shards as over 1', async () => {
    const d = 8, K = 40, B = 4;
    const x = uniform(B * d, 11), arms = Int32Array.of(3, 14, 25, 36), rewards = uniform(B, 12);
    const cases: [string, Partial<LinUCBOptions>][] = [
      ['a drift check, nothing past the bound', { driftCheckEvery: B, driftBound: 1e30, refactorEvery: 0 }],
      ['a drift check, every touched arm past the bound', { driftCheckEvery: B, driftBound: 1e-30, refactorEvery: 0 }],
      ['a periodic re-factorisation', { refactorEvery: B, driftCheckEvery: 0 }],
      ['discounted (every arm re-factorised)', { forgetting: { gamma: 0.9 } }],
    ];
    const seen: Record<number, [number, number][]> = {};
    for (const perShard of [K, K / 4]) {
      seen[perShard] = [];
      for (const [what, extra] of cases) {
        const model = await LinUCB.create(counted.backend, { arms: K, dim: d, armsPerShard: perShard, ...extra });
        const m = await steadyState('LinUCB', counters(), () => model.update(arms, x, rewards));
        report(`LinUCB.update with ${what} (${K / perShard} shards)`, m);
        seen[perShard]!.push([m.device.submits, m.reads]);
        model.dispose();
      }
    }
    expect(seen[K / 4], 'over 4 shards as over 1').to.deep.equal(seen[K]);
    // [submits, readbacks]: the drifts, then the statuses, are each read once for all shards.
    expect(seen[K]).to.deep.equal([[1, 1], [3, 2], [2, 1], [2, 1]]);
  });

  it('NeuralUCB.train(10): one submit, nothing allocated by the model', async () => {
    for (const rows of [6, 40]) {
      // 6 rows: every step the whole history; 40 rows > batchSize 16: sampled minibatches.
      const model = await NeuralUCB.create(counted.backend, { dim: 4, hidden: [8], trainEvery: 0, batchSize: 16, seed: 1 });
      await model.update(new Int32Array(rows), uniform(rows * 4, 3), uniform(rows, 4));
      const train = await steadyState('NeuralUCB', counters(), () => model.train(10));
      expectOneSubmitNothingAllocated(`NeuralUCB.train(10) (${rows} history rows)`, train);
      model.dispose();
    }
  });

  it('HybridLinUCB.select and update, NeuralUCB.select and update, EmbeddingMLP.fit: one submit each', async () => {
    const hybrid = await HybridLinUCB.create(counted.backend, { arms: 12, dim: 4, sharedDim: 3, armsPerShard: 4 });
    const contexts = { arm: uniform(2 * 12 * 4, 5), shared: uniform(2 * 12 * 3, 6) };
    const hs = await steadyState('HybridLinUCB', counters(), () => hybrid.select(contexts));
    const hu = await steadyState('HybridLinUCB', counters(), () => hybrid.update(Int32Array.of(1, 9), contexts, uniform(2, 7)));
    expectOneSubmitNothingAllocated('HybridLinUCB.select (3 shards, B = 2)', hs);
    expectOneSubmitNothingAllocated('HybridLinUCB.update (3 shards, B = 2)', hu);
    hybrid.dispose();

    const neural = await NeuralUCB.create(counted.backend, { dim: 4, hidden: [8], seed: 2 });
    const ns = await steadyState('NeuralUCB', counters(), () => neural.select(uniform(10 * 4, 8), { arms: 10 }));
    expectOneSubmitNothingAllocated('NeuralUCB.select (K = 10)', ns);
    const nu = await steadyState('NeuralUCB', counters(), () => neural.update(Int32Array.of(0), uniform(4, 9), uniform(1, 10)));
    // Allocations not asserted: each call adds a history row, and while the history is under
    // batchSize the minibatch is all of it, one row larger (new minibatch tensors) every call.
    report('NeuralUCB.update (1 row, then train(10))', nu);
    expect(nu.device.submits).to.equal(1);
    neural.dispose();

    const mlp = await EmbeddingMLP.create(counted.backend, { users: 5, items: 6, contextDim: 2, hidden: [8], batchSize: 4, seed: 3 });
    const log = { users: Int32Array.of(0, 1, 2, 3, 4, 0, 1), items: Int32Array.of(0, 1, 2, 3, 4, 5, 0), contexts: uniform(14, 11), clicks: Float32Array.of(1, 0, 1, 0, 1, 0, 1) };
    const fit = await steadyState('EmbeddingMLP', counters(), () => mlp.fit(log, { epochs: 3 }));
    // The model allocates only the log: uploaded for the call and freed after it (a log may be large).
    report('EmbeddingMLP.fit (3 epochs of 2 minibatches)', fit);
    expect(fit.device.submits).to.equal(1);
    expect(fit.modelAllocations).to.deep.equal(['EmbeddingMLP log contexts', 'EmbeddingMLP log clicks']);
    mlp.dispose();
  });

  it('decide: two submits (arms with status, then the propensities), select with a mask one, nothing allocated by the model', async () => {
    const d = 8, K = 40, B = 4, x = uniform(B * d, 21), eligible = Uint8Array.from({ length: K }, (_, a) => (a % 3 === 0 ? 0 : 1));
    const explorer = await LinUCB.create(counted.backend, { arms: K, dim: d, armsPerShard: 10, exploration: { kind: 'epsilon-greedy', epsilon: 0.1 }, seed: 1 });
    const cases: [string, () => Promise<unknown>][] = [
      ['LinUCB.decide (ε-greedy, 4 shards, k = 2, a mask)', () => explorer.decide(x, { k: 2, eligible })],
      ['LinUCB.select (ε-greedy, a mask)', () => explorer.select(x, { eligible })],
    ];
    const ts = await LinTS.create(counted.backend, { arms: K, dim: d, seed: 2, propensityDraws: 64 });
    const sharded = await LinTS.create(counted.backend, { arms: 12, dim: 3, armsPerShard: 4, perArmFeatures: true, seed: 7, propensityDraws: 64 });
    const perArm = uniform(2 * 12 * 3, 26);
    cases.push(['LinTS.decide (M = 64)', () => ts.decide(x)], ['LinTS.select', () => ts.select(x)],
      ['LinTS.decide (3 shards, per-arm features)', () => sharded.decide(perArm)]);
    const neural = await NeuralUCB.create(counted.backend, { dim: 4, hidden: [8], seed: 3, exploration: { kind: 'softmax', temperature: 0.5 } });
    const neuralTs = await NeuralTS.create(counted.backend, { dim: 4, hidden: [8], seed: 4, propensityDraws: 64 });
    const features = uniform(2 * 10 * 4, 22);
    cases.push(['NeuralUCB.decide (softmax, K = 10)', () => neural.decide(features, { arms: 10 })], ['NeuralTS.decide (K = 10)', () => neuralTs.decide(features, { arms: 10 })]);
    const hybrid = await HybridLinUCB.create(counted.backend, { arms: 12, dim: 4, sharedDim: 3, armsPerShard: 4, exploration: { kind: 'squarecb', gamma: 10 }, seed: 5 });
    const contexts = { arm: uniform(2 * 12 * 4, 23), shared: uniform(2 * 12 * 3, 24) };
    cases.push(['HybridLinUCB.decide (SquareCB, 3 shards)', () => hybrid.decide(contexts)]);
    const mlp = await EmbeddingMLP.create(counted.backend, { users: 5, items: 6, contextDim: 2, hidden: [8], seed: 6, exploration: { kind: 'epsilon-greedy', epsilon: 0.2 } });
    cases.push(['EmbeddingMLP.decide (ε-greedy)', () => mlp.decide(Int32Array.of(0, 3), uniform(4, 25), { k: 2 })]);
    for (const [what, call] of cases) {
      const m = await steadyState(what.split('.')[0]!, counters(), call);
      report(what, m);
      expect(m.device.submits, `${what}: submits`).to.equal(what.includes('select') ? 1 : 2);
      expect(m.modelAllocations, `${what}: tensors made by the model`).to.deep.equal([]);
      expect(m.reads, `${what}: readbacks`).to.equal(what.includes('select') ? 1 : 2);
    }
    for (const model of [explorer, ts, sharded, neural, neuralTs, hybrid, mlp]) model.dispose();
  });
});
