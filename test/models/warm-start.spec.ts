import { expect } from 'chai';
import { EmbeddingMLP, HybridLinUCB, LinTS, LinUCB, NeuralTS, NeuralUCB, type Backend } from '../../src/index.js';
import { decodeModel } from '../../src/models/persist.js';
import { backends, describeBackends } from '../support/fixture.js';
import { rng, uniform } from '../support/random.js';
import { rejects } from './drive.js';
import { CosineBandit } from './nonlinear-bandit.js';
import { ONLINE_KINDS, comparableSave, online, pickPlayed, type Online } from './online-drive.js';

const both = (): Backend[] => [backends().cpu, backends().gpu];
const K = 4;

/** Two alike models of `kind` and six played rows of contexts with their arms and rewards. */
async function pair(kind: (typeof ONLINE_KINDS)[number], backend: Backend, extra: object = {}) {
  const a = await online(kind, backend, K, extra), b = await online(kind, backend, K, extra);
  const c = a.contexts(6, 71), arms = Int32Array.of(0, 2, 2, 1, 3, 0);
  return { a, b, arms, played: a.played(c, 1, arms), rewards: Float32Array.of(0.9, 0.1, 0.4, 0.7, 0.2, 0.5), probe: a.contexts(3, 72) };
}

/** A save to compare: alike models differ only in the random model id their event ids carry. */
const bytes = async (m: Online) => comparableSave(m.kind, await m.save());

describeBackends('weighted updates and warm start from logs', function () {
  this.timeout(600_000);

  for (const kind of ONLINE_KINDS) {
    const variants: object[] = kind.startsWith('Neural') ? [{}, { confidence: 'full' }] : [{}];
    it(`${kind}: weights of 1 are the plain update bit for bit, a weight of 0 skips its row (= the update without it), all 0 is a no-op (save bytes, both backends)`, async () => {
      for (const backend of both()) {
        for (const extra of variants) {
          const what = `${kind} ${JSON.stringify(extra)} on ${backend.kind}`;
          const { a, b, arms, played, rewards } = await pair(kind, backend, extra);
          await a.update(arms, played, rewards, { weights: new Float32Array(6).fill(1) });
          await b.update(arms, played, rewards);
          expect(await bytes(a), `${what}: w = 1`).to.deep.equal(await bytes(b));
          const before = await bytes(a);
          await a.update(arms, played, rewards, { weights: new Float32Array(6) });
          expect(await bytes(a), `${what}: w = 0`).to.deep.equal(before);
          const keep = [0, 2, 3, 5];
          await a.update(arms, played, rewards, { weights: [1, 0, 1, 1, 0, 1] });
          await b.update(Int32Array.from(keep, (i) => arms[i]!), pickPlayed(played, keep), keep.map((i) => rewards[i]!));
          expect(await bytes(a), `${what}: rows of weight 0 left out`).to.deep.equal(await bytes(b));
          a.dispose();
          b.dispose();
        }
      }
    });

    it(`${kind}: bad weights are a BanditError and leave save() bytes unchanged`, async () => {
      for (const backend of both()) {
        const { a, b, arms, played, rewards } = await pair(kind, backend);
        await a.update(arms, played, rewards);
        const before = Array.from(await a.save());
        const bad: [string, object, RegExp][] = [
          ['a negative weight', { weights: [1, 1, -1, 1, 1, 1] }, /weights\[2\] is -1; weights must be finite and ≥ 0/],
          ['a NaN weight', { weights: [1, NaN, 1, 1, 1, 1] }, /weights\[1\] is NaN/],
          ['an infinite weight', { weights: [1, 1, 1, 1, 1, Infinity] }, /weights\[5\] is Infinity/],
          ['too few weights', { weights: [1, 1] }, /6 rows but 2 weights/],
          ['weights not numbers', { weights: 'heavy' }, /weights must be a Float32Array/],
        ];
        for (const [name, options, pattern] of bad) await rejects(a.update(arms, played, rewards, options), pattern, `${kind} on ${backend.kind}: ${name}`);
        await rejects(a.update(arms, played, rewards, 3 as never), /options must be an object/);
        expect(Array.from(await a.save()), `${kind} on ${backend.kind}: state after bad weights`).to.deep.equal(before);
        a.dispose();
        b.dispose();
      }
    });
  }

  it('a weight w counts its row w times: A, b (and the hybrid\'s B, A0, b0) equal the row given w times, and NeuralUCB\'s Z (diagonal and full) likewise (cpu, float64)', async () => {
    const { cpu } = backends();
    const close = (x: ArrayLike<number>, y: ArrayLike<number>, what: string, rel = 1e-12) => {
      expect(x.length, what).to.equal(y.length);
      for (let i = 0; i < x.length; i++) {
        if (!(Math.abs(x[i]! - y[i]!) <= rel * (1 + Math.abs(y[i]!)))) expect.fail(`${what}[${i}]: ${x[i]} vs ${y[i]}`);
      }
    };
    const cases: [string, object, string[]][] = [
      ['LinUCB', {}, ['a', 'b']], ['LinTS', {}, ['a', 'b']], ['HybridLinUCB', {}, ['a', 'B', 'b', 'a0', 'b0']],
      ['NeuralUCB', { trainEvery: 0 }, ['zDiag']], ['NeuralUCB', { trainEvery: 0, confidence: 'full' }, ['z']],
    ];
    for (const [kind, extra, names] of cases) {
      const { a, b, arms, played, rewards } = await pair(kind as (typeof ONLINE_KINDS)[number], cpu, extra);
      const rows = [1, 4], w = [3, 0.5];
      await a.update(Int32Array.from(rows, (i) => arms[i]!), pickPlayed(played, rows), rows.map((i) => rewards[i]!), { weights: w });
      // w = 0.5 on the twin: the row once with half its weight is the plain row scaled by √0.5 in x and r.
      const thrice = [1, 1, 1];
      await b.update(Int32Array.from(thrice, (i) => arms[i]!), pickPlayed(played, thrice), thrice.map((i) => rewards[i]!));
      const half = pickPlayed(played, [4]);
      const scaled = half instanceof Float32Array ? Float64Array.from(half, (v) => v * Math.SQRT1_2)
        : { arm: Float64Array.from(half.arm, (v) => v * Math.SQRT1_2), shared: Float64Array.from(half.shared, (v) => v * Math.SQRT1_2) };
      if (kind.startsWith('Neural')) await b.update(Int32Array.of(arms[4]!), half, [rewards[4]!], { weights: [0.5] });
      else await b.update(Int32Array.of(arms[4]!), scaled as never, [rewards[4]! * Math.SQRT1_2]);
      const mine = decodeModel(await a.save(), kind, [1, 2]).arrays, theirs = decodeModel(await b.save(), kind, [1, 2]).arrays;
      // √w enters in f32 (x·√w rounded once; the neural models' row factors are f32): f32 precision.
      for (const name of names) close(mine[name]!, theirs[name]!, `${kind} ${JSON.stringify(extra)}: ${name}`, 1e-6);
      if (kind.startsWith('Neural')) expect(Array.from(mine['historyW']!), `${kind}: the history keeps the weights`).to.deep.equal([3, 0.5]);
      a.dispose();
      b.dispose();
    }
  });

  it('warmStart: \'ips\' weighs rows min(1/p, clip), normalised per arm (linear) or over the log (neural), and equals update with those weights; \'none\' is the plain update; bad logs are BanditErrors and change nothing', async () => {
    const { cpu } = backends();
    const propensities = [0.5, 0.25, 0.2, 0.1, 0.5, 0.05];
    for (const kind of ONLINE_KINDS) {
      const { a, b, arms, played, rewards } = await pair(kind, cpu, kind.startsWith('Neural') ? { trainEvery: 0 } : {});
      const raw = propensities.map((p) => Math.min(1 / p, 8));
      const groups = kind.startsWith('Neural') ? Array.from(arms, () => 0) : Array.from(arms);
      const weights = raw.map((w, i) => {
        const mine = raw.filter((_, j) => groups[j] === groups[i]!);
        return (w * mine.length) / mine.reduce((s, v) => s + v, 0);
      });
      await a.warmStart({ arms, contexts: played, rewards, propensities }, { clip: 8 });
      await b.update(arms, played, rewards, { weights });
      expect(await bytes(a), `${kind}: warmStart = update with the IPS weights`).to.deep.equal(await bytes(b));
      await a.warmStart({ arms, contexts: played, rewards, propensities }, { weighting: 'none' });
      await b.update(arms, played, rewards);
      expect(await bytes(a), `${kind}: weighting 'none' = the plain update`).to.deep.equal(await bytes(b));
      const before = await bytes(a);
      const log = (p: unknown) => ({ arms, contexts: played, rewards, propensities: p as number[] });
      const bad: [string, () => Promise<unknown>, RegExp][] = [
        ['p = 0 without clip', () => a.warmStart(log([0, 1, 1, 1, 1, 1])), /propensities\[0\] is 0: its importance weight 1\/p is infinite/],
        ['p > 1', () => a.warmStart(log([1, 1.5, 1, 1, 1, 1])), /propensities\[1\] is 1.5; propensities are probabilities in \(0, 1\]/],
        ['NaN p', () => a.warmStart(log([1, 1, NaN, 1, 1, 1])), /propensities\[2\] is NaN/],
        ['too few propensities', () => a.warmStart(log([1])), /6 logged arms but 1 propensities/],
        ['a bad weighting', () => a.warmStart(log(propensities), { weighting: 'snips' as never }), /weighting must be 'ips' or 'none'/],
        ['clip 0', () => a.warmStart(log(propensities), { clip: 0 }), /clip must be a number > 0/],
        ['no log', () => a.warmStart(null as never), /the log must be \{ arms, contexts, rewards, propensities \}/],
        ['a bad row in the log', () => a.warmStart({ ...log(propensities), rewards: [1, 1, 1, NaN, 1, 1] }), /rewards\[3\].*NaN/],
      ];
      for (const [name, p, pattern] of bad) await rejects(p(), pattern, `${kind}: ${name}`);
      expect(await bytes(a), `${kind}: state after bad logs`).to.deep.equal(before);
      await a.warmStart(log([0, 1, 1, 1, 1, 1]), { clip: 4 });
      a.dispose();
      b.dispose();
    }
  });

  it('EmbeddingMLP: fit with weights of 1 is the plain fit bit for bit, rows of weight 0 are left out, warmStart = fit with the normalised IPS weights; bad weights change nothing', async () => {
    for (const backend of both()) {
      const make = () => EmbeddingMLP.create(backend, { users: 3, items: 4, contextDim: 1, hidden: [4], embeddingDim: 2, batchSize: 4, epochs: 2, seed: 9 });
      const [a, b] = [await make(), await make()];
      const users = Int32Array.of(0, 1, 2, 0, 1, 2), items = Int32Array.of(0, 1, 2, 3, 0, 1), contexts = uniform(6, 3), clicks = [1, 0, 1, 0, 1, 1];
      const save = async (m: EmbeddingMLP) => Array.from(await m.save());
      await a.fit({ users, items, contexts, clicks, weights: new Float32Array(6).fill(1) });
      await b.fit({ users, items, contexts, clicks });
      expect(await save(a), `w = 1 on ${backend.kind}`).to.deep.equal(await save(b));
      const keep = [0, 1, 3, 5], pick = <T extends ArrayLike<number>>(v: T) => keep.map((i) => v[i]!);
      await a.fit({ users, items, contexts, clicks, weights: [1, 1, 0, 1, 0, 1] });
      await b.fit({ users: Int32Array.from(pick(users)), items: Int32Array.from(pick(items)), contexts: pick(contexts), clicks: pick(clicks) });
      expect(await save(a), `rows of weight 0 on ${backend.kind}`).to.deep.equal(await save(b));
      const before = await save(a);
      expect((await a.fit({ users, items, contexts, clicks, weights: new Float32Array(6) })).losses).to.deep.equal([]);
      expect(await save(a), `all weights 0 on ${backend.kind}`).to.deep.equal(before);
      const propensities = [0.25, 0.5, 0.25, 0.1, 0.25, 0.5];
      const raw = propensities.map((p) => 1 / p), total = raw.reduce((s, v) => s + v, 0);
      await a.warmStart({ users, arms: items, contexts, rewards: clicks, propensities }, { epochs: 1 });
      await b.fit({ users, items, contexts, clicks, weights: raw.map((w) => (w * 6) / total) }, { epochs: 1 });
      expect(await save(a), `warmStart on ${backend.kind}`).to.deep.equal(await save(b));
      const now = await save(a);
      await rejects(a.fit({ users, items, contexts, clicks, weights: [1, 1, 1, -2, 1, 1] }), /weights\[3\] is -2/);
      await rejects(a.fit({ users, items, contexts, clicks, weights: [1] }), /6 rows but 1 weights/);
      await rejects(a.warmStart({ users, arms: items, contexts, rewards: clicks, propensities: [0, 1, 1, 1, 1, 1] }), /importance weight 1\/p is infinite/);
      expect(await save(a), `state after bad input on ${backend.kind}`).to.deep.equal(now);
      a.dispose();
      b.dispose();
    }
  });

  describe('a model warm-started from a uniformly random log beats a cold one over the first rounds (seeded synthetic bandits, cpu)', () => {
    const SEEDS = [1, 2, 3], LOG = 200, ROUNDS = 60;
    /** The regrets measured, printed after each model (the suite's log keeps them). */
    let seen: string[] = [];
    beforeEach(() => (seen = []));
    afterEach(function () {
      console.log(`      ${this.currentTest?.title}: regret over ${ROUNDS} rounds, ${seen.join('; ')}`);
    });

    /** A linear bandit of K arms: reward xᵀθ*_a (+ f_aᵀβ* for the hybrid's shared part) + N(0, 0.1²). */
    function linearBandit(seed: number, dim: number, shared: number) {
      const r = rng(seed), gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
      const theta = Array.from({ length: K }, () => Array.from({ length: dim }, gauss));
      const f = Array.from({ length: K }, () => Array.from({ length: shared }, gauss)), beta = Array.from({ length: shared }, gauss);
      return {
        context: () => Float32Array.from({ length: dim }, () => Math.fround(2 * r() - 1)),
        means: (x: Float32Array) => theta.map((t, a) => t.reduce((s, v, j) => s + v * x[j]!, 0) + f[a]!.reduce((s, v, j) => s + v * beta[j]!, 0)),
        noise: () => 0.1 * gauss(),
        features: (a: number) => Float32Array.from(f[a]!),
      };
    }

    for (const kind of ['LinUCB', 'LinTS', 'HybridLinUCB'] as const) {
      it(`${kind}`, async () => {
        const { cpu } = backends(), dim = 4, shared = kind === 'HybridLinUCB' ? 2 : 0;
        for (const seed of SEEDS) {
          const bandit = linearBandit(seed, dim, shared);
          const make = async () => kind === 'LinUCB' ? LinUCB.create(cpu, { arms: K, dim, seed })
            : kind === 'LinTS' ? LinTS.create(cpu, { arms: K, dim, seed }) : HybridLinUCB.create(cpu, { arms: K, dim, sharedDim: shared, seed });
          // Hybrid contexts: x the same for every arm, z the arm's own features.
          const contexts = (xs: Float32Array[], perArm: boolean) => perArm
            ? { arm: Float32Array.from(xs.flatMap((x) => Array.from({ length: K }, () => Array.from(x)).flat())), shared: Float32Array.from(xs.flatMap(() => Array.from({ length: K }, (_, a) => Array.from(bandit.features(a))).flat())) }
            : Float32Array.from(xs.flatMap((x) => Array.from(x)));
          const hybrid = kind === 'HybridLinUCB';
          const logR = rng(seed + 100), xs = Array.from({ length: LOG }, () => bandit.context());
          const arms = Int32Array.from(xs, () => Math.floor(logR() * K));
          const rewards = Float32Array.from(xs, (x, i) => bandit.means(x)[arms[i]!]! + bandit.noise());
          const [cold, warm] = [await make(), await make()];
          await (warm as LinUCB).warmStart({ arms, contexts: contexts(xs, hybrid) as Float32Array, rewards, propensities: new Float32Array(LOG).fill(1 / K) });
          const regret = [0, 0];
          for (let t = 0; t < ROUNDS; t++) {
            const x = bandit.context(), means = bandit.means(x), best = Math.max(...means), noise = bandit.noise();
            for (const [i, m] of [cold, warm].entries()) {
              const c = contexts([x], hybrid) as Float32Array;
              const [a] = await (m as LinUCB).select(c);
              regret[i]! += best - means[a!]!;
              await (m as LinUCB).update(Int32Array.of(a!), c, [means[a!]! + noise]);
            }
          }
          seen.push(`seed ${seed}: warm ${regret[1]!.toFixed(2)}, cold ${regret[0]!.toFixed(2)}`);
          expect(regret[1], `${kind} seed ${seed}: warm regret ${regret[1]!.toFixed(2)} vs cold ${regret[0]!.toFixed(2)} over ${ROUNDS} rounds`).to.be.below(regret[0]!);
          cold.dispose();
          warm.dispose();
        }
      });
    }

    for (const kind of ['NeuralUCB', 'NeuralTS'] as const) {
      it(`${kind}`, async () => {
        const { cpu } = backends(), dim = 4;
        for (const seed of SEEDS) {
          const bandit = new CosineBandit(dim, K, seed);
          const make = () => kind === 'NeuralUCB' ? NeuralUCB.create(cpu, { dim, hidden: [20], seed }) : NeuralTS.create(cpu, { dim, hidden: [20], seed });
          const logR = rng(seed + 100), x = new Float32Array(LOG * dim), arms = new Int32Array(LOG), rewards = new Float32Array(LOG);
          for (let i = 0; i < LOG; i++) {
            const round = bandit.round(), a = Math.floor(logR() * K);
            x.set(round.x.subarray(a * dim, (a + 1) * dim), i * dim);
            arms[i] = a;
            rewards[i] = bandit.reward(round.means[a]!);
          }
          const [cold, warm] = [await make(), await make()];
          await warm.warmStart({ arms, contexts: x, rewards, propensities: new Float32Array(LOG).fill(1 / K) });
          const regret = [0, 0];
          for (let t = 0; t < ROUNDS; t++) {
            const { x: features, means } = bandit.round(), best = Math.max(...means), r = bandit.reward(0);
            for (const [i, m] of [cold, warm].entries()) {
              const [a] = await m.select(features, { arms: K });
              regret[i]! += best - means[a!]!;
              await m.update(Int32Array.of(a!), features.subarray(a! * dim, (a! + 1) * dim), [means[a!]! + r]);
            }
          }
          seen.push(`seed ${seed}: warm ${regret[1]!.toFixed(2)}, cold ${regret[0]!.toFixed(2)}`);
          expect(regret[1], `${kind} seed ${seed}: warm regret ${regret[1]!.toFixed(2)} vs cold ${regret[0]!.toFixed(2)} over ${ROUNDS} rounds`).to.be.below(regret[0]!);
          cold.dispose();
          warm.dispose();
        }
      });
    }

    it('EmbeddingMLP (served frozen: warm-started vs never trained)', async () => {
      const { cpu } = backends(), users = 6, items = 5;
      for (const seed of SEEDS) {
        const r = rng(seed), best = Array.from({ length: users }, () => Math.floor(r() * items));
        const p = (u: number, i: number) => (i === best[u] ? 0.8 : 0.1);
        const n = 2 * LOG, logUsers = Int32Array.from({ length: n }, () => Math.floor(r() * users)), logItems = Int32Array.from({ length: n }, () => Math.floor(r() * items));
        const clicks = Float32Array.from(logItems, (i, j) => (r() < p(logUsers[j]!, i) ? 1 : 0));
        const make = () => EmbeddingMLP.create(cpu, { users, items, contextDim: 0, hidden: [16], embeddingDim: 4, batchSize: 32, seed });
        const [cold, warm] = [await make(), await make()];
        await warm.warmStart({ users: logUsers, arms: logItems, contexts: [], rewards: clicks, propensities: new Float32Array(n).fill(1 / items) }, { epochs: 20 });
        const regret = [0, 0];
        for (let t = 0; t < ROUNDS; t++) {
          const u = Math.floor(r() * users);
          for (const [i, m] of [cold, warm].entries()) {
            const [a] = await m.select(Int32Array.of(u));
            regret[i]! += p(u, best[u]!) - p(u, a!);
          }
        }
        seen.push(`seed ${seed}: warm ${regret[1]!.toFixed(2)}, cold ${regret[0]!.toFixed(2)}`);
        expect(regret[1], `seed ${seed}: warm regret ${regret[1]!.toFixed(2)} vs cold ${regret[0]!.toFixed(2)} over ${ROUNDS} rounds`).to.be.below(regret[0]!);
        cold.dispose();
        warm.dispose();
      }
    });
  });
});
