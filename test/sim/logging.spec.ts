import { expect } from 'chai';
import { BanditError, LinUCB } from '../../src/index.js';
import {
  dmEstimate, drEstimate, fitRewardModel, ipsEstimate, replayEvaluate, scoredTarget, snipsEstimate, type EstimatorInput,
} from '../../src/eval/index.js';
import {
  EcommerceSimulator, epsilonGreedyLinUCBPolicy, linTSPolicy, linUCBPolicy, loggedPropensity, logPolicy, randomPolicy, runHeadToHead,
  type DecisionBatch, type Policy, type PolicyLog,
} from '../../src/sim/index.js';
import { SimRandom } from '../../src/sim/random.js';
import { cpuBackend } from '../support/fixture.js';

/** Mean and standard error of the mean. */
function meanAndError(values: ArrayLike<number>): { mean: number; se: number } {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]! / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (values[i]! - mean) ** 2 / (n - 1);
  return { mean, se: Math.sqrt(v / n) };
}

describe('sim: logged runs carry the propensities the policies reported', function () {
  this.timeout(60_000);
  const K = 5, EPSILON = 0.2, STEPS = 1000;
  const world = () => new EcommerceSimulator({ seed: 4, steps: STEPS, items: K, users: 40, latentDim: 4, userFeatureDim: 4, itemFeatureDim: 4, shock: null });

  it('logs every step through decide: the stream, the clicks, and ε-greedy, uniform, deterministic and Thompson propensities', async () => {
    const backend = cpuBackend();
    const sim = world();
    const M = 64;
    const policies = [
      await epsilonGreedyLinUCBPolicy(backend, sim.shape, { epsilon: EPSILON, seed: 3 }),
      randomPolicy(sim.shape, { seed: 2 }),
      await linUCBPolicy(backend, sim.shape),
      await linTSPolicy(backend, sim.shape, { seed: 5, propensityDraws: M }),
    ];
    try {
      const result = await runHeadToHead(sim, policies, { batchSize: 25, log: true });
      const logs = result.logs!;
      expect(logs.map((l) => l.policy)).to.deep.equal(policies.map((p) => p.name));
      for (const [p, { log }] of logs.entries()) {
        expect(log.length).to.equal(STEPS);
        let clicks = 0;
        for (let t = 0; t < STEPS; t++) {
          expect(log.users[t]).to.equal(sim.userAt(t));
          expect(log.rewards[t]).to.equal(sim.click(t, log.actions[t]!));
          clicks += log.rewards[t]!;
        }
        // The log is the run: the same clicks as the head-to-head counted.
        expect(clicks).to.equal(result.policies[p]!.clicks);
        expect(Array.from(log.contexts.subarray(0, sim.shape.userDim))).to.deep.equal(Array.from(sim.batch(0, 1).userFeatures));
      }
      const [egreedy, random, linucb, lints] = logs as [PolicyLog, PolicyLog, PolicyLog, PolicyLog];
      // ε-greedy: the greedy item 1 − ε + ε/K, any other ε/K (float32 from the model).
      let greedy = 0;
      for (const mu of egreedy.log.propensities) {
        const isGreedy = Math.abs(mu - (1 - EPSILON + EPSILON / K)) < 1e-6;
        expect(isGreedy || Math.abs(mu - EPSILON / K) < 1e-6, `ε-greedy propensity ${mu}`).to.equal(true);
        if (isGreedy) greedy++;
      }
      // The greedy item is logged with probability 1 − ε + ε/K = 0.84: within 4σ (σ = sqrt(n·0.84·0.16) ≈ 11.6).
      expect(greedy).to.be.within(STEPS * 0.84 - 4 * 11.6, STEPS * 0.84 + 4 * 11.6);
      expect(egreedy.propensityDraws).to.equal(null);
      expect(Array.from(new Set(random.log.propensities))).to.deep.equal([1 / K]);
      expect(Array.from(new Set(linucb.log.propensities))).to.deep.equal([1]);
      // Thompson: the Rao–Blackwellised estimate from M = 64 draws, positive, as reported.
      expect(lints.propensityDraws).to.equal(M);
      expect(lints.zeroPropensities).to.equal(0);
      const distinct = new Set<number>();
      for (const mu of lints.log.propensities) {
        expect(mu, `LinTS propensity ${mu}`).to.be.greaterThan(0).and.at.most(1);
        distinct.add(mu);
      }
      // Not a share of M draws: far more distinct values than the M + 1 shares.
      expect(distinct.size).to.be.greaterThan(M + 1);
    } finally {
      for (const p of policies) p.dispose();
    }
  });

  it('uses a policy\'s decide when logging and its select otherwise; refuses a propensity outside [0, 1]', async () => {
    const sim = world();
    let selects = 0;
    const halves: Policy = {
      name: 'halves',
      select: async (b) => (selects++, new Int32Array(b.size).fill(1)),
      decide: async (b) => ({ arms: new Int32Array(b.size).fill(2), propensities: new Float32Array(b.size).fill(0.5) }),
      update: async () => {},
      dispose: () => {},
    };
    const logged = await logPolicy(sim, halves, { batchSize: 100 });
    expect(selects).to.equal(0);
    expect(Array.from(new Set(logged.log.log.actions))).to.deep.equal([2]);
    expect(Array.from(new Set(logged.log.log.propensities))).to.deep.equal([0.5]);
    const plain = await runHeadToHead(sim, [halves], { batchSize: 100 });
    expect(selects).to.equal(10);
    expect(plain.logs).to.equal(undefined);
    const wrong: Policy = { ...halves, decide: async (b) => ({ arms: new Int32Array(b.size), propensities: new Float32Array(b.size).fill(1.5) }) };
    let error: unknown = null;
    await logPolicy(sim, wrong).catch((e) => (error = e));
    expect(error).to.be.instanceOf(BanditError);
    expect((error as Error).message).to.match(/reported propensity 1\.5 \(row 0\)/);
  });

  it('loggedPropensity: exact ones and positive Thompson estimates as given, a 0 estimate as 1/(M + 1); refuses what is not a probability', () => {
    expect(loggedPropensity(0.84, undefined)).to.equal(0.84);
    expect(loggedPropensity(0, 1024)).to.equal(1 / 1025);
    expect(loggedPropensity(0.5, 1024)).to.equal(0.5);
    expect(loggedPropensity(3e-5, 1024)).to.equal(3e-5);
    expect(loggedPropensity(1, 8)).to.equal(1);
    expect(() => loggedPropensity(0, undefined)).to.throw(BanditError, /\(0, 1\]/);
    expect(() => loggedPropensity(0.5, 0)).to.throw(BanditError, /draws/);
    expect(() => loggedPropensity(-0.1, 8)).to.throw(BanditError, /\[0, 1\]/);
    expect(() => loggedPropensity(NaN, 8)).to.throw(BanditError, /\[0, 1\]/);
  });
});

// Off-policy evaluation from a simulated log whose logger is NOT uniform, checked against the
// truth: ε-greedy LinUCB (ε = 0.2, K = 5) or LinTS, learning as they log, log N steps of a
// stationary world; a fixed softmax policy over a ridge model trained on another log is evaluated from it.
// Its true value on those steps is exact, V = (1/N) Σ_t Σ_a π(a|x_t)·p_t(a), and its online run
// on the same simulator (sampling π, the same users) must agree with V within 3 SE.
describe('sim: IPS, DR and replay from logged runs against the target\'s online value', function () {
  this.timeout(120_000);
  const K = 5, N = 6000, EPSILON = 0.2, TEMPERATURE = 0.1;

  // LinTS at v = 2 keeps every item's probability well above 1/M (M = 1024, its default): the
  // log covers the target (see the next test for v = 0.05, which does not).
  for (const logger of ['ε-greedy LinUCB', 'LinTS (v = 2)'] as const) {
    it(`a fixed softmax target evaluated from ${N} steps logged by ${logger}: IPS, SNIPS and DR within 3 SE of V; the uniform-logger assumption is not`, async () => {
      const backend = cpuBackend();
      const sim = new EcommerceSimulator({ seed: 5, steps: N, items: K, users: 60, latentDim: 4, userFeatureDim: 4, itemFeatureDim: 4, shock: null });
      // LinTS with its default M = 1024 propensity draws (Rao–Blackwellised estimates, logged as reported).
      const policy = logger === 'LinTS (v = 2)'
        ? await linTSPolicy(backend, sim.shape, { seed: 9, v: 2 }) : await epsilonGreedyLinUCBPolicy(backend, sim.shape, { epsilon: EPSILON, seed: 9 });
      const { log: logged } = await logPolicy(sim, policy, { batchSize: 25 });
      policy.dispose();
      const log = logged.log;

      // The target: softmax over ridge means fitted on 1000 random-logged rows (the simulator's own random log).
      const train = sim.randomLog(1000);
      const ridge = await LinUCB.create(backend, { arms: K, dim: sim.shape.userDim, alpha: 0 });
      await ridge.update(train.actions, train.contexts, train.rewards);
      const target = scoredTarget('softmax ridge', (b) => ridge.scores(b.userFeatures), { kind: 'softmax', temperature: TEMPERATURE });
      const pi = new Float64Array(N * K);
      let truth = 0;
      for (let t = 0; t < N; t += 500) {
        const batch = sim.batch(t, 500);
        const p = await target.distribution(batch);
        pi.set(p, t * K);
        for (let i = 0; i < p.length; i++) truth += (p[i]! * batch.clickProbabilities[i]!) / N;
      }
      // Its online run on the same simulator: a policy drawing from π (seeded), not learning.
      const draws = new SimRandom(17);
      const online: Policy = {
        name: 'softmax ridge (online)',
        select: async (b: DecisionBatch) => {
          const p = await target.distribution(b);
          return Int32Array.from({ length: b.size }, (_, r) => {
            let u = draws.uniform(), a = 0;
            while (a < K - 1 && (u -= p[r * K + a]!) >= 0) a++;
            return a;
          });
        },
        update: async () => {},
        dispose: () => {},
      };
      const run = await runHeadToHead(sim, [online], { batchSize: 500 });
      const onlineValue = run.policies[0]!.expectedCtr;

      const { estimatedRewards } = await fitRewardModel(backend, log, { model: 'ridge', folds: 2, seed: 1 });
      ridge.dispose();
      const input: EstimatorInput = { rewards: log.rewards, actions: log.actions, propensities: log.propensities, targetDistribution: pi, estimatedRewards };
      const ipsTerms = new Float64Array(N), drTerms = new Float64Array(N), naiveTerms = new Float64Array(N);
      for (let i = 0; i < N; i++) {
        const a = log.actions[i]!, o = i * K;
        const w = pi[o + a]! / log.propensities[i]!;
        ipsTerms[i] = w * log.rewards[i]!;
        naiveTerms[i] = pi[o + a]! * K * log.rewards[i]!;
        let model = 0;
        for (let b = 0; b < K; b++) model += pi[o + b]! * estimatedRewards[o + b]!;
        drTerms[i] = model + w * (log.rewards[i]! - estimatedRewards[o + a]!);
      }
      const ips = meanAndError(ipsTerms), dr = meanAndError(drTerms), naive = meanAndError(naiveTerms);
      expect(ipsEstimate(input)).to.be.closeTo(ips.mean, 1e-12);
      expect(drEstimate(input)).to.be.closeTo(dr.mean, 1e-12);
      const snips = snipsEstimate(input), dm = dmEstimate(input);
      const z = (v: number, se: number) => (v - truth) / se;
      console.log(`      V(π) = ${truth.toFixed(4)}, online run ${onlineValue.toFixed(4)}; from the ${logger} log (${logged.zeroPropensities} zero estimates): IPS ${ips.mean.toFixed(4)} ± ${ips.se.toFixed(4)} (z ${z(ips.mean, ips.se).toFixed(2)}), ` +
        `SNIPS ${snips.toFixed(4)}, DR ${dr.mean.toFixed(4)} ± ${dr.se.toFixed(4)} (z ${z(dr.mean, dr.se).toFixed(2)}), DM ${dm.toFixed(4)}; ` +
        `IPS with propensities 1/K ${naive.mean.toFixed(4)} (z ${z(naive.mean, naive.se).toFixed(2)})`);
      // The online run samples π on the same users: its mean click probability is V up to the draws' noise (SE ≤ 0.5/√N).
      expect(Math.abs(onlineValue - truth)).to.be.below(3 * 0.5 / Math.sqrt(N));
      expect(Math.abs(z(ips.mean, ips.se))).to.be.below(3);
      expect(Math.abs(z(dr.mean, dr.se))).to.be.below(3);
      expect(Math.abs(snips - truth)).to.be.below(3 * ips.se);
      // The same estimator on the same rows with an assumed uniform logger is far off: the propensities matter.
      expect(Math.abs(z(naive.mean, naive.se))).to.be.above(3);
    });
  }

  // Thompson sampling concentrates: at the head-to-head's v = 0.05 the other items' probabilities
  // fall far below 1/N and they are (almost) never logged, so no estimator can see a target's mass
  // there. The overlap diagnostic says so: the mean importance weight of the uniform target,
  // (1/N) Σ (1/K)/μ_i, has expectation Σ_a 1/K = 1 exactly when every item has μ > 0, and falls
  // short by the target mass outside the log's support (up to the M-draw estimates' noise).
  it('a LinTS log at v = 0.05 does not cover the items it stopped playing: the uniform target\'s mean weight is far below 1 (v = 2: within 3 SE of 1)', async () => {
    const backend = cpuBackend();
    const meanWeight = async (v: number) => {
      const sim = new EcommerceSimulator({ seed: 5, steps: N, items: K, users: 60, latentDim: 4, userFeatureDim: 4, itemFeatureDim: 4, shock: null });
      const policy = await linTSPolicy(backend, sim.shape, { seed: 9, v });
      const { log } = await logPolicy(sim, policy, { batchSize: 25 });
      policy.dispose();
      return meanAndError(Array.from(log.log.propensities, (mu) => 1 / K / mu));
    };
    const narrow = await meanWeight(0.05), wide = await meanWeight(2);
    console.log(`      mean weight of the uniform target: v = 0.05 ${narrow.mean.toFixed(3)} ± ${narrow.se.toFixed(3)}, v = 2 ${wide.mean.toFixed(3)} ± ${wide.se.toFixed(3)}`);
    expect(narrow.mean).to.be.below(0.5);
    expect(Math.abs(wide.mean - 1)).to.be.below(3 * wide.se);
  });

  it(`replay of a fixed greedy target on the ${N} ε-greedy-logged steps keeps a share c = ε/K of the rows (rejection sampling) and their mean is V within 3 SE`, async () => {
    const backend = cpuBackend();
    const sim = new EcommerceSimulator({ seed: 6, steps: N, items: K, users: 60, latentDim: 4, userFeatureDim: 4, itemFeatureDim: 4, shock: null });
    const logger = await epsilonGreedyLinUCBPolicy(backend, sim.shape, { epsilon: EPSILON, seed: 2 });
    const { log: { log } } = await logPolicy(sim, logger, { batchSize: 25 });
    logger.dispose();
    const train = sim.randomLog(1000);
    const ridge = await LinUCB.create(backend, { arms: K, dim: sim.shape.userDim, alpha: 0 });
    await ridge.update(train.actions, train.contexts, train.rewards);
    const greedy: Policy = { name: 'greedy ridge', select: (b) => ridge.select(b.userFeatures), update: async () => {}, dispose: () => {} };
    let truth = 0;
    for (let t = 0; t < N; t += 500) {
      const batch = sim.batch(t, 500);
      const arms = await greedy.select(batch);
      arms.forEach((a, r) => (truth += batch.clickProbabilities[r * K + a]! / N));
    }
    const r = await replayEvaluate(log, greedy, { batchSize: 500, seed: 4 });
    const all = await replayEvaluate(log, greedy, { batchSize: 500, acceptance: 'matched' });
    ridge.dispose();
    // Every row is kept with probability μ(a|x)·c/μ(a|x) = c, c the smallest logged propensity (ε/K in float32).
    const c = r.acceptanceScale;
    expect(c).to.be.closeTo(EPSILON / K, 1e-6);
    const sd = Math.sqrt(N * c * (1 - c));
    expect(r.accepted).to.be.within(N * c - 4 * sd, N * c + 4 * sd);
    expect(r.matched).to.equal(all.matched);
    expect(all.accepted).to.equal(all.matched);
    const se = Math.sqrt((truth * (1 - truth)) / r.accepted);
    console.log(`      V(greedy) = ${truth.toFixed(4)}; replay kept ${r.accepted} of ${r.matched} matched rows (expected ${(N * c).toFixed(0)} ± ${sd.toFixed(0)}): ` +
      `${r.replayCtr.toFixed(4)} ± ${se.toFixed(4)}; every matched row kept (the uniform-logger method): ${all.replayCtr.toFixed(4)}`);
    expect(Math.abs(r.replayCtr - truth)).to.be.below(3 * se);
    // Keeping every matched row over-represents the logger's favourites: biased beyond 3 of its own SE here.
    expect(Math.abs(all.replayCtr - truth)).to.be.above(3 * Math.sqrt((truth * (1 - truth)) / all.accepted));
  });
});
