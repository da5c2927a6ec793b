import { expect } from 'chai';
import { BanditError } from '../../src/index.js';
import {
  DISTRIBUTION_TOLERANCE, dmEstimate, drEstimate, drosEstimate, ipsEstimate, sndrEstimate, snipsEstimate, switchDrEstimate,
  type EstimatorInput,
} from '../../src/eval/index.js';
import { rng } from '../support/random.js';
import {
  positionSlices, referenceDm, referenceDr, referenceDros, referenceIpw, referenceSndr, referenceSnipw, referenceSwitchDr, type ObpLog,
} from './obp-reference.js';

/** A few ulps of the sums of a handful of doubles. */
const HAND = 1e-14;
/**
 * Two float64 loops over the same terms that differ only in the order of a few operations
 * (the reference indexes OBP's n×K×L arrays, the library its sliced n×K ones): relative 1e-12.
 */
const REFERENCE_REL = 1e-12;

function expectNear(actual: number, expected: number, what: string): void {
  expect(Number.isFinite(expected), `${what}: the reference is ${expected}`).to.equal(true);
  expect(Math.abs(actual - expected), `${what}: ${actual} vs reference ${expected}`).to.be.at.most(REFERENCE_REL * Math.max(1, Math.abs(expected)));
}

function throwsBandit(f: () => unknown, pattern: RegExp): void {
  expect(f).to.throw(BanditError, pattern);
}

/** A probability vector of length k: a softmax of random scores, a one-hot, or one with exact zeros. */
function distribution(k: number, r: () => number, kind: number): Float64Array {
  const p = new Float64Array(k);
  if (kind === 0) {
    p[Math.floor(r() * k)] = 1;
    return p;
  }
  let total = 0;
  for (let a = 0; a < k; a++) {
    p[a] = kind === 1 && a % 2 === 1 ? 0 : Math.exp(3 * r());
    total += p[a]!;
  }
  for (let a = 0; a < k; a++) p[a]! /= total;
  return p;
}

/**
 * A random log in OBP's layout: the behaviour policy draws a_i from a random per-row
 * distribution (pscore its probability), the target's rows are softmaxes, one-hots or have exact
 * zeros, q̂ and the rewards are uniform in [0, 1] (clicks on odd seeds).
 */
function randomLog(seed: number, n: number, k: number, l: number): ObpLog {
  const r = rng(seed);
  const reward = new Float64Array(n), pscore = new Float64Array(n);
  const action = new Int32Array(n), position = new Int32Array(n);
  const actionDist = new Float64Array(n * k * l), qHat = new Float64Array(n * k * l);
  for (let i = 0; i < n; i++) {
    const behaviour = distribution(k, r, 2);
    let u = r(), a = 0;
    while (a < k - 1 && u >= behaviour[a]!) u -= behaviour[a++]!;
    action[i] = a;
    pscore[i] = behaviour[a]!;
    position[i] = Math.floor(r() * l);
    reward[i] = seed % 2 === 1 ? (r() < 0.3 ? 1 : 0) : r();
    for (let p = 0; p < l; p++) {
      const target = distribution(k, r, Math.floor(r() * 3));
      for (let b = 0; b < k; b++) {
        actionDist[(i * k + b) * l + p] = target[b]!;
        qHat[(i * k + b) * l + p] = r();
      }
    }
  }
  return { n, k, l, reward, action, pscore, actionDist, qHat, position };
}

/**
 * Five rows over K = 2, every logged action 0, worked by hand:
 *   row  r   μ     π(·)        q̂(·)        w = π(0)/μ   q̂(x,π)   r − q̂(x,0)
 *   0    1   0.5   [1, 0]      [0.4, 0.2]   2            0.4      0.6
 *   1    0   0.25  [0, 1]      [0.6, 0.2]   0            0.2     −0.6
 *   2    1   0.2   [0.5, 0.5]  [0.5, 0.1]   2.5          0.3      0.5
 *   3    1   0.5   [0, 1]      [0.2, 0.8]   0            0.8      0.8
 *   4    0   0.1   [1, 0]      [0.3, 0.3]   10           0.3     −0.3
 * Σ w = 14.5, Σ w r = 2 + 2.5 = 4.5, Σ q̂(x,π) = 2.0, Σ w (r − q̂) = 1.2 + 1.25 − 3 = −0.55.
 */
const HAND_LOG: EstimatorInput = {
  rewards: [1, 0, 1, 1, 0],
  actions: [0, 0, 0, 0, 0],
  propensities: [0.5, 0.25, 0.2, 0.5, 0.1],
  targetDistribution: [1, 0, 0, 1, 0.5, 0.5, 0, 1, 1, 0],
  estimatedRewards: [0.4, 0.2, 0.6, 0.2, 0.5, 0.1, 0.2, 0.8, 0.3, 0.3],
};

describe('eval: estimators by hand', () => {
  it('DM = E_n[q̂(x, π)]', () => {
    // 2.0 / 5
    expect(dmEstimate(HAND_LOG)).to.be.closeTo(0.4, HAND);
  });

  it('IPS = E_n[min(w, λ) r], with and without clipping', () => {
    // 4.5 / 5; clipped at 2.2: w = [2, 0, 2.2, 0, 2.2] → (2 + 2.2) / 5
    expect(ipsEstimate(HAND_LOG)).to.be.closeTo(0.9, HAND);
    expect(ipsEstimate(HAND_LOG, { maxWeight: 2.2 })).to.be.closeTo(0.84, HAND);
    expect(ipsEstimate(HAND_LOG, { maxWeight: Infinity })).to.be.closeTo(0.9, HAND);
  });

  it('SNIPS = E_n[w r] / E_n[w]; NaN when no weight; the matched mean under uniform logging', () => {
    // 4.5 / 14.5
    expect(snipsEstimate(HAND_LOG)).to.be.closeTo(9 / 29, HAND);
    expect(snipsEstimate({ rewards: [1, 1], actions: [0, 0], propensities: [0.5, 0.5], targetDistribution: [0, 1, 0, 1] })).to.be.NaN;
    // μ = 1/4 everywhere, π one-hot on the logged action in rows 0, 1, 3: (1 + 0 + 1) / 3
    const uniform = { rewards: [1, 0, 1, 1], actions: [2, 3, 0, 1], propensities: [0.25, 0.25, 0.25, 0.25],
      targetDistribution: [0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 0] };
    expect(snipsEstimate(uniform)).to.be.closeTo(2 / 3, HAND);
  });

  it('DR = E_n[q̂(x, π) + min(w, λ)(r − q̂(x, a))], with and without clipping', () => {
    // (2.0 − 0.55) / 5; clipped at 2.2: corrections 1.2 + 2.2·0.5 − 2.2·0.3 = 1.64 → 3.64 / 5
    expect(drEstimate(HAND_LOG)).to.be.closeTo(0.29, HAND);
    expect(drEstimate(HAND_LOG, { maxWeight: 2.2 })).to.be.closeTo(0.728, HAND);
  });

  it('SNDR = E_n[q̂(x, π) + w(r − q̂(x, a)) / E_n[w]]', () => {
    // E_n[w] = 2.9: (2.0 − 0.55 / 2.9) / 5 = 0.4 − 0.11/2.9 = 21/58
    expect(sndrEstimate(HAND_LOG)).to.be.closeTo(21 / 58, HAND);
  });

  it('Switch-DR keeps the correction where w ≤ τ (inclusive), DM elsewhere', () => {
    // τ = 2.5: rows 0, 2 (and the w = 0 rows) keep theirs: (2.0 + 1.2 + 1.25) / 5
    expect(switchDrEstimate(HAND_LOG, { tau: 2.5 })).to.be.closeTo(0.89, HAND);
    // τ = 2: only row 0 (w = 2 ≤ 2): (2.0 + 1.2) / 5
    expect(switchDrEstimate(HAND_LOG, { tau: 2 })).to.be.closeTo(0.64, HAND);
    expect(switchDrEstimate(HAND_LOG, { tau: Infinity })).to.be.closeTo(0.29, HAND);
    expect(switchDrEstimate(HAND_LOG, { tau: 0 })).to.be.closeTo(0.4, HAND);
  });

  it('DRos shrinks w to λw / (w² + λ): λ = 0 is DM, λ = ∞ is DR', () => {
    // λ = 10: ŵ = 20/14 = 10/7 (w = 2), 25/16.25 = 20/13 (w = 2.5), 100/110 = 10/11 (w = 10), 0 (w = 0)
    const corrections = (10 / 7) * 0.6 + (20 / 13) * 0.5 - (10 / 11) * 0.3;
    expect(drosEstimate(HAND_LOG, { lambda: 10 })).to.be.closeTo((2 + corrections) / 5, HAND);
    expect(drosEstimate(HAND_LOG, { lambda: 0 })).to.be.closeTo(0.4, HAND);
    expect(drosEstimate(HAND_LOG, { lambda: Infinity })).to.be.closeTo(0.29, HAND);
  });

  it('DM divides by the row sum, as OBP’s np.average does (rows off 1 within the tolerance)', () => {
    const off = 1 + DISTRIBUTION_TOLERANCE / 2;
    // One row, π = [0.5, 0.5]·off, q̂ = [1, 0]: Σ π q̂ / Σ π = 0.5 exactly, not 0.5·off.
    expect(dmEstimate({ rewards: [0], actions: [0], propensities: [1], targetDistribution: [0.5 * off, 0.5 * off], estimatedRewards: [1, 0] }))
      .to.equal(0.5);
  });
});

describe('eval: estimators against a float64 transcription of OBP', () => {
  const cases = [
    { seed: 1, n: 300, k: 5, l: 1 },
    { seed: 2, n: 250, k: 1, l: 1 },
    { seed: 3, n: 200, k: 17, l: 1 },
    { seed: 4, n: 400, k: 6, l: 3 },
    { seed: 5, n: 1, k: 3, l: 1 },
  ];
  for (const { seed, n, k, l } of cases) {
    it(`every estimator on a random log (n = ${n}, K = ${k}, ${l === 1 ? 'one position' : `${l} positions, position-wise`}; ${seed % 2 ? 'clicks' : 'rewards in [0, 1]'})`, () => {
      const log = randomLog(seed, n, k, l);
      const input = positionSlices(log);
      expectNear(dmEstimate(input), referenceDm(log), 'DM');
      expectNear(ipsEstimate(input), referenceIpw(log), 'IPS');
      expectNear(ipsEstimate(input, { maxWeight: 3 }), referenceIpw(log, 3), 'IPS clipped at 3');
      expectNear(snipsEstimate(input), referenceSnipw(log), 'SNIPS');
      expectNear(drEstimate(input), referenceDr(log), 'DR');
      expectNear(drEstimate(input, { maxWeight: 3 }), referenceDr(log, 3), 'DR clipped at 3');
      expectNear(sndrEstimate(input), referenceSndr(log), 'SNDR');
      for (const tau of [0, 1, 2.5, 10, Infinity]) expectNear(switchDrEstimate(input, { tau }), referenceSwitchDr(log, tau), `Switch-DR τ = ${tau}`);
      for (const lambda of [0.1, 1, 25, Infinity]) expectNear(drosEstimate(input, { lambda }), referenceDros(log, lambda), `DRos λ = ${lambda}`);
    });
  }

  it('takes Float32Array columns (a float32 softmax over 1000 actions passes the sum tolerance)', () => {
    const log = randomLog(6, 50, 1000, 1);
    const input = positionSlices(log);
    const f32 = {
      rewards: Float32Array.from(input.rewards), actions: input.actions, propensities: Float32Array.from(input.propensities),
      targetDistribution: Float32Array.from(input.targetDistribution), estimatedRewards: Float32Array.from(input.estimatedRewards),
    };
    // The same data rounded to f32: the estimates move by about f32's precision, not more.
    expect(Math.abs(drEstimate(f32) - referenceDr(log))).to.be.below(1e-4 * Math.max(1, Math.abs(referenceDr(log))));
  });

  it('the comparison fails a wrong definition (SNIPS is not IPS, DRos with λ = 1 is not DR)', () => {
    const log = randomLog(7, 300, 5, 1);
    const input = positionSlices(log);
    expect(() => expectNear(snipsEstimate(input), referenceIpw(log), 'SNIPS vs IPS')).to.throw();
    expect(() => expectNear(drosEstimate(input, { lambda: 1 }), referenceDr(log), 'DRos vs DR')).to.throw();
  });
});

describe('eval: estimators refuse bad input', () => {
  const base = (): { -readonly [K in keyof EstimatorInput]-?: number[] } => ({
    rewards: [1, 0], actions: [0, 1], propensities: [0.5, 0.5], targetDistribution: [0.5, 0.5, 1, 0], estimatedRewards: [0.1, 0.2, 0.3, 0.4],
  });
  const withField = (name: keyof EstimatorInput, values: number[]): EstimatorInput => ({ ...base(), [name]: values });

  it('lengths that disagree, an empty log, a distribution that is not n×K', () => {
    throwsBandit(() => drEstimate(withField('rewards', [1])), /one entry a row, got 1, 2, 2/);
    throwsBandit(() => ipsEstimate(withField('propensities', [0.5])), /one entry a row/);
    throwsBandit(() => ipsEstimate({ rewards: [], actions: [], propensities: [], targetDistribution: [] }), /empty/);
    throwsBandit(() => ipsEstimate(withField('targetDistribution', [0.5, 0.5, 1])), /targetDistribution holds 3 values, not n×K for n = 2/);
    throwsBandit(() => drEstimate(withField('estimatedRewards', [0.1, 0.2, 0.3])), /estimatedRewards holds 3 values, expected n×K = 2×2 = 4/);
  });

  it('a missing reward model for DM and the DR family, but not for IPS and SNIPS', () => {
    const { estimatedRewards: _, ...noModel } = base();
    for (const f of [() => dmEstimate(noModel), () => drEstimate(noModel), () => sndrEstimate(noModel),
      () => switchDrEstimate(noModel, { tau: 1 }), () => drosEstimate(noModel, { lambda: 1 })]) {
      throwsBandit(f, /estimatedRewards .* is required/);
    }
    // w = [0.5/0.5, 0/0.5] = [1, 0]: IPS (1·1 + 0·0) / 2, SNIPS 1 / 1
    expect(ipsEstimate(noModel)).to.equal(0.5);
    expect(snipsEstimate(noModel)).to.equal(1);
  });

  it('propensities ≤ 0 or > 1, NaN anywhere, actions out of range, probabilities outside [0, 1] or rows not summing to 1', () => {
    throwsBandit(() => ipsEstimate(withField('propensities', [0.5, 0])), /propensities\[1\] is 0; propensities must be in \(0, 1\]/);
    throwsBandit(() => ipsEstimate(withField('propensities', [1.5, 0.5])), /propensities\[0\] is 1\.5/);
    throwsBandit(() => ipsEstimate(withField('propensities', [NaN, 0.5])), /propensities\[0\] is NaN/);
    throwsBandit(() => ipsEstimate(withField('rewards', [1, NaN])), /rewards\[1\] .* is NaN/);
    throwsBandit(() => ipsEstimate(withField('rewards', [Infinity, 0])), /rewards\[0\] .* is Infinity/);
    throwsBandit(() => drEstimate(withField('estimatedRewards', [0.1, NaN, 0.3, 0.4])), /estimatedRewards\[1\] \(row 0, element 1\) is NaN/);
    throwsBandit(() => ipsEstimate(withField('actions', [0, 2])), /actions\[1\] is 2; actions must be integers in 0\.\.1/);
    throwsBandit(() => ipsEstimate(withField('actions', [-1, 0])), /actions\[0\] is -1/);
    throwsBandit(() => ipsEstimate(withField('actions', [0.5, 0])), /actions\[0\] is 0\.5/);
    throwsBandit(() => ipsEstimate(withField('targetDistribution', [0.5, 0.5, 1.2, -0.2])), /targetDistribution\[2\] \(row 1, action 0\) is 1\.2/);
    throwsBandit(() => ipsEstimate(withField('targetDistribution', [0.5, NaN, 1, 0])), /targetDistribution\[1\] \(row 0, action 1\) is NaN/);
    throwsBandit(() => ipsEstimate(withField('targetDistribution', [0.5, 0.4, 1, 0])), /row 0 of input\.targetDistribution sums to 0\.9/);
    // Within the tolerance is accepted, just past it is not.
    const near = 1 + 0.9 * DISTRIBUTION_TOLERANCE, far = 1 + 1.5 * DISTRIBUTION_TOLERANCE;
    expect(ipsEstimate(withField('targetDistribution', [0.5, 0.5, 0.5, near - 0.5]))).to.be.a('number');
    throwsBandit(() => ipsEstimate(withField('targetDistribution', [0.5, 0.5, 0.5, far - 0.5])), /row 1 of input\.targetDistribution sums to/);
  });

  it('not an object, a column that is not an array of numbers, bad options', () => {
    throwsBandit(() => ipsEstimate(null as never), /input must be \{ rewards, actions, propensities, targetDistribution/);
    throwsBandit(() => ipsEstimate({ ...base(), actions: 'nope' } as never), /input\.actions must be a typed array or an array of numbers/);
    throwsBandit(() => ipsEstimate(base(), { maxWeight: 0 }), /maxWeight must be a number > 0/);
    throwsBandit(() => drEstimate(base(), { maxWeight: NaN }), /maxWeight/);
    throwsBandit(() => switchDrEstimate(base(), {} as never), /option tau is required/);
    throwsBandit(() => switchDrEstimate(base(), { tau: -1 }), /tau must be a number ≥ 0/);
    throwsBandit(() => drosEstimate(base(), {} as never), /option lambda is required/);
    throwsBandit(() => drosEstimate(base(), { lambda: NaN }), /lambda must be a number ≥ 0/);
    throwsBandit(() => drEstimate(base(), 3 as never), /options must be an object/);
  });
});
