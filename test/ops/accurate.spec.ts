import { expect } from 'chai';
import { BanditError, type Backend, type Tensor } from '../../src/index.js';
import { accumulateOuter, accurateResidual, addAccurate, refineSolve } from '../../src/ops/index.js';
import { F32_EPS, expectClose, type Tolerance } from '../support/compare.js';
import { backends, describeBackends } from '../support/fixture.js';
import { rng, spd, uniform } from '../support/random.js';
import { inverseSpd } from '../support/reference.js';

/** Unit roundoff of float-float: hi + lo carries 48 bits (two 24-bit significands). */
const FF_EPS = 2 ** -48;
/** Everything is in the per-element bound. */
const TOL_BOUND_ONLY: Tolerance = { abs: 0, rel: 0 };
/**
 * Each float-float add or exact-product term is off by at most a few FF_EPS of the running
 * magnitude (Joldes et al. 2017 give 3u² for the add used here); 4 covers it and the twin's
 * own float64 rounding. An f32 accumulation would be off by ~F32_EPS·n: 2²⁴/(4n) times this.
 */
const FF_TERM_ERROR = 4 * FF_EPS;

const sum = (hi: ArrayLike<number>, lo: ArrayLike<number>) => Float64Array.from(hi, (v, i) => v + lo[i]!);

/** Float-float values of `v` (hi = fl32(v), lo = fl32(v − hi)). */
function split(v: ArrayLike<number>): { hi: Float32Array; lo: Float32Array } {
  const hi = Float32Array.from(v), lo = Float32Array.from(v, (x, i) => x - hi[i]!);
  return { hi, lo };
}

function pair(b: Backend, hi: ArrayLike<number>, lo: ArrayLike<number>, shape: number[]): { hi: Tensor; lo: Tensor } {
  return { hi: b.tensor(hi, shape), lo: b.tensor(lo, shape) };
}

describeBackends('ops: float-float accumulators (accumulateOuter, accurateResidual, refineSolve)', function () {
  let gpu: Backend, cpu: Backend;
  before(() => ({ gpu, cpu } = backends()));

  describe('accumulateOuter', () => {
    // K = 1, d = 1, odd sizes, and a long run of one arm (where f32 sums lose λ).
    const cases = [
      { k: 1, d: 1, rows: 7, width: 'matrix' },
      { k: 3, d: 5, rows: 301, width: 'matrix' },
      { k: 2, d: 16, rows: 2000, width: 'matrix' },
      { k: 4, d: 7, rows: 513, width: 'vector' },
      { k: 1, d: 1, rows: 3, width: 'vector' },
      // x zᵀ into K d×c matrices (HybridLinUCB's B), c = 1 included (not the vector form).
      { k: 3, d: 5, rows: 301, width: 'outer', c: 4 },
      { k: 2, d: 3, rows: 9, width: 'outer', c: 1 },
    ] as const;
    for (const c of cases) {
      it(`K = ${c.k}, d = ${c.d}, ${c.rows} rows (${c.width}${'c' in c ? `, c = ${c.c}` : ''}): hi + lo within ${FF_TERM_ERROR / FF_EPS}·n·2⁻⁴⁸ of float64`, async () => {
        const r = rng(c.k * 100 + c.d);
        const arms = Int32Array.from({ length: c.rows }, (_, u) => (u % 3 === 0 ? 0 : Math.floor(r() * c.k)));
        const x = uniform(c.rows * c.d, c.d + 7);
        const weights = Float32Array.from({ length: c.rows }, () => 0.25 + 2 * r());
        // w: the columns of M; right: the right factor of each row's term (x itself for x xᵀ — d = 1 too, x²
        // and not the vector form's x —, 1 for the vector form).
        const w = c.width === 'matrix' ? c.d : c.width === 'outer' ? c.c : 1;
        const z = c.width === 'outer' ? uniform(c.rows * w, c.d + 8) : null;
        const right = (u: number, j: number) => (z ? z[u * w + j]! : c.width === 'vector' ? 1 : x[u * c.d + j]!);
        const shape: number[] = c.width === 'vector' ? [c.k, c.d] : [c.k, c.d, w];
        const n = shape.reduce((a, b) => a * b, 1);
        const start = spd(c.k, Math.max(c.d, w), 3, 1);
        const init = c.width === 'matrix' ? start : start.subarray(0, n);
        const run = async (b: Backend) => {
          const m = pair(b, init, new Float32Array(n), shape);
          const xt = b.tensor(x, [c.rows, c.d]), zt = z ? b.tensor(z, [c.rows, w]) : null;
          accumulateOuter(b, m, xt, arms, weights, zt);
          const out = sum(await b.read(m.hi), await b.read(m.lo));
          m.hi.dispose(); m.lo.dispose(); xt.dispose(); zt?.dispose();
          return out;
        };
        const [got, want] = [await run(gpu), await run(cpu)];
        // Bound: the rows of each element times the term error of its running magnitude (Σ|terms| + |start|).
        const mag = Float64Array.from(init, Math.abs), cnt = new Float64Array(n);
        for (let u = 0; u < c.rows; u++) {
          for (let i = 0; i < c.d; i++) for (let j = 0; j < w; j++) {
            const e = arms[u]! * c.d * w + i * w + j;
            mag[e]! += Math.abs(weights[u]! * x[u * c.d + i]! * right(u, j));
            cnt[e]!++;
          }
        }
        const bound = Float64Array.from(mag, (m, e) => (cnt[e]! + 1) * FF_TERM_ERROR * m + 1e-40);
        expectClose(got, want, TOL_BOUND_ONLY, 'hi + lo', bound);
        // Cannot pass by luck: an f32 accumulation of the same rows misses by far more than the bound somewhere.
        if (c.rows >= 300) {
          const f32 = Float32Array.from(init);
          for (let u = 0; u < c.rows; u++) for (let i = 0; i < c.d; i++) for (let j = 0; j < w; j++) {
            const e = arms[u]! * c.d * w + i * w + j;
            f32[e] = Math.fround(f32[e]! + Math.fround(weights[u]! * Math.fround(x[u * c.d + i]! * right(u, j))));
          }
          const worst = Math.max(...Array.from(f32, (v, e) => Math.abs(v - want[e]!) / bound[e]!));
          expect(worst).to.be.greaterThan(10);
        }
      });
    }

    it('keeps a symmetric A exactly symmetric', async () => {
      const d = 6, rows = 200, m = pair(gpu, spd(1, d, 1), new Float32Array(d * d), [1, d, d]);
      const x = gpu.tensor(uniform(rows * d, 2), [rows, d]);
      accumulateOuter(gpu, m, x, new Int32Array(rows), new Float32Array(rows).fill(1.5));
      const hi = await gpu.read(m.hi), lo = await gpu.read(m.lo);
      for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
        expect(hi[i * d + j]).to.equal(hi[j * d + i]);
        expect(lo[i * d + j]).to.equal(lo[j * d + i]);
      }
      m.hi.dispose(); m.lo.dispose(); x.dispose();
    });

    it('refuses mismatched shapes, arms out of range and non-finite weights', () => {
      const m = pair(cpu, new Float32Array(8), new Float32Array(8), [2, 2, 2]);
      const x = cpu.tensor(new Float32Array(4), [2, 2]);
      expect(() => accumulateOuter(cpu, m, x, Int32Array.of(0, 2), Float32Array.of(1, 1))).to.throw(BanditError, /arms\[1\] = 2/);
      expect(() => accumulateOuter(cpu, m, x, Int32Array.of(0, 1), Float32Array.of(1, NaN))).to.throw(BanditError, /weights\[1\]/);
      expect(() => accumulateOuter(cpu, { hi: m.hi, lo: x }, x, Int32Array.of(0, 1), Float32Array.of(1, 1))).to.throw(BanditError, /hi is \[2, 2, 2\] but lo/);
      const z3 = cpu.tensor(new Float32Array(6), [2, 3]);
      expect(() => accumulateOuter(cpu, m, x, Int32Array.of(0, 1), Float32Array.of(1, 1), z3)).to.throw(BanditError, /z must be 2×2/);
    });
  });

  /** An ill-conditioned SPD A (cond ≈ 10⁵·d) as float-float, and X = fl32(A⁻¹). */
  function illConditioned(k: number, d: number, seed: number) {
    const a = new Float64Array(k * d * d), xs = uniform(k * d, seed);
    const base = spd(k, d, seed + 1, 1);
    for (let m = 0; m < k; m++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
      const e = m * d * d + i * d + j;
      a[e] = base[e]! + 1e5 * xs[m * d + i]! * xs[m * d + j]!;
    }
    const inv = new Float32Array(k * d * d);
    for (let m = 0; m < k; m++) inv.set(inverseSpd(a.subarray(m * d * d, (m + 1) * d * d), d), m * d * d);
    return { a, ...split(a), inv };
  }

  describe('accurateResidual', () => {
    for (const [k, d] of [[1, 1], [3, 5], [2, 16], [1, 33]] as const) {
      it(`K = ${k}, d = ${d}: R = I − A·X and its norms agree with float64`, async () => {
        const { hi, lo, inv } = illConditioned(k, d, d);
        const run = async (b: Backend) => {
          const a = pair(b, hi, lo, [k, d, d]), x = b.tensor(inv, [k, d, d]), r = b.zeros([k, d, d]);
          const norms = accurateResidual(b, a, x, r);
          const out = { r: Float64Array.from(await b.read(r)), norms: Float64Array.from(await b.read(norms)) };
          for (const t of [a.hi, a.lo, x, r, norms]) t.dispose();
          return out;
        };
        const [got, want] = [await run(gpu), await run(cpu)];
        // R_ij: d float-float terms of magnitude ≤ mag, then one f32 rounding of R_ij.
        const mags = new Float64Array(k * d * d);
        for (let m = 0; m < k; m++) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) {
          let s = 0;
          for (let l = 0; l < d; l++) s += Math.abs((hi[m * d * d + i * d + l]! + lo[m * d * d + i * d + l]!) * inv[m * d * d + l * d + j]!);
          mags[m * d * d + i * d + j] = s;
        }
        const rBound = Float64Array.from(mags, (s, e) => (d + 2) * FF_TERM_ERROR * s + F32_EPS * Math.abs(want.r[e]!) + 1e-40);
        expectClose(got.r, want.r, TOL_BOUND_ONLY, 'R', rBound);
        // The norms: sums of d f32 values (and the bound of R's errors in the drift).
        const nBound = Float64Array.from(want.norms, (v, e) => (d + 2) * F32_EPS * v + (e % 2 === 0 ? d * Math.max(...rBound.subarray(Math.floor(e / 2) * d * d, (Math.floor(e / 2) + 1) * d * d)) : 0) + 1e-40);
        expectClose(got.norms, want.norms, TOL_BOUND_ONLY, 'norms', nBound);
      });
    }

    it('with a float-float X (hi + lo) measures the drift below the f32 floor, as the twin does', async () => {
      const k = 2, d = 16, { a, hi, lo } = illConditioned(k, d, 77);
      // X = A⁻¹ in float64 (of the float-float A), split into hi + lo: its drift is ~2⁻⁴⁸·κ, hi's alone ~2⁻²⁴·κ.
      const exact = new Float64Array(k * d * d);
      for (let m = 0; m < k; m++) {
        const am = Float64Array.from(a.subarray(m * d * d, (m + 1) * d * d), (_, e) => hi[m * d * d + e]! + lo[m * d * d + e]!);
        exact.set(inverseSpd(am, d), m * d * d);
      }
      const x = split(exact);
      const run = async (b: Backend, withLo: boolean) => {
        const at = pair(b, hi, lo, [k, d, d]), xt = pair(b, x.hi, x.lo, [k, d, d]);
        const norms = accurateResidual(b, at, withLo ? xt : xt.hi);
        const out = Float64Array.from(await b.read(norms));
        for (const t of [at.hi, at.lo, xt.hi, xt.lo, norms]) t.dispose();
        return out;
      };
      const [ff, f32, twin] = [await run(gpu, true), await run(gpu, false), await run(cpu, true)];
      for (let m = 0; m < k; m++) {
        const floor = F32_EPS * twin[2 * m + 1]!;
        // The lo part's products join in f32: their error is u·|A|·|X_lo| ≈ u²·‖|A||X|‖.
        expect(ff[2 * m]!, `arm ${m}: float-float drift`).to.be.below(floor * 1e-3);
        expect(Math.abs(ff[2 * m]! - twin[2 * m]!), `arm ${m}: against the twin`).to.be.below((d + 2) * FF_TERM_ERROR * twin[2 * m + 1]! + 1e-12);
        // Cannot pass by luck: hi alone is at the f32 floor, far above.
        expect(f32[2 * m]!, `arm ${m}: hi alone`).to.be.above(floor * 1e-2);
      }
    });

    it('reports NaN for a broken inverse and writes nothing without r', async () => {
      const d = 4, a = pair(gpu, spd(2, d, 5), new Float32Array(2 * d * d), [2, d, d]);
      const inv = new Float32Array(2 * d * d);
      inv.set(inverseSpd(spd(1, d, 5), d));
      inv[d * d + 3] = NaN;
      const x = gpu.tensor(inv, [2, d, d]);
      const norms = await gpu.read(accurateResidual(gpu, a, x));
      expect(norms[0]).to.be.lessThan(1e-5);
      expect(Number.isNaN(norms[2]!)).to.equal(true);
    });
  });

  describe('addAccurate', () => {
    it('adds a correction to a float-float value without losing its low bits, renormalised, as the twin does', async () => {
      const n = 1000, v = Float64Array.from(uniform(n, 31), (x, i) => x * 10 ** ((i % 7) - 3)), c = Float32Array.from(uniform(n, 32), (x, i) => x * 10 ** ((i % 5) - 4));
      const start = split(v);
      const run = async (b: Backend) => {
        const m = pair(b, start.hi, start.lo, [n]), ct = b.tensor(c, [n]);
        addAccurate(b, m, ct);
        const out = { hi: Float64Array.from(await b.read(m.hi)), lo: Float64Array.from(await b.read(m.lo)) };
        for (const t of [m.hi, m.lo, ct]) t.dispose();
        return out;
      };
      const [got, want] = [await run(gpu), await run(cpu)];
      const exact = Float64Array.from(v, (x, i) => start.hi[i]! + start.lo[i]! + c[i]!);
      const bound = Float64Array.from(exact, (x, i) => 4 * FF_EPS * (Math.abs(start.hi[i]!) + Math.abs(c[i]!)) + 1e-40);
      expectClose(sum(got.hi, got.lo), exact, TOL_BOUND_ONLY, 'hi + lo (webgpu)', bound);
      expectClose(sum(want.hi, want.lo), exact, TOL_BOUND_ONLY, 'hi + lo (twin)', bound);
      for (let i = 0; i < n; i++) expect(Math.abs(got.lo[i]!), `lo[${i}] renormalised`).to.be.at.most(2 ** -24 * Math.abs(got.hi[i]!));
      // Cannot pass by luck: the f32 sum misses by far more than the bound somewhere.
      expect(Math.max(...Array.from(exact, (x, i) => Math.abs(Math.fround(start.hi[i]! + c[i]!) - x) / bound[i]!))).to.be.greaterThan(100);
      const m = pair(cpu, new Float32Array(2), new Float32Array(2), [2]);
      expect(() => addAccurate(cpu, m, cpu.tensor(new Float32Array(3), [3]))).to.throw(BanditError, /hi is \[2\] but c is \[3\]/);
    });
  });

  describe('refineSolve', () => {
    // cols > 1: C = A⁻¹B with several right-hand sides (HybridLinUCB's A⁻¹B), b and θ K×d×cols.
    for (const [k, d, iterations, cols] of [[1, 1, 2, 1], [3, 5, 3, 1], [2, 16, 3, 1], [1, 64, 6, 1], [3, 5, 3, 4], [2, 16, 3, 3]] as const) {
      it(`K = ${k}, d = ${d}, ${cols} column(s), ${iterations} steps from θ = 0: θ = A⁻¹b to f32 accuracy on an ill-conditioned A`, async () => {
        const { a, hi, lo, inv } = illConditioned(k, d, 40 + d);
        // b = A·θ* for θ* of order 1, as in LinUCB (b = Σ r·x lies along the played directions):
        // X·b alone then cancels badly (|X|·|b| ≫ |θ|). Element (m, i, c) at (m·d + i)·cols + c.
        const at3 = (m: number, i: number, c: number) => (m * d + i) * cols + c;
        const n = k * d * cols, want0 = uniform(n, 9 + cols), bv = new Float64Array(n);
        for (let m = 0; m < k; m++) for (let i = 0; i < d; i++) for (let c = 0; c < cols; c++) {
          let s = 0;
          for (let j = 0; j < d; j++) s += a[m * d * d + i * d + j]! * want0[at3(m, j, c)]!;
          bv[at3(m, i, c)] = s;
        }
        const b = split(bv), shape = cols === 1 ? [k, d] : [k, d, cols];
        const arms = Int32Array.from({ length: k }, (_, m) => k - 1 - m);
        const run = async (be: Backend) => {
          const at = pair(be, hi, lo, [k, d, d]), bt = pair(be, b.hi, b.lo, shape);
          const x = be.tensor(inv, [k, d, d]), theta = be.tensor(new Float32Array(n).fill(7), shape);
          refineSolve(be, at, bt, x, theta, arms, { iterations, restart: true });
          const out = Float64Array.from(await be.read(theta));
          for (const t of [at.hi, at.lo, bt.hi, bt.lo, x, theta]) t.dispose();
          return out;
        };
        const [got, want] = [await run(gpu), await run(cpu)];
        // The exact θ = A⁻¹b (float64 Cholesky of the float-float A).
        const exact = new Float64Array(n);
        for (let m = 0; m < k; m++) {
          const ai = inverseSpd(Float64Array.from(a.subarray(m * d * d, (m + 1) * d * d), (v, e) => hi[m * d * d + e]! + lo[m * d * d + e]!), d);
          for (let i = 0; i < d; i++) for (let c = 0; c < cols; c++) {
            let s = 0;
            for (let j = 0; j < d; j++) s += ai[i * d + j]! * (b.hi[at3(m, j, c)]! + b.lo[at3(m, j, c)]!);
            exact[at3(m, i, c)] = s;
          }
        }
        // Refined to the f32 rounding of θ, relative to the arm's largest |θ| (over all its columns).
        const per = d * cols;
        const scale = Float64Array.from(exact, (_, e) => Math.max(...Array.from(exact.subarray(Math.floor(e / per) * per, (Math.floor(e / per) + 1) * per), Math.abs)));
        const bound = Float64Array.from(scale, (s) => 16 * d * F32_EPS * s);
        expectClose(got, exact, TOL_BOUND_ONLY, 'θ (f32 backend) against the exact solve', bound);
        expectClose(want, exact, TOL_BOUND_ONLY, 'θ (twin) against the exact solve', bound);
        // Cannot pass by luck: θ = X·b in f32 alone (one step, no refinement) is far off.
        if (d >= 5) {
          const once = new Float64Array(n);
          for (let m = 0; m < k; m++) for (let i = 0; i < d; i++) for (let c = 0; c < cols; c++) {
            let s = 0;
            for (let j = 0; j < d; j++) s = Math.fround(s + Math.fround(inv[m * d * d + i * d + j]! * b.hi[at3(m, j, c)]!));
            once[at3(m, i, c)] = s;
          }
          expect(Math.max(...Array.from(once, (v, e) => Math.abs(v - exact[e]!) / bound[e]!))).to.be.greaterThan(4);
        }
      });
    }

    it('only touches the listed arms, and refuses a bad iteration count', async () => {
      const d = 3, k = 3, { hi, lo, inv } = illConditioned(k, d, 2);
      const at = pair(cpu, hi, lo, [k, d, d]), bt = pair(cpu, new Float32Array(k * d).fill(1), new Float32Array(k * d), [k, d]);
      const x = cpu.tensor(inv, [k, d, d]), theta = cpu.tensor(new Float32Array(k * d).fill(5), [k, d]);
      refineSolve(cpu, at, bt, x, theta, Int32Array.of(1, 1), { iterations: 1 });
      const th = await cpu.read(theta);
      expect(Array.from(th.subarray(0, d))).to.deep.equal([5, 5, 5]);
      expect(Array.from(th.subarray(2 * d))).to.deep.equal([5, 5, 5]);
      expect(() => refineSolve(cpu, at, bt, x, theta, Int32Array.of(0), { iterations: 1.5 })).to.throw(BanditError, /iterations/);
    });
  });
});
