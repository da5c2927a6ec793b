import { expect } from 'chai';
import { createBackend, LinUCB, NeuralUCB, type Backend } from '../../src/index.js';
import { cholesky, diagonalBonus, gatherMatVec, gemm, inverseDrift, matVec, mlpForward, perArmGradients, scatterAddScaled,
  shermanMorrisonUpdate, spdInverse, symRank1Update } from '../../src/ops/index.js';
import type { WasmBackend } from '../../src/wasm/backend.js';
import { absArray, mlpTheta, spd, uniform } from '../support/random.js';
import { wasmBackend } from '../support/fixture.js';

// Every op the wasm backend splits over two threads (src/wasm/split.ts, ops.ts) gives the bits of
// one thread, above the split threshold (odd sizes, repeated arms in one update list, one arm
// taking every row), and the kernels named are the ones that were split.

type Case = { readonly name: string; readonly splits: readonly string[]; readonly run: (b: Backend) => Promise<ArrayLike<number>[]> };

const read = (b: Backend, ...ts: Parameters<Backend['read']>[0][]): Promise<ArrayLike<number>[]> => Promise.all(ts.map((t) => b.read(t)));
/** An update list of `n` rows over `arms` arms with repeats in no order (and arm 0 twice in a row). */
const armList = (n: number, arms: number): Int32Array => Int32Array.from({ length: n }, (_, u) => (u < 2 ? 0 : (u * 7919) % arms));

const D = 33;
const cases: Case[] = [
  { name: 'gemm by batch', splits: ['gemm'], run: (b) => read(b, gemm(b, b.tensor(uniform(3 * 64 * 65, 1), [3, 64, 65]), b.tensor(uniform(3 * 65 * 63, 2), [3, 65, 63]))) },
  { name: 'gemm by rows (101×80 · 80×73)', splits: ['gemm'], run: (b) => read(b, gemm(b, b.tensor(uniform(101 * 80, 3), [101, 80]), b.tensor(uniform(80 * 73, 4), [80, 73]))) },
  { name: 'gemm transA, one entry (not split)', splits: [], run: (b) => read(b, gemm(b, b.tensor(uniform(80 * 101, 3), [80, 101]), b.tensor(uniform(80 * 73, 4), [80, 73]), { transA: true })) },
  { name: 'matVec by batch', splits: ['mat_vec'], run: (b) => read(b, matVec(b, b.tensor(uniform(5 * 333 * 331, 5), [5, 333, 331]), b.tensor(uniform(5 * 331, 6), [5, 331]))) },
  { name: 'matVec by rows', splits: ['mat_vec'], run: (b) => read(b, matVec(b, b.tensor(uniform(1001 * 601, 7), [1001, 601]), b.tensor(uniform(601, 8), [601]))) },
  { name: 'cholesky', splits: ['cholesky'], run: (b) => { const f = cholesky(b, b.tensor(spd(41, 35, 9), [41, 35, 35])); return read(b, f.result, f.status); } },
  { name: 'spdInverse', splits: ['spd_inverse'], run: (b) => { const f = spdInverse(b, b.tensor(spd(21, D, 10), [21, D, D])); return read(b, f.result, f.status); } },
  { name: 'inverseDrift', splits: ['inverse_drift'], run: (b) => read(b, inverseDrift(b, b.tensor(spd(21, D, 11), [21, D, D]), b.tensor(spd(21, D, 12), [21, D, D]))) },
  {
    name: 'shermanMorrisonUpdate, repeated arms', splits: ['sherman_morrison'], run: (b) => {
      const m = b.tensor(spd(40, D, 13), [40, D, D]);
      shermanMorrisonUpdate(b, m, b.tensor(uniform(301 * D, 14), [301, D]), armList(301, 40));
      return read(b, m);
    },
  },
  {
    name: 'shermanMorrisonUpdate, one arm every row (one chunk: not split)', splits: [], run: (b) => {
      const m = b.tensor(spd(2, D, 15), [2, D, D]);
      shermanMorrisonUpdate(b, m, b.tensor(uniform(301 * D, 16).map((v) => v * 0.1), [301, D]), new Int32Array(301).fill(1));
      return read(b, m);
    },
  },
  {
    name: 'symRank1Update, repeated arms', splits: ['sym_rank1'], run: (b) => {
      const m = b.tensor(spd(50, D, 17), [50, D, D]);
      symRank1Update(b, m, b.tensor(uniform(603 * D, 18), [603, D]), armList(603, 50), 0.5);
      return read(b, m);
    },
  },
  {
    name: 'scatterAddScaled, repeated arms', splits: ['scatter_add_scaled'], run: (b) => {
      const v = b.tensor(uniform(97 * D, 19), [97, D]);
      scatterAddScaled(b, v, b.tensor(uniform(20_001 * D, 20), [20_001, D]), armList(20_001, 97), uniform(20_001, 21));
      return read(b, v);
    },
  },
  {
    name: 'gatherMatVec', splits: ['gather_mat_vec'], run: (b) => {
      const out = b.zeros([700, D]);
      gatherMatVec(b, b.tensor(spd(700, D, 22), [700, D, D]), b.tensor(uniform(700 * D, 23), [700, D]), out, Int32Array.from({ length: 700 }, (_, i) => 699 - i));
      return read(b, out);
    },
  },
  {
    name: 'mlpForward, perArmGradients and diagonalBonus by rows (p = 6501)', splits: ['mlp_forward', 'mlp_jacobian', 'mlp_diagonal_bonus'], run: (b) => {
      const shape = { dim: 63, hidden: [100] };
      const theta = b.tensor(mlpTheta(63, [100], 24), [6501]), x = b.tensor(uniform(101 * 63, 25), [101, 63]);
      const z = b.tensor(absArray(uniform(6501, 26)).map((v) => v + 0.5), [6501]);
      return read(b, mlpForward(b, theta, x, shape).output, perArmGradients(b, theta, x, shape), diagonalBonus(b, theta, x, z, shape));
    },
  },
];

describe('wasm backend: every split op gives the one-thread bits', function () {
  this.timeout(180_000);
  let two: WasmBackend;
  const split: string[] = [];
  before(async function () {
    two = (await createBackend({ kind: 'wasm', threads: 2 })) as WasmBackend;
    if (!two.threads) {
      two.dispose();
      this.skip();
    }
    const own = two.threads!.split.bind(two.threads);
    two.threads!.split = (name, args, plan) => {
      split.push(name);
      own(name, args, plan);
    };
  });
  after(() => two?.dispose());

  for (const c of cases) {
    it(`${c.name}: ${c.splits.length ? `split (${c.splits.join(', ')})` : 'one thread'}`, async () => {
      split.length = 0;
      const got = await c.run(two);
      const ran = [...new Set(split)];
      const want = await c.run(wasmBackend());
      expect(ran).to.deep.equal(c.splits);
      expect(got.length).to.equal(want.length);
      got.forEach((g, o) => {
        expect(g.length).to.equal(want[o]!.length);
        for (let i = 0; i < g.length; i++) if (!Object.is(g[i], want[o]![i])) expect.fail(`output ${o}[${i}]: ${g[i]} on two threads, ${want[o]![i]} on one`);
      });
    });
  }

  it('LinUCB (K = 300, d = 33, B = 256) and NeuralUCB (p = 6501, 100 arms) save the same bytes after rounds on one thread and on two', async () => {
    const one = wasmBackend();
    for (const make of [
      (b: Backend) => LinUCB.create(b, { arms: 300, dim: 33, alpha: 0.5 }),
      (b: Backend) => NeuralUCB.create(b, { dim: 63, hidden: [100], seed: 4, trainSteps: 2, batchSize: 32 }),
    ]) {
      const models = await Promise.all([make(two), make(one)]);
      const neural = models[0] instanceof NeuralUCB;
      split.length = 0;
      for (let round = 0; round < 3; round++) {
        const x = uniform(neural ? 100 * 63 : 256 * 33, 30 + round);
        const chosen = await Promise.all(models.map((m) => (neural ? (m as NeuralUCB).select(x, { arms: 100 }) : (m as LinUCB).select(x))));
        expect(Array.from(chosen[0]!)).to.deep.equal(Array.from(chosen[1]!));
        const r = Float32Array.from(chosen[0]!, (a) => (a % 3) / 2);
        if (neural) await Promise.all(models.map((m) => (m as NeuralUCB).update(chosen[0]!, x.subarray(chosen[0]![0]! * 63, (chosen[0]![0]! + 1) * 63), r)));
        else await Promise.all(models.map((m) => (m as LinUCB).update(chosen[0]!, x, r)));
      }
      expect(split.length).to.be.greaterThan(0);
      const [a, b] = await Promise.all(models.map((m) => m.save()));
      expect(a!.length).to.equal(b!.length);
      expect(a!.every((v, i) => v === b![i])).to.equal(true);
      models.forEach((m) => m.dispose());
    }
  });
});
