// Saved models come back from wherever a user keeps bytes: every model's `load` takes any
// Uint8Array view (a copy, a subarray at an odd offset, and in Node a Buffer from the pool, a
// Buffer view, Buffer.from and readFileSync). Public API only: the models' internals are not
// this file's business.
import { expect } from 'chai';
import {
  EmbeddingMLP, HybridLinUCB, LinUCB, NeuralUCB, createBackend, type Backend,
} from '../../src/index.js';
import { gpuBackend, RUNTIME } from '../support/fixture.js';
import { uniform } from '../support/random.js';

/** n values in [0, 1), for rewards. */
const unit = (n: number, seed: number): Float32Array => uniform(n, seed).map((v) => (v + 1) / 2);

interface Saved {
  readonly name: string;
  /** The model's bytes after some learning, and what it scores on fixed inputs. */
  readonly bytes: Uint8Array;
  readonly scores: Float32Array;
  /** Loads `bytes` on the same backend and returns what the loaded model scores. */
  readonly reload: (bytes: Uint8Array) => Promise<Float32Array>;
}

async function linucb(backend: Backend): Promise<Saved> {
  const arms = 5, dim = 3, B = 6;
  const model = await LinUCB.create(backend, { arms, dim });
  const contexts = uniform(B * dim, 101);
  await model.update(Int32Array.from({ length: B }, (_, i) => i % arms), contexts, unit(B, 102));
  const score = (m: LinUCB) => m.scores(contexts);
  const out = { name: `LinUCB (${backend.kind})`, bytes: await model.save(), scores: await score(model) };
  model.dispose();
  return { ...out, reload: async (bytes) => reloadWith(await LinUCB.load(backend, bytes), score) };
}

async function hybrid(backend: Backend): Promise<Saved> {
  const arms = 4, dim = 2, sharedDim = 3, B = 5;
  const model = await HybridLinUCB.create(backend, { arms, dim, sharedDim });
  const contexts = { arm: uniform(B * arms * dim, 103), shared: uniform(B * arms * sharedDim, 104) };
  await model.update(Int32Array.from({ length: B }, (_, i) => (i * 3) % arms), contexts, unit(B, 105));
  const score = (m: HybridLinUCB) => m.scores(contexts);
  const out = { name: `HybridLinUCB (${backend.kind})`, bytes: await model.save(), scores: await score(model) };
  model.dispose();
  return { ...out, reload: async (bytes) => reloadWith(await HybridLinUCB.load(backend, bytes), score) };
}

async function neural(backend: Backend): Promise<Saved> {
  const K = 4, dim = 3, B = 4;
  const model = await NeuralUCB.create(backend, { dim, hidden: [6], seed: 1, trainSteps: 2, batchSize: 4 });
  const features = uniform(K * dim, 106);
  const played = uniform(B * dim, 107);
  await model.update(Int32Array.from({ length: B }, (_, i) => i % K), played, unit(B, 108));
  const score = (m: NeuralUCB) => m.scores(features, { arms: K });
  const out = { name: `NeuralUCB (${backend.kind})`, bytes: await model.save(), scores: await score(model) };
  model.dispose();
  return { ...out, reload: async (bytes) => reloadWith(await NeuralUCB.load(backend, bytes), score) };
}

async function embedding(backend: Backend): Promise<Saved> {
  const users = 6, items = 5, contextDim = 2, N = 24;
  const model = await EmbeddingMLP.create(backend, { users, items, contextDim, hidden: [4], seed: 1 });
  const log = {
    users: Int32Array.from({ length: N }, (_, i) => i % users),
    items: Int32Array.from({ length: N }, (_, i) => (i * 7) % items),
    contexts: uniform(N * contextDim, 109),
    clicks: Float32Array.from({ length: N }, (_, i) => i % 2),
  };
  await model.fit(log, { epochs: 2 });
  const score = (m: EmbeddingMLP) => m.predict(log.users, log.items, log.contexts);
  const out = { name: `EmbeddingMLP (${backend.kind})`, bytes: await model.save(), scores: await score(model) };
  model.dispose();
  return { ...out, reload: async (bytes) => reloadWith(await EmbeddingMLP.load(backend, bytes), score) };
}

async function reloadWith<M extends { dispose(): void }>(model: M, score: (m: M) => Promise<Float32Array>): Promise<Float32Array> {
  try {
    return await score(model);
  } finally {
    model.dispose();
  }
}

/** The same bytes as the views a user ends up holding. */
function views(bytes: Uint8Array): [string, Uint8Array][] {
  const odd = new Uint8Array(bytes.length + 11).fill(0xa5);
  odd.set(bytes, 3);
  const out: [string, Uint8Array][] = [
    ['a copy', bytes.slice()],
    ['a subarray at byte offset 3 of a larger buffer', odd.subarray(3, 3 + bytes.length)],
  ];
  const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;
  if (NodeBuffer) {
    out.push(['Buffer.from(bytes)', NodeBuffer.from(bytes)]);
    // A Buffer view into a larger buffer, as Buffer.concat, stream chunks and the pool hand out.
    out.push(['a Buffer view at offset 5', NodeBuffer.concat([NodeBuffer.alloc(5, 1), NodeBuffer.from(bytes), NodeBuffer.alloc(9, 2)]).subarray(5, 5 + bytes.length)]);
  }
  return out;
}

/** readFileSync's Buffer, from a file written with the model's bytes (Node only). */
async function throughFile(bytes: Uint8Array): Promise<Uint8Array> {
  const fsName = 'node:fs', osName = 'node:os', pathName = 'node:path';
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
  const os = (await import(/* @vite-ignore */ osName)) as typeof import('node:os');
  const path = (await import(/* @vite-ignore */ pathName)) as typeof import('node:path');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'webgpu-bandits-persist-'));
  try {
    const file = path.join(dir, 'model.bin');
    fs.writeFileSync(file, bytes);
    return fs.readFileSync(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('package: load takes any Uint8Array view', function () {
  let cpu: Backend;
  before(async () => {
    cpu = await createBackend({ kind: 'cpu' });
  });
  after(() => cpu.dispose());

  const makers = [['LinUCB', linucb], ['HybridLinUCB', hybrid], ['NeuralUCB', neural], ['EmbeddingMLP', embedding]] as const;
  for (const [name, make] of makers) {
    it(`${name}: the same scores from every view of the saved bytes (cpu backend)`, async function () {
      const saved = await make(cpu);
      const all = views(saved.bytes);
      if (RUNTIME === 'node') all.push(['readFileSync of a written file', await throughFile(saved.bytes)]);
      for (const [what, view] of all) {
        expect(Array.from(view), `${saved.name}: ${what} holds the saved bytes`).to.deep.equal(Array.from(saved.bytes));
        const scores = await saved.reload(view);
        expect(Array.from(scores), `${saved.name} loaded from ${what}`).to.deep.equal(Array.from(saved.scores));
      }
    });
  }

  it('LinUCB on webgpu loads from a Buffer view and a subarray alike', async function () {
    const saved = await linucb(gpuBackend());
    for (const [what, view] of views(saved.bytes)) {
      const scores = await saved.reload(view);
      expect(Array.from(scores), `loaded from ${what}`).to.deep.equal(Array.from(saved.scores));
    }
  });

  it('a view that is not the saved bytes is refused with a BanditError, not misread', async function () {
    const saved = await linucb(cpu);
    const shifted = new Uint8Array(saved.bytes.length + 1);
    shifted.set(saved.bytes, 1);
    // One byte early: the view starts before the magic, as a wrong offset would.
    await saved.reload(shifted.subarray(0, saved.bytes.length)).then(
      () => expect.fail('a misaligned view loaded'),
      (e: Error) => expect(e.name).to.equal('BanditError'),
    );
  });
});
