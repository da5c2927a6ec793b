import { expect } from 'chai';
import { BanditError } from '../../src/index.js';
import { replayAcceptance, replayEvaluate, type BanditLog, type DecisionBatch, type Policy } from '../../src/eval/index.js';

/** Exact arithmetic on a handful of doubles: only the last bits of a sum or a quotient may differ. */
const EXACT = 1e-15;

/** A 6-row log over 3 items (the user context is the row number, so batches can be traced back). */
function handLog(propensities: number[]): BanditLog {
  return {
    shape: { arms: 3, users: 6, userDim: 1, itemDim: 1, hybridItemDim: 1 },
    length: 6,
    users: Int32Array.from([0, 1, 2, 3, 4, 5]),
    contexts: Float32Array.from([0, 1, 2, 3, 4, 5]),
    actions: Int32Array.from([0, 1, 2, 0, 1, 2]),
    rewards: Float32Array.from([1, 0, 1, 0, 1, 1]),
    propensities: Float64Array.from(propensities),
    itemFeatures: Float32Array.from([0, 1, 2]),
    hybridItemFeatures: Float32Array.from([0, 1, 2]),
  };
}

/** Picks item (clicks seen so far) mod 3 for every row of a batch; records what it was taught. */
function countingPolicy(): Policy & { taught: number[][] } {
  let clicks = 0;
  const taught: number[][] = [];
  return {
    name: 'clicks mod 3',
    taught,
    select: async (b: DecisionBatch) => new Int32Array(b.size).fill(clicks % 3),
    update: async (b, chosen, rewards) => {
      taught.push(Array.from(b.userFeatures));
      expect(chosen.length).to.equal(b.size);
      for (const r of rewards) clicks += r;
    },
    dispose: () => {},
  };
}

describe('eval: replay', () => {
  it('keeps exactly the rows where the policy agrees with the log and learns from them only (by hand)', async () => {
    // Row by row: clicks 0 → item 0 = logged 0 ✓ (r 1, clicks 1) · item 1 = 1 ✓ (r 0) · item 1 ≠ 2 ·
    // item 1 ≠ 0 · item 1 = 1 ✓ (r 1, clicks 2) · item 2 = 2 ✓ (r 1, clicks 3).
    const policy = countingPolicy();
    const r = await replayEvaluate(handLog(new Array(6).fill(1 / 3)), policy);
    expect(Array.from(r.matchedRows)).to.deep.equal([0, 1, 4, 5]);
    expect(Array.from(r.chosen)).to.deep.equal([0, 1, 1, 1, 1, 2]);
    expect(policy.taught).to.deep.equal([[0], [1], [4], [5]]);
    expect([r.rows, r.matched, r.clicks]).to.deep.equal([6, 4, 3]);
    expect(r.replayCtr).to.be.closeTo(3 / 4, EXACT);
    // IPS: (1/6)·3·(1 + 0 + 1 + 1) = 1.5; SNIPS: 3·3 / (4·3) = 0.75 = the replay CTR under uniform logging.
    expect(r.ips).to.be.closeTo(1.5, EXACT);
    expect(r.snips).to.be.closeTo(0.75, EXACT);
  });

  it('in batches, decides B rows with the state before them (by hand, B = 2)', async () => {
    // Rows 0–1 with clicks 0: items 0, 0 → row 0 ✓ (r 1). Rows 2–3 with clicks 1: items 1, 1 → none.
    // Rows 4–5 with clicks 1: items 1, 1 → row 4 ✓ (r 1).
    const policy = countingPolicy();
    const progress: number[] = [];
    const r = await replayEvaluate(handLog(new Array(6).fill(1 / 3)), policy, { batchSize: 2, onProgress: (done) => void progress.push(done) });
    expect(Array.from(r.matchedRows)).to.deep.equal([0, 4]);
    expect(policy.taught).to.deep.equal([[0], [4]]);
    expect(progress).to.deep.equal([2, 4, 6]);
    expect([r.matched, r.clicks, r.replayCtr, r.ips, r.snips]).to.deep.equal([2, 2, 1, 1, 1]);
  });

  it('weights by the logged propensities when they differ (by hand, every matched row kept)', async () => {
    // The same matches as the first test (rows 0, 1, 4, 5), with μ = [0.5, 0.25, 1, 1, 0.5, 0.2]:
    // w = [2, 4, 0, 0, 2, 5]; IPS = (2·1 + 4·0 + 2·1 + 5·1)/6 = 1.5; SNIPS = 9 / 13.
    const r = await replayEvaluate(handLog([0.5, 0.25, 1, 1, 0.5, 0.2]), countingPolicy(), { acceptance: 'matched' });
    expect(r.replayCtr).to.be.closeTo(0.75, EXACT);
    expect([r.matched, r.accepted, r.acceptanceScale]).to.deep.equal([4, 4, 1]);
    expect(r.ips).to.be.closeTo(1.5, EXACT);
    expect(r.snips).to.be.closeTo(9 / 13, EXACT);
  });

  it('keeps a matched row with probability c/μ_i when the propensities differ (rejection sampling, 4000 seeds)', async () => {
    // A policy that always picks the logged item (row r logged r mod 3): every row matches, none learns anything.
    const echo: Policy = { name: 'echo', select: async (b) => Int32Array.from(b.userFeatures, (x) => x % 3), update: async () => {}, dispose: () => {} };
    const mu = [0.5, 0.25, 1, 1, 0.5, 0.2], c = 0.2, seeds = 4000;
    const kept = new Array(6).fill(0);
    for (let seed = 0; seed < seeds; seed++) {
      const r = await replayEvaluate(handLog(mu), echo, { seed });
      expect(r.matched).to.equal(6);
      expect(r.acceptanceScale).to.equal(c);
      for (const i of r.acceptedRows) kept[i]++;
      const again = replayAcceptance(mu, 6, seed).keep;
      expect(Array.from(r.acceptedRows)).to.deep.equal([0, 1, 2, 3, 4, 5].filter((i) => again[i]));
    }
    // Each row's share within 4σ of c/μ_i = [0.4, 0.8, 0.2, 0.2, 0.4, 1] (σ = sqrt(q(1 − q)/4000) ≤ 0.0079).
    mu.forEach((m, i) => {
      const q = c / m;
      expect(kept[i]! / seeds, `row ${i}`).to.be.closeTo(q, 4 * Math.sqrt((q * (1 - q)) / seeds) + 1e-12);
    });
    // Equal propensities: every row kept, no draw.
    expect(Array.from(replayAcceptance(new Array(6).fill(1 / 3), 6, 9).keep)).to.deep.equal([1, 1, 1, 1, 1, 1]);
    expect(replayAcceptance(new Array(6).fill(1 / 3), 6, 9).scale).to.equal(1);
  });

  it('records the policy\'s distribution on every row when asked, in the state before the row\'s batch learns', async () => {
    // π = (clicks so far mod 3) with 0.8, the other two 0.1 each; IPS and SNIPS then use it.
    const policy = countingPolicy();
    let clicksSeen = 0;
    const recorded: Policy = {
      ...policy,
      update: async (b, chosen, rewards) => {
        await policy.update(b, chosen, rewards);
        for (const r of rewards) clicksSeen += r;
      },
      distribution: async (b) => {
        const out = new Float64Array(b.size * 3).fill(0.1);
        for (let r = 0; r < b.size; r++) out[r * 3 + (clicksSeen % 3)] = 0.8;
        return out;
      },
    };
    const log = handLog(new Array(6).fill(1 / 3));
    const r = await replayEvaluate(log, recorded, { distribution: true });
    // The choices are the first test's: [0, 1, 1, 1, 1, 2]; the 0.8 sits at each row's choice.
    expect(Array.from(r.chosen)).to.deep.equal([0, 1, 1, 1, 1, 2]);
    r.chosen.forEach((a, i) => expect(r.targetDistribution[i * 3 + a]).to.equal(0.8));
    // IPS = (1/6)·3·Σ π(a_i)·r_i over the rows with r = 1 (0, 2, 4, 5): π = 0.8, 0.1, 0.8, 0.8 → 1.25.
    expect(r.ips).to.be.closeTo(1.25, EXACT);
    let error: unknown = null;
    await replayEvaluate(log, countingPolicy(), { distribution: true }).catch((e) => (error = e));
    expect((error as Error).message).to.match(/needs policy clicks mod 3 to have a distribution/);
  });

  it('refuses a bad log, options or policy output', async () => {
    const log = handLog(new Array(6).fill(1 / 3));
    const reject = async (p: Promise<unknown>, pattern: RegExp) => {
      let error: unknown = null;
      await p.catch((e) => (error = e));
      expect(error).to.be.instanceOf(BanditError);
      expect((error as Error).message).to.match(pattern);
    };
    await reject(replayEvaluate({ ...log, actions: Int32Array.from([0, 1, 2, 0, 1, 3]) }, countingPolicy()), /actions\[5\]/);
    await reject(replayEvaluate({ ...log, rewards: new Float32Array(5) }, countingPolicy()), /rewards/);
    await reject(replayEvaluate(log, countingPolicy(), { batchSize: 0 }), /batchSize/);
    const short: Policy = { name: 'short', select: async () => new Int32Array(0), update: async () => {}, dispose: () => {} };
    await reject(replayEvaluate(log, short), /short\.select/);
    // An item past K would land in the next row of the one-hot target distribution: refused.
    const wild: Policy = { name: 'wild', select: async (b) => new Int32Array(b.size).fill(3), update: async () => {}, dispose: () => {} };
    await reject(replayEvaluate(log, wild), /policy wild chose item 3 \(row 0\), out of range 0\.\.2/);
    const r = await replayEvaluate(log, countingPolicy(), { maxRows: 2 });
    expect([r.rows, r.matched]).to.deep.equal([2, 2]);
  });
});
