import { expect } from 'chai';
import { LinUCB } from '../../src/index.js';
import {
  bootstrapInterval, dmEstimate, drEstimate, fitRewardModel, ipsEstimate, scoredTarget, selectRows, type EstimatorInput,
} from '../../src/eval/index.js';
import { EcommerceSimulator, FeatureBatch } from '../../src/sim/index.js';
import { cpuBackend } from '../support/fixture.js';
import { rng } from '../support/random.js';

// The estimators on the simulator, where the true value of a policy is known: a fixed stochastic
// target policy π(a|u) (a softmax of seeded scores per user) evaluated on logs of the simulator's
// uniformly random logging policy (μ = 1/K). One long random log is cut into LOGS logs of ROWS
// rows: its rows are independent draws (counter-based), so the pieces are independent logs.
const K = 10, USERS = 200;
const LOGS = 300, ROWS = 400;

interface World {
  /** V(π) = (1/USERS) Σ_u Σ_a π(a|u) p(u, a): users arrive uniformly at random. */
  readonly truth: number;
  readonly logs: EstimatorInput[];
}

function world(): World {
  const sim = new EcommerceSimulator({ seed: 3, items: K, users: USERS, shock: null });
  // The click table by user, read off the stream's batches until every user has arrived once.
  const click = new Float64Array(USERS * K);   // p(click | u, a)
  const seen = new Uint8Array(USERS);
  for (let t = 0, left = USERS; left > 0; t += 1000) {
    const b = sim.batch(t, 1000);
    for (let r = 0; r < b.size; r++) {
      const u = b.users[r]!;
      if (!seen[u]) {
        seen[u] = 1;
        left--;
        click.set(b.clickProbabilities.subarray(r * K, (r + 1) * K), u * K);
      }
    }
  }
  const r = rng(11);
  const target = new Float64Array(USERS * K);   // π(a | u)
  let truth = 0;
  for (let u = 0; u < USERS; u++) {
    let total = 0;
    for (let a = 0; a < K; a++) total += (target[u * K + a] = Math.exp(2 * r()));
    for (let a = 0; a < K; a++) {
      target[u * K + a]! /= total;
      truth += (target[u * K + a]! * click[u * K + a]!) / USERS;
    }
  }
  const log = sim.randomLog(LOGS * ROWS);
  const logs = Array.from({ length: LOGS }, (_, m): EstimatorInput => {
    const from = m * ROWS, to = from + ROWS;
    const targetDistribution = new Float64Array(ROWS * K), estimatedRewards = new Float64Array(ROWS * K);
    for (let j = 0; j < ROWS; j++) {
      const u = log.users[from + j]!;
      targetDistribution.set(target.subarray(u * K, (u + 1) * K), j * K);
      // A misspecified reward model (DR must be unbiased through the propensities, DM is not).
      for (let a = 0; a < K; a++) estimatedRewards[j * K + a] = 0.6 * click[u * K + a]! + 0.05;
    }
    return {
      rewards: log.rewards.subarray(from, to), actions: log.actions.subarray(from, to), propensities: log.propensities.subarray(from, to),
      targetDistribution, estimatedRewards,
    };
  });
  return { truth, logs };
}

/** Mean and standard error of the mean. */
function meanAndError(values: number[]): { mean: number; se: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, se: Math.sqrt(variance / values.length) };
}

describe('eval: estimators on the simulator (known true value)', function () {
  this.timeout(60_000);
  let w: World;
  before(() => {
    w = world();
  });

  it(`IPS and DR are unbiased: their mean over ${LOGS} logs of ${ROWS} rows is within 3 standard errors of V(π); DM with a biased model is not`, () => {
    const check = (name: string, estimates: number[]) => {
      const { mean, se } = meanAndError(estimates);
      return { name, mean, se, z: (mean - w.truth) / se };
    };
    const ips = check('IPS', w.logs.map((l) => ipsEstimate(l)));
    const dr = check('DR', w.logs.map((l) => drEstimate(l)));
    const dm = check('DM', w.logs.map((l) => dmEstimate(l)));
    console.log(`      V(π) = ${w.truth.toFixed(5)}; ${[ips, dr, dm].map((e) => `${e.name} ${e.mean.toFixed(5)} ± ${e.se.toFixed(5)} (z ${e.z.toFixed(2)})`).join(', ')}`);
    expect(Math.abs(ips.z)).to.be.below(3);
    expect(Math.abs(dr.z)).to.be.below(3);
    // The same check has the power to reject: DM carries the reward model's bias (0.6p + 0.05 < p here).
    expect(Math.abs(dm.z)).to.be.above(3);
  });

  // Coverage over LOGS logs is binomial: SE = sqrt(c(1 − c)/LOGS) around the nominal c. The band
  // accepted is c ± 3 SE: [0.912, 0.988] for c = 0.95 and [0.413, 0.587] for c = 0.5 at 300 logs.
  const band = (c: number) => 3 * Math.sqrt((c * (1 - c)) / LOGS);
  for (const confidence of [0.95, 0.5]) {
    it(`DR bootstrap intervals at ${confidence} cover V(π) in ${confidence} ± ${band(confidence).toFixed(3)} of ${LOGS} logs (300 resamples each)`, () => {
      let covered = 0;
      w.logs.forEach((l, m) => {
        const ci = bootstrapInterval(l, { estimator: 'dr', samples: 300, confidence, seed: m + 1 });
        if (ci.lower <= w.truth && w.truth <= ci.upper) covered++;
      });
      const rate = covered / LOGS;
      console.log(`      coverage ${rate.toFixed(3)} (${covered} of ${LOGS})`);
      expect(rate).to.be.within(confidence - band(confidence), confidence + band(confidence));
    });
  }
});

// DM and DR with the library's own cross-fitted reward model (ridge per arm, 2 folds) on logs of
// the simulator, for a target policy learnt elsewhere: ε-greedy (ε = 0.2) over a ridge model
// trained on TRAIN other rows. The truth V(π) = (1/USERS) Σ_u Σ_a π(a|u) p(u, a) is exact.
describe('eval: DM and DR with a fitted reward model on the simulator (known true value)', function () {
  this.timeout(60_000);
  const K5 = 5, USERS5 = 60, TRAIN = 1000, FITTED_LOGS = 60, FITTED_ROWS = 400;

  it(`DR is within 3 SE of V(π) over ${FITTED_LOGS} logs of ${FITTED_ROWS} rows; each log's DR ± 1.96 SE covers V(π) in 95% ± 3 binomial SE of them`, async () => {
    const backend = cpuBackend();
    const sim = new EcommerceSimulator({ seed: 8, items: K5, users: USERS5, shock: null });
    const everyUser = sim.batch(0, 4000);
    const click = new Float64Array(USERS5 * K5), context = new Float32Array(USERS5 * sim.shape.userDim);
    for (let r = 0; r < everyUser.size; r++) {
      const u = everyUser.users[r]!;
      click.set(everyUser.clickProbabilities.subarray(r * K5, (r + 1) * K5), u * K5);
      context.set(everyUser.userFeatures.subarray(r * sim.shape.userDim, (r + 1) * sim.shape.userDim), u * sim.shape.userDim);
    }
    const all = sim.randomLog(TRAIN + FITTED_LOGS * FITTED_ROWS);
    const policyModel = await LinUCB.create(backend, { arms: K5, dim: sim.shape.userDim, alpha: 0 });
    await policyModel.update(all.actions.subarray(0, TRAIN), all.contexts.subarray(0, TRAIN * sim.shape.userDim), all.rewards.subarray(0, TRAIN));
    const target = scoredTarget('ε-greedy ridge', (b) => policyModel.scores(b.userFeatures), { kind: 'epsilon-greedy', epsilon: 0.2 });
    const byUser = await target.distribution(new FeatureBatch(sim.shape, Int32Array.from({ length: USERS5 }, (_, u) => u), context, sim.itemFeatures, sim.hybridItemFeatures));
    policyModel.dispose();
    let truth = 0;
    for (let i = 0; i < USERS5 * K5; i++) truth += (byUser[i]! * click[i]!) / USERS5;

    const dr: number[] = [], dm: number[] = [], ips: number[] = [];
    let covered = 0;
    for (let m = 0; m < FITTED_LOGS; m++) {
      const rows = Int32Array.from({ length: FITTED_ROWS }, (_, j) => TRAIN + m * FITTED_ROWS + j);
      const log = selectRows(all, rows);
      const { estimatedRewards } = await fitRewardModel(backend, log, { model: 'ridge', folds: 2, seed: m });
      const targetDistribution = new Float64Array(FITTED_ROWS * K5);
      for (let j = 0; j < FITTED_ROWS; j++) targetDistribution.set(byUser.subarray(log.users[j]! * K5, (log.users[j]! + 1) * K5), j * K5);
      const input = { rewards: log.rewards, actions: log.actions, propensities: log.propensities, targetDistribution, estimatedRewards };
      const v = drEstimate(input);
      dr.push(v);
      dm.push(dmEstimate(input));
      ips.push(ipsEstimate(input));
      // The log's own standard error: of the mean of DR's per-row terms.
      const terms = Array.from({ length: FITTED_ROWS }, (_, j) => {
        const a = log.actions[j]!, o = j * K5;
        let model = 0;
        for (let b = 0; b < K5; b++) model += targetDistribution[o + b]! * estimatedRewards[o + b]!;
        return model + (targetDistribution[o + a]! / log.propensities[j]!) * (log.rewards[j]! - estimatedRewards[o + a]!);
      });
      const se = meanAndError(terms).se;
      if (Math.abs(v - truth) <= 1.96 * se) covered++;
    }
    const summary = (name: string, values: number[]) => {
      const { mean, se } = meanAndError(values);
      return { name, mean, se, z: (mean - truth) / se };
    };
    const [d, m, i] = [summary('DR', dr), summary('DM', dm), summary('IPS', ips)];
    console.log(`      V(π) = ${truth.toFixed(5)}; ${[d, m, i].map((e) => `${e.name} ${e.mean.toFixed(5)} ± ${e.se.toFixed(5)} (z ${e.z.toFixed(2)})`).join(', ')}; ` +
      `DR's own interval covered V(π) in ${covered} of ${FITTED_LOGS}`);
    expect(Math.abs(d.z)).to.be.below(3);
    const band = 3 * Math.sqrt((0.95 * 0.05) / FITTED_LOGS);
    expect(covered / FITTED_LOGS).to.be.within(0.95 - band, 1);
    // The fitted model earns its keep: DR's spread over logs is below IPS's.
    expect(d.se).to.be.below(i.se);
  });
});
