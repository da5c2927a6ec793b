import { expect } from 'chai';
import { BanditError, LinUCB, type Backend } from '../../src/index.js';
import {
  EcommerceSimulator, defaultPolicies, epsilonGreedyLinUCBPolicy, hybridLinUCBPolicy, linTSPolicy, linUCBPolicy, newItemShare, oraclePolicy, randomPolicy, resolveScenario,
  runDelaySweep, runHeadToHead, runScenario, DEFAULT_ALGORITHMS, formatDelaySweep, delaySweepHtml,
  type DecisionBatch, type EcommerceSimulatorOptions, type Policy, type PolicyDecision, type TrainedModels,
} from '../../src/sim/index.js';
import { neuralUCBPolicyFor } from '../../src/sim/policies/neuralucb.js';
import { embeddingMLPPolicyFor } from '../../src/sim/policies/embedding-mlp.js';
import { backends } from '../support/fixture.js';

/** A small shop: 8 items, 4 more at step 150 (the middle of round 7 of 20-user rounds), items out of stock often. */
const WORLD: EcommerceSimulatorOptions = {
  seed: 3, steps: 400, items: 8, categories: 2, users: 100, latentDim: 4, userFeatureDim: 4, itemFeatureDim: 4, shock: null,
  newCollection: { step: 150, items: 4, boost: 1 }, stockOuts: { share: 0.3, meanLength: 30 },
};
const BATCH = 20;

function throwsBandit(f: () => unknown, pattern: RegExp): void {
  expect(f).to.throw(BanditError, pattern);
}

/** A policy that records what the runner asks of it, around a real one. */
function spy(inner: Policy) {
  const calls = { ks: [] as number[], added: [] as [number, number][], rewards: [] as string[][], decided: [] as string[][] };
  let round = 0;
  const policy: Policy = {
    name: inner.name,
    select: async (b) => {
      calls.ks.push(b.shape.arms);
      round++;
      return inner.select(b);
    },
    ...(inner.decide ? {
      decide: async (b: DecisionBatch): Promise<PolicyDecision> => {
        calls.ks.push(b.shape.arms);
        round++;
        const d = await inner.decide!(b);
        if (d.eventIds) calls.decided.push([...d.eventIds]);
        return d;
      },
    } : {}),
    update: (b, c, r) => inner.update(b, c, r),
    ...(inner.reward ? { reward: async (ids: readonly string[], r: Float32Array) => { calls.rewards.push([...ids]); await inner.reward!(ids, r); } } : {}),
    ...(inner.addArms ? { addArms: async (n: number) => { calls.added.push([round, n]); await inner.addArms!(n); } } : {}),
    dispose: () => inner.dispose(),
  };
  return { policy, calls };
}

describe('sim: a changing catalogue and late clicks', function () {
  this.timeout(300_000);

  it('the new collection joins at its step; the rest of the world is the world without it', () => {
    const sim = new EcommerceSimulator(WORLD);
    const plain = new EcommerceSimulator({ ...WORLD, newCollection: null, stockOuts: null });
    expect(sim.shape.arms).to.equal(8);
    expect(sim.allItemsShape.arms).to.equal(12);
    expect([sim.catalogueSize(149), sim.catalogueSize(150)]).to.deep.equal([8, 12]);
    expect(Array.from(sim.userFeatures)).to.deep.equal(Array.from(plain.userFeatures));
    expect(Array.from(sim.itemFeatures.subarray(0, 8 * 6))).to.deep.equal(Array.from(plain.itemFeatures));
    const before = sim.batch(100, 40), after = sim.batch(200, 40), across = sim.batch(140, 20);
    expect([before.shape.arms, after.shape.arms, across.shape.arms]).to.deep.equal([8, 12, 12]);
    const flat = plain.batch(200, 40);
    let newBetter = 0;
    for (let r = 0; r < 40; r++) {
      for (let i = 0; i < 8; i++) expect(after.clickProbabilities[r * 12 + i]).to.equal(flat.clickProbabilities[r * 8 + i]);
      newBetter += Math.max(...after.clickProbabilities.subarray(r * 12 + 8, r * 12 + 12)) > Math.max(...flat.clickProbabilities.subarray(r * 8, r * 8 + 8)) ? 1 : 0;
    }
    // A logit boost of 1: for many users one of the four new items is the best of all.
    expect(newBetter).to.be.within(5, 39);
    // A batch across the arrival: the rows before step 150 cannot be shown a new item.
    for (let r = 0; r < 20; r++) {
      for (let i = 8; i < 12; i++) expect(across.eligible![r * 12 + i]).to.equal(140 + r < 150 ? 0 : sim.inStock(140 + r, i) ? 1 : 0);
      expect(across.optimal[r]! < 8 || 140 + r >= 150).to.equal(true);
    }
    // The log of a random policy stays in the catalogue of step 0.
    const log = sim.randomLog(50);
    expect(log.itemFeatures.length).to.equal(8 * 6);
    expect(Math.max(...log.actions)).to.be.below(8);
  });

  it('items go out of stock for stretches and come back; the best item is the best in stock', () => {
    const sim = new EcommerceSimulator({ ...WORLD, steps: 4000, newCollection: null });
    const b = sim.batch(0, 4000);
    let out = 0, stretches = 0;
    for (let i = 0; i < 8; i++) {
      let was = true;
      for (let t = 0; t < 4000; t++) {
        const e = b.eligible![t * 8 + i] === 1;
        expect(e).to.equal(sim.inStock(t, i) || Array.from({ length: 8 }, (_, j) => sim.inStock(t, j)).every((x) => !x));
        if (!e) out++;
        if (!e && was) stretches++;
        was = e;
      }
    }
    // share 0.3 in stretches of mean 30: about 0.3 of 32,000 item-steps, ~ 0.3·32000/30 = 320 stretches.
    expect(out / 32000).to.be.within(0.22, 0.38);
    expect(stretches).to.be.within(200, 450);
    for (let t = 0; t < 4000; t++) {
      const p = b.clickProbabilities.subarray(t * 8, t * 8 + 8);
      let best = -1;
      for (let i = 0; i < 8; i++) if (b.eligible![t * 8 + i] && (best < 0 || p[i]! > p[best]!)) best = i;
      expect(b.optimal[t]).to.equal(best);
    }
    expect(Array.from(sim.regret(b, b.optimal))).to.deep.equal(new Array(4000).fill(0));
    // A function of the seed, item by item.
    const again = new EcommerceSimulator({ ...WORLD, steps: 4000, newCollection: null }).batch(0, 4000);
    expect(Array.from(again.eligible!)).to.deep.equal(Array.from(b.eligible!));
  });

  it('refuses bad catalogue and delay options with BanditError', () => {
    throwsBandit(() => new EcommerceSimulator({ steps: 100, newCollection: { step: 101 } }), /newCollection\.step/);
    throwsBandit(() => new EcommerceSimulator({ newCollection: { items: 0 } }), /newCollection\.items/);
    throwsBandit(() => new EcommerceSimulator({ newCollection: { boost: NaN } }), /newCollection\.boost/);
    throwsBandit(() => new EcommerceSimulator({ stockOuts: { share: 0.95 } }), /stockOuts\.share/);
    throwsBandit(() => new EcommerceSimulator({ stockOuts: { meanLength: 0.5 } }), /stockOuts\.meanLength/);
    throwsBandit(() => resolveScenario({ rewardDelay: -1 }), /rewardDelay/);
    throwsBandit(() => resolveScenario({ steps: 100, newCollection: { step: 200 } }), /scenario: newCollection\.step/);
    throwsBandit(() => new EcommerceSimulator(WORLD).clickDelay(3, -2), /mean/);
  });

  it('the event adds arms to every policy at the right round; NeuralUCB sees K grow', async () => {
    const backend: Backend = backends().cpu;
    const sim = new EcommerceSimulator(WORLD);
    const log = sim.randomLog(400);
    const spies = [
      spy(await linUCBPolicy(backend, sim.shape)),
      spy(await linTSPolicy(backend, sim.shape, { seed: 2 })),
      spy(await neuralUCBPolicyFor(backend, sim.shape, { hidden: [8] })),
      spy(await embeddingMLPPolicyFor(backend, log, { epochs: 1 })),
      spy(randomPolicy(sim.shape, { seed: 4 })),
      spy(oraclePolicy()),
      spy(await hybridLinUCBPolicy(backend, sim.shape)),
    ];
    try {
      const result = await runHeadToHead(sim, spies.map((s) => s.policy), { batchSize: BATCH, window: 40, rewardDelay: 2 });
      // Step 150 is in round 7 (steps 140..159): the catalogue grows before it, for everyone at once.
      expect(result.catalogueEvents).to.deep.equal([{ round: 7, step: 140, added: 4 }]);
      for (const [i, s] of spies.entries()) {
        expect(s.calls.ks).to.deep.equal(Array.from({ length: 20 }, (_, r) => (r < 7 ? 8 : 12)));
        // The models with per-item state learn of the items through addArms / addItems before round 7 decides.
        if (i < 2 || i === 3 || i === 6) expect(s.calls.added, s.policy.name).to.deep.equal([[7, 4]]);
        else expect(s.policy.addArms).to.equal(undefined);
        const shown = result.policies[i]!.shown;
        for (let t = 0; t < 150; t++) expect(shown[t]).to.be.below(8);
      }
      // Every learner shows a new item at some point after the arrival.
      for (const i of [0, 1, 2, 4, 5, 6]) expect(Math.max(...result.policies[i]!.shown.subarray(150))).to.be.at.least(8);
    } finally {
      for (const s of spies) s.policy.dispose();
    }
  });

  it('no policy ever shows an item out of stock, and the runner refuses one that does', async () => {
    const backend: Backend = backends().cpu;
    const options = { ...WORLD, stockOuts: { share: 0.6, meanLength: 15 } };
    const scenario = resolveScenario({ steps: WORLD.steps!, algorithms: DEFAULT_ALGORITHMS, trainingRows: 300, trainingEpochs: 1, batchSize: BATCH });
    const sim = new EcommerceSimulator(options);
    const policies = await defaultPolicies(backend, sim, { ...scenario, rewardDelay: 1 });
    try {
      const result = await runHeadToHead(sim, policies, { batchSize: BATCH, window: 40, rewardDelay: 1 });
      let limited = 0;
      for (const p of result.policies) {
        for (let t = 0; t < WORLD.steps!; t++) {
          const item = p.shown[t]!;
          expect(item, `${p.name} at step ${t}`).to.be.below(sim.catalogueSize(t));
          const anyInStock = Array.from({ length: sim.catalogueSize(t) }, (_, i) => sim.inStock(t, i)).some((x) => x);
          if (anyInStock) expect(sim.inStock(t, item), `${p.name} showed item ${item} at step ${t}`).to.equal(true);
          if (!anyInStock) limited++;
        }
      }
      // Where the whole catalogue is out of stock it all counts as in stock (rare even at share 0.6).
      expect(limited).to.be.below(0.05 * WORLD.steps! * result.policies.length);
    } finally {
      for (const p of policies) p.dispose();
    }
    const stubborn: Policy = { name: 'item 0', select: async (b) => new Int32Array(b.size), update: async () => {}, dispose: () => {} };
    let error: unknown = null;
    await runHeadToHead(new EcommerceSimulator(options), [stubborn], { batchSize: BATCH }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(BanditError);
    expect((error as Error).message).to.match(/item 0 at step \d+, which cannot be shown there/);
  });

  it('delayed rewards arrive late, in arrival order, each exactly once, none lost at the end', async () => {
    const backend: Backend = backends().cpu;
    const sim = new EcommerceSimulator(WORLD);
    const model = await LinUCB.create(backend, { arms: sim.shape.arms, dim: sim.shape.userDim, alpha: 0.5 });
    const stepOf = new Map<string, number>();
    let rounds = 0;
    const received: { round: number; ids: string[] }[] = [];
    const policy: Policy = {
      name: 'LinUCB by hand',
      select: () => { throw new Error('a delayed run decides through decide'); },
      decide: async (b) => {
        const d = await model.decide(b.userFeatures, b.eligible ? { eligible: b.eligible } : {});
        d.eventIds.forEach((id, r) => stepOf.set(id, rounds * BATCH + r));
        rounds++;
        return d;
      },
      update: () => { throw new Error('a policy with reward gets no update'); },
      reward: async (ids, r) => { received.push({ round: rounds - 1, ids: [...ids] }); await model.reward(ids, r); },
      addArms: async (n) => void (await model.addArms(n)),
      dispose: () => model.dispose(),
    };
    const mean = 3;
    try {
      const result = await runHeadToHead(sim, [policy], { batchSize: BATCH, rewardDelay: mean });
      const all = received.flatMap((r) => r.ids);
      expect(all.length).to.equal(WORLD.steps);
      expect(new Set(all).size).to.equal(WORLD.steps);
      expect(result.policies[0]!.rewardsDelivered).to.equal(WORLD.steps);
      const rewards = model.diagnostics().rewards;
      expect(rewards.pending).to.equal(0);
      expect(rewards.rewarded).to.equal(WORLD.steps);
      let outOfOrder = 0, tail = 0;
      for (const { round, ids } of received) {
        const arrivals = ids.map((id) => {
          const t = stepOf.get(id)!, d = sim.clickDelay(t, mean);
          const due = Math.floor(t / BATCH) + d;
          if (due >= 20) tail++;
          else expect(due, `step ${t}`).to.equal(round);
          return [t + d * BATCH, t] as const;
        });
        for (let j = 1; j < arrivals.length; j++) {
          const [a, t] = arrivals[j]!, [pa, pt] = arrivals[j - 1]!;
          expect(a > pa || (a === pa && t > pt), 'arrival order').to.equal(true);
          if (t < pt) outOfOrder++;
        }
      }
      expect(outOfOrder).to.be.greaterThan(0);
      // The clicks due after the last round are given after it: the last call holds them all.
      expect(tail).to.be.greaterThan(0);
      expect(received[received.length - 1]!.ids.length).to.be.at.least(tail);
    } finally {
      policy.dispose();
    }
  });

  for (const which of ['cpu', 'gpu'] as const) {
    it(`with delay 0 a run equals the run without delays, bit for bit (${which === 'gpu' ? 'webgpu' : 'cpu'} backend)`, async () => {
      const backend: Backend = backends()[which];
      const make = async (sim: EcommerceSimulator): Promise<Policy[]> => [
        await linUCBPolicy(backend, sim.shape),
        await epsilonGreedyLinUCBPolicy(backend, sim.shape, { seed: 5 }),
        await linTSPolicy(backend, sim.shape, { seed: 5, propensityDraws: 4 }),
        ...(which === 'cpu' ? [await neuralUCBPolicyFor(backend, sim.shape, { hidden: [8] })] : []),
        randomPolicy(sim.shape, { seed: 5 }),
        oraclePolicy(),
      ];
      const run = async (rewardDelay: number | null) => {
        const sim = new EcommerceSimulator({ ...WORLD, steps: which === 'cpu' ? 400 : 200 });
        const policies = await make(sim);
        try {
          return await runHeadToHead(sim, policies, { batchSize: BATCH, rewardDelay });
        } finally {
          for (const p of policies) p.dispose();
        }
      };
      const [plain, zero, late] = [await run(null), await run(0), await run(5)];
      for (const [i, p] of plain.policies.entries()) {
        expect(Array.from(zero.policies[i]!.shown), p.name).to.deep.equal(Array.from(p.shown));
        expect(Array.from(zero.policies[i]!.stepRegret), p.name).to.deep.equal(Array.from(p.stepRegret));
        expect(zero.policies[i]!.totalRegret).to.equal(p.totalRegret);
      }
      // A delay changes what the learners see (and so what they show), not the reference policies.
      expect(Array.from(late.policies[0]!.shown)).to.not.deep.equal(Array.from(plain.policies[0]!.shown));
      expect(late.policies[late.policies.length - 1]!.totalRegret).to.equal(0);
    });
  }

  it('fair share by hand: the new items\' share of impressions against the oracle\'s, and the rounds to reach it', () => {
    // Steps 0..5, items ≥ 2 new, arriving at step 2, windows of 2, rounds of 2 steps.
    // shown new: steps 2..5 → 0, 1, 1, 1; the oracle's best is new at steps 2, 3, 4 (not 5).
    const shown = [0, 1, 0, 2, 2, 3], optimal = [1, 1, 2, 2, 3, 0];
    const s = newItemShare(shown, optimal, { firstNewItem: 2, from: 2, window: 2, tolerance: 0.2, batchSize: 2 });
    expect(Array.from(s.windowEnds)).to.deep.equal([4, 6]);
    expect(Array.from(s.share)).to.deep.equal([0.5, 1]);
    expect(Array.from(s.fairShare)).to.deep.equal([1, 0.5]);
    expect([s.shareAfter, s.fairShareAfter]).to.deep.equal([0.75, 0.75]);
    // Trailing windows: steps 2–3: 1 of 2 fair (1 < 0.8·2); steps 3–4: 2 ≥ 0.8·2 → reached at step 4: 3 steps, rounds 1 and 2.
    expect([s.stepsToFairShare, s.roundsToFairShare]).to.deep.equal([3, 2]);
    // Without tolerance, and a policy that never shows a new item.
    expect(newItemShare(shown, optimal, { firstNewItem: 2, from: 2, window: 2, tolerance: 0, batchSize: 2 }).stepsToFairShare).to.equal(3);
    const never = newItemShare([0, 0, 0, 0, 0, 0], optimal, { firstNewItem: 2, from: 2, window: 2, tolerance: 0.2, batchSize: 2 });
    expect([never.shareAfter, never.stepsToFairShare, never.roundsToFairShare]).to.deep.equal([0, null, null]);
    // A trailing window whose fair share is 0 has nothing to reach: steps 2–3 here, so steps 3–4 (1 of 1).
    const empty = newItemShare([0, 0, 0, 0, 2, 0], [0, 0, 0, 0, 2, 2], { firstNewItem: 2, from: 2, window: 2, tolerance: 0.2, batchSize: 2 });
    expect([empty.stepsToFairShare, empty.roundsToFairShare]).to.deep.equal([3, 2]);
    // The last window may be shorter; the arrival in the middle of a round counts that round.
    const odd = newItemShare([0, 0, 0, 5, 5, 5, 5], [0, 0, 0, 5, 5, 0, 5], { firstNewItem: 5, from: 3, window: 3, tolerance: 0.2, batchSize: 2 });
    expect(Array.from(odd.share)).to.deep.equal([1, 1]);
    expect(Array.from(odd.fairShare).map((v) => v.toFixed(4))).to.deep.equal([(2 / 3).toFixed(4), '1.0000']);
    expect([odd.stepsToFairShare, odd.roundsToFairShare]).to.deep.equal([3, 2]);
    throwsBandit(() => newItemShare([0, 1], [0], { firstNewItem: 1, from: 0, window: 1, tolerance: 0.2, batchSize: 1 }), /one each a step/);
    throwsBandit(() => newItemShare([0, 1], [0, 1], { firstNewItem: 1, from: 0, window: 0, tolerance: 0.2, batchSize: 1 }), /window/);
    throwsBandit(() => newItemShare([0, 1], [0, 1], { firstNewItem: 1, from: 0, window: 1, tolerance: 1, batchSize: 1 }), /tolerance/);
  });

  it('is deterministic: the same seed gives the same numbers, with a catalogue and late clicks', async () => {
    const backend: Backend = backends().cpu;
    const options = {
      steps: 300, batchSize: BATCH, window: 40, shockAt: null, algorithms: ['linucb', 'lints', 'random', 'oracle'] as const,
      newCollection: { step: 100, items: 5 }, stockOuts: { share: 0.2, meanLength: 40 }, rewardDelay: 2,
    };
    const [a, b, c] = [await runScenario(backend, options), await runScenario(backend, options), await runScenario(backend, { ...options, seed: 2 })];
    const figures = (r: typeof a) => r.result.policies.map((p) => [p.totalRegret, p.clicks, Array.from(p.shown), p.newItems!.shareAfter, p.newItems!.roundsToFairShare]);
    expect(figures(a)).to.deep.equal(figures(b));
    expect(figures(a)).to.not.deep.equal(figures(c));
    expect(a.result.policies[3]!.newItems!.shareAfter).to.equal(a.result.policies[3]!.newItems!.fairShareAfter);
  });

  it('a trained Embedding + MLP kept in hooks.trained is loaded, not trained again, and decides the same', async () => {
    const backend: Backend = backends().cpu;
    const trained: TrainedModels = new Map();
    const options = {
      steps: 200, batchSize: BATCH, shockAt: null, algorithms: ['embedding'] as const, trainingRows: 300, trainingEpochs: 2,
      newCollection: { step: 100, items: 3 }, stockOuts: {},
    };
    const stages: string[] = [];
    const a = await runScenario(backend, options, { trained, onStage: (s) => stages.push(s) });
    const b = await runScenario(backend, { ...options, rewardDelay: 3 }, { trained, onStage: (s) => stages.push(s) });
    expect(trained.size).to.equal(1);
    expect(stages.filter((s) => /^training/.test(s)).length).to.equal(1);
    expect(Array.from(b.result.policies[0]!.shown)).to.deep.equal(Array.from(a.result.policies[0]!.shown));
    expect(b.trainingLosses).to.deep.equal(a.trainingLosses);
    // Another world is trained anew.
    await runScenario(backend, { ...options, seed: 2 }, { trained });
    expect(trained.size).to.equal(2);
  });

  it('sweeps the delays over seeds and reports the fair share and the regret they add', async () => {
    const backend: Backend = backends().cpu;
    const sweep = await runDelaySweep(backend, {
      steps: 200, batchSize: BATCH, window: 40, shockAt: null, algorithms: ['linucb', 'random', 'oracle'],
      newCollection: { step: 100, items: 3 }, stockOuts: {},
    }, { seeds: 2, delays: [0, 4] });
    expect(sweep.seeds).to.deep.equal([1, 2]);
    expect(sweep.levels.length).to.equal(2);
    const [linucb, random, oracle] = sweep.effects;
    expect(linucb!.effects[0]!.delay).to.equal(4);
    // Nothing that does not learn changes with the delay.
    expect([random!.effects[0]!.mean, oracle!.effects[0]!.mean]).to.deep.equal([0, 0]);
    const o = sweep.levels[1]!.policies[2]!.newItems!;
    expect(o.shareAfter.mean).to.equal(o.fairShareAfter.mean);
    const text = formatDelaySweep(sweep);
    expect(text).to.match(/rounds to fair share \(delay 4\)/);
    expect(text).to.match(/delay 4: regret, added/);
    const html = delaySweepHtml(sweep, { command: 'test' });
    expect(html.match(/<svg/g)!.length).to.equal(3);
    expect(html).to.match(/fair share/);
    let error: unknown = null;
    await runDelaySweep(backend, {}, { delays: [0, 0] }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(BanditError);
  });
});
