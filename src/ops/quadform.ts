import { BanditError } from '../core/errors.js';
import { asMatrices, checkTensor, checkTensors } from '../core/check.js';
import type { QuadFormArgs } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

export interface QuadFormOptions {
  /** x is B×K×d (one vector per row and matrix) instead of B×d shared by all K matrices. */
  readonly perArm?: boolean;
  /** Output B×K, overwritten. */
  readonly out?: Tensor;
}

/**
 * Batched quadratic form: out[i, k] = x_iᵀ M_k x_i for every row i and matrix k
 * (x_{i,k} with `perArm`). The UCB width of LinUCB is sqrt of this with M = A⁻¹.
 *
 * @example
 * const width2 = quadForm(backend, contexts, aInv);        // B×K
 */
export function quadForm(backend: Backend, x: Tensor, m: Tensor, options: QuadFormOptions = {}): Tensor {
  const op = 'quadForm';
  checkTensors(backend, op, { x, m });
  const M = asMatrices(m, 'm', op);
  if (M.rows !== M.cols) throw new BanditError(`quadForm: m must hold square matrices, got ${M.rows}×${M.cols}`);
  const d = M.rows, arms = M.batch, perArm = options.perArm ?? false;
  let rows: number;
  if (perArm) {
    if (x.shape.length !== 3 || x.shape[1] !== arms || x.shape[2] !== d) {
      throw new BanditError(`quadForm: with perArm, x must be B×${arms}×${d}, got [${x.shape.join(', ')}]`);
    }
    rows = x.shape[0]!;
  } else {
    if (x.shape.length !== 2 || x.shape[1] !== d) {
      throw new BanditError(`quadForm: x must be B×${d}, got [${x.shape.join(', ')}]`);
    }
    rows = x.shape[0]!;
  }
  let out = options.out;
  if (out) {
    checkTensor(backend, out, 'out', op);
    if (out.shape.length !== 2 || out.shape[0] !== rows || out.shape[1] !== arms) {
      throw new BanditError(`quadForm: out must be ${rows}×${arms}, got [${out.shape.join(', ')}]`);
    }
  } else {
    out = backend.zeros([rows, arms], { label: 'quadForm out' });
  }
  const args: QuadFormArgs = { x, m, out, rows, arms, d, perArm };
  backend.ops.quadForm(args);
  return out;
}
