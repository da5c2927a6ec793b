import { expect } from 'chai';
import { BanditError, type Backend, type Tensor } from '../../src/index.js';
import { quadForm } from '../../src/ops/index.js';
import { dotBound, expectClose, type Tolerance } from '../support/compare.js';
import { backends, maxTestBindingBytes, describeBackends } from '../support/fixture.js';
import { absArray, spd, uniform } from '../support/random.js';

/**
 * No slack beyond the per-element bound: xᵀMx is a sum of d² products x_j·M_jl·x_l reached
 * through at most 2d roundings (inner sums over j, then over l), so γ_2d·|x|ᵀ|M||x| bounds it.
 */
const TOL_QUADFORM: Tolerance = { abs: 0, rel: 0 };
const roundingDepth = (d: number) => 2 * d;

interface Case {
  readonly rows: number;
  readonly arms: number;
  readonly d: number;
  readonly perArm: boolean;
  /** Symmetric positive definite M (the LinUCB A⁻¹) instead of general random matrices. */
  readonly spd?: boolean;
}

const label = (c: Case) => `B=${c.rows} K=${c.arms} d=${c.d}${c.perArm ? ' perArm' : ''}${c.spd ? ' spd' : ''}`;

/** Runs the op on both backends and compares within the γ_2d bound of the twin run on |x|, |M|. */
async function checkAgainstTwin(c: Case, seed: number): Promise<void> {
  const { gpu, cpu } = backends();
  const xShape = c.perArm ? [c.rows, c.arms, c.d] : [c.rows, c.d];
  const xSize = xShape.reduce((a, b) => a * b, 1);
  const x = uniform(xSize, seed);
  const m = c.spd ? spd(c.arms, c.d, seed + 1) : uniform(c.arms * c.d * c.d, seed + 1);
  const mShape = [c.arms, c.d, c.d];
  const run = async (backend: Backend, xs: Float32Array, ms: Float32Array) => {
    const tx = backend.tensor(xs, xShape), tm = backend.tensor(ms, mShape);
    const out = quadForm(backend, tx, tm, { perArm: c.perArm });
    const values = await backend.read(out);
    for (const t of [tx, tm, out]) t.dispose();
    return values;
  };
  const actual = await run(gpu, x, m);
  const expected = await run(cpu, x, m);
  const absProduct = await run(cpu, absArray(x), absArray(m));
  expectClose(actual, expected, TOL_QUADFORM, `quadForm ${label(c)}`, dotBound(absProduct, roundingDepth(c.d)));
}

describeBackends('quadForm', function () {
  this.timeout(120_000);

  const small: Case[] = [
    { rows: 1, arms: 1, d: 1, perArm: false },
    { rows: 1, arms: 1, d: 1, perArm: true },
    { rows: 1, arms: 1, d: 4, perArm: false },
    { rows: 7, arms: 13, d: 5, perArm: false },
    { rows: 7, arms: 13, d: 5, perArm: true },
    { rows: 3, arms: 65, d: 8, perArm: false },
    { rows: 4, arms: 64, d: 4, perArm: true },
    { rows: 5, arms: 3, d: 2, perArm: false },
    { rows: 2, arms: 9, d: 3, perArm: true },
    { rows: 9, arms: 100, d: 16, perArm: false },
    { rows: 9, arms: 100, d: 16, perArm: true },
    { rows: 256, arms: 10, d: 12, perArm: false },
    { rows: 6, arms: 33, d: 63, perArm: false },
    { rows: 1, arms: 130, d: 64, perArm: false, spd: true },
    { rows: 5, arms: 70, d: 64, perArm: true },
    { rows: 4, arms: 7, d: 128, perArm: false, spd: true },
    { rows: 1, arms: 3, d: 127, perArm: true },
  ];
  it('matches the float64 twin: K=1, d=1, B=1, odd sizes, d not a multiple of 4, shared and per arm', async () => {
    let seed = 10;
    for (const c of small) await checkAgainstTwin(c, (seed += 7));
  });

  it('handles the largest M the binding cap allows (d=64, shared x, B past one row tile)', async () => {
    const d = 64;
    const arms = Math.floor(maxTestBindingBytes() / (4 * d * d));
    await checkAgainstTwin({ rows: 5, arms, d, perArm: false }, 901);
  });

  it('handles the largest M the binding cap allows with per-arm x', async () => {
    const d = 64;
    const arms = Math.floor(maxTestBindingBytes() / (4 * d * d));
    await checkAgainstTwin({ rows: 2, arms, d, perArm: true }, 902);
  });

  it('handles more arms than 65535 workgroups cover in one dimension (d=1)', async () => {
    // 64 invocations a workgroup, one arm each at B=1: past 65535·64 arms the grid goes 2-D.
    await checkAgainstTwin({ rows: 1, arms: 65535 * 64 + 1000, d: 1, perArm: false }, 903);
  });

  it('computes the true form of a non-symmetric M and overwrites a given out', async () => {
    const { gpu } = backends();
    // xᵀMx with M = [[1, 2], [0, 3]]: x = (1, 1) gives 6, x = (2, -1) gives 4 - 4 + 3 = 3.
    const x = gpu.tensor([1, 1, 2, -1], [2, 2]);
    const m = gpu.tensor([1, 2, 0, 3], [1, 2, 2]);
    const out = gpu.tensor([NaN, NaN], [2, 1]);
    expect(quadForm(gpu, x, m, { out })).to.equal(out);
    expect(Array.from(await gpu.read(out))).to.deep.equal([6, 3]);
    for (const t of [x, m, out]) t.dispose();
  });

  it('refuses a wrong d, a per-arm shape mismatch, non-square m and a wrong out', () => {
    const { gpu } = backends();
    const made: Tensor[] = [];
    const t = (shape: number[], dtype: 'f32' | 'i32' = 'f32') => {
      const v = gpu.zeros(shape, { dtype });
      made.push(v);
      return v;
    };
    const m = t([3, 4, 4]);
    expect(() => quadForm(gpu, t([2, 5]), m)).to.throw(BanditError, /x must be B×4/);
    expect(() => quadForm(gpu, t([2, 4]), m, { perArm: true })).to.throw(BanditError, /perArm, x must be B×3×4/);
    expect(() => quadForm(gpu, t([2, 2, 4]), m, { perArm: true })).to.throw(BanditError, /perArm/);
    expect(() => quadForm(gpu, t([2, 3, 4]), m)).to.throw(BanditError, /x must be B×4/);
    expect(() => quadForm(gpu, t([2, 4]), t([3, 4, 5]))).to.throw(BanditError, /square/);
    expect(() => quadForm(gpu, t([2, 4]), m, { out: t([3, 2]) })).to.throw(BanditError, /out must be 2×3/);
    expect(() => quadForm(gpu, t([2, 4]), m, { out: t([2, 3], 'i32') })).to.throw(BanditError, /f32/);
    const { cpu } = backends();
    const foreign = cpu.zeros([2, 4]);
    expect(() => quadForm(gpu, foreign, m)).to.throw(BanditError, /another backend/);
    foreign.dispose();
    for (const v of made) v.dispose();
  });
});
