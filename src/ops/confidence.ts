import { BanditError } from '../core/errors.js';
import { checkFiniteNumber, checkTensor } from '../core/check.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/**
 * The UCB of every row from its mean and squared width: out[n] = mean[n] + scale·sqrt(max(width2[n], 0)).
 * NeuralUCB's score f(x;θ) + ν·sqrt(gᵀZ⁻¹g / m) is this with scale = ν/√m. mean, width2 and out
 * have the same number of elements (any shapes); out is a new tensor shaped like mean if absent.
 *
 * @example
 * const ucb = confidenceScores(backend, output, bonus, nu / Math.sqrt(m));
 */
export function confidenceScores(backend: Backend, mean: Tensor, width2: Tensor, scale: number, out?: Tensor): Tensor {
  const op = 'confidenceScores';
  checkTensor(backend, mean, 'mean', op);
  checkTensor(backend, width2, 'width2', op);
  checkFiniteNumber(op, 'scale', scale);
  if (width2.size !== mean.size) throw new BanditError(`${op}: mean has ${mean.size} values but width2 has ${width2.size}`);
  if (out) {
    checkTensor(backend, out, 'out', op);
    if (out.size !== mean.size) throw new BanditError(`${op}: out has ${out.size} values, expected ${mean.size}`);
    if (out === mean || out === width2) throw new BanditError(`${op}: out must be a different tensor from mean and width2`);
  }
  const target = out ?? backend.zeros(mean.shape, { label: `${op} out` });
  backend.ops.confidenceScores({ mean, width2, out: target, rows: mean.size, scale });
  return target;
}

/**
 * Adds the scaled squared columns of J to a diagonal: z[q] += scale·Σ_n J[n, q]², rows in order.
 * NeuralUCB's diagonal Z ← Z + diag(g gᵀ)/m for the played rows' gradients g (scale = 1/m).
 *
 * @example
 * accumulateSquares(backend, zDiag, playedGradients, 1 / m);
 */
export function accumulateSquares(backend: Backend, z: Tensor, jac: Tensor, scale: number): void {
  const op = 'accumulateSquares';
  checkTensor(backend, z, 'z', op);
  checkTensor(backend, jac, 'jac', op);
  checkFiniteNumber(op, 'scale', scale);
  if (jac.shape.length !== 2 || jac.shape[1] !== z.size) {
    throw new BanditError(`${op}: jac must be N×${z.size} (a row per gradient), got [${jac.shape.join(', ')}]`);
  }
  if (jac === z) throw new BanditError(`${op}: z and jac must be different tensors`);
  backend.ops.accumulateSquares({ z, jac, rows: jac.shape[0]!, cols: z.size, scale });
}
