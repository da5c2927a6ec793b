import { expect } from 'chai';
import { BanditError, LinUCB } from '../../src/index.js';
import { diagonalBonus, gemm, mlpLayout, mlpLossGradient, perArmGradients, sampleArms } from '../../src/ops/index.js';
import type { OpName } from '../../src/core/op-args.js';
import { CPU_OPS } from '../../src/cpu/backend.js';
import { WasmBackend } from '../../src/wasm/backend.js';
import { instantiateKernels } from '../../src/wasm/module.js';
import { expectClose, TOL_EXACT, type Tolerance } from '../support/compare.js';
import { wasmBackend } from '../support/fixture.js';
import { uniform } from '../support/random.js';

/** The twin adapter rounds a float64 result once; the native kernels round every step (model-level slack as the model specs allow). */
const TOL_TWIN_VS_NATIVE: Tolerance = { abs: 2e-4, rel: 2e-4 };

/** The ops of the registry when the wasm kernels were written: each has a kernel of its own. */
const OPS_WITH_KERNELS: readonly OpName[] = [
  'gemm', 'matVec', 'quadForm', 'shermanMorrison', 'symRank1', 'rowArgmax', 'cholesky', 'spdInverse', 'axpy', 'scale',
  'ucbScores', 'scatterAddScaled', 'gatherMatVec', 'discountedUpdate', 'inverseDrift', 'hybridScores', 'hybridArmUpdate',
  'scatterOuterAdd', 'mlpForward', 'mlpJacobian', 'mlpKPassJacobian', 'mlpDiagonalBonus', 'mlpLossGradient', 'optimizerStep',
  'gatherRows', 'scatterAddRows', 'confidenceScores', 'accumulateSquares', 'sampleArms', 'sampleScores', 'thompsonPropensities',
  'posteriorDraws', 'accumulateOuter', 'accurateResidual', 'refineSolve',
];

describe('wasm backend', function () {
  this.timeout(120_000);

  it('every op of the registry is served: a kernel for each op it had when they were written, the twin adapter for later ones', () => {
    const w = wasmBackend();
    expect(Object.keys(w.ops).sort()).to.deep.equal(Object.keys(CPU_OPS).sort());
    for (const name of OPS_WITH_KERNELS) expect(w.twinOps, `${name} has a kernel`).not.to.include(name);
    expect(w.info.twinOps).to.deep.equal(w.twinOps);
    for (const name of w.twinOps) expect(w.info.summary).to.include(name);
    expect(w.info.kind).to.equal('wasm');
  });

  it('the twin adapter gives the kernels\' results (LinUCB rounds, the MLP ops, a slate draw) with inputs untouched', async () => {
    const native = wasmBackend();
    const twin = new WasmBackend(await instantiateKernels(), { twinOps: Object.keys(CPU_OPS) as OpName[] });
    expect(twin.twinOps.length).to.equal(Object.keys(CPU_OPS).length);
    expect(twin.info.summary).to.match(/through the float64 twin/);
    // LinUCB rounds end to end; the MLP ops at op level (a trained NeuralUCB is not compared: its
    // trainer stops on loss values, and an f32 loss of 0 against float64's 1e−34 changes how long).
    const rounds = async (b: WasmBackend): Promise<Float32Array[]> => {
      const K = 7, d = 9, out: Float32Array[] = [];
      const model = await LinUCB.create(b, { arms: K, dim: d });
      for (let round = 0; round < 5; round++) {
        const x = uniform(d, 100 + round);
        out.push((await model.scores(x)) as Float32Array);
        await model.update(Int32Array.of((await model.select(x))[0]!), x, Float32Array.of(round % 2));
      }
      model.dispose();
      return out;
    };
    const a = await rounds(native), b = await rounds(twin);
    a.forEach((s, i) => expectClose(b[i]!, s, TOL_TWIN_VS_NATIVE, `LinUCB round ${i}: twin adapter vs kernels`));
    const dim = 6, hidden = [11, 5], rows = 9, { paramCount } = mlpLayout(dim, hidden);
    const mlp = async (w: WasmBackend) => {
      const theta = w.tensor(uniform(paramCount, 1), [paramCount]), x = w.tensor(uniform(rows * dim, 2), [rows, dim]);
      const y = w.tensor(uniform(rows, 3), [rows]), z = w.tensor(uniform(paramCount, 4).map((v) => v + 1), [paramCount]);
      const results = [
        mlpLossGradient(w, theta, x, y, { dim, hidden, loss: 'logistic', scale: 0.5 }),
        perArmGradients(w, theta, x, { dim, hidden }),
        diagonalBonus(w, theta, x, z, { dim, hidden }),
      ];
      const read = await Promise.all(results.map((t) => w.read(t)));
      for (const t of [theta, x, y, z, ...results]) t.dispose();
      return read;
    };
    const [n1, n2] = [await mlp(native), await mlp(twin)];
    n1.forEach((v, i) => expectClose(n2[i]!, v, TOL_TWIN_VS_NATIVE, `MLP op ${i}: twin adapter vs kernels`));
    const scores = uniform(3 * 50, 7);
    const t1 = native.tensor(scores, [3, 50]), t2 = twin.tensor(scores, [3, 50]);
    const policy = { kind: 'softmax', temperature: 0.3 } as const, key = { seed: 5, step: 2 };
    const d1 = sampleArms(native, t1, { policy, key, k: 4 }), d2 = sampleArms(twin, t2, { policy, key, k: 4 });
    expect(Array.from(await twin.read(d2.arms))).to.deep.equal(Array.from(await native.read(d1.arms)));
    expectClose(await twin.read(d2.propensities), await native.read(d1.propensities), TOL_EXACT, 'propensities (both float64 over f32 scores)');
    expectClose(await twin.read(t2), scores, TOL_EXACT, 'the adapter leaves its inputs as they were');
    twin.dispose();
  });

  it('the calibration kernel computes its eight chains (f32, x ← x·a + b)', () => {
    const { kernels } = wasmBackend();
    const a = 0.5, b = 0.25, iters = 37;
    let expected = 0;
    for (let chain = 0; chain < 8; chain++) {
      for (let lane = 0; lane < 4; lane++) {
        let x = Math.fround(Math.fround(0.1 * (lane + 1)) + chain * b);
        for (let i = 0; i < iters; i++) x = Math.fround(Math.fround(x * a) + b);
        expected += x;
      }
    }
    expect(kernels.calibrate_fma(iters, a, b)).to.be.closeTo(expected, 1e-5);
  });

  it('tensors keep their values when the memory grows and their regions are reused after dispose', async () => {
    const w = new WasmBackend(await instantiateKernels());
    const small = w.tensor(uniform(1000, 1), [1000]);
    const before = w.kernels.memory.buffer.byteLength;
    const big = w.zeros([64, 1024, 1024]);
    expect(w.kernels.memory.buffer.byteLength).to.be.greaterThan(before);
    expectClose(await w.read(small), uniform(1000, 1), TOL_EXACT, 'small tensor after memory.grow');
    const used = w.heap.used;
    big.dispose();
    expect(w.heap.used).to.equal(used - 64 * 1024 * 1024 * 4);
    const again = w.zeros([32, 1024, 1024]);
    expect(w.kernels.memory.buffer.byteLength, 'the freed region is reused').to.equal(w.kernels.memory.buffer.byteLength);
    const a = w.tensor(uniform(6, 2), [2, 3]), b = w.tensor(uniform(6, 3), [3, 2]);
    const c = gemm(w, a, b);
    expect((await w.read(c)).length).to.equal(4);
    for (const t of [small, again, a, b, c]) t.dispose();
    expect(w.heap.used).to.equal(0);
    w.dispose();
    expect(() => w.zeros([2])).to.throw(BanditError, /disposed/);
  });

  it('refuses a tensor over its per-tensor limit and tensors of other backends with BanditError', async () => {
    const w = wasmBackend();
    expect(() => w.zeros([w.maxBindingBytes / 4 + 1])).to.throw(BanditError, /over the wasm backend's/);
    const other = new WasmBackend(await instantiateKernels());
    const foreign = other.tensor([1, 2, 3, 4], [2, 2]);
    expect(() => gemm(w, foreign, foreign)).to.throw(BanditError, /belongs to another backend/);
    other.dispose();
  });
});
