import { expect } from 'chai';
import { BanditError, type Backend, type Tensor } from '../../src/index.js';
import { cholesky, spdInverse, type Factorisation } from '../../src/ops/index.js';
import { factorLayout, type FactorLayout } from '../../src/gpu/kernels/cholesky.js';
import { F32_EPS, expectClose, type Tolerance } from '../support/compare.js';
import { backends, describeBackends, gpuBackend, maxTestBindingBytes } from '../support/fixture.js';
import { rng, spd } from '../support/random.js';

type FactorOp = 'cholesky' | 'spdInverse';
const OPS: Record<FactorOp, (backend: Backend, a: Tensor) => Factorisation> = { cholesky, spdInverse };

/** Every element is held to a bound derived for the op (below); no flat slack. */
const TOL_BOUND_ONLY: Tolerance = { abs: 0, rel: 0 };

/**
 * Roundings, in units of u, that WGSL allows beyond IEEE's one per operation: sqrt is inherited
 * from 1/inverseSqrt (2 + 2.5 ULP, 9u) and a diagonal entry squares it (18u); x/y is 2.5 ULP (5u).
 * Added to the count of roundings in every bound below.
 */
const WGSL_EXTRA_ROUNDINGS = 20;
/** γ_n = n·u/(1 − n·u), with the WGSL roundings above. */
const gamma = (n: number): number => {
  const m = n + WGSL_EXTRA_ROUNDINGS;
  return (m * F32_EPS) / (1 - m * F32_EPS);
};

/**
 * Cholesky is backward stable elementwise (Higham, Accuracy and Stability of Numerical
 * Algorithms, 2nd ed., Thm 10.3): L̂L̂ᵀ = A + ΔA with |ΔA| ≤ γ_{d+1}·|L̂||L̂|ᵀ, whatever the order of
 * the sums. Used as is.
 */
const CHOLESKY_BACKWARD = 1;
/**
 * L̂ against the float64 twin, first-order componentwise: A + ΔA = (L + ΔL)(L + ΔL)ᵀ gives
 * L⁻¹ΔA L⁻ᵀ = L⁻¹ΔL + (L⁻¹ΔL)ᵀ with L⁻¹ΔL lower triangular, so ΔL = L·Φ(L⁻¹ΔA L⁻ᵀ) (Φ: the lower
 * triangle, half the diagonal) and |ΔL| ≤ |L|·Φ(|L⁻¹|·|ΔA|·|L⁻ᵀ|) with |ΔA| from
 * CHOLESKY_BACKWARD; ×2 for the second-order terms.
 */
const CHOLESKY_FORWARD = 2;
/**
 * Normwise relative error of the inverse: max|X̂ − X| ≤ ‖X̂ − X‖₂ ≤ c·γ_d·κ₂(A)·‖X‖₂. Each of the
 * three stages (factor, triangular inverse, product) is backward stable with an error of order γ_d
 * relative to its operands, which A's conditioning amplifies by at most κ₂ to first order; c = 3
 * stages, ×2 for the second-order terms.
 */
const INVERSE_FORWARD = 6;
/**
 * Residual of the inverse, max|A·X̂ − I| ≤ ‖A·X̂ − I‖₂ ≤ c·γ_d·κ₂(A): inverting through a
 * triangular inverse has residuals of order u·κ (Du Croz & Higham 1992; Higham §14.3), and X̂
 * being symmetric makes the left and right residuals transposes. c as for INVERSE_FORWARD.
 */
const INVERSE_RESIDUAL = 6;
/**
 * λ_max of A and of A⁻¹ come from POWER_STEPS steps of the power method, whose Rayleigh quotient
 * approaches λ_max from below: after 100 steps the eigenvalues under 0.9·λ_max have lost all
 * weight (0.9²⁰⁰ ≈ 7e-10), so the estimate is within 10 %; ×1.25 covers it.
 */
const POWER_STEPS = 100;
const POWER_SLACK = 1.25;

/** Moderately ill-conditioned data: G·Gᵀ/d + 10⁻³·I has κ₂ up to ~1.3·10³ (G uniform in [−1, 1]). */
const ILL_SHIFT = 1e-3;
const WELL_SHIFT = 1;

// ---- float64 helpers over single d×d matrices ----------------------------------------------------

const matrixAt = (data: ArrayLike<number>, b: number, d: number): Float64Array => {
  const m = new Float64Array(d * d);
  for (let k = 0; k < d * d; k++) m[k] = data[b * d * d + k]!;
  return m;
};

/** |A|·|B| for d×d matrices; `transB` multiplies by |B|ᵀ. */
function absProduct(a: Float64Array, b: Float64Array, d: number, transB = false): Float64Array {
  const c = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = Math.abs(a[i * d + k]!);
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) c[i * d + j] = c[i * d + j]! + aik * Math.abs(transB ? b[j * d + k]! : b[k * d + j]!);
    }
  }
  return c;
}

/** L⁻¹ of a lower-triangular L (float64). */
function lowerInverse(l: Float64Array, d: number): Float64Array {
  const m = new Float64Array(d * d);
  for (let j = 0; j < d; j++) {
    m[j * d + j] = 1 / l[j * d + j]!;
    for (let i = j + 1; i < d; i++) {
      let s = 0;
      for (let k = j; k < i; k++) s += l[i * d + k]! * m[k * d + j]!;
      m[i * d + j] = -s / l[i * d + i]!;
    }
  }
  return m;
}

/** λ_max of a symmetric positive definite matrix, over-estimated by POWER_SLACK (see there). */
function lambdaMax(s: Float64Array, d: number, seed: number): number {
  const r = rng(seed);
  let v = Float64Array.from({ length: d }, () => 0.5 + r());
  let rayleigh = 0;
  for (let step = 0; step < POWER_STEPS; step++) {
    const w = new Float64Array(d);
    for (let i = 0; i < d; i++) {
      let wi = 0;
      for (let j = 0; j < d; j++) wi += s[i * d + j]! * v[j]!;
      w[i] = wi;
    }
    let vw = 0, vv = 0, ww = 0;
    for (let i = 0; i < d; i++) {
      vw += v[i]! * w[i]!;
      vv += v[i]! * v[i]!;
      ww += w[i]! * w[i]!;
    }
    rayleigh = vw / vv;
    const norm = Math.sqrt(ww);
    v = w.map((x) => x / norm);
  }
  return POWER_SLACK * rayleigh;
}

interface Run {
  readonly result: Float32Array | Float64Array;
  readonly status: Int32Array;
}

async function runOp(backend: Backend, op: FactorOp, data: Float32Array, batch: number, d: number): Promise<Run> {
  const a = backend.tensor(data, [batch, d, d]);
  const { result, status } = OPS[op](backend, a);
  const run = { result: (await backend.read(result)) as Float32Array | Float64Array, status: (await backend.read(status)) as Int32Array };
  for (const t of [a, result, status]) t.dispose();
  return run;
}

const layoutOf = (batch: number, d: number): FactorLayout => factorLayout(batch, d, gpuBackend().runtime.fallbackAdapter);

/** Matrices checked a chunk at a time, so the bound arrays stay small for the largest batches. */
const CHECK_CHUNK = 4096;

// ---- Checks of the GPU's results ------------------------------------------------------------------

/**
 * L̂: exactly zero above the diagonal and backward stable (every matrix), and close to the float64
 * twin (every `every`-th matrix: the bound costs ~2d³).
 */
function checkCholesky(a: Float32Array, l: Float32Array, twin: Float64Array, batch: number, d: number, what: string, every: number): void {
  const dd = d * d;
  for (let b0 = 0; b0 < batch; b0 += CHECK_CHUNK) {
    const n = Math.min(CHECK_CHUNK, batch - b0);
    const residual = new Float64Array(n * dd), bound = new Float64Array(n * dd);
    for (let b = 0; b < n; b++) {
      const o = (b0 + b) * dd, r = b * dd;
      for (let i = 0; i < d; i++) {
        for (let j = i + 1; j < d; j++) {
          if (l[o + i * d + j] !== 0) throw new Error(`${what}: matrix ${b0 + b} has L[${i}][${j}] = ${l[o + i * d + j]} above the diagonal`);
        }
        for (let j = 0; j <= i; j++) {
          let s = -a[o + i * d + j]!, abs = 0;
          for (let k = 0; k <= j; k++) {
            const p = l[o + i * d + k]! * l[o + j * d + k]!;
            s += p;
            abs += Math.abs(p);
          }
          residual[r + i * d + j] = s;
          bound[r + i * d + j] = CHOLESKY_BACKWARD * gamma(d + 1) * abs;
        }
      }
    }
    expectClose(residual, new Float64Array(n * dd), TOL_BOUND_ONLY, `${what}: L̂L̂ᵀ − A, lower triangle (matrices ${b0}…)`, bound);
  }
  for (let b = 0; b < batch; b += every) {
    const lt = matrixAt(twin, b, d), m = lowerInverse(lt, d);
    const deltaA = absProduct(lt, lt, d, true).map((x) => CHOLESKY_BACKWARD * gamma(d + 1) * x);
    const g = absProduct(absProduct(m, deltaA, d), m, d, true);
    for (let i = 0; i < d; i++) {
      g[i * d + i] = g[i * d + i]! / 2;
      for (let j = i + 1; j < d; j++) g[i * d + j] = 0;
    }
    const bound = absProduct(lt, g, d).map((x) => CHOLESKY_FORWARD * x);
    expectClose(l.subarray(b * dd, (b + 1) * dd), lt, TOL_BOUND_ONLY, `${what}: L̂ vs float64, matrix ${b}`, bound);
  }
}

/**
 * X̂: exactly symmetric (every matrix), close to the float64 twin (every matrix; κ₂ by the power
 * method on every `every`-th one, the upper bound κ_∞ ≥ κ₂ on the others) and A·X̂ ≈ I (every
 * `every`-th matrix).
 */
function checkInverse(a: Float32Array, x: Float32Array, twin: Float64Array, batch: number, d: number, what: string, every: number): void {
  const dd = d * d;
  const normInf = (m: ArrayLike<number>, o: number): number => {
    let worst = 0;
    for (let i = 0; i < d; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += Math.abs(m[o + i * d + j]!);
      worst = Math.max(worst, s);
    }
    return worst;
  };
  for (let b0 = 0; b0 < batch; b0 += CHECK_CHUNK) {
    const n = Math.min(CHECK_CHUNK, batch - b0);
    const bound = new Float64Array(n * dd);
    for (let b = 0; b < n; b++) {
      const o = (b0 + b) * dd;
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < i; j++) {
          if (x[o + i * d + j] !== x[o + j * d + i]) {
            throw new Error(`${what}: matrix ${b0 + b}: X[${i}][${j}] = ${x[o + i * d + j]} ≠ X[${j}][${i}] = ${x[o + j * d + i]}`);
          }
        }
      }
      let normA: number, normX: number;
      if ((b0 + b) % every === 0) {
        normA = lambdaMax(matrixAt(a, b0 + b, d), d, b);
        normX = lambdaMax(matrixAt(twin, b0 + b, d), d, b);
        const residual = new Float64Array(dd), identity = new Float64Array(dd);
        for (let i = 0; i < d; i++) {
          identity[i * d + i] = 1;
          for (let j = 0; j < d; j++) {
            let s = 0;
            for (let k = 0; k < d; k++) s += a[o + i * d + k]! * x[o + k * d + j]!;
            residual[i * d + j] = s;
          }
        }
        const residualBound = new Float64Array(dd).fill(INVERSE_RESIDUAL * gamma(d) * normA * normX);
        expectClose(residual, identity, TOL_BOUND_ONLY, `${what}: A·X̂ − I, matrix ${b0 + b}`, residualBound);
      } else {
        normA = normInf(a, o);
        normX = normInf(twin, o);
      }
      bound.fill(INVERSE_FORWARD * gamma(d) * normA * normX * normX, b * dd, (b + 1) * dd);
    }
    expectClose(x.subarray(b0 * dd, (b0 + n) * dd), twin.subarray(b0 * dd, (b0 + n) * dd), TOL_BOUND_ONLY, `${what}: X̂ vs float64 (matrices ${b0}…)`, bound);
  }
}

async function checkSpd(op: FactorOp, batch: number, d: number, shift: number, seed: number, every = 1): Promise<void> {
  const { gpu, cpu } = backends();
  const a = spd(batch, d, seed, shift);
  const what = `${op} d=${d} batch=${batch} shift=${shift} (${layoutOf(batch, d)} a matrix)`;
  const twin = await runOp(cpu, op, a, batch, d);
  expect(twin.status.every((s) => s === 0), `${what}: the float64 twin found every matrix SPD`).to.equal(true);
  const got = await runOp(gpu, op, a, batch, d);
  const failed = got.status.findIndex((s) => s !== 0);
  expect(failed, `${what}: status of matrix ${failed} is ${got.status[failed]}`).to.equal(-1);
  if (op === 'cholesky') checkCholesky(a, got.result as Float32Array, twin.result as Float64Array, batch, d, what, every);
  else checkInverse(a, got.result as Float32Array, twin.result as Float64Array, batch, d, what, every);
}

// ---- Non-SPD matrices: which pivot fails, and the rest of the batch ---------------------------------

interface Corruption {
  readonly what: string;
  /** Modifies matrix `m` (d×d, row-major) in place, given its pivots; returns the expected status. */
  apply(m: Float32Array, d: number, pivots: Float64Array): number;
}

/** The pivots (Schur complements) of one matrix, from a float64 Cholesky. */
function pivotsOf(m: Float32Array, d: number): Float64Array {
  const l = new Float64Array(d * d), pivots = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let s = m[i * d + j]!;
      for (let k = 0; k < j; k++) s -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) pivots[i] = s;
      l[i * d + j] = i === j ? Math.sqrt(s) : s / l[j * d + j]!;
    }
  }
  return pivots;
}

/** Matrix b of a batch gets CORRUPTIONS[b]; the ones past the list stay clean. */
const CORRUPTIONS: readonly Corruption[] = [
  { what: 'clean', apply: () => 0 },
  {
    what: 'pivot d−3 made −1',
    apply: (m, d, pivots) => {
      const j = d - 3;
      m[j * d + j] = m[j * d + j]! - (pivots[j]! + 1);
      return j + 1;
    },
  },
  {
    what: 'NaN below the diagonal at (d−2, 1): pivot d−2 is NaN',
    apply: (m, d) => {
      m[(d - 2) * d + 1] = NaN;
      return d - 1;
    },
  },
  {
    what: 'NaN above the diagonal at (1, d−2): never read',
    apply: (m, d) => {
      m[1 * d + d - 2] = NaN;
      return 0;
    },
  },
  {
    what: 'zero first pivot',
    apply: (m) => {
      m[0] = 0;
      return 1;
    },
  },
  {
    what: '+Inf on the diagonal at 2',
    apply: (m, d) => {
      m[2 * d + 2] = Infinity;
      return 3;
    },
  },
  {
    what: 'NaN on the last diagonal entry',
    apply: (m, d) => {
      m[d * d - 1] = NaN;
      return d;
    },
  },
];

async function checkNonSpd(op: FactorOp, batch: number, d: number): Promise<void> {
  const { gpu, cpu } = backends();
  const dd = d * d;
  const clean = spd(batch, d, 4242 + d, WELL_SHIFT);
  const data = clean.slice();
  const expected = new Int32Array(batch);
  CORRUPTIONS.forEach((c, b) => {
    const m = data.subarray(b * dd, (b + 1) * dd);
    expected[b] = c.apply(m, d, pivotsOf(m, d));
  });
  for (const backend of [gpu, cpu]) {
    const what = `${op} on ${backend.kind}, d=${d} batch=${batch} (${layoutOf(batch, d)} a matrix on webgpu)`;
    const cleanRun = await runOp(backend, op, clean, batch, d);
    const run = await runOp(backend, op, data, batch, d);
    expect(Array.from(run.status), `${what}: status`).to.deep.equal(Array.from(expected));
    for (let b = 0; b < batch; b++) {
      const got = Array.from(run.result.subarray(b * dd, (b + 1) * dd));
      const label = `${what}, matrix ${b} (${CORRUPTIONS[b]?.what ?? 'clean'})`;
      if (expected[b] !== 0) {
        expect(got.every(Number.isNaN), `${label}: NaN throughout`).to.equal(true);
      } else {
        // Bit for bit what the same kernel gives for the clean batch: the failures stayed in their matrices.
        expect(got, `${label}: unaffected`).to.deep.equal(Array.from(cleanRun.result.subarray(b * dd, (b + 1) * dd)));
      }
    }
  }
}

// ---- The suites ------------------------------------------------------------------------------------

/**
 * d: 1, 2, sizes off the workgroup sizes (7, 17, 255) and on them (64, 256 = the limit); batches
 * of 1, 3 and a few hundred or thousand (one invocation a matrix on CPU adapters from 128, on GPUs
 * from 1024 for d ≤ 16; a partial last workgroup either way).
 */
const SPD_CASES: readonly { d: number; batches: readonly number[] }[] = [
  { d: 1, batches: [1, 3, 1100] },
  { d: 2, batches: [1, 3, 1100] },
  { d: 7, batches: [1, 3, 1100] },
  { d: 17, batches: [1, 3, 1100] },
  { d: 64, batches: [1, 3, 200] },
  { d: 255, batches: [1] },
  { d: 256, batches: [1, 3] },
];
/** [batch, d] of the non-SPD batches: both layouts on any adapter (see `factorLayout`). */
const NON_SPD_CASES: readonly (readonly [number, number])[] = [
  [1100, 7], [CORRUPTIONS.length, 7], [CORRUPTIONS.length, 17], [200, 64], [CORRUPTIONS.length + 2, 64],
];
/**
 * The largest cases, one an op to stay within the time budget (~10 s each on SwiftShader):
 * spdInverse fills the whole binding with 2×2 matrices (8M on 128 MiB); cholesky runs more 1×1
 * matrices than 65535 workgroups of 256 invocations hold (16.8M, 64 MiB: a 2-D grid, whose index
 * code both ops share).
 */
const LARGEST_D = 2;
const GRID_2D_EXTRA = 1000;
/** Matrices whose float64 checks cost ~d³ (κ₂, forward bounds, residuals): about this many a case. */
const SAMPLED_MATRICES = 50;

for (const op of ['cholesky', 'spdInverse'] as const) {
  describeBackends(op, function (kind) {
    this.timeout(300_000);

    for (const { d, batches } of SPD_CASES) {
      for (const batch of batches) {
        it(`matches the float64 twin: d=${d} batch=${batch}`, async () => {
          const every = Math.ceil(batch / SAMPLED_MATRICES);
          await checkSpd(op, batch, d, WELL_SHIFT, 1000 * d + batch, every);
          if (d > 1) await checkSpd(op, batch, d, ILL_SHIFT, 1000 * d + batch + 1, every);
        });
      }
    }

    if (op === 'spdInverse') {
      it(`matches the float64 twin over the largest binding: d=${LARGEST_D}`, async () => {
        const batch = Math.floor(maxTestBindingBytes() / (LARGEST_D * LARGEST_D * 4));
        await checkSpd(op, batch, LARGEST_D, WELL_SHIFT, 77, Math.ceil(batch / SAMPLED_MATRICES));
      });
    } else if (kind === 'webgpu') {
      it('matches the float64 twin past 65535 workgroups (a 2-D grid): d=1', async () => {
        const batch = Math.min(
          gpuBackend().runtime.limits.maxComputeWorkgroupsPerDimension * 256 + GRID_2D_EXTRA,
          Math.floor(maxTestBindingBytes() / 4),
        );
        await checkSpd(op, batch, 1, WELL_SHIFT, 79, Math.ceil(batch / SAMPLED_MATRICES));
      });
    }

    for (const [batch, d] of NON_SPD_CASES) {
      it(`gives the first failing pivot and NaN only there, on both backends: d=${d} batch=${batch}`, async () => {
        await checkNonSpd(op, batch, d);
      });
    }

    it('exercises both kernel layouts on this adapter', () => {
      const layouts = new Set(NON_SPD_CASES.map(([batch, d]) => layoutOf(batch, d)));
      expect([...layouts].sort()).to.deep.equal(['invocation', 'workgroup']);
    });

    it('refuses non-square matrices, d over 256, wrong ranks and dtypes', () => {
      const { gpu, cpu } = backends();
      for (const backend of [gpu, cpu]) {
        const bad: [number[], RegExp][] = [
          [[2, 3, 4], /square/], [[3, 4], /square/], [[257, 257], /over the limit of 256/], [[4], /rank/], [[1, 1, 2, 2], /rank/],
        ];
        for (const [shape, message] of bad) {
          const t = backend.zeros(shape);
          expect(() => OPS[op](backend, t), `${backend.kind} shape [${shape.join(', ')}]`).to.throw(BanditError, message);
          t.dispose();
        }
        const ints = backend.zeros([2, 2], { dtype: 'i32' });
        expect(() => OPS[op](backend, ints)).to.throw(BanditError, /f32/);
        ints.dispose();
      }
    });
  });
}
