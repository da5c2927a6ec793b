import { expect } from 'chai';
import { BanditError, type Backend, type Tensor } from '../../src/index.js';
import { gatherRows, mlpForward, mlpLayout, mlpLossGradient, optimizerStep, perArmGradients, scatterAddRows, type MlpLayer, type MlpLoss } from '../../src/ops/index.js';
import { GRAD_CHUNK_ROWS, gradientChunkRows } from '../../src/gpu/kernels/mlp-train.js';
import { F32_EPS, TOL_EXACT, expectClose, type Tolerance } from '../support/compare.js';
import { backends, maxTestBindingBytes, describeBackends } from '../support/fixture.js';
import { absArray, mlpTheta, rng, uniform } from '../support/random.js';

// GPU results are compared with the float64 twin under per-element bounds derived for each op
// (see each bound); the twin itself is checked against central finite differences.

/** Comparisons that use only the per-element bound passed along. */
const TOL_BOUND_ONLY: Tolerance = { abs: 0, rel: 0 };
/** Values an op must not touch come back bit for bit. */
const SENTINEL = -7.25;
/** float64 unit roundoff. */
const F64_EPS = 2 ** -53;
/**
 * WGSL's accuracy for exp: 3 + 2·|x| ulp. An ulp is at most 2u relative, and σ adds an addition
 * and a division (2.5 ulp), so σ(f) errs by ≤ (12 + 4|f|)·u relative.
 */
const sigmoidUlps = (f: number) => 12 + 4 * Math.abs(f);
/** WGSL's absolute error bound for log on [0.5, 2] (where log(1 + e^{−|f|}) is taken). */
const LOG_ABS_ERROR = 2 ** -21;
/**
 * Central-difference step in θ and x (float64). The squared loss is a quadratic in each single
 * parameter while no ReLU switches, so its difference quotient is exact up to the rounding of the
 * two evaluations; the logistic loss adds a truncation error ≤ h²/6·|ℓ'''|·J³ (|ℓ'''| ≤ 0.1).
 */
const FD_STEP = 1e-6;

const gamma = (n: number, u = F32_EPS) => (n * u) / (1 - n * u);
/** Rounding depth of f (neural-ops.spec.ts): a dot of n_{l−1}, the bias and the ReLU a layer. */
const forwardDepth = (layers: readonly MlpLayer[]) => layers.reduce((s, l) => s + l.in + 3, 0);
/** Rounding depth of δ'·h: the forward depth, the backward dots (n_{l+1} + 3 a layer), e·W and the product. */
const gradDepth = (layers: readonly MlpLayer[]) => forwardDepth(layers) + layers.reduce((s, l) => s + l.out + 3, 0) + 4;

interface Net {
  readonly dim: number;
  readonly hidden: number[];
  readonly rows: number;
  readonly loss: MlpLoss;
  readonly scale: number;
}
const label = (c: Net) => `d=${c.dim} hidden=[${c.hidden.join(',')}] N=${c.rows} ${c.loss} scale=${c.scale}`;

function disposeAll(...ts: Tensor[]): void {
  for (const t of ts) t.dispose();
}

async function readF64(backend: Backend, t: Tensor): Promise<Float64Array> {
  return Float64Array.from(await backend.read(t));
}

/** Targets: uniform in ±1 (squared) or clicks 0/1 (logistic). */
function makeTargets(c: Net, seed: number): Float32Array {
  const y = uniform(c.rows, seed);
  return c.loss === 'logistic' ? y.map((v) => (v > 0 ? 1 : 0)) : y;
}

/** Float64 pre-activations of every hidden unit of every row, and their absolute-value envelope. */
function preActivations(theta: ArrayLike<number>, x: ArrayLike<number>, dim: number, hidden: number[], rows: number): Float64Array[] {
  const { layers } = mlpLayout(dim, hidden);
  const z = layers.slice(0, -1).map((l) => new Float64Array(rows * l.out));
  for (let n = 0; n < rows; n++) {
    let h = Float64Array.from({ length: dim }, (_, j) => x[n * dim + j]!);
    layers.slice(0, -1).forEach((l, li) => {
      const next = new Float64Array(l.out);
      for (let i = 0; i < l.out; i++) {
        let s = theta[l.biasOffset + i]!;
        for (let j = 0; j < l.in; j++) s += theta[l.weightOffset + i * l.in + j]! * h[j]!;
        next[i] = s;
      }
      z[li]!.set(next, n * l.out);
      h = next.map((v) => (v > 0 ? v : 0));
    });
  }
  return z;
}

/**
 * x with every row that has a hidden unit within twice the f32 forward error of its kink redrawn:
 * there the GPU and the twin may take different sides of ReLU, which changes a summed gradient by
 * O(1) (random data puts about one unit in 10⁵ there).
 */
function clearOfKinks(theta: Float32Array, x: Float32Array, dim: number, hidden: number[], rows: number, seed: number): Float32Array {
  const { layers } = mlpLayout(dim, hidden);
  const r = rng(seed);
  for (let attempt = 0; attempt < 10; attempt++) {
    const z = preActivations(theta, x, dim, hidden, rows);
    const env = preActivations(absArray(theta), absArray(x), dim, hidden, rows);
    const bad = new Set<number>();
    let depth = 0;
    layers.slice(0, -1).forEach((l, li) => {
      depth += l.in + 3;
      for (let e = 0; e < z[li]!.length; e++) if (Math.abs(z[li]![e]!) <= 2 * gamma(depth) * env[li]![e]!) bad.add(Math.floor(e / l.out));
    });
    if (bad.size === 0) return x;
    for (const n of bad) for (let j = 0; j < dim; j++) x[n * dim + j] = Math.fround(2 * r() - 1);
  }
  throw new Error('could not draw rows clear of the ReLU kinks');
}

interface Twin {
  readonly grad: Float64Array;
  readonly loss: number;
  readonly inputGrad: Float64Array;
}

/** The twin's gradient, loss and input gradient (cpu backend, float64 throughout). */
async function twinLoss(c: Net, theta: ArrayLike<number>, x: ArrayLike<number>, y: ArrayLike<number>, loss = c.loss, scale = c.scale, weights?: ArrayLike<number>): Promise<Twin> {
  const { cpu } = backends();
  const { paramCount: p } = mlpLayout(c.dim, c.hidden);
  const tt = cpu.tensor(theta, [p]), tx = cpu.tensor(x, [c.rows, c.dim]), ty = cpu.tensor(y, [c.rows]);
  const lossOut = cpu.zeros([1]), inputGrad = cpu.zeros([c.rows, c.dim]);
  const tw = weights ? cpu.tensor(weights, [c.rows]) : null;
  const g = mlpLossGradient(cpu, tt, tx, ty, { dim: c.dim, hidden: c.hidden, loss, scale, lossOut, inputGrad, ...(tw ? { weights: tw } : {}) });
  const out = { grad: await readF64(cpu, g), loss: (await readF64(cpu, lossOut))[0]!, inputGrad: await readF64(cpu, inputGrad) };
  disposeAll(tt, tx, ty, lossOut, inputGrad, g, ...(tw ? [tw] : []));
  return out;
}

async function twinForward(dim: number, hidden: number[], rows: number, theta: ArrayLike<number>, x: ArrayLike<number>): Promise<Float64Array> {
  const { cpu } = backends();
  const tt = cpu.tensor(theta, [mlpLayout(dim, hidden).paramCount]), tx = cpu.tensor(x, [rows, dim]);
  const { output } = mlpForward(cpu, tt, tx, { dim, hidden });
  const f = await readF64(cpu, output);
  disposeAll(tt, tx, output);
  return f;
}

/**
 * Error bounds of the GPU's gradient, loss and input gradient, from first-order propagation:
 * with F̂ the output of the absolute-value network (|θ|, |x|: every unit on, so its δ̂ and ĥ
 * dominate |δ| and |h| and its Jacobian Ĵ dominates |J|), the residual errs by
 *   Δe_n ≤ γ_fwd·F̂_n + u·(|f_n| + |y_n|)                          (squared)
 *   Δe_n ≤ γ_fwd·F̂_n/4 + sigmoidUlps(f_n)·u + u·(σ_n + |y_n|)      (logistic; σ' ≤ 1/4)
 * and each gradient term e_n·J_nq by Δe_n·Ĵ_nq + |e_n|·γ_grad·Ĵ_nq, summed over N rows (γ_N):
 *   |Δg_q| ≤ Σ_n w_n·Ĵ_nq,  w_n = |scale|·(Δe_n + |e_n|·γ(gradDepth + N + 2)),
 * which the twin evaluates as the gradient of the absolute-value network under the squared loss
 * with residuals w_n (targets F̂_n − w_n). The input gradient likewise with Ĵx = ∇x f̂. The loss:
 *   |ΔL| ≤ |scale|·Σ_n (|∂ℓ/∂f|·γ_fwd·F̂_n + r_n) + γ_{N+2}·|scale|·Σ_n ℓ_n,
 * r_n = 3u·ℓ_n + u·|e_n|·(|f_n| + |y_n|) (squared) or 3u·(|f_n| + |y_n·f_n| + log1p) +
 * LOG_ABS_ERROR + sigmoidUlps(f_n)·u·log1p (logistic).
 */
async function bounds(c: Net, theta: Float32Array, x: Float32Array, y: Float32Array, rowWeights?: ArrayLike<number>): Promise<{ grad: Float64Array; loss: number; inputGrad: Float64Array }> {
  const { layers } = mlpLayout(c.dim, c.hidden);
  const u = F32_EPS;
  const f = await twinForward(c.dim, c.hidden, c.rows, theta, x);
  const aTheta = absArray(theta), aX = absArray(x);
  const fHat = await twinForward(c.dim, c.hidden, c.rows, aTheta, aX);
  // Row weights (w_n ≥ 0): each row's terms times w_n, and one more rounding (w_n·e_n, w_n·ℓ_n).
  const extra = rowWeights ? 1 : 0, weightOf = (n: number) => (rowWeights ? rowWeights[n]! : 1);
  const gFwd = gamma(forwardDepth(layers)), gGrad = gamma(gradDepth(layers) + c.rows + 2 + extra);
  const w = new Float64Array(c.rows);
  let lossBound = 0, lossSum = 0;
  for (let n = 0; n < c.rows; n++) {
    const fn = f[n]!, yn = y[n]!;
    let e: number, de: number, l: number, r: number;
    if (c.loss === 'logistic') {
      const sigma = 1 / (1 + Math.exp(-fn)), tail = Math.log1p(Math.exp(-Math.abs(fn)));
      e = sigma - yn;
      de = (gFwd * fHat[n]!) / 4 + sigmoidUlps(fn) * u + u * (sigma + Math.abs(yn));
      l = Math.max(fn, 0) - yn * fn + tail;
      r = 3 * u * (Math.abs(fn) + Math.abs(yn * fn) + tail) + LOG_ABS_ERROR + sigmoidUlps(fn) * u * tail;
    } else {
      e = fn - yn;
      de = gFwd * fHat[n]! + u * (Math.abs(fn) + Math.abs(yn));
      l = 0.5 * e * e;
      r = 3 * u * l + u * Math.abs(e) * (Math.abs(fn) + Math.abs(yn));
    }
    const wn = weightOf(n);
    w[n] = Math.abs(c.scale) * wn * (de + Math.abs(e) * gGrad);
    lossBound += Math.abs(c.scale) * wn * (Math.abs(e) * gFwd * fHat[n]! + r + extra * u * l);
    lossSum += Math.abs(c.scale) * wn * l;
  }
  const env = await twinLoss(c, aTheta, aX, Float64Array.from(fHat, (v, n) => v - w[n]!), 'squared', 1);
  return {
    // 1.01: the twin forms w_n as F̂_n − (F̂_n − w_n), good to float64 rounding of F̂_n.
    grad: env.grad.map((v) => 1.01 * v + 1e-37),
    loss: lossBound + gamma(c.rows + 2) * lossSum + 1e-37,
    inputGrad: env.inputGrad.map((v) => 1.01 * v + 1e-37),
  };
}

/** Runs mlpLossGradient on the GPU and checks gradient, loss and input gradient against the twin. */
async function checkLossGradient(c: Net, seed: number): Promise<void> {
  const { gpu } = backends();
  const { paramCount: p } = mlpLayout(c.dim, c.hidden);
  const theta = mlpTheta(c.dim, c.hidden, seed);
  const x = clearOfKinks(theta, uniform(c.rows * c.dim, seed + 1), c.dim, c.hidden, c.rows, seed + 2);
  const y = makeTargets(c, seed + 3);
  const tt = gpu.tensor(theta, [p]), tx = gpu.tensor(x, [c.rows, c.dim]), ty = gpu.tensor(y, [c.rows]);
  const lossOut = gpu.zeros([1]), inputGrad = gpu.zeros([c.rows, c.dim]);
  const grad = mlpLossGradient(gpu, tt, tx, ty, { dim: c.dim, hidden: c.hidden, loss: c.loss, scale: c.scale, lossOut, inputGrad });
  expect(grad.shape).to.deep.equal([p]);
  const g = await gpu.read(grad), l = (await gpu.read(lossOut))[0]!, ig = await gpu.read(inputGrad);
  disposeAll(tt, tx, ty, lossOut, inputGrad, grad);
  const ref = await twinLoss(c, theta, x, y);
  const bound = await bounds(c, theta, x, y);
  const what = label(c);
  expectClose(g, ref.grad, TOL_BOUND_ONLY, `${what}: gradient`, bound.grad);
  expectClose([l], [ref.loss], TOL_BOUND_ONLY, `${what}: loss`, [bound.loss]);
  expectClose(ig, ref.inputGrad, TOL_BOUND_ONLY, `${what}: input gradient`, bound.inputGrad);
}

describeBackends('train ops: loss gradient', function () {
  this.timeout(120_000);

  const fdCases: Net[] = [
    { dim: 1, hidden: [1], rows: 2, loss: 'squared', scale: 1 },
    { dim: 3, hidden: [5], rows: 4, loss: 'logistic', scale: 0.25 },
    { dim: 2, hidden: [], rows: 3, loss: 'logistic', scale: 1 },
    { dim: 4, hidden: [7, 13], rows: 3, loss: 'squared', scale: 1 / 3 },
    { dim: 5, hidden: [6, 4, 3], rows: 3, loss: 'logistic', scale: 1 },
    { dim: 6, hidden: [16, 9], rows: 5, loss: 'logistic', scale: 0.2 },
  ];
  it(`the float64 twin equals central finite differences (h = ${FD_STEP}) of its own loss, in θ and in x`, async () => {
    const { cpu } = backends();
    let seed = 10, worst = 0;
    for (const c of fdCases) {
      const { layers, paramCount: p } = mlpLayout(c.dim, c.hidden);
      const theta = Float64Array.from(mlpTheta(c.dim, c.hidden, (seed += 5)));
      const x = Float64Array.from(uniform(c.rows * c.dim, seed + 1)), y = makeTargets(c, seed + 2);
      const ref = await twinLoss(c, theta, x, y);
      const tt = cpu.tensor(theta, [p]), tx = cpu.tensor(x, [c.rows, c.dim]), ty = cpu.tensor(y, [c.rows]), lossOut = cpu.zeros([1]);
      /** The loss and the ReLU pattern at (θ, x) (the premise: no unit switches within ±h). */
      const at = async (th: Float64Array, xs: Float64Array) => {
        cpu.write(tt, th);
        cpu.write(tx, xs);
        disposeAll(mlpLossGradient(cpu, tt, tx, ty, { dim: c.dim, hidden: c.hidden, loss: c.loss, scale: c.scale, lossOut }));
        const { output, activations } = mlpForward(cpu, tt, tx, { dim: c.dim, hidden: c.hidden, saveActivations: true });
        const on = (await Promise.all(activations.map((t) => cpu.read(t)))).map((h) => Array.from(h, (v) => (v > 0 ? 1 : 0)).join('')).join('|');
        disposeAll(output, ...activations);
        return { loss: (await cpu.read(lossOut))[0]!, on };
      };
      const base = await at(theta, x);
      const fdOf = async (vec: Float64Array, q: number, other: (v: Float64Array) => Promise<{ loss: number; on: string }>) => {
        const plus = vec.slice(), minus = vec.slice();
        plus[q] = vec[q]! + FD_STEP;
        minus[q] = vec[q]! - FD_STEP;
        const lp = await other(plus), lm = await other(minus);
        expect(lp.on, `${label(c)}: a unit switches within ±h`).to.equal(base.on);
        expect(lm.on, `${label(c)}: a unit switches within ±h`).to.equal(base.on);
        return (lp.loss - lm.loss) / (plus[q]! - minus[q]!);
      };
      const fdTheta = new Float64Array(p), fdX = new Float64Array(c.rows * c.dim);
      for (let q = 0; q < p; q++) fdTheta[q] = await fdOf(theta, q, (th) => at(th, x));
      for (let q = 0; q < fdX.length; q++) fdX[q] = await fdOf(x, q, (xs) => at(theta, xs));
      disposeAll(tt, tx, ty, lossOut);
      // Each loss evaluation errs by ≤ γ64(depth + N + 8)·L̂ (L̂ ≤ |scale|·Σ_n (F̂_n + |y_n| + 1)², a
      // generous envelope of ℓ_n), divided by the step; the logistic truncation h²/6·0.1·Ĵ³ ≤ h²·Ĵ³
      // is far below that for Ĵ ≤ 10³ (checked through the envelope's gradient below).
      const fHat = await twinForward(c.dim, c.hidden, c.rows, absArray(theta), absArray(x));
      let lHat = 0;
      for (let n = 0; n < c.rows; n++) lHat += Math.abs(c.scale) * (fHat[n]! + Math.abs(y[n]!) + 1) ** 2;
      const noise = (gamma(forwardDepth(layers) + c.rows + 8, F64_EPS) * lHat) / FD_STEP;
      const env = await twinLoss(c, absArray(theta), absArray(x), Float64Array.from(fHat, (v) => v - 1), 'squared', 1);
      const truncation = (j: number) => FD_STEP ** 2 * Math.abs(c.scale) * c.rows * j ** 3;
      expectClose(ref.grad, fdTheta, TOL_BOUND_ONLY, `${label(c)}: twin ∇θ vs finite differences`, env.grad.map((j) => noise + truncation(j)));
      expectClose(ref.inputGrad, fdX, TOL_BOUND_ONLY, `${label(c)}: twin ∇x vs finite differences`, env.inputGrad.map((j) => noise + truncation(j)));
      for (const [a, b] of [[ref.grad, fdTheta], [ref.inputGrad, fdX]] as const) {
        for (let q = 0; q < a.length; q++) if (b[q] !== 0) worst = Math.max(worst, Math.abs(a[q]! - b[q]!) / Math.abs(b[q]!));
      }
    }
    console.log(`      twin vs central differences: largest relative error ${worst.toExponential(2)}`);
  });

  const cases: Net[] = [
    { dim: 1, hidden: [1], rows: 1, loss: 'squared', scale: 1 },
    { dim: 1, hidden: [1], rows: 5, loss: 'logistic', scale: 1 },
    { dim: 3, hidden: [5], rows: 7, loss: 'squared', scale: -0.5 },
    { dim: 2, hidden: [], rows: 3, loss: 'logistic', scale: 1 / 3 },
    { dim: 1, hidden: [], rows: 1, loss: 'squared', scale: 1 },
    { dim: 13, hidden: [7], rows: 9, loss: 'logistic', scale: 1 },
    { dim: 8, hidden: [16, 9], rows: 65, loss: 'squared', scale: 1 / 65 },
    { dim: 5, hidden: [6, 4, 3], rows: 6, loss: 'logistic', scale: 1 },
    // vec4 backward kernels and several gradient chunks, the input gradient through vec4 too.
    { dim: 32, hidden: [100], rows: 3 * GRAD_CHUNK_ROWS + 5, loss: 'logistic', scale: 1 / 197 },
    { dim: 24, hidden: [64], rows: 300, loss: 'squared', scale: 1 / 300 },
  ];
  it('equals the twin on both losses: d = 1, width 1, odd widths, 0–3 hidden layers, N = 1 and N over several chunks', async () => {
    let seed = 100;
    for (const c of cases) await checkLossGradient(c, (seed += 7));
  });

  it('row weights: weights of 1 are the unweighted op bit for bit (both backends); the twin\'s weighted gradient, loss and input gradient are Σ w_n × each row\'s own; the GPU matches the twin within the propagated bound', async () => {
    const { gpu, cpu } = backends();
    let seed = 400;
    for (const c of [cases[2]!, cases[5]!, cases[8]!] as Net[]) {
      const { paramCount: p } = mlpLayout(c.dim, c.hidden);
      const theta = mlpTheta(c.dim, c.hidden, (seed += 7));
      const x = clearOfKinks(theta, uniform(c.rows * c.dim, seed + 1), c.dim, c.hidden, c.rows, seed + 2);
      const y = makeTargets(c, seed + 3);
      const wr = rng(seed + 4), weights = Float32Array.from({ length: c.rows }, (_, n) => (n % 5 === 0 ? 0 : Math.fround(3 * wr())));
      for (const backend of [cpu, gpu] as Backend[]) {
        const run = async (w: Float32Array | null) => {
          const tt = backend.tensor(theta, [p]), tx = backend.tensor(x, [c.rows, c.dim]), ty = backend.tensor(y, [c.rows]);
          const lossOut = backend.zeros([1]), inputGrad = backend.zeros([c.rows, c.dim]), tw = w ? backend.tensor(w, [c.rows]) : null;
          const g = mlpLossGradient(backend, tt, tx, ty, { dim: c.dim, hidden: c.hidden, loss: c.loss, scale: c.scale, lossOut, inputGrad, ...(tw ? { weights: tw } : {}) });
          const out = [await backend.read(g), await backend.read(lossOut), await backend.read(inputGrad)].map((v) => Array.from(v));
          disposeAll(tt, tx, ty, lossOut, inputGrad, g, ...(tw ? [tw] : []));
          return out;
        };
        expect(await run(new Float32Array(c.rows).fill(1)), `${label(c)} on ${backend.kind}: weights of 1`).to.deep.equal(await run(null));
      }
      // The twin: Σ_n w_n × (the op on row n alone).
      const weighted = await twinLoss(c, theta, x, y, c.loss, c.scale, weights);
      const sum = { grad: new Float64Array(p), loss: 0, inputGrad: new Float64Array(c.rows * c.dim) };
      for (let n = 0; n < c.rows; n++) {
        const one: Net = { ...c, rows: 1 };
        const t = await twinLoss(one, theta, x.subarray(n * c.dim, (n + 1) * c.dim), y.subarray(n, n + 1));
        t.grad.forEach((v, q) => (sum.grad[q] = sum.grad[q]! + weights[n]! * v));
        sum.loss += weights[n]! * t.loss;
        t.inputGrad.forEach((v, j) => (sum.inputGrad[n * c.dim + j] = weights[n]! * v));
      }
      const TOL_F64: Tolerance = { abs: 1e-13, rel: 1e-11 };
      expectClose(weighted.grad, sum.grad, TOL_F64, `${label(c)}: twin weighted ∇θ`);
      expectClose([weighted.loss], [sum.loss], TOL_F64, `${label(c)}: twin weighted loss`);
      expectClose(weighted.inputGrad, sum.inputGrad, TOL_F64, `${label(c)}: twin weighted ∇x`);
      const tt = gpu.tensor(theta, [p]), tx = gpu.tensor(x, [c.rows, c.dim]), ty = gpu.tensor(y, [c.rows]), tw = gpu.tensor(weights, [c.rows]);
      const lossOut = gpu.zeros([1]), inputGrad = gpu.zeros([c.rows, c.dim]);
      const grad = mlpLossGradient(gpu, tt, tx, ty, { dim: c.dim, hidden: c.hidden, loss: c.loss, scale: c.scale, lossOut, inputGrad, weights: tw });
      const g = await gpu.read(grad), l = (await gpu.read(lossOut))[0]!, ig = await gpu.read(inputGrad);
      disposeAll(tt, tx, ty, tw, lossOut, inputGrad, grad);
      const bound = await bounds(c, theta, x, y, weights);
      expectClose(g, weighted.grad, TOL_BOUND_ONLY, `${label(c)}: weighted gradient`, bound.grad);
      expectClose([l], [weighted.loss], TOL_BOUND_ONLY, `${label(c)}: weighted loss`, [bound.loss]);
      expectClose(ig, weighted.inputGrad, TOL_BOUND_ONLY, `${label(c)}: weighted input gradient`, bound.inputGrad);
    }
    const { paramCount: p } = mlpLayout(2, [3]);
    const theta = gpu.tensor(mlpTheta(2, [3], 1), [p]), x = gpu.tensor(uniform(8, 2), [4, 2]), y = gpu.tensor(uniform(4, 3), [4]), w = gpu.tensor(new Float32Array(3), [3]);
    expect(() => mlpLossGradient(gpu, theta, x, y, { dim: 2, hidden: [3], loss: 'squared', weights: w })).to.throw(BanditError, /weights must hold one value a row of x \(4\)/);
    disposeAll(theta, x, y, w);
  });

  it('p ≈ 10⁵ (d = 32, hidden [300, 300]) over several chunks, and N = 70001 rows (1094 chunks, 274 loss runs)', async () => {
    await checkLossGradient({ dim: 32, hidden: [300, 300], rows: 2 * GRAD_CHUNK_ROWS + 1, loss: 'logistic', scale: 1 / 129 }, 300);
    await checkLossGradient({ dim: 2, hidden: [3], rows: 70_001, loss: 'squared', scale: 1e-4 }, 310);
  });

  it('sizes its gradient chunks to the partial-sum cap', () => {
    expect(gradientChunkRows(100, 10, 2 ** 27)).to.equal(GRAD_CHUNK_ROWS);
    // 64 MiB of partial sums hold 167 chunks of p = 100501: 20000 rows need chunks of 120.
    expect(gradientChunkRows(20_000, 100_501, 2 ** 27)).to.equal(Math.ceil(20_000 / 166));
    expect(gradientChunkRows(20_000, 100_501, 2 ** 24)).to.equal(Math.ceil(20_000 / 41));
    expect(gradientChunkRows(10, 2 ** 25, 2 ** 27)).to.equal(GRAD_CHUNK_ROWS);
  });

  it('writes into given tensors, leaves the rest alone, and equals itself bit for bit on a rerun', async () => {
    for (const backend of Object.values(backends()) as Backend[]) {
      const dim = 4, hidden = [6], rows = 70;
      const { paramCount: p } = mlpLayout(dim, hidden);
      const tt = backend.tensor(mlpTheta(dim, hidden, 5), [p]), tx = backend.tensor(uniform(rows * dim, 6), [rows, dim]);
      const ty = backend.tensor(uniform(rows, 7), [rows]);
      const out = backend.tensor(new Float32Array(p).fill(SENTINEL), [p]);
      const opts = { dim, hidden, loss: 'squared' as const, scale: 0.5 };
      expect(mlpLossGradient(backend, tt, tx, ty, { ...opts, out })).to.equal(out);
      const again = mlpLossGradient(backend, tt, tx, ty, opts);
      expectClose(await backend.read(out), await backend.read(again), TOL_EXACT, `${backend.kind}: rerun`);
      disposeAll(tt, tx, ty, out, again);
    }
  });

  /** A planted nonlinear target: y = sin(2x₀) + x₁² − x₂·x₃ (squared) or its sign (logistic). */
  function planted(rows: number, dim: number, loss: MlpLoss, seed: number): { x: Float32Array; y: Float32Array } {
    const x = uniform(rows * dim, seed);
    const y = new Float32Array(rows);
    for (let n = 0; n < rows; n++) {
      const v = Math.sin(2 * x[n * dim]!) + x[n * dim + 1]! ** 2 - x[n * dim + 2]! * x[n * dim + 3]! - 1 / 3;
      y[n] = loss === 'logistic' ? (v > 0 ? 1 : 0) : v;
    }
    return { x, y };
  }

  for (const loss of ['squared', 'logistic'] as const) {
    it(`300 full-batch Adam steps on a planted ${loss} target lower the loss on both backends`, async () => {
      const dim = 4, hidden = [16], rows = 256, steps = 300;
      const { paramCount: p } = mlpLayout(dim, hidden);
      const { x, y } = planted(rows, dim, loss, 71);
      const theta0 = mlpTheta(dim, hidden, 72).map((v) => v / 1.5);
      const finals: number[] = [];
      for (const backend of Object.values(backends()) as Backend[]) {
        const tt = backend.tensor(theta0, [p]), tx = backend.tensor(x, [rows, dim]), ty = backend.tensor(y, [rows]);
        const grad = backend.zeros([p]), m = backend.zeros([p]), v = backend.zeros([p]), lossOut = backend.zeros([1]);
        const opts = { dim, hidden, loss, scale: 1 / rows, out: grad, lossOut };
        let first = NaN;
        for (let t = 1; t <= steps; t++) {
          mlpLossGradient(backend, tt, tx, ty, opts);
          if (t === 1) first = (await backend.read(lossOut))[0]!;
          optimizerStep(backend, { params: tt, grad, kind: 'adam', state: { m, v }, lr: 0.02, step: t });
        }
        mlpLossGradient(backend, tt, tx, ty, opts);
        const last = (await backend.read(lossOut))[0]!;
        // Baselines: predicting the mean leaves the variance (squared, ≈ 0.35 here); a coin leaves log 2.
        expect(last, `${backend.kind} ${loss}: loss ${first} → ${last}`).to.be.below((loss === 'squared' ? 0.15 : 0.4) * first);
        finals.push(last);
        disposeAll(tt, tx, ty, grad, m, v, lossOut);
      }
      // Same start, same data: f32 and float64 training end near each other (not bit for bit).
      expect(Math.abs(finals[0]! - finals[1]!), `final losses ${finals.join(' vs ')}`).to.be.below(0.25 * Math.max(...finals));
    });
  }
});

// ---------------------------------------------------------------------------------------------
// optimizerStep

interface StepCase {
  readonly n: number;
  readonly kind: 'sgd' | 'adam';
  readonly lr: number;
  readonly step?: number;
  readonly decay?: number;
  readonly anchor?: boolean;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly eps?: number;
}

/**
 * Bound of one step from the same f32 inputs, per element, from envelopes of each intermediate:
 * ĝ = |g| + decay·(|θ| + |a|) bounds g̃ (which errs by ≤ 3u·ĝ: a difference, a product by the f32
 * decay, a sum). m = β1·m + (1 − β1)·g̃ errs by Δm ≤ M_ERR·u·(β1|m| + (1 − β1)ĝ) and v by
 * Δv ≤ V_ERR·u·(β2·v + (1 − β2)·ĝ²) (f32 coefficients, products, the sum; g̃'s error twice in g̃²:
 * where g̃ cancels, v and so Adam's denominator are ill-conditioned, which the interval below keeps).
 * Adam's update U = num/den, num = m·c1 (errs by ≤ c1·Δm + 2u·|num|), den = sqrt(v·c2) + eps
 * taken over v ± Δv with 6u for c2, WGSL's sqrt (≤ 4 ulp) and the sum; the GPU's |U| lies in
 * [(|num| − Δnum)/den_hi, (|num| + Δnum)/den_lo], plus the division (2.5 ulp, 3u here).
 * SGD: |Δ(lr·g̃)| ≤ 6u·lr·ĝ. Then lr·U and θ − lr·U round (2u·lr·|U| + u·|θ'|).
 */
const M_ERR = 8, V_ERR = 12;

function stepBound(c: StepCase, th: Float32Array, g: Float32Array, a: Float32Array | null, m: Float32Array, v: Float32Array, twin: { th: Float64Array; m: Float64Array; v: Float64Array }): Float64Array {
  const u = F32_EPS, decay = c.decay ?? 0, b1 = c.beta1 ?? 0.9, b2 = c.beta2 ?? 0.999, eps = c.eps ?? 1e-8, t = c.step ?? 1;
  const c1 = 1 / (1 - b1 ** t), c2 = 1 / (1 - b2 ** t);
  return Float64Array.from(th, (theta, i) => {
    const gHat = Math.abs(g[i]!) + decay * (Math.abs(theta) + (a ? Math.abs(a[i]!) : 0));
    let step: number;
    if (c.kind === 'sgd') step = 6 * u * c.lr * gHat;
    else {
      const num = Math.abs(twin.m[i]!) * c1;
      const dNum = c1 * M_ERR * u * (b1 * Math.abs(m[i]!) + (1 - b1) * gHat) + 2 * u * num;
      const vt = twin.v[i]!, dv = V_ERR * u * (b2 * v[i]! + (1 - b2) * gHat * gHat);
      const den = Math.sqrt(c2 * vt) + eps;
      const denHi = Math.sqrt(c2 * (vt + dv)) * (1 + 6 * u) + eps, denLo = Math.sqrt(c2 * Math.max(0, vt - dv)) * (1 - 6 * u) + eps;
      const hi = (num + dNum) / denLo, lo = Math.max(0, num - dNum) / denHi;
      step = c.lr * (Math.max(hi - num / den, num / den - lo) + 3 * u * hi + 2 * u * hi);
    }
    return step + u * Math.abs(twin.th[i]!) + 1e-37;
  });
}

describeBackends('train ops: optimizer step', function () {
  this.timeout(120_000);

  const stepCases: StepCase[] = [
    { n: 1, kind: 'sgd', lr: 0.1 },
    { n: 63, kind: 'sgd', lr: 0.5, decay: 0.01 },
    { n: 65, kind: 'sgd', lr: 0.05, decay: 0.3, anchor: true },
    { n: 1, kind: 'adam', lr: 1e-3, step: 1 },
    { n: 100, kind: 'adam', lr: 1e-2, step: 1, decay: 1e-3 },
    { n: 257, kind: 'adam', lr: 3e-3, step: 50, decay: 0.1, anchor: true },
    { n: 1000, kind: 'adam', lr: 0.1, step: 7, beta1: 0.5, beta2: 0.9, eps: 1e-4 },
    { n: 300_001, kind: 'adam', lr: 1e-3, step: 1000, decay: 0.5, anchor: true },
  ];
  it('SGD and Adam equal the twin from the same f32 state: n = 1, off the workgroup, decay with and without anchor, t = 1 … 1000', async () => {
    const { gpu, cpu } = backends();
    let seed = 200;
    for (const c of stepCases) {
      seed += 11;
      const th = uniform(c.n, seed), g = uniform(c.n, seed + 1).map((x) => x * 0.1), a = c.anchor ? uniform(c.n, seed + 2) : null;
      // Moments of earlier steps: m of either sign, v ≥ 0 (some exactly 0).
      const m = c.kind === 'adam' ? uniform(c.n, seed + 3).map((x) => x * 0.05) : new Float32Array(c.n);
      const v = c.kind === 'adam' ? uniform(c.n, seed + 4).map((x) => Math.fround(Math.max(0, x) * 0.01)) : new Float32Array(c.n);
      const results: Float64Array[][] = [];
      for (const backend of [gpu, cpu] as Backend[]) {
        const tt = backend.tensor(th, [c.n]), tg = backend.tensor(g, [c.n]), tm = backend.tensor(m, [c.n]), tv = backend.tensor(v, [c.n]);
        const ta = a ? backend.tensor(a, [c.n]) : null;
        optimizerStep(backend, {
          params: tt, grad: tg, kind: c.kind, lr: c.lr,
          ...(c.kind === 'adam' ? { state: { m: tm, v: tv }, step: c.step! } : {}),
          ...(c.decay !== undefined ? { decay: c.decay } : {}), ...(ta ? { anchor: ta } : {}),
          ...(c.beta1 !== undefined ? { beta1: c.beta1, beta2: c.beta2!, eps: c.eps! } : {}),
        });
        results.push([await readF64(backend, tt), await readF64(backend, tm), await readF64(backend, tv)]);
        expectClose(await backend.read(tg), g, TOL_EXACT, 'grad is read only');
        disposeAll(tt, tg, tm, tv, ...(ta ? [ta] : []));
      }
      const [[gTh, gM, gV], [cTh, cM, cV]] = results as [Float64Array[], Float64Array[]];
      const what = `${c.kind} n=${c.n} lr=${c.lr} t=${c.step ?? '-'} decay=${c.decay ?? 0}${c.anchor ? ' anchor' : ''}`;
      expectClose(gTh!, cTh!, TOL_BOUND_ONLY, `${what}: θ`, stepBound(c, th, g, a, m, v, { th: cTh!, m: cM!, v: cV! }));
      if (c.kind === 'adam') {
        const u = F32_EPS, decay = c.decay ?? 0, b1 = c.beta1 ?? 0.9, b2 = c.beta2 ?? 0.999;
        const gHat = (i: number) => Math.abs(g[i]!) + decay * (Math.abs(th[i]!) + (a ? Math.abs(a[i]!) : 0));
        expectClose(gM!, cM!, TOL_BOUND_ONLY, `${what}: m`, Float64Array.from(m, (mi, i) => M_ERR * u * (b1 * Math.abs(mi) + (1 - b1) * gHat(i)) + 1e-37));
        expectClose(gV!, cV!, TOL_BOUND_ONLY, `${what}: v`, Float64Array.from(v, (vi, i) => V_ERR * u * (b2 * vi + (1 - b2) * gHat(i) ** 2) + 1e-37));
      } else {
        expectClose(gM!, m, TOL_EXACT, `${what}: sgd leaves the moment tensors alone`);
      }
    }
  });

  it('lr = 0 leaves θ bit for bit; decay pulls towards the anchor (or 0) with a zero gradient', async () => {
    for (const backend of Object.values(backends()) as Backend[]) {
      const n = 5, th = [1, -2, 0.5, 4, -0.25];
      const tt = backend.tensor(th, [n]), zero = backend.zeros([n]), anchor = backend.tensor([1, 0, 0.5, 0, 0], [n]);
      const m = backend.zeros([n]), v = backend.zeros([n]);
      optimizerStep(backend, { params: tt, grad: anchor, kind: 'adam', state: { m, v }, lr: 0, step: 1 });
      expect(Array.from(await backend.read(tt)), `${backend.kind}: lr 0`).to.deep.equal(th);
      optimizerStep(backend, { params: tt, grad: zero, kind: 'sgd', lr: 0.5, decay: 1, anchor });
      // θ − 0.5·(θ − a) = (θ + a)/2, exact in binary.
      expect(Array.from(await backend.read(tt)), `${backend.kind}: anchored decay`).to.deep.equal([1, -1, 0.5, 2, -0.125]);
      optimizerStep(backend, { params: tt, grad: zero, kind: 'sgd', lr: 0.5, decay: 1 });
      expect(Array.from(await backend.read(tt)), `${backend.kind}: L2 decay`).to.deep.equal([0.5, -0.5, 0.25, 1, -0.0625]);
      disposeAll(tt, zero, anchor, m, v);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// gatherRows and scatterAddRows

describeBackends('train ops: gather and scatter rows', function () {
  this.timeout(120_000);

  const randomIndices = (count: number, rows: number, seed: number) => {
    const r = rng(seed);
    return Int32Array.from({ length: count }, () => Math.floor(r() * rows));
  };

  it('gathers rows exactly from host and device indices, into a column window, with out-of-range device indices giving zeros', async () => {
    const { gpu, cpu } = backends();
    const cases = [
      { rows: 1, cols: 1, count: 1, outCols: 1, column: 0 },
      { rows: 7, cols: 3, count: 65, outCols: 3, column: 0 },
      { rows: 100, cols: 8, count: 257, outCols: 21, column: 8 },
      { rows: 5, cols: 1, count: 9, outCols: 4, column: 3 },
    ];
    let seed = 400;
    for (const c of cases) {
      const src = uniform(c.rows * c.cols, (seed += 3));
      const idx = randomIndices(c.count, c.rows, seed + 1);
      const wild = idx.map((r, n) => (n % 5 === 1 ? -1 - n : n % 5 === 3 ? c.rows + n : r));
      for (const [kind, indices] of [['host', idx], ['device', wild]] as const) {
        const outs: Float64Array[] = [];
        for (const backend of [gpu, cpu] as Backend[]) {
          const ts = backend.tensor(src, [c.rows, c.cols]);
          const out = backend.tensor(new Float32Array(c.count * c.outCols).fill(SENTINEL), [c.count, c.outCols]);
          const ti = kind === 'device' ? backend.tensor(indices, [c.count], { dtype: 'i32' }) : null;
          expect(gatherRows(backend, ts, ti ?? indices, { out, column: c.column })).to.equal(out);
          outs.push(await readF64(backend, out));
          disposeAll(ts, out, ...(ti ? [ti] : []));
        }
        const expected = new Float64Array(c.count * c.outCols).fill(SENTINEL);
        indices.forEach((r, n) => {
          for (let j = 0; j < c.cols; j++) expected[n * c.outCols + c.column + j] = r >= 0 && r < c.rows ? src[r * c.cols + j]! : 0;
        });
        expectClose(outs[0]!, expected, TOL_EXACT, `gpu ${kind} ${JSON.stringify(c)}`);
        expectClose(outs[1]!, expected, TOL_EXACT, `cpu ${kind} ${JSON.stringify(c)}`);
      }
    }
  });

  it('gathers from a rank-1 table into a new tensor, and from the largest table the binding allows', async () => {
    const { gpu } = backends();
    const col = gpu.tensor([10, 11, 12], [3]);
    const got = gatherRows(gpu, col, new Int32Array([2, 0, 2, 1]));
    expect(got.shape).to.deep.equal([4]);
    expect(Array.from(await gpu.read(got))).to.deep.equal([12, 10, 12, 11]);
    const cols = 4, rows = Math.floor(maxTestBindingBytes() / (4 * cols));
    const data = new Float32Array(rows * cols);
    for (let i = 0; i < data.length; i++) data[i] = i % 8191;
    const big = gpu.tensor(data, [rows, cols]);
    const idx = new Int32Array([rows - 1, 0, rows - 2, Math.floor(rows / 2)]);
    const out = gatherRows(gpu, big, idx);
    const expected = Array.from(idx).flatMap((r) => Array.from(data.subarray(r * cols, (r + 1) * cols)));
    expect(Array.from(await gpu.read(out))).to.deep.equal(expected);
    disposeAll(col, got, big, out);
  });

  /** |Δ| of sequential sums t + s·r₁ + s·r₂ …: γ_{2k}·(|t| + Σ|s·r|) with k the rows of the target. */
  function scatterBound(target: Float32Array, rows: Float32Array, idx: Int32Array, cols: number, rowCols: number, column: number, scale: number, tableRows: number): Float64Array {
    const abs = Float64Array.from(target, Math.abs), hits = new Int32Array(tableRows);
    idx.forEach((r, n) => {
      if (r < 0 || r >= tableRows) return;
      hits[r]!++;
      for (let j = 0; j < cols; j++) abs[r * cols + j] = abs[r * cols + j]! + Math.abs(scale * rows[n * rowCols + column + j]!);
    });
    return abs.map((v, e) => gamma(2 * hits[Math.floor(e / cols)]! + 1) * v + 1e-37);
  }

  it('scatter-adds rows with repeated indices in order, from host and device indices, from a column window', async () => {
    const { gpu, cpu } = backends();
    const cases = [
      { rows: 1, cols: 1, count: 1, rowCols: 1, column: 0, scale: 1 },
      { rows: 3, cols: 2, count: 50, rowCols: 2, column: 0, scale: -0.5 },
      { rows: 97, cols: 8, count: 256, rowCols: 21, column: 8, scale: 1 / 256 },
      { rows: 1000, cols: 5, count: 300, rowCols: 5, column: 0, scale: 2 },
    ];
    let seed = 500;
    for (const c of cases) {
      const target = uniform(c.rows * c.cols, (seed += 3)), rows = uniform(c.count * c.rowCols, seed + 1);
      const idx = randomIndices(c.count, Math.min(c.rows, 13), seed + 2);
      const wild = idx.map((r, n) => (n % 7 === 2 ? -5 : n % 7 === 4 ? c.rows : r));
      for (const [kind, indices] of [['host', idx], ['device', wild]] as const) {
        const outs: Float64Array[] = [];
        for (const backend of [gpu, cpu] as Backend[]) {
          const tt = backend.tensor(target, [c.rows, c.cols]), tr = backend.tensor(rows, [c.count, c.rowCols]);
          const ti = kind === 'device' ? backend.tensor(indices, [c.count], { dtype: 'i32' }) : null;
          scatterAddRows(backend, tr, ti ?? indices, tt, { scale: c.scale, column: c.column });
          outs.push(await readF64(backend, tt));
          scatterAddRows(backend, tr, ti ?? indices, tt, { scale: c.scale, column: c.column });
          outs.push(await readF64(backend, tt));
          disposeAll(tt, tr, ...(ti ? [ti] : []));
        }
        const [g1, g2, c1] = outs as [Float64Array, Float64Array, Float64Array];
        const what = `${kind} ${JSON.stringify(c)}`;
        expectClose(g1, c1, TOL_BOUND_ONLY, `${what}: once`, scatterBound(target, rows, indices, c.cols, c.rowCols, c.column, c.scale, c.rows));
        // Untouched rows stay bit for bit.
        const touched = new Set(Array.from(indices));
        for (let r = 0; r < c.rows; r++) {
          if (!touched.has(r)) expect(Array.from(g1.subarray(r * c.cols, (r + 1) * c.cols)), `${what}: row ${r}`).to.deep.equal(Array.from(target.subarray(r * c.cols, (r + 1) * c.cols)));
        }
        expect(g2.some((v, e) => v !== g1[e]), `${what}: the second scatter added again`).to.equal(c.scale !== 0);
      }
    }
  });

  it('adds repeated indices in batch order: (0 + 10⁸) + 1 − 10⁸ = 0 in f32, on both index paths', async () => {
    const { gpu } = backends();
    for (const kind of ['host', 'device'] as const) {
      const target = gpu.zeros([2, 1]), rows = gpu.tensor([1e8, 3, 1, -1e8, 1], [5, 1]);
      const idx = new Int32Array([0, 1, 0, 0, 1]);
      const ti = kind === 'device' ? gpu.tensor(idx, [5], { dtype: 'i32' }) : null;
      scatterAddRows(gpu, rows, ti ?? idx, target);
      expect(Array.from(await gpu.read(target)), kind).to.deep.equal([0, 4]);
      disposeAll(target, rows, ...(ti ? [ti] : []));
    }
  });
});

describeBackends('train ops: bad input', function () {
  this.timeout(60_000);

  it('refuses bad input with BanditError and leaves every tensor unchanged', async () => {
    const { gpu, cpu } = backends();
    const made: Tensor[] = [];
    const t = (shape: number[], dtype: 'f32' | 'i32' = 'f32') => {
      const v = gpu.tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(SENTINEL), shape, { dtype });
      made.push(v);
      return v;
    };
    const dim = 3, hidden = [4], N = 5;
    const { paramCount: p } = mlpLayout(dim, hidden);
    const theta = t([p]), x = t([N, dim]), y = t([N]), grad = t([p]), lossOut = t([1]), inputGrad = t([N, dim]);
    const m = t([p]), v = t([p]), table = t([6, 2]), batch = t([N, 2]), idxT = t([N], 'i32');
    const dead = t([N]);
    dead.dispose();
    const opts = { dim, hidden, loss: 'squared' as const };
    const idx = new Int32Array([0, 1, 2, 3, 4]);
    const bad: [string, () => unknown, RegExp][] = [
      ['targets of the wrong size', () => mlpLossGradient(gpu, theta, x, t([N + 1]), { ...opts, out: grad }), /targets must hold one value a row of x \(5\)/],
      ['unknown loss', () => mlpLossGradient(gpu, theta, x, y, { ...opts, loss: 'hinge' as never, out: grad }), /loss must be 'squared' or 'logistic'/],
      ['NaN scale', () => mlpLossGradient(gpu, theta, x, y, { ...opts, scale: NaN, out: grad }), /scale must be a finite number/],
      ['params of the wrong count', () => mlpLossGradient(gpu, t([p + 1]), x, y, { ...opts, out: grad }), /params holds 22 values/],
      ['x of the wrong width', () => mlpLossGradient(gpu, theta, t([N, dim + 1]), y, { ...opts, out: grad }), /x must be N×3/],
      ['out of the wrong size', () => mlpLossGradient(gpu, theta, x, y, { ...opts, out: t([p - 1]) }), /out must be \[21\]/],
      ['lossOut of two values', () => mlpLossGradient(gpu, theta, x, y, { ...opts, out: grad, lossOut: t([2]) }), /lossOut must hold one value/],
      ['inputGrad of the wrong shape', () => mlpLossGradient(gpu, theta, x, y, { ...opts, out: grad, inputGrad: t([N * dim]) }), /inputGrad must have x's shape/],
      ['out aliasing params', () => mlpLossGradient(gpu, theta, x, y, { ...opts, out: theta }), /params and out must be different/],
      ['inputGrad aliasing x', () => mlpLossGradient(gpu, theta, x, y, { ...opts, out: grad, inputGrad: x }), /x and inputGrad must be different/],
      ['targets of another backend', () => mlpLossGradient(gpu, theta, x, cpu.zeros([N]), { ...opts, out: grad }), /another backend/],
      ['disposed targets', () => mlpLossGradient(gpu, theta, x, dead, { ...opts, out: grad }), /disposed/],
      ['optimizer: unknown kind', () => optimizerStep(gpu, { params: theta, grad, kind: 'rmsprop' as never, lr: 1 }), /kind must be 'sgd' or 'adam'/],
      ['optimizer: no lr', () => optimizerStep(gpu, { params: theta, grad, kind: 'sgd' } as never), /lr is required/],
      ['optimizer: negative lr', () => optimizerStep(gpu, { params: theta, grad, kind: 'sgd', lr: -1 }), /lr must be a finite number ≥ 0/],
      ['optimizer: infinite decay', () => optimizerStep(gpu, { params: theta, grad, kind: 'sgd', lr: 1, decay: Infinity }), /decay must be/],
      ['optimizer: grad of the wrong size', () => optimizerStep(gpu, { params: theta, grad: t([p + 1]), kind: 'sgd', lr: 1 }), /grad holds 22 values, params 21/],
      ['optimizer: adam without state', () => optimizerStep(gpu, { params: theta, grad, kind: 'adam', lr: 1, step: 1 }), /adam needs state/],
      ['optimizer: adam without step', () => optimizerStep(gpu, { params: theta, grad, kind: 'adam', lr: 1, state: { m, v } }), /adam needs step/],
      ['optimizer: step 0', () => optimizerStep(gpu, { params: theta, grad, kind: 'adam', lr: 1, state: { m, v }, step: 0 }), /step must be an integer ≥ 1/],
      ['optimizer: beta1 = 1', () => optimizerStep(gpu, { params: theta, grad, kind: 'adam', lr: 1, state: { m, v }, step: 1, beta1: 1 }), /beta1 must be in \[0, 1\)/],
      ['optimizer: eps = 0', () => optimizerStep(gpu, { params: theta, grad, kind: 'adam', lr: 1, state: { m, v }, step: 1, eps: 0 }), /eps must be/],
      ['optimizer: m aliasing v', () => optimizerStep(gpu, { params: theta, grad, kind: 'adam', lr: 1, state: { m, v: m }, step: 1 }), /state.m and state.v must be different/],
      ['optimizer: grad aliasing params', () => optimizerStep(gpu, { params: theta, grad: theta, kind: 'sgd', lr: 1 }), /params and grad must be different/],
      ['optimizer: sgd with state', () => optimizerStep(gpu, { params: theta, grad, kind: 'sgd', lr: 1, state: { m, v } }), /sgd keeps no state/],
      ['optimizer: anchor of the wrong size', () => optimizerStep(gpu, { params: theta, grad, kind: 'sgd', lr: 1, anchor: t([p - 1]) }), /anchor holds 20 values/],
      ['gather: index out of range', () => gatherRows(gpu, table, new Int32Array([0, 6]), { out: t([2, 2]) }), /indices\[1\] = 6 is out of range 0..5/],
      ['gather: negative index', () => gatherRows(gpu, table, new Int32Array([-1])), /indices\[0\] = -1/],
      ['gather: f32 index tensor', () => gatherRows(gpu, table, y), /indices must be i32/],
      ['gather: out rows ≠ indices', () => gatherRows(gpu, table, idx, { out: t([N + 1, 2]) }), /out must have 5 rows/],
      ['gather: window past the row', () => gatherRows(gpu, table, idx, { out: batch, column: 1 }), /columns 1..2 do not fit out rows of 2/],
      ['gather: fractional column', () => gatherRows(gpu, table, idx, { out: batch, column: 0.5 }), /column must be an integer ≥ 0/],
      ['gather: column without out', () => gatherRows(gpu, table, idx, { column: 1 }), /column needs an out tensor/],
      ['gather: out aliasing src', () => gatherRows(gpu, table, new Int32Array(6), { out: table }), /src and out must be different/],
      ['gather: rank-3 table', () => gatherRows(gpu, t([2, 2, 2]), idx), /src must be rank 1/],
      ['gather: empty indices', () => gatherRows(gpu, table, new Int32Array(0)), /indices is empty/],
      ['scatter: index out of range', () => scatterAddRows(gpu, batch, new Int32Array([0, 1, 2, 3, 6]), table), /indices\[4\] = 6 is out of range 0..5/],
      ['scatter: rows ≠ indices', () => scatterAddRows(gpu, batch, new Int32Array([0, 1]), table), /5 rows but 2 indices/],
      ['scatter: NaN scale', () => scatterAddRows(gpu, batch, idx, table, { scale: NaN }), /scale must be a finite number/],
      ['scatter: window past the row', () => scatterAddRows(gpu, batch, idx, table, { column: 1 }), /columns 1..2 do not fit rows' rows of 2/],
      ['scatter: rows aliasing target', () => scatterAddRows(gpu, table, new Int32Array(6), table), /rows and target must be different/],
      ['scatter: index tensor of rank 2', () => scatterAddRows(gpu, batch, t([N, 1], 'i32'), table), /indices tensor must be rank 1/],
      ['scatter: indices of another backend', () => scatterAddRows(gpu, batch, cpu.zeros([N], { dtype: 'i32' }), table), /another backend/],
    ];
    for (const [what, call, message] of bad) expect(call, what).to.throw(BanditError, message);
    void idxT;
    for (const tensor of made) {
      if (tensor.disposed) continue;
      const expected = new Float32Array(tensor.size).fill(SENTINEL);
      const got = await gpu.read(tensor);
      expect(Array.from(got), tensor.label).to.deep.equal(Array.from(tensor.dtype === 'i32' ? Int32Array.from(expected) : expected));
    }
    disposeAll(...made);
  });
});
