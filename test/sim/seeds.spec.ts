import { expect } from 'chai';
import { BanditError } from '../../src/index.js';
import {
  holm, lineChartSvg, meanInterval, pairedTTest, regularizedBeta, runScenario, runSeeds, seedsReportHtml, seedsSentence, studentTQuantile,
  studentTTwoSided, summarizeSeeds, formatSeedsSummary, type AlgorithmKey, type HeadToHeadResult, type PolicyMetrics,
} from '../../src/sim/index.js';
import { cpuBackend } from '../support/fixture.js';
import { rng } from '../support/random.js';

function throwsBandit(f: () => unknown, pattern: RegExp): void {
  expect(f).to.throw(BanditError, pattern);
}

/** Plain reference statistics, written out here (not the module's code). */
function reference(values: number[]): { mean: number; sd: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, sd: Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) };
}
/** t_{0.975, df} from published tables. */
const T975: Record<number, number> = { 1: 12.706204736, 2: 4.302652730, 3: 3.182446305, 4: 2.776445105, 10: 2.228138852, 30: 2.042272456 };

describe('sim: statistics over seeds', () => {
  it("Student's t: quantiles and two-sided p-values match published tables; the incomplete beta its closed forms", () => {
    for (const [df, t] of Object.entries(T975)) {
      expect(studentTQuantile(0.975, Number(df))).to.be.closeTo(t, 1e-8 * t);
      expect(studentTTwoSided(t, Number(df))).to.be.closeTo(0.05, 1e-9);
      expect(studentTQuantile(0.025, Number(df))).to.be.closeTo(-t, 1e-8 * t);
    }
    expect(studentTQuantile(0.95, 30)).to.be.closeTo(1.697260887, 1e-8);
    expect(studentTQuantile(0.975, 1e7)).to.be.closeTo(1.959964, 1e-5);
    expect(studentTTwoSided(0, 5)).to.equal(1);
    // df = 1 is the Cauchy distribution: P(|T| ≥ t) = 1 − 2·atan(t)/π.
    expect(studentTTwoSided(3, 1)).to.be.closeTo(1 - (2 * Math.atan(3)) / Math.PI, 1e-12);
    expect(regularizedBeta(0.3, 1, 1)).to.be.closeTo(0.3, 1e-14);
    expect(regularizedBeta(0.3, 2.5, 1)).to.be.closeTo(0.3 ** 2.5, 1e-13);
    expect(regularizedBeta(0.5, 3, 3)).to.be.closeTo(0.5, 1e-13);
    throwsBandit(() => studentTQuantile(1, 3), /p must be in \(0, 1\)/);
    throwsBandit(() => studentTTwoSided(1, 0), /df/);
  });

  it('meanInterval and pairedTTest agree with a plain computation; identical pairs have p = 1, a constant gap p = 0', () => {
    const r = rng(3);
    const a = Array.from({ length: 5 }, () => 100 + 20 * r()), b = a.map((x) => x - 4 + 6 * r());
    const m = meanInterval(a);
    const ref = reference(a);
    expect(m.mean).to.be.closeTo(ref.mean, 1e-12);
    expect(m.sd).to.be.closeTo(ref.sd, 1e-12);
    expect(m.upper - m.mean).to.be.closeTo((T975[4]! * ref.sd) / Math.sqrt(5), 1e-9);
    const d = a.map((x, i) => x - b[i]!), dr = reference(d);
    const test = pairedTTest(a, b);
    expect(test.mean).to.be.closeTo(dr.mean, 1e-12);
    expect(test.t).to.be.closeTo(dr.mean / (dr.sd / Math.sqrt(5)), 1e-9);
    expect(test.p).to.be.closeTo(studentTTwoSided(test.t, 4), 1e-15);
    expect(test.lower).to.be.closeTo(dr.mean - (T975[4]! * dr.sd) / Math.sqrt(5), 1e-9);
    expect(pairedTTest(a, a).p).to.equal(1);
    expect(pairedTTest(a, a.map((x) => x + 1)).p).to.equal(0);
    expect(Number.isNaN(meanInterval([3]).lower)).to.equal(true);
    throwsBandit(() => pairedTTest([1], [2]), /at least 2/);
    throwsBandit(() => pairedTTest([1, 2], [2]), /pairs must match/);
    throwsBandit(() => meanInterval([1, NaN]), /values\[1\]/);
  });

  it("Holm's correction by hand: adjusted p-values are the running max of (m − rank)·p", () => {
    const { adjusted, rejected } = holm([0.01, 0.04, 0.03, 0.005], 0.05);
    expect(adjusted.map((p) => Number(p.toFixed(10)))).to.deep.equal([0.03, 0.06, 0.06, 0.02]);
    expect(rejected).to.deep.equal([true, false, false, true]);
    expect(holm([0.5, 0.9]).adjusted).to.deep.equal([1, 1]);   // 2·0.5, then max(1, 0.9)
    expect(holm([0.2, 0.01]).adjusted).to.deep.equal([0.2, 0.02]);
    expect(holm([]).rejected).to.deep.equal([]);
    throwsBandit(() => holm([1.2]), /p-values must be in \[0, 1\]/);
  });
});

/** A head-to-head result with the given per-policy total regrets (the figures summarizeSeeds reads). */
function fakeResult(totals: number[], seed: number): HeadToHeadResult {
  const rounds = 4, window = 50, steps = 200;
  const r = rng(seed);
  const policies = totals.map((total, p): PolicyMetrics => {
    const cumulative = Float64Array.from({ length: rounds }, (_, i) => (total * (i + 1)) / rounds);
    return {
      name: `policy ${p}`, cumulativeRegret: cumulative, stepRegret: new Float64Array(steps).fill(total / steps), totalRegret: total, clicks: 0,
      ctr: 0.3 + 0.01 * p, ctrBeforeShock: 0.3, ctrAfterShock: 0.3, expectedCtr: 0.3, windowCtr: Float64Array.from({ length: 4 }, () => 0.2 + 0.1 * r()),
      windowRegret: new Float64Array(4), regretBeforeShock: total / 2, regretAfterShock: total / 2, regretRateBeforeShock: 0, regretRateAfterShock: 0,
      preShockRate: 0, recoverySteps: p === 0 ? null : 60, selectMs: 1, updateMs: 1, shown: new Int32Array(steps), newItems: null, rewardsDelivered: steps,
    };
  });
  return { steps, batchSize: 50, rounds, window, shockStep: 100, roundEnds: Int32Array.from([50, 100, 150, 200]), policies, elapsedMs: 0,
    optimal: new Int32Array(steps), catalogueEvents: [], rewardDelay: null };
}

describe('sim: head-to-head over seeds', function () {
  this.timeout(120_000);

  it('marks a clearly better policy as significant and two identical ones as not (constructed results)', () => {
    // Per seed: A's regret varies a lot between seeds, B is A − 100 ± 5 (clearly better, every seed), C is A exactly.
    const r = rng(8);
    const results = Array.from({ length: 5 }, (_, s) => {
      const a = 2000 + 400 * r();
      return fakeResult([a, a - 100 + 10 * (r() - 0.5), a, 3000], s);
    });
    const keys: AlgorithmKey[] = ['linucb', 'hybrid', 'discounted', 'random'];
    const summary = summarizeSeeds(keys, results);
    const pair = (x: AlgorithmKey, y: AlgorithmKey) => summary.comparisons.totalRegret.find((c) => c.a === x && c.b === y)!;
    expect(summary.comparisons.totalRegret.length, 'random is a reference: 3 learners, 3 pairs').to.equal(3);
    expect(pair('linucb', 'hybrid').significant).to.equal(true);
    expect(pair('linucb', 'hybrid').mean).to.be.closeTo(100, 10);
    expect(pair('hybrid', 'discounted').significant).to.equal(true);
    const same = pair('linucb', 'discounted');
    expect(same.significant).to.equal(false);
    expect(same.p).to.equal(1);
    expect(same.adjustedP).to.equal(1);
    // Without pairing, B's lead is well inside the seed-to-seed spread: the two intervals overlap.
    const [a, b] = summary.policies;
    expect(a!.summary.totalRegret.lower).to.be.below(b!.summary.totalRegret.upper);
    const run = { ...summary, scenario: { seed: 1, batchSize: 50, algorithms: keys } as never, seeds: [1, 2, 3, 4, 5], first: {
      backend: 'test', startedAt: 'now', world: { shock: null } as never, trainingLosses: [], scenario: { trainingRows: 1, trainingEpochs: 1 } as never,
      setupMs: 0, runMs: 0, totalMs: 0 }, seedMs: [1, 1, 1, 1, 1], totalMs: 5, stopReason: 'asked' };
    expect(seedsSentence(run)).to.match(/^Over 5 seeds, policy 1 had the lowest mean total regret of the learners .* significantly lower than every other learner/);
    const html = seedsReportHtml(run);
    expect((html.match(/class="sig"/g) ?? []).length, 'two significant pairs, each in two cells, in both metrics (after the shock is half the total)').to.equal(8);
    expect((html.match(/class="band"/g) ?? []).length).to.equal(8);   // 4 policies × 2 charts
    expect(formatSeedsSummary(run)).to.match(/policy 1 < policy 0 by/);
    throwsBandit(() => summarizeSeeds(keys, results.slice(0, 1)), /at least 2 seeds/);
  });

  it('runs every seed on common random numbers, and its means, bands and tests equal a plain computation over separate runs', async () => {
    const backend = cpuBackend();
    const options = { steps: 300, algorithms: ['linucb', 'discounted', 'random'] as AlgorithmKey[], batchSize: 50 };
    const multi = await runSeeds(backend, { ...options, seed: 4 }, { seeds: 3 });
    expect(multi.seeds).to.deep.equal([4, 5, 6]);
    const single: Awaited<ReturnType<typeof runScenario>>[] = [];
    for (const seed of [4, 5, 6]) single.push(await runScenario(backend, { ...options, seed }));
    multi.policies.forEach((p, i) => {
      const totals = single.map((s) => s.result.policies[i]!.totalRegret);
      expect(p.perSeed.totalRegret).to.deep.equal(totals);
      const ref = reference(totals);
      expect(p.summary.totalRegret.mean).to.be.closeTo(ref.mean, 1e-9);
      expect(p.summary.totalRegret.upper).to.be.closeTo(ref.mean + (T975[2]! * ref.sd) / Math.sqrt(3), 1e-6);
      // The band at the last round is the interval of the final cumulative regret.
      const last = p.cumulativeRegret.upper.length - 1;
      expect(p.cumulativeRegret.upper[last]).to.be.closeTo(p.summary.totalRegret.upper, 1e-6);
      const w = single.map((s) => s.result.policies[i]!.windowCtr[1]!);
      expect(p.windowCtr.mean[1]).to.be.closeTo(reference(w).mean, 1e-12);
    });
    const c = multi.comparisons.totalRegret.find((x) => x.a === 'linucb' && x.b === 'discounted')!;
    const d = single.map((s) => s.result.policies[0]!.totalRegret - s.result.policies[1]!.totalRegret), dr = reference(d);
    expect(c.mean).to.be.closeTo(dr.mean, 1e-9);
    if (dr.sd > 0) expect(c.t).to.be.closeTo(dr.mean / (dr.sd / Math.sqrt(3)), 1e-6);
    expect(multi.comparisons.totalRegret.length).to.equal(1);   // random is a reference
  });

  it('in budget mode runs the fewest seeds it may when each takes longer than the budget, and refuses bad options', async () => {
    const backend = cpuBackend();
    const run = await runSeeds(backend, { steps: 100, algorithms: ['random', 'oracle'] }, { budgetMs: 0, minSeeds: 2 });
    expect(run.seeds).to.deep.equal([1, 2]);
    expect(run.stopReason).to.match(/fewest seeds/);
    let threw = false;
    try {
      await runSeeds(backend, { steps: 100 }, { seeds: 1 });
    } catch (e) {
      threw = e instanceof BanditError && /seeds must be an integer ≥ 2/.test((e as Error).message);
    }
    expect(threw).to.equal(true);
  });

  it('draws a band under a line: a filled path a series, broken at non-finite points', () => {
    const svg = lineChartSvg({
      title: 't', xLabel: 'x', yLabel: 'y',
      series: [{ name: 'a', color: '#123456', x: [0, 1, 2, 3], y: [1, 2, 3, 4], band: { lower: [0, 1, NaN, 3], upper: [2, 3, 4, 9] } }],
    });
    const band = /<path class="band" data-name="a" d="([^"]+)"/.exec(svg);
    expect(band).to.not.equal(null);
    expect(band![1]!.split('M').length - 1, 'the NaN splits the band; a lone point draws nothing').to.equal(1);
    expect(svg).to.match(/fill="#123456" fill-opacity/);
    // The y axis reaches the band's top (9), not only the line's (4).
    expect(svg).to.match(/>8<\/text>/);
  });
});
