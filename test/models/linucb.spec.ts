import { expect } from 'chai';
import { BanditError, LinUCB, type Backend, type LinUCBOptions } from '../../src/index.js';
import { LinearBandit } from '../support/bandit.js';
import { expectClose, type Tolerance } from '../support/compare.js';
import { backends, cpuBackend, describeBackends, f32Backend } from '../support/fixture.js';
import { rng, uniform } from '../support/random.js';
import { DirectLinUCB } from '../support/reference.js';
import { decodeModel, encodeModel } from '../../src/models/persist.js';

/** The cpu backend's float64 state against the direct reference: only the reassociation of float64 sums differs. */
const TOL_CPU_VS_DIRECT: Tolerance = { abs: 1e-10, rel: 1e-9 };
/** Scores come back as Float32Array (the API's type): one f32 rounding of the float64 score. */
const TOL_F32_OUTPUT: Tolerance = { abs: 1e-30, rel: 2 ** -24 };
/**
 * webgpu (f32 state) against the cpu backend (float64) after a few hundred Sherman–Morrison updates
 * of small, well-conditioned models: each of the ~d² f32 roundings per update is ~6e-8 relative.
 */
const TOL_F32_MODEL: Tolerance = { abs: 2e-4, rel: 2e-4 };
/** The bar for webgpu and cpu choosing the same arm on the same stream. */
const MIN_AGREEMENT = 0.995;
/** Drift ‖A·A⁻¹ − I‖∞ the controlled model must stay under over 10⁵ updates of one arm. */
const MAX_CONTROLLED_DRIFT = 1e-3;

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  let error: unknown = null;
  await p.catch((e) => (error = e));
  expect(error, 'expected a rejection').to.be.instanceOf(BanditError);
  expect(String((error as Error).message)).to.match(pattern);
}

/** Runs a LinUCB model on a bandit for `rounds` rounds of `batch` rows; returns per-row regret. */
async function runBandit(model: LinUCB, env: LinearBandit, rounds: number, batch: number): Promise<Float64Array> {
  const regret = new Float64Array(rounds * batch);
  for (let r = 0; r < rounds; r++) {
    const x = env.contexts(batch);
    const chosen = await model.select(x);
    const rewards = new Float32Array(batch);
    for (let i = 0; i < batch; i++) {
      const out = env.play(chosen[i]!, x, i, r * batch + i);
      rewards[i] = out.reward;
      regret[r * batch + i] = out.regret;
    }
    await model.update(chosen, x, rewards);
  }
  return regret;
}

const sum = (a: ArrayLike<number>, from = 0, to = a.length): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  return s;
};

describeBackends('LinUCB', function (kind) {
  this.timeout(300_000);

  for (const perArm of [false, true]) {
    it(`the cpu backend equals a direct-inverse float64 reference (${perArm ? 'per-arm' : 'shared'} contexts)`, async () => {
      const K = 6, d = 5, alpha = 0.7, lambda = 0.5;
      const model = await LinUCB.create(cpuBackend(), { arms: K, dim: d, alpha, lambda, perArmFeatures: perArm });
      const ref = new DirectLinUCB(K, d, alpha, lambda);
      const r = rng(11);
      for (let step = 0; step < 60; step++) {
        const B = 1 + (step % 4);
        const x = uniform(B * (perArm ? K : 1) * d, 100 + step);
        expectClose(await model.scores(x), ref.scores(x, perArm), TOL_F32_OUTPUT, `scores at step ${step}`);
        const arms = Int32Array.from({ length: B }, () => Math.floor(r() * K));
        const rewards = Float32Array.from({ length: B }, () => r());
        await model.update(arms, x, rewards);
        for (let i = 0; i < B; i++) {
          const o = perArm ? (i * K + arms[i]!) * d : i * d;
          ref.update(arms[i]!, x.subarray(o, o + d), rewards[i]!);
        }
      }
      // The float64 state itself: the saved θ and A⁻¹ against the reference's direct inverse.
      const saved = decodeModel(await model.save(), 'LinUCB', [1]).arrays;
      expect(saved['aInv']).to.be.instanceOf(Float64Array);
      expectClose(saved['aInv']!, ref.inverses(), TOL_CPU_VS_DIRECT, 'A⁻¹ after 150 updates');
      expectClose(saved['theta']!, ref.thetas(), TOL_CPU_VS_DIRECT, 'θ after 150 updates');
      model.dispose();
    });
  }

  it('select is the argmax of scores with ties to the lowest arm, on both backends', async () => {
    for (const b of [f32Backend(), cpuBackend()]) {
      const model = await LinUCB.create(b, { arms: 9, dim: 3 });
      const x = uniform(4 * 3, 5);
      // A fresh model scores every arm alike: θ = 0, the same bonus.
      expect(Array.from(await model.select(x))).to.deep.equal([0, 0, 0, 0]);
      await model.update(new Int32Array([4, 4, 7]), x.subarray(0, 9), new Float32Array([1, 1, 1]));
      const s = await model.scores(x);
      const chosen = await model.select(x);
      for (let i = 0; i < 4; i++) {
        const row = Array.from(s.subarray(i * 9, (i + 1) * 9));
        expect(chosen[i]).to.equal(row.indexOf(Math.max(...row)));
      }
      model.dispose();
    }
  });

  it('applies several updates of one arm in one batch in order, like the cpu backend', async () => {
    const { gpu, cpu } = backends();
    const opts: LinUCBOptions = { arms: 5, dim: 4, alpha: 1, lambda: 1 };
    const [g, c] = [await LinUCB.create(gpu, opts), await LinUCB.create(cpu, opts)];
    const x = uniform(5 * 4, 9);
    const arms = new Int32Array([2, 2, 0, 2, 4]);
    const rewards = new Float32Array([1, -0.5, 0.25, 2, 1]);
    await g.update(arms, x, rewards);
    await c.update(arms, x, rewards);
    const probe = uniform(3 * 4, 10);
    expectClose(await g.scores(probe), await c.scores(probe), TOL_F32_MODEL, 'scores after a batch with a repeated arm');
    g.dispose();
    c.dispose();
  });

  it(`webgpu and cpu choose the same arm in ≥ ${MIN_AGREEMENT * 100}% of 2,000 rounds of a synthetic linear bandit`, async () => {
    const { gpu, cpu } = backends();
    const env = new LinearBandit(20, 8, 3);
    const opts: LinUCBOptions = { arms: 20, dim: 8, alpha: 0.5, lambda: 1 };
    const [g, c] = [await LinUCB.create(gpu, opts), await LinUCB.create(cpu, opts)];
    let agree = 0;
    const batch = 10;
    for (let r = 0; r < 200; r++) {
      const x = env.contexts(batch);
      const [cg, cc] = [await g.select(x), await c.select(x)];
      for (let i = 0; i < batch; i++) if (cg[i] === cc[i]) agree++;
      // Both learn from the cpu's choices, so their states stay comparable.
      const rewards = Float32Array.from(cc, (a, i) => env.play(a, x, i, r * batch + i).reward);
      await g.update(cc, x, rewards);
      await c.update(cc, x, rewards);
    }
    const rate = agree / 2000;
    console.log(`      agreement webgpu vs cpu: ${(rate * 100).toFixed(2)}% of 2000 rounds`);
    expect(rate).to.be.at.least(MIN_AGREEMENT);
    g.dispose();
    c.dispose();
  });

  it('regret on a synthetic linear bandit grows sublinearly (webgpu)', async () => {
    const env = new LinearBandit(10, 6, 21, 0.1);
    const model = await LinUCB.create(f32Backend(), { arms: 10, dim: 6, alpha: 0.5, lambda: 1 });
    const T = 3000;
    const regret = await runBandit(model, env, T / 10, 10);
    const half = sum(regret, 0, T / 2), second = sum(regret, T / 2, T);
    // Uniform play as the yardstick: its regret is linear.
    const x = env.contexts(T);
    let random = 0;
    const r = rng(5);
    for (let i = 0; i < T; i++) random += env.play(Math.floor(r() * 10), x, i, i).regret;
    console.log(`      regret: first half ${half.toFixed(1)}, second half ${second.toFixed(1)}, uniform ${random.toFixed(1)}`);
    // √T growth gives second/first ≈ 0.41; linear growth gives 1.
    expect(second).to.be.below(0.6 * half);
    expect(half + second).to.be.below(0.3 * random);
    model.dispose();
  });

  it(`keeps the drift of one d = 32 arm under ${MAX_CONTROLLED_DRIFT} over 10⁵ updates, and reports what it reaches without control`, async () => {
    const d = 32, total = 100_000, batch = 5000;
    // Default control (drift measured every 256 updates, bound 1e-4, re-factorised every 2048).
    const controlled = await LinUCB.create(f32Backend(), { arms: 1, dim: d });
    const free = await LinUCB.create(f32Backend(), { arms: 1, dim: d, driftCheckEvery: 0, refactorEvery: 0, driftBound: 1e30 });
    const arms = new Int32Array(batch);
    const r = rng(4);
    const gauss = () => Math.sqrt(-2 * Math.log(Math.max(r(), 1e-12))) * Math.cos(2 * Math.PI * r());
    let worst = 0;
    for (let done = 0; done < total; done += batch) {
      // Realistic features: a constant (bias) term and features whose scales run from 1 to 1e-2,
      // so A is ill-conditioned and f32 Sherman–Morrison drifts (isotropic unit contexts barely do).
      const x = new Float32Array(batch * d);
      for (let i = 0; i < batch; i++) {
        x[i * d] = 1;
        for (let j = 1; j < d; j++) x[i * d + j] = gauss() * 10 ** ((-2 * j) / (d - 1));
      }
      const rewards = uniform(batch, done);
        for (let part = 0; part < batch; part += 256) {
        // Several calls per batch so the drift is sampled at every check, not only at the end of a call.
        const rows = Math.min(256, batch - part);
        await controlled.update(arms.subarray(0, rows), x.subarray(part * d, (part + rows) * d), rewards.subarray(part, part + rows));
        worst = Math.max(worst, controlled.diagnostics().lastDrift ?? 0);
      }
      await free.update(arms, x, rewards);
    }
    const finalControlled = await controlled.measureDrift();
    const finalFree = await free.measureDrift();
    const diag = controlled.diagnostics();
    console.log(`      drift after 10⁵ updates: controlled ${finalControlled.toExponential(2)} (worst measured ${worst.toExponential(2)}, ` +
      `${diag.refactorizations} re-factorisations), uncontrolled ${finalFree.toExponential(2)}`);
    expect(diag.updates).to.equal(total);
    expect(worst).to.be.below(MAX_CONTROLLED_DRIFT);
    expect(finalControlled).to.be.below(MAX_CONTROLLED_DRIFT);
    // Without control f32 Sherman–Morrison drifts past what the control allows (≈1.7e-3 measured here).
    expect(finalFree).to.be.above(worst);
    expect(free.diagnostics().refactorizations).to.equal(0);
    controlled.dispose();
    free.dispose();
  });

  it('discounted LinUCB recovers from a market shock faster than plain LinUCB (webgpu)', async () => {
    const K = 5, d = 4, T = 2000, batch = 10;
    const regretAfter = async (options: Partial<LinUCBOptions>) => {
      const env = new LinearBandit(K, d, 77, 0.05);
      env.shockAt = T / 2;
      const model = await LinUCB.create(f32Backend(), { arms: K, dim: d, alpha: 0.3, lambda: 1, ...options });
      const regret = await runBandit(model, env, T / batch, batch);
      model.dispose();
      return sum(regret, T / 2, T);
    };
    const plain = await regretAfter({});
    const discounted = await regretAfter({ forgetting: { gamma: 0.98 } });
    console.log(`      regret after the shock: plain ${plain.toFixed(1)}, discounted (γ = 0.98) ${discounted.toFixed(1)}`);
    expect(discounted).to.be.below(0.7 * plain);
  });

  it('a model split over several tensors (shards) gives the results of one', async () => {
    const g = f32Backend();
    for (const extra of [{}, { forgetting: { gamma: 0.9 } }, { perArmFeatures: true }] as Partial<LinUCBOptions>[]) {
      const opts: LinUCBOptions = { arms: 23, dim: 5, alpha: 0.8, ...extra };
      const one = await LinUCB.create(g, opts);
      const split = await LinUCB.create(g, { ...opts, armsPerShard: 7 });
      expect(split.diagnostics().shards).to.deep.equal([7, 7, 7, 2]);
      const rows = 6, per = opts.perArmFeatures ? 23 * 5 : 5;
      for (let step = 0; step < 5; step++) {
        const x = uniform(rows * per, step);
        const arms = Int32Array.from({ length: rows }, (_, i) => (step * 7 + i * 5) % 23);
        const rewards = uniform(rows, 50 + step);
        await one.update(arms, x, rewards);
        await split.update(arms, x, rewards);
      }
      const probe = uniform(3 * per, 99);
      expectClose(await split.scores(probe), await one.scores(probe), TOL_F32_MODEL, `sharded vs one (${JSON.stringify(extra)})`);
      expect(Array.from(await split.select(probe))).to.deep.equal(Array.from(await one.select(probe)));
      one.dispose();
      split.dispose();
    }
  });

  // webgpu only: on wasm (1 GiB a tensor) the over-long scores call would need a 1 GiB host array.
  if (kind === 'webgpu') it('computes how many arms one binding holds and refuses more with a clear error', async () => {
    const g = f32Backend();
    const limit = g.maxBindingBytes;
    expect(LinUCB.armsPerBinding(g, 64)).to.equal(Math.floor(limit / (4 * 64 * 64)));
    let error: unknown;
    await LinUCB.create(g, { arms: 10, dim: 64, armsPerShard: LinUCB.armsPerBinding(g, 64) + 1 }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(BanditError);
    expect(String(error)).to.match(/most arms of dim 64 one storage binding holds/);
    const model = await LinUCB.create(g, { arms: 4000, dim: 64, perArmFeatures: true });
    const rows = Math.floor(limit / (4000 * 64 * 4)) + 1;
    await rejects(model.scores(new Float32Array(rows * 4000 * 64)), /pass at most \d+ rows a call/);
    model.dispose();
  });

  it('runs 10,000 arms × d = 64 (164 MB a matrix set: split where one binding is smaller)', async function () {
    this.timeout(600_000);
    const g = f32Backend();
    const K = 10_000, d = 64;
    const model = await LinUCB.create(g, { arms: K, dim: d, alpha: 0.1 });
    const perShard = LinUCB.armsPerBinding(g, d);
    expect(model.diagnostics().shards.length).to.equal(Math.ceil(K / perShard));
    // Teach the first and the last arm opposite things, then ask along each direction.
    const x = new Float32Array(2 * d);
    x[0] = 1;
    x[d + 1] = 1;
    await model.update(new Int32Array([K - 1, 0, K - 1, 0]), new Float32Array([...x, ...x]), new Float32Array([1, 0, 1, 0]));
    await model.update(new Int32Array([0, K - 1]), Float32Array.from([...x.subarray(d), ...x.subarray(0, d)]), new Float32Array([1, 0]));
    expect(Array.from(await model.select(x))).to.deep.equal([K - 1, 0]);
    expect(Array.from(model.diagnostics().plays.subarray(0, 2))).to.deep.equal([3, 0]);
    model.dispose();
  });

  it('save/load round-trips on each backend and continues identically on the other', async () => {
    const { gpu, cpu } = backends();
    const env = new LinearBandit(7, 4, 8);
    for (const [from, to] of [[gpu, cpu], [cpu, gpu], [gpu, gpu]] as [Backend, Backend][]) {
      const model = await LinUCB.create(from, { arms: 7, dim: 4, alpha: 0.6, driftCheckEvery: 20 });
      await runBandit(model, env, 8, 5);
      const bytes = await model.save();
      const same = await LinUCB.load(from, bytes);
      expect(Array.from(await same.save())).to.deep.equal(Array.from(bytes));
      const moved = await LinUCB.load(to, bytes);
      expect(moved.diagnostics().updates).to.equal(40);
      expect(moved.diagnostics().driftChecks).to.equal(model.diagnostics().driftChecks);
      for (let r = 0; r < 10; r++) {
        const x = env.contexts(4);
        const [a, b] = [await model.select(x), await moved.select(x)];
        expect(Array.from(b), `round ${r} after loading on ${to.kind}`).to.deep.equal(Array.from(a));
        const rewards = Float32Array.from(a, (arm, i) => env.play(arm, x, i, 0).reward);
        await model.update(a, x, rewards);
        await moved.update(a, x, rewards);
      }
      for (const m of [model, same, moved]) m.dispose();
    }
  });

  it('refuses corrupt, truncated, foreign and wrong-version bytes', async () => {
    const g = f32Backend();
    const model = await LinUCB.create(g, { arms: 3, dim: 2 });
    const bytes = await model.save();
    const flipped = bytes.slice();
    flipped[bytes.length - 20]! ^= 0x40;
    await rejects(LinUCB.load(g, flipped), /checksum mismatch/);
    await rejects(LinUCB.load(g, bytes.subarray(0, bytes.length - 9)), /checksum|truncated/);
    await rejects(LinUCB.load(g, bytes.subarray(0, 10)), /too short/);
    await rejects(LinUCB.load(g, new TextEncoder().encode('{"not": "a model"} padding padding')), /not a webgpu-bandits model/);
    // A well-formed container of another version (checksum recomputed).
    const { crc32 } = await import('../../src/models/persist.js');
    const future = bytes.slice();
    new DataView(future.buffer).setUint32(8, 99, true);
    new DataView(future.buffer).setUint32(future.length - 4, crc32(future.subarray(0, future.length - 4)), true);
    await rejects(LinUCB.load(g, future), /container version 99 is not supported/);
    model.dispose();
  });

  it('refuses a forged save whose A, its low part or A⁻¹ is not symmetric; a symmetric edit loads and stays finite', async () => {
    const g = f32Backend();
    const d = 3;
    const model = await LinUCB.create(g, { arms: 4, dim: d, forgetting: { gamma: 0.9 } });
    await model.update(Int32Array.of(0, 2, 2), uniform(3 * d, 5), Float32Array.of(1, 0.5, -0.25));
    const saved = decodeModel(await model.save(), 'LinUCB', [1]);
    model.dispose();
    // One entry of arm 2's block moved by 2⁶⁰ (an exponent byte set, the checksum recomputed): still
    // finite in f32, but A is no longer symmetric and an inverse refined against it is NaN.
    const edit = (name: string, at: number[], scale: number) => {
      const arrays = { ...saved.arrays, [name]: saved.arrays[name]!.slice() };
      for (const i of at) arrays[name]![i] = (arrays[name]![i] || 1) * scale;
      return encodeModel({ ...saved, arrays });
    };
    const block = 2 * d * d, ij = block + 0 * d + 2, ji = block + 2 * d + 0;
    for (const name of ['a', 'aLo', 'aInv']) {
      await rejects(LinUCB.load(g, edit(name, [ij], 2 ** 60)), new RegExp(`^LinUCB\\.load: array ${name} is not symmetric: block 2 holds .* at \\(0, 2\\)`));
    }
    // The same change made to both entries keeps A symmetric (and positive definite): a usable model.
    const loaded = await LinUCB.load(g, edit('a', [ij, ji], 1.5));
    await loaded.update(Int32Array.of(2), uniform(d, 6), Float32Array.of(1));
    expect(Array.from(await loaded.scores(uniform(2 * d, 7))).every(Number.isFinite)).to.equal(true);
    loaded.dispose();
  });

  it('bad input throws BanditError and leaves the state exactly as it was', async () => {
    for (const b of [f32Backend(), cpuBackend()]) {
      const model = await LinUCB.create(b, { arms: 4, dim: 3 });
      await model.update(new Int32Array([1, 2]), uniform(6, 1), new Float32Array([1, 0]));
      const before = await model.save();
      const x = uniform(6, 2);
      const bad: [string, () => Promise<unknown>, RegExp][] = [
        ['context length', () => model.select(new Float32Array(5)), /not a whole number of rows/],
        ['NaN context', () => model.select(Float32Array.from([1, NaN, 0])), /contexts\[1\] \(row 0, element 1\) is NaN/],
        ['Inf context in update', () => model.update(new Int32Array([0]), Float32Array.from([1, Infinity, 0]), new Float32Array([1])), /is Infinity/],
        ['arm out of range', () => model.update(new Int32Array([0, 4]), x, new Float32Array([1, 1])), /arms\[1\] = 4 is out of range 0..3/],
        ['negative arm', () => model.update(new Int32Array([-1, 0]), x, new Float32Array([1, 1])), /arms\[0\] = -1/],
        ['arms not Int32Array', () => model.update([0, 1] as unknown as Int32Array, x, new Float32Array([1, 1])), /must be an Int32Array/],
        ['reward count', () => model.update(new Int32Array([0, 1]), x, new Float32Array([1])), /2 arms but 1 rewards/],
        ['NaN reward', () => model.update(new Int32Array([0, 1]), x, new Float32Array([1, NaN])), /rewards\[1\].*is NaN/],
        ['context rows', () => model.update(new Int32Array([0, 1]), uniform(9, 3), new Float32Array([1, 1])), /2 arms need 2×3/],
      ];
      for (const [what, call, pattern] of bad) {
        await rejects(call(), pattern).catch((e) => {
          throw new Error(`${what} on ${b.kind}: ${(e as Error).message}`);
        });
      }
      expect(Array.from(await model.save()), `state after bad calls on ${b.kind}`).to.deep.equal(Array.from(before));
      model.dispose();
      await rejects(model.select(x), /disposed/);
      await rejects(LinUCB.create(b, { arms: 0, dim: 3 }), /arms must be a positive integer/);
      await rejects(LinUCB.create(b, { arms: 2, dim: 3, alpha: -1 }), /alpha must be in \[0, 1.84e\+19\] \(2⁶⁴\)/);
      await rejects(LinUCB.create(b, { arms: 2, dim: 3, forgetting: { gamma: 1.5 } }), /gamma must be in \(0, 1\]/);
    }
  });

  it('checks and re-factorises only the arms updated since the last time, and lands them in place', async () => {
    const { gpu, cpu } = backends();
    const K = 30, d = 6;
    // Every 5 rows a drift check (bound 0: every measured arm is re-factorised), every 12 a periodic one.
    const opts: LinUCBOptions = { arms: K, dim: d, driftCheckEvery: 5, driftBound: 1e-30, refactorEvery: 12, armsPerShard: 11 };
    const [g, c] = [await LinUCB.create(gpu, opts), await LinUCB.create(cpu, opts)];
    await g.update(new Int32Array([0]), uniform(d, 1), new Float32Array([1]));
    const aInvOf = async (m: LinUCB) => decodeModel(await m.save(), 'LinUCB', [1]).arrays['aInv']!;
    const before = await aInvOf(g);
    const r = rng(3);
    for (let step = 0; step < 12; step++) {
      const rows = 1 + (step % 3);
      // Arms 12..29 only: arm 0..11 (shard 0 but for arm 0's earlier update) must not be rewritten.
      const arms = Int32Array.from({ length: rows }, () => 12 + Math.floor(r() * 18));
      const x = uniform(rows * d, 40 + step), rewards = uniform(rows, 70 + step);
      await g.update(arms, x, rewards);
      await c.update(arms, x, rewards);
    }
    const diag = g.diagnostics();
    expect(diag.refactorizations).to.be.greaterThan(3);
    expect(diag.failedRefactorizations).to.equal(0);
    const after = await aInvOf(g);
    expect(Array.from(after.subarray(d * d, 12 * d * d)), 'untouched arms 1..11 keep their A⁻¹ bit for bit')
      .to.deep.equal(Array.from(before.subarray(d * d, 12 * d * d)));
    // Re-factorised inverses went back to their own arms (with θ): the scores still match float64.
    await c.update(new Int32Array([0]), uniform(d, 1), new Float32Array([1]));
    const probe = uniform(4 * d, 99);
    expectClose(await g.scores(probe), await c.scores(probe), TOL_F32_MODEL, 'scores after partial re-factorisations');
    g.dispose();
    c.dispose();
  });

  it('reports diagnostics: updates, re-factorisations, last drift, plays', async () => {
    const model = await LinUCB.create(f32Backend(), { arms: 3, dim: 4, driftCheckEvery: 4, refactorEvery: 8 });
    const x = uniform(4 * 4, 3);
    await model.update(new Int32Array([0, 1, 1, 2]), x, new Float32Array([1, 0, 1, 0]));
    let diag = model.diagnostics();
    expect(diag.updates).to.equal(4);
    expect(diag.driftChecks).to.equal(1);
    expect(diag.lastDrift).to.be.a('number').and.below(1e-4);
    expect(Array.from(diag.plays)).to.deep.equal([1, 2, 1]);
    await model.update(new Int32Array([0, 0, 0, 0]), x, new Float32Array([1, 1, 1, 1]));
    diag = model.diagnostics();
    expect(diag.refactorizations).to.equal(1);
    model.dispose();
  });
});
