import { expect } from 'chai';
import { BanditError } from '../../src/index.js';
import { EcommerceSimulator, linUCBPolicy, randomPolicy, type DecisionBatch, type Policy } from '../../src/sim/index.js';
import { ipsEstimate, parseObd, replayEvaluate, snipsEstimate, type BanditLog } from '../../src/eval/index.js';
import { backends } from '../support/fixture.js';

/** Exact arithmetic on a handful of doubles: only the last bits of a sum or a quotient may differ. */
const EXACT = 1e-15;

function throwsBandit(f: () => unknown, pattern: RegExp): void {
  expect(f).to.throw(BanditError, pattern);
}

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

describe('sim: estimators', () => {
  // w = π/μ = [1/0.5, 0/0.25, 0.5/0.2, 0/0.5, 1/0.1] = [2, 0, 2.5, 0, 10]
  const input = { rewards: [1, 0, 1, 1, 0], propensities: [0.5, 0.25, 0.2, 0.5, 0.1], targetProbabilities: [1, 0, 0.5, 0, 1] };

  it('IPS = (1/n) Σ w r, by hand', () => {
    // (2·1 + 0·0 + 2.5·1 + 0·1 + 10·0) / 5 = 4.5 / 5
    expect(ipsEstimate(input)).to.be.closeTo(0.9, EXACT);
    // Clipped at 2.2: w = [2, 0, 2.2, 0, 2.2] → (2 + 2.2) / 5
    expect(ipsEstimate(input, { maxWeight: 2.2 })).to.be.closeTo(0.84, EXACT);
  });

  it('SNIPS = Σ w r / Σ w, by hand; NaN when no weight', () => {
    // 4.5 / (2 + 2.5 + 10) = 4.5 / 14.5 = 9/29
    expect(snipsEstimate(input)).to.be.closeTo(9 / 29, EXACT);
    expect(snipsEstimate({ rewards: [1, 1], propensities: [0.5, 0.5], targetProbabilities: [0, 0] })).to.be.NaN;
    // Uniform logging and a deterministic target: SNIPS is the mean reward of the matching rows.
    expect(snipsEstimate({ rewards: [1, 0, 1, 1], propensities: [0.25, 0.25, 0.25, 0.25], targetProbabilities: [1, 1, 0, 1] })).to.be.closeTo(2 / 3, EXACT);
  });

  it('refuses mismatched, empty or out-of-range input', () => {
    throwsBandit(() => ipsEstimate({ rewards: [1], propensities: [0.5, 0.5], targetProbabilities: [1] }), /one entry a row/);
    throwsBandit(() => ipsEstimate({ rewards: [], propensities: [], targetProbabilities: [] }), /empty/);
    throwsBandit(() => snipsEstimate({ rewards: [1], propensities: [0], targetProbabilities: [1] }), /propensities\[0\]/);
    throwsBandit(() => snipsEstimate({ rewards: [NaN], propensities: [1], targetProbabilities: [1] }), /rewards\[0\]/);
    throwsBandit(() => ipsEstimate({ rewards: [1], propensities: [1], targetProbabilities: [1.5] }), /targetProbabilities\[0\]/);
    throwsBandit(() => ipsEstimate(input, { maxWeight: 0 }), /maxWeight/);
  });
});

describe('sim: replay', function () {
  this.timeout(60_000);

  it('keeps exactly the rows where the policy agrees with the log and learns from them only (by hand)', async () => {
    // Row by row: clicks 0 → item 0 = logged 0 ✓ (r 1, clicks 1) · item 1 = 1 ✓ (r 0) · item 1 ≠ 2 ·
    // item 1 ≠ 0 · item 1 = 1 ✓ (r 1, clicks 2) · item 2 = 2 ✓ (r 1, clicks 3).
    const policy = countingPolicy();
    const r = await replayEvaluate(handLog(new Array(6).fill(1 / 3)), policy);
    expect(Array.from(r.matchedRows)).to.deep.equal([0, 1, 4, 5]);
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

  it('weights by the logged propensities when they differ (by hand)', async () => {
    // The same matches as the first test (rows 0, 1, 4, 5), with μ = [0.5, 0.25, 1, 1, 0.5, 0.2]:
    // w = [2, 4, 0, 0, 2, 5]; IPS = (2·1 + 4·0 + 2·1 + 5·1)/6 = 1.5; SNIPS = 9 / 13.
    const r = await replayEvaluate(handLog([0.5, 0.25, 1, 1, 0.5, 0.2]), countingPolicy());
    expect(r.replayCtr).to.be.closeTo(0.75, EXACT);
    expect(r.ips).to.be.closeTo(1.5, EXACT);
    expect(r.snips).to.be.closeTo(9 / 13, EXACT);
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
    const r = await replayEvaluate(log, countingPolicy(), { maxRows: 2 });
    expect([r.rows, r.matched]).to.deep.equal([2, 2]);
  });

  it('replays LinUCB on a simulated random log on both backends, alike', async () => {
    const sim = new EcommerceSimulator({ seed: 12, items: 5, users: 50, latentDim: 4, userFeatureDim: 4, itemFeatureDim: 4 });
    const log = sim.randomLog(1500);
    const { gpu, cpu } = backends();
    const results = [];
    for (const backend of [gpu, cpu]) {
      const policy = await linUCBPolicy(backend, log.shape);
      results.push(await replayEvaluate(log, policy, { batchSize: 10 }));
      policy.dispose();
    }
    const random = await replayEvaluate(log, randomPolicy(log.shape, { seed: 4 }));
    const [g, c] = results;
    console.log(`      replay CTR: LinUCB webgpu ${g!.replayCtr.toFixed(3)} (${g!.matched} rows), cpu ${c!.replayCtr.toFixed(3)}, random ${random.replayCtr.toFixed(3)} (${random.matched})`);
    // About 1500/5 = 300 rows match for any policy.
    for (const r of [g!, c!, random]) expect(r.matched).to.be.within(220, 380);
    expect(Math.abs(g!.replayCtr - c!.replayCtr)).to.be.below(0.05);
    expect(c!.replayCtr).to.be.greaterThan(random.replayCtr);
  });
});

describe('sim: OBD parser', () => {
  const items = [
    ',item_id,item_feature_0,item_feature_1,item_feature_2,item_feature_3',
    '0,0,-0.5,bb,x,p',
    '1,2,1.25,aa,y,p',
    '2,1,0.0,bb,y,q',
  ].join('\n');
  const men = [
    ',timestamp,item_id,position,click,propensity_score,user_feature_0,user_feature_1,user_feature_2,user_feature_3,user-item_affinity_0,user-item_affinity_1,user-item_affinity_2',
    '0,2019-11-24 00:00:01+00:00,2,1,0,0.3333333333333333,u1,v1,w1,z1,0.0,3.0,0.0',
    '1,2019-11-24 00:00:02+00:00,0,2,1,0.3333333333333333,u0,v1,w1,z1,0.0,0.0,0.0',
    '2,2019-11-24 00:00:03+00:00,1,3,0,0.3333333333333333,u1,v0,w1,z1,1.0,0.0,0.0',
    '3,2019-11-24 00:00:04+00:00,2,1,1,0.3333333333333333,u1,v1,w1,z1,0.0,0.0,7.0',
    '',
  ].join('\r\n');

  it('builds one-hot user contexts, segment ids and item features as documented', () => {
    const log = parseObd(men, items);
    expect(log.shape).to.deep.equal({ arms: 3, users: 3, userDim: 2 + 2 + 1 + 1, itemDim: 1 + 2 + 2 + 2, hybridItemDim: 1 + 2 });
    expect(log.length).to.equal(4);
    expect(Array.from(log.actions)).to.deep.equal([2, 0, 1, 2]);
    expect(Array.from(log.rewards)).to.deep.equal([0, 1, 0, 1]);
    expect(Array.from(log.positions)).to.deep.equal([1, 2, 3, 1]);
    expect(Array.from(log.propensities)).to.deep.equal(new Array(4).fill(1 / 3));
    expect(log.timestamps[3]).to.equal('2019-11-24 00:00:04+00:00');
    // Columns: u0 u1 | v0 v1 | w1 | z1 (levels sorted).
    expect(log.userFeatureNames).to.deep.equal(['user_feature_0=u0', 'user_feature_0=u1', 'user_feature_1=v0', 'user_feature_1=v1', 'user_feature_2=w1', 'user_feature_3=z1']);
    expect(Array.from(log.contexts)).to.deep.equal([
      0, 1, 0, 1, 1, 1,
      1, 0, 0, 1, 1, 1,
      0, 1, 1, 0, 1, 1,
      0, 1, 0, 1, 1, 1,
    ]);
    // Segments sorted: 'u0|v1|…' = 0, 'u1|v0|…' = 1, 'u1|v1|…' = 2.
    expect(Array.from(log.users)).to.deep.equal([2, 0, 1, 2]);
    // Items by id (the file lists id 2 before id 1): [f0, aa bb, x y, p q].
    expect(Array.from(log.itemFeatures)).to.deep.equal([
      -0.5, 0, 1, 1, 0, 1, 0,
      0, 0, 1, 0, 1, 0, 1,
      1.25, 1, 0, 0, 1, 1, 0,
    ]);
    expect(Array.from(log.hybridItemFeatures)).to.deep.equal([-0.5, 0, 1, 0, 0, 1, 1.25, 1, 0]);
  });

  it('filters by position and appends log(1 + affinity) on request', () => {
    const top = parseObd(men, items, { position: 1 });
    expect(top.length).to.equal(2);
    expect(Array.from(top.actions)).to.deep.equal([2, 2]);
    // Only the values seen at position 1 get a column: u1, v1, w1, z1.
    expect(top.shape.userDim).to.equal(4);
    const withAffinity = parseObd(men, items, { affinities: true });
    expect(withAffinity.shape.userDim).to.equal(6 + 3);
    const row = (i: number) => Array.from(withAffinity.contexts.subarray(i * 9 + 6, i * 9 + 9));
    expect(row(0)).to.deep.equal([0, Math.fround(Math.log(4)), 0]);
    expect(row(3)).to.deep.equal([0, 0, Math.fround(Math.log(8))]);
  });

  it('refuses malformed files with BanditError naming the line and column', () => {
    throwsBandit(() => parseObd(men.replace(',click,', ',klick,'), items), /no column click/);
    throwsBandit(() => parseObd(men.replace('2,1,0,0.333', '2,1,2,0.333'), items), /line 2, column click/);
    throwsBandit(() => parseObd(men.replace('3,2019-11-24 00:00:04+00:00,2,', '3,2019-11-24 00:00:04+00:00,3,'), items), /line 5, column item_id/);
    throwsBandit(() => parseObd(men, items.replace('2,1,0.0', '2,0,0.0')), /item 0 twice/);
    throwsBandit(() => parseObd(men + '4,short\n', items), /fields/);
    throwsBandit(() => parseObd(men, items, { position: 9 }), /no rows at position 9/);
  });

  it('replays LinUCB and random on the inline log on both backends', async () => {
    const log = parseObd(men, items);
    const { gpu, cpu } = backends();
    for (const backend of [gpu, cpu]) {
      const policy = await linUCBPolicy(backend, log.shape);
      const r = await replayEvaluate(log, policy);
      // A fresh LinUCB scores every arm alike and takes the lowest (item 0): row 1 matches and clicks.
      expect(r.matchedRows[0]).to.equal(1);
      expect(r.matched).to.be.within(1, 4);
      policy.dispose();
    }
  });
});
