import { expect } from 'chai';
import { BanditError, HybridLinUCB, LinUCB, type Backend, type HybridContexts, type HybridLinUCBOptions, type Tensor } from '../../src/index.js';
import { hybridArmUpdate, hybridScores, scatterOuterAdd } from '../../src/ops/index.js';
import { crc32, decodeModel, encodeModel } from '../../src/models/persist.js';
import { F32_EPS, dotBound, expectClose, type Tolerance } from '../support/compare.js';
import { backends, cpuBackend, maxTestBindingBytes, describeBackends, f32Backend } from '../support/fixture.js';
import { absArray, rng, spd, uniform } from '../support/random.js';
import { DirectHybridLinUCB, inverseSpd } from '../support/reference.js';

/** Every op comparison here is against a per-element bound derived for the op, or a named tolerance. */
const TOL_BOUND_ONLY: Tolerance = { abs: 0, rel: 0 };
/** Values written by nobody (columns of other shards) come back bit for bit. */
const SENTINEL = -7.25;
/** ulps of the f32 sqrt (WGSL allows 1/inverseSqrt: 2 ulp plus the division's rounding); 4 leaves room. */
const SQRT_ULPS = 4;
/**
 * Rounding depth of any term of the score's sums in either kernel: a term of xᵀA⁻¹[:, block]
 * passes at most d (scalar walk) or d/4 + 4 (vec4 walk) additions, then the block's dot (3) and
 * the sum over the d/4 + k/4 blocks; a component of Lᵀz − Dᵀx at most k + d + 1; θᵀx + βᵀz at most
 * d/4 + k/4 + 4. 2(d + k) + 8 covers them all.
 */
const scoreDepth = (d: number, k: number) => 2 * (d + k) + 8;
/** |twin − direct float64 evaluation| relative to the f32 bound: float64 rounding only. */
const F64_AGREEMENT = 1e-12;
/**
 * Rounding depth of an element of hybridArmUpdate's state after `plays` rows of its arm: a row
 * computes ℓ (d-term dots) and s = 1/(1 + xᵀy) (another d-term dot and a division), then one
 * product and one sum an element, and the next row reads what this one wrote: ≤ plays·(2d + 8).
 * With A⁻¹'s eigenvalues in [1, 2] (condition ≤ 2) the errors are not amplified beyond a small
 * factor, so γ_depth times the state's largest magnitude bounds the difference to the twin
 * (measured ≤ 7 % of it).
 */
const armUpdateDepth = (plays: number, d: number) => plays * (2 * d + 8);
/** The cpu backend's float64 state against the direct reference: only the reassociation of float64 sums differs. */
const TOL_CPU_VS_DIRECT: Tolerance = { abs: 1e-10, rel: 1e-9 };
/** Scores come back as Float32Array: one f32 rounding (2⁻²⁴ relative) of a float64 score equal to the reference's up to 1e-11. */
const TOL_F32_OUTPUT: Tolerance = { abs: 1e-12, rel: 2 ** -24 + 1e-11 };
/**
 * webgpu (f32 state) against the cpu backend (float64) after tens of updates of small,
 * well-conditioned models: each of the ~(d + k)² f32 roundings an update is ~6e-8 relative.
 */
const TOL_F32_MODEL: Tolerance = { abs: 2e-4, rel: 2e-4 };
/** The issue's bar for webgpu and cpu choosing the same arm on the same stream. */
const MIN_AGREEMENT = 0.995;

const gammaN = (n: number) => (n * F32_EPS) / (1 - n * F32_EPS);
const filled = (n: number, v: number) => new Float32Array(n).fill(v);
const sum = (a: ArrayLike<number>, from = 0, to = a.length): number => {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  return s;
};

function disposeAll(...ts: Tensor[]): void {
  for (const t of ts) t.dispose();
}

async function rejects(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  let error: unknown = null;
  await p.catch((e) => (error = e));
  expect(error, 'expected a rejection').to.be.instanceOf(BanditError);
  expect(String((error as Error).message)).to.match(pattern);
}

/** A k×k lower triangular matrix with zeros above the diagonal (the L the model passes). */
function lowerTriangular(k: number, seed: number): Float32Array {
  const l = uniform(k * k, seed);
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) l[i * k + j] = 0;
  return l;
}

// ---------------------------------------------------------------------------------------------
// hybridScores

interface ScoreCase {
  readonly rows: number;
  readonly arms: number;
  readonly d: number;
  readonly k: number;
  readonly alpha: number;
  /** Shard placement: x, z and out have `total` arms, this shard starts at `offset`. */
  readonly offset?: number;
  readonly total?: number;
}

interface ScoreInputs {
  readonly x: Float32Array; readonly z: Float32Array; readonly aInv: Float32Array; readonly theta: Float32Array;
  readonly dMat: Float32Array; readonly l: Float32Array; readonly beta: Float32Array;
}

const scoreLabel = (c: ScoreCase) =>
  `B=${c.rows} K=${c.arms} d=${c.d} k=${c.k} α=${c.alpha}${c.offset !== undefined ? ` armOffset=${c.offset}/${c.total}` : ''}`;

/**
 * Direct float64 evaluation of every score with its error bound. With t = Lᵀz − Dᵀx (t_i exact
 * from the f32 inputs) and T_i = Σ|z_j L_ji| + Σ|x_j D_ji|, δt_i = γ·T_i, γ = γ_{scoreDepth}:
 *   |Δq| ≤ γ·(|x|ᵀ|A⁻¹||x| + Σ(|t_i| + δt_i)²) + Σ(2|t_i| + δt_i)·δt_i =: δq,
 *   |Δmean| ≤ γ·(|θ|ᵀ|x| + |β|ᵀ|z|) =: δm,
 * then as for ucbScores: δw = min(√δq, δq / (√q⁺ + √max(q⁺ − δq, 0))), and
 *   bound = δm + α·(δw + SQRT_ULPS·u·(w + δw)) + 2u·(|mean| + δm + α·(w + δw)),  w = √q⁺.
 * Columns outside the shard get bound 0: they must come back bit for bit.
 */
function scoreReference(c: ScoreCase, v: ScoreInputs): { value: Float64Array; bound: Float64Array } {
  const { rows, arms, d, k, alpha } = c;
  const total = c.total ?? arms, offset = c.offset ?? 0;
  const value = new Float64Array(rows * total).fill(SENTINEL);
  const bound = new Float64Array(rows * total);
  const u = F32_EPS, g = gammaN(scoreDepth(d, k));
  for (let i = 0; i < rows; i++) {
    for (let a = 0; a < arms; a++) {
      const xb = (i * total + offset + a) * d, zb = (i * total + offset + a) * k;
      let q = 0, qAbs = 0, mean = 0, meanAbs = 0, tq = 0, tCross = 0;
      for (let r = 0; r < d; r++) {
        let w = 0, wAbs = 0;
        for (let s = 0; s < d; s++) {
          const p = v.x[xb + s]! * v.aInv[a * d * d + s * d + r]!;
          w += p;
          wAbs += Math.abs(p);
        }
        q += w * v.x[xb + r]!;
        qAbs += wAbs * Math.abs(v.x[xb + r]!);
        mean += v.theta[a * d + r]! * v.x[xb + r]!;
        meanAbs += Math.abs(v.theta[a * d + r]! * v.x[xb + r]!);
      }
      for (let col = 0; col < k; col++) {
        let t = 0, tAbs = 0;
        for (let j = col; j < k; j++) {
          const p = v.z[zb + j]! * v.l[j * k + col]!;
          t += p;
          tAbs += Math.abs(p);
        }
        for (let j = 0; j < d; j++) {
          const p = v.x[xb + j]! * v.dMat[a * d * k + j * k + col]!;
          t -= p;
          tAbs += Math.abs(p);
        }
        const dt = g * tAbs;
        q += t * t;
        tq += (Math.abs(t) + dt) ** 2;
        tCross += (2 * Math.abs(t) + dt) * dt;
        mean += v.beta[col]! * v.z[zb + col]!;
        meanAbs += Math.abs(v.beta[col]! * v.z[zb + col]!);
      }
      const qp = Math.max(q, 0), w = Math.sqrt(qp);
      const dq = g * (qAbs + tq) + tCross, dm = g * meanAbs;
      const dw = Math.min(Math.sqrt(dq), dq / (w + Math.sqrt(Math.max(qp - dq, 0))));
      const o = i * total + offset + a;
      value[o] = mean + alpha * w;
      bound[o] = dm + alpha * (dw + SQRT_ULPS * u * (w + dw)) + 2 * u * (Math.abs(mean) + dm + alpha * (w + dw)) + 1e-37;
    }
  }
  return { value, bound };
}

function scoreInputs(c: ScoreCase, seed: number): ScoreInputs {
  const total = c.total ?? c.arms;
  return {
    x: uniform(c.rows * total * c.d, seed),
    z: uniform(c.rows * total * c.k, seed + 1),
    aInv: spd(c.arms, c.d, seed + 2),
    theta: uniform(c.arms * c.d, seed + 3),
    dMat: uniform(c.arms * c.d * c.k, seed + 4),
    l: lowerTriangular(c.k, seed + 5),
    beta: uniform(c.k, seed + 6),
  };
}

/** Runs hybridScores on both backends from the same f32 inputs and checks twin, kernel and untouched columns. */
async function checkScores(c: ScoreCase, seed: number): Promise<void> {
  const { gpu, cpu } = backends();
  const total = c.total ?? c.arms, offset = c.offset ?? 0;
  const v = scoreInputs(c, seed);
  const sharded = c.offset !== undefined;
  const run = async (backend: Backend) => {
    const t = (data: Float32Array, shape: number[]) => backend.tensor(data, shape);
    const x = t(v.x, [c.rows, total, c.d]), z = t(v.z, [c.rows, total, c.k]);
    const arms = { aInv: t(v.aInv, [c.arms, c.d, c.d]), theta: t(v.theta, [c.arms, c.d]), dMat: t(v.dMat, [c.arms, c.d, c.k]) };
    const shared = { l: t(v.l, [c.k, c.k]), beta: t(v.beta, [c.k]) };
    const given = sharded ? t(filled(c.rows * total, SENTINEL), [c.rows, total]) : undefined;
    const out = hybridScores(backend, x, z, arms, shared, { alpha: c.alpha, ...(given ? { out: given, armOffset: offset } : {}) });
    if (given) expect(out).to.equal(given);
    expect(out.shape).to.deep.equal([c.rows, total]);
    const values = await backend.read(out);
    disposeAll(x, z, arms.aInv, arms.theta, arms.dMat, shared.l, shared.beta, out);
    return values;
  };
  const actual = await run(gpu);
  const expected = await run(cpu);
  const ref = scoreReference(c, v);
  const what = `hybridScores ${scoreLabel(c)}`;
  expectClose(expected, ref.value, TOL_BOUND_ONLY, `${what}: twin vs direct float64`, ref.bound.map((b) => (b * F64_AGREEMENT) / F32_EPS));
  expectClose(actual, expected, TOL_BOUND_ONLY, what, ref.bound);
}

// ---------------------------------------------------------------------------------------------
// hybridArmUpdate and scatterOuterAdd

interface ArmCase {
  readonly arms: number;
  readonly d: number;
  readonly k: number;
  readonly played: Int32Array;
}

async function checkArmUpdate(c: ArmCase, seed: number): Promise<void> {
  const { gpu, cpu } = backends();
  const { arms: K, d, k, played } = c;
  const U = played.length;
  // A⁻¹ SPD with eigenvalues in [1, 2]: G Gᵀ/(3d) + I.
  const aInv = spd(K, d, seed, 1).map((v) => v / 3);
  for (let a = 0; a < K; a++) for (let i = 0; i < d; i++) aInv[a * d * d + i * d + i]! += 2 / 3;
  const cm = uniform(K * d * k, seed + 1), phi = uniform(K * d, seed + 2);
  const xz = uniform(U * (d + k), seed + 3), rewards = uniform(U, seed + 4);
  const run = async (backend: Backend) => {
    const state = { aInv: backend.tensor(aInv, [K, d, d]), c: backend.tensor(cm, [K, d, k]), phi: backend.tensor(phi, [K, d]) };
    const txz = backend.tensor(xz, [U, d + k]);
    const { w, rho } = hybridArmUpdate(backend, state, txz, played, rewards);
    const out = await Promise.all([state.aInv, state.c, state.phi, w, rho].map((t) => backend.read(t)));
    disposeAll(state.aInv, state.c, state.phi, txz, w, rho);
    return out;
  };
  const actual = await run(gpu);
  const expected = await run(cpu);
  const names = ['A⁻¹', 'C', 'φ', 'w', 'ρ'];
  const label = `hybridArmUpdate K=${K} d=${d} k=${k} U=${U}`;
  const plays = Math.max(...Array.from(new Set(played), (a) => played.filter((p) => p === a).length));
  const g = gammaN(armUpdateDepth(plays, d));
  expected.forEach((e, i) => {
    const scale = Math.max(1, ...Array.from(e, Math.abs));
    expectClose(actual[i]!, e, { abs: g * scale, rel: g }, `${label}: ${names[i]}`);
  });
  // Arms the batch does not play come back bit for bit; A⁻¹ stays exactly symmetric.
  const touched = new Set(played);
  for (let a = 0; a < K; a++) {
    const m = actual[0]!.subarray(a * d * d, (a + 1) * d * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) expect(m[i * d + j], `A⁻¹ of arm ${a} symmetric`).to.equal(m[j * d + i]);
    if (touched.has(a)) continue;
    expect(Array.from(m), `untouched arm ${a}`).to.deep.equal(Array.from(aInv.subarray(a * d * d, (a + 1) * d * d)));
    expect(Array.from(actual[1]!.subarray(a * d * k, (a + 1) * d * k))).to.deep.equal(Array.from(cm.subarray(a * d * k, (a + 1) * d * k)));
  }
  // The twin against a direct float64 rebuild: A⁻¹ = (A + Σ x xᵀ)⁻¹, C = A⁻¹_new(B + Σ x zᵀ) with
  // B = A·C_old, φ likewise, and Σ w wᵀ = A0's change of Algorithm 2 (see the model tests).
  for (const a of touched) {
    const a0 = inverseSpd(aInv.subarray(a * d * d, (a + 1) * d * d), d);
    const bOld = new Float64Array(d * k), bv = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        for (let t = 0; t < k; t++) bOld[i * k + t]! += a0[i * d + j]! * cm[a * d * k + j * k + t]!;
        bv[i]! += a0[i * d + j]! * phi[a * d + j]!;
      }
    }
    for (let u = 0; u < U; u++) {
      if (played[u] !== a) continue;
      const o = u * (d + k);
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) a0[i * d + j]! += xz[o + i]! * xz[o + j]!;
        for (let t = 0; t < k; t++) bOld[i * k + t]! += xz[o + i]! * xz[o + d + t]!;
        bv[i]! += rewards[u]! * xz[o + i]!;
      }
    }
    const inv = inverseSpd(a0, d);
    expectClose(expected[0]!.subarray(a * d * d, (a + 1) * d * d), inv, { abs: 1e-10, rel: 1e-9 }, `${label}: twin A⁻¹ of arm ${a} vs direct`);
    const cNew = new Float64Array(d * k), phiNew = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        for (let t = 0; t < k; t++) cNew[i * k + t]! += inv[i * d + j]! * bOld[j * k + t]!;
        phiNew[i]! += inv[i * d + j]! * bv[j]!;
      }
    }
    expectClose(expected[1]!.subarray(a * d * k, (a + 1) * d * k), cNew, { abs: 1e-9, rel: 1e-8 }, `${label}: twin C of arm ${a} vs direct`);
    expectClose(expected[2]!.subarray(a * d, (a + 1) * d), phiNew, { abs: 1e-9, rel: 1e-8 }, `${label}: twin φ of arm ${a} vs direct`);
  }
}

// ---------------------------------------------------------------------------------------------
// The model

/**
 * A hybrid linear bandit: arm a in round t pays z_{t,a}ᵀβ* + armWeight·x_tᵀθ*_a + noise, with
 * x_t a unit user vector (the same for every arm) and z_{t,a} ~ N(0, I/k) per arm and round
 * (e.g. article features): most of the reward is one linear function shared by all arms. (Unit
 * z would tie every arm exactly at a fresh model, where f32 and float64 rounding then decide.)
 */
class HybridBandit {
  private readonly random: () => number;
  private readonly beta: Float64Array;
  private readonly theta: Float64Array[];

  constructor(readonly arms: number, readonly dim: number, readonly sharedDim: number, seed: number,
    private readonly armWeight = 0.2, private readonly noise = 0.1) {
    this.random = rng(seed);
    this.beta = this.unit(sharedDim);
    this.theta = Array.from({ length: arms }, () => this.unit(dim));
  }

  private gauss(): number {
    const u = Math.max(this.random(), 1e-12), v = this.random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  private unit(n: number): Float64Array {
    const v = Float64Array.from({ length: n }, () => this.gauss());
    const norm = Math.hypot(...v);
    return v.map((e) => e / norm);
  }

  /** `rows` rounds of contexts: x B×K×d (the user's vector repeated for every arm), z B×K×k. */
  contexts(rows: number): { arm: Float32Array; shared: Float32Array } {
    const { arms: K, dim: d, sharedDim: k } = this;
    const arm = new Float32Array(rows * K * d), shared = new Float32Array(rows * K * k);
    for (let i = 0; i < rows; i++) {
      const user = this.unit(d);
      for (let a = 0; a < K; a++) {
        arm.set(user, (i * K + a) * d);
        shared.set(Array.from({ length: k }, () => this.gauss() / Math.sqrt(k)), (i * K + a) * k);
      }
    }
    return { arm, shared };
  }

  mean(a: number, c: { arm: Float32Array; shared: Float32Array }, i: number): number {
    const { arms: K, dim: d, sharedDim: k } = this;
    let m = 0;
    for (let j = 0; j < k; j++) m += this.beta[j]! * c.shared[(i * K + a) * k + j]!;
    for (let j = 0; j < d; j++) m += this.armWeight * this.theta[a]![j]! * c.arm[(i * K + a) * d + j]!;
    return m;
  }

  play(a: number, c: { arm: Float32Array; shared: Float32Array }, i: number): { reward: number; regret: number } {
    let best = -Infinity;
    for (let b = 0; b < this.arms; b++) best = Math.max(best, this.mean(b, c, i));
    const m = this.mean(a, c, i);
    return { reward: m + this.noise * this.gauss(), regret: best - m };
  }
}

/** The played rows of a B×K×n context array. */
function playedOf(values: Float32Array, arms: Int32Array, K: number, n: number): Float32Array {
  const out = new Float32Array(arms.length * n);
  arms.forEach((a, i) => out.set(values.subarray((i * K + a) * n, (i * K + a + 1) * n), i * n));
  return out;
}

describeBackends('HybridLinUCB', function () {
  this.timeout(300_000);

  describe('ops', () => {
    const cases: ScoreCase[] = [
      { rows: 1, arms: 1, d: 1, k: 1, alpha: 1 },
      { rows: 3, arms: 5, d: 5, k: 3, alpha: 0.7 },
      { rows: 6, arms: 13, d: 7, k: 9, alpha: 2.5 },
      { rows: 9, arms: 33, d: 8, k: 4, alpha: 1 },
      { rows: 2, arms: 10, d: 4, k: 12, alpha: 0 },
      { rows: 64, arms: 3, d: 16, k: 8, alpha: 1 },
      { rows: 13, arms: 70, d: 12, k: 16, alpha: 0.3 },
      { rows: 5, arms: 4, d: 3, k: 4, alpha: 1 },
      { rows: 2, arms: 2, d: 4, k: 256, alpha: 1 },
      { rows: 3, arms: 2, d: 255, k: 2, alpha: 1 },
    ];
    it('hybridScores matches its float64 twin: K = d = k = 1, B = 1, odd d and k, B past and short of a row tile, k = 256', async () => {
      let seed = 10;
      for (const c of cases) await checkScores(c, (seed += 11));
    });

    it('hybridScores writes a shard (armOffset > 0) into a wider out and leaves the other columns untouched', async () => {
      let seed = 400;
      for (const c of [
        { rows: 3, arms: 4, d: 5, k: 2, alpha: 1, offset: 2, total: 9 },
        { rows: 9, arms: 6, d: 8, k: 8, alpha: 1, offset: 5, total: 11 },
        { rows: 1, arms: 2, d: 4, k: 4, alpha: 1.5, offset: 0, total: 3 },
      ] as ScoreCase[]) await checkScores(c, (seed += 7));
    });

    it('hybridScores handles the most arms of d = 64, k = 16 one binding holds', async () => {
      const d = 64, k = 16;
      await checkScores({ rows: 2, arms: Math.floor(maxTestBindingBytes() / (4 * d * d)), d, k, alpha: 1 }, 901);
    });

    it('hybridScores gives NaN where the form is NaN, clamps a negative form to 0, and the mean alone at α = 0', async () => {
      const { gpu } = backends();
      const d = 4, k = 4;
      // Arm 0: A⁻¹ = −4I (q = −4|x|² + |z|² < 0, clamped); arm 1: a NaN in D; L = I, D = 0 otherwise.
      const aInv = new Float32Array(2 * d * d), dMat = new Float32Array(2 * d * k), l = new Float32Array(k * k);
      for (let i = 0; i < d; i++) aInv[i * d + i] = -4;
      for (let i = 0; i < k; i++) l[i * k + i] = 1;
      dMat[d * k + 5] = NaN;
      const x = new Float32Array(2 * d).fill(1), z = new Float32Array(2 * k).fill(0.5);
      const theta = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]), beta = new Float32Array([0, 0, 0, 2]);
      const t = (v: Float32Array, shape: number[]) => gpu.tensor(v, shape);
      const arms = { aInv: t(aInv, [2, d, d]), theta: t(theta, [2, d]), dMat: t(dMat, [2, d, k]) };
      const shared = { l: t(l, [k, k]), beta: t(beta, [k]) };
      const tx = t(x, [1, 2, d]), tz = t(z, [1, 2, k]);
      const withBonus = hybridScores(gpu, tx, tz, arms, shared, { alpha: 3 });
      const s = Float32Array.from(await gpu.read(withBonus));
      expect(s[0]).to.equal(1 + 1); // θᵀx + βᵀz, the bonus clamped to 0
      expect(Number.isNaN(s[1]!)).to.equal(true);
      const meanOnly = hybridScores(gpu, tx, tz, arms, shared, { alpha: 0 });
      const m = Float32Array.from(await gpu.read(meanOnly));
      expect(m[0]).to.equal(2);
      expect(Number.isNaN(m[1]!)).to.equal(true);
      disposeAll(arms.aInv, arms.theta, arms.dMat, shared.l, shared.beta, tx, tz, withBonus, meanOnly);
    });

    it('hybridArmUpdate matches its float64 twin (rows of an arm in order), and the twin a direct rebuild', async () => {
      const r = rng(3);
      const armsOf = (n: number, K: number) => Int32Array.from({ length: n }, () => Math.floor(r() * K));
      const cases: ArmCase[] = [
        { arms: 1, d: 1, k: 1, played: new Int32Array([0]) },
        { arms: 1, d: 1, k: 1, played: new Int32Array([0, 0, 0]) },
        { arms: 5, d: 5, k: 3, played: new Int32Array([3, 0, 3, 3, 1, 3]) },
        { arms: 7, d: 8, k: 4, played: armsOf(20, 7) },
        { arms: 40, d: 16, k: 8, played: armsOf(64, 40) },
        { arms: 3, d: 20, k: 50, played: new Int32Array([2, 2, 0, 2]) },
        { arms: 2, d: 50, k: 6, played: new Int32Array([1, 0, 1]) },
      ];
      let seed = 600;
      for (const c of cases) await checkArmUpdate(c, (seed += 9));
    });

    it('scatterOuterAdd matches its float64 twin, rows of an arm added in order', async () => {
      const { gpu, cpu } = backends();
      let seed = 700;
      for (const [K, d, k, played] of [
        [1, 1, 1, new Int32Array([0, 0])], [5, 3, 7, new Int32Array([4, 0, 4, 4])], [30, 16, 8, Int32Array.from({ length: 64 }, (_, i) => (i * 7) % 30)],
      ] as [number, number, number, Int32Array][]) {
        const U = played.length, m = uniform(K * d * k, seed++), x = uniform(U * d, seed++), z = uniform(U * k, seed++);
        const run = async (backend: Backend, f: (a: Float32Array) => Float32Array = (a) => a) => {
          const tm = backend.tensor(f(m), [K, d, k]), tx = backend.tensor(f(x), [U, d]), tz = backend.tensor(f(z), [U, k]);
          scatterOuterAdd(backend, tm, tx, tz, played);
          const v = await backend.read(tm);
          disposeAll(tm, tx, tz);
          return v;
        };
        const plays = Math.max(...Array.from(new Set(played), (a) => played.filter((p) => p === a).length));
        // m + Σ x_i z_j in order: a product and a sum rounded a row, γ_{2n}·(|m| + Σ|x_i||z_j|).
        const bound = dotBound(await run(cpu, absArray), 2 * plays, 0);
        expectClose(await run(gpu), await run(cpu), TOL_BOUND_ONLY, `scatterOuterAdd K=${K} d=${d} k=${k}`, bound);
      }
    });

    it('the ops refuse bad input with BanditError', async () => {
      const { gpu, cpu } = backends();
      const made: Tensor[] = [];
      const t = (shape: number[]) => {
        const v = gpu.zeros(shape);
        made.push(v);
        return v;
      };
      const K = 3, d = 4, k = 2, B = 2;
      const x = t([B, K, d]), z = t([B, K, k]);
      const arms = { aInv: t([K, d, d]), theta: t([K, d]), dMat: t([K, d, k]) };
      const shared = { l: t([k, k]), beta: t([k]) };
      const state = { aInv: arms.aInv, c: t([K, d, k]), phi: t([K, d]) };
      const xz = t([B, d + k]);
      const bad: [string, () => unknown, RegExp][] = [
        ['z of the wrong k', () => hybridScores(gpu, x, t([B, K, k + 1]), arms, shared, { alpha: 1 }), /z must be 2×3×2/],
        ['x of rank 2', () => hybridScores(gpu, t([B, d]), z, arms, shared, { alpha: 1 }), /x must be B×Ktotal×4/],
        ['dMat of the wrong k', () => hybridScores(gpu, x, z, { ...arms, dMat: t([K, d, k + 1]) }, shared, { alpha: 1 }), /dMat must be 3×4×2/],
        ['beta of the wrong length', () => hybridScores(gpu, x, z, arms, { ...shared, beta: t([k + 1]) }, { alpha: 1 }), /beta must hold 2/],
        ['a batch of L', () => hybridScores(gpu, x, z, arms, { ...shared, l: t([2, k, k]) }, { alpha: 1 }), /one k×k matrix/],
        ['negative alpha', () => hybridScores(gpu, x, z, arms, shared, { alpha: -1 }), /alpha must be ≥ 0/],
        ['armOffset without out', () => hybridScores(gpu, t([B, K + 1, d]), t([B, K + 1, k]), arms, shared, { alpha: 1, armOffset: 1 }), /out is required/],
        ['out aliasing x', () => hybridScores(gpu, x, z, arms, shared, { alpha: 1, out: x }), /out must be 2×3|different tensors/],
        ['a tensor of another backend', () => hybridScores(gpu, cpu.zeros([B, K, d]), z, arms, shared, { alpha: 1 }), /another backend/],
        ['xz of the wrong width', () => hybridArmUpdate(gpu, state, t([B, d + k + 1]), new Int32Array([0, 1]), new Float32Array(2)), /xz must be U×6/],
        ['an arm out of range', () => hybridArmUpdate(gpu, state, xz, new Int32Array([0, 3]), new Float32Array(2)), /arms\[1\] = 3 is out of range/],
        ['a NaN reward', () => hybridArmUpdate(gpu, state, xz, new Int32Array([0, 1]), new Float32Array([0, NaN])), /rewards\[1\] must be finite/],
        ['w without rho', () => hybridArmUpdate(gpu, state, xz, new Int32Array([0, 1]), new Float32Array(2), { w: t([B, k]) } as never), /both w and rho/],
        ['c of another d', () => hybridArmUpdate(gpu, { ...state, c: t([K, d + 1, k]) }, xz, new Int32Array([0, 1]), new Float32Array(2)), /c must be 3×4×k/],
        ['outer z rows', () => scatterOuterAdd(gpu, state.c, t([B, d]), t([B + 1, k]), new Int32Array([0, 1])), /z must be 2×2/],
        ['outer negative arm', () => scatterOuterAdd(gpu, state.c, t([B, d]), t([B, k]), new Int32Array([-1, 1])), /arms\[0\] = -1/],
      ];
      for (const [what, call, message] of bad) expect(call, what).to.throw(BanditError, message);
      disposeAll(...made);
    });
  });

  it('the cpu backend equals Algorithm 2 written plainly in float64 (scores, A⁻¹, β)', async () => {
    const K = 6, d = 5, k = 3, alpha = 0.7, lambda = 0.5;
    const model = await HybridLinUCB.create(cpuBackend(), { arms: K, dim: d, sharedDim: k, alpha, lambda });
    const ref = new DirectHybridLinUCB(K, d, k, alpha, lambda);
    const r = rng(11);
    let rows = 0;
    for (let step = 0; step < 50; step++) {
      const B = 1 + (step % 4);
      const c = { arm: uniform(B * K * d, 100 + step), shared: uniform(B * K * k, 200 + step) };
      expectClose(await model.scores(c), ref.scores(c.arm, c.shared), TOL_F32_OUTPUT, `scores at step ${step}`);
      const arms = Int32Array.from({ length: B }, () => Math.floor(r() * K));
      const rewards = Float32Array.from({ length: B }, () => r());
      // Both update forms: what select got, and the played rows alone.
      const given = step % 2 === 0 ? c : { arm: playedOf(c.arm, arms, K, d), shared: playedOf(c.shared, arms, K, k) };
      await model.update(arms, given, rewards);
      for (let i = 0; i < B; i++) {
        const o = i * K + arms[i]!;
        ref.update(arms[i]!, c.arm.subarray(o * d, (o + 1) * d), c.shared.subarray(o * k, (o + 1) * k), rewards[i]!);
      }
      rows += B;
    }
    const saved = decodeModel(await model.save(), 'HybridLinUCB', [1]).arrays;
    expect(saved['aInv']).to.be.instanceOf(Float64Array);
    expectClose(saved['aInv']!, ref.inverses(), TOL_CPU_VS_DIRECT, `A⁻¹ after ${rows} updates`);
    expectClose(await model.sharedCoefficients(), ref.beta(), TOL_F32_OUTPUT, `β after ${rows} updates`);
    model.dispose();
  });

  it('K = 1, d = 1, k = 1 on both backends matches Algorithm 2', async () => {
    for (const b of [f32Backend(), cpuBackend()]) {
      const model = await HybridLinUCB.create(b, { arms: 1, dim: 1, sharedDim: 1, alpha: 1.5 });
      const ref = new DirectHybridLinUCB(1, 1, 1, 1.5, 1);
      for (let step = 0; step < 6; step++) {
        const c = { arm: uniform(2, 10 + step), shared: uniform(2, 20 + step) };
        const tol = b.kind === 'cpu' ? TOL_F32_OUTPUT : TOL_F32_MODEL;
        expectClose(await model.scores(c), ref.scores(c.arm, c.shared), tol, `${b.kind} scores at step ${step}`);
        expect(Array.from(await model.select(c))).to.deep.equal([0, 0]);
        const rewards = uniform(2, 30 + step);
        await model.update(new Int32Array([0, 0]), c, rewards);
        for (let i = 0; i < 2; i++) ref.update(0, c.arm.subarray(i, i + 1), c.shared.subarray(i, i + 1), rewards[i]!);
      }
      model.dispose();
    }
  });

  it('select is the argmax of scores with ties to the lowest arm, on both backends', async () => {
    for (const b of [f32Backend(), cpuBackend()]) {
      const K = 9, d = 3, k = 4;
      const model = await HybridLinUCB.create(b, { arms: K, dim: d, sharedDim: k });
      // A fresh model scores an arm by its own contexts only: give every arm the same ones.
      const same = { arm: new Float32Array(4 * K * d).fill(0.5), shared: new Float32Array(4 * K * k).fill(-0.25) };
      expect(Array.from(await model.select(same))).to.deep.equal([0, 0, 0, 0]);
      const c = { arm: uniform(4 * K * d, 5), shared: uniform(4 * K * k, 6) };
      await model.update(new Int32Array([4, 4, 7]), { arm: c.arm.subarray(0, 9), shared: c.shared.subarray(0, 12) }, new Float32Array([1, 1, 1]));
      const s = await model.scores(c);
      const chosen = await model.select(c);
      for (let i = 0; i < 4; i++) {
        const row = Array.from(s.subarray(i * K, (i + 1) * K));
        expect(chosen[i]).to.equal(row.indexOf(Math.max(...row)));
      }
      model.dispose();
    }
  });

  it('applies several updates of one arm in one batch in order, like the cpu backend (vec4 and scalar paths)', async () => {
    const { gpu, cpu } = backends();
    for (const [d, k] of [[4, 8], [5, 3]] as [number, number][]) {
      const opts: HybridLinUCBOptions = { arms: 5, dim: d, sharedDim: k, alpha: 1, lambda: 1 };
      const [g, c] = [await HybridLinUCB.create(gpu, opts), await HybridLinUCB.create(cpu, opts)];
      const given = { arm: uniform(5 * d, 9), shared: uniform(5 * k, 10) };
      const arms = new Int32Array([2, 2, 0, 2, 4]);
      const rewards = new Float32Array([1, -0.5, 0.25, 2, 1]);
      await g.update(arms, given, rewards);
      await c.update(arms, given, rewards);
      const probe = { arm: uniform(3 * 5 * d, 11), shared: uniform(3 * 5 * k, 12) };
      expectClose(await g.scores(probe), await c.scores(probe), TOL_F32_MODEL, `scores after a batch with a repeated arm (d=${d}, k=${k})`);
      expectClose(await g.sharedCoefficients(), await c.sharedCoefficients(), TOL_F32_MODEL, `β (d=${d}, k=${k})`);
      g.dispose();
      c.dispose();
    }
  });

  it(`webgpu and cpu choose the same arm in ≥ ${MIN_AGREEMENT * 100}% of 1,200 rounds of a synthetic hybrid bandit`, async () => {
    const { gpu, cpu } = backends();
    const env = new HybridBandit(20, 8, 4, 3, 0.5);
    const opts: HybridLinUCBOptions = { arms: 20, dim: 8, sharedDim: 4, alpha: 0.5, lambda: 1 };
    const [g, c] = [await HybridLinUCB.create(gpu, opts), await HybridLinUCB.create(cpu, opts)];
    let agree = 0;
    const batch = 10, rounds = 120;
    for (let r = 0; r < rounds; r++) {
      const ctx = env.contexts(batch);
      const [cg, cc] = [await g.select(ctx), await c.select(ctx)];
      for (let i = 0; i < batch; i++) if (cg[i] === cc[i]) agree++;
      // Both learn from the cpu's choices, so their states stay comparable.
      const rewards = Float32Array.from(cc, (a, i) => env.play(a, ctx, i).reward);
      await g.update(cc, ctx, rewards);
      await c.update(cc, ctx, rewards);
    }
    const rate = agree / (rounds * batch);
    console.log(`      agreement webgpu vs cpu: ${(rate * 100).toFixed(2)}% of ${rounds * batch} rounds`);
    expect(rate).to.be.at.least(MIN_AGREEMENT);
    g.dispose();
    c.dispose();
  });

  it('generalises across 50 arms: regret clearly below disjoint LinUCB when the reward is mostly shared (webgpu)', async () => {
    const K = 50, d = 4, k = 6, batch = 10, rounds = 30;
    const T = batch * rounds;
    const run = async (choose: (ctx: HybridContexts & { arm: Float32Array; shared: Float32Array }) => Promise<Int32Array>,
      learn: (arms: Int32Array, ctx: { arm: Float32Array; shared: Float32Array }, rewards: Float32Array) => Promise<void>) => {
      const env = new HybridBandit(K, d, k, 77);
      const regret = new Float64Array(T);
      for (let r = 0; r < rounds; r++) {
        const ctx = env.contexts(batch);
        const chosen = await choose(ctx);
        const rewards = new Float32Array(batch);
        chosen.forEach((a, i) => {
          const out = env.play(a, ctx, i);
          rewards[i] = out.reward;
          regret[r * batch + i] = out.regret;
        });
        await learn(chosen, ctx, rewards);
      }
      return regret;
    };
    const hybrid = await HybridLinUCB.create(f32Backend(), { arms: K, dim: d, sharedDim: k, alpha: 0.5 });
    const hybridRegret = await run((ctx) => hybrid.select(ctx), (a, ctx, r) => hybrid.update(a, ctx, r));
    // Disjoint LinUCB sees the same information, [x | z] per arm, but learns β* once per arm.
    const joined = (ctx: { arm: Float32Array; shared: Float32Array }) => {
      const out = new Float32Array(batch * K * (d + k));
      for (let i = 0; i < batch * K; i++) {
        out.set(ctx.arm.subarray(i * d, (i + 1) * d), i * (d + k));
        out.set(ctx.shared.subarray(i * k, (i + 1) * k), i * (d + k) + d);
      }
      return out;
    };
    const disjoint = await LinUCB.create(f32Backend(), { arms: K, dim: d + k, alpha: 0.5, perArmFeatures: true });
    const disjointRegret = await run((ctx) => disjoint.select(joined(ctx)), (a, ctx, r) => disjoint.update(a, joined(ctx), r));
    let random = 0;
    const env = new HybridBandit(K, d, k, 77), pick = rng(9);
    const ctx = env.contexts(T);
    for (let i = 0; i < T; i++) random += env.play(Math.floor(pick() * K), ctx, i).regret;
    const [h, j] = [sum(hybridRegret), sum(disjointRegret)];
    console.log(`      regret over ${T} rounds, K = ${K}: hybrid ${h.toFixed(1)}, disjoint on [x | z] ${j.toFixed(1)}, uniform ${random.toFixed(1)}`);
    expect(h).to.be.below(0.6 * j);
    // And hybrid has learned: its last third beats its first.
    expect(sum(hybridRegret, (2 * T) / 3, T)).to.be.below(0.5 * sum(hybridRegret, 0, T / 3));
    hybrid.dispose();
    disjoint.dispose();
  });

  it('a model split over several tensors (shards) gives the results of one', async () => {
    const g = f32Backend();
    const opts: HybridLinUCBOptions = { arms: 23, dim: 4, sharedDim: 3, alpha: 0.8 };
    const one = await HybridLinUCB.create(g, opts);
    const split = await HybridLinUCB.create(g, { ...opts, armsPerShard: 7 });
    expect(split.diagnostics().shards).to.deep.equal([7, 7, 7, 2]);
    const rows = 6;
    for (let step = 0; step < 5; step++) {
      const c = { arm: uniform(rows * 23 * 4, step), shared: uniform(rows * 23 * 3, 20 + step) };
      const arms = Int32Array.from({ length: rows }, (_, i) => (step * 7 + i * 5) % 23);
      const rewards = uniform(rows, 50 + step);
      await one.update(arms, c, rewards);
      await split.update(arms, c, rewards);
    }
    const probe = { arm: uniform(3 * 23 * 4, 99), shared: uniform(3 * 23 * 3, 98) };
    expectClose(await split.scores(probe), await one.scores(probe), TOL_F32_MODEL, 'sharded vs one');
    expect(Array.from(await split.select(probe))).to.deep.equal(Array.from(await one.select(probe)));
    // A split model saves what one saves, and loads as one.
    const moved = await HybridLinUCB.load(g, await split.save(), { armsPerShard: 23 });
    expect(moved.diagnostics().shards).to.deep.equal([23]);
    expectClose(await moved.scores(probe), await split.scores(probe), TOL_F32_MODEL, 'split, saved, loaded as one');
    for (const m of [one, split, moved]) m.dispose();
    let error: unknown;
    const most = HybridLinUCB.armsPerBinding(g, 64, 80);
    await HybridLinUCB.create(g, { arms: 2, dim: 64, sharedDim: 80, armsPerShard: most + 1 }).catch((e) => (error = e));
    expect(error).to.be.instanceOf(BanditError);
    expect(String(error)).to.match(/most arms of dim 64 and sharedDim 80 one storage binding holds/);
  });

  it('save/load round-trips on each backend and continues identically on the other', async () => {
    const { gpu, cpu } = backends();
    const K = 7, d = 4, k = 3;
    const env = new HybridBandit(K, d, k, 8);
    for (const [from, to] of [[gpu, cpu], [cpu, gpu], [gpu, gpu]] as [Backend, Backend][]) {
      const model = await HybridLinUCB.create(from, { arms: K, dim: d, sharedDim: k, alpha: 0.6, driftCheckEvery: 20 });
      for (let r = 0; r < 8; r++) {
        const ctx = env.contexts(5);
        const chosen = await model.select(ctx);
        await model.update(chosen, ctx, Float32Array.from(chosen, (a, i) => env.play(a, ctx, i).reward));
      }
      const bytes = await model.save();
      const same = await HybridLinUCB.load(from, bytes);
      expect(Array.from(await same.save())).to.deep.equal(Array.from(bytes));
      const moved = await HybridLinUCB.load(to, bytes);
      expect(moved.diagnostics().updates).to.equal(40);
      expect(moved.diagnostics().driftChecks).to.equal(model.diagnostics().driftChecks);
      expect(Array.from(moved.diagnostics().plays)).to.deep.equal(Array.from(model.diagnostics().plays));
      for (let r = 0; r < 10; r++) {
        const ctx = env.contexts(4);
        const [a, b] = [await model.select(ctx), await moved.select(ctx)];
        expect(Array.from(b), `round ${r} after loading on ${to.kind}`).to.deep.equal(Array.from(a));
        const rewards = Float32Array.from(a, (arm, i) => env.play(arm, ctx, i).reward);
        await model.update(a, ctx, rewards);
        await moved.update(a, ctx, rewards);
      }
      for (const m of [model, same, moved]) m.dispose();
    }
  });

  it('refuses corrupt, truncated, foreign and wrong-version bytes', async () => {
    const g = f32Backend();
    const model = await HybridLinUCB.create(g, { arms: 3, dim: 2, sharedDim: 2 });
    const bytes = await model.save();
    const flipped = bytes.slice();
    flipped[bytes.length - 20]! ^= 0x40;
    await rejects(HybridLinUCB.load(g, flipped), /checksum mismatch/);
    await rejects(HybridLinUCB.load(g, bytes.subarray(0, bytes.length - 9)), /checksum|truncated/);
    await rejects(HybridLinUCB.load(g, bytes.subarray(0, 10)), /too short/);
    await rejects(HybridLinUCB.load(g, new TextEncoder().encode('{"not": "a model"} padding padding')), /not a webgpu-bandits model/);
    const disjoint = await LinUCB.create(g, { arms: 3, dim: 2 });
    await rejects(HybridLinUCB.load(g, await disjoint.save()), /hold a LinUCB, not a HybridLinUCB/);
    disjoint.dispose();
    // A well-formed container of a future HybridLinUCB format version (checksum recomputed).
    const text = new TextDecoder().decode(bytes);
    const at = text.indexOf('"modelVersion":1');
    expect(at).to.be.above(0);
    const future = bytes.slice();
    future.set(new TextEncoder().encode('"modelVersion":7'), at);
    new DataView(future.buffer).setUint32(future.length - 4, crc32(future.subarray(0, future.length - 4)), true);
    await rejects(HybridLinUCB.load(g, future), /HybridLinUCB format version 7 is not supported/);
    model.dispose();
  });

  it('bad input throws BanditError and leaves the state exactly as it was', async () => {
    for (const b of [f32Backend(), cpuBackend()]) {
      const K = 4, d = 3, k = 2;
      const model = await HybridLinUCB.create(b, { arms: K, dim: d, sharedDim: k });
      await model.update(new Int32Array([1, 2]), { arm: uniform(2 * d, 1), shared: uniform(2 * k, 2) }, new Float32Array([1, 0]));
      const before = await model.save();
      const full = { arm: uniform(2 * K * d, 3), shared: uniform(2 * K * k, 4) };
      const rows = { arm: uniform(2 * d, 5), shared: uniform(2 * k, 6) };
      const two = new Int32Array([0, 1]), r2 = new Float32Array([1, 1]);
      const bad: [string, () => Promise<unknown>, RegExp][] = [
        ['contexts not an object', () => model.select(new Float32Array(K * d) as never), /contexts must be an object \{ arm/],
        ['no shared part', () => model.select({ arm: full.arm } as never), /contexts must be an object/],
        ['arm length', () => model.select({ arm: new Float32Array(5), shared: full.shared }), /contexts\.arm has 5 values, not a whole number of rows of B×4×3/],
        ['shared length', () => model.scores({ arm: full.arm, shared: new Float32Array(7) }), /contexts\.shared has 7 values/],
        ['rows disagree', () => model.select({ arm: full.arm, shared: full.shared.subarray(0, K * k) }), /contexts\.arm holds 2 rows .* but contexts\.shared 1/],
        ['NaN in x', () => model.select({ arm: Float32Array.from(full.arm, (v, i) => (i === 13 ? NaN : v)), shared: full.shared }), /contexts\.arm\[13\] \(row 1, element 1\) is NaN/],
        ['Inf in z', () => model.select({ arm: full.arm, shared: Float32Array.from(full.shared, (v, i) => (i === 3 ? -Infinity : v)) }), /contexts\.shared\[3\].*-Infinity/],
        ['Inf in played z', () => model.update(two, { arm: rows.arm, shared: Float32Array.from([1, 2, Infinity, 0]) }, r2), /contexts\.shared\[2\].*Infinity/],
        ['NaN in the played arm of full x', () => model.update(new Int32Array([0, 2]), { arm: Float32Array.from(full.arm, (v, i) => (i === 12 + 2 * 3 ? NaN : v)), shared: full.shared }, r2), /contexts\.arm\[18\] \(row 1, element 6\)/],
        // Every value is the caller's input, an arm not played too.
        ['NaN in an unplayed arm of full x', () => model.update(new Int32Array([0, 2]), { arm: Float32Array.from(full.arm, (v, i) => (i === 12 + 1 * 3 ? NaN : v)), shared: full.shared }, r2), /contexts\.arm\[15\] \(row 1, element 3\)/],
        ['arm out of range', () => model.update(new Int32Array([0, 4]), full, r2), /arms\[1\] = 4 is out of range 0..3/],
        ['negative arm', () => model.update(new Int32Array([-1, 0]), full, r2), /arms\[0\] = -1/],
        ['arms not Int32Array', () => model.update([0, 1] as unknown as Int32Array, full, r2), /must be an Int32Array/],
        ['reward count', () => model.update(two, full, new Float32Array([1])), /2 arms but 1 rewards/],
        ['NaN reward', () => model.update(two, full, new Float32Array([1, NaN])), /rewards\[1\].*is NaN/],
        ['played rows of the wrong length', () => model.update(two, { arm: uniform(7, 3), shared: rows.shared }, r2), /contexts\.arm has 7 values; 2 arms need 2×3 or 2×4×3/],
        ['update contexts not an object', () => model.update(two, full.arm as never, r2), /contexts must be an object/],
      ];
      for (const [what, call, pattern] of bad) {
        await rejects(call(), pattern).catch((e) => {
          throw new Error(`${what} on ${b.kind}: ${(e as Error).message}`);
        });
      }
      expect(Array.from(await model.save()), `state after bad calls on ${b.kind}`).to.deep.equal(Array.from(before));
      model.dispose();
      await rejects(model.select(full), /disposed/);
      await rejects(model.update(two, full, r2), /disposed/);
      await rejects(HybridLinUCB.create(b, { arms: 2, dim: 3 } as HybridLinUCBOptions), /sharedDim must be a positive integer/);
      await rejects(HybridLinUCB.create(b, { arms: 2, dim: 3, sharedDim: 257 }), /sharedDim = 257 is over 256/);
      await rejects(HybridLinUCB.create(b, { arms: 2, dim: 3, sharedDim: 2, lambda: 0 }), /lambda must be in \[9.09e-13, 1.10e\+12\] \(2⁻⁴⁰ … 2⁴⁰\)/);
    }
  });

  it('checks and re-factorises only the arms updated since the last time, and lands them in place (with A⁻¹B, A⁻¹b)', async () => {
    const { gpu, cpu } = backends();
    const K = 20, d = 4, k = 3;
    // Arms 1..6 learn without any drift control, so their inverses are Sherman–Morrison's (a
    // re-factorisation would change their last bits); the save then says no arm was touched.
    const seed = await HybridLinUCB.create(gpu, { arms: K, dim: d, sharedDim: k, driftCheckEvery: 0, refactorEvery: 0, armsPerShard: 7 });
    await seed.update(Int32Array.of(1, 2, 3, 4, 5, 6, 1, 2), { arm: uniform(8 * d, 1), shared: uniform(8 * k, 2) }, uniform(8, 3));
    const saved = decodeModel(await seed.save(), 'HybridLinUCB', [1]);
    seed.dispose();
    // Every 5 rows a drift check (bound 0: every measured arm is re-factorised), every 12 a periodic one.
    const options = { ...(saved.meta['options'] as object), driftCheckEvery: 5, driftBound: 1e-30, refactorEvery: 12 };
    const untouched = { touchedSinceCheck: new Int32Array(0), touchedSinceRefactor: new Int32Array(0) };
    const bytes = encodeModel({ ...saved, meta: { ...saved.meta, options }, arrays: { ...saved.arrays, ...untouched } });
    const [g, c] = [await HybridLinUCB.load(gpu, bytes, { armsPerShard: 7 }), await HybridLinUCB.load(cpu, bytes, { armsPerShard: 7 })];
    const r = rng(3);
    for (let step = 0; step < 12; step++) {
      const rows = 1 + (step % 3);
      // Arms 7..19 only (shards 1 and 2): arms 1..6 must not be rewritten.
      const arms = Int32Array.from({ length: rows }, () => 7 + Math.floor(r() * 13));
      const ctx = { arm: uniform(rows * d, 40 + step), shared: uniform(rows * k, 60 + step) }, rewards = uniform(rows, 70 + step);
      await g.update(arms, ctx, rewards);
      await c.update(arms, ctx, rewards);
    }
    const diag = g.diagnostics();
    expect(diag.refactorizations).to.be.greaterThan(3);
    expect(diag.failedRefactorizations).to.equal(0);
    const after = decodeModel(await g.save(), 'HybridLinUCB', [1]).arrays;
    for (const [name, width] of [['aInv', d * d], ['C', d * k], ['phi', d]] as const) {
      expect(Array.from(after[name]!.subarray(width, 7 * width)), `untouched arms 1..6 keep ${name} bit for bit`)
        .to.deep.equal(Array.from(saved.arrays[name]!.subarray(width, 7 * width)));
    }
    const probe = { arm: uniform(3 * K * d, 99), shared: uniform(3 * K * k, 98) };
    expectClose(await g.scores(probe), await c.scores(probe), TOL_F32_MODEL, 'scores after partial re-factorisations');
    g.dispose();
    c.dispose();
  });

  it('keeps the per-arm inverses within the drift bound and reports diagnostics', async () => {
    const g = f32Backend();
    const K = 3, d = 4, k = 4;
    const model = await HybridLinUCB.create(g, { arms: K, dim: d, sharedDim: k, driftCheckEvery: 4, refactorEvery: 8 });
    const free = await HybridLinUCB.create(g, { arms: K, dim: d, sharedDim: k, driftCheckEvery: 0, refactorEvery: 0 });
    const c = { arm: uniform(4 * d, 3), shared: uniform(4 * k, 4) };
    await model.update(new Int32Array([0, 1, 1, 2]), c, new Float32Array([1, 0, 1, 0]));
    await free.update(new Int32Array([0, 1, 1, 2]), c, new Float32Array([1, 0, 1, 0]));
    let diag = model.diagnostics();
    expect(diag.updates).to.equal(4);
    expect(diag.driftChecks).to.equal(1);
    expect(diag.lastDrift).to.be.a('number').and.below(1e-4);
    expect(Array.from(diag.plays)).to.deep.equal([1, 2, 1]);
    await model.update(new Int32Array([0, 0, 0, 0]), c, new Float32Array([1, 1, 1, 1]));
    await free.update(new Int32Array([0, 0, 0, 0]), c, new Float32Array([1, 1, 1, 1]));
    diag = model.diagnostics();
    expect(diag.refactorizations).to.equal(1);
    expect(diag.failedRefactorizations + diag.failedSharedFactorizations).to.equal(0);
    expect(free.diagnostics().refactorizations).to.equal(0);
    // Rebuilding A⁻¹, A⁻¹B and A⁻¹b from A, B, b changes nothing beyond f32 rounding.
    const probe = { arm: uniform(2 * K * d, 7), shared: uniform(2 * K * k, 8) };
    expectClose(await model.scores(probe), await free.scores(probe), TOL_F32_MODEL, 're-factorised vs Sherman–Morrison only');
    expect(await model.measureDrift()).to.be.below(1e-4);
    model.dispose();
    free.dispose();
  });
});
