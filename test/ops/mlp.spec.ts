import { expect } from 'chai';
import { BanditError, type Backend, type Tensor } from '../../src/index.js';
import { diagonalBonus, kPassGradients, mlpForward, mlpLayout, perArmGradients, type MlpLayer } from '../../src/ops/index.js';
import { F32_EPS, expectClose, type Tolerance } from '../support/compare.js';
import { backends, maxTestBindingBytes, describeBackends } from '../support/fixture.js';
import { absArray, mlpTheta, rng, uniform } from '../support/random.js';

// Every GPU comparison here is against a per-element bound derived for the op (see each bound);
// the twin is checked against central finite differences and against direct float64 evaluation.

/** Comparisons that use only the per-element bound passed along. */
const TOL_BOUND_ONLY: Tolerance = { abs: 0, rel: 0 };
/** Values an op must not touch (out after a refused call) come back bit for bit. */
const SENTINEL = -7.25;
/** float64 unit roundoff, 2⁻⁵³. */
const F64_EPS = 2 ** -53;
/**
 * Central-difference step in θ, float64. f is linear in each single parameter while no ReLU
 * switches (every path through the network holds a parameter at most once), so the difference
 * quotient has no truncation error: only the rounding of the two evaluations, ≤ γ64·F̂/h (below),
 * about 1e-9 here; h far above that noise, far below the distance of any unit to its kink.
 */
const FD_STEP = 1e-6;
/** |twin − another float64 evaluation of the same quantity| relative to its absolute-value envelope. */
const F64_AGREEMENT = 1e-12;

const gamma = (n: number, u = F32_EPS) => (n * u) / (1 - n * u);

/**
 * Rounding depth of the forward pass: each layer is a dot product of length n_{l−1} (in any
 * order, vec4 partial sums included), the bias and the ReLU (exact): n_{l−1} + 3 a layer, and
 * errors carried from the layer before add up through |W| (first order).
 */
const forwardDepth = (layers: readonly MlpLayer[]) => layers.reduce((s, l) => s + l.in + 3, 0);
/**
 * Rounding depth of a Jacobian entry δ_{l,i}·h_{l−1,j}: h carries the forward depth, δ the
 * backward products (n_{l+1} + 3 a layer), one more rounding for the product. With Ĵ the Jacobian
 * of the absolute-value network (|θ|, |x|: every unit on, so its δ̂ and ĥ dominate |δ| and |h|),
 * |ΔJ| ≤ γ_depth·Ĵ to first order.
 */
const gradDepth = (layers: readonly MlpLayer[]) => forwardDepth(layers) + layers.reduce((s, l) => s + l.out + 3, 0) + 2;
/**
 * Extra rounding depth of the matrix-free bonus over the J it stands for: 1/Z (division, 2.5
 * ulp), h² and the dot of n_{l−1} + 1 non-negative terms, δ² and its product, the sum over the
 * unit block (4) and over the row's slots (Σ ceil(n_l/4)), and J's own product squared (2).
 * All terms are ≥ 0, so relative errors of terms bound the sum's.
 */
const bonusExtraDepth = (layers: readonly MlpLayer[]) =>
  Math.max(...layers.map((l) => l.in)) + layers.reduce((s, l) => s + Math.ceil(l.out / 4), 0) + 16;

interface Net {
  readonly dim: number;
  readonly hidden: number[];
  readonly rows: number;
}
const label = (c: Net) => `d=${c.dim} hidden=[${c.hidden.join(',')}] N=${c.rows}`;

/** Z's diagonal: positive, spread over three decades so that 1/Z weights matter. */
function makeZ(p: number, seed: number): Float32Array {
  const r = rng(seed);
  const z = new Float32Array(p);
  for (let q = 0; q < p; q++) z[q] = Math.pow(10, 3 * r() - 1);
  return z;
}

/** Direct float64 forward pass: every pre-activation z_l (hidden layers) and the output. */
function directForward(theta: ArrayLike<number>, x: ArrayLike<number>, dim: number, hidden: number[], rows: number): { out: Float64Array; z: Float64Array[] } {
  const { layers } = mlpLayout(dim, hidden);
  const out = new Float64Array(rows);
  const z = layers.slice(0, -1).map((l) => new Float64Array(rows * l.out));
  for (let n = 0; n < rows; n++) {
    let h = Float64Array.from({ length: dim }, (_, j) => x[n * dim + j]!);
    layers.forEach((l, li) => {
      const next = new Float64Array(l.out);
      for (let i = 0; i < l.out; i++) {
        let s = theta[l.biasOffset + i]!;
        for (let j = 0; j < l.in; j++) s += theta[l.weightOffset + i * l.in + j]! * h[j]!;
        next[i] = s;
      }
      if (li === layers.length - 1) out[n] = next[0]!;
      else {
        z[li]!.set(next, n * l.out);
        h = next.map((v) => (v > 0 ? v : 0));
      }
    });
  }
  return { out, z };
}

async function readF32(backend: Backend, t: Tensor): Promise<Float32Array> {
  return Float32Array.from(await backend.read(t));
}

function disposeAll(...ts: Tensor[]): void {
  for (const t of ts) t.dispose();
}

/** The twin's output and Jacobian (and, given z, its bonus) for θ and x on the cpu backend. */
async function twin(c: Net, theta: ArrayLike<number>, x: ArrayLike<number>, z?: ArrayLike<number>): Promise<{ f: Float64Array; j: Float64Array; bonus?: Float64Array }> {
  const { cpu } = backends();
  const { paramCount } = mlpLayout(c.dim, c.hidden);
  const tt = cpu.tensor(theta, [paramCount]), tx = cpu.tensor(x, [c.rows, c.dim]);
  const opts = { dim: c.dim, hidden: c.hidden };
  const fwd = mlpForward(cpu, tt, tx, opts);
  const jac = perArmGradients(cpu, tt, tx, opts);
  const made = [tt, tx, fwd.output, jac];
  let bonus: Float64Array | undefined;
  if (z) {
    const tz = cpu.tensor(z, [paramCount]);
    const b = diagonalBonus(cpu, tt, tx, tz, opts);
    bonus = (await cpu.read(b)) as Float64Array;
    made.push(tz, b);
  }
  const out = { f: (await cpu.read(fwd.output)) as Float64Array, j: (await cpu.read(jac)) as Float64Array, ...(bonus ? { bonus } : {}) };
  disposeAll(...made);
  return out;
}

/**
 * Rows with a hidden unit within twice the f32 forward error of its kink: there the GPU and the
 * twin may take different sides of ReLU and legitimately disagree by O(1), so those rows are left
 * out of GPU-vs-twin comparisons (random data puts about one unit in 10⁵ there). Units exactly at
 * 0 in float64 are not ambiguous: the tests that make them make them exact in f32 too.
 */
function ambiguousRows(c: Net, theta: Float32Array, x: Float32Array): Set<number> {
  const { layers } = mlpLayout(c.dim, c.hidden);
  const direct = directForward(theta, x, c.dim, c.hidden, c.rows);
  const env = directForward(absArray(theta), absArray(x), c.dim, c.hidden, c.rows);
  const rows = new Set<number>();
  let depth = 0;
  layers.slice(0, -1).forEach((l, li) => {
    depth += l.in + 3;
    const g = gamma(depth);
    const zs = direct.z[li]!, zh = env.z[li]!;
    for (let e = 0; e < zs.length; e++) {
      if (zs[e] !== 0 && Math.abs(zs[e]!) <= 2 * g * zh[e]!) rows.add(Math.floor(e / l.out));
    }
  });
  expect(rows.size, `${label(c)}: rows with a unit at its kink`).to.be.at.most(Math.ceil(c.rows / 100));
  return rows;
}

/** `bound` with the rows in `skip` (each `width` elements) made infinite. */
function skipRows(bound: Float64Array, skip: Set<number>, width: number): Float64Array {
  for (const n of skip) bound.fill(Infinity, n * width, (n + 1) * width);
  return bound;
}

/** Runs the one-pass and K-pass Jacobians on the GPU and the twin, and checks them against each other. */
async function checkJacobian(c: Net, seed: number, kPass = true): Promise<void> {
  const { gpu } = backends();
  const { layers, paramCount: p } = mlpLayout(c.dim, c.hidden);
  const theta = mlpTheta(c.dim, c.hidden, seed), x = uniform(c.rows * c.dim, seed + 1);
  const skip = ambiguousRows(c, theta, x);
  const opts = { dim: c.dim, hidden: c.hidden };
  const tt = gpu.tensor(theta, [p]), tx = gpu.tensor(x, [c.rows, c.dim]);
  const fwd = mlpForward(gpu, tt, tx, opts);
  const jac = perArmGradients(gpu, tt, tx, opts);
  const slow = kPass ? kPassGradients(gpu, tt, tx, opts) : null;
  expect(jac.shape).to.deep.equal([c.rows, p]);
  const f = await readF32(gpu, fwd.output), j = await readF32(gpu, jac), k = slow ? await readF32(gpu, slow) : null;
  disposeAll(tt, tx, fwd.output, jac, ...(slow ? [slow] : []));

  const ref = await twin(c, theta, x);
  const env = await twin(c, absArray(theta), absArray(x));
  const direct = directForward(theta, x, c.dim, c.hidden, c.rows);
  const what = label(c);
  expectClose(ref.f, direct.out, TOL_BOUND_ONLY, `${what}: twin forward vs direct float64`, env.f.map((v) => F64_AGREEMENT * v + 1e-300));
  const fBound = env.f.map((v) => gamma(forwardDepth(layers)) * v + 1e-37);
  expectClose(f, ref.f, TOL_BOUND_ONLY, `${what}: forward`, fBound);
  const jBound = skipRows(env.j.map((v) => gamma(gradDepth(layers)) * v + 1e-37), skip, p);
  expectClose(j, ref.j, TOL_BOUND_ONLY, `${what}: one-pass Jacobian vs twin`, jBound);
  if (k) {
    expectClose(k, ref.j, TOL_BOUND_ONLY, `${what}: K-pass Jacobian vs twin`, jBound);
    // Same kernels, same arithmetic a row: the two must agree to the bit.
    expectClose(k, j, { abs: 0, rel: 0 }, `${what}: K-pass vs one-pass Jacobian`);
  }
}

describeBackends('neural ops: layout and forward', function () {
  this.timeout(120_000);

  it('lays θ out per layer as W_l (row-major) then c_l', () => {
    const { layers, paramCount } = mlpLayout(2, [3]);
    expect(paramCount).to.equal(13);
    expect(layers).to.deep.equal([
      { in: 2, out: 3, weightOffset: 0, biasOffset: 6 },
      { in: 3, out: 1, weightOffset: 9, biasOffset: 12 },
    ]);
    expect(mlpLayout(32, [100]).paramCount).to.equal(32 * 100 + 100 + 100 + 1);
    expect(mlpLayout(4, []).paramCount).to.equal(5);
    const two = mlpLayout(5, [6, 4]);
    expect(two.layers.map((l) => [l.weightOffset, l.biasOffset])).to.deep.equal([[0, 30], [36, 60], [64, 68]]);
    expect(two.paramCount).to.equal(69);
  });

  it('returns f(x) for B×K×d input as B×K, and the activations h_l when asked', async () => {
    const { gpu } = backends();
    const dim = 3, hidden = [5, 4], B = 2, K = 3;
    const { paramCount: p } = mlpLayout(dim, hidden);
    const theta = mlpTheta(dim, hidden, 5), x = uniform(B * K * dim, 6);
    const tt = gpu.tensor(theta, [p]), tx = gpu.tensor(x, [B, K, dim]);
    const { output, activations } = mlpForward(gpu, tt, tx, { dim, hidden, saveActivations: true });
    expect(output.shape).to.deep.equal([B, K]);
    expect(activations.map((t) => t.shape)).to.deep.equal([[6, 5], [6, 4]]);
    const plain = mlpForward(gpu, tt, tx, { dim, hidden });
    expect(plain.activations).to.deep.equal([]);
    expect(Array.from(await readF32(gpu, plain.output))).to.deep.equal(Array.from(await readF32(gpu, output)));
    const direct = directForward(theta, x, dim, hidden, B * K);
    const h2 = await readF32(gpu, activations[1]!);
    const env = directForward(absArray(theta), absArray(x), dim, hidden, B * K);
    expectClose(h2, direct.z[1]!.map((v) => (v > 0 ? v : 0)), TOL_BOUND_ONLY, 'h_2', env.z[1]!.map((v) => gamma(forwardDepth(mlpLayout(dim, hidden).layers)) * v + 1e-37));
    disposeAll(tt, tx, output, plain.output, ...activations);
  });
});

describeBackends('neural ops: per-row gradients', function () {
  this.timeout(120_000);

  const fdCases: Net[] = [
    { dim: 1, hidden: [1], rows: 2 },
    { dim: 3, hidden: [5], rows: 4 },
    { dim: 2, hidden: [], rows: 3 },
    { dim: 4, hidden: [7, 13], rows: 3 },
    { dim: 5, hidden: [6, 4, 3], rows: 3 },
    { dim: 32, hidden: [100], rows: 2 },
  ];
  it(`the float64 twin equals central finite differences (h = ${FD_STEP}) of the twin's forward pass`, async () => {
    const { cpu } = backends();
    let seed = 40;
    for (const c of fdCases) {
      const { layers, paramCount: p } = mlpLayout(c.dim, c.hidden);
      const theta = Float64Array.from(mlpTheta(c.dim, c.hidden, (seed += 3)));
      const x = uniform(c.rows * c.dim, seed + 1);
      const opts = { dim: c.dim, hidden: c.hidden };
      const ref = await twin(c, theta, x);
      const env = await twin(c, absArray(theta), absArray(x));
      const tt = cpu.tensor(theta, [p]), tx = cpu.tensor(x, [c.rows, c.dim]);
      const pattern = async () => {
        const { output, activations } = mlpForward(cpu, tt, tx, { ...opts, saveActivations: true });
        const f = (await cpu.read(output)) as Float64Array;
        const on = (await Promise.all(activations.map((t) => cpu.read(t)))).map((h) => Array.from(h, (v) => (v > 0 ? 1 : 0)).join(''));
        disposeAll(output, ...activations);
        return { f, on: on.join('|') };
      };
      const base = await pattern();
      const fd = new Float64Array(c.rows * p);
      for (let q = 0; q < p; q++) {
        const plus = theta.slice(), minus = theta.slice();
        plus[q] = theta[q]! + FD_STEP;
        minus[q] = theta[q]! - FD_STEP;
        cpu.write(tt, plus);
        const fp = await pattern();
        cpu.write(tt, minus);
        const fm = await pattern();
        // Premise: no ReLU switches within ±h, so f is linear in θ[q] over the step.
        expect(fp.on, `${label(c)}: a unit switches within ±h of θ[${q}]`).to.equal(base.on);
        expect(fm.on, `${label(c)}: a unit switches within ±h of θ[${q}]`).to.equal(base.on);
        const step = plus[q]! - minus[q]!;
        for (let n = 0; n < c.rows; n++) fd[n * p + q] = (fp.f[n]! - fm.f[n]!) / step;
      }
      disposeAll(tt, tx);
      // Each evaluation errs by ≤ γ64(forward depth)·F̂ (F̂ the absolute-value network's output),
      // divided by the step; plus the twin's own rounding of J.
      const g64 = (n: number) => gamma(n, F64_EPS);
      const bound = fd.map((_, e) => (2 * g64(forwardDepth(layers)) * env.f[Math.floor(e / p)]!) / (2 * FD_STEP) + g64(gradDepth(layers)) * env.j[e]! + 1e-300);
      expectClose(ref.j, fd, TOL_BOUND_ONLY, `${label(c)}: twin Jacobian vs finite differences`, bound);
    }
  });

  const cases: Net[] = [
    { dim: 1, hidden: [1], rows: 1 },
    { dim: 1, hidden: [1], rows: 5 },
    { dim: 3, hidden: [5], rows: 7 },
    { dim: 7, hidden: [13], rows: 9 },
    { dim: 13, hidden: [7], rows: 4 },
    { dim: 2, hidden: [], rows: 3 },
    { dim: 4, hidden: [7, 13], rows: 9 },
    { dim: 8, hidden: [64, 64], rows: 13 },
    { dim: 12, hidden: [16, 8], rows: 1 },
    { dim: 5, hidden: [6, 4, 3], rows: 6 },
    // Layer 3 has vec4 widths but starts at θ[22]: the scalar kernels, next to vec4 activations.
    { dim: 1, hidden: [3, 4, 4], rows: 10 },
    { dim: 32, hidden: [100], rows: 101 },
  ];
  it('one pass equals the twin and the K-pass baseline: d = 1, width 1, odd widths, 0-3 hidden layers, N = 1 and N past a tile', async () => {
    let seed = 100;
    for (const c of cases) await checkJacobian(c, (seed += 7));
  });

  it('reuses the activations of mlpForward and writes into a given out, on both backends', async () => {
    const dim = 6, hidden = [9, 5], rows = 11;
    const { paramCount: p } = mlpLayout(dim, hidden);
    const theta = mlpTheta(dim, hidden, 61), x = uniform(rows * dim, 62);
    for (const backend of Object.values(backends()) as Backend[]) {
      const tt = backend.tensor(theta, [p]), tx = backend.tensor(x, [rows, dim]);
      const { output, activations } = mlpForward(backend, tt, tx, { dim, hidden, saveActivations: true });
      const out = backend.zeros([rows, p]);
      const got = perArmGradients(backend, tt, tx, { dim, hidden, activations, out });
      expect(got).to.equal(out);
      const fresh = perArmGradients(backend, tt, tx, { dim, hidden });
      expectClose(await backend.read(out), await backend.read(fresh), { abs: 0, rel: 0 }, `${backend.kind}: J from saved activations vs recomputed`);
      disposeAll(tt, tx, output, ...activations, out, fresh);
    }
  });

  it('uses σ\'(0) = 0: a unit with z exactly 0 passes no gradient (values exact)', async () => {
    const { gpu, cpu } = backends();
    const dim = 2, hidden = [3];
    // W_1 rows [1, −1], [0.5, 0.25], [−1, −1]; c_1 = [0, −0.375, 0]; W_2 = [2, −3, 4]; c_2 = 0.5.
    const theta = [1, -1, 0.5, 0.25, -1, -1, 0, -0.375, 0, 2, -3, 4, 0.5];
    // Row 0: z = [0, 0, −1] exactly (two units at the kink); row 1: z = [0.5, 0.25, −1.5]; row 2: x = 0, z = c_1.
    const x = [0.5, 0.5, 1, 0.5, 0, 0];
    const expected = [
      // W_1 (3×2), c_1, W_2 = h_1, c_2
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
      2, 1, -3, -1.5, 0, 0, 2, -3, 0, 0.5, 0.25, 0, 1,
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    ];
    for (const backend of [gpu, cpu]) {
      const tt = backend.tensor(theta, [13]), tx = backend.tensor(x, [3, 2]);
      const opts = { dim, hidden };
      const f = mlpForward(backend, tt, tx, opts).output;
      const j = perArmGradients(backend, tt, tx, opts), k = kPassGradients(backend, tt, tx, opts);
      expect(Array.from(await backend.read(f)), `${backend.kind} f`).to.deep.equal([0.5, 0.75, 0.5]);
      expect(Array.from(await backend.read(j)), `${backend.kind} one-pass J`).to.deep.equal(expected);
      expect(Array.from(await backend.read(k)), `${backend.kind} K-pass J`).to.deep.equal(expected);
      disposeAll(tt, tx, f, j, k);
    }
  });

  it('handles the largest Jacobian the binding cap allows (d = 32, hidden [100]), rows sampled against the twin', async () => {
    const { gpu } = backends();
    const dim = 32, hidden = [100];
    const { layers, paramCount: p } = mlpLayout(dim, hidden);
    const rows = Math.floor(maxTestBindingBytes() / (4 * p));
    const theta = mlpTheta(dim, hidden, 77), x = uniform(rows * dim, 78);
    const tt = gpu.tensor(theta, [p]), tx = gpu.tensor(x, [rows, dim]);
    const jac = perArmGradients(gpu, tt, tx, { dim, hidden });
    const j = await readF32(gpu, jac);
    disposeAll(tt, tx, jac);
    // Rows are independent: check a spread of them, the first and the last included.
    const picked = [0, 1, 2, 3, 4, 1999, 4444, rows - 5, rows - 4, rows - 3, rows - 2, rows - 1];
    const c: Net = { dim, hidden, rows: picked.length };
    const xs = new Float32Array(picked.length * dim);
    picked.forEach((n, i) => xs.set(x.subarray(n * dim, (n + 1) * dim), i * dim));
    const skip = ambiguousRows(c, theta, xs);
    const ref = await twin(c, theta, xs);
    const env = await twin(c, absArray(theta), absArray(xs));
    const got = new Float32Array(picked.length * p);
    picked.forEach((n, i) => got.set(j.subarray(n * p, (n + 1) * p), i * p));
    expectClose(got, ref.j, TOL_BOUND_ONLY, `N=${rows} (${(rows * p * 4) / 2 ** 20} MiB)`, skipRows(env.j.map((v) => gamma(gradDepth(layers)) * v + 1e-37), skip, p));
  });
});

describeBackends('neural ops: diagonal bonus', function () {
  this.timeout(120_000);

  /** GPU bonus vs Σ J²/Z of the GPU's own Jacobian, vs the twin; twin bonus vs its Jacobian. */
  async function checkBonus(c: Net, seed: number, reuse = false): Promise<void> {
    const { gpu } = backends();
    const { layers, paramCount: p } = mlpLayout(c.dim, c.hidden);
    const theta = mlpTheta(c.dim, c.hidden, seed), x = uniform(c.rows * c.dim, seed + 1), z = makeZ(p, seed + 2);
    const skip = ambiguousRows(c, theta, x);
    const opts = { dim: c.dim, hidden: c.hidden };
    const tt = gpu.tensor(theta, [p]), tx = gpu.tensor(x, [c.rows, c.dim]), tz = gpu.tensor(z, [p]);
    const fwd = reuse ? mlpForward(gpu, tt, tx, { ...opts, saveActivations: true }) : null;
    const bon = diagonalBonus(gpu, tt, tx, tz, { ...opts, ...(fwd ? { activations: fwd.activations } : {}) });
    const jac = perArmGradients(gpu, tt, tx, opts);
    expect(bon.shape).to.deep.equal([c.rows]);
    const b = await readF32(gpu, bon), j = await readF32(gpu, jac);
    disposeAll(tt, tx, tz, bon, jac, ...(fwd ? [fwd.output, ...fwd.activations] : []));

    const sumSq = (jj: ArrayLike<number>) => Float64Array.from({ length: c.rows }, (_, n) => {
      let s = 0;
      for (let q = 0; q < p; q++) s += (jj[n * p + q]! * jj[n * p + q]!) / z[q]!;
      return s;
    });
    const ref = await twin(c, theta, x, z);
    const env = await twin(c, absArray(theta), absArray(x), z);
    const what = label(c);
    expectClose(ref.bonus!, sumSq(ref.j), TOL_BOUND_ONLY, `${what}: twin bonus vs Σ J²/Z of the twin`, env.bonus!.map((v) => F64_AGREEMENT * v + 1e-300));
    const own = sumSq(j);
    expectClose(b, own, TOL_BOUND_ONLY, `${what}: matrix-free bonus vs Σ J²/Z of the materialised GPU Jacobian`, own.map((v) => gamma(bonusExtraDepth(layers)) * v + 1e-37));
    // J entries err by ≤ η·Ĵ (η = γ of gradDepth), so squares by ≤ (2η + η²)·Ĵ²; then the extra depth.
    const eta = gamma(gradDepth(layers) + bonusExtraDepth(layers));
    expectClose(b, ref.bonus!, TOL_BOUND_ONLY, `${what}: bonus vs twin`, skipRows(env.bonus!.map((v) => 3 * eta * v + 1e-37), skip, 1));
  }

  const cases: Net[] = [
    { dim: 1, hidden: [1], rows: 1 },
    { dim: 3, hidden: [5], rows: 7 },
    { dim: 7, hidden: [13], rows: 9 },
    { dim: 2, hidden: [], rows: 5 },
    { dim: 4, hidden: [7, 13], rows: 6 },
    { dim: 8, hidden: [64, 64], rows: 13 },
    { dim: 5, hidden: [6, 4, 3], rows: 3 },
    { dim: 1, hidden: [3, 4, 4], rows: 10 },
    { dim: 32, hidden: [100], rows: 1000 },
  ];
  it('equals Σ_q J_nq²/Z_q of the materialised Jacobian and the twin: all shapes, N = 1 and N past a tile, K = 1000', async () => {
    let seed = 500;
    for (const c of cases) await checkBonus(c, (seed += 5));
  });

  it('reuses the activations of mlpForward', async () => {
    await checkBonus({ dim: 9, hidden: [12, 7], rows: 10 }, 600, true);
    await checkBonus({ dim: 32, hidden: [100], rows: 33 }, 610, true);
  });
});

describeBackends('neural ops: bad input', function () {
  this.timeout(60_000);

  it('refuses bad input with BanditError and leaves out, params and x unchanged', async () => {
    const { gpu, cpu } = backends();
    const made: Tensor[] = [];
    const t = (shape: number[], dtype: 'f32' | 'i32' = 'f32') => {
      const v = gpu.zeros(shape, { dtype });
      made.push(v);
      return v;
    };
    // N = p = 36 and n_1 = d = 5, so that aliasing (out = z, activations = x) passes the shape checks.
    const dim = 5, hidden = [5], N = 36;
    const { paramCount: p } = mlpLayout(dim, hidden);
    expect(p).to.equal(N);
    const thetaData = mlpTheta(dim, hidden, 9), xData = uniform(N * dim, 10);
    const theta = gpu.tensor(thetaData, [p]), x = gpu.tensor(xData, [N, dim]), z = gpu.tensor(makeZ(p, 11), [p]);
    const jOut = gpu.tensor(new Float32Array(N * p).fill(SENTINEL), [N, p]);
    const bOut = gpu.tensor(new Float32Array(N).fill(SENTINEL), [N]);
    made.push(theta, x, z, jOut, bOut);
    const acts = [t([N, 5])];
    const opts = { dim, hidden };
    const dead = t([N, dim]);
    dead.dispose();
    const bad: [string, () => unknown, RegExp][] = [
      ['params of the wrong count', () => perArmGradients(gpu, t([p + 1]), x, { ...opts, out: jOut }), /params holds 37 values, but dim 5 and hidden \[5\] need 36/],
      ['params for another hidden width', () => diagonalBonus(gpu, theta, x, z, { dim, hidden: [6], out: bOut }), /need 43/],
      ['x of the wrong width', () => perArmGradients(gpu, theta, t([N, dim + 1]), { ...opts, out: jOut }), /x must be N×5/],
      ['x of rank 1', () => mlpForward(gpu, theta, t([dim]), opts), /x must be N×5/],
      ['NaN dim', () => perArmGradients(gpu, theta, x, { dim: NaN, hidden, out: jOut }), /dim must be an integer ≥ 1, got NaN/],
      ['infinite dim', () => kPassGradients(gpu, theta, x, { dim: Infinity, hidden, out: jOut }), /dim must be an integer/],
      ['zero dim', () => mlpForward(gpu, theta, x, { dim: 0, hidden }), /dim must be/],
      ['infinite width', () => diagonalBonus(gpu, theta, x, z, { dim, hidden: [Infinity], out: bOut }), /hidden\[0\] must be an integer ≥ 1, got Infinity/],
      ['NaN width', () => perArmGradients(gpu, theta, x, { dim, hidden: [NaN], out: jOut }), /hidden\[0\]/],
      ['fractional width', () => perArmGradients(gpu, theta, x, { dim, hidden: [2.5], out: jOut }), /hidden\[0\]/],
      ['hidden not an array', () => mlpForward(gpu, theta, x, { dim, hidden: 5 as never }), /hidden must be an array/],
      ['params of i32', () => mlpForward(gpu, t([p], 'i32'), x, opts), /params must be f32/],
      ['x of another backend', () => perArmGradients(gpu, theta, cpu.zeros([N, dim]), { ...opts, out: jOut }), /another backend/],
      ['a disposed x', () => diagonalBonus(gpu, theta, dead, z, { ...opts, out: bOut }), /disposed/],
      ['z of the wrong size', () => diagonalBonus(gpu, theta, x, t([p - 1]), { ...opts, out: bOut }), /z \(the diagonal of Z\) must be \[36\]/],
      ['J out of the wrong shape', () => perArmGradients(gpu, theta, x, { ...opts, out: t([N, p - 1]) }), /out must be \[36, 36\]/],
      ['bonus out of the wrong shape', () => diagonalBonus(gpu, theta, x, z, { ...opts, out: t([N + 1]) }), /out must be \[36\]/],
      ['bonus out aliasing z', () => diagonalBonus(gpu, theta, x, z, { ...opts, out: z }), /z and out must be different/],
      ['bonus out aliasing params', () => diagonalBonus(gpu, theta, x, z, { ...opts, out: theta }), /params and out must be different/],
      ['activations aliasing x', () => perArmGradients(gpu, theta, x, { ...opts, activations: [x], out: jOut }), /x and activations\[0\] must be different/],
      ['too few activations', () => perArmGradients(gpu, theta, x, { ...opts, activations: [], out: jOut }), /activations must be 1 tensors/],
      ['activations of the wrong width', () => perArmGradients(gpu, theta, x, { ...opts, activations: [t([N, 4])], out: jOut }), /activations\[0\] must be 36×5/],
      ['activations of another backend', () => perArmGradients(gpu, theta, x, { ...opts, activations: [cpu.zeros([N, 5])], out: jOut }), /another backend/],
      ['K-pass with activations', () => kPassGradients(gpu, theta, x, { ...opts, activations: acts, out: jOut } as never), /takes no activations/],
      ['saveActivations not a boolean', () => mlpForward(gpu, theta, x, { ...opts, saveActivations: 1 as never }), /saveActivations must be a boolean/],
    ];
    for (const [what, call, message] of bad) expect(call, what).to.throw(BanditError, message);
    const twoHidden = { dim, hidden: [5, 5] }, p2 = mlpLayout(dim, [5, 5]).paramCount;
    expect(() => perArmGradients(gpu, t([p2]), x, { ...twoHidden, activations: [acts[0]!, acts[0]!] }), 'one tensor as two layers')
      .to.throw(BanditError, /activations\[0\] and activations\[1\] must be different/);
    expect(Array.from(await readF32(gpu, jOut))).to.deep.equal(Array.from(new Float32Array(N * p).fill(SENTINEL)));
    expect(Array.from(await readF32(gpu, bOut))).to.deep.equal(Array.from(new Float32Array(N).fill(SENTINEL)));
    expect(Array.from(await readF32(gpu, theta))).to.deep.equal(Array.from(thetaData));
    expect(Array.from(await readF32(gpu, x))).to.deep.equal(Array.from(xData));
    disposeAll(...made);
  });
});
