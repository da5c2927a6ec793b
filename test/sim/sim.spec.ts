import { expect } from 'chai';
import { BanditError, type Backend } from '../../src/index.js';
import { EcommerceSimulator, FeatureBatch, linUCBPolicy, oraclePolicy, playedArmFeatures, randomPolicy, recoveryTime, runHeadToHead, hybridLinUCBPolicy, discountedLinUCBPolicy, type EcommerceSimulatorOptions, type Policy } from '../../src/sim/index.js';
import type { RoundSnapshot } from '../../src/sim/headtohead.js';
import { embeddingMLPPolicyFor } from '../../src/sim/policies/embedding-mlp.js';
import { neuralUCBPolicyFor } from '../../src/sim/policies/neuralucb.js';
import { formatResultTable, lineChartSvg, reportHtml, resultRows } from '../../src/sim/report.js';
import { ALGORITHMS, DEFAULT_ALGORITHMS, resolveScenario, runScenario } from '../../src/sim/scenario.js';
import { backends } from '../support/fixture.js';

/** A world small enough for a few hundred steps to teach a linear model something (8 items, 4-d tastes). */
const SMALL: EcommerceSimulatorOptions = {
  seed: 1, steps: 400, items: 8, categories: 2, users: 100, latentDim: 4, userFeatureDim: 4, itemFeatureDim: 4, shock: { step: 200 },
};
/**
 * LinUCB's total regret must be under this share of random's on SMALL: measured 114.7 against
 * 156.7 (0.73) on both backends; 0.85 leaves room for f32 changing a few near-tie choices.
 */
const LINUCB_VS_RANDOM = 0.85;

function throwsBandit(f: () => unknown, pattern: RegExp): void {
  expect(f).to.throw(BanditError, pattern);
}

describe('sim: EcommerceSimulator', () => {
  it('is a function of its seed: the same seed gives the same stream, another seed another', () => {
    const a = new EcommerceSimulator({ seed: 5, steps: 300 });
    const b = new EcommerceSimulator({ seed: 5, steps: 300 });
    const c = new EcommerceSimulator({ seed: 6, steps: 300 });
    const [ba, bb, bc] = [a.batch(0, 300), b.batch(0, 300), c.batch(0, 300)];
    expect(Array.from(ba.users)).to.deep.equal(Array.from(bb.users));
    expect(Array.from(ba.userFeatures)).to.deep.equal(Array.from(bb.userFeatures));
    expect(Array.from(ba.itemFeatures)).to.deep.equal(Array.from(bb.itemFeatures));
    expect(Array.from(ba.clickProbabilities)).to.deep.equal(Array.from(bb.clickProbabilities));
    const chosen = Int32Array.from({ length: 300 }, (_, i) => (i * 7) % 50);
    expect(Array.from(a.clicks(ba, chosen))).to.deep.equal(Array.from(b.clicks(bb, chosen)));
    expect(Array.from(ba.users)).to.not.deep.equal(Array.from(bc.users));
    expect(Array.from(ba.itemFeatures)).to.not.deep.equal(Array.from(bc.itemFeatures));
  });

  it('builds any batch on its own: steps 40..59 alone equal those rows of steps 0..99', () => {
    const sim = new EcommerceSimulator({ seed: 2, steps: 100 });
    const whole = sim.batch(0, 100), part = sim.batch(40, 20);
    const { userDim } = sim.shape, k = sim.shape.arms;
    expect(Array.from(part.steps)).to.deep.equal(Array.from(whole.steps.subarray(40, 60)));
    expect(Array.from(part.users)).to.deep.equal(Array.from(whole.users.subarray(40, 60)));
    expect(Array.from(part.userFeatures)).to.deep.equal(Array.from(whole.userFeatures.subarray(40 * userDim, 60 * userDim)));
    expect(Array.from(part.clickProbabilities)).to.deep.equal(Array.from(whole.clickProbabilities.subarray(40 * k, 60 * k)));
    for (let r = 0; r < 20; r++) {
      expect(sim.userAt(40 + r)).to.equal(part.users[r]);
      expect(sim.optimalItem(40 + r)).to.equal(part.optimal[r]);
      expect(sim.click(40 + r, 3)).to.equal(sim.clicks(part, new Int32Array(20).fill(3))[r]);
    }
  });

  it('describes its features: [projection + noise, 1] per user, [projection + noise, one-hot category] per item', () => {
    const sim = new EcommerceSimulator({ seed: 3, items: 12, categories: 4, userFeatureDim: 5, itemFeatureDim: 6 });
    expect(sim.shape).to.deep.equal({ arms: 12, users: 500, userDim: 6, itemDim: 10, hybridItemDim: 6 });
    const b = sim.batch(0, 10);
    for (let r = 0; r < 10; r++) expect(b.userFeatures[r * 6 + 5]).to.equal(1);
    const perCategory = new Array(4).fill(0);
    for (let i = 0; i < 12; i++) {
      const oneHot = Array.from(sim.itemFeatures.subarray(i * 10 + 6, i * 10 + 10));
      expect(oneHot.reduce((s, v) => s + v, 0)).to.equal(1);
      expect(oneHot.indexOf(1)).to.equal(sim.itemCategories[i]);
      perCategory[sim.itemCategories[i]!]++;
      expect(Array.from(sim.hybridItemFeatures.subarray(i * 6, i * 6 + 6))).to.deep.equal(Array.from(sim.itemFeatures.subarray(i * 10, i * 10 + 6)));
    }
    expect(perCategory).to.deep.equal([3, 3, 3, 3]);
    // Regret is p(best) − p(chosen): 0 for the optimum, positive for a worse item.
    const regret = sim.regret(b, b.optimal);
    expect(Array.from(regret)).to.deep.equal(new Array(10).fill(0));
    for (let r = 0; r < 10; r++) {
      const p = Array.from(b.clickProbabilities.subarray(r * 12, (r + 1) * 12));
      expect(b.optimalProbability[r]).to.equal(Math.max(...p));
      expect(b.optimal[r]).to.equal(p.indexOf(Math.max(...p)));
    }
  });

  it('the market shock changes the optimum for most users, and only from its step on', () => {
    const steps = 4000, shock = 2000;
    const sim = new EcommerceSimulator({ seed: 4, steps, shock: { step: shock } });
    const calm = new EcommerceSimulator({ seed: 4, steps, shock: null });
    const b = sim.batch(0, steps), c = calm.batch(0, steps);
    const { arms: k } = sim.shape;
    // Before the shock the two worlds are one; after it, they differ.
    expect(Array.from(b.clickProbabilities.subarray(0, shock * k))).to.deep.equal(Array.from(c.clickProbabilities.subarray(0, shock * k)));
    expect(Array.from(b.shocked.subarray(0, shock))).to.deep.equal(new Array(shock).fill(0));
    expect(Array.from(b.shocked.subarray(shock))).to.deep.equal(new Array(steps - shock).fill(1));
    const bestBefore = new Map<number, number>(), bestAfter = new Map<number, number>();
    for (let t = 0; t < steps; t++) (t < shock ? bestBefore : bestAfter).set(b.users[t]!, b.optimal[t]!);
    let both = 0, changed = 0;
    for (const [u, best] of bestBefore) {
      if (!bestAfter.has(u)) continue;
      both++;
      if (bestAfter.get(u) !== best) changed++;
    }
    expect(both).to.be.greaterThan(300);
    // A π/2 turn of every taste plus a category boost: the best item changes for nearly everyone.
    expect(changed / both).to.be.greaterThan(0.8);
    // One category's popularity moved by the default +1.5 (the least popular one), the others stayed.
    const { before, after } = sim.popularity;
    const cat = sim.options.shock!.category;
    expect(before[cat]).to.equal(Math.min(...before));
    for (let j = 0; j < before.length; j++) expect(after[j]! - before[j]!).to.be.closeTo(j === cat ? 1.5 : 0, 1e-12);
    // No rotation and no popularity change: the world after the "shock" is the world before.
    const still = new EcommerceSimulator({ seed: 4, steps, shock: { step: shock, rotation: 0, popularityChange: 0 } });
    const s = still.batch(0, steps);
    let worst = 0;
    for (let i = 0; i < steps * k; i++) worst = Math.max(worst, Math.abs(s.clickProbabilities[i]! - c.clickProbabilities[i]!));
    expect(worst).to.be.below(1e-12);
  });

  it('logs random interactions of the world before the shock, deterministically', () => {
    const sim = new EcommerceSimulator({ seed: 8, steps: 1000, items: 10, shock: { step: 0 } });
    const log = sim.randomLog(500), again = sim.randomLog(500);
    expect(log.length).to.equal(500);
    expect(Array.from(log.actions)).to.deep.equal(Array.from(again.actions));
    expect(Array.from(log.rewards)).to.deep.equal(Array.from(again.rewards));
    expect(Array.from(log.propensities)).to.deep.equal(new Array(500).fill(1 / 10));
    const counts = new Array(10).fill(0);
    for (const a of log.actions) counts[a]++;
    for (const n of counts) expect(n).to.be.within(25, 75);
    // Clicks follow the pre-shock probabilities (the shock is at step 0 here, so the run never sees them).
    const calm = new EcommerceSimulator({ seed: 8, steps: 1000, items: 10, shock: null });
    expect(Array.from(calm.randomLog(500).rewards)).to.deep.equal(Array.from(log.rewards));
  });

  it('refuses bad options and bad calls with BanditError', () => {
    throwsBandit(() => new EcommerceSimulator({ items: 0 }), /items/);
    throwsBandit(() => new EcommerceSimulator({ items: 3, categories: 4 }), /categories/);
    throwsBandit(() => new EcommerceSimulator({ steps: 1.5 }), /steps/);
    throwsBandit(() => new EcommerceSimulator({ featureNoise: -1 }), /featureNoise/);
    throwsBandit(() => new EcommerceSimulator({ baseLogit: NaN }), /baseLogit/);
    throwsBandit(() => new EcommerceSimulator({ steps: 100, shock: { step: 101 } }), /shock\.step/);
    throwsBandit(() => new EcommerceSimulator({ categories: 3, shock: { category: 3 } }), /shock\.category/);
    throwsBandit(() => new EcommerceSimulator({ shock: { rotation: Infinity } }), /rotation/);
    const sim = new EcommerceSimulator({ steps: 10, items: 4 });
    throwsBandit(() => sim.batch(-1, 2), /step/);
    throwsBandit(() => sim.batch(0, 0), /size/);
    throwsBandit(() => sim.clicks(sim.batch(0, 2), new Int32Array([0, 4])), /out of range/);
    throwsBandit(() => sim.clicks(sim.batch(0, 2), new Int32Array([0])), /2 items/);
  });

  it('lays out per-arm, played and hybrid features from user and item features', () => {
    const shape = { arms: 2, users: 3, userDim: 2, itemDim: 3, hybridItemDim: 2 };
    const batch = new FeatureBatch(shape, new Int32Array([0, 2]), new Float32Array([1, 2, 3, 4]), new Float32Array([10, 11, 12, 20, 21, 22]), new Float32Array([5, 6, 7, 8]));
    expect(Array.from(batch.armFeatures())).to.deep.equal([1, 2, 10, 11, 12, 1, 2, 20, 21, 22, 3, 4, 10, 11, 12, 3, 4, 20, 21, 22]);
    expect(Array.from(playedArmFeatures(batch, new Int32Array([1, 0])))).to.deep.equal([1, 2, 20, 21, 22, 3, 4, 10, 11, 12]);
    const h = batch.hybridContexts();
    expect(Array.from(h.arm)).to.deep.equal([1, 2, 1, 2, 3, 4, 3, 4]);
    // vec(user ⊗ item): user index outer, item index inner.
    expect(Array.from(h.shared)).to.deep.equal([5, 6, 10, 12, 7, 8, 14, 16, 15, 18, 20, 24, 21, 24, 28, 32]);
    throwsBandit(() => playedArmFeatures(batch, new Int32Array([2, 0])), /out of range/);
    throwsBandit(() => new FeatureBatch(shape, new Int32Array([0]), new Float32Array(3), new Float32Array(6), new Float32Array(4)), /userFeatures/);
  });
});

describe('sim: head-to-head', function () {
  this.timeout(120_000);

  it('recovery time by hand: the first full post-shock window back within tolerance of the pre-shock level', () => {
    // Pre-shock level over steps 2..3 = 1. Trailing windows of 2 after the shock (step 4):
    // steps 4–5: 3, 5–6: 2.5, 6–7: 1.5, 7–8: 1 ≤ 1 → recovered at step 8, 8 + 1 − 4 = 5 steps.
    const regret = [1, 1, 1, 1, 3, 3, 2, 1, 1, 1];
    expect(recoveryTime(regret, 4, 2, 0, 0)).to.deep.equal({ preShockRate: 1, recoverySteps: 5 });
    // A 60% tolerance lets steps 6–7 (1.5 ≤ 1.6) pass: 4 steps.
    expect(recoveryTime(regret, 4, 2, 0.6, 0).recoverySteps).to.equal(4);
    expect(recoveryTime(regret, 4, 2, 0, 0.5).recoverySteps).to.equal(4);
    expect(recoveryTime([1, 1, 2, 2, 2], 2, 2, 0, 0).recoverySteps).to.equal(null);
    expect(recoveryTime(regret, null, 2, 0, 0).recoverySteps).to.equal(null);
  });

  it('the oracle has regret 0 at every step, and random does not', async () => {
    const sim = new EcommerceSimulator({ seed: 9, steps: 500 });
    const progress: [number, number][] = [];
    const result = await runHeadToHead(sim, [oraclePolicy(), randomPolicy(sim.shape)], {
      batchSize: 30, window: 100, onProgress: (done, total) => void progress.push([done, total]),
    });
    expect(result.rounds).to.equal(17);
    expect(progress).to.deep.equal(Array.from({ length: 17 }, (_, i) => [i + 1, 17]));
    expect(Array.from(result.roundEnds.subarray(-2))).to.deep.equal([480, 500]);
    const [oracle, random] = result.policies;
    expect(oracle!.totalRegret).to.equal(0);
    expect(Array.from(oracle!.stepRegret).every((r) => r === 0)).to.equal(true);
    expect(oracle!.cumulativeRegret.length).to.equal(17);
    expect(random!.totalRegret).to.be.greaterThan(50);
    expect(oracle!.ctr).to.be.greaterThan(random!.ctr);
    expect(oracle!.windowCtr.length).to.equal(5);
    expect(random!.regretBeforeShock + random!.regretAfterShock).to.be.closeTo(random!.totalRegret, 1e-9);
    expect(random!.regretRateBeforeShock).to.be.closeTo(random!.regretBeforeShock / 250, 1e-12);
    for (let r = 1; r < 17; r++) expect(random!.cumulativeRegret[r]).to.be.at.least(random!.cumulativeRegret[r - 1]!);
  });

  it('gives every policy the same clicks for the same item at the same step', async () => {
    const sim = new EcommerceSimulator({ seed: 10, steps: 200, items: 5 });
    const seen: Float32Array[] = [];
    const fixed = (name: string): Policy => ({
      name,
      select: async (b) => Int32Array.from({ length: b.size }, (_, i) => i % 5),
      update: async (_b, _c, clicks) => void seen.push(clicks),
      dispose: () => {},
    });
    const result = await runHeadToHead(sim, [fixed('a'), fixed('b')], { batchSize: 200 });
    expect(Array.from(seen[0]!)).to.deep.equal(Array.from(seen[1]!));
    expect(result.policies[0]!.clicks).to.equal(result.policies[1]!.clicks);
  });

  it('refuses a policy that returns the wrong number of items or an item out of range', async () => {
    const sim = new EcommerceSimulator({ steps: 20, items: 4 });
    const bad = (select: Policy['select']): Policy => ({ name: 'bad', select, update: async () => {}, dispose: () => {} });
    for (const [policy, pattern] of [
      [bad(async (b) => new Int32Array(b.size - 1)), /Int32Array of 10/],
      [bad(async (b) => new Int32Array(b.size).fill(4)), /out of range/],
    ] as const) {
      let error: unknown = null;
      await runHeadToHead(sim, [policy], { batchSize: 10 }).catch((e) => (error = e));
      expect(error).to.be.instanceOf(BanditError);
      expect((error as Error).message).to.match(pattern);
    }
  });

  for (const which of ['cpu', 'gpu'] as const) {
    it(`LinUCB beats random over ${SMALL.steps} steps with a shock (${which === 'gpu' ? 'webgpu' : 'cpu'} backend)`, async () => {
      const backend: Backend = backends()[which];
      const sim = new EcommerceSimulator(SMALL);
      const policies = [
        randomPolicy(sim.shape, { seed: 1 }),
        await linUCBPolicy(backend, sim.shape),
        await hybridLinUCBPolicy(backend, sim.shape),
        await discountedLinUCBPolicy(backend, sim.shape, { gamma: 0.99 }),
      ];
      try {
        const result = await runHeadToHead(sim, policies, { batchSize: 20, window: 50 });
        const [random, linucb, hybrid, discounted] = result.policies;
        console.log(`      ${which}: regret ${result.policies.map((p) => `${p.name} ${p.totalRegret.toFixed(1)}`).join(', ')}`);
        expect(linucb!.totalRegret).to.be.below(LINUCB_VS_RANDOM * random!.totalRegret);
        expect(hybrid!.totalRegret).to.be.below(random!.totalRegret);
        expect(discounted!.totalRegret).to.be.below(random!.totalRegret);
        expect(linucb!.name).to.equal('LinUCB');
        expect(discounted!.name).to.match(/discounted/);
      } finally {
        for (const p of policies) p.dispose();
      }
    });
  }
});

describe('sim: runtime shock trigger', () => {
  it('triggerShock moves the shock: batches built afterwards see the shocked world from the new step on', () => {
    const steps = 400;
    const armed = new EcommerceSimulator({ seed: 11, steps, shock: { step: steps } });
    const planned = new EcommerceSimulator({ seed: 11, steps, shock: { step: 120 } });
    const calm = new EcommerceSimulator({ seed: 11, steps, shock: null });
    const k = armed.shape.arms;
    expect(armed.shockStep).to.equal(steps);
    // Armed past the end: the whole run is the calm world.
    expect(Array.from(armed.batch(0, steps).clickProbabilities)).to.deep.equal(Array.from(calm.batch(0, steps).clickProbabilities));
    const early = armed.batch(100, 40);
    armed.triggerShock(120);
    expect(armed.shockStep).to.equal(120);
    expect(armed.options.shock!.step).to.equal(120);
    // The same world as one planned at 120 from the start, rows 0..119 calm, 120.. shocked.
    const now = armed.batch(0, steps), then = planned.batch(0, steps);
    expect(Array.from(now.clickProbabilities)).to.deep.equal(Array.from(then.clickProbabilities));
    expect(Array.from(now.shocked)).to.deep.equal(Array.from(then.shocked));
    expect(Array.from(now.clickProbabilities.subarray(0, 120 * k))).to.deep.equal(Array.from(calm.batch(0, 120).clickProbabilities));
    // A batch built before the call keeps its world.
    expect(Array.from(early.shocked)).to.deep.equal(new Array(40).fill(0));
    // Later again, or past the end.
    armed.triggerShock(steps);
    expect(armed.batch(200, 10).shocked.every((v) => v === 0)).to.equal(true);
    throwsBandit(() => armed.triggerShock(steps + 1), /triggerShock: step must be an integer in 0\.\.400/);
    throwsBandit(() => armed.triggerShock(1.5), /triggerShock/);
    throwsBandit(() => calm.triggerShock(10), /shock: null/);
  });

  it('runHeadToHead splits its metrics at a shock triggered during the run, and reports every round', async () => {
    const steps = 300, batchSize = 20, at = 140;
    const sim = new EcommerceSimulator({ seed: 12, steps, items: 10, shock: { step: steps } });
    const snapshots: RoundSnapshot[] = [];
    const result = await runHeadToHead(sim, [randomPolicy(sim.shape, { seed: 2 }), oraclePolicy()], {
      batchSize, window: 40,
      onRound: (snap) => {
        snapshots.push(snap);
        if (snap.stepsDone === at) sim.triggerShock(at);
      },
    });
    expect(result.shockStep).to.equal(at);
    expect(snapshots.length).to.equal(result.rounds);
    expect(snapshots.map((s) => s.stepsDone)).to.deep.equal(Array.from(result.roundEnds));
    expect(snapshots[0]!.shockStep).to.equal(steps);
    expect(snapshots[snapshots.length - 1]!.shockStep).to.equal(at);
    const [random, oracle] = result.policies;
    let before = 0, clicksBefore = 0;
    for (let t = 0; t < at; t++) before += random!.stepRegret[t]!;
    expect(random!.regretBeforeShock).to.be.closeTo(before, 1e-9);
    expect(random!.regretAfterShock).to.be.closeTo(random!.totalRegret - before, 1e-9);
    const last = snapshots[snapshots.length - 1]!.policies;
    expect(last[0]!.cumulativeRegret).to.be.closeTo(random!.totalRegret, 1e-9);
    expect(last[0]!.clicks).to.equal(random!.clicks);
    expect(last[1]!.cumulativeRegret).to.equal(0);
    expect(snapshots.reduce((sum, s) => sum + s.policies[0]!.roundClicks, 0)).to.equal(random!.clicks);
    for (const s of snapshots.filter((x) => x.stepsDone <= at)) clicksBefore += s.policies[0]!.roundClicks;
    expect(random!.ctrBeforeShock).to.be.closeTo(clicksBefore / at, 1e-12);
    expect(random!.ctrAfterShock).to.be.closeTo((random!.clicks - clicksBefore) / (steps - at), 1e-12);
    expect(oracle!.totalRegret).to.equal(0);
    // A shock armed past the end is no shock: no split, no recovery.
    const still = await runHeadToHead(new EcommerceSimulator({ seed: 12, steps: 100, items: 10, shock: { step: 100 } }), [oraclePolicy()]);
    expect(still.shockStep).to.equal(null);
    expect(still.policies[0]!.recoverySteps).to.equal(null);
    expect(Number.isNaN(still.policies[0]!.ctrAfterShock)).to.equal(true);
  });
});

describe('sim: default scenario and report', function () {
  this.timeout(300_000);

  it('resolves the default scenario and refuses bad options', () => {
    const d = resolveScenario();
    expect(d).to.include({ steps: 6000, shockAt: 3000, seed: 1, batchSize: 25, trainingRows: 10_000, trainingEpochs: 10, window: null });
    // Every algorithm but hybrid LinUCB, in ALGORITHMS' order (DEFAULT_ALGORITHMS says why).
    expect(d.algorithms).to.deep.equal(ALGORITHMS.filter((a) => a !== 'hybrid'));
    expect(d.algorithms).to.deep.equal([...DEFAULT_ALGORITHMS]);
    expect(resolveScenario({ steps: 100, shockAt: null }).simulator.shock).to.equal(null);
    expect(resolveScenario(resolveScenario({ steps: 90, window: 30 }))).to.deep.equal(resolveScenario({ steps: 90, window: 30 }));
    throwsBandit(() => resolveScenario({ steps: 100, shockAt: 101 }), /shockAt/);
    throwsBandit(() => resolveScenario({ algorithms: ['linucb', 'nope' as never] }), /unknown algorithm 'nope'/);
    throwsBandit(() => resolveScenario({ algorithms: ['random', 'random'] }), /twice/);
    throwsBandit(() => resolveScenario({ algorithms: [] }), /non-empty/);
    throwsBandit(() => resolveScenario({ batchSize: 0 }), /batchSize/);
  });

  for (const which of ['cpu', 'gpu'] as const) {
    it(`runs every algorithm end to end on a small world (${which === 'gpu' ? 'webgpu' : 'cpu'} backend) and reports it`, async () => {
      const backend: Backend = backends()[which];
      const stages: string[] = [];
      const epochs: number[] = [];
      let rounds = 0;
      const run = await runScenario(backend, { steps: 100, batchSize: 20, trainingRows: 300, trainingEpochs: 2, window: 20, algorithms: ALGORITHMS }, {
        onStage: (s) => void stages.push(s), onTrainingEpoch: (e) => void epochs.push(e), onProgress: () => void rounds++,
      });
      const names = run.result.policies.map((p) => p.name);
      expect(names).to.deep.equal([
        'LinUCB', 'hybrid LinUCB', 'discounted LinUCB (γ = 0.9995)', 'ε-greedy LinUCB (ε = 0.05)', 'SquareCB (γ = 1000)', 'LinTS (v = 0.05)',
        'NeuralUCB', 'NeuralTS', 'Embedding + MLP (frozen)', 'random', 'oracle',
      ]);
      const n = ALGORITHMS.length;
      expect(run.result.shockStep).to.equal(50);
      expect(rounds).to.equal(5);
      expect(epochs).to.deep.equal([0, 1]);
      expect(run.trainingLosses.length).to.equal(2);
      expect(stages.some((s) => /training Embedding \+ MLP on 300/.test(s))).to.equal(true);
      expect(run.backend).to.equal(backend.info.summary);
      expect(run.world.items).to.equal(50);
      expect(run.result.policies[n - 1]!.totalRegret).to.equal(0);
      for (const p of run.result.policies) expect(p.regretBeforeShock + p.regretAfterShock).to.be.closeTo(p.totalRegret, 1e-9);

      const table = formatResultTable(run.result).split('\n');
      expect(table.length).to.equal(2 + n);
      expect(table[0]).to.match(/^algorithm +regret before shock +regret after shock +total regret +CTR before +CTR after +recovery \(steps\) +time \(s\)$/);
      expect(resultRows(run.result)[n - 1]!.slice(0, 4)).to.deep.equal(['oracle', '0.0', '0.0', '0.0']);
      const html = reportHtml(run, { command: 'webgpu-bandits test' });
      expect(html.match(/<svg /g)?.length).to.equal(3);
      expect(html.match(/class="series"/g)?.length).to.equal(3 * n);
      expect(html.match(/class="marker"/g)?.length).to.equal(3);
      expect(html).to.not.match(/<script|<link |src="http/);
      expect(html).to.include(backend.info.summary.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&#39;'));
      expect(html).to.include('Embedding + MLP (frozen)');
    });
  }

  it('the Embedding + MLP policy is frozen, NeuralUCB learns', async () => {
    const backend = backends().cpu;
    const sim = new EcommerceSimulator({ seed: 13, steps: 200, items: 6, users: 40 });
    const frozen = await embeddingMLPPolicyFor(backend, sim.randomLog(200), { epochs: 1, hidden: [8] });
    const neural = await neuralUCBPolicyFor(backend, sim.shape, { hidden: [8], trainEvery: 10 });
    try {
      const batch = sim.batch(0, 30);
      const before = await frozen.select(batch);
      await frozen.update(batch, before, new Float32Array(30).fill(1));
      expect(Array.from(await frozen.select(batch))).to.deep.equal(Array.from(before));
      const first = await neural.select(batch);
      await neural.update(batch, first, Float32Array.from(first, (a) => (a % 2 ? 1 : 0)));
      expect(first.length).to.equal(30);
      expect(frozen.trainingLosses.length).to.equal(1);
    } finally {
      frozen.dispose();
      neural.dispose();
    }
  });

  it('draws a line chart as SVG: a path a series, NaN gaps, an escaped legend, the marker', () => {
    const svg = lineChartSvg({
      title: 'T <1>', xLabel: 'x', yLabel: 'y', marker: { x: 5, label: 'shock' },
      series: [
        { name: 'a & b', color: '#123456', x: [0, 5, 10], y: [0, 1, 2] },
        { name: 'c', color: '#654321', x: [0, 5, 10], y: [1, NaN, 3] },
      ],
    });
    expect(svg.startsWith('<svg ')).to.equal(true);
    expect(svg.match(/class="series"/g)?.length).to.equal(2);
    expect(svg).to.include('T &lt;1&gt;');
    expect(svg).to.include('a &amp; b');
    expect(svg).to.include('class="marker"');
    // The NaN point lifts the pen: the second path is two moves, no line through the gap.
    const d = /data-name="c" d="([^"]*)"/.exec(svg)![1]!;
    expect(d.match(/M/g)?.length).to.equal(2);
    expect(d).to.not.include('L');
  });
});
