import { expect } from 'chai';
import { BanditError, EmbeddingMLP, type Backend, type InteractionLog } from '../../src/index.js';
import { Random } from '../../src/sim/index.js';
import { decodeModel, encodeModel } from '../../src/models/persist.js';
import { F32_EPS } from '../support/compare.js';
import { backends, describeBackends } from '../support/fixture.js';

// The model is the training ops wired together (each checked elementwise against its twin in
// train-ops.spec.ts); these tests check the wiring (columns, indices, steps), learning, and state.

/**
 * webgpu vs cpu gradients of the same model on the same log, norm-wise: ‖Δg‖∞ ≤ this·‖g‖∞. The ops'
 * own bounds (γ of depth ≈ 100 + N rows, ≈ 2·10⁻⁵ relative to the absolute-value envelope) and
 * the envelope's excess over |g| (cancellation across rows, at most ~10× on these logs) give
 * ~2·10⁻⁴; a wiring error (wrong column, index or scale) is O(1).
 */
const GRADIENT_NORMWISE = 1e-3;
/** The same for the mean loss (a sum of N positive terms: γ_N plus the forward's error). */
const LOSS_RELATIVE = 1e3 * F32_EPS;

/** Users of even id click item 3 (80 %), of odd id item 7; every other item 10 %. Contexts are noise. */
interface Log extends InteractionLog {
  readonly contexts: Float32Array;
  readonly clicks: Float32Array;
}

function plantedLog(users: number, items: number, rows: number, contextDim: number, seed: number): Log {
  const r = new Random(seed);
  const log = { users: new Int32Array(rows), items: new Int32Array(rows), contexts: new Float32Array(rows * contextDim), clicks: new Float32Array(rows) };
  for (let n = 0; n < rows; n++) {
    const u = r.int(users), i = r.int(items);
    log.users[n] = u;
    log.items[n] = i;
    for (let j = 0; j < contextDim; j++) log.contexts[n * contextDim + j] = 2 * r.uniform() - 1;
    log.clicks[n] = r.uniform() < (i === (u % 2 === 0 ? 3 : 7) ? 0.8 : 0.1) ? 1 : 0;
  }
  return log;
}

const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
};
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

describeBackends('EmbeddingMLP', function () {
  this.timeout(120_000);

  it('computes the same gradients on webgpu as on the float64 twin (cpu backend), with and without contexts', async () => {
    const { gpu, cpu } = backends();
    for (const [contextDim, hidden, rows] of [[3, [16], 300], [0, [5, 7], 37], [1, [], 9]] as const) {
      const log = plantedLog(11, 6, rows, contextDim, 20 + rows);
      const opts = { users: 11, items: 6, contextDim, embeddingDim: 3, hidden: [...hidden], seed: 4 };
      const [g, c] = await Promise.all([gpu, cpu].map(async (backend: Backend) => {
        const model = await EmbeddingMLP.create(backend, opts);
        try {
          return await model.gradients(log);
        } finally {
          model.dispose();
        }
      })) as [Awaited<ReturnType<EmbeddingMLP['gradients']>>, Awaited<ReturnType<EmbeddingMLP['gradients']>>];
      const what = `contextDim=${contextDim} hidden=[${hidden.join(',')}] N=${rows}`;
      expect(Math.abs(g.loss - c.loss), `${what}: loss ${g.loss} vs ${c.loss}`).to.be.at.most(LOSS_RELATIVE * c.loss);
      for (const part of ['theta', 'userEmbeddings', 'itemEmbeddings'] as const) {
        expect(g[part].length, `${what}: ${part}`).to.equal(c[part].length);
        expect(maxAbs(c[part]), `${what}: ${part} is not all zero`).to.be.above(0);
        expect(maxDiff(g[part], c[part]), `${what}: ${part}`).to.be.at.most(GRADIENT_NORMWISE * maxAbs(c[part]));
      }
    }
  });

  it('its embedding gradient equals central finite differences of its loss (cpu backend, via save/load)', async () => {
    const { cpu } = backends();
    const log = plantedLog(4, 3, 12, 2, 31);
    const model = await EmbeddingMLP.create(cpu, { users: 4, items: 3, contextDim: 2, embeddingDim: 2, hidden: [6], seed: 9 });
    const { userEmbeddings, itemEmbeddings } = await model.gradients(log);
    // Perturb one embedding entry through a saved copy: the header and arrays stay as they are.
    const bytes = await model.save();
    const saved = decodeModel(bytes, 'EmbeddingMLP', [1]);
    const lossWith = async (name: string, q: number, delta: number) => {
      const changed = (saved.arrays[name] as Float64Array).slice();
      changed[q] = changed[q]! + delta;
      const arrays = { ...saved.arrays, [name]: changed };
      const m = await EmbeddingMLP.load(cpu, encodeModel({ ...saved, arrays }));
      try {
        return (await m.gradients(log)).loss;
      } finally {
        m.dispose();
      }
    };
    const h = 1e-6;
    let worst = 0;
    for (const [name, grad] of [['userEmbeddings.value', userEmbeddings], ['itemEmbeddings.value', itemEmbeddings]] as const) {
      for (let q = 0; q < grad.length; q++) {
        const fd = ((await lossWith(name, q, h)) - (await lossWith(name, q, -h))) / (2 * h);
        // Rounding of the two float64 losses (≈ 10⁻¹⁵) over 2h, and the h² truncation of the logistic loss.
        expect(Math.abs(fd - grad[q]!), `${name}[${q}]: fd ${fd} vs ${grad[q]}`).to.be.at.most(1e-8 + 1e-6 * Math.abs(grad[q]!));
        if (grad[q] !== 0) worst = Math.max(worst, Math.abs(fd - grad[q]!) / Math.abs(grad[q]!));
      }
    }
    console.log(`      embedding gradient vs central differences: largest relative error ${worst.toExponential(2)}`);
    model.dispose();
  });

  for (const kind of ['webgpu', 'cpu'] as const) {
    it(`${kind}: the loss falls and it learns a planted preference (even users → item 3, odd → item 7)`, async () => {
      const backend = kind === 'webgpu' ? backends().gpu : backends().cpu;
      const users = 20, items = 10, contextDim = 2;
      const rows = 2000, batchSize = 100, epochs = 10;
      const log = plantedLog(users, items, rows, contextDim, 8);
      const model = await EmbeddingMLP.create(backend, { users, items, contextDim, hidden: [16], batchSize, lr: 0.03, seed: 1 });
      const seen: number[] = [];
      const { losses } = await model.fit(log, { epochs, onProgress: (epoch, loss) => seen.push(epoch, loss) });
      expect(losses).to.have.length(epochs);
      expect(seen.filter((_, i) => i % 2 === 0)).to.deep.equal([...Array(epochs).keys()]);
      expect(seen.filter((_, i) => i % 2 === 1)).to.deep.equal(losses);
      expect(losses[epochs - 1]!, `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`).to.be.below(0.85 * losses[0]!);
      const all = Int32Array.from({ length: users }, (_, u) => u);
      const picks = await model.select(all, new Float32Array(users * contextDim));
      expect(Array.from(picks)).to.deep.equal(Array.from(all, (u) => (u % 2 === 0 ? 3 : 7)));
      const s = await model.scores(all.subarray(0, 2), new Float32Array(2 * contextDim));
      expect(s).to.have.length(2 * items);
      // scores, predict and select agree: the picked item has the highest probability.
      const p = await model.predict(new Int32Array([0, 0, 1]), new Int32Array([3, 5, 7]), new Float32Array(3 * contextDim));
      expect(Math.abs(p[0]! - s[3]!)).to.be.below(1e-6);
      expect(Math.abs(p[2]! - s[items + 7]!)).to.be.below(1e-6);
      expect(p[0]!).to.be.above(0.5);
      expect(p[1]!).to.be.below(0.3);
      // A deterministic model's select does not move the decision stream (seed: the option's low 32 bits).
      expect(model.diagnostics()).to.deep.equal({ steps: epochs * Math.ceil(rows / batchSize), epochs, decisions: { seed: 1, step: 0 }, retired: new Int32Array(0) });
      model.dispose();
    });
  }

  it('save / load continues training identically (webgpu and cpu), and loads across backends', async () => {
    const { gpu, cpu } = backends();
    const log = plantedLog(9, 5, 300, 1, 40);
    for (const backend of [gpu, cpu] as Backend[]) {
      const a = await EmbeddingMLP.create(backend, { users: 9, items: 5, contextDim: 1, hidden: [8], batchSize: 64, l2: 1e-3, seed: 2 });
      await a.fit(log, { epochs: 2 });
      const b = await EmbeddingMLP.load(backend, await a.save());
      expect(b.diagnostics()).to.deep.equal(a.diagnostics());
      const [la, lb] = [await a.fit(log, { epochs: 2 }), await b.fit(log, { epochs: 2 })];
      expect(lb.losses, backend.kind).to.deep.equal(la.losses);
      const [sa, sb] = [await a.save(), await b.save()];
      expect(Array.from(sb), `${backend.kind}: the states after training on`).to.deep.equal(Array.from(sa));
      if (backend === gpu) {
        const other = await EmbeddingMLP.load(cpu, sa);
        const users = new Int32Array([0, 4, 8]), ctx = new Float32Array([0.5, -0.5, 0]);
        const [pa, po] = [await a.scores(users, ctx), await other.scores(users, ctx)];
        expect(maxDiff(pa, po), 'webgpu model loaded on cpu').to.be.below(1e-5);
        other.dispose();
      }
      a.dispose();
      b.dispose();
    }
  });

  it('refuses bad input with BanditError and leaves the model unchanged', async () => {
    const { gpu } = backends();
    const model = await EmbeddingMLP.create(gpu, { users: 3, items: 4, contextDim: 2, hidden: [4], seed: 3 });
    const log = plantedLog(3, 4, 10, 2, 50);
    const users = new Int32Array([0, 1]), ctx = new Float32Array(4);
    const before = await model.save();
    const nan = log.contexts.slice();
    nan[5] = NaN;
    const bad: [string, () => Promise<unknown>, RegExp][] = [
      ['user out of range', () => model.fit({ ...log, users: log.users.map((u, n) => (n === 4 ? 3 : u)) }), /users\[4\] = 3 is out of range 0..2/],
      ['item out of range', () => model.fit({ ...log, items: log.items.map((i, n) => (n === 2 ? -1 : i)) }), /items\[2\] = -1 is out of range 0..3/],
      ['users not Int32Array', () => model.fit({ ...log, users: [0, 1] as never }), /users must be an Int32Array/],
      ['items of the wrong length', () => model.fit({ ...log, items: log.items.subarray(1) }), /10 rows but 9 items/],
      ['contexts of the wrong length', () => model.fit({ ...log, contexts: log.contexts.subarray(1) }), /contexts has 19 values; 10 rows need 10×2/],
      ['NaN context', () => model.fit({ ...log, contexts: nan }), /contexts\[5\] \(row 2, element 1\) is NaN/],
      ['click outside [0, 1]', () => model.fit({ ...log, clicks: log.clicks.map((c, n) => (n === 3 ? 2 : c)) }), /clicks\[3\] is 2; labels must be in \[0, 1\]/],
      ['NaN click', () => model.fit({ ...log, clicks: log.clicks.map((c, n) => (n === 0 ? NaN : c)) }), /clicks\[0\] is NaN/],
      ['empty log', () => model.fit({ users: new Int32Array(0), items: new Int32Array(0), contexts: new Float32Array(0), clicks: new Float32Array(0) }), /the log is empty/],
      ['fractional epochs', () => model.fit(log, { epochs: 1.5 }), /epochs must be an integer ≥ 0/],
      ['onProgress not a function', () => model.fit(log, { onProgress: 3 as never }), /onProgress must be a function/],
      ['predict: items ≠ users', () => model.predict(users, new Int32Array([1]), ctx), /2 rows but 1 items/],
      ['predict: no contexts', () => model.predict(users, new Int32Array([1, 2])), /contexts must be a Float32Array/],
      ['scores: user out of range', () => model.scores(new Int32Array([5]), ctx.subarray(0, 2)), /users\[0\] = 5 is out of range/],
      ['select: contexts of the wrong length', () => model.select(users, ctx.subarray(1)), /contexts has 3 values; 2 rows need 2×2/],
      ['select: Infinity context', () => model.select(users, new Float32Array([0, 0, Infinity, 0])), /contexts\[2\] \(row 1, element 0\) is Infinity/],
    ];
    for (const [what, call, message] of bad) {
      let error: unknown = null;
      await call().catch((e: unknown) => (error = e));
      expect(error, what).to.be.instanceOf(BanditError);
      expect((error as Error).message, what).to.match(message);
    }
    expect(Array.from(await model.save()), 'state after the refused calls').to.deep.equal(Array.from(before));
    const createBad: [string, object, RegExp][] = [
      ['no users', { items: 2, contextDim: 0 }, /users must be a positive integer/],
      ['negative contextDim', { users: 2, items: 2, contextDim: -1 }, /contextDim must be an integer ≥ 0/],
      ['zero lr', { users: 2, items: 2, contextDim: 0, lr: 0 }, /lr must be > 0/],
      ['fractional hidden', { users: 2, items: 2, contextDim: 0, hidden: [2.5] }, /hidden\[0\] must be a positive integer/],
      ['NaN l2', { users: 2, items: 2, contextDim: 0, l2: NaN }, /l2 must be ≥ 0/],
    ];
    for (const [what, options, message] of createBad) {
      let error: unknown = null;
      await EmbeddingMLP.create(gpu, options as never).catch((e: unknown) => (error = e));
      expect(error, what).to.be.instanceOf(BanditError);
      expect((error as Error).message, what).to.match(message);
    }
    const bytes = await model.save();
    const corrupt = bytes.slice();
    corrupt[40]! ^= 1;
    let error: unknown = null;
    await EmbeddingMLP.load(gpu, corrupt).catch((e: unknown) => (error = e));
    expect(error, 'corrupt bytes').to.be.instanceOf(BanditError);
    model.dispose();
    error = null;
    await model.select(users, ctx).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.match(/EmbeddingMLP.select: the model has been disposed/);
  });
});
