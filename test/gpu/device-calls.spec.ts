import { expect } from 'chai';
import { createBackend } from '../../src/backend.js';
import { LinUCB, NeuralUCB } from '../../src/index.js';
import { WebGpuBackend } from '../../src/gpu/backend.js';
import { countingDevice, type CountedDevice, type DeviceCalls } from '../support/device-calls.js';
import { gpuBackend } from '../support/fixture.js';
import { uniform as fill } from '../support/random.js';
import { gatherMatVec, mlpLayout, mlpLossGradient, optimizerStep, rowArgmax, scatterAddScaled, shermanMorrisonUpdate, ucbScores } from '../../src/ops/index.js';
import type { Backend } from '../../src/core/backend.js';
import type { Tensor } from '../../src/core/tensor.js';

/** A webgpu backend on the shared device, counted. */
async function countedBackend(): Promise<{ counted: CountedDevice; backend: WebGpuBackend }> {
  const counted = countingDevice(gpuBackend().device);
  const backend = await createBackend({ device: counted.device });
  if (!(backend instanceof WebGpuBackend)) throw new Error('not a webgpu backend');
  return { counted, backend };
}

/** The device calls of `step` after `warm` runs of it. */
async function steady(counted: CountedDevice, warm: number, step: () => Promise<unknown>): Promise<DeviceCalls> {
  for (let i = 0; i < warm; i++) await step();
  const mark = counted.mark();
  await step();
  return counted.since(mark);
}

/**
 * What the runtime guarantees whatever a model does: a call repeated with inputs of the same shapes
 * leaves its buffers, free lists and bind groups as they were (the counts a model reaches are
 * measured and logged above; the model layer is held to 1 submit, 0 createBuffer, 0
 * createBindGroup by its own tests).
 */
async function expectFlat(backend: WebGpuBackend, call: () => Promise<unknown>): Promise<void> {
  await call();
  const pick = () => {
    const s = backend.runtime.stats();
    return { live: s.live, free: s.free, inUse: s.inUse, bindGroups: s.bindGroups, bindGroupKeys: s.bindGroupKeys };
  };
  const before = pick();
  for (let i = 0; i < 3; i++) await call();
  expect(pick()).to.deep.equal(before);
}

const show = (what: string, c: DeviceCalls): string =>
  `${what}: ${c.submit} submits, ${c.createBuffer} createBuffer, ${c.createBindGroup} createBindGroup, ${c.writeBuffer} writeBuffer`;

const eye = (K: number, d: number): Float32Array => {
  const a = new Float32Array(K * d * d);
  for (let k = 0; k < K; k++) for (let i = 0; i < d; i++) a[k * d * d + i * d + i] = 1;
  return a;
};

/** Per-arm LinUCB state of one shard, K arms of dimension d. */
interface Shard { readonly aInv: Tensor; readonly b: Tensor; readonly theta: Tensor; readonly arms: number; readonly offset: number }
const makeShards = (backend: Backend, sizes: readonly number[], d: number): Shard[] => {
  let offset = 0;
  return sizes.map((K) => {
    const s = { aInv: backend.tensor(eye(K, d), [K, d, d]), b: backend.zeros([K, d]), theta: backend.zeros([K, d]), arms: K, offset };
    offset += K;
    return s;
  });
};
const disposeShards = (shards: readonly Shard[]) => shards.forEach((s) => [s.aInv, s.b, s.theta].forEach((t) => t.dispose()));

/** A select: contexts in, every shard's UCB scores into one matrix, the row argmax read back. */
async function selectStep(backend: Backend, shards: readonly Shard[], contexts: Float32Array, B: number, d: number): Promise<Int32Array> {
  const total = shards.reduce((n, s) => n + s.arms, 0);
  const x = backend.tensor(contexts, [B, d]);
  const scores = backend.zeros([B, total]);
  for (const s of shards) ucbScores(backend, x, s.aInv, s.theta, { alpha: 1, out: scores, armOffset: s.offset });
  const chosen = rowArgmax(backend, scores);
  const result = await backend.read(chosen);
  for (const t of [x, scores, chosen]) t.dispose();
  return result as Int32Array;
}

/** An update: per shard its rows' contexts in, A⁻¹ by Sherman–Morrison, b += r·x, θ = A⁻¹b for the touched arms. */
async function updateStep(backend: Backend, shards: readonly Shard[], arms: Int32Array, contexts: Float32Array, rewards: Float32Array, d: number): Promise<void> {
  for (const s of shards) {
    const rows = [...arms.keys()].filter((u) => arms[u]! >= s.offset && arms[u]! < s.offset + s.arms);
    if (rows.length === 0) continue;
    const local = Int32Array.from(rows, (u) => arms[u]! - s.offset);
    const x = backend.tensor(Float32Array.from(rows.flatMap((u) => Array.from(contexts.subarray(u * d, (u + 1) * d)))), [rows.length, d]);
    shermanMorrisonUpdate(backend, s.aInv, x, local);
    scatterAddScaled(backend, s.b, x, local, Float32Array.from(rows, (u) => rewards[u]!));
    gatherMatVec(backend, s.aInv, s.b, s.theta, local);
    x.dispose();
  }
  await backend.sync();
}

describe('device calls of the runtime at steady state', () => {
  const d = 8, B = 4;

  it('a select over 2 shards (write contexts, ucbScores ×2, rowArgmax, read): 1 submit, 0 createBuffer, 0 createBindGroup', async () => {
    const { counted, backend } = await countedBackend();
    try {
      const shards = makeShards(backend, [13, 7], d);
      const contexts = fill(B * d, 11);
      const calls = await steady(counted, 2, () => selectStep(backend, shards, contexts, B, d));
      expect(calls, show('select', calls)).to.include({ submit: 1, createBuffer: 0, createBindGroup: 0 });
      disposeShards(shards);
    } finally {
      backend.dispose();
    }
  });

  it('an update over 3 shards: 1 submit, 0 createBuffer, 0 createBindGroup', async () => {
    const { counted, backend } = await countedBackend();
    try {
      const shards = makeShards(backend, [5, 9, 6], d);
      const arms = Int32Array.from([0, 19, 7, 7, 12, 3, 15, 0]);
      const contexts = fill(arms.length * d, 12), rewards = fill(arms.length, 13);
      const calls = await steady(counted, 2, () => updateStep(backend, shards, arms, contexts, rewards, d));
      expect(calls, show('update', calls)).to.include({ submit: 1, createBuffer: 0, createBindGroup: 0 });
      disposeShards(shards);
    } finally {
      backend.dispose();
    }
  });

  it('a training loop of 10 optimiser steps (gradient + Adam each), then the loss read: 1 submit, 0 createBuffer, 0 createBindGroup', async () => {
    const { counted, backend } = await countedBackend();
    try {
      const dim = 5, hidden = [6], rows = 9;
      const { paramCount: p } = mlpLayout(dim, hidden);
      const theta = backend.tensor(fill(p, 14).map((v) => v / 2), [p]);
      const x = backend.tensor(fill(rows * dim, 15), [rows, dim]), y = backend.tensor(fill(rows, 16), [rows]);
      const grad = backend.zeros([p]), loss = backend.zeros([1]);
      const state = { m: backend.zeros([p]), v: backend.zeros([p]) };
      let step = 0;
      const train = async () => {
        for (let s = 0; s < 10; s++) {
          mlpLossGradient(backend, theta, x, y, { dim, hidden, loss: 'squared', scale: 1 / rows, out: grad, lossOut: loss });
          optimizerStep(backend, { params: theta, grad, kind: 'adam', lr: 0.01, state, step: ++step });
        }
        return backend.read(loss);
      };
      const calls = await steady(counted, 2, train);
      expect(calls, show('train(10)', calls)).to.include({ submit: 1, createBuffer: 0, createBindGroup: 0 });
      for (const t of [theta, x, y, grad, loss, state.m, state.v]) t.dispose();
    } finally {
      backend.dispose();
    }
  });
});

describe('device calls of models', () => {
  it('LinUCB.select and LinUCB.update over 4 shards: 1 submit, 0 createBuffer, 0 createBindGroup each', async function () {
    this.timeout(60_000);
    const { counted, backend } = await countedBackend();
    try {
      const dim = 8, arms = 40, B = 4;
      const model = await LinUCB.create(backend, { arms, dim, alpha: 1, lambda: 1, armsPerShard: 10, refactorEvery: 0, driftCheckEvery: 0 });
      const contexts = fill(B * dim, 1);
      const select = await steady(counted, 2, () => model.select(contexts));
      const played = Int32Array.from({ length: 8 }, (_, i) => (i * 7) % arms);
      const update = await steady(counted, 2, () => model.update(played, fill(8 * dim, 2), fill(8, 3)));
      console.log(`      ${show('LinUCB.select (B = 4, 4 shards)', select)}`);
      console.log(`      ${show('LinUCB.update (8 rows over 4 shards)', update)}`);
      // Before the model base and the pool: select 1 submit / 1 createBuffer; update 4 / 24 / 16 bind groups.
      expect(select, show('select', select)).to.include({ submit: 1, createBuffer: 0, createBindGroup: 0 });
      expect(update, show('update', update)).to.include({ submit: 1, createBuffer: 0, createBindGroup: 0 });
      await expectFlat(backend, () => model.select(contexts));
      await expectFlat(backend, () => model.update(played, fill(8 * dim, 2), fill(8, 3)));
      model.dispose();
    } finally {
      backend.dispose();
    }
  });

  it('NeuralUCB.train(10): 1 submit, 0 createBuffer, 0 createBindGroup', async function () {
    this.timeout(60_000);
    const { counted, backend } = await countedBackend();
    try {
      const dim = 4;
      const model = await NeuralUCB.create(backend, { dim, hidden: [8], seed: 1, trainEvery: 0 });
      await model.update(Int32Array.from([0, 1, 2, 3]), fill(4 * dim, 4), fill(4, 5));
      const train = await steady(counted, 2, () => model.train(10));
      console.log(`      ${show('NeuralUCB.train(10)', train)}`);
      // Before: 10 submits, 65 createBuffer, 91 createBindGroup.
      expect(train, show('train(10)', train)).to.include({ submit: 1, createBuffer: 0, createBindGroup: 0 });
      await expectFlat(backend, () => model.train(10));
      model.dispose();
    } finally {
      backend.dispose();
    }
  });
});
