import { expect } from 'chai';
import { BanditError } from '../../src/index.js';
import { ipsEstimate, replayEvaluate } from '../../src/eval/index.js';
import {
  DEFAULT_EPSILON, EcommerceSimulator, epsilonGreedyLinUCBPolicy, evaluateOffPolicy, formatOffPolicyTable, linTSPolicy, linUCBPolicy, offPolicyMarkdown,
  offPolicyReading, OFF_POLICY_ESTIMATORS, type Policy,
} from '../../src/sim/index.js';
import { cpuBackend } from '../support/fixture.js';

// evaluateOffPolicy (what `webgpu-bandits replay` runs) on a simulated random log: its figures
// against the replay evaluator and the estimators called directly.
describe('sim: off-policy evaluation of the policies on a log', function () {
  this.timeout(60_000);
  const sim = new EcommerceSimulator({ seed: 21, items: 5, users: 40, latentDim: 4, userFeatureDim: 4, itemFeatureDim: 4, shock: null });
  const log = sim.randomLog(1200);
  const positions = Int32Array.from({ length: log.length }, (_, i) => i % 3);

  it('reports every estimator with an interval, agreeing with replay and IPS computed directly', async () => {
    const backend = cpuBackend();
    const report = await evaluateOffPolicy(backend, log, { targets: ['random', 'linucb', 'embedding'], samples: 200, seed: 3, positions });
    expect(report.targets.map((t) => t.key)).to.deep.equal(['random', 'linucb', 'embedding']);
    expect(report.positions).to.equal(3);
    const [random, linucb, embedding] = report.targets;
    const at = (t: typeof random, e: string) => t!.estimates.find((x) => x.estimator === e)!;
    for (const t of report.targets) {
      expect(t.estimates.map((e) => e.estimator)).to.deep.equal([...OFF_POLICY_ESTIMATORS]);
      for (const e of t.estimates) {
        expect(Number.isFinite(e.estimate), `${t.key} ${e.estimator}`).to.equal(true);
        expect(e.lower, `${t.key} ${e.estimator}`).to.be.at.most(e.upper);
      }
      // About n/K rows match for any policy.
      expect(t.matched).to.be.within(180, 300);
    }
    // Random's exact distribution on a uniform log: every weight is 1, so IPS and SNIPS are the logged click rate.
    const logged = log.rewards.reduce((s, r) => s + r, 0) / log.length;
    expect(at(random, 'ips').estimate).to.be.closeTo(logged, 1e-12);
    expect(at(random, 'snips').estimate).to.be.closeTo(logged, 1e-12);
    // LinUCB replayed again (deterministic on the cpu backend): the same matched rows, replay CTR and IPS.
    const policy = await linUCBPolicy(backend, log.shape);
    const replay = await replayEvaluate(log, policy);
    policy.dispose();
    expect(linucb!.matched).to.equal(replay.matched);
    expect(at(linucb, 'replay').estimate).to.be.closeTo(replay.replayCtr, 1e-12);
    expect(at(linucb, 'ips').estimate).to.be.closeTo(replay.ips, 1e-12);
    expect(at(linucb, 'ips').estimate).to.be.closeTo(ipsEstimate({ ...log, targetDistribution: oneHotOf(replay.chosen, log.shape.arms) }), 1e-12);
    // A learner beats random on this world; the frozen model, trained on half the log each way, too.
    expect(at(linucb, 'dr').estimate).to.be.above(at(random, 'dr').estimate);
    expect(at(embedding, 'dr').estimate).to.be.above(at(random, 'dr').estimate);

    // Every two targets compared by DR, Bonferroni over the 3 pairs; the learner's lead over random is the same figure as the two estimates' gap.
    expect(report.comparisons.map((c) => `${c.a}-${c.b}`)).to.deep.equal(['random-linucb', 'random-embedding', 'linucb-embedding']);
    expect(report.comparisonConfidence).to.be.closeTo(1 - 0.05 / 3, 1e-12);
    const lead = report.comparisons[0]!;
    expect(lead.difference).to.be.closeTo(at(random, 'dr').estimate - at(linucb, 'dr').estimate, 1e-12);
    expect(lead.lower).to.be.at.most(lead.difference);
    expect(lead.significant).to.equal(lead.upper < 0 || lead.lower > 0);
    const table = formatOffPolicyTable(report);
    for (const label of ['replay', 'DM', 'IPS', 'SNIPS', 'DR', 'SNDR', 'Switch-DR (τ = 10)', 'DRos (λ = 1000)', 'matched rows']) expect(table).to.contain(label);
    const md = offPolicyMarkdown(report, { data: 'simulated' });
    expect(md).to.contain('| estimator | random | LinUCB |');
    expect(md).to.contain(offPolicyReading(report));
    expect(md).to.match(/one model per position/);
  });

  it('evaluates the randomised learners by their distributions on every row: ε-greedy exact, LinTS from M draws', async () => {
    const backend = cpuBackend();
    const M = 8, K = log.shape.arms;
    const report = await evaluateOffPolicy(backend, log, { targets: ['egreedy', 'lints'], samples: 200, seed: 3, targetDraws: M });
    const [egreedy, lints] = report.targets;
    expect([egreedy!.distribution, egreedy!.draws, lints!.distribution, lints!.draws]).to.deep.equal(['exact', null, 'sampled', M]);
    expect(report.settings.targetDraws).to.equal(M);
    const ips = (t: typeof egreedy) => t!.estimates.find((e) => e.estimator === 'ips')!.estimate;
    // The same replays again (seeded streams, cpu backend): the report's IPS is IPS on the recorded distributions.
    const again = async (make: () => Promise<Policy>) => {
      const policy = await make();
      try {
        return await replayEvaluate(log, policy, { seed: 3, distribution: true });
      } finally {
        policy.dispose();
      }
    };
    const e = await again(() => epsilonGreedyLinUCBPolicy(backend, log.shape, { seed: 3 }));
    const t = await again(() => linTSPolicy(backend, log.shape, { seed: 3, targetDraws: M }));
    expect(egreedy!.matched).to.equal(e.matched);
    expect(lints!.matched).to.equal(t.matched);
    expect(ips(egreedy)).to.be.closeTo(ipsEstimate({ ...log, targetDistribution: e.targetDistribution }), 1e-12);
    expect(ips(lints)).to.be.closeTo(ipsEstimate({ ...log, targetDistribution: t.targetDistribution }), 1e-12);
    // ε-greedy: every entry ε/K or 1 − ε + ε/K (the exact formula); LinTS: shares of M draws, some 0.
    const eps = DEFAULT_EPSILON;
    for (const p of e.targetDistribution) expect(Math.abs(p - eps / K) < 1e-12 || Math.abs(p - (1 - eps + eps / K)) < 1e-12, `ε-greedy π ${p}`).to.equal(true);
    let zeros = 0;
    for (const p of t.targetDistribution) {
      expect(Math.abs(p * M - Math.round(p * M))).to.be.below(1e-12);
      if (p === 0) zeros++;
    }
    console.log(`      LinTS π̂ from M = ${M} draws: ${zeros} of ${t.targetDistribution.length} entries 0; IPS ${ips(lints).toFixed(4)}, ε-greedy IPS ${ips(egreedy).toFixed(4)}`);
    expect(zeros).to.be.above(0);
    for (const x of [egreedy!, lints!]) for (const est of x.estimates) expect(Number.isFinite(est.estimate), `${x.key} ${est.estimator}`).to.equal(true);
    expect(offPolicyMarkdown(report)).to.match(/\(M = 8\)/);
  });

  it('refuses an unknown target', async () => {
    let error: unknown = null;
    await evaluateOffPolicy(cpuBackend(), log, { targets: ['thompson' as never] }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(BanditError);
    expect((error as Error).message).to.match(/unknown target 'thompson'/);
  });
});

function oneHotOf(arms: Int32Array, k: number): Float64Array {
  const out = new Float64Array(arms.length * k);
  arms.forEach((a, i) => (out[i * k + a] = 1));
  return out;
}
