import { expect } from 'chai';
import { EmbeddingMLP, HybridLinUCB, LinUCB, NeuralUCB, type HybridContexts } from '../../src/index.js';
import { decodeModel } from '../../src/models/persist.js';
import { expectClose, type Tolerance } from '../support/compare.js';
import type { Backend } from '../../src/core/backend.js';
import { cpuBackend, describeBackends, f32Backend } from '../support/fixture.js';
import { SAVED_BEFORE, type SavedCase } from './saved-before.data.js';

/** webgpu (f32) against the old code's float64 scores of the same saved state. */
const TOL_F32_SCORES: Tolerance = { abs: 1e-5, rel: 1e-4 };

const bytesOf = (base64: string): Uint8Array => Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
const numbers = (v: unknown): Float32Array => Float32Array.from(v as number[]);

interface Next {
  readonly arms: number[];
  readonly x: number[] | { arm: number[]; shared: number[] };
  readonly r: number[];
}

/** A loaded model the test drives: scores on the probe, the next update, save. */
interface Driven {
  scores(): Promise<Float32Array>;
  next(): Promise<unknown>;
  save(): Promise<Uint8Array>;
  dispose(): void;
}

async function drive(name: string, c: SavedCase, backend: Backend): Promise<Driven> {
  const bytes = bytesOf(c.bytes), next = c['next'] as Next | undefined;
  if (name.startsWith('linucb')) {
    const m = await LinUCB.load(backend, bytes);
    return { scores: () => m.scores(numbers(c['probe'])), next: () => m.update(Int32Array.from(next!.arms), numbers(next!.x), numbers(next!.r)), save: () => m.save(), dispose: () => m.dispose() };
  }
  if (name === 'hybrid') {
    const m = await HybridLinUCB.load(backend, bytes);
    const probe = c['probe'] as { arm: number[]; shared: number[] }, x = next!.x as { arm: number[]; shared: number[] };
    const contexts = (v: { arm: number[]; shared: number[] }): HybridContexts => ({ arm: numbers(v.arm), shared: numbers(v.shared) });
    return { scores: () => m.scores(contexts(probe)), next: () => m.update(Int32Array.from(next!.arms), contexts(x), numbers(next!.r)), save: () => m.save(), dispose: () => m.dispose() };
  }
  if (name.startsWith('neural')) {
    const m = await NeuralUCB.load(backend, bytes);
    return { scores: () => m.scores(numbers(c['probe']), { arms: 3 }), next: () => m.update(Int32Array.from(next!.arms), numbers(next!.x), numbers(next!.r)), save: () => m.save(), dispose: () => m.dispose() };
  }
  const m = await EmbeddingMLP.load(backend, bytes);
  const log = c['log'] as { users: number[]; items: number[]; contexts: number[]; clicks: number[] };
  const users = Int32Array.from(c['probeUsers'] as number[]), ctx = numbers(c['probeCtx']);
  return {
    scores: () => m.scores(users, ctx),
    next: () => m.fit({ users: Int32Array.from(log.users), items: Int32Array.from(log.items), contexts: numbers(log.contexts), clicks: numbers(log.clicks) }, { epochs: 1 }),
    save: () => m.save(), dispose: () => m.dispose(),
  };
}

/** The arrays and header of two saves, compared: the same names, meta and values (exactly). */
function expectSameSave(actual: Uint8Array, expected: Uint8Array, model: string, what: string, extraArrays: readonly string[] = []): void {
  const a = decodeModel(actual, model, [1]), e = decodeModel(expected, model, [1]);
  expect(a.meta, `${what}: options and counters`).to.deep.equal(e.meta);
  expect(Object.keys(a.arrays).filter((k) => !extraArrays.includes(k)), `${what}: array names`).to.deep.equal(Object.keys(e.arrays));
  for (const [name, values] of Object.entries(e.arrays)) {
    expect(a.arrays[name]!.constructor, `${what}: ${name} dtype`).to.equal(values.constructor);
    expect(Array.from(a.arrays[name]!), `${what}: ${name}`).to.deep.equal(Array.from(values));
  }
}

const MODEL_NAMES: Record<string, string> = { hybrid: 'HybridLinUCB', embedding: 'EmbeddingMLP' };
const modelOf = (name: string) => MODEL_NAMES[name] ?? (name.startsWith('linucb') ? 'LinUCB' : 'NeuralUCB');

describeBackends('saves made before the model base (7b1ee8f)', function () {
  this.timeout(120_000);

  for (const [name, c] of Object.entries(SAVED_BEFORE)) {
    it(`${name}: loads, saves the same bytes, scores and continues exactly as the old code (cpu), and scores alike on webgpu`, async () => {
      const model = modelOf(name);
      // The old code kept no touched arms for HybridLinUCB: its saves now gain them (all arms, at load).
      // Nor the lo parts of the float-float A and b (Hybrid: and B; full Z: Z and Z⁻¹; docs/numerics.md): saves gain them, zeros on cpu.
      const cpu = await drive(name, c, cpuBackend());
      const resaved = await cpu.save();
      const fullZ = decodeModel(bytesOf(c.bytes), model, [1]).arrays['z'] !== undefined;
      const lo = model === 'HybridLinUCB' ? ['aLo', 'BLo', 'bLo'] : model === 'LinUCB' || model === 'LinTS' ? ['aLo', 'bLo'] : fullZ ? ['zLo', 'zInvLo'] : [];
      const added = [...(model === 'HybridLinUCB' ? ['touchedSinceCheck', 'touchedSinceRefactor'] : []), ...lo];
      if (added.length === 0) expect(Array.from(resaved), 'the save of a loaded model').to.deep.equal(Array.from(bytesOf(c.bytes)));
      else expectSameSave(resaved, bytesOf(c.bytes), model, 'the save of a loaded model', added);
      for (const name of lo) expect(Array.from(decodeModel(resaved, model, [1]).arrays[name]!).every((v) => v === 0), `${name} zeros on cpu`).to.equal(true);
      expect(Array.from(await cpu.scores()), 'scores after load').to.deep.equal(c.scores);
      await cpu.next();
      expect(Array.from(await cpu.scores()), 'scores after the next update').to.deep.equal(c.scoresAfter);
      expectSameSave(await cpu.save(), bytesOf(c.bytesAfter), model, 'the save after the next update', added);
      cpu.dispose();
      const gpu = await drive(name, c, f32Backend());
      expectClose(await gpu.scores(), c.scores, TOL_F32_SCORES, `${name} on webgpu`);
      gpu.dispose();
    });
  }

  it('format-1 saves load, then grow, retire, decide and take rewards like any model, and save format 2, which loads back', async () => {
    const cpu = cpuBackend();
    const wave = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + i));
    for (const [name, c] of Object.entries(SAVED_BEFORE)) {
      const bytes = bytesOf(c.bytes), model = modelOf(name);
      expect(decodeModel(bytes, model, [1, 2]).modelVersion, name).to.equal(1);
      const version = async (m: { save(): Promise<Uint8Array> }) => decodeModel(await m.save(), model, [1, 2]).modelVersion;
      if (model === 'LinUCB' || model === 'HybridLinUCB') {
        const m = model === 'LinUCB' ? await LinUCB.load(cpu, bytes) : await HybridLinUCB.load(cpu, bytes);
        const K = m.options.arms + 2;
        await m.addArms(2);
        await m.retireArms(Int32Array.of(0));
        const o = m.options as { dim: number; perArmFeatures?: boolean; sharedDim?: number };
        const contexts = m instanceof HybridLinUCB ? { arm: wave(3 * K * o.dim, 1), shared: wave(3 * K * o.sharedDim!, 2) } : wave(3 * (o.perArmFeatures ? K : 1) * o.dim, 3);
        const d = m instanceof HybridLinUCB ? await m.decide(contexts as HybridContexts) : await m.decide(contexts as Float32Array);
        expect(Array.from(d.arms), `${name}: a retired arm decided`).to.not.include(0);
        await m.reward(d.eventIds, [1, 0, 1]);
        expect(await version(m), name).to.equal(2);
        const again = model === 'LinUCB' ? await LinUCB.load(cpu, await m.save()) : await HybridLinUCB.load(cpu, await m.save());
        expect([again.options.arms, Array.from(again.retiredArms), again.diagnostics().rewards.rewarded], name).to.deep.equal([K, [0], 3]);
        m.dispose();
        again.dispose();
      } else if (model === 'NeuralUCB') {
        const m = await NeuralUCB.load(cpu, bytes);
        const d = await m.decide(wave(2 * 3 * m.options.dim, 4), { arms: 3 });
        await m.reward([d.eventIds[1]!, d.eventIds[0]!], [0.5, 1]);
        await m.update(Int32Array.of(0), wave(m.options.dim, 5), [1], { weights: [2] });
        expect(await version(m), name).to.equal(2);
        const again = await NeuralUCB.load(cpu, await m.save());
        expect(again.diagnostics().rewards.rewarded, name).to.equal(2);
        expect(Array.from(await again.scores(wave(3 * m.options.dim, 6), { arms: 3 })), name).to.deep.equal(Array.from(await m.scores(wave(3 * m.options.dim, 6), { arms: 3 })));
        m.dispose();
        again.dispose();
      } else {
        const m = await EmbeddingMLP.load(cpu, bytes);
        const items = m.options.items;
        await m.addItems(1);
        await m.addUsers(1);
        await m.retireItems(Int32Array.of(0));
        expect(await version(m), name).to.equal(2);
        const again = await EmbeddingMLP.load(cpu, await m.save());
        expect([again.options.items, Array.from(again.diagnostics().retired)], name).to.deep.equal([items + 1, [0]]);
        m.dispose();
        again.dispose();
      }
    }
  });
});
