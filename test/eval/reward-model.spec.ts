import { expect } from 'chai';
import { BanditError, type Backend } from '../../src/index.js';
import { Random } from '../../src/core/random.js';
import { sampleArms } from '../../src/ops/explore.js';
import {
  bootstrapDifferences, bootstrapInterval, bootstrapIntervals, bootstrapMeanInterval, crossFit, decidedTarget, fitRewardModel, foldAssignment, greedyTarget,
  logBatch, oneHot, scoredTarget, selectRows, targetDistributionOf, uniformTarget,
  type BanditLog, type EstimatorInput, type RewardLearner,
} from '../../src/eval/index.js';
import { EcommerceSimulator } from '../../src/sim/index.js';
import { backends, cpuBackend } from '../support/fixture.js';
import { rng } from '../support/random.js';

function throwsBandit(f: () => unknown, pattern: RegExp): void {
  expect(f).to.throw(BanditError, pattern);
}

async function rejectsBandit(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(BanditError);
    expect((e as Error).message).to.match(pattern);
    return;
  }
  expect.fail(`expected a BanditError matching ${pattern}`);
}

/** A log of n rows over k arms with d-wide user contexts from `context(i)` and rewards from `reward(i)`. */
function makeLog(n: number, k: number, d: number, context: (i: number, x: Float32Array) => void, reward: (i: number, a: number) => number, seed = 1): BanditLog {
  const r = rng(seed);
  const contexts = new Float32Array(n * d), actions = new Int32Array(n), rewards = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    context(i, contexts.subarray(i * d, (i + 1) * d));
    actions[i] = Math.floor(r() * k);
    rewards[i] = reward(i, actions[i]!);
  }
  return {
    shape: { arms: k, users: n, userDim: d, itemDim: 1, hybridItemDim: 1 }, length: n,
    users: Int32Array.from({ length: n }, (_, i) => i), contexts, actions, rewards,
    propensities: new Float64Array(n).fill(1 / k), itemFeatures: new Float32Array(k), hybridItemFeatures: new Float32Array(k),
  };
}

describe('eval: cross-fitted reward models', function () {
  this.timeout(60_000);

  it('assigns folds as scikit-learn KFold sizes them: a permutation cut into n mod K longer pieces first, the same for the same seed', () => {
    const fold = foldAssignment(10, 3, 7);
    const sizes = [0, 1, 2].map((f) => fold.filter((x) => x === f).length);
    expect(sizes).to.deep.equal([4, 3, 3]);
    expect(Array.from(foldAssignment(10, 3, 7))).to.deep.equal(Array.from(fold));
    expect(Array.from(foldAssignment(10, 3, 8))).to.not.deep.equal(Array.from(fold));
    // Shuffled: not the first rows in fold 0.
    expect(Array.from(foldAssignment(100, 4, 1).subarray(0, 25)).every((f) => f === 0)).to.equal(false);
    throwsBandit(() => foldAssignment(5, 6, 0), /folds must be an integer in 1\.\.5/);
    throwsBandit(() => foldAssignment(5, 0, 0), /folds/);
    throwsBandit(() => foldAssignment(5, 2, -1), /seed/);
  });

  it('no row is predicted by a learner that was fitted on it; each row is predicted once, per position', async () => {
    const n = 103, k = 4;
    const positions = Int32Array.from({ length: n }, (_, i) => i % 3);
    const fitted: { train: Set<number>; predicted: number[] }[] = [];
    const spy = (): RewardLearner => {
      const me = { train: new Set<number>(), predicted: [] as number[] };
      fitted.push(me);
      return {
        fit: async (rows) => rows.forEach((i) => me.train.add(i)),
        // The prediction marks the learner: row i, arm a gets learner index + a/10.
        predict: async (rows) => {
          me.predicted.push(...rows);
          return Float64Array.from({ length: rows.length * k }, (_, j) => fitted.indexOf(me) + (j % k) / 10);
        },
        dispose: () => {},
      };
    };
    const { estimatedRewards, fold } = await crossFit(n, k, spy, { folds: 5, seed: 3, positions });
    expect(fitted.length).to.equal(15);   // 5 folds × 3 positions
    const times = new Int32Array(n);
    fitted.forEach((l, index) => {
      const ps = new Set([...l.train, ...l.predicted].map((i) => positions[i]));
      expect(ps.size, 'one position a learner').to.equal(1);
      for (const i of l.predicted) {
        expect(l.train.has(i), `row ${i} predicted by a learner that saw it`).to.equal(false);
        times[i]!++;
        expect(estimatedRewards[i * k + 2]).to.be.closeTo(index + 0.2, 1e-12);
        // Its training rows are exactly the other folds' rows at its position.
        for (const j of l.train) expect(fold[j]).to.not.equal(fold[i]);
      }
      const f = fold[l.predicted[0]!]!, p = positions[l.predicted[0]!]!;
      expect(l.train.size).to.equal(Array.from({ length: n }, (_, j) => j).filter((j) => fold[j] !== f && positions[j] === p).length);
    });
    expect(Array.from(times).every((t) => t === 1)).to.equal(true);
    // One fold is no cross-fitting: the model sees and predicts every row.
    fitted.length = 0;
    await crossFit(n, k, spy, { folds: 1 });
    expect(fitted.length).to.equal(1);
    expect(fitted[0]!.train.size).to.equal(n);
  });

  it('refuses bad cross-fitting input, and disposes the learner when it fails', async () => {
    let disposed = 0;
    const bad = (q: Float64Array): (() => RewardLearner) => () => ({ fit: async () => {}, predict: async () => q, dispose: () => void disposed++ });
    await rejectsBandit(crossFit(10, 2, bad(new Float64Array(3)), { folds: 2 }), /predicted 3 values/);
    await rejectsBandit(crossFit(4, 1, bad(new Float64Array([0, NaN])), { folds: 2, seed: 0 }), /predicted NaN/);
    expect(disposed).to.equal(2);
    await rejectsBandit(crossFit(4, 1, bad(new Float64Array(2)), { folds: 2, positions: [0, 1, 2, 3] }), /no training rows at position/);
    await rejectsBandit(crossFit(4, 1, bad(new Float64Array(2)), { positions: [0, 1] }), /positions holds 2/);
    await rejectsBandit(crossFit(4, 1, bad(new Float64Array(2)), { positions: [0, -1, 0, 0] }), /positions\[1\]/);
  });

  for (const which of ['gpu', 'cpu'] as const) {
    it(`ridge per arm (LinUCB, α = 0) cross-fitted: a row's own context is unseen by its model (${which === 'gpu' ? 'webgpu' : 'cpu'} backend)`, async () => {
      // Each row's context is its own basis vector e_i, so θ_a·e_i is nonzero only for a model
      // that trained on row i: cross-fitted, every estimate is 0; fitted on all rows, the logged
      // arm's estimate is r_i / (1 + λ) (A = λI + e_i e_iᵀ on that coordinate).
      const n = 48, k = 3;
      const log = makeLog(n, k, n, (i, x) => void (x[i] = 1), (i) => 1 + (i % 3));
      const backend: Backend = backends()[which];
      const crossed = await fitRewardModel(backend, log, { model: 'ridge', folds: 4, seed: 2, ridge: { lambda: 1 } });
      expect(crossed.estimatedRewards.length).to.equal(n * k);
      expect(Math.max(...crossed.estimatedRewards.map(Math.abs))).to.be.below(1e-6);
      const all = await fitRewardModel(backend, log, { model: 'ridge', folds: 1, ridge: { lambda: 1 } });
      for (let i = 0; i < n; i++) {
        for (let a = 0; a < k; a++) {
          const want = a === log.actions[i] ? log.rewards[i]! / 2 : 0;
          expect(all.estimatedRewards[i * k + a]).to.be.closeTo(want, 1e-5);
        }
      }
    });
  }

  it('ridge estimates equal a float64 ridge fit per arm on the other folds (cpu backend)', async () => {
    const n = 240, k = 3, d = 4, lambda = 0.5;
    const r = rng(9);
    const log = makeLog(n, k, d, (_, x) => x.forEach((_, j) => (x[j] = 2 * r() - 1)), (i, a) => (r() < 0.3 + 0.1 * a ? 1 : 0));
    const { estimatedRewards, fold } = await fitRewardModel(cpuBackend(), log, { folds: 3, seed: 5, ridge: { lambda } });
    for (let f = 0; f < 3; f++) {
      for (let a = 0; a < k; a++) {
        // A = λI + Σ x xᵀ, b = Σ r x over the arm's rows outside fold f; θ = A⁻¹ b by Gauss–Jordan.
        const m = Array.from({ length: d }, (_, i) => Array.from({ length: d + 1 }, (_, j) => (i === j ? lambda : 0)));
        for (let i = 0; i < n; i++) {
          if (fold[i] === f || log.actions[i] !== a) continue;
          const x = log.contexts.subarray(i * d, (i + 1) * d);
          for (let p = 0; p < d; p++) {
            for (let q = 0; q < d; q++) m[p]![q]! += x[p]! * x[q]!;
            m[p]![d]! += log.rewards[i]! * x[p]!;
          }
        }
        for (let c = 0; c < d; c++) {
          for (let p = 0; p < d; p++) {
            if (p === c) continue;
            const factor = m[p]![c]! / m[c]![c]!;
            for (let q = c; q <= d; q++) m[p]![q]! -= factor * m[c]![q]!;
          }
        }
        const theta = m.map((row, p) => row[d]! / row[p]!);
        for (let i = 0; i < n; i++) {
          if (fold[i] !== f) continue;
          const want = theta.reduce((s, t, p) => s + t * log.contexts[i * d + p]!, 0);
          expect(estimatedRewards[i * k + a]).to.be.closeTo(want, 1e-6 * (1 + Math.abs(want)));
        }
      }
    }
  });

  it('the MLP click model cross-fits to probabilities that track the clicks (cpu backend)', async () => {
    const sim = new EcommerceSimulator({ seed: 4, items: 4, users: 30, affinityScale: 6, shock: null });
    const log = sim.randomLog(1200);
    const { estimatedRewards } = await fitRewardModel(cpuBackend(), log, { model: 'mlp', folds: 2, seed: 1, mlp: { epochs: 8, hidden: [16] } });
    expect(estimatedRewards.every((q) => q > 0 && q < 1)).to.equal(true);
    // Better than the mean click rate at the logged arm (squared error), on rows it never saw.
    const k = log.shape.arms;
    const ctr = log.rewards.reduce((s, r) => s + r, 0) / log.length;
    let model = 0, constant = 0;
    for (let i = 0; i < log.length; i++) {
      model += (estimatedRewards[i * k + log.actions[i]!]! - log.rewards[i]!) ** 2;
      constant += (ctr - log.rewards[i]!) ** 2;
    }
    console.log(`      MLP held-out squared error ${(model / log.length).toFixed(4)} vs ${(constant / log.length).toFixed(4)} for the mean`);
    expect(model).to.be.below(0.95 * constant);
    await rejectsBandit(fitRewardModel(cpuBackend(), log, { model: 'forest' as never }), /model must be one of ridge, mlp/);
  });
});

describe('eval: target policy distributions', () => {
  const k = 6, rows = 40;
  const scores = Float32Array.from({ length: rows * k }, (_, i) => Math.sin(i * 1.7) * 2);
  const log = makeLog(rows, k, 2, (i, x) => ((x[0] = i), (x[1] = 1)), () => 0);
  const scoresOf = async (batch: { users: Int32Array }) => {
    const out = new Float32Array(batch.users.length * k);
    batch.users.forEach((u, j) => out.set(scores.subarray(u * k, (u + 1) * k), j * k));
    return out;
  };

  for (const policy of [
    { kind: 'epsilon-greedy', epsilon: 0.2 }, { kind: 'softmax', temperature: 0.7 }, { kind: 'squarecb', gamma: 10 }, { kind: 'greedy' },
  ] as const) {
    it(`a ${policy.kind} target has exactly the probabilities the cpu sampler draws with (sampleArms' propensities)`, async () => {
      const pi = await targetDistributionOf(log, scoredTarget(policy.kind, scoresOf, policy), { batchSize: 7 });
      const backend = cpuBackend();
      const s = backend.tensor(scores, [rows, k]);
      for (let step = 0; step < 5; step++) {
        const sampled = sampleArms(backend, s, { policy, key: { seed: 11, step } });
        const arms = await backend.read(sampled.arms), props = await backend.read(sampled.propensities);
        for (let r = 0; r < rows; r++) expect(pi[r * k + arms[r]!]).to.be.closeTo(props[r]!, 1e-6);
        for (const t of [sampled.arms, sampled.propensities, sampled.status]) t.dispose();
      }
      s.dispose();
      if (policy.kind === 'greedy') {
        const greedy = greedyTarget('argmax', async (b) => {
          const sc = await scoresOf(b);
          return Int32Array.from({ length: b.size }, (_, j) => {
            let best = 0;
            for (let a = 1; a < k; a++) if (sc[j * k + a]! > sc[j * k + best]!) best = a;
            return best;
          });
        });
        expect(Array.from(await targetDistributionOf(log, greedy))).to.deep.equal(Array.from(pi));
      }
    });
  }

  it('a decide-style target: arm frequencies over M draws (within 4 SE), one call when every row is deterministic', async () => {
    const truth = [0.5, 0.3, 0.2, 0, 0, 0];
    const r = rng(5);
    let calls = 0;
    const decide = async (b: { size: number }) => {
      calls++;
      const arms = Int32Array.from({ length: b.size }, () => {
        const u = r();
        return u < 0.5 ? 0 : u < 0.8 ? 1 : 2;
      });
      return { arms, propensities: Float32Array.from(arms, (a) => truth[a]!) };
    };
    const draws = 400;
    const pi = await decidedTarget('sampled', decide, { draws }).distribution(logBatch(log, [0, 1, 2]));
    expect(calls).to.equal(draws);
    for (let row = 0; row < 3; row++) {
      truth.forEach((p, a) => expect(Math.abs(pi[row * k + a]! - p)).to.be.at.most(4 * Math.sqrt((p * (1 - p)) / draws) + 1e-12));
    }
    calls = 0;
    const fixed = decidedTarget('greedy decide', async (b) => {
      calls++;
      return { arms: new Int32Array(b.size).fill(4), propensities: new Float32Array(b.size).fill(1) };
    }, { draws: 50 });
    expect(Array.from(await fixed.distribution(logBatch(log, [3, 4])))).to.deep.equal(Array.from(oneHot([4, 4], k)));
    expect(calls).to.equal(1);
    throwsBandit(() => decidedTarget('x', decide, { draws: 0 }), /draws must be a positive integer/);
  });

  it('checks the policies it wraps: arms out of range, wrong lengths, rows that do not sum to 1, rows without a finite score', async () => {
    await rejectsBandit(targetDistributionOf(log, greedyTarget('bad', async (b) => new Int32Array(b.size).fill(k))), /out of range/);
    await rejectsBandit(targetDistributionOf(log, { name: 'half', distribution: async (b) => new Float64Array(b.size * k).fill(0.5 / k) }), /row 0 sums to 0\.(5|49)/);
    await rejectsBandit(targetDistributionOf(log, scoredTarget('nan', async (b) => new Float32Array(b.size * k).fill(NaN), { kind: 'greedy' })), /no finite score/);
    await rejectsBandit(targetDistributionOf(log, scoredTarget('short', async () => new Float32Array(3), { kind: 'greedy' })), /returned 3 values/);
    throwsBandit(() => scoredTarget('t', scoresOf, { kind: 'softmax', temperature: 0 }), /temperature/);
    throwsBandit(() => oneHot([0, 6], 6), /arms\[1\]/);
    expect(Array.from(await targetDistributionOf(log, uniformTarget(), { rows: [5] }))).to.deep.equal(new Array(k).fill(1 / k));
    expect(selectRows(log, [3, 1]).contexts[0]).to.equal(3);
  });
});

describe('eval: bootstrapIntervals and the replay interval', () => {
  const r = rng(21);
  const n = 300, k = 4;
  const input: EstimatorInput = {
    rewards: Float64Array.from({ length: n }, () => (r() < 0.2 ? 1 : 0)),
    actions: Int32Array.from({ length: n }, () => Math.floor(r() * k)),
    propensities: new Float64Array(n).fill(1 / k),
    targetDistribution: Float64Array.from({ length: n * k }, (_, i) => ((i % k) === 1 ? 0.7 : 0.1)),
    estimatedRewards: Float64Array.from({ length: n * k }, () => 0.1 + 0.2 * r()),
  };

  it('equal one bootstrapInterval call per estimator with the same seed', () => {
    const all = bootstrapIntervals(input, { samples: 200, seed: 4, tau: 2, lambda: 3, confidence: 0.9 });
    const each = {
      dm: bootstrapInterval(input, { estimator: 'dm', samples: 200, seed: 4, confidence: 0.9 }),
      ips: bootstrapInterval(input, { estimator: 'ips', samples: 200, seed: 4, confidence: 0.9 }),
      snips: bootstrapInterval(input, { estimator: 'snips', samples: 200, seed: 4, confidence: 0.9 }),
      dr: bootstrapInterval(input, { estimator: 'dr', samples: 200, seed: 4, confidence: 0.9 }),
      sndr: bootstrapInterval(input, { estimator: 'sndr', samples: 200, seed: 4, confidence: 0.9 }),
      'switch-dr': bootstrapInterval(input, { estimator: 'switch-dr', tau: 2, samples: 200, seed: 4, confidence: 0.9 }),
      dros: bootstrapInterval(input, { estimator: 'dros', lambda: 3, samples: 200, seed: 4, confidence: 0.9 }),
    };
    for (const [name, ci] of Object.entries(each)) {
      const got = all[name as keyof typeof all]!;
      expect(got.estimate, name).to.be.closeTo(ci.estimate, 1e-12);
      expect(got.lower, name).to.be.closeTo(ci.lower, 1e-12);
      expect(got.upper, name).to.be.closeTo(ci.upper, 1e-12);
    }
    expect(Object.keys(bootstrapIntervals(input, { estimators: ['ips'], samples: 10 }))).to.deep.equal(['ips']);
    throwsBandit(() => bootstrapIntervals(input, { estimators: ['dr', 'nope' as never] }), /unknown estimator 'nope'/);
    throwsBandit(() => bootstrapIntervals(input, { samples: 10 }), /tau is required/);
    const { estimatedRewards: _, ...withoutModel } = input;
    throwsBandit(() => bootstrapIntervals(withoutModel, { estimators: ['dr'], samples: 10 }), /estimatedRewards/);
  });

  it('bootstrapDifferences: the paired percentile interval of V̂_a − V̂_b on shared resamples, against a reference', () => {
    // Target B moves 10 % of the rows' mass to action 0: its DR is close to A's and strongly correlated with it.
    const other = { ...input, targetDistribution: Float64Array.from(input.targetDistribution as Float64Array, (p, i) => (Math.floor(i / k) % 10 === 0 ? (i % k === 0 ? 1 : 0) : p)) };
    const samples = 300, seed = 6;
    const [d] = bootstrapDifferences([input, other], { estimator: 'dr', samples, seed, confidence: 0.9 });
    // Reference: DR's per-row terms of both, the documented index stream (random.int(n) in order), numpy percentiles.
    const drTerms = (x: EstimatorInput) => Array.from({ length: n }, (_, i) => {
      const a = x.actions[i]!;
      let model = 0;
      for (let b = 0; b < k; b++) model += x.targetDistribution[i * k + b]! * x.estimatedRewards![i * k + b]!;
      return model + (x.targetDistribution[i * k + a]! / x.propensities[i]!) * (x.rewards[i]! - x.estimatedRewards![i * k + a]!);
    });
    const ta = drTerms(input), tb = drTerms(other);
    const random = new Random(seed);
    const diffs: number[] = [];
    for (let s = 0; s < samples; s++) {
      let sa = 0, sb = 0;
      for (let j = 0; j < n; j++) {
        const i = random.int(n);
        sa += ta[i]!;
        sb += tb[i]!;
      }
      diffs.push((sa - sb) / n);
    }
    diffs.sort((x, y) => x - y);
    const pct = (q: number) => { const h = (samples - 1) * q, lo = Math.floor(h); return diffs[lo]! + (h - lo) * (diffs[lo + 1]! - diffs[lo]!); };
    expect(d!.estimate).to.be.closeTo(ta.reduce((x, y) => x + y, 0) / n - tb.reduce((x, y) => x + y, 0) / n, 1e-12);
    expect(d!.lower).to.be.closeTo(pct(0.05), 1e-12);
    expect(d!.upper).to.be.closeTo(pct(0.95), 1e-12);
    // Pairing keeps the shared rows' noise out: narrower than independent estimates' difference, sqrt(wa² + wb²) (measured 0.068 vs 0.14).
    const ca = bootstrapInterval(input, { estimator: 'dr', samples, seed, confidence: 0.9 }), cb = bootstrapInterval(other, { estimator: 'dr', samples, seed: seed + 1, confidence: 0.9 });
    expect(d!.upper - d!.lower).to.be.below(0.75 * Math.hypot(ca.upper - ca.lower, cb.upper - cb.lower));
    const same = bootstrapDifferences([input, input], { estimator: 'ips', samples: 20 })[0]!;
    expect([same.estimate, same.lower, same.upper]).to.deep.equal([0, 0, 0]);
    throwsBandit(() => bootstrapDifferences([input], { estimator: 'dr' }), /at least two inputs/);
    throwsBandit(() => bootstrapDifferences([input, { ...input, rewards: Float64Array.from(input.rewards, (r) => 1 - r) }], { estimator: 'dr' }), /differs from inputs\[0\] at row 0/);
  });

  it('bootstrapMeanInterval is the percentile bootstrap of a mean; NaN for no values', () => {
    const values = Array.from({ length: 50 }, (_, i) => i % 5);
    const ci = bootstrapMeanInterval(values, { samples: 500, seed: 2 });
    expect(ci.estimate).to.equal(2);
    expect(ci.lower).to.be.below(2);
    expect(ci.upper).to.be.above(2);
    // The same as the IPS bootstrap of a log whose every term is the value (w = 1).
    const same = bootstrapInterval({ rewards: values, actions: new Int32Array(50), propensities: new Float64Array(50).fill(1), targetDistribution: new Float64Array(50).fill(1) },
      { estimator: 'ips', samples: 500, seed: 2 });
    expect(ci.lower).to.be.closeTo(same.lower, 1e-12);
    expect(ci.upper).to.be.closeTo(same.upper, 1e-12);
    expect(Number.isNaN(bootstrapMeanInterval([]).lower)).to.equal(true);
    throwsBandit(() => bootstrapMeanInterval([1, NaN]), /values\[1\]/);
  });
});
