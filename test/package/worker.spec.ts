// Models in a worker: BanditWorker (the page) and serveBandits (the worker), over an in-process
// MessageChannel in both runtimes, in a worker_threads thread in Node and in a real module worker
// on its own WebGPU device in Chromium. Every model kind's production API through the worker
// must equal the same calls on a model on the page loaded from the same bytes.
import { expect } from 'chai';
import {
  BackendError, BanditError, BanditWorker, EmbeddingMLP, HybridLinUCB, LinTS, LinUCB, ModelStoreError, NeuralTS, NeuralUCB, serveBandits,
  type Backend, type Endpoint, type ModelKind, type RemoteModel, type WorkerCreateArgs, type WorkerModel,
} from '../../src/index.js';
import { revivedError, wireError } from '../../src/worker/protocol.js';
import { cpuBackend, gpuBackend, RUNTIME } from '../support/fixture.js';
import { uniform } from '../support/random.js';

const CLASSES = { LinUCB, LinTS, HybridLinUCB, NeuralUCB, NeuralTS, EmbeddingMLP };
const unit = (n: number, seed: number) => uniform(n, seed).map((v) => (v + 1) / 2);

/** A kind's options and its calls; `run` pushes every result (and the final save) to `out`. */
interface Scenario<K extends ModelKind> {
  readonly kind: K;
  readonly options: WorkerCreateArgs<K>[0];
  run(model: RemoteModel<WorkerModel<K>>, out: unknown[]): Promise<void>;
}
const scenario = <K extends ModelKind>(s: Scenario<K>): Scenario<K> => s;

const D = 3, B = 4;
const SCENARIOS = [
  scenario({
    kind: 'LinUCB',
    options: { itemIds: ['a', 'b', 'c', 'd', 'e'], dim: D, exploration: { kind: 'softmax', temperature: 0.5 }, seed: 7 },
    async run(m, out) {
      const x = uniform(B * D, 1);
      const d = await m.decide(x, { k: 2 });
      await m.reward(d.eventIds, unit(B * 2, 2));
      await m.update(['b', 'c'], uniform(2 * D, 3), unit(2, 4), { weights: Float32Array.of(0.5, 2) });
      out.push(d, await m.addArms(['f', 'g']));
      await m.retireArms(['a']);
      out.push(await m.armsOf(['g', 'b']), await m.eligibleOf(['b', 'f', 'g']));
      const e = await m.decide(x, { eligible: await m.eligibleOf(['b', 'c', 'f', 'g']) });
      await m.reward(e.eventIds.slice(1), unit(B - 1, 5));
      await m.reward(e.eventIds.slice(0, 1), Float32Array.of(1));
      await m.warmStart({ arms: ['c', 'd', 'f'], contexts: uniform(3 * D, 6), rewards: unit(3, 7), propensities: Float32Array.of(0.5, 0.25, 1) }, { clip: 10 });
      out.push(e, await m.scores(x), await m.select(x), await m.measureDrift(), await m.diagnostics());
      out.push((await m.options).arms, await m.itemIds, await m.retiredArms, await m.save());
    },
  }),
  scenario({
    kind: 'LinTS',
    options: { arms: 5, dim: D, v: 0.5, seed: 3, propensityDraws: 64 },
    async run(m, out) {
      const x = uniform(B * D, 11);
      const d = await m.decide(x, { k: 2, eligible: Uint8Array.of(1, 1, 0, 1, 1) });
      await m.reward([...d.eventIds].reverse(), unit(B * 2, 12));
      out.push(d, await m.addArms(1), await m.sampledScores(x));
      await m.retireArms(Int32Array.of(0));
      await m.update(Int32Array.of(5, 1), uniform(2 * D, 13), unit(2, 14), { weights: Float32Array.of(1, 0) });
      await m.warmStart({ arms: Int32Array.of(2, 5), contexts: uniform(2 * D, 15), rewards: unit(2, 16), propensities: Float32Array.of(0.2, 0.9) }, { weighting: 'none' });
      const e = await m.decide(x);
      await m.reward(e.eventIds, unit(B, 17));
      out.push(e, await m.scores(x), await m.select(x), await m.diagnostics(), await m.retiredArms, await m.itemIds, await m.save());
    },
  }),
  scenario({
    kind: 'HybridLinUCB',
    options: { arms: 3, dim: 2, sharedDim: 2, seed: 5, exploration: { kind: 'epsilon-greedy', epsilon: 0.3 } },
    async run(m, out) {
      const ctx = (arms: number, seed: number) => ({ arm: uniform(B * arms * 2, seed), shared: uniform(B * arms * 2, seed + 1) });
      const d = await m.decide(ctx(3, 21));
      await m.reward(d.eventIds, unit(B, 23));
      out.push(d, await m.addArms(2));
      await m.retireArms(Int32Array.of(1));
      const played = { arm: uniform(2 * 2, 24), shared: uniform(2 * 2, 25) };
      await m.update(Int32Array.of(4, 0), played, unit(2, 26), { weights: Float32Array.of(2, 1) });
      await m.warmStart({ arms: Int32Array.of(3), contexts: { arm: uniform(2, 27), shared: uniform(2, 28) }, rewards: Float32Array.of(1), propensities: Float32Array.of(0.5) });
      const e = await m.decide(ctx(5, 29), { k: 2 });
      await m.reward(e.eventIds, unit(B * 2, 31));
      out.push(e, await m.scores(ctx(5, 32)), await m.sharedCoefficients(), await m.measureDrift(), await m.diagnostics(), await m.save());
    },
  }),
  scenario({
    kind: 'NeuralUCB',
    options: { dim: D, hidden: [4], seed: 9, trainSteps: 2, exploration: { kind: 'squarecb', gamma: 10 } },
    async run(m, out) {
      const f = uniform(B * 3 * D, 41);
      const d = await m.decide(f, { arms: 3 });
      await m.reward(d.eventIds, unit(B, 46));
      await m.update(Int32Array.of(0, 2), uniform(2 * D, 42), unit(2, 43), { weights: Float32Array.of(1.5, 0.5) });
      await m.warmStart({ arms: Int32Array.of(1, 0), contexts: uniform(2 * D, 44), rewards: unit(2, 45), propensities: Float32Array.of(0.5, 0.5) }, { trainSteps: 3 });
      out.push(d, await m.train(2), await m.scores(f, { arms: 3 }), await m.select(f, { arms: 3 }), await m.diagnostics(), await m.width, await m.layout);
      out.push(await m.save());
    },
  }),
  scenario({
    kind: 'NeuralTS',
    options: { dim: D, hidden: [4], seed: 2, trainSteps: 1, propensityDraws: 32 },
    async run(m, out) {
      const f = uniform(2 * 4 * D, 51);
      const d = await m.decide(f, { arms: 4, k: 2 });
      await m.reward(d.eventIds, unit(4, 52));
      out.push(d, await m.sampledScores(f, { arms: 4 }), await m.train(1), await m.scores(f, { arms: 4 }), await m.diagnostics(), await m.save());
    },
  }),
  scenario({
    kind: 'EmbeddingMLP',
    options: { users: 3, items: 4, contextDim: 2, embeddingDim: 2, hidden: [4], batchSize: 4, epochs: 2, seed: 4, exploration: { kind: 'softmax', temperature: 1 } },
    async run(m, out) {
      const log = { users: Int32Array.of(0, 1, 2, 1, 0), items: Int32Array.of(0, 1, 2, 3, 1), contexts: uniform(10, 61), clicks: Float32Array.of(1, 0, 1, 0, 1) };
      const progress: Array<[number, number]> = [];
      out.push(await m.fit(log, { epochs: 2, onProgress: (epoch, loss) => progress.push([epoch, loss]) }), progress);
      out.push(await m.addUsers(1), await m.addItems(2));
      await m.retireItems(Int32Array.of(2));
      const users = Int32Array.of(3, 0);
      const d = await m.decide(users, uniform(4, 62), { k: 2 });
      out.push(d, await m.warmStart({ users: Int32Array.of(0, 3), arms: Int32Array.of(4, 1), contexts: uniform(4, 63), rewards: Float32Array.of(1, 0), propensities: Float32Array.of(0.5, 0.25) }, { epochs: 1 }));
      out.push(await m.gradients(log), await m.predict(Int32Array.of(1, 3), Int32Array.of(5, 0), uniform(4, 64)), await m.scores(users, uniform(4, 65)));
      out.push(await m.select(users, uniform(4, 66)), await m.diagnostics(), await m.inputDim, (await m.options).items, await m.save());
    },
  }),
];

/** A connection to a worker that serves models, and how to end it. */
interface Connection {
  readonly bandits: BanditWorker;
  end(): Promise<void>;
}

/** The transports the suite runs in this runtime: where the worker is, its backend and the page's. */
function transports(): Array<{ name: string; kind: 'cpu' | 'webgpu'; page: () => Backend; connect(kind: 'cpu' | 'webgpu'): Promise<Connection> }> {
  const channel = async (kind: 'cpu' | 'webgpu'): Promise<Connection> => {
    const c = new MessageChannel();
    serveBandits(c.port2 as unknown as Endpoint);
    const bandits = await BanditWorker.start(c.port1 as unknown as Endpoint, { kind });
    return { bandits, end: async () => { c.port1.close(); c.port2.close(); } };
  };
  const nodeThread = async (kind: 'cpu' | 'webgpu'): Promise<Connection> => {
    const threads = 'node:worker_threads';
    const wt = (await import(/* @vite-ignore */ threads)) as typeof import('node:worker_threads');
    const { port1, port2 } = new wt.MessageChannel();
    const worker = new wt.Worker(new URL('./bandit-worker.js', import.meta.url), { workerData: { port: port2 }, transferList: [port2] });
    const bandits = await BanditWorker.start(port1 as unknown as Endpoint, { kind });
    return { bandits, end: async () => { port1.close(); await worker.terminate(); } };
  };
  const moduleWorker = async (kind: 'cpu' | 'webgpu'): Promise<Connection> => {
    const worker = new Worker('/dist/test/bandit-worker.js', { type: 'module' });
    const bandits = await BanditWorker.start(worker, { kind });
    return { bandits, end: async () => worker.terminate() };
  };
  return [
    { name: 'over a MessageChannel (cpu backend)', kind: 'cpu', page: cpuBackend, connect: channel },
    RUNTIME === 'node'
      ? { name: 'in a worker_threads thread (cpu backend)', kind: 'cpu', page: cpuBackend, connect: nodeThread }
      : { name: 'in a module worker on its own WebGPU device', kind: 'webgpu', page: gpuBackend, connect: moduleWorker },
  ];
}

describe('package: models in a worker', function () {
  for (const t of transports()) {
    describe(t.name, function () {
      let c: Connection;
      before(async function () {
        this.timeout(120_000);
        c = await t.connect(t.kind);
      });
      after(async () => {
        await c?.bandits.close();
        await c?.end();
      });

      for (const s of SCENARIOS) {
        it(`${s.kind}: every call through the worker equals the same call on the page (decisions, propensities, event ids, saved bytes)`, async function () {
          this.timeout(120_000);
          const Class = CLASSES[s.kind] as unknown as { create(b: Backend, o: unknown): Promise<WorkerModel<ModelKind>>; load(b: Backend, bytes: Uint8Array): Promise<WorkerModel<ModelKind>> };
          const first = await Class.create(t.page(), s.options);
          const bytes = await first.save();
          first.dispose();
          const local = await Class.load(t.page(), bytes);
          const remote = await c.bandits.load(s.kind, bytes);
          expect(remote.kind).to.equal(s.kind);
          const want: unknown[] = [], got: unknown[] = [];
          const run = s.run as (m: unknown, out: unknown[]) => Promise<void>;
          await run(local, want);
          await run(remote, got);
          local.dispose();
          await remote.dispose();
          expect(got).to.have.length(want.length);
          got.forEach((g, i) => expect(g, `result ${i}`).to.deep.equal(want[i]));
          // The saves are the same bytes: the same state, and the worker's loads on the page.
          const saved = got.at(-1) as Uint8Array;
          expect(saved).to.be.instanceOf(Uint8Array);
          const again = await Class.load(t.page(), saved);
          expect(Array.from(await again.save())).to.deep.equal(Array.from(saved));
          again.dispose();
        });
      }

      it("bad input rejects with the model's own BanditError and leaves the worker's model as it was; functions and kinds are refused", async function () {
        const { bandits } = c;
        const model = await bandits.create('LinUCB', { arms: 4, dim: 2, seed: 1 });
        const before = await model.save();
        const e = await model.update(Int32Array.of(0, 9), uniform(4, 1), Float32Array.of(1, 0)).then(() => null, (x: unknown) => x);
        expect(e).to.be.instanceOf(BanditError);
        expect((e as BanditError).name).to.equal('BanditError');
        expect((e as BanditError).message).to.match(/^LinUCB\.update: .*9/);
        const r = await model.reward(['nope'], Float32Array.of(1)).then(() => null, (x: unknown) => x);
        expect(r).to.be.instanceOf(BanditError);
        expect((r as Error).message).to.match(/^LinUCB\.reward: /);
        expect(Array.from(await model.save())).to.deep.equal(Array.from(before));

        const clock = await bandits.create('LinUCB', { arms: 2, dim: 2, clock: () => 0 } as never).then(() => null, (x: unknown) => x);
        expect(clock).to.be.instanceOf(BanditError);
        expect((clock as Error).message).to.match(/^LinUCB\.create: clock is a function, which cannot be sent to a worker/);
        const kind = await bandits.create('Nope' as 'LinUCB', { arms: 1, dim: 1 }).then(() => null, (x: unknown) => x);
        expect(kind).to.be.instanceOf(BanditError);
        expect((kind as Error).message).to.match(/model must be one of LinUCB, LinTS, HybridLinUCB, NeuralUCB, NeuralTS, EmbeddingMLP, got Nope/);
        const symbol = await model.select(uniform(2, 1), { eligible: Symbol('x') } as never).then(() => null, (x: unknown) => x);
        expect(symbol).to.be.instanceOf(BanditError);
        expect((symbol as Error).message).to.match(/^LinUCB\.select: the arguments cannot be sent to the worker/);
        await model.dispose();
      });

      it("static methods run on the worker's backend: armsPerBinding as on the page; others are refused", async function () {
        expect(await c.bandits.callStatic('LinUCB', 'armsPerBinding', 8)).to.equal(LinUCB.armsPerBinding(t.page(), 8));
        expect(await c.bandits.callStatic('HybridLinUCB', 'armsPerBinding', 4, 2)).to.equal(HybridLinUCB.armsPerBinding(t.page(), 4, 2));
        const e = await c.bandits.callStatic('LinUCB', 'prototype' as 'armsPerBinding', 8).then(() => null, (x: unknown) => x);
        expect(e).to.be.instanceOf(BanditError);
        expect((e as Error).message).to.equal('LinUCB.prototype: not a static method LinUCB serves in a worker');
      });

      it('inputs are snapshotted at the call: a buffer refilled right after a call that was not awaited is safe; transfer moves it', async function () {
        const model = await c.bandits.create('LinUCB', { arms: 4, dim: D });
        const local = await LinUCB.create(t.page(), { arms: 4, dim: D });
        const buffer = new Float32Array(B * D), rewards = new Float32Array(B);
        const calls: Array<Promise<unknown>> = [];
        for (let round = 0; round < 3; round++) {
          buffer.set(uniform(B * D, 40 + round));
          rewards.set(unit(B, 50 + round));
          calls.push(model.update(Int32Array.of(0, 1, 2, 3), buffer, rewards)); // not awaited
          calls.push(model.decide(buffer));
          await local.update(Int32Array.of(0, 1, 2, 3), uniform(B * D, 40 + round), unit(B, 50 + round));
          await local.decide(uniform(B * D, 40 + round));
        }
        buffer.fill(NaN);
        await Promise.all(calls);
        const x = uniform(B * D, 3);
        expect(Array.from(await model.scores(x))).to.deep.equal(Array.from(await local.scores(x)));
        const moved = BanditWorker.transfer(uniform(B * D, 4));
        const scored = model.scores(moved);
        expect(moved.length, 'a transferred array is detached on the page').to.equal(0);
        expect(Array.from(await scored)).to.deep.equal(Array.from(await local.scores(uniform(B * D, 4))));
        await model.dispose();
        local.dispose();
      });

      it('calls are answered in the order they were made, across models, callbacks before their answer', async function () {
        this.timeout(60_000);
        const slow = await c.bandits.create('EmbeddingMLP', { users: 2, items: 3, contextDim: 0, hidden: [8], batchSize: 1, seed: 1 });
        const fast = await c.bandits.create('LinUCB', { arms: 3, dim: D });
        const log = { users: Int32Array.of(0, 1, 1, 0), items: Int32Array.of(0, 1, 2, 2), contexts: [], clicks: Float32Array.of(1, 0, 1, 0) };
        const answered: string[] = [];
        let epochs = 0;
        const fitting = slow.fit(log, { epochs: 20, onProgress: () => void epochs++ }).then((r) => (answered.push(`fit after ${epochs} epochs`), r));
        const calls = [fast.select(uniform(D, 71)), slow.diagnostics(), fast.save(), c.bandits.create('LinTS', { arms: 2, dim: 1 }), fast.decide(uniform(D, 72))];
        calls.forEach((p, i) => void p.then(() => answered.push(`call ${i}`)));
        const [fit, ...results] = await Promise.all([fitting, ...calls]);
        expect(fit.losses).to.have.length(20);
        expect(answered).to.deep.equal(['fit after 20 epochs', 'call 0', 'call 1', 'call 2', 'call 3', 'call 4']);
        await (results[3] as RemoteModel<LinTS>).dispose();
        await slow.dispose();
        await fast.dispose();
      });

      it('dispose: calls made before it are answered, calls after reject with a BanditError', async function () {
        const model = await c.bandits.create('LinTS', { arms: 3, dim: D, seed: 2 });
        const before = model.decide(uniform(D, 80));
        const disposing = model.dispose();
        expect(model.disposed).to.equal(true);
        const after = model.select(uniform(D, 81)).then(() => null, (x: unknown) => x);
        expect((await before).arms).to.have.length(1);
        await disposing;
        await model.dispose(); // a second dispose is a no-op
        const e = await after;
        expect(e).to.be.instanceOf(BanditError);
        expect((e as Error).message).to.equal('LinTS.select: the model has been disposed');
        const read = await model.itemIds.then(() => null, (x: unknown) => x);
        expect((read as Error).message).to.equal('LinTS.itemIds: the model has been disposed');
      });
    });
  }

  describe('ending the worker', function () {
    const t = transports().at(-1)!;

    it('close: calls made before it are answered; later calls and models reject with a BanditError', async function () {
      this.timeout(120_000);
      const c = await t.connect('cpu');
      try {
        const model = await c.bandits.create('NeuralTS', { dim: D, hidden: [4], seed: 1 });
        const before = model.decide(uniform(3 * D, 90), { arms: 3 });
        const closing = c.bandits.close();
        const after = model.decide(uniform(3 * D, 90), { arms: 3 }).then(() => null, (x: unknown) => x);
        const made = c.bandits.create('LinUCB', { arms: 2, dim: 1 }).then(() => null, (x: unknown) => x);
        expect((await before).eventIds).to.have.length(1);
        await closing;
        expect(model.disposed).to.equal(true);
        expect(((await after) as Error).message).to.equal('NeuralTS.decide: the BanditWorker has been closed');
        expect(await made).to.be.instanceOf(BanditError);
        expect(((await made) as Error).message).to.equal('LinUCB.create: the BanditWorker has been closed');
        await model.dispose(); // nothing left to free: resolves
      } finally {
        await c.end();
      }
    });

    it('terminate: every call not yet answered rejects with a BanditError that says so, and every later call', async function () {
      this.timeout(120_000);
      const c = await t.connect('cpu');
      try {
        const model = await c.bandits.create('NeuralUCB', { dim: 8, hidden: [32], seed: 1, trainSteps: 1 });
        await model.update(Int32Array.of(0, 1), uniform(16, 91), Float32Array.of(1, 0));
        const training = model.train(5000).then(() => null, (x: unknown) => x);
        const queued = model.diagnostics().then(() => null, (x: unknown) => x);
        c.bandits.terminate();
        const e = await training;
        expect(e).to.be.instanceOf(BanditError);
        expect((e as Error).message).to.equal('NeuralUCB.train: the BanditWorker was terminated before the worker answered');
        expect(((await queued) as Error).message).to.equal('NeuralUCB.diagnostics: the BanditWorker was terminated before the worker answered');
        const later = await model.select(uniform(16, 92), { arms: 2 }).then(() => null, (x: unknown) => x);
        expect(later).to.be.instanceOf(BanditError);
        expect((later as Error).message).to.equal('NeuralUCB.select: the BanditWorker has been terminated');
        await c.bandits.close(); // nothing to close: resolves
      } finally {
        await c.end();
      }
    });
  });

  it('start and serveBandits refuse what is not a message endpoint (a Node worker_threads Worker is an EventEmitter)', async function () {
    const emitter = { postMessage() {}, on() {} } as unknown as Endpoint;
    const e = await BanditWorker.start(emitter).then(() => null, (x: unknown) => x);
    expect(e).to.be.instanceOf(BanditError);
    expect((e as Error).message).to.match(/^BanditWorker\.start: a message endpoint is required/);
    expect(() => serveBandits(emitter)).to.throw(BanditError, /^serveBandits: a message endpoint is required/);
  });

  it('errors cross as their own class with their fields: BanditError, BackendError, any other by name', function () {
    const bandit = revivedError(structuredClone(wireError(new BanditError('LinUCB.update: arms[1] = 9 is out of range'))));
    expect(bandit).to.be.instanceOf(BanditError);
    expect(bandit.message).to.equal('LinUCB.update: arms[1] = 9 is out of range');
    const backend = revivedError(structuredClone(wireError(new BackendError('the device was lost'))));
    expect(backend).to.be.instanceOf(BackendError);
    expect(backend.name).to.equal('BackendError');
    const store = revivedError(structuredClone(wireError(new ModelStoreError('quota', 'ModelStore.put: over the quota'))));
    expect(store).to.be.instanceOf(Error);
    expect(store.name).to.equal('ModelStoreError');
    expect((store as ModelStoreError).reason).to.equal('quota');
    const fielded = revivedError(structuredClone(wireError(Object.assign(new BanditError('bad row'), { row: 3, rows: Int32Array.of(3) }))));
    expect(fielded).to.be.instanceOf(BanditError);
    expect(fielded).to.include({ row: 3 });
    expect(Array.from((fielded as unknown as { rows: Int32Array }).rows)).to.deep.equal([3]);
  });

  if (RUNTIME !== 'chromium') return;

  it('a worker that fails to load: start rejects with a BackendError that says so', async function () {
    const worker = new Worker('/dist/test/no-such-worker.js', { type: 'module' });
    try {
      const e = await BanditWorker.start(worker, { kind: 'cpu' }).then(() => null, (x: unknown) => x);
      expect(e).to.be.instanceOf(BackendError);
      expect((e as Error).message).to.match(/^BanditWorker\.start: the worker failed/);
    } finally {
      worker.terminate();
    }
  });

  it('the page keeps running while a module worker trains NeuralUCB on its own WebGPU device', async function () {
    this.timeout(120_000);
    const worker = new Worker('/dist/test/bandit-worker.js', { type: 'module' });
    const bandits = await BanditWorker.start(worker, { kind: 'webgpu' });
    try {
      expect(bandits.info.kind).to.equal('webgpu');
      expect(bandits.info.summary).to.match(/navigator\.gpu/);
      const model = await bandits.create('NeuralUCB', { dim: 8, hidden: [32], seed: 1, trainSteps: 1 });
      await model.update(Int32Array.of(0, 1), uniform(16, 50), Float32Array.of(1, 0));
      let ticks = 0;
      const timer = setInterval(() => ticks++, 0);
      const started = performance.now();
      const loss = await model.train(200);
      clearInterval(timer);
      expect(loss).to.be.a('number');
      // The page's timers fired all along: its thread did not block on the worker's GPU work.
      expect(ticks, `timer ticks during ${(performance.now() - started).toFixed(0)} ms of training`).to.be.greaterThan(2);
    } finally {
      await bandits.close();
      worker.terminate();
    }
  });
});
