import { expect } from 'chai';
import { EcommerceSimulator, linUCBPolicy, randomPolicy } from '../../src/sim/index.js';
import { parseObd, replayEvaluate } from '../../src/eval/index.js';
import { OBD_ITEMS, OBD_MEN } from '../eval/obd-fixture.js';
import { backends } from '../support/fixture.js';

// Replay (webgpu-bandits/eval) of the simulator's policies, on a simulated log and on an Open
// Bandit Dataset file; the replay method itself is tested by hand in test/eval/replay.spec.ts.
describe('sim: replay of the policies', function () {
  this.timeout(60_000);

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

  it('replays LinUCB and random on the inline log on both backends', async () => {
    const log = parseObd(OBD_MEN, OBD_ITEMS);
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
