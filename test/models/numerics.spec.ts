import { expect } from 'chai';
import { BanditError, HybridLinUCB, LinUCB, NeuralUCB, type Backend, type LinUCBOptions, type Tensor } from '../../src/index.js';
import { ALPHA_MAX, CONTEXT_SCALE_RANGE, LAMBDA_RANGE, REWARD_MAX } from '../../src/core/limits.js';
import { decodeModel, encodeModel } from '../../src/models/persist.js';
import { cpuBackend, gpuBackend } from '../support/fixture.js';
import { uniform } from '../support/random.js';

/**
 * webgpu against cpu on the scale matrix, relative to the row's largest |score|: f32 state within
 * the documented bounds keeps scores to ~1e-5 of that (measured; conditioning up to 2²⁰).
 */
const TOL_SCALE_AGREEMENT = 1e-3;
/** The bar for NeuralUCB's full Z after a long repeated stream: ‖Z·Z⁻¹ − I‖∞ after the last check. */
const MAX_FULL_Z_DRIFT = 1e-3;
/** What a refusal at the documented bounds says. */
const BOUND_MESSAGE = /safe range|conditioning bound|past the safe/;

/** The bar: HybridLinUCB on webgpu after 2·10⁴ repeats chooses cpu's arm on at least this share of rows. */
const MIN_HYBRID_AGREEMENT = 0.99;

/** The bar: scores after 10⁵ repeats of one context within this of the closed form. */
const TOL_REPEAT_REL = 1e-3;

/** x/‖x‖ (f32) of a seeded direction, and a unit y ⊥ x. */
function directions(d: number, seed: number): { x: Float32Array; y: Float32Array } {
  const u = Float64Array.from(uniform(d, seed)), v = Float64Array.from(uniform(d, seed + 1));
  const norm = (a: Float64Array) => Math.hypot(...a);
  const un = norm(u);
  const x = Float32Array.from(u, (e) => e / un);
  // y = v − (v·x)x / ‖·‖ in float64, then rounded; x·y is then ~1e-8, which the closed form keeps.
  const xv = Array.from(x).reduce((s, e, i) => s + e * v[i]!, 0);
  const w = Float64Array.from(v, (e, i) => e - xv * x[i]!);
  const wn = norm(w);
  return { x, y: Float32Array.from(w, (e) => e / wn) };
}

/**
 * The exact score of context c for an arm with A = λI + n·x xᵀ, b = n·r·x (x as given, in float64):
 * A⁻¹ = (I − n·x xᵀ/(λ + n‖x‖²))/λ, θ = n·r·x/(λ + n‖x‖²).
 */
function closedForm(x: Float32Array, n: number, r: number, lambda: number, alpha: number, c: Float32Array): number {
  const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, e, i) => s + e * b[i]!, 0);
  const xx = dot(x, x), xc = dot(x, c), cc = dot(c, c), den = lambda + n * xx;
  const mean = (n * r * xc) / den;
  const q = (cc - (n * xc * xc) / den) / lambda;
  return mean + alpha * Math.sqrt(q);
}

/** Plays x on arm 0 `n` times (reward r) in calls of `batch` rows; arm 1 is never played. */
async function repeated(backend: Backend, options: LinUCBOptions, x: Float32Array, n: number, r: number, batch: number): Promise<LinUCB> {
  const model = await LinUCB.create(backend, options);
  const d = x.length, rows = new Float32Array(batch * d);
  for (let i = 0; i < batch; i++) rows.set(x, i * d);
  for (let done = 0; done < n; done += batch) {
    const m = Math.min(batch, n - done);
    await model.update(new Int32Array(m), rows.subarray(0, m * d), new Float32Array(m).fill(r));
  }
  return model;
}

describe('numerics: f32 state as accurate as float64 (docs/numerics.md)', function () {
  this.timeout(600_000);

  for (const d of [16, 64]) {
    it(`one context repeated 10⁵ times on one arm (d = ${d}): webgpu scores within ${TOL_REPEAT_REL} of the closed form, the right arm chosen`, async () => {
      const n = 100_000, r = 0.5, lambda = 1, alpha = 1, { x, y } = directions(d, d);
      // Rows: the played context, the orthogonal direction and their sum.
      const probes = [x, y, Float32Array.from(x, (e, i) => e + y[i]!)];
      const contexts = new Float32Array(probes.length * d);
      probes.forEach((p, i) => contexts.set(p, i * d));
      const options = { arms: 2, dim: d, lambda, alpha };
      const started = Date.now();
      const gpu = await repeated(gpuBackend(), options, x, n, r, 5000);
      const seconds = (Date.now() - started) / 1000;
      const scores = await gpu.scores(contexts);
      const chosen = await gpu.select(contexts);
      const diag = gpu.diagnostics();
      const worst = probes.map((p, i) => {
        const exact = [closedForm(x, n, r, lambda, alpha, p), closedForm(x, 0, r, lambda, alpha, p)];
        return Math.max(...exact.map((e, a) => Math.abs(scores[i * 2 + a]! - e) / Math.abs(e)));
      });
      console.log(`      d = ${d}: worst relative score error ${Math.max(...worst).toExponential(2)}, ` +
        `${diag.refactorizations} re-factorisations (${diag.failedRefactorizations} failed), ${seconds.toFixed(1)} s`);
      for (const [i, w] of worst.entries()) expect(w, `row ${i}`).to.be.below(TOL_REPEAT_REL);
      // The closed form's argmax wherever it is decisive (a gap past the tolerance): on x arm 0
      // (0.5 + ~0.003) loses to the unplayed arm 1 (1.0); on x + y arm 0 (0.5 + ~1.0) wins over
      // arm 1 (√2). On y both have bonus 1 to ~1e-8: a tie no f32 score resolves, not checked.
      let decisive = 0;
      probes.forEach((p, i) => {
        const s = [closedForm(x, n, r, lambda, alpha, p), closedForm(x, 0, r, lambda, alpha, p)];
        if (Math.abs(s[0]! - s[1]!) <= 2 * TOL_REPEAT_REL * Math.max(...s.map(Math.abs))) return;
        decisive++;
        expect(chosen[i], `row ${i}`).to.equal(s[1]! > s[0]! ? 1 : 0);
      });
      expect(decisive).to.equal(2);
      expect(diag.failedRefactorizations).to.equal(0);
      // The drift of the kept inverse against the accurate A, measured now (after the scores).
      console.log(`      d = ${d}: drift ‖I − A·A⁻¹‖∞ now ${(await gpu.measureDrift()).toExponential(2)}`);
      gpu.dispose();
    });
  }

  it(`HybridLinUCB after one (x, z) repeated 2·10⁴ times on one arm: webgpu chooses cpu's arm on ≥ ${MIN_HYBRID_AGREEMENT * 100} % of rows, scores within ${TOL_SCALE_AGREEMENT}`, async () => {
    const K = 10, d = 8, k = 4, n = 20_000, batch = 1000, probes = 200;
    const x = uniform(d, 1), z = uniform(k, 2), xs = new Float32Array(batch * d), zs = new Float32Array(batch * k);
    for (let i = 0; i < batch; i++) {
      xs.set(x, i * d);
      zs.set(z, i * k);
    }
    const probe = { arm: uniform(probes * K * d, 3), shared: uniform(probes * K * k, 4) };
    const run = async (backend: Backend) => {
      const model = await HybridLinUCB.create(backend, { arms: K, dim: d, sharedDim: k, alpha: 1, seed: 1 });
      for (let done = 0; done < n; done += batch) await model.update(new Int32Array(batch), { arm: xs, shared: zs }, new Float32Array(batch).fill(0.5));
      const out = { chosen: await model.select(probe), scores: await model.scores(probe), diag: model.diagnostics() };
      model.dispose();
      return out;
    };
    const [g, c] = [await run(gpuBackend()), await run(cpuBackend())];
    const same = g.chosen.filter((a, i) => a === c.chosen[i]).length / probes;
    let worst = 0;
    for (let row = 0; row < probes; row++) {
      const cs = c.scores.subarray(row * K, (row + 1) * K), gs = g.scores.subarray(row * K, (row + 1) * K);
      const scale = Math.max(...Array.from(cs, Math.abs));
      for (let a = 0; a < K; a++) worst = Math.max(worst, Math.abs(gs[a]! - cs[a]!) / scale);
    }
    console.log(`      hybrid: webgpu chose cpu's arm on ${(same * 100).toFixed(1)} % of ${probes} rows; worst score difference ${worst.toExponential(2)} of the row's largest; ` +
      `${g.diag.refactorizations} re-factorisations (${g.diag.failedRefactorizations} failed), lastDrift ${g.diag.lastDrift?.toExponential(2)}`);
    expect(same).to.be.at.least(MIN_HYBRID_AGREEMENT);
    expect(worst).to.be.below(TOL_SCALE_AGREEMENT);
    expect(g.diag.failedRefactorizations + g.diag.failedSharedFactorizations).to.equal(0);
  });

  /**
   * Runs `rounds` updates of 20 rows (contexts s·u, u uniform in ±1, rewards uniform) on a fresh
   * model, then scores and selects: the scores, or the BanditError the bounds raised (null scores).
   */
  async function scaled(backend: Backend, s: number, lambda: number, rounds = 10): Promise<{ scores: Float32Array | null; chosen: Int32Array | null; error: BanditError | null }> {
    const K = 4, d = 5;
    const model = await LinUCB.create(backend, { arms: K, dim: d, lambda, alpha: 1 });
    try {
      for (let t = 0; t < rounds; t++) {
        const x = Float32Array.from(uniform(20 * d, 10 + t), (v) => v * s);
        await model.update(Int32Array.from({ length: 20 }, (_, i) => (i + t) % K), x, uniform(20, 50 + t));
      }
      const probe = Float32Array.from(uniform(6 * d, 99), (v) => v * s);
      return { scores: await model.scores(probe), chosen: await model.select(probe), error: null };
    } catch (e) {
      if (!(e instanceof BanditError)) throw e;
      return { scores: null, chosen: null, error: e };
    } finally {
      model.dispose();
    }
  }

  function agree(g: Float32Array, c: Float32Array, what: string): void {
    for (let row = 0; row < g.length / 4; row++) {
      const gs = g.subarray(row * 4, row * 4 + 4), cs = c.subarray(row * 4, row * 4 + 4);
      const scale = Math.max(...Array.from(cs, Math.abs));
      for (let a = 0; a < 4; a++) {
        expect(Number.isFinite(gs[a]!), `${what}: score finite`).to.equal(true);
        expect(Math.abs(gs[a]! - cs[a]!), `${what}: row ${row} arm ${a} (${gs[a]} vs ${cs[a]})`).to.be.at.most(TOL_SCALE_AGREEMENT * scale);
      }
    }
  }

  it('contexts at 1e-30 … 1e18 (λ = 1): finite scores that agree with cpu, or a BanditError at the documented bounds', async () => {
    const outcomes: string[] = [];
    for (const s of [1e-30, 1e-20, 1e-12, 1e-6, 1e-3, 1, 10, 1e3, 1e6, 1e12, 1e18]) {
      const [g, c] = [await scaled(gpuBackend(), s, 1), await scaled(cpuBackend(), s, 1)];
      for (const r of [g, c]) if (r.error) expect(r.error.message).to.match(BOUND_MESSAGE);
      if (s < CONTEXT_SCALE_RANGE[0] || s > CONTEXT_SCALE_RANGE[1]) {
        expect(g.error, `scale ${s}: refused on webgpu`).to.be.instanceOf(BanditError);
        expect(c.error, `scale ${s}: refused on cpu`).to.be.instanceOf(BanditError);
      }
      if (g.scores && c.scores) {
        agree(g.scores, c.scores, `scale ${s}`);
        expect(Array.from(g.chosen!).every((a) => a >= 0)).to.equal(true);
      }
      outcomes.push(`${s}: ${g.error ? 'refused' : 'ok'}/${c.error ? 'refused' : 'ok'}`);
    }
    console.log(`      webgpu/cpu by context scale: ${outcomes.join(', ')}`);
    // Scales inside the bounds are not refused by both: the bounds are not a blanket refusal.
    expect(outcomes.filter((o) => o.endsWith('ok/ok')).length).to.be.at.least(4);
  });

  it('lambda 1e-12 … 1e12 (unit contexts, and contexts scaled with √λ): finite scores that agree with cpu, or a BanditError at the documented bounds', async () => {
    const outcomes: string[] = [];
    for (const lambda of [1e-12, 1e-6, 1e-3, 1, 1e3, 1e6, 1e12]) {
      for (const s of [1, Math.sqrt(lambda)]) {
        const [g, c] = [await scaled(gpuBackend(), s, lambda), await scaled(cpuBackend(), s, lambda)];
        for (const r of [g, c]) if (r.error) expect(r.error.message).to.match(BOUND_MESSAGE);
        // Contexts that scale with √λ make the same problem at every λ: never refused.
        if (s !== 1 || lambda === 1) {
          expect(g.error, `λ ${lambda}, scale ${s} (webgpu)`).to.equal(null);
          expect(c.error, `λ ${lambda}, scale ${s} (cpu)`).to.equal(null);
        }
        if (g.scores && c.scores) agree(g.scores, c.scores, `λ ${lambda}, scale ${s}`);
        outcomes.push(`${lambda}${s === 1 ? '' : '·√λ'}: ${g.error ? 'refused' : 'ok'}/${c.error ? 'refused' : 'ok'}`);
      }
    }
    console.log(`      webgpu/cpu by lambda: ${outcomes.join(', ')}`);
  });

  it('refuses lambda, alpha, contexts and rewards past the bounds up front, naming the range, with the state unchanged', async () => {
    for (const backend of [gpuBackend(), cpuBackend()]) {
      for (const lambda of [1e-30, 1e-39, LAMBDA_RANGE[0] / 2, LAMBDA_RANGE[1] * 2]) {
        let error: unknown = null;
        await LinUCB.create(backend, { arms: 2, dim: 3, lambda }).catch((e) => (error = e));
        expect(error, `lambda ${lambda}`).to.be.instanceOf(BanditError);
        expect(String(error)).to.match(/lambda .*2⁻⁴⁰ … 2⁴⁰/);
      }
      let error: unknown = null;
      await LinUCB.create(backend, { arms: 2, dim: 3, alpha: ALPHA_MAX * 2 }).catch((e) => (error = e));
      expect(String(error)).to.match(/alpha .*2⁶⁴/);
      const model = await LinUCB.create(backend, { arms: 2, dim: 3 });
      await model.update(Int32Array.of(0), Float32Array.of(1, 2, 3), Float32Array.of(1));
      const before = await model.save();
      const bad: [string, () => Promise<unknown>][] = [
        ['rewards 3e38', () => model.update(Int32Array.of(0, 0), Float32Array.of(1, 1, 1, 1, 1, 1), Float32Array.of(3e38, 3e38))],
        ['a reward past REWARD_MAX', () => model.update(Int32Array.of(1), Float32Array.of(1, 1, 1), Float32Array.of(REWARD_MAX * 2))],
        ['contexts at 1e20', () => model.update(Int32Array.of(1), Float32Array.of(1e20, 0, 0), Float32Array.of(1))],
        ['contexts at 1e-30', () => model.update(Int32Array.of(1), Float32Array.of(1e-30, 0, 1e-31), Float32Array.of(1))],
        ['select at 1e20', () => model.select(Float32Array.of(0, 1e20, 0))],
        ['a weight that passes the conditioning bound', () => model.update(Int32Array.of(1), Float32Array.of(1, 1, 1), Float32Array.of(1), { weights: Float32Array.of(1e14) })],
      ];
      for (const [what, call] of bad) {
        let e: unknown = null;
        await call().catch((x) => (e = x));
        expect(e, what).to.be.instanceOf(BanditError);
        expect(String(e), what).to.match(BOUND_MESSAGE);
      }
      expect(Array.from(await model.save()), 'state unchanged').to.deep.equal(Array.from(before));
      model.dispose();
    }
  });

  it('NeuralUCB refuses arm features past the context-scale bound up front, naming the range, with the state unchanged', async () => {
    const d = 3, [lo, hi] = CONTEXT_SCALE_RANGE;
    for (const backend of [gpuBackend(), cpuBackend()]) {
      for (const confidence of ['diagonal', 'full'] as const) {
        const model = await NeuralUCB.create(backend, { dim: d, hidden: [4], confidence, trainEvery: 0, seed: 3 });
        await model.update(Int32Array.of(0, 1), uniform(2 * d, 8), Float32Array.of(1, 0));
        const before = await model.save();
        // Inside the bound, at its edges: accepted (the bound is not a blanket refusal).
        await model.scores(Float32Array.of(hi, 0, 1, lo, 0, 0));
        const bad: [string, () => Promise<unknown>][] = [
          ['select at 1e20', () => model.select(Float32Array.of(1, 0, 0, 0, 1e20, 0))],
          ['scores at 1e-30', () => model.scores(Float32Array.of(1e-30, 0, 1e-31))],
          ['decide past 2³²', () => model.decide(Float32Array.of(hi * 2, 1, 1, 0, 0, 1), { arms: 2 })],
          ['update at 1e20', () => model.update(Int32Array.of(0), Float32Array.of(1e20, 0, 0), Float32Array.of(1))],
          ['update past 2⁻⁴⁰', () => model.update(Int32Array.of(1), Float32Array.of(lo / 2, 0, 0), Float32Array.of(1))],
        ];
        for (const [what, call] of bad) {
          let e: unknown = null;
          await call().catch((x) => (e = x));
          expect(e, `${backend.kind} ${confidence}: ${what}`).to.be.instanceOf(BanditError);
          expect(String(e), what).to.match(/armFeatures|features/).and.to.match(/safe range .*2⁻⁴⁰ … 2³²/);
        }
        expect(Array.from(await model.save()), `${backend.kind} ${confidence}: state unchanged`).to.deep.equal(Array.from(before));
        model.dispose();
      }
    }
  });

  it('select repairs a broken inverse (NaN) from the accurate state instead of returning -1, and diagnostics count it', async () => {
    for (const backend of [gpuBackend(), cpuBackend()]) {
      const d = 4, model = await LinUCB.create(backend, { arms: 3, dim: d, driftCheckEvery: 0, refactorEvery: 0 });
      const x = uniform(30 * d, 3);
      await model.update(Int32Array.from({ length: 30 }, (_, i) => i % 3), x, uniform(30, 4));
      const probe = uniform(5 * d, 5);
      const want = await model.select(probe);
      // Break every arm's kept inverse (NaN) in the live state, as a lost Sherman–Morrison update
      // would (a save holding NaN is refused by load, so the break goes into the model itself).
      const again = await LinUCB.load(backend, await model.save());
      const shards = (again as unknown as { state: { shards: { t: { aInv: Tensor } }[] } }).state.shards;
      for (const s of shards) backend.write(s.t.aInv, new Float32Array(s.t.aInv.size).fill(NaN));
      const chosen = await again.select(probe);
      expect(Array.from(chosen), backend.kind).to.deep.equal(Array.from(want));
      expect(again.diagnostics().repairs).to.equal(1);
      expect(model.diagnostics().repairs).to.equal(0);
      model.dispose();
      again.dispose();
    }
  });

  /**
   * ‖I − Z·X‖∞ and u·‖ |Z|·|X| ‖∞ (u = 2⁻²⁴: what the correctly rounded f32 inverse leaves) in
   * float64, Z = z + zLo, X = zInv + zInvLo (float-float), and the drift of zInv alone.
   */
  function fullZDrift(saved: ReturnType<typeof decodeModel>, p: number): { drift: number; floor: number; hiDrift: number } {
    const z = saved.arrays['z']!, lo = saved.arrays['zLo']!, hi = saved.arrays['zInv']!, xLo = saved.arrays['zInvLo']!;
    const of = (x: ArrayLike<number>) => {
      let drift = 0, floor = 0;
      for (let i = 0; i < p; i++) {
        let row = 0, mag = 0;
        for (let j = 0; j < p; j++) {
          let s = i === j ? 1 : 0;
          for (let l = 0; l < p; l++) {
            const t = (z[i * p + l]! + lo[i * p + l]!) * x[l * p + j]!;
            s -= t;
            mag += Math.abs(t);
          }
          row += Math.abs(s);
        }
        drift = Math.max(drift, row);
        floor = Math.max(floor, 2 ** -24 * mag);
      }
      return { drift, floor };
    };
    return { ...of(Float64Array.from(hi, (v, e) => v + xLo[e]!)), hiDrift: of(hi).drift };
  }

  for (const [what, x] of [
    ['a well-conditioned Z', Float32Array.of(-0.7465869, 0.2719395, -0.4329914, 0.4256470)],
    // κ(Z) ≈ 10⁷ here: no f32 inverse gets under 1e-3 (the floor is ≈ 0.1–0.6; before issue 12,
    // 26 248), the float-float one does.
    ['Z of condition ≈ 10⁷', Float32Array.of(0.3, -0.5, 0.7, 0.4)],
  ] as const) {
    it(`NeuralUCB full Z after one context repeated 2·10⁴ times (${what}): drift under ${MAX_FULL_Z_DRIFT} on webgpu`, async () => {
      const d = 4, n = 20_000, batch = 1000;
      const rows = new Float32Array(batch * d);
      for (let i = 0; i < batch; i++) rows.set(x, i * d);
      const model = await NeuralUCB.create(gpuBackend(), { dim: d, hidden: [8], confidence: 'full', trainEvery: 0, seed: 1 });
      let worst = 0;
      for (let done = 0; done < n; done += batch) {
        await model.update(new Int32Array(batch), rows, new Float32Array(batch).fill(0.5));
        worst = Math.max(worst, model.diagnostics().lastDrift ?? 0);
      }
      const diag = model.diagnostics();
      const { drift, floor, hiDrift } = fullZDrift(decodeModel(await model.save(), 'NeuralUCB', [1, 2]), diag.paramCount);
      console.log(`      full Z (${what}): lastDrift ${diag.lastDrift?.toExponential(2)} (worst after a check ${worst.toExponential(2)}), ` +
        `${diag.repairs} repairs; float64 drift of the saved state ${drift.toExponential(2)} (its hi part alone ${hiDrift.toExponential(2)}), ` +
        `f32 floor u·‖|Z||Z⁻¹|‖ ${floor.toExponential(2)}`);
      expect(worst).to.be.below(MAX_FULL_Z_DRIFT);
      expect(drift).to.be.below(MAX_FULL_Z_DRIFT);
      model.dispose();
    });
  }
});
