// Models in a worker: BanditWorker (the page) and serveBandits (the worker) over a MessageChannel
// in both runtimes, and in Chromium inside a real module worker on its own WebGPU device.
import { expect } from 'chai';
import { BanditError, BanditWorker, LinUCB, createBackend, serveBandits, type Backend, type Endpoint } from '../../src/index.js';
import { gpuBackend, RUNTIME } from '../support/fixture.js';
import { uniform } from '../support/random.js';

const ARMS = 12, DIM = 5, B = 4;

/** The same calls on a model on this thread, to compare the worker's answers with. */
async function reference(backend: Backend, contexts: Float32Array, rewards: Float32Array) {
  const model = await LinUCB.create(backend, { arms: ARMS, dim: DIM });
  const arms = await model.select(contexts);
  await model.update(arms, contexts, rewards);
  const scores = await model.scores(contexts);
  const bytes = await model.save();
  model.dispose();
  return { arms, scores, bytes };
}

async function throughWorker(bandits: BanditWorker, contexts: Float32Array, rewards: Float32Array) {
  const model = await bandits.create('LinUCB', { arms: ARMS, dim: DIM });
  const arms: Int32Array = await model.select(contexts);
  await model.update(arms, contexts, rewards);
  const scores: Float32Array = await model.scores(contexts);
  const bytes: Uint8Array = await model.save();
  const again = await bandits.load('LinUCB', bytes);
  const againScores = await again.scores(contexts);
  await model.dispose();
  await again.dispose();
  return { arms, scores, bytes, againScores };
}

describe('package: models in a worker', function () {
  const contexts = uniform(B * DIM, 31);
  const rewards = uniform(B, 32).map((v) => (v + 1) / 2);

  describe('over a MessageChannel (cpu backend)', function () {
    let channel: MessageChannel;
    let bandits: BanditWorker;
    before(async () => {
      channel = new MessageChannel();
      serveBandits(channel.port2 as unknown as Endpoint);
      bandits = await BanditWorker.start(channel.port1 as unknown as Endpoint, { kind: 'cpu' });
    });
    after(async () => {
      await bandits?.close();
      channel.port1.close();
      channel.port2.close();
    });

    it('select, update, scores, save and load answer as the model on this thread does', async function () {
      expect(bandits.info.kind).to.equal('cpu');
      const cpu = await createBackend({ kind: 'cpu' });
      const want = await reference(cpu, contexts, rewards);
      cpu.dispose();
      const got = await throughWorker(bandits, contexts, rewards);
      expect(Array.from(got.arms)).to.deep.equal(Array.from(want.arms));
      expect(Array.from(got.scores)).to.deep.equal(Array.from(want.scores));
      expect(Array.from(got.againScores)).to.deep.equal(Array.from(want.scores));
      expect(got.bytes.byteLength).to.equal(want.bytes.byteLength);
    });

    it('inputs are copied when the call is made: a buffer refilled before the call runs is safe', async function () {
      const model = await bandits.create('LinUCB', { arms: ARMS, dim: DIM });
      const local = await LinUCB.create(await createBackend({ kind: 'cpu' }), { arms: ARMS, dim: DIM });
      const buffer = new Float32Array(B * DIM);
      const calls: Promise<void>[] = [];
      for (let round = 0; round < 3; round++) {
        buffer.set(uniform(B * DIM, 40 + round));
        calls.push(model.update(Int32Array.of(0, 1, 2, 3), buffer, rewards)); // not awaited
        await local.update(Int32Array.of(0, 1, 2, 3), uniform(B * DIM, 40 + round), rewards);
      }
      await Promise.all(calls);
      expect(Array.from(await model.scores(contexts))).to.deep.equal(Array.from(await local.scores(contexts)));
      await model.dispose();
      local.dispose();
    });

    it("bad input rejects with the model's BanditError; a disposed model and a bad kind too", async function () {
      const model = await bandits.create('LinUCB', { arms: ARMS, dim: DIM });
      const e = await model.update(Int32Array.of(0, 1, 2, 99), contexts, rewards).then(() => null, (x: Error) => x);
      expect(e).to.be.instanceOf(BanditError);
      expect(e!.message).to.match(/^LinUCB\.update: .*99/);
      await model.dispose();
      const after = await model.select(contexts).then(() => null, (x: Error) => x);
      expect(after).to.be.instanceOf(BanditError);
      expect(after!.message).to.match(/LinUCB\.select: this model has been disposed/);
      const kind = await bandits.create('Nope' as 'LinUCB', { arms: 1, dim: 1 }).then(() => null, (x: Error) => x);
      expect(kind).to.be.instanceOf(BanditError);
      expect(kind!.message).to.match(/model must be one of LinUCB, HybridLinUCB, NeuralUCB, EmbeddingMLP, got Nope/);
      const fn = await bandits.create('LinUCB', { arms: 2, dim: 2, onProgress: () => 0 } as never).then(() => null, (x: Error) => x);
      expect(fn).to.be.instanceOf(BanditError);
      expect(fn!.message).to.match(/cannot be sent to the worker/);
    });
  });

  if (RUNTIME !== 'chromium') return;

  describe('in a module worker on its own WebGPU device (Chromium)', function () {
    let worker: Worker;
    let bandits: BanditWorker;
    before(async function () {
      this.timeout(120_000);
      worker = new Worker('/dist/test/bandit-worker.js', { type: 'module' });
      bandits = await BanditWorker.start(worker, { kind: 'webgpu' });
    });
    after(async () => {
      await bandits?.close();
      worker?.terminate();
    });

    it('select, update, scores, save and load answer as the same model on the page does', async function () {
      expect(bandits.info.kind).to.equal('webgpu');
      expect(bandits.info.summary).to.match(/navigator\.gpu/);
      const want = await reference(gpuBackend(), contexts, rewards);
      const got = await throughWorker(bandits, contexts, rewards);
      expect(Array.from(got.arms)).to.deep.equal(Array.from(want.arms));
      expect(Array.from(got.scores)).to.deep.equal(Array.from(want.scores));
      expect(Array.from(got.againScores)).to.deep.equal(Array.from(want.scores));
      // Bytes saved in the worker load on the page, and the page's in the worker.
      const onPage = await LinUCB.load(gpuBackend(), got.bytes);
      expect(Array.from(await onPage.scores(contexts))).to.deep.equal(Array.from(want.scores));
      onPage.dispose();
      const inWorker = await bandits.load('LinUCB', want.bytes);
      expect(Array.from(await inWorker.scores(contexts))).to.deep.equal(Array.from(want.scores));
      await inWorker.dispose();
    });

    it('the page keeps running while the worker trains NeuralUCB', async function () {
      this.timeout(120_000);
      const model = await bandits.create('NeuralUCB', { dim: 8, hidden: [32], seed: 1, trainSteps: 1 });
      await model.update(Int32Array.of(0, 1), uniform(16, 50), Float32Array.of(1, 0));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      const training = model.train(200);
      const started = performance.now();
      const loss = await training;
      clearInterval(timer);
      expect(loss).to.be.a('number');
      // The page's timers fired all along: its thread did not block on the worker's GPU work.
      expect(ticks, `timer ticks during ${(performance.now() - started).toFixed(0)} ms of training`).to.be.greaterThan(2);
      await model.dispose();
    });
  });
});
