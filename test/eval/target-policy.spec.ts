import { expect } from 'chai';
import { BanditError } from '../../src/index.js';
import { decidedTarget, FeatureBatch, ipsEstimate, replicateRows, type DecisionBatch } from '../../src/eval/index.js';
import { EcommerceSimulator } from '../../src/sim/index.js';
import { SimRandom } from '../../src/sim/random.js';

/** Mean and standard error of the mean. */
function meanAndError(values: number[]): { mean: number; se: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const variance = values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1);
  return { mean, se: Math.sqrt(variance / values.length) };
}

/** Draws one arm a row from π(·|user) (K a row), by a seeded generator: a randomised select. */
function sampler(pi: Float64Array, k: number, seed: number): { select: (b: DecisionBatch) => Promise<Int32Array>; batches: number[] } {
  const r = new SimRandom(seed);
  const batches: number[] = [];
  return {
    batches,
    select: async (b) => {
      batches.push(b.size);
      return Int32Array.from({ length: b.size }, (_, row) => {
        const o = b.users[row]! * k;
        let u = r.uniform(), a = 0;
        while (a < k - 1 && (u -= pi[o + a]!) >= 0) a++;
        return a;
      });
    },
  };
}

describe('eval: decidedTarget', () => {
  const shape = { arms: 3, users: 4, userDim: 2, itemDim: 1, hybridItemDim: 1 };
  const batch = new FeatureBatch(shape, Int32Array.of(0, 3), Float32Array.of(1, 2, 3, 4), Float32Array.of(0, 1, 2), Float32Array.of(0, 1, 2));

  it('replicates each row M times for one call, and counts each row\'s M draws', async () => {
    const copies = replicateRows(batch, 3);
    expect(Array.from(copies.users)).to.deep.equal([0, 0, 0, 3, 3, 3]);
    expect(Array.from(copies.userFeatures)).to.deep.equal([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
    let calls = 0;
    // Copy j of a row picks arm j mod 3 for user 0, arm 2 always for user 3.
    const target = decidedTarget('fixed', async (b) => {
      calls++;
      return Int32Array.from({ length: b.size }, (_, i) => (b.users[i] === 0 ? (i % 4) % 3 : 2));
    }, { draws: 4, replicate: true });
    const pi = await target.distribution(batch);
    expect(calls).to.equal(1);
    // User 0's copies are i = 0..3: arms 0, 1, 2, 0 → [0.5, 0.25, 0.25]; user 3 → [0, 0, 1].
    expect(Array.from(pi)).to.deep.equal([0.5, 0.25, 0.25, 0, 0, 1]);
    expect(() => decidedTarget('x', async (b) => new Int32Array(b.size), { draws: 2, replicate: 'yes' as never })).to.throw(BanditError, /replicate/);
  });

  // The claim of decidedTarget's documentation: π̂ from M draws is 0 for the arms far below 1/M,
  // and IPS on π̂ is still unbiased. A fixed policy with known π — per user a softmax with a few
  // arms at ~1e-3 — is evaluated on one uniformly logged simulator log, with π̂ from M = 4 draws
  // made afresh R times; the mean of those IPS values must be the IPS with the exact π within 3 SE.
  it('IPS on π̂ from M = 4 draws: zeros for the rare arms, and unbiased (the mean over 300 draws of π̂ is the exact-π IPS within 3 SE)', async () => {
    const K = 8, USERS = 50, ROWS = 3000, M = 4, R = 300;
    const sim = new EcommerceSimulator({ seed: 7, items: K, users: USERS, shock: null });
    const log = sim.randomLog(ROWS);
    const g = new SimRandom(5);
    const byUser = new Float64Array(USERS * K);
    for (let u = 0; u < USERS; u++) {
      let total = 0;
      for (let a = 0; a < K; a++) total += (byUser[u * K + a] = a < 3 ? Math.exp(-7 + g.uniform()) : Math.exp(2 * g.uniform()));
      for (let a = 0; a < K; a++) byUser[u * K + a]! /= total;
    }
    const exact = new Float64Array(ROWS * K);
    for (let i = 0; i < ROWS; i++) exact.set(byUser.subarray(log.users[i]! * K, (log.users[i]! + 1) * K), i * K);
    const input = { rewards: log.rewards, actions: log.actions, propensities: log.propensities };
    const truth = ipsEstimate({ ...input, targetDistribution: exact });
    const { select, batches } = sampler(byUser, K, 11);
    const target = decidedTarget('softmax', select, { draws: M, replicate: true });
    const rows = new FeatureBatch(log.shape, log.users, log.contexts, log.itemFeatures, log.hybridItemFeatures);
    const estimates: number[] = [];
    let rareZero = 0, rareLogged = 0;
    for (let rep = 0; rep < R; rep++) {
      const pi = await target.distribution(rows);
      estimates.push(ipsEstimate({ ...input, targetDistribution: pi }));
      if (rep === 0) {
        for (let i = 0; i < ROWS; i++) {
          if (log.actions[i]! < 3) {
            rareLogged++;
            if (pi[i * K + log.actions[i]!] === 0) rareZero++;
          }
        }
      }
    }
    expect(batches.every((b) => b === ROWS * M)).to.equal(true);
    const { mean, se } = meanAndError(estimates);
    console.log(`      exact-π IPS ${truth.toFixed(5)}; π̂ (M = ${M}) IPS over ${R} draws ${mean.toFixed(5)} ± ${se.toFixed(5)} (z ${((mean - truth) / se).toFixed(2)}); ` +
      `the rare arms' π̂ was 0 on ${rareZero} of the ${rareLogged} rows that logged one`);
    expect(rareZero / rareLogged).to.be.above(0.95);
    expect(Math.abs(mean - truth)).to.be.below(3 * se);
    // The check has power: π̂ moves IPS by more than its SE from draw to draw.
    expect(Math.max(...estimates) - Math.min(...estimates)).to.be.above(3 * se);
  });
});
