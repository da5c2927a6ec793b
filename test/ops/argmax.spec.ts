import { expect } from 'chai';
import { BanditError, type Backend } from '../../src/index.js';
import { rowArgmax } from '../../src/ops/index.js';
import { ARGMAX_SLICE } from '../../src/gpu/kernels/argmax.js';
import { TOL_EXACT, expectClose } from '../support/compare.js';
import { backends, maxTestBindingBytes, describeBackends } from '../support/fixture.js';
import { rng } from '../support/random.js';

const F32_MIN_SUBNORMAL = 2 ** -149;

/** Hand-written rows and the index each must give. */
const HAND_ROWS: { readonly row: number[]; readonly index: number; readonly why: string }[] = [
  { row: [3], index: 0, why: 'one entry' },
  { row: [NaN], index: -1, why: 'one NaN' },
  { row: [1, 5, 2, 5, 5], index: 1, why: 'ties go to the lowest index' },
  { row: [7, 7, 7, 7], index: 0, why: 'all equal' },
  { row: [NaN, 1, 2, 0], index: 2, why: 'NaN first' },
  { row: [1, 2, 0, NaN], index: 1, why: 'NaN last' },
  { row: [NaN, NaN, NaN], index: -1, why: 'all NaN' },
  { row: [NaN, -Infinity, NaN], index: 1, why: 'only -Inf besides NaN' },
  { row: [-Infinity, -Infinity, -Infinity], index: 0, why: 'all -Inf' },
  { row: [1, Infinity, NaN, Infinity, 3e38], index: 1, why: '+Inf wins, first of two' },
  { row: [-3e38, -Infinity, -1e-30], index: 2, why: 'negatives' },
  { row: [-0, 0, -0], index: 0, why: '-0 ties +0' },
  { row: [0, F32_MIN_SUBNORMAL, -F32_MIN_SUBNORMAL], index: 1, why: 'a subnormal beats zero' },
  { row: [-F32_MIN_SUBNORMAL, -0], index: 1, why: 'zero beats a negative subnormal' },
  { row: [NaN, -1, NaN, -1, NaN], index: 1, why: 'NaN between tied maxima' },
];

/** Rows of `cols` values drawn from a few levels, so ties, NaN and ±Inf fall anywhere. */
function scores(rows: number, cols: number, seed: number, specials = true): Float32Array {
  const r = rng(seed);
  const levels = [-2, -1, 0, 0.5, 1, 3];
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) {
    const u = r();
    out[i] = specials && u < 0.02 ? NaN : specials && u < 0.025 ? Infinity : specials && u < 0.03 ? -Infinity
      : levels[Math.floor(r() * levels.length)]! + (u < 0.5 ? 0 : Math.floor(r() * 4) / 8);
  }
  return out;
}

async function argmaxOn(backend: Backend, data: Float32Array, rows: number, cols: number): Promise<Int32Array> {
  const s = backend.tensor(data, [rows, cols]);
  const out = rowArgmax(backend, s);
  const values = (await backend.read(out)) as Int32Array;
  s.dispose();
  out.dispose();
  return values;
}

async function expectTwin(data: Float32Array, rows: number, cols: number, what: string): Promise<void> {
  const { gpu, cpu } = backends();
  const actual = await argmaxOn(gpu, data, rows, cols);
  const expected = await argmaxOn(cpu, data, rows, cols);
  expectClose(actual, expected, TOL_EXACT, `rowArgmax ${what} B=${rows} K=${cols}`);
}

describeBackends('rowArgmax', function () {
  this.timeout(120_000);

  it('the float64 twin gives the hand-written answers', async () => {
    const { cpu } = backends();
    for (const { row, index, why } of HAND_ROWS) {
      const got = await argmaxOn(cpu, Float32Array.from(row), 1, row.length);
      expect(got[0], why).to.equal(index);
    }
  });

  it('gives the hand-written answers on the GPU, in short rows and inside long ones', async () => {
    const { gpu } = backends();
    for (const { row, index, why } of HAND_ROWS) {
      const got = await argmaxOn(gpu, Float32Array.from(row), 1, row.length);
      expect(got[0], `${why} (short row)`).to.equal(index);
      // The same row padded with NaN at both ends, to reach the two-pass kernels (three slices)
      // with the entries at offsets that are not multiples of the slice count.
      const pad = ARGMAX_SLICE + 37;
      const long = new Float32Array(pad + row.length + pad).fill(NaN);
      long.set(row, pad);
      const gotLong = await argmaxOn(gpu, long, 1, long.length);
      expect(gotLong[0], `${why} (long row)`).to.equal(index < 0 ? -1 : pad + index);
    }
  });

  it('the maximum at either end of a long row, and a tie spread over slices', async () => {
    const { gpu } = backends();
    const cols = 1000;
    const slices = Math.ceil(cols / ARGMAX_SLICE);
    for (const at of [0, slices - 1, slices, slices + 1, cols - 1]) {
      const row = new Float32Array(cols).fill(-1);
      row[at] = 2;
      expect((await argmaxOn(gpu, row, 1, cols))[0], `max at ${at}`).to.equal(at);
    }
    // Slice s scans indices s, s + S, …: 2S is the first tie slice 0 sees and S + 1 the first of
    // slice 1, so folding slices in order must still pick S + 1 by its index.
    const row = new Float32Array(cols).fill(0);
    for (const at of [977, 2 * slices, slices + 1, 3 * slices + 2, 901]) row[at] = 5;
    expect((await argmaxOn(gpu, row, 1, cols))[0]).to.equal(slices + 1);
  });

  const shapes: [number, number][] = [
    [1, 1], [7, 1], [1, 10], [256, 10], [1, 10000], [3, ARGMAX_SLICE], [5, ARGMAX_SLICE + 1],
    [65, 63], [9, 129], [130, 1000], [3, 100003],
  ];
  it('matches the twin exactly over shapes (K=1, B=1, K not a multiple of the workgroup, K=100003)', async () => {
    let seed = 40;
    for (const [rows, cols] of shapes) await expectTwin(scores(rows, cols, (seed += 3)), rows, cols, 'shapes');
  });

  it('matches the twin exactly on distinct random values (no ties)', async () => {
    const r = rng(77);
    for (const [rows, cols] of [[64, 50], [4, 5000]] as const) {
      const data = Float32Array.from({ length: rows * cols }, () => r() * 2 - 1);
      await expectTwin(data, rows, cols, 'distinct');
    }
  });

  it('matches the twin at the binding cap: short rows past 65535 workgroups, 256 long rows, one 1M row', async () => {
    const elems = Math.floor(maxTestBindingBytes() / 4);
    // One invocation a row: 64·65535 rows needs a 2-D grid.
    const shortCols = 7, manyRows = Math.floor(elems / shortCols);
    await expectTwin(scores(manyRows, shortCols, 5), manyRows, shortCols, 'cap');
    const longCols = Math.floor(elems / 256);
    await expectTwin(scores(256, longCols, 6), 256, longCols, 'cap');
    await expectTwin(scores(1, 1 << 20, 7), 1, 1 << 20, 'one long row');
  });

  it('writes into a given out and refuses bad shapes and dtypes', async () => {
    const { gpu } = backends();
    const s = gpu.tensor([1, 3, 2, 9, 9, 0], [2, 3]);
    const out = gpu.tensor([-7, -7], [2], { dtype: 'i32' });
    expect(rowArgmax(gpu, s, out)).to.equal(out);
    expect(Array.from(await gpu.read(out))).to.deep.equal([1, 0]);
    const wrongSize = gpu.zeros([3], { dtype: 'i32' }), wrongType = gpu.zeros([2]), flat = gpu.zeros([6]);
    expect(() => rowArgmax(gpu, s, wrongSize)).to.throw(BanditError, /out must hold 2/);
    expect(() => rowArgmax(gpu, s, wrongType)).to.throw(BanditError, /i32/);
    expect(() => rowArgmax(gpu, flat)).to.throw(BanditError, /B×K/);
    expect(() => rowArgmax(gpu, out)).to.throw(BanditError, /f32/);
    for (const t of [s, out, wrongSize, wrongType, flat]) t.dispose();
  });
});
