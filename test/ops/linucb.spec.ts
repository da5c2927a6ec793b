import { expect } from 'chai';
import { BanditError, type Backend, type Tensor } from '../../src/index.js';
import { discountedUpdate, gatherMatVec, inverseDrift, scatterAddScaled, symRank1Update, ucbScores } from '../../src/ops/index.js';
import { F32_EPS, dotBound, expectClose, type Tolerance } from '../support/compare.js';
import { backends, maxTestBindingBytes, describeBackends } from '../support/fixture.js';
import { absArray, rng, spd, uniform } from '../support/random.js';

/** Every comparison here is against a per-element bound derived for the op (see each bound). */
const TOL_BOUND_ONLY: Tolerance = { abs: 0, rel: 0 };
/** Values written by nobody (columns, rows or arms an op must leave alone) come back bit for bit. */
const SENTINEL = -7.25;
/**
 * ulps of the f32 sqrt: WGSL allows sqrt the error of 1/inverseSqrt (2 ulp, plus the division's
 * rounding); 4 leaves room.
 */
const SQRT_ULPS = 4;
/**
 * Rounding depth of q = xᵀA⁻¹x in the kernels: at most d (z = xᵀA⁻¹[:, block]) + 3 (dot of a
 * block) + d/4 (the sum over blocks), or d + d/4 + 1 in the row walk: 2d + 4 covers both.
 */
const quadDepth = (d: number) => 2 * d + 4;
/** Rounding depth of θᵀx: the products, d/4 vec4 partial sums and the 4-term dot. */
const thetaDepth = (d: number) => d + 4;
/**
 * Rounding depth of one element of discountedUpdate after n plays of its arm: each of n + 1
 * decays rounds γ^g to f32, multiplies and adds (1−γ^g)λ (also rounded), each play rounds a product
 * and a sum: ≤ 4(n + 1) + 2 for any term.
 */
const discountDepth = (plays: number) => 4 * (plays + 1) + 2;
/** |twin − direct float64 evaluation| relative to the sum of absolute values: float64 rounding only. */
const F64_AGREEMENT = 1e-12;

const gamma = (n: number) => (n * F32_EPS) / (1 - n * F32_EPS);
const filled = (n: number, v: number) => new Float32Array(n).fill(v);
const maxPlays = (arms: Int32Array): number => {
  const n = new Map<number, number>();
  for (const a of arms) n.set(a, (n.get(a) ?? 0) + 1);
  return Math.max(0, ...n.values());
};
const randomArms = (count: number, k: number, seed: number): Int32Array => {
  const r = rng(seed);
  return Int32Array.from({ length: count }, () => Math.floor(r() * k));
};

async function readF32(backend: Backend, t: Tensor): Promise<Float32Array> {
  return Float32Array.from(await backend.read(t));
}

function disposeAll(...ts: Tensor[]): void {
  for (const t of ts) t.dispose();
}

// ---------------------------------------------------------------------------------------------
// ucbScores

interface UcbCase {
  readonly rows: number;
  readonly arms: number;
  readonly d: number;
  readonly perArm: boolean;
  readonly alpha: number;
  /** Shard placement: x (per arm) and out have `total` arms, this shard starts at `offset`. */
  readonly offset?: number;
  readonly total?: number;
  /** A⁻¹ symmetric positive definite (the LinUCB case) instead of general (q may be < 0). */
  readonly spd?: boolean;
}

const ucbLabel = (c: UcbCase) =>
  `B=${c.rows} K=${c.arms} d=${c.d}${c.perArm ? ' perArm' : ''} α=${c.alpha}` +
  `${c.offset ? ` armOffset=${c.offset}/${c.total}` : ''}${c.spd ? ' spd' : ''}`;

/**
 * Direct float64 evaluation of every score with its error bound, one pass:
 *   |Δ(θᵀx)| ≤ γ_{d+4}·|θ|ᵀ|x| =: δθ,   |Δq| ≤ γ_{2d+4}·|x|ᵀ|A⁻¹||x| =: δq,
 *   |Δ sqrt(q⁺)| ≤ min(√δq, δq / (√q⁺ + √max(q⁺ − δq, 0))) =: δw   (sqrt is not Lipschitz at 0),
 * plus the f32 sqrt (SQRT_ULPS), the product by α and the final sum:
 *   bound = δθ + α·(δw + SQRT_ULPS·u·(w + δw)) + 2u·(|θᵀx| + δθ + α·(w + δw)),  w = sqrt(q⁺).
 * Columns outside the shard get bound 0: they must come back bit for bit.
 */
function ucbReference(c: UcbCase, x: Float32Array, m: Float32Array, th: Float32Array): { value: Float64Array; bound: Float64Array } {
  const { rows, arms, d, alpha } = c;
  const total = c.total ?? arms, offset = c.offset ?? 0;
  const value = new Float64Array(rows * total).fill(SENTINEL);
  const bound = new Float64Array(rows * total);
  const u = F32_EPS, gq = gamma(quadDepth(d)), gt = gamma(thetaDepth(d));
  const z = new Float64Array(d), az = new Float64Array(d);
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < arms; k++) {
      const xb = c.perArm ? (i * total + offset + k) * d : i * d;
      const mb = k * d * d;
      z.fill(0);
      az.fill(0);
      for (let j = 0; j < d; j++) {
        const xj = x[xb + j]!, row = mb + j * d;
        for (let l = 0; l < d; l++) {
          z[l]! += xj * m[row + l]!;
          az[l]! += Math.abs(xj * m[row + l]!);
        }
      }
      let q = 0, aq = 0, t = 0, at = 0;
      for (let l = 0; l < d; l++) {
        const xl = x[xb + l]!;
        q += z[l]! * xl;
        aq += az[l]! * Math.abs(xl);
        t += th[k * d + l]! * xl;
        at += Math.abs(th[k * d + l]! * xl);
      }
      const qp = Math.max(q, 0), w = Math.sqrt(qp);
      const dq = gq * aq, dt = gt * at;
      const dw = Math.min(Math.sqrt(dq), dq / (w + Math.sqrt(Math.max(qp - dq, 0))));
      const o = i * total + offset + k;
      value[o] = t + alpha * w;
      bound[o] = dt + alpha * (dw + SQRT_ULPS * u * (w + dw)) + 2 * u * (Math.abs(t) + dt + alpha * (w + dw)) + 1e-37;
    }
  }
  return { value, bound };
}

/** Runs ucbScores on both backends from the same f32 inputs and checks twin, kernel and untouched columns. */
async function checkUcb(c: UcbCase, seed: number, data?: { x: Float32Array; m: Float32Array; th: Float32Array }): Promise<void> {
  const { gpu, cpu } = backends();
  const total = c.total ?? c.arms, offset = c.offset ?? 0;
  const xShape = c.perArm ? [c.rows, total, c.d] : [c.rows, c.d];
  const x = data?.x ?? uniform(xShape.reduce((a, b) => a * b, 1), seed);
  const m = data?.m ?? (c.spd ? spd(c.arms, c.d, seed + 1) : uniform(c.arms * c.d * c.d, seed + 1));
  const th = data?.th ?? uniform(c.arms * c.d, seed + 2);
  const sharded = c.offset !== undefined;
  const run = async (backend: Backend) => {
    const tx = backend.tensor(x, xShape), tm = backend.tensor(m, [c.arms, c.d, c.d]), tt = backend.tensor(th, [c.arms, c.d]);
    const given = sharded ? backend.tensor(filled(c.rows * total, SENTINEL), [c.rows, total]) : undefined;
    const out = ucbScores(backend, tx, tm, tt, { alpha: c.alpha, perArm: c.perArm, ...(given ? { out: given, armOffset: offset } : {}) });
    if (given) expect(out).to.equal(given);
    expect(out.shape).to.deep.equal([c.rows, total]);
    const values = await backend.read(out);
    disposeAll(tx, tm, tt, out);
    return values;
  };
  const actual = await run(gpu);
  const expected = await run(cpu);
  const ref = ucbReference(c, x, m, th);
  const what = `ucbScores ${ucbLabel(c)}`;
  expectClose(expected, ref.value, { abs: 0, rel: 0 }, `${what}: twin vs direct float64`, ref.bound.map((b) => (b * F64_AGREEMENT) / F32_EPS));
  expectClose(actual, expected, TOL_BOUND_ONLY, what, ref.bound);
}

describeBackends('linucb ops: ucbScores', function () {
  this.timeout(120_000);

  const cases: UcbCase[] = [
    { rows: 1, arms: 1, d: 1, perArm: false, alpha: 1 },
    { rows: 1, arms: 1, d: 1, perArm: true, alpha: 0.5 },
    { rows: 3, arms: 5, d: 5, perArm: false, alpha: 1, spd: true },
    { rows: 7, arms: 13, d: 7, perArm: true, alpha: 2.5 },
    { rows: 9, arms: 33, d: 33, perArm: false, alpha: 1 },
    { rows: 1, arms: 100, d: 16, perArm: false, alpha: 1, spd: true },
    { rows: 1, arms: 70, d: 12, perArm: true, alpha: 0 },
    { rows: 2, arms: 10, d: 8, perArm: false, alpha: 1 },
    { rows: 5, arms: 20, d: 8, perArm: true, alpha: 1, spd: true },
    { rows: 13, arms: 65, d: 32, perArm: false, alpha: 0.3, spd: true },
    { rows: 17, arms: 9, d: 4, perArm: true, alpha: 1 },
    { rows: 64, arms: 3, d: 32, perArm: false, alpha: 1 },
    { rows: 256, arms: 2, d: 4, perArm: false, alpha: 2 },
    { rows: 3, arms: 4, d: 128, perArm: false, alpha: 1, spd: true },
    { rows: 1, arms: 3, d: 127, perArm: true, alpha: 1 },
  ];
  it('matches the float64 twin: K = 1, d = 1, B = 1, odd d, B past and short of a row tile, shared and per arm', async () => {
    let seed = 10;
    for (const c of cases) await checkUcb(c, (seed += 7));
  });

  const shards: UcbCase[] = [
    { rows: 3, arms: 4, d: 5, perArm: false, alpha: 1, offset: 2, total: 9 },
    { rows: 9, arms: 6, d: 8, perArm: false, alpha: 1, offset: 5, total: 11 },
    { rows: 5, arms: 7, d: 8, perArm: true, alpha: 1.5, offset: 3, total: 12 },
    { rows: 1, arms: 2, d: 16, perArm: true, alpha: 1, offset: 1, total: 3 },
    { rows: 2, arms: 3, d: 3, perArm: true, alpha: 1, offset: 4, total: 7 },
    { rows: 4, arms: 5, d: 4, perArm: false, alpha: 1, offset: 0, total: 8 },
  ];
  it('writes a shard (armOffset > 0) into a wider out and leaves the other columns untouched', async () => {
    let seed = 300;
    for (const c of shards) await checkUcb(c, (seed += 11));
  });

  it('gives NaN where the form is NaN, clamps a negative form to 0, and θᵀx alone at α = 0', async () => {
    const { gpu } = backends();
    const d = 4;
    // Arm 0: A⁻¹ = −I (q = −|x|² < 0, clamped); arm 1: a NaN in A⁻¹; arm 2: I (q = |x|²).
    const m = new Float32Array(3 * d * d);
    for (let i = 0; i < d; i++) {
      m[i * d + i] = -1;
      m[2 * d * d + i * d + i] = 1;
    }
    m[d * d + 5] = NaN;
    const x = new Float32Array([1, 2, 2, 0, 0, 0, 0, 0]); // |x|² = 9, then x = 0
    const th = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]);
    const tx = gpu.tensor(x, [2, d]), tm = gpu.tensor(m, [3, d, d]), tt = gpu.tensor(th, [3, d]);
    const out = ucbScores(gpu, tx, tm, tt, { alpha: 2 });
    const s = await readF32(gpu, out);
    // Row 0: θ₀ᵀx = 1, θ₁ᵀx = 2, θ₂ᵀx = 0.
    expect(s[0]).to.equal(1);
    expect(Number.isNaN(s[1]!)).to.equal(true);
    expect(s[2]).to.equal(0 + 2 * 3);
    // Row 1 (x = 0): q = 0 everywhere but NaN·0 = NaN for arm 1.
    expect([s[3], s[5]]).to.deep.equal([0, 0]);
    expect(Number.isNaN(s[4]!)).to.equal(true);
    const zero = ucbScores(gpu, tx, tm, tt, { alpha: 0 });
    const z = await readF32(gpu, zero);
    expect([z[0], z[2], z[3], z[5]]).to.deep.equal([1, 0, 0, 0]);
    expect(Number.isNaN(z[1]!)).to.equal(true);
    disposeAll(tx, tm, tt, out, zero);
  });

  it('handles the largest A⁻¹ the binding cap allows (d = 64), B past one 8-row tile', async () => {
    const d = 64;
    const arms = Math.floor(maxTestBindingBytes() / (4 * d * d));
    await checkUcb({ rows: 9, arms, d, perArm: false, alpha: 1 }, 901);
  });

  it('handles the largest A⁻¹ the binding cap allows with per-arm x, as a shard of a wider model', async () => {
    const d = 64;
    const arms = Math.floor(maxTestBindingBytes() / (4 * d * d));
    await checkUcb({ rows: 1, arms, d, perArm: true, alpha: 1, offset: 3, total: arms + 5 }, 902);
  });

  it('refuses bad input with BanditError and leaves out unchanged', async () => {
    const { gpu, cpu } = backends();
    const made: Tensor[] = [];
    const t = (shape: number[], dtype: 'f32' | 'i32' = 'f32') => {
      const v = gpu.zeros(shape, { dtype });
      made.push(v);
      return v;
    };
    const K = 3, d = 4, B = 2;
    const x = t([B, d]), m = t([K, d, d]), th = t([K, d]);
    const out = gpu.tensor(filled(B * 6, SENTINEL), [B, 6]);
    made.push(out);
    const bad: [string, () => unknown, RegExp][] = [
      ['x of the wrong d', () => ucbScores(gpu, t([B, 5]), m, th, { alpha: 1, out }), /x must be B×4/],
      ['per-arm x of rank 2', () => ucbScores(gpu, x, m, th, { alpha: 1, perArm: true, out }), /perArm, x must be/],
      ['per-arm x too narrow for the shard', () => ucbScores(gpu, t([B, 4, d]), m, th, { alpha: 1, perArm: true, out: t([B, 4]), armOffset: 2 }), /Ktotal ≥ 5/],
      ['per-arm x and out of different widths', () => ucbScores(gpu, t([B, 5, d]), m, th, { alpha: 1, perArm: true, out, armOffset: 1 }), /5 arms/],
      ['out too narrow for armOffset + K', () => ucbScores(gpu, x, m, th, { alpha: 1, out, armOffset: 4 }), /Ktotal ≥ 7/],
      ['out with the wrong rows', () => ucbScores(gpu, x, m, th, { alpha: 1, out: t([B + 1, 6]) }), /out must be 2×Ktotal/],
      ['out of i32', () => ucbScores(gpu, x, m, th, { alpha: 1, out: t([B, 6], 'i32') }), /f32/],
      ['armOffset without out', () => ucbScores(gpu, x, m, th, { alpha: 1, armOffset: 1 }), /out is required/],
      ['negative armOffset', () => ucbScores(gpu, x, m, th, { alpha: 1, out, armOffset: -1 }), /armOffset/],
      ['fractional armOffset', () => ucbScores(gpu, x, m, th, { alpha: 1, out, armOffset: 0.5 }), /armOffset/],
      ['NaN alpha', () => ucbScores(gpu, x, m, th, { alpha: NaN, out }), /alpha must be finite/],
      ['infinite alpha', () => ucbScores(gpu, x, m, th, { alpha: Infinity, out }), /alpha must be finite/],
      ['negative alpha', () => ucbScores(gpu, x, m, th, { alpha: -1, out }), /alpha must be ≥ 0/],
      ['no alpha', () => ucbScores(gpu, x, m, th, {} as never), /alpha is required/],
      ['theta of the wrong shape', () => ucbScores(gpu, x, m, t([K, d + 1]), { alpha: 1, out }), /theta must be 3×4/],
      ['non-square aInv', () => ucbScores(gpu, x, t([K, d, d + 1]), th, { alpha: 1, out }), /square/],
      ['out aliasing x', () => ucbScores(gpu, out, t([K, 6, 6]), t([K, 6]), { alpha: 1, out }), /different tensors/],
      ['a tensor of another backend', () => ucbScores(gpu, cpu.zeros([B, d]), m, th, { alpha: 1, out }), /another backend/],
    ];
    for (const [what, call, message] of bad) expect(call, what).to.throw(BanditError, message);
    expect(Array.from(await readF32(gpu, out))).to.deep.equal(Array.from(filled(B * 6, SENTINEL)));
    disposeAll(...made);
  });
});

// ---------------------------------------------------------------------------------------------
// scatterAddScaled and gatherMatVec

/** Runs `op` on the cpu backend with every input made non-negative: the sums of absolute values. */
async function absolute(run: (backend: Backend, abs: (a: Float32Array) => Float32Array) => Promise<ArrayLike<number>>): Promise<Float64Array> {
  const { cpu } = backends();
  return Float64Array.from(await run(cpu, absArray));
}

describeBackends('linucb ops: scatterAddScaled', function () {
  this.timeout(120_000);

  const cases: [number, number, Int32Array][] = [
    [1, 1, new Int32Array([0])],
    [1, 3, new Int32Array([0, 0, 0, 0])],
    [5, 7, new Int32Array([3, 0, 3, 3, 1])],
    [1000, 33, randomArms(256, 1000, 5)],
    [200, 64, randomArms(300, 200, 6)],
    [64, 8, randomArms(1000, 64, 7)],
  ];
  it('matches the float64 twin (repeated arms added in order, untouched arms bit-identical)', async () => {
    const { gpu, cpu } = backends();
    let seed = 40;
    for (const [k, d, arms] of cases) {
      const b = uniform(k * d, seed++), x = uniform(arms.length * d, seed++);
      const w = uniform(arms.length, seed++).map((v, u) => (u % 5 === 0 ? 0 : 3 * v));
      const run = async (backend: Backend, f: (a: Float32Array) => Float32Array = (a) => a) => {
        const tb = backend.tensor(f(b), [k, d]), tx = backend.tensor(f(x), [arms.length, d]);
        scatterAddScaled(backend, tb, tx, arms, f(w));
        const v = await backend.read(tb);
        disposeAll(tb, tx);
        return v;
      };
      const actual = await run(gpu);
      const expected = await run(cpu);
      // Each element: b + Σ w·x in order, a product and a sum rounded a step: γ_{2n}·(|b| + Σ|w||x|).
      const bound = dotBound(await absolute(run), 2 * maxPlays(arms), 0);
      expectClose(actual, expected, TOL_BOUND_ONLY, `scatterAddScaled K=${k} d=${d} U=${arms.length}`, bound);
      const touched = new Set(arms);
      for (let a = 0; a < k; a++) {
        if (touched.has(a)) continue;
        for (let e = a * d; e < (a + 1) * d; e++) expect(actual[e], `untouched arm ${a}`).to.equal(b[e]);
      }
    }
  });

  it('adds rows of one arm in call order (f32 rounding shows the order)', async () => {
    const { gpu } = backends();
    // In order: 2²⁴ + 1 rounds to 2²⁴ (ties to even), minus 2²⁴ gives 0; any other order gives 1.
    const b = gpu.zeros([2, 1]), x = gpu.tensor([2 ** 24, 1, 2 ** 24], [3, 1]);
    scatterAddScaled(gpu, b, x, new Int32Array([1, 1, 1]), new Float32Array([1, 1, -1]));
    expect(Array.from(await gpu.read(b))).to.deep.equal([0, 0]);
    disposeAll(b, x);
  });

  it('refuses bad input with BanditError and leaves b unchanged', async () => {
    const { gpu } = backends();
    const b = gpu.tensor([1, 2, 3, 4, 5, 6], [3, 2]), x = gpu.tensor([1, 1, 1, 1], [2, 2]);
    const arms = new Int32Array([0, 2]), w = new Float32Array([1, 1]);
    const bad: [string, () => unknown, RegExp][] = [
      ['an arm out of range', () => scatterAddScaled(gpu, b, x, new Int32Array([0, 3]), w), /arms\[1\] = 3 is out of range 0\.\.2/],
      ['a negative arm', () => scatterAddScaled(gpu, b, x, new Int32Array([-1, 0]), w), /arms\[0\] = -1/],
      ['too few arms', () => scatterAddScaled(gpu, b, x, new Int32Array([0]), w), /2 rows of x but 1 arm/],
      ['arms not Int32Array', () => scatterAddScaled(gpu, b, x, [0, 2] as unknown as Int32Array, w), /Int32Array/],
      ['a NaN weight', () => scatterAddScaled(gpu, b, x, arms, new Float32Array([1, NaN])), /weights\[1\] must be finite/],
      ['an infinite weight', () => scatterAddScaled(gpu, b, x, arms, new Float32Array([-Infinity, 1])), /weights\[0\] must be finite/],
      ['too many weights', () => scatterAddScaled(gpu, b, x, arms, new Float32Array(3)), /3 weights/],
      ['weights not Float32Array', () => scatterAddScaled(gpu, b, x, arms, new Float64Array(2) as unknown as Float32Array), /Float32Array/],
      ['x of the wrong d', () => scatterAddScaled(gpu, b, gpu.zeros([2, 3]), arms, w), /x must be U×2/],
      ['b aliasing x', () => scatterAddScaled(gpu, b, b, arms, w), /different tensors/],
    ];
    for (const [what, call, message] of bad) expect(call, what).to.throw(BanditError, message);
    expect(Array.from(await gpu.read(b))).to.deep.equal([1, 2, 3, 4, 5, 6]);
    disposeAll(b, x);
  });
});

describeBackends('linucb ops: gatherMatVec', function () {
  this.timeout(120_000);

  const cases: [number, number, Int32Array][] = [
    [1, 1, new Int32Array([0])],
    [5, 7, new Int32Array([4, 0, 4])],
    [3, 5, new Int32Array([])],
    [1000, 64, randomArms(200, 1000, 8)],
    [300, 33, randomArms(100, 300, 9)],
    [2, 128, new Int32Array([1, 1])],
    [70, 4, randomArms(70, 70, 10)],
  ];
  it('matches the float64 twin for the listed arms (duplicates once), other rows of out untouched', async () => {
    const { gpu, cpu } = backends();
    let seed = 60;
    for (const [k, d, arms] of cases) {
      const m = uniform(k * d * d, seed++), v = uniform(k * d, seed++);
      const run = async (backend: Backend, f: (a: Float32Array) => Float32Array = (a) => a) => {
        const tm = backend.tensor(f(m), [k, d, d]), tv = backend.tensor(f(v), [k, d]);
        const out = backend.tensor(filled(k * d, SENTINEL), [k, d]);
        gatherMatVec(backend, tm, tv, out, arms);
        const r = await backend.read(out);
        disposeAll(tm, tv, out);
        return r;
      };
      const actual = await run(gpu);
      const expected = await run(cpu);
      // A dot of length d (vec4 partial sums, then a 4-term sum): γ_{d+2}·|M||v|; SENTINEL rows exact.
      const bound = dotBound(await absolute(run), d + 2);
      const listed = new Set(arms);
      for (let a = 0; a < k; a++) if (!listed.has(a)) bound.fill(0, a * d, (a + 1) * d);
      expectClose(actual, expected, TOL_BOUND_ONLY, `gatherMatVec K=${k} d=${d} arms=${arms.length}`, bound);
      for (let a = 0; a < k; a++) {
        if (!listed.has(a)) for (let e = a * d; e < (a + 1) * d; e++) expect(actual[e], `unlisted arm ${a}`).to.equal(SENTINEL);
      }
    }
  });

  it('refuses bad input with BanditError and leaves out unchanged', async () => {
    const { gpu } = backends();
    const m = gpu.zeros([2, 3, 3]), v = gpu.zeros([2, 3]);
    const out = gpu.tensor(filled(6, SENTINEL), [2, 3]);
    const bad: [string, () => unknown, RegExp][] = [
      ['an arm out of range', () => gatherMatVec(gpu, m, v, out, new Int32Array([0, 2])), /arms\[1\] = 2 is out of range/],
      ['arms not Int32Array', () => gatherMatVec(gpu, m, v, out, new Uint32Array([0]) as unknown as Int32Array), /Int32Array/],
      ['v of the wrong shape', () => gatherMatVec(gpu, m, gpu.zeros([3, 3]), out, new Int32Array([0])), /v must be 2×3/],
      ['out of the wrong shape', () => gatherMatVec(gpu, m, v, gpu.zeros([2, 4]), new Int32Array([0])), /out must be 2×3/],
      ['out aliasing v', () => gatherMatVec(gpu, m, out, out, new Int32Array([0])), /different tensors/],
      ['non-square m', () => gatherMatVec(gpu, gpu.zeros([2, 3, 4]), v, out, new Int32Array([0])), /square/],
    ];
    for (const [what, call, message] of bad) expect(call, what).to.throw(BanditError, message);
    expect(Array.from(await readF32(gpu, out))).to.deep.equal(Array.from(filled(6, SENTINEL)));
    disposeAll(m, v, out);
  });
});

// ---------------------------------------------------------------------------------------------
// discountedUpdate

interface DiscountCase {
  readonly k: number;
  readonly d: number;
  readonly arms: Int32Array;
  readonly gamma: number;
  readonly lambda: number;
}

/** Every step for every arm, as the definition reads (no closed form): the twin's reference. */
function discountStepByStep(c: DiscountCase, a: Float32Array, b: Float32Array, x: Float32Array, r: Float32Array) {
  const { k, d } = c;
  const A = Float64Array.from(a), bb = Float64Array.from(b);
  for (let u = 0; u < c.arms.length; u++) {
    for (let e = 0; e < k * d * d; e++) {
      const i = Math.floor((e % (d * d)) / d), j = e % d;
      A[e] = c.gamma * A[e]! + (i === j ? (1 - c.gamma) * c.lambda : 0);
    }
    for (let e = 0; e < k * d; e++) bb[e] = c.gamma * bb[e]!;
    const arm = c.arms[u]!;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) A[arm * d * d + i * d + j]! += x[u * d + i]! * x[u * d + j]!;
      bb[arm * d + i]! += r[u]! * x[u * d + i]!;
    }
  }
  return { a: A, b: bb };
}

describeBackends('linucb ops: discountedUpdate', function () {
  this.timeout(120_000);

  const cases: DiscountCase[] = [
    { k: 1, d: 1, arms: new Int32Array([0]), gamma: 0.9, lambda: 1 },
    { k: 1, d: 3, arms: new Int32Array([0, 0, 0, 0]), gamma: 0.5, lambda: 2 },
    { k: 5, d: 7, arms: new Int32Array([3, 0, 3, 3, 1]), gamma: 0.95, lambda: 1 },
    { k: 5, d: 8, arms: new Int32Array([4, 4, 0]), gamma: 0.999, lambda: 0.5 },
    { k: 300, d: 8, arms: randomArms(64, 300, 11), gamma: 0.99, lambda: 1 },
    { k: 64, d: 33, arms: randomArms(100, 64, 12), gamma: 0.97, lambda: 1 },
    { k: 40, d: 64, arms: randomArms(200, 40, 13), gamma: 0.999, lambda: 1 },
    { k: 3, d: 4, arms: new Int32Array([2, 2, 2, 0, 2]), gamma: 1, lambda: 1 },
    { k: 7, d: 5, arms: new Int32Array(1000).fill(6), gamma: 0.9999, lambda: 3 },
  ];

  it('matches the float64 twin: every arm decays every step, played arms add in order', async () => {
    const { gpu, cpu } = backends();
    let seed = 80;
    for (const c of cases) {
      const { k, d, arms } = c;
      const U = arms.length;
      const a0 = spd(k, d, seed++), b0 = uniform(k * d, seed++);
      const x = uniform(U * d, seed++), r = uniform(U, seed++);
      const run = async (backend: Backend, f: (v: Float32Array) => Float32Array = (v) => v) => {
        const ta = backend.tensor(f(a0), [k, d, d]), tb = backend.tensor(f(b0), [k, d]), tx = backend.tensor(f(x), [U, d]);
        discountedUpdate(backend, ta, tb, tx, arms, f(r), { gamma: c.gamma, lambda: c.lambda });
        const out = { a: await backend.read(ta), b: await backend.read(tb) };
        disposeAll(ta, tb, tx);
        return out;
      };
      const what = `discountedUpdate K=${k} d=${d} U=${U} γ=${c.gamma} λ=${c.lambda}`;
      const actual = await run(gpu);
      const expected = await run(cpu);
      const abs = await run(cpu, absArray);
      const depth = discountDepth(maxPlays(arms));
      if (k * d * d * U <= 2e6) {
        // The closed form (γ^g decays composed) against the definition, step by step, in float64.
        const ref = discountStepByStep(c, a0, b0, x, r);
        expectClose(expected.a, ref.a, { abs: 0, rel: 0 }, `${what}: twin A vs step by step`, dotBound(abs.a, depth).map((v) => (v * F64_AGREEMENT) / F32_EPS));
        expectClose(expected.b, ref.b, { abs: 0, rel: 0 }, `${what}: twin b vs step by step`, dotBound(abs.b, depth).map((v) => (v * F64_AGREEMENT) / F32_EPS));
      }
      expectClose(actual.a, expected.a, TOL_BOUND_ONLY, `${what}: A`, dotBound(abs.a, depth, 0));
      expectClose(actual.b, expected.b, TOL_BOUND_ONLY, `${what}: b`, dotBound(abs.b, depth, 0));
      // Decay and rank-1 adds keep a symmetric A exactly symmetric (the same operations on (i, j) and (j, i)).
      const A = actual.a;
      for (let e = 0; e < k * d * d; e++) {
        const o = e - (e % (d * d)), i = Math.floor((e % (d * d)) / d), j = e % d;
        if (A[e] !== A[o + j * d + i]) throw new Error(`${what}: A not symmetric at arm ${o / (d * d)} (${i}, ${j})`);
      }
    }
  });

  it('at γ = 1 is the plain update A += x xᵀ, b += r·x (exactly so in the twin)', async () => {
    const { gpu, cpu } = backends();
    const k = 6, d = 12;
    const arms = new Int32Array([5, 1, 5, 0, 5, 1]);
    const U = arms.length;
    const a0 = spd(k, d, 21), b0 = uniform(k * d, 22), x = uniform(U * d, 23), r = uniform(U, 24);
    const discounted = async (backend: Backend) => {
      const ta = backend.tensor(a0, [k, d, d]), tb = backend.tensor(b0, [k, d]), tx = backend.tensor(x, [U, d]);
      discountedUpdate(backend, ta, tb, tx, arms, r, { gamma: 1, lambda: 5 });
      const out = { a: await backend.read(ta), b: await backend.read(tb) };
      disposeAll(ta, tb, tx);
      return out;
    };
    const plain = async (backend: Backend, f: (v: Float32Array) => Float32Array = (v) => v) => {
      const ta = backend.tensor(f(a0), [k, d, d]), tb = backend.tensor(f(b0), [k, d]), tx = backend.tensor(f(x), [U, d]);
      symRank1Update(backend, ta, tx, arms, 1);
      scatterAddScaled(backend, tb, tx, arms, f(r));
      const out = { a: await backend.read(ta), b: await backend.read(tb) };
      disposeAll(ta, tb, tx);
      return out;
    };
    const twin = await discounted(cpu), twinPlain = await plain(cpu);
    expect(Array.from(twin.a)).to.deep.equal(Array.from(twinPlain.a));
    expect(Array.from(twin.b)).to.deep.equal(Array.from(twinPlain.b));
    const actual = await discounted(gpu), abs = await plain(cpu, absArray);
    // No decay rounds at γ = 1 (factor 1, term 0): one product and one sum a play.
    const depth = 2 * maxPlays(arms);
    expectClose(actual.a, twinPlain.a, TOL_BOUND_ONLY, 'γ = 1: A', dotBound(abs.a, depth, 0));
    expectClose(actual.b, twinPlain.b, TOL_BOUND_ONLY, 'γ = 1: b', dotBound(abs.b, depth, 0));
  });

  it('treats arm -1 as a step of another shard: the same as playing an extra arm that is then dropped', async () => {
    const { gpu, cpu } = backends();
    const k = 4, d = 5, gamma = 0.9, lambda = 1.5;
    const arms = new Int32Array([-1, 2, -1, 2, 0, -1]);
    const widened = Int32Array.from(arms, (a) => (a < 0 ? k : a));
    const U = arms.length;
    const a0 = spd(k + 1, d, 61), b0 = uniform((k + 1) * d, 62), x = uniform(U * d, 63), r = uniform(U, 64);
    for (const backend of [gpu, cpu]) {
      const run = async (K: number, which: Int32Array) => {
        const ta = backend.tensor(a0.subarray(0, K * d * d), [K, d, d]), tb = backend.tensor(b0.subarray(0, K * d), [K, d]);
        const tx = backend.tensor(x, [U, d]);
        discountedUpdate(backend, ta, tb, tx, which, r, { gamma, lambda });
        const out = { a: Array.from(await backend.read(ta)).slice(0, k * d * d), b: Array.from(await backend.read(tb)).slice(0, k * d) };
        disposeAll(ta, tb, tx);
        return out;
      };
      // Arms are independent element by element, so the first k arms must agree bit for bit.
      expect(await run(k, arms), backend.kind).to.deep.equal(await run(k + 1, widened));
    }
  });

  it('keeps a rarely played arm well conditioned: unplayed arms tend to λI, b to 0', async () => {
    const { gpu } = backends();
    const k = 3, d = 4, U = 2000, lambda = 2;
    const arms = new Int32Array(U).fill(0);
    const a = gpu.tensor(spd(k, d, 31, 5), [k, d, d]), b = gpu.tensor(uniform(k * d, 32), [k, d]);
    const x = gpu.tensor(uniform(U * d, 33), [U, d]);
    discountedUpdate(gpu, a, b, x, arms, uniform(U, 34), { gamma: 0.99, lambda });
    const A = await readF32(gpu, a), B = await readF32(gpu, b);
    // γ^2000 ≈ 1.9e-9: A_1, A_2 are λI to f32 accuracy and b_1, b_2 are ~0.
    for (const arm of [1, 2]) {
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) expect(A[arm * d * d + i * d + j]).to.be.closeTo(i === j ? lambda : 0, 1e-6);
        expect(B[arm * d + i]).to.be.closeTo(0, 1e-8);
      }
    }
    disposeAll(a, b, x);
  });

  it('refuses bad input with BanditError and leaves A and b unchanged', async () => {
    const { gpu } = backends();
    const k = 2, d = 3;
    const a0 = spd(k, d, 41), b0 = uniform(k * d, 42);
    const a = gpu.tensor(a0, [k, d, d]), b = gpu.tensor(b0, [k, d]), x = gpu.tensor(uniform(2 * d, 43), [2, d]);
    const arms = new Int32Array([0, 1]), r = new Float32Array([1, 0]);
    const opts = { gamma: 0.9, lambda: 1 };
    const bad: [string, () => unknown, RegExp][] = [
      ['gamma 0', () => discountedUpdate(gpu, a, b, x, arms, r, { gamma: 0, lambda: 1 }), /gamma must be in \(0, 1\]/],
      ['gamma < 0', () => discountedUpdate(gpu, a, b, x, arms, r, { gamma: -0.5, lambda: 1 }), /gamma/],
      ['gamma > 1', () => discountedUpdate(gpu, a, b, x, arms, r, { gamma: 1.5, lambda: 1 }), /gamma/],
      ['gamma NaN', () => discountedUpdate(gpu, a, b, x, arms, r, { gamma: NaN, lambda: 1 }), /gamma/],
      ['gamma ∞', () => discountedUpdate(gpu, a, b, x, arms, r, { gamma: Infinity, lambda: 1 }), /gamma/],
      ['lambda 0', () => discountedUpdate(gpu, a, b, x, arms, r, { gamma: 0.9, lambda: 0 }), /lambda must be finite and > 0/],
      ['lambda < 0', () => discountedUpdate(gpu, a, b, x, arms, r, { gamma: 0.9, lambda: -1 }), /lambda/],
      ['lambda NaN', () => discountedUpdate(gpu, a, b, x, arms, r, { gamma: 0.9, lambda: NaN }), /lambda/],
      ['lambda ∞', () => discountedUpdate(gpu, a, b, x, arms, r, { gamma: 0.9, lambda: Infinity }), /lambda/],
      ['a NaN reward', () => discountedUpdate(gpu, a, b, x, arms, new Float32Array([NaN, 0]), opts), /rewards\[0\] must be finite/],
      ['an arm out of range', () => discountedUpdate(gpu, a, b, x, new Int32Array([0, 2]), r, opts), /arms\[1\] = 2 is out of range/],
      ['too few rewards', () => discountedUpdate(gpu, a, b, x, arms, new Float32Array(1), opts), /1 rewards/],
      ['b for other arms', () => discountedUpdate(gpu, a, gpu.zeros([k + 1, d]), x, arms, r, opts), /b must be 2×3/],
      ['x of the wrong d', () => discountedUpdate(gpu, a, b, gpu.zeros([2, d + 1]), arms, r, opts), /x must be U×3/],
      ['a aliasing b', () => discountedUpdate(gpu, a, a, x, arms, r, opts), /different tensors/],
    ];
    for (const [what, call, message] of bad) expect(call, what).to.throw(BanditError, message);
    expect(Array.from(await gpu.read(a))).to.deep.equal(Array.from(a0));
    expect(Array.from(await gpu.read(b))).to.deep.equal(Array.from(b0));
    disposeAll(a, b, x);
  });
});

// ---------------------------------------------------------------------------------------------
// inverseDrift

/** The float64 inverse of SPD matrices (Gauss–Jordan, no pivoting needed), rounded to f32. */
function inverses(a: Float32Array, k: number, d: number): Float32Array {
  const out = new Float32Array(k * d * d);
  const w = new Float64Array(d * d), inv = new Float64Array(d * d);
  for (let m = 0; m < k; m++) {
    w.set(a.subarray(m * d * d, (m + 1) * d * d));
    inv.fill(0);
    for (let i = 0; i < d; i++) inv[i * d + i] = 1;
    for (let c = 0; c < d; c++) {
      const p = 1 / w[c * d + c]!;
      for (let j = 0; j < d; j++) {
        w[c * d + j]! *= p;
        inv[c * d + j]! *= p;
      }
      for (let r = 0; r < d; r++) {
        const f = w[r * d + c]!;
        if (r === c || f === 0) continue;
        for (let j = 0; j < d; j++) {
          w[r * d + j]! -= f * w[c * d + j]!;
          inv[r * d + j]! -= f * inv[c * d + j]!;
        }
      }
    }
    out.set(inv, m * d * d);
  }
  return out;
}

describeBackends('linucb ops: inverseDrift', function () {
  this.timeout(120_000);

  const cases: [number, number][] = [[1, 1], [3, 5], [7, 33], [20, 64], [2, 128], [65, 4], [5, 3]];
  it('matches the float64 twin on kept inverses with and without drift', async () => {
    const { gpu, cpu } = backends();
    let seed = 120;
    for (const [k, d] of cases) {
      const a = spd(k, d, seed++);
      const inv = inverses(a, k, d);
      // Odd arms drift: a perturbation of 1e-3 (relative to the entries) on their inverse.
      const noise = uniform(k * d * d, seed++);
      for (let m = 1; m < k; m += 2) for (let e = m * d * d; e < (m + 1) * d * d; e++) inv[e] = inv[e]! * (1 + 1e-3 * noise[e]!);
      const run = async (backend: Backend, f: (v: Float32Array) => Float32Array = (v) => v) => {
        const ta = backend.tensor(f(a), [k, d, d]), tn = backend.tensor(f(inv), [k, d, d]);
        const out = inverseDrift(backend, ta, tn);
        expect(out.shape).to.deep.equal([k]);
        const r = await backend.read(out);
        disposeAll(ta, tn, out);
        return r;
      };
      const actual = await run(gpu);
      const expected = await run(cpu);
      // Each P_ij is a length-d dot, then −δ_ij, |·| and a length-d row sum: γ_{2d+2}·max_i Σ_j (|A||A⁻¹|)_ij,
      // and that row sum is at most the drift of |A|, |A⁻¹| plus 1.
      const abs = await run(cpu, absArray);
      expectClose(actual, expected, TOL_BOUND_ONLY, `inverseDrift K=${k} d=${d}`, dotBound(abs.map((v) => v + 1), 2 * d + 2, 0));
      for (let m = 1; m < k; m += 2) expect(expected[m]!, `arm ${m} drifts`).to.be.greaterThan(1e-5);
    }
  });

  it('is exactly 0 for A = A⁻¹ = I, the max row sum for a known case, NaN for an arm holding NaN', async () => {
    const { gpu } = backends();
    const d = 4, k = 3;
    const a = new Float32Array(k * d * d), inv = new Float32Array(k * d * d);
    for (let m = 0; m < k; m++) for (let i = 0; i < d; i++) a[m * d * d + i * d + i] = inv[m * d * d + i * d + i] = 1;
    // Arm 1: A⁻¹ = I + E with E's row 2 = (0.5, −0.25, 0, 0.125): drift 0.875.
    inv.set([0.5, -0.25, 0, 0.125], d * d + 2 * d);
    inv[d * d + 2 * d + 2] = 1;
    inv[2 * d * d + 7] = NaN;
    const ta = gpu.tensor(a, [k, d, d]), tn = gpu.tensor(inv, [k, d, d]);
    const out = inverseDrift(gpu, ta, tn);
    const r = await readF32(gpu, out);
    expect([r[0], r[1]]).to.deep.equal([0, 0.875]);
    expect(Number.isNaN(r[2]!)).to.equal(true);
    disposeAll(ta, tn, out);
  });

  it('refuses mismatched shapes with BanditError', () => {
    const { gpu } = backends();
    const a = gpu.zeros([2, 3, 3]), n = gpu.zeros([3, 3, 3]), s = gpu.zeros([2, 3, 4]);
    expect(() => inverseDrift(gpu, a, n)).to.throw(BanditError, /a is 2×3×3 but aInv is 3×3×3/);
    expect(() => inverseDrift(gpu, s, s)).to.throw(BanditError, /square/);
    disposeAll(a, n, s);
  });
});
