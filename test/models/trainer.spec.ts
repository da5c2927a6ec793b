import { expect } from 'chai';
import { Trainer, type Minibatches } from '../../src/models/trainer.js';
import { gatherRows } from '../../src/ops/mlp-train.js';
import { expectClose, type Tolerance } from '../support/compare.js';
import { cpuBackend, describeBackends, f32Backend } from '../support/fixture.js';
import { uniform } from '../support/random.js';
import { countingReads } from './counting.js';

/** The cpu backend against the same steps in plain float64: only the order of the sums differs. */
const TOL_CPU: Tolerance = { abs: 1e-12, rel: 1e-10 };
/** webgpu (f32) after a few steps of a 4-parameter linear model. */
const TOL_GPU: Tolerance = { abs: 1e-5, rel: 1e-4 };

const dim = 3, rows = 8, lr = 0.1, decay = 0.05;
/** Adam's β1, β2 and ε: optimizerStep's defaults. */
const B1 = 0.9, B2 = 0.999, EPS = 1e-8;

/**
 * The trainer's loop written plainly in float64 for the linear model f(x) = wᵀx + c (hidden []):
 * per batch the mean squared loss before the step, ∇ = mean((f − y)·[x, 1]) + decay·θ, then SGD or Adam.
 */
function reference(x: Float32Array, y: Float32Array, theta0: Float32Array, batches: Int32Array[], optimizer: 'sgd' | 'adam') {
  const theta = Float64Array.from(theta0), m = new Float64Array(dim + 1), v = new Float64Array(dim + 1);
  const losses: number[] = [];
  batches.forEach((batch, t) => {
    const g = new Float64Array(dim + 1);
    let loss = 0;
    for (const n of batch) {
      let f = theta[dim]!;
      for (let j = 0; j < dim; j++) f += theta[j]! * x[n * dim + j]!;
      const e = f - y[n]!;
      loss += (e * e) / 2 / batch.length;
      for (let j = 0; j < dim; j++) g[j]! += (e * x[n * dim + j]!) / batch.length;
      g[dim]! += e / batch.length;
    }
    losses.push(loss);
    for (let q = 0; q <= dim; q++) {
      const gq = g[q]! + decay * theta[q]!;
      if (optimizer === 'sgd') {
        theta[q] = theta[q]! - lr * gq;
        continue;
      }
      m[q] = B1 * m[q]! + (1 - B1) * gq;
      v[q] = B2 * v[q]! + (1 - B2) * gq * gq;
      const mh = m[q]! / (1 - B1 ** (t + 1)), vh = v[q]! / (1 - B2 ** (t + 1));
      theta[q] = theta[q]! - (lr * mh) / (Math.sqrt(vh) + EPS);
    }
  });
  return { theta, losses };
}

describeBackends('models: the trainer', function () {
  this.timeout(60_000);

  for (const kind of ['webgpu', 'cpu'] as const) {
    for (const optimizer of ['sgd', 'adam'] as const) {
      it(`${kind}, ${optimizer}: the minibatch loop equals the steps written plainly, with one readback a run`, async () => {
        const { backend: b, reads } = countingReads(kind === 'webgpu' ? f32Backend() : cpuBackend());
        const x = uniform(rows * dim, 1), y = uniform(rows, 2), start = uniform(dim + 1, 3);
        const made = [b.tensor(x, [rows, dim]), b.tensor(y, [rows]), b.tensor(start, [dim + 1]), b.zeros([dim + 1]), b.zeros([dim + 1]), b.zeros([dim + 1])];
        const [hx, hy, theta, grad, m, v] = made as [typeof made[0], typeof made[0], typeof made[0], typeof made[0], typeof made[0], typeof made[0]];
        const trainer = new Trainer(b, {
          label: 'Test', dim, hidden: [], loss: 'squared', optimizer, lr,
          theta: { value: theta, grad, ...(optimizer === 'adam' ? { moments: { m, v } } : {}) },
        });
        const source: Minibatches = {
          gather: (batch, bx, by) => {
            gatherRows(b, hx, batch, { out: bx });
            gatherRows(b, hy, batch, { out: by });
          },
        };
        try {
          const first = Int32Array.of(0, 1, 2, 3), second = Int32Array.of(7, 5, 3, 1, 6);
          // The same array twice in a row is not gathered again; a smaller last batch; then a full one again.
          const batches = [first, first, second, Int32Array.of(4, 6), first];
          const losses = await trainer.run(batches, source, { decay });
          expect(reads(), 'one readback for the run').to.equal(1);
          expect(trainer.steps).to.equal(batches.length);
          const want = reference(x, y, start, batches, optimizer);
          const tol = kind === 'cpu' ? TOL_CPU : TOL_GPU;
          expectClose(losses, want.losses, tol, 'the loss of each batch before its step');
          expectClose(await b.read(theta), want.theta, tol, 'θ after the run');
          // A second run continues the step count (Adam's t) and the kept tensors.
          const more = await trainer.run([second], source, { decay });
          const again = reference(x, y, start, [...batches, second], optimizer);
          expectClose(more, again.losses.slice(-1), tol, 'the loss of the next run');
          expectClose(await b.read(theta), again.theta, tol, 'θ after the next run');
          // Only the last batch's loss, read once.
          const before = reads();
          const last = await trainer.run([first, second], source, { decay, losses: 'last' });
          expect(reads() - before).to.equal(1);
          const third = reference(x, y, start, [...batches, second, first, second], optimizer);
          expectClose(last, third.losses.slice(-1), tol, 'the last loss alone');
          expectClose(await b.read(theta), third.theta, tol, 'θ after the third run');
          expect(await trainer.run([], source, { decay })).to.have.length(0);
        } finally {
          trainer.dispose();
          for (const t of made) t.dispose();
        }
      });
    }
  }
});
