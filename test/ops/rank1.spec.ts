import { expect } from 'chai';
import { BanditError, type Backend, type Tensor } from '../../src/index.js';
import { shermanMorrisonUpdate, symRank1Update } from '../../src/ops/index.js';
import { f64 } from '../../src/cpu/tensor.js';
import { segmentIndex } from '../../src/core/segments.js';
import { F32_EPS, dotBound, expectClose, type Tolerance } from '../support/compare.js';
import { backends, maxTestBindingBytes, describeBackends } from '../support/fixture.js';
import { rng, spd, uniform } from '../support/random.js';
import { inverseSpd } from '../support/reference.js';

/** Everything is in the per-element bound (see smErrorBound and symRank1Bound). */
const TOL_BOUND_ONLY: Tolerance = { abs: 0, rel: 0 };
/**
 * The Sherman–Morrison bound is first order (products of two rounding errors are dropped) and its
 * spectral bounds use the twin's inputs: twice it covers the neglected terms with room to spare.
 */
const SM_BOUND_SAFETY = 2;
/** A⁻¹ = (G Gᵀ/d + SHIFT·I)⁻¹ has eigenvalues in [1/λmax(A), 1/SHIFT]: a well-posed LinUCB-like start. */
const SHIFT = 1;

const gammaF32 = (n: number): number => (n * F32_EPS) / (1 - n * F32_EPS);

/** One arm's start for Sherman–Morrison: M₀ = fl32(A⁻¹), exactly symmetric, with what the bound needs. */
interface SmStart {
  /** A (f32 values, SPD) and M₀ = fl32(A⁻¹) made exactly symmetric. */
  readonly a: Float32Array;
  readonly m0: Float32Array;
  /** Bounds on the spectrum of the twin's start fl32(A⁻¹): λmax(M₀) ≤ hi, λmin(M₀) ≥ lo. */
  readonly hi: number;
  readonly lo: number;
  /** ‖fl32(A⁻¹) − A⁻¹‖_F: the start's rounding, for comparisons with the exact inverse. */
  readonly rounding: number;
}

function smStart(d: number, seed: number): SmStart {
  const a = spd(1, d, seed, SHIFT);
  const inv = inverseSpd(a, d);
  const m0 = new Float32Array(d * d);
  let rounding2 = 0, aF = 0, maxRow = 0;
  for (let i = 0; i < d; i++) {
    let row = 0;
    for (let j = 0; j < d; j++) {
      const v = Math.fround(i <= j ? (inv[i * d + j]! + inv[j * d + i]!) / 2 : m0[j * d + i]!);
      m0[i * d + j] = v;
      rounding2 += (v - inv[i * d + j]!) ** 2;
      aF += a[i * d + j]! ** 2;
      row += Math.abs(a[i * d + j]!);
    }
    maxRow = Math.max(maxRow, row);
  }
  const rounding = Math.sqrt(rounding2);
  // λmin(A) ≥ SHIFT − ‖fl32 rounding of G Gᵀ/d + SHIFT·I‖ (G Gᵀ is PSD); λmax(A) ≤ its largest row sum (Gershgorin).
  const lamMinA = SHIFT - F32_EPS * Math.sqrt(aF);
  const hi = 1 / lamMinA + rounding;
  const lo = 1 / maxRow - rounding;
  if (!(lo > 0)) throw new Error('smStart: test matrix too ill-conditioned for the bound');
  return { a, m0, hi, lo, rounding };
}

/**
 * Bound on max|M_gpu − M_twin| for one arm after its updates x_1..x_n (f32 values), from the same
 * start. One f32 update (kernel formulation: v = M x, s = 1/(1 + xᵀv), M_ij − (v_i·v_j)·s) makes a
 * local error L with, elementwise and to first order (δv = γ_d·|M||x| the error of v):
 *   |L_ij| ≤ u|M'_ij| + |v_i v_j|·s·(2u + δden·s) + s·(δv_i|v_j| + |v_i|δv_j),
 *   δden = γ_{d+2}·|x|ᵀ|v| + |x|ᵀδv + u·(1 + xᵀv).
 * An earlier error E propagates as E ↦ P E Pᵀ with P = M' M⁻¹, which does not grow in the
 * M-weighted norm ‖M^{-1/2} E M^{-1/2}‖₂ (because M' ⪯ M). So, with M_s the twin's matrix after s
 * updates, ‖E_n‖_max ≤ ‖E_n‖₂ ≤ λmax(M_n)·Σ_s ‖L_s‖_F / λmin(M_{s+1}), where λmax(M_n) ≤ λmax(M₀)
 * and λmin(M_{s+1}) ≥ 1 / (1/λmin(M₀) + Σ_{r≤s} ‖x_r‖²). `initial` adds a start error of that
 * Frobenius norm (for comparisons with the exact inverse).
 */
function smErrorBound(start: SmStart, xs: readonly Float32Array[], d: number, initial = 0): number {
  const m = Float64Array.from(start.m0);
  const v = new Float64Array(d), av = new Float64Array(d), dv = new Float64Array(d);
  const u = F32_EPS, gd = gammaF32(d + 2);
  let invLamMin = 1 / start.lo;
  let weighted = initial * invLamMin;
  for (const x of xs) {
    v.fill(0);
    av.fill(0);
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        v[j] = v[j]! + m[i * d + j]! * x[i]!;
        av[j] = av[j]! + Math.abs(m[i * d + j]! * x[i]!);
      }
    }
    let xv = 0, axv = 0, xdv = 0, xx = 0;
    for (let i = 0; i < d; i++) {
      dv[i] = gd * av[i]!;
      xv += x[i]! * v[i]!;
      axv += Math.abs(x[i]! * v[i]!);
      xdv += Math.abs(x[i]!) * dv[i]!;
      xx += x[i]! * x[i]!;
    }
    const den = 1 + xv, s = 1 / den;
    const dden = gd * axv + xdv + u * Math.abs(den);
    let l2 = 0;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < d; j++) {
        const k = i * d + j;
        const next = m[k]! - v[i]! * v[j]! * s;
        m[k] = next;
        const l = u * Math.abs(next) + Math.abs(v[i]! * v[j]!) * s * (2 * u + dden * s) + s * (dv[i]! * Math.abs(v[j]!) + Math.abs(v[i]!) * dv[j]!);
        l2 += l * l;
      }
    }
    invLamMin += xx;
    weighted += Math.sqrt(l2) * invLamMin;
  }
  return SM_BOUND_SAFETY * start.hi * weighted + 1e-37;
}

/** One case's data: mats K×d×d (touched arms hold the SM start, the others arbitrary), x U×d, arms. */
interface Case {
  readonly k: number; readonly d: number; readonly arms: Int32Array;
  readonly mats: Float32Array; readonly x: Float32Array;
  readonly starts: Map<number, SmStart>;
}

function makeCase(k: number, d: number, arms: Int32Array, seed: number, xScale: number, withStarts = true): Case {
  const mats = uniform(k * d * d, seed);
  const x = uniform(arms.length * d, seed + 1).map((v) => v * xScale);
  const starts = new Map<number, SmStart>();
  if (withStarts) {
    for (const arm of new Set(arms)) {
      const st = smStart(d, seed + 7 * arm + 2);
      starts.set(arm, st);
      mats.set(st.m0, arm * d * d);
    }
  }
  return { k, d, arms, mats, x, starts };
}

const rowOf = (x: Float32Array, u: number, d: number): Float32Array => x.subarray(u * d, (u + 1) * d);

/** Per-element bound for Sherman–Morrison: each touched arm's bound; untouched arms must be exact. */
function smBounds(c: Case): Float64Array {
  const { d } = c;
  const out = new Float64Array(c.k * d * d);
  for (const [arm, st] of c.starts) {
    const xs: Float32Array[] = [];
    c.arms.forEach((a, u) => a === arm && xs.push(rowOf(c.x, u, d)));
    out.fill(smErrorBound(st, xs, d), arm * d * d, (arm + 1) * d * d);
  }
  return out;
}

/**
 * symRank1: each element is m + Σ α·(x_i·x_j) summed in order, one rounding a product and one an
 * fma: γ_{n+2}·(|m| + Σ|α||x_i||x_j|), the sum of absolute values from the twin on |inputs|.
 */
function symRank1Bound(cpu: Backend, c: Case, alpha: number, maxPerArm: number): Float64Array {
  const abs = (a: Float32Array) => a.map(Math.abs);
  const m = cpu.tensor(abs(c.mats), [c.k, c.d, c.d]);
  const x = cpu.tensor(abs(c.x), [c.arms.length, c.d]);
  symRank1Update(cpu, m, x, c.arms, Math.abs(alpha));
  const bound = dotBound(f64(m), maxPerArm + 1, 1);
  m.dispose();
  x.dispose();
  return bound;
}

const maxCount = (arms: Int32Array): number => {
  const n = new Map<number, number>();
  let most = 0;
  for (const a of arms) {
    const c = (n.get(a) ?? 0) + 1;
    n.set(a, c);
    most = Math.max(most, c);
  }
  return most;
};

/** Untouched arms must come back bit for bit. */
function expectUntouched(actual: Float32Array, before: Float32Array, c: Case, what: string): void {
  const touched = new Set(c.arms);
  const dd = c.d * c.d;
  for (let arm = 0; arm < c.k; arm++) {
    if (touched.has(arm)) continue;
    for (let e = arm * dd; e < (arm + 1) * dd; e++) {
      if (!Object.is(actual[e], before[e])) throw new Error(`${what}: untouched arm ${arm} changed at element ${e - arm * dd}`);
    }
  }
}

function expectSymmetric(actual: Float32Array, c: Case, what: string): void {
  const { d } = c;
  for (const arm of new Set(c.arms)) {
    const o = arm * d * d;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j < i; j++) {
        if (actual[o + i * d + j] !== actual[o + j * d + i]) throw new Error(`${what}: arm ${arm} not symmetric at (${i}, ${j})`);
      }
    }
  }
}

function casesFor(k: number, d: number, seed: number): Int32Array[] {
  if (k === 1) return [new Int32Array([0]), new Int32Array([0, 0, 0, 0])];
  if (k === 5) return [new Int32Array([3, 0, 3, 3, 1]), new Int32Array([4])];
  // 256 updates over 1000 arms: most arms once, some several times, the last arm twice.
  const r = rng(seed + d);
  const arms = new Int32Array(256).map(() => Math.floor(r() * k));
  arms[100] = k - 1;
  arms[255] = k - 1;
  return [arms];
}

const SIZES: readonly [number, number][] = [
  ...[1, 5, 1000].flatMap((k) => [1, 3, 8, 17, 64].map((d): [number, number] => [k, d])),
  // One large arm: one workgroup, 64 invocations, each owning one column quad (256) or two (264).
  [1, 256],
  [1, 264],
];

describeBackends('shermanMorrisonUpdate', function () {
  this.timeout(300_000);

  it('groups updates by arm stably for the kernel', () => {
    const { index, segments } = segmentIndex(new Int32Array([3, 0, 3, 3, 1]), 5);
    expect(segments).to.equal(3);
    expect(Array.from(index)).to.deep.equal([3, 0, 1, /* starts */ 0, 3, 4, 5, /* rows */ 0, 2, 3, 1, 4]);
  });

  it('matches the float64 twin over K × d × batches, untouched arms bit-identical, M kept symmetric', async () => {
    const { gpu, cpu } = backends();
    let seed = 100;
    for (const [k, d] of SIZES) {
      for (const arms of casesFor(k, d, seed)) {
        // Contexts of norm ≲ 1 as in LinUCB, and also of entries ~1 (larger xᵀMx) for small d.
        for (const xScale of d <= 17 ? [1 / Math.sqrt(d), 1] : [1 / Math.sqrt(d)]) {
          const c = makeCase(k, d, arms, seed++, xScale);
          const what = `K=${k} d=${d} U=${arms.length} x·${xScale.toPrecision(3)}`;
          const gm = gpu.tensor(c.mats, [k, d, d]), gx = gpu.tensor(c.x, [arms.length, d]);
          const cm = cpu.tensor(c.mats, [k, d, d]), cx = cpu.tensor(c.x, [arms.length, d]);
          shermanMorrisonUpdate(gpu, gm, gx, arms);
          shermanMorrisonUpdate(cpu, cm, cx, arms);
          const actual = (await gpu.read(gm)) as Float32Array;
          expectUntouched(actual, c.mats, c, what);
          expectSymmetric(actual, c, what);
          expectClose(actual, await cpu.read(cm), TOL_BOUND_ONLY, what, smBounds(c));
          for (const t of [gm, gx, cm, cx]) t.dispose();
        }
      }
    }
  });

  it('turns A⁻¹ into (A + Σ x xᵀ)⁻¹ over many updates of one arm (within the propagated bound)', async () => {
    const { gpu } = backends();
    for (const [d, updates] of [[8, 200], [32, 100], [64, 40]] as const) {
      const k = 3, arm = 1;
      const arms = new Int32Array(updates).fill(arm);
      const c = makeCase(k, d, arms, 900 + d, 1 / Math.sqrt(d));
      const st = c.starts.get(arm)!;
      const gm = gpu.tensor(c.mats, [k, d, d]), gx = gpu.tensor(c.x, [updates, d]);
      shermanMorrisonUpdate(gpu, gm, gx, arms);
      const actual = ((await gpu.read(gm)) as Float32Array).subarray(arm * d * d, (arm + 1) * d * d);
      const a = Float64Array.from(st.a);
      for (let u = 0; u < updates; u++) {
        const x = rowOf(c.x, u, d);
        for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) a[i * d + j] = a[i * d + j]! + x[i]! * x[j]!;
      }
      const exact = inverseSpd(a, d);
      const xs = Array.from({ length: updates }, (_, u) => rowOf(c.x, u, d));
      // The twin's own f64 error and that of `exact` are ~1e-16·κ, far inside the f32 bound.
      const bound = new Float64Array(d * d).fill(smErrorBound(st, xs, d, st.rounding));
      expectClose(actual, exact, TOL_BOUND_ONLY, `d=${d} after ${updates} updates`, bound);
      gm.dispose();
      gx.dispose();
    }
  });

  it('handles the largest K·d² in one binding (d = 64), first and last arm included', async () => {
    const { gpu, cpu } = backends();
    const d = 64;
    const k = Math.floor(maxTestBindingBytes() / (4 * d * d));
    const arms = new Int32Array([0, k - 1, k >> 1, 0, k - 1]);
    const { mats, x, starts, touched } = largeCase(k, d, arms, 4242);
    const gm = gpu.tensor(mats, [k, d, d]), gx = gpu.tensor(x, [arms.length, d]);
    shermanMorrisonUpdate(gpu, gm, gx, arms);
    const actual = (await gpu.read(gm)) as Float32Array;
    gm.dispose();
    gx.dispose();
    // The twin on the touched arms only (renumbered 0..T-1), to keep host memory and time sane.
    const local = touchedCase(touched, arms, d, mats, x, starts);
    const cm = cpu.tensor(local.mats, [touched.length, d, d]), cx = cpu.tensor(x, [arms.length, d]);
    shermanMorrisonUpdate(cpu, cm, cx, local.arms);
    const expected = await cpu.read(cm);
    const bounds = smBounds(local);
    touched.forEach((arm, t) => {
      const got = actual.subarray(arm * d * d, (arm + 1) * d * d);
      expectClose(got, expected.subarray(t * d * d, (t + 1) * d * d), TOL_BOUND_ONLY, `K=${k} arm ${arm}`, bounds.subarray(t * d * d, (t + 1) * d * d));
    });
    expectUntouchedLarge(actual, k, d, touched, 4242);
    cm.dispose();
    cx.dispose();
  });

  it('refuses bad input with BanditError and leaves M unchanged', async () => {
    await expectRefusals(shermanMorrisonUpdate);
  });
});

describeBackends('symRank1Update', function () {
  this.timeout(300_000);

  it('matches the float64 twin over K × d × batches and α, untouched arms bit-identical', async () => {
    const { gpu, cpu } = backends();
    let seed = 500;
    for (const [k, d] of SIZES) {
      for (const arms of casesFor(k, d, seed)) {
        for (const alpha of [1, -0.75]) {
          const c = makeCase(k, d, arms, seed++, 1, false);
          const what = `K=${k} d=${d} U=${arms.length} α=${alpha}`;
          const gm = gpu.tensor(c.mats, [k, d, d]), gx = gpu.tensor(c.x, [arms.length, d]);
          const cm = cpu.tensor(c.mats, [k, d, d]), cx = cpu.tensor(c.x, [arms.length, d]);
          symRank1Update(gpu, gm, gx, arms, alpha);
          symRank1Update(cpu, cm, cx, arms, alpha);
          const actual = (await gpu.read(gm)) as Float32Array;
          expectUntouched(actual, c.mats, c, what);
          expectClose(actual, await cpu.read(cm), TOL_BOUND_ONLY, what, symRank1Bound(cpu, c, alpha, maxCount(arms)));
          for (const t of [gm, gx, cm, cx]) t.dispose();
        }
      }
    }
  });

  it('keeps a symmetric M exactly symmetric and α = 0 a no-op', async () => {
    const { gpu } = backends();
    for (const d of [3, 8, 17]) {
      const arms = new Int32Array([3, 0, 3, 3, 1]);
      const c = makeCase(5, d, arms, 70 + d, 1);
      const gm = gpu.tensor(c.mats, [5, d, d]), gx = gpu.tensor(c.x, [arms.length, d]);
      symRank1Update(gpu, gm, gx, arms, 0);
      expect(Array.from(await gpu.read(gm))).to.deep.equal(Array.from(c.mats));
      symRank1Update(gpu, gm, gx, arms, 0.5);
      expectSymmetric((await gpu.read(gm)) as Float32Array, c, `d=${d}`);
      gm.dispose();
      gx.dispose();
    }
  });

  it('handles the largest K·d² in one binding (d = 64), first and last arm included', async () => {
    const { gpu, cpu } = backends();
    const d = 64, alpha = 0.5;
    const k = Math.floor(maxTestBindingBytes() / (4 * d * d));
    const arms = new Int32Array([k - 1, 0, k >> 1, k - 1, k - 1]);
    const { mats, x, starts, touched } = largeCase(k, d, arms, 4343);
    const gm = gpu.tensor(mats, [k, d, d]), gx = gpu.tensor(x, [arms.length, d]);
    symRank1Update(gpu, gm, gx, arms, alpha);
    const actual = (await gpu.read(gm)) as Float32Array;
    gm.dispose();
    gx.dispose();
    const local = touchedCase(touched, arms, d, mats, x, starts);
    const cm = cpu.tensor(local.mats, [touched.length, d, d]), cx = cpu.tensor(x, [arms.length, d]);
    symRank1Update(cpu, cm, cx, local.arms, alpha);
    const expected = await cpu.read(cm);
    const bound = symRank1Bound(cpu, local, alpha, maxCount(local.arms));
    touched.forEach((arm, t) => {
      const s = t * d * d, e = (t + 1) * d * d;
      expectClose(actual.subarray(arm * d * d, (arm + 1) * d * d), expected.subarray(s, e), TOL_BOUND_ONLY, `K=${k} arm ${arm}`, bound.subarray(s, e));
    });
    expectUntouchedLarge(actual, k, d, touched, 4343);
    cm.dispose();
    cx.dispose();
  });

  it('refuses bad input with BanditError and leaves M unchanged', async () => {
    await expectRefusals((b, m, x, arms) => symRank1Update(b, m, x, arms, 2));
    const { gpu } = backends();
    const m = gpu.tensor(new Float32Array(4).fill(1), [1, 2, 2]), x = gpu.tensor([1, 2], [1, 2]);
    expect(() => symRank1Update(gpu, m, x, new Int32Array([0]), NaN)).to.throw(BanditError, /alpha must be finite/);
    expect(Array.from(await gpu.read(m))).to.deep.equal([1, 1, 1, 1]);
    m.dispose();
    x.dispose();
  });
});

/** Untouched arms of the large case hold a cheap pattern (no 33M-element random fill). */
const largePattern = (e: number, seed: number): number => ((Math.imul(e, 2654435761) ^ seed) >>> 8) / 2 ** 24 - 0.5;

function largeCase(k: number, d: number, arms: Int32Array, seed: number) {
  const dd = d * d;
  const mats = new Float32Array(k * dd);
  for (let e = 0; e < mats.length; e++) mats[e] = largePattern(e, seed);
  const touched = [...new Set(arms)];
  const starts = new Map<number, SmStart>();
  for (const arm of touched) {
    const st = smStart(d, seed + arm);
    starts.set(arm, st);
    mats.set(st.m0, arm * dd);
  }
  const x = uniform(arms.length * d, seed).map((v) => v / Math.sqrt(d));
  return { mats, x, starts, touched };
}

/** The touched arms of a large case as a small case of their own (arm t = touched[t]). */
function touchedCase(touched: number[], arms: Int32Array, d: number, mats: Float32Array, x: Float32Array, starts: Map<number, SmStart>): Case {
  const dd = d * d;
  const local = new Float32Array(touched.length * dd);
  const localStarts = new Map<number, SmStart>();
  touched.forEach((arm, t) => {
    local.set(mats.subarray(arm * dd, (arm + 1) * dd), t * dd);
    localStarts.set(t, starts.get(arm)!);
  });
  const localArms = Int32Array.from(arms, (a) => touched.indexOf(a));
  return { k: touched.length, d, arms: localArms, mats: local, x, starts: localStarts };
}

function expectUntouchedLarge(actual: Float32Array, k: number, d: number, touched: number[], seed: number): void {
  const dd = d * d;
  const skip = new Set(touched);
  for (let arm = 0; arm < k; arm++) {
    if (skip.has(arm)) continue;
    for (let e = arm * dd; e < (arm + 1) * dd; e++) {
      if (actual[e] !== largePattern(e, seed)) throw new Error(`untouched arm ${arm} changed at element ${e - arm * dd}`);
    }
  }
}

type Rank1Fn = (b: Backend, m: Tensor, x: Tensor, arms: Int32Array) => void;

async function expectRefusals(op: Rank1Fn): Promise<void> {
  const { gpu, cpu } = backends();
  const k = 3, d = 4;
  const data = uniform(k * d * d, 77);
  const m = gpu.tensor(data, [k, d, d]);
  const x = gpu.tensor(uniform(2 * d, 78), [2, d]);
  const xWide = gpu.tensor(uniform(2 * (d + 1), 79), [2, d + 1]);
  const xFlat = gpu.tensor(uniform(d, 80), [d]);
  const xCpu = cpu.tensor(uniform(2 * d, 78), [2, d]);
  const rect = gpu.tensor(uniform(k * d * (d + 1), 81), [k, d, d + 1]);
  const arms = new Int32Array([0, 2]);
  expect(() => op(gpu, m, x, new Int32Array([0, 3]))).to.throw(BanditError, /arms\[1\] = 3 is out of range 0..2/);
  expect(() => op(gpu, m, x, new Int32Array([-1, 0]))).to.throw(BanditError, /arms\[0\] = -1 is out of range/);
  expect(() => op(gpu, m, xWide, arms)).to.throw(BanditError, /x must be U×4/);
  expect(() => op(gpu, m, xFlat, new Int32Array([0]))).to.throw(BanditError, /x must be U×4/);
  expect(() => op(gpu, m, x, new Int32Array([0]))).to.throw(BanditError, /2 vectors but 1 arm indices/);
  expect(() => op(gpu, m, x, new Uint32Array([0, 1]) as unknown as Int32Array)).to.throw(BanditError, /Int32Array/);
  expect(() => op(gpu, m, x, [0, 1] as unknown as Int32Array)).to.throw(BanditError, /Int32Array/);
  expect(() => op(gpu, m, xCpu, arms)).to.throw(BanditError, /another backend/);
  expect(() => op(gpu, rect, x, arms)).to.throw(BanditError, /square/);
  const square = gpu.tensor(uniform(d * d, 82), [d, d]);
  expect(() => op(gpu, square, square, new Int32Array(d))).to.throw(BanditError, /different tensors/);
  square.dispose();
  expect(Array.from(await gpu.read(m))).to.deep.equal(Array.from(data));
  for (const t of [m, x, xWide, xFlat, xCpu, rect]) t.dispose();
}
