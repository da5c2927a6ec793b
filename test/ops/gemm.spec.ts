import { expect } from 'chai';
import { BanditError, type Backend, type Tensor } from '../../src/index.js';
import { gemm, matVec } from '../../src/ops/index.js';
import { dotBound, expectClose, type Tolerance } from '../support/compare.js';
import { backends, maxTestBindingBytes, describeBackends } from '../support/fixture.js';
import { absArray, uniform } from '../support/random.js';

/**
 * No flat slack: every element is held to its own forward-error bound γ_{k+2}·(|α|·|op(A)||op(B)| +
 * |β|·|C|) (`dotBound` over the float64 twin run on absolute values; +2 for the roundings of α·s,
 * β·c and their sum), which is tight for f32 accumulation in any order, with or without fma.
 */
const TOL_GEMM: Tolerance = { abs: 0, rel: 0 };
/** The float64 twin against exact small-integer products: every step is exact in float64. */
const TOL_TWIN_EXACT: Tolerance = { abs: 0, rel: 0 };

interface GemmCase {
  readonly m: number; readonly n: number; readonly k: number;
  readonly transA: boolean; readonly transB: boolean;
  /** Batches of a, b and c; 0 means rank 2 (one matrix, broadcast when the others are batched). */
  readonly batchA: number; readonly batchB: number; readonly batchC: number;
  readonly alpha: number;
  /** Undefined: no c given (a fresh zero output). */
  readonly beta?: number;
  /** Fill c with NaN (only meaningful with beta = 0: c must not be read). */
  readonly nanC?: boolean;
  readonly seed: number;
}

const describeCase = (c: GemmCase): string =>
  `${c.m}×${c.n}×${c.k} tA=${c.transA} tB=${c.transB} batch a/b/c=${c.batchA}/${c.batchB}/${c.batchC} ` +
  `α=${c.alpha} β=${c.beta ?? 'none'}${c.nanC ? ' (c NaN)' : ''}`;

const shapeOf = (batch: number, rows: number, cols: number): number[] => (batch === 0 ? [rows, cols] : [batch, rows, cols]);
const countOf = (batch: number, rows: number, cols: number): number => Math.max(1, batch) * rows * cols;

/** Runs one case on both backends and on absolute values (the error bound); disposes everything. */
async function checkGemm(c: GemmCase): Promise<void> {
  const { gpu, cpu } = backends();
  const [ar, ac] = c.transA ? [c.k, c.m] : [c.m, c.k];
  const [br, bc] = c.transB ? [c.n, c.k] : [c.k, c.n];
  const aData = uniform(countOf(c.batchA, ar, ac), c.seed);
  const bData = uniform(countOf(c.batchB, br, bc), c.seed + 1);
  const withC = c.beta !== undefined;
  const cData = withC ? (c.nanC ? new Float32Array(countOf(c.batchC, c.m, c.n)).fill(NaN) : uniform(countOf(c.batchC, c.m, c.n), c.seed + 2)) : null;
  const run = async (backend: Backend, a: Float32Array, b: Float32Array, cInit: Float32Array | null, alpha: number, beta: number | undefined) => {
    const ta = backend.tensor(a, shapeOf(c.batchA, ar, ac));
    const tb = backend.tensor(b, shapeOf(c.batchB, br, bc));
    const tc = cInit ? backend.tensor(cInit, shapeOf(c.batchC, c.m, c.n)) : undefined;
    const out: Tensor = gemm(backend, ta, tb, {
      transA: c.transA, transB: c.transB, alpha, ...(tc ? { c: tc, beta: beta ?? 0 } : {}),
    });
    const data = await backend.read(out);
    for (const t of [ta, tb, out]) t.dispose();
    return data;
  };
  const actual = await run(gpu, aData, bData, cData, c.alpha, c.beta);
  const expected = await run(cpu, aData, bData, cData, c.alpha, c.beta);
  const absProduct = await run(cpu, absArray(aData), absArray(bData), cData && absArray(cData), Math.abs(c.alpha), c.beta && Math.abs(c.beta));
  expectClose(actual, expected, TOL_GEMM, `gemm ${describeCase(c)}`, dotBound(absProduct, c.k));
}

const TRANSPOSES = [[false, false], [true, false], [false, true], [true, true]] as const;
/** (α, β) with no c, with β = 0 over a NaN-filled c, with c read, and α = 0 (c scaled only). */
const ALPHA_BETA: readonly { alpha: number; beta?: number; nanC?: boolean }[] = [
  { alpha: 1 },
  { alpha: -1.5, beta: 0, nanC: true },
  { alpha: 0.5, beta: 2 },
  { alpha: 0, beta: -0.75 },
];
/**
 * m×n×k: 1, odd sizes, sizes not multiple of the 8×8 tile, multiples of 4 (the vec4 path, with
 * m odd too: rows past m are clamped; n = 12: a half-empty column block), shapes where only one
 * side is aligned, and the blocked workgroup layout: 8×8-tile blocks (64³; 61×63×9 on the scalar
 * path), a partial block row (50×64×8) and a 32×2-tile block (256×16×4).
 */
const SIZES: readonly (readonly [number, number, number])[] = [
  [1, 1, 1], [7, 13, 5], [33, 65, 17], [8, 12, 16], [5, 8, 12], [64, 64, 64], [4, 1, 4], [1, 4, 4], [36, 40, 3],
  [61, 63, 9], [50, 64, 8], [256, 16, 4],
];

describeBackends('gemm', function () {
  this.timeout(300_000);

  it('cpu twin: hand-computed 2×2 products, every transpose, α and β', async () => {
    const { cpu } = backends();
    const a = cpu.tensor([1, 2, 3, 4], [2, 2]), b = cpu.tensor([5, 6, 7, 8], [2, 2]);
    const product = async (transA: boolean, transB: boolean) => Array.from(await cpu.read(gemm(cpu, a, b, { transA, transB })));
    expectClose(await product(false, false), [19, 22, 43, 50], TOL_TWIN_EXACT, 'A·B');
    expectClose(await product(true, false), [26, 30, 38, 44], TOL_TWIN_EXACT, 'Aᵀ·B');
    expectClose(await product(false, true), [17, 23, 39, 53], TOL_TWIN_EXACT, 'A·Bᵀ');
    expectClose(await product(true, true), [23, 31, 34, 46], TOL_TWIN_EXACT, 'Aᵀ·Bᵀ');
    const c = cpu.tensor([1, 1, 1, 1], [2, 2]);
    gemm(cpu, a, b, { c, alpha: 2, beta: -1 });
    expectClose(await cpu.read(c), [37, 43, 85, 99], TOL_TWIN_EXACT, '2·A·B − C');
    const nan = cpu.tensor([NaN, NaN, NaN, NaN], [2, 2]);
    gemm(cpu, a, b, { c: nan, beta: 0 });
    expectClose(await cpu.read(nan), [19, 22, 43, 50], TOL_TWIN_EXACT, 'β = 0 ignores NaN in C');
  });

  for (const [m, n, k] of SIZES) {
    it(`matches the float64 twin at ${m}×${n}×${k}, all transposes and α/β variants`, async () => {
      let seed = 1000 * m + 10 * n + k;
      for (const [transA, transB] of TRANSPOSES) {
        for (const ab of ALPHA_BETA) {
          await checkGemm({ m, n, k, transA, transB, batchA: 0, batchB: 0, batchC: 0, ...ab, seed: seed++ });
        }
      }
    });
  }

  for (const [m, n, k] of [[7, 13, 5], [8, 12, 16], [2, 2, 2]] as const) {
    it(`batches and broadcasts at ${m}×${n}×${k} (strideA = 0, strideB = 0, both)`, async () => {
      let seed = 7 * m + n + k;
      for (const [transA, transB] of TRANSPOSES) {
        for (const [batchA, batchB, batchC] of [[3, 3, 3], [0, 3, 3], [3, 0, 3], [0, 0, 3], [1, 3, 3]] as const) {
          await checkGemm({ m, n, k, transA, transB, batchA, batchB, batchC, alpha: 0.5, beta: 2, seed: seed++ });
        }
        await checkGemm({ m, n, k, transA, transB, batchA: 5, batchB: 5, batchC: 5, alpha: 1, beta: 0, nanC: true, seed: seed++ });
      }
    });
  }

  it('a batch of 700 8×8 products (the LinUCB shape: a tile a matrix, 64 matrices a workgroup)', async () => {
    await checkGemm({ m: 8, n: 8, k: 8, transA: false, transB: true, batchA: 700, batchB: 700, batchC: 700, alpha: 1, beta: 1, seed: 5 });
    await checkGemm({ m: 6, n: 7, k: 5, transA: true, transB: false, batchA: 700, batchB: 0, batchC: 700, alpha: 2, beta: 0, nanC: true, seed: 6 });
  });

  it('the largest binding: c fills it (8191×4096, k = 4: vec4 path, m odd, blocked layout)', async () => {
    const elems = Math.floor(maxTestBindingBytes() / 4);
    const n = 4096, m = Math.floor(elems / n) - 1 - (Math.floor(elems / n) % 2);
    await checkGemm({ m, n, k: 4, transA: false, transB: false, batchA: 0, batchB: 0, batchC: 0, alpha: 1.5, seed: 11 });
  });

  it('α = 0 reads neither a nor b (NaN there does not propagate), on both paths and the twin', async () => {
    const { gpu, cpu } = backends();
    for (const backend of [gpu, cpu] as Backend[]) {
      for (const [m, n, k] of [[8, 8, 8], [3, 5, 7]] as const) {
        const a = backend.tensor(new Float32Array(m * k).fill(NaN), [m, k]);
        const b = backend.tensor(new Float32Array(k * n).fill(NaN), [k, n]);
        const cData = uniform(m * n, m + n);
        const c = backend.tensor(cData, [m, n]);
        gemm(backend, a, b, { c, alpha: 0, beta: 2 });
        expectClose(await backend.read(c), Array.from(cData, (v) => 2 * v), TOL_TWIN_EXACT, `${backend.kind} ${m}×${n}×${k}`);
        for (const t of [a, b, c]) t.dispose();
      }
    }
  });

  it('refuses bad input with BanditError and leaves c unchanged', async () => {
    const { gpu } = backends();
    const a23 = gpu.tensor(uniform(6, 1), [2, 3]), b42 = gpu.tensor(uniform(8, 2), [4, 2]);
    const sq = gpu.tensor(uniform(9, 3), [3, 3]), sq2 = gpu.tensor(uniform(9, 4), [3, 3]);
    const b2 = gpu.tensor(uniform(18, 5), [2, 3, 3]), b3 = gpu.tensor(uniform(27, 6), [3, 3, 3]);
    const c = gpu.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], [3, 3]);
    expect(() => gemm(gpu, a23, b42)).to.throw(BanditError, /inner sizes differ/);
    expect(() => gemm(gpu, a23, b42, { transA: true })).to.throw(BanditError, /inner sizes differ/);
    expect(() => gemm(gpu, sq, sq2, { c: sq })).to.throw(BanditError, /must not be a or b/);
    expect(() => gemm(gpu, sq, sq2, { c: sq2, beta: 1 })).to.throw(BanditError, /must not be a or b/);
    expect(() => gemm(gpu, b2, b3)).to.throw(BanditError, /batch/);
    expect(() => gemm(gpu, b3, sq, { c })).to.throw(BanditError, /batch/);
    expect(() => gemm(gpu, sq, sq2, { c: a23 })).to.throw(BanditError, /c is 2×3, expected 3×3/);
    expect(() => gemm(gpu, sq, sq2, { c, alpha: NaN })).to.throw(BanditError, /alpha must be finite/);
    expect(() => gemm(gpu, sq, sq2, { c, beta: Infinity })).to.throw(BanditError, /beta must be finite/);
    expect(Array.from(await gpu.read(c))).to.deep.equal([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    for (const t of [a23, b42, sq, sq2, b2, b3, c]) t.dispose();
  });
});

interface MatVecCase {
  readonly rows: number; readonly cols: number; readonly trans: boolean;
  /** Batches of a, x and y; 0 means unbatched (a rank 2, x or y rank 1). */
  readonly batchA: number; readonly batchX: number; readonly batchY: number;
  readonly alpha: number; readonly beta?: number; readonly nanY?: boolean;
  readonly seed: number;
}

async function checkMatVec(c: MatVecCase): Promise<void> {
  const { gpu, cpu } = backends();
  const inLen = c.trans ? c.rows : c.cols, outLen = c.trans ? c.cols : c.rows;
  const vecShape = (batch: number, len: number) => (batch === 0 ? [len] : [batch, len]);
  const aData = uniform(countOf(c.batchA, c.rows, c.cols), c.seed);
  const xData = uniform(Math.max(1, c.batchX) * inLen, c.seed + 1);
  const withY = c.beta !== undefined;
  const yCount = Math.max(1, c.batchY) * outLen;
  const yData = withY ? (c.nanY ? new Float32Array(yCount).fill(NaN) : uniform(yCount, c.seed + 2)) : null;
  const run = async (backend: Backend, a: Float32Array, x: Float32Array, yInit: Float32Array | null, alpha: number, beta: number | undefined) => {
    const ta = backend.tensor(a, shapeOf(c.batchA, c.rows, c.cols));
    const tx = backend.tensor(x, vecShape(c.batchX, inLen));
    const ty = yInit ? backend.tensor(yInit, vecShape(c.batchY, outLen)) : undefined;
    const out = matVec(backend, ta, tx, { trans: c.trans, alpha, ...(ty ? { y: ty, beta: beta ?? 0 } : {}) });
    const data = await backend.read(out);
    for (const t of [ta, tx, out]) t.dispose();
    return data;
  };
  const what = `matVec ${c.rows}×${c.cols} trans=${c.trans} batch a/x/y=${c.batchA}/${c.batchX}/${c.batchY} α=${c.alpha} β=${c.beta ?? 'none'}${c.nanY ? ' (y NaN)' : ''}`;
  const actual = await run(gpu, aData, xData, yData, c.alpha, c.beta);
  const expected = await run(cpu, aData, xData, yData, c.alpha, c.beta);
  const absProduct = await run(cpu, absArray(aData), absArray(xData), yData && absArray(yData), Math.abs(c.alpha), c.beta && Math.abs(c.beta));
  expectClose(actual, expected, TOL_GEMM, what, dotBound(absProduct, inLen));
}

describeBackends('matVec', function () {
  this.timeout(300_000);

  it('cpu twin: hand-computed 2×2 products', async () => {
    const { cpu } = backends();
    const a = cpu.tensor([1, 2, 3, 4], [2, 2]), x = cpu.tensor([1, -1], [2]);
    expectClose(await cpu.read(matVec(cpu, a, x)), [-1, -1], TOL_TWIN_EXACT, 'A·x');
    expectClose(await cpu.read(matVec(cpu, a, x, { trans: true })), [-2, -2], TOL_TWIN_EXACT, 'Aᵀ·x');
    const y = cpu.tensor([NaN, 10], [2]);
    matVec(cpu, a, x, { y, alpha: 3, beta: 0 });
    expectClose(await cpu.read(y), [-3, -3], TOL_TWIN_EXACT, 'β = 0 ignores NaN in y');
  });

  // rows×cols: 1, odd, not multiple of 4 outputs, cols multiple of 4 (the vec4 paths) with odd rows.
  const SHAPES = [[1, 1], [7, 13], [13, 7], [33, 65], [64, 64], [5, 8], [8, 4], [1, 4], [4, 1]] as const;
  for (const [rows, cols] of SHAPES) {
    it(`matches the float64 twin at ${rows}×${cols}, both orientations, α/β, batch and broadcast`, async () => {
      let seed = 100 * rows + cols;
      for (const trans of [false, true]) {
        for (const ab of ALPHA_BETA) {
          await checkMatVec({ rows, cols, trans, batchA: 0, batchX: 0, batchY: 0, alpha: ab.alpha, ...(ab.beta === undefined ? {} : { beta: ab.beta }), ...(ab.nanC ? { nanY: true } : {}), seed: seed++ });
        }
        for (const [batchA, batchX, batchY] of [[3, 3, 3], [0, 3, 3], [3, 0, 3], [0, 0, 3]] as const) {
          await checkMatVec({ rows, cols, trans, batchA, batchX, batchY, alpha: -0.5, beta: 1.5, seed: seed++ });
        }
      }
    });
  }

  it('θ_k = A_k⁻¹ b_k shape: a batch of 2000 16×16 (vec4 paths) and 7×7 (scalar)', async () => {
    await checkMatVec({ rows: 16, cols: 16, trans: false, batchA: 2000, batchX: 2000, batchY: 0, alpha: 1, seed: 21 });
    await checkMatVec({ rows: 16, cols: 16, trans: true, batchA: 2000, batchX: 2000, batchY: 2000, alpha: 1, beta: 1, seed: 22 });
    await checkMatVec({ rows: 7, cols: 7, trans: false, batchA: 2000, batchX: 2000, batchY: 2000, alpha: 2, beta: 0, nanY: true, seed: 23 });
  });

  it('just past 65535 workgroups (a 2-D grid): y of 2²⁴ + 4 rows, 4 a thread, 64 threads a workgroup', async () => {
    const rows = 2 ** 24 + 4;
    expect(rows * 4, 'a fits the binding').to.be.at.most(maxTestBindingBytes());
    await checkMatVec({ rows, cols: 1, trans: false, batchA: 0, batchX: 0, batchY: 0, alpha: -2, beta: 0.5, seed: 31 });
  });

  it('refuses bad input with BanditError and leaves y unchanged', async () => {
    const { gpu } = backends();
    const a = gpu.tensor(uniform(6, 1), [2, 3]), sq = gpu.tensor(uniform(9, 2), [3, 3]);
    const x2 = gpu.tensor([1, 2], [2]), x3 = gpu.tensor([1, 2, 3], [3]);
    const xb = gpu.tensor(uniform(6, 3), [2, 3]), ab = gpu.tensor(uniform(27, 4), [3, 3, 3]);
    const y = gpu.tensor([7, 8], [2]);
    expect(() => matVec(gpu, a, x2)).to.throw(BanditError, /x has length 2, op\(a\) has 3 columns/);
    expect(() => matVec(gpu, a, x3, { trans: true })).to.throw(BanditError, /x has length 3/);
    expect(() => matVec(gpu, sq, x3, { y: x3 })).to.throw(BanditError, /must not be x/);
    expect(() => matVec(gpu, ab, xb)).to.throw(BanditError, /batch/);
    expect(() => matVec(gpu, a, x3, { y: x3 })).to.throw(BanditError, /y has length 3, expected 2/);
    expect(() => matVec(gpu, a, x3, { y, alpha: Infinity })).to.throw(BanditError, /alpha must be finite/);
    expect(Array.from(await gpu.read(y))).to.deep.equal([7, 8]);
    for (const t of [a, sq, x2, x3, xb, ab, y]) t.dispose();
  });
});
