import { BanditError } from '../core/errors.js';
import { checkTensor, isFiniteF32 } from '../core/check.js';
import { checkDistinct } from '../core/check.js';
import { activationShapes, allocate, baseArgs, prepare, type MlpShape } from './mlp.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

// Public functions. Everything is validated before any work, so bad input leaves every tensor as
// it was. Values inside tensors (NaN, targets outside [0, 1] for the logistic loss, indices of an
// i32 tensor) are not looked at: that would need a readback.

/** The two losses of `mlpLossGradient`, on the network's scalar output f. */
export type MlpLoss = 'squared' | 'logistic';

export interface MlpLossOptions extends MlpShape {
  /**
   * 'squared': ℓ = (f − y)²/2, residual e = f − y. 'logistic': binary cross-entropy of the logit f
   * against y in [0, 1], ℓ = log(1 + e^f) − y·f, residual e = σ(f) − y.
   */
  readonly loss: MlpLoss;
  /** Weight of every row (e.g. 1/N for a mean). Default 1. */
  readonly scale?: number;
  /** Where to write ∇θ (p values); a new tensor if absent. */
  readonly out?: Tensor;
  /** A one-element tensor that receives scale·Σ_n ℓ_n. */
  readonly lossOut?: Tensor;
  /** A tensor of x's shape that receives scale·e_n·∇x f(x_n) (to backpropagate into embeddings). */
  readonly inputGrad?: Tensor;
  /**
   * Per-row weights w_n (one value a row of x; finite, ≥ 0 by the caller's choice): row n's
   * residual and loss become w_n·e_n and w_n·ℓ_n, the gradient of the weighted loss
   * scale·Σ_n w_n·ℓ_n. Absent: every w_n = 1 (and a weight of 1 gives the unweighted values bit for bit).
   */
  readonly weights?: Tensor;
}

const LOSSES: readonly MlpLoss[] = ['squared', 'logistic'];

/**
 * The gradient of a batch loss of the MLP of `mlpForward`: for the N rows of x and targets y,
 * scale·Σ_n w_n·∇θ ℓ(f(x_n; θ), y_n) = scale·Σ_n w_n·e_n·∇θ f(x_n) (e_n the residual of the loss,
 * w_n the optional row weights, 1 by default; see MlpLossOptions), in one batched pass: forward,
 * backward from δ_L = w_n·e_n, then per layer a reduction over rows. Optionally also the loss
 * scale·Σ_n w_n·ℓ_n and the input gradients. Returns the gradient tensor (`out` when given).
 *
 * @example
 * const grad = mlpLossGradient(backend, theta, x, clicks, { dim: 24, hidden: [64], loss: 'logistic', scale: 1 / 256, lossOut });
 * optimizerStep(backend, { params: theta, grad, kind: 'adam', state: { m, v }, lr: 1e-2, step: 1 });
 */
export function mlpLossGradient(backend: Backend, theta: Tensor, x: Tensor, targets: Tensor, options: MlpLossOptions): Tensor {
  const op = 'mlpLossGradient';
  const p = prepare(backend, op, theta, x, options);
  const loss = options.loss;
  if (!LOSSES.includes(loss)) throw new BanditError(`${op}: loss must be 'squared' or 'logistic', got ${String(loss)}`);
  const scale = options.scale ?? 1;
  if (!isFiniteF32(scale)) throw new BanditError(`${op}: scale must be a finite number, got ${String(scale)}`);
  checkTensor(backend, targets, 'targets', op);
  if (targets.size !== p.rows) throw new BanditError(`${op}: targets must hold one value a row of x (${p.rows}), got [${targets.shape.join(', ')}]`);
  const named: [string, Tensor][] = [['params', theta], ['x', x], ['targets', targets]];
  const { out, lossOut, inputGrad, weights } = options;
  if (weights !== undefined) {
    checkTensor(backend, weights, 'weights', op);
    if (weights.size !== p.rows) throw new BanditError(`${op}: weights must hold one value a row of x (${p.rows}), got [${weights.shape.join(', ')}]`);
    named.push(['weights', weights]);
  }
  if (out !== undefined) {
    checkTensor(backend, out, 'out', op);
    if (out.size !== p.layout.paramCount || out.shape.length !== 1) {
      throw new BanditError(`${op}: out must be [${p.layout.paramCount}], got [${out.shape.join(', ')}]`);
    }
    named.push(['out', out]);
  }
  if (lossOut !== undefined) {
    checkTensor(backend, lossOut, 'lossOut', op);
    if (lossOut.size !== 1) throw new BanditError(`${op}: lossOut must hold one value, got [${lossOut.shape.join(', ')}]`);
    named.push(['lossOut', lossOut]);
  }
  if (inputGrad !== undefined) {
    checkTensor(backend, inputGrad, 'inputGrad', op);
    if (inputGrad.shape.length !== x.shape.length || inputGrad.shape.some((v, i) => v !== x.shape[i])) {
      throw new BanditError(`${op}: inputGrad must have x's shape [${x.shape.join(', ')}], got [${inputGrad.shape.join(', ')}]`);
    }
    named.push(['inputGrad', inputGrad]);
  }
  checkDistinct(op, ...named);
  const made = allocate(backend, [...(out ? [] : [[[p.layout.paramCount], `${op} gradient`] as [number[], string]]), ...activationShapes(p, op)]);
  const grad = out ?? made[0]!;
  const activations = made.slice(out ? 0 : 1);
  try {
    backend.ops.mlpLossGradient({
      ...baseArgs(theta, x, p, activations), targets, loss, scale, grad, lossOut: lossOut ?? null, inputGrad: inputGrad ?? null,
      weights: weights ?? null,
    });
  } catch (e) {
    if (!out) grad.dispose();
    throw e;
  } finally {
    for (const t of activations) t.dispose();
  }
  return grad;
}

export interface AdamState {
  /** First and second moment estimates, one value a parameter, zeros before the first step. */
  readonly m: Tensor;
  readonly v: Tensor;
}

export interface OptimizerStepOptions {
  /** θ, updated in place. */
  readonly params: Tensor;
  /** ∇θ of the loss, as many values as params. */
  readonly grad: Tensor;
  readonly kind: 'sgd' | 'adam';
  /** Step size (≥ 0). */
  readonly lr: number;
  /** Adam's moments (required for 'adam', refused for 'sgd', which keeps no state). */
  readonly state?: AdamState;
  /** Adam's decay rates in [0, 1). Defaults 0.9 and 0.999. */
  readonly beta1?: number;
  readonly beta2?: number;
  /** Adam's denominator offset (> 0). Default 1e-8. */
  readonly eps?: number;
  /** Adam's step number t ≥ 1 (1 for the first step), for the bias corrections 1/(1 − β^t). */
  readonly step?: number;
  /**
   * Weight of the regulariser (decay/2)·‖θ − anchor‖², added to the gradient as decay·(θ − anchor)
   * (≥ 0). Default 0. Without anchor it is L2 decay towards 0; with anchor = θ₀ it is NeuralUCB's
   * mλ‖θ − θ₀‖²/2 (decay = mλ).
   */
  readonly decay?: number;
  readonly anchor?: Tensor;
}

/**
 * One optimiser step on θ in place: g̃ = grad + decay·(θ − anchor), then SGD θ ← θ − lr·g̃ or
 * Adam (Kingma & Ba 2015, Algorithm 1: m ← β1·m + (1 − β1)·g̃, v ← β2·v + (1 − β2)·g̃²,
 * θ ← θ − lr·m̂/(sqrt(v̂) + eps), m̂ = m/(1 − β1^t), v̂ = v/(1 − β2^t)). One elementwise dispatch.
 *
 * @example
 * const m = backend.zeros([p]), v = backend.zeros([p]);
 * for (let t = 1; t <= 100; t++) {
 *   mlpLossGradient(backend, theta, x, y, { dim, hidden, loss: 'squared', scale: 1 / n, out: grad });
 *   optimizerStep(backend, { params: theta, grad, kind: 'adam', state: { m, v }, lr: 1e-3, step: t, decay: 1e-4, anchor: theta0 });
 * }
 */
export function optimizerStep(backend: Backend, options: OptimizerStepOptions): void {
  const op = 'optimizerStep';
  if (!options || typeof options !== 'object') throw new BanditError(`${op}: options are required ({ params, grad, kind, lr, … })`);
  const { params: theta, grad, kind, state, anchor } = options;
  if (kind !== 'sgd' && kind !== 'adam') throw new BanditError(`${op}: kind must be 'sgd' or 'adam', got ${String(kind)}`);
  checkTensor(backend, theta, 'params', op);
  checkTensor(backend, grad, 'grad', op);
  const n = theta.size;
  const named: [string, Tensor][] = [['params', theta], ['grad', grad]];
  const sameSize = (t: Tensor, name: string) => {
    checkTensor(backend, t, name, op);
    if (t.size !== n) throw new BanditError(`${op}: ${name} holds ${t.size} values, params ${n}`);
    named.push([name, t]);
  };
  if (grad.size !== n) throw new BanditError(`${op}: grad holds ${grad.size} values, params ${n}`);
  const num = (name: string, v: unknown, fallback: number, ok: (v: number) => boolean, what: string): number => {
    if (v === undefined) return fallback;
    if (!isFiniteF32(v) || !ok(v)) throw new BanditError(`${op}: ${name} must be ${what}, got ${String(v)}`);
    return v;
  };
  if (options.lr === undefined) throw new BanditError(`${op}: lr is required`);
  const lr = num('lr', options.lr, 0, (v) => v >= 0, 'a finite number ≥ 0');
  const decay = num('decay', options.decay, 0, (v) => v >= 0, 'a finite number ≥ 0');
  const beta1 = num('beta1', options.beta1, 0.9, (v) => v >= 0 && v < 1, 'in [0, 1)');
  const beta2 = num('beta2', options.beta2, 0.999, (v) => v >= 0 && v < 1, 'in [0, 1)');
  const eps = num('eps', options.eps, 1e-8, (v) => v > 0, 'a finite number > 0');
  let m: Tensor | null = null, v: Tensor | null = null, step = 0;
  if (kind === 'adam') {
    if (!state || typeof state !== 'object') throw new BanditError(`${op}: adam needs state { m, v } (zeros before the first step)`);
    sameSize(state.m, 'state.m');
    sameSize(state.v, 'state.v');
    m = state.m;
    v = state.v;
    if (options.step === undefined) throw new BanditError(`${op}: adam needs step (t ≥ 1) for its bias correction`);
    step = num('step', options.step, 1, (s) => Number.isInteger(s) && s >= 1, 'an integer ≥ 1');
  } else if (state !== undefined) {
    throw new BanditError(`${op}: sgd keeps no state; pass state only with kind 'adam'`);
  }
  if (anchor !== undefined) sameSize(anchor, 'anchor');
  checkDistinct(op, ...named);
  backend.ops.optimizerStep({ params: theta, grad, m, v, anchor: anchor ?? null, kind, n, lr, beta1, beta2, eps, step, decay });
}

/** A table seen as rows×cols: rank 1 is a column (cols = 1). */
function asTable(t: Tensor, name: string, op: string): { rows: number; cols: number } {
  if (t.shape.length === 1) return { rows: t.shape[0]!, cols: 1 };
  if (t.shape.length === 2) return { rows: t.shape[0]!, cols: t.shape[1]! };
  throw new BanditError(`${op}: ${name} must be rank 1 (rows) or 2 (rows×cols), got [${t.shape.join(', ')}]`);
}

function checkIndices(backend: Backend, op: string, indices: Tensor | Int32Array, tableRows: number, table: string): number {
  if (indices instanceof Int32Array) {
    for (let n = 0; n < indices.length; n++) {
      const r = indices[n]!;
      if (r < 0 || r >= tableRows) throw new BanditError(`${op}: indices[${n}] = ${r} is out of range 0..${tableRows - 1} (the rows of ${table})`);
    }
    return indices.length;
  }
  checkTensor(backend, indices, 'indices', op, 'i32');
  if (indices.shape.length !== 1) throw new BanditError(`${op}: an indices tensor must be rank 1, got [${indices.shape.join(', ')}]`);
  return indices.size;
}

function checkColumn(op: string, column: unknown, cols: number, wide: number, what: string): number {
  const c = column ?? 0;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) throw new BanditError(`${op}: column must be an integer ≥ 0, got ${String(c)}`);
  if (c + cols > wide) throw new BanditError(`${op}: columns ${c}..${c + cols - 1} do not fit ${what} rows of ${wide}`);
  return c;
}

export interface GatherRowsOptions {
  /** Where to write: N rows at least column + cols wide (or [N] when cols = 1 and column = 0); a new N×cols tensor (or [N] for a rank-1 src) if absent. */
  readonly out?: Tensor;
  /** The first column of out's rows that receives the row (the rest of each row is left as it was). Default 0. */
  readonly column?: number;
}

/**
 * out[n, column + j] = src[indices[n], j]: a minibatch of rows of a table kept on the backend (the
 * history, an embedding table). `indices` is a host Int32Array (checked: an index out of range
 * throws) or an i32 tensor on the backend (not read back: an index out of range gives a row of
 * zeros). A rank-1 src is a column (one value a row). Returns out.
 *
 * @example
 * // x = [userEmb[u] | itemEmb[i]] for a batch
 * gatherRows(backend, userEmb, users, { out: x, column: 0 });
 * gatherRows(backend, itemEmb, items, { out: x, column: 8 });
 */
export function gatherRows(backend: Backend, src: Tensor, indices: Tensor | Int32Array, options: GatherRowsOptions = {}): Tensor {
  const op = 'gatherRows';
  checkTensor(backend, src, 'src', op);
  const table = asTable(src, 'src', op);
  const count = checkIndices(backend, op, indices, table.rows, 'src');
  if (count === 0) throw new BanditError(`${op}: indices is empty`);
  const named: [string, Tensor][] = [['src', src]];
  if (!(indices instanceof Int32Array)) named.push(['indices', indices]);
  let out = options.out, outCols = table.cols;
  let column = 0;
  if (out !== undefined) {
    checkTensor(backend, out, 'out', op);
    const o = asTable(out, 'out', op);
    if (o.rows !== count) throw new BanditError(`${op}: out must have ${count} rows (one an index), got [${out.shape.join(', ')}]`);
    column = checkColumn(op, options.column, table.cols, o.cols, 'out');
    outCols = o.cols;
    named.push(['out', out]);
  } else if (options.column !== undefined && options.column !== 0) {
    throw new BanditError(`${op}: column needs an out tensor`);
  }
  checkDistinct(op, ...named);
  out ??= backend.zeros(src.shape.length === 1 ? [count] : [count, table.cols], { label: `${op} out` });
  backend.ops.gatherRows({ src, indices, out, count, cols: table.cols, srcRows: table.rows, outCols, column });
  return out;
}

export interface ScatterAddRowsOptions {
  /** Factor of every added row. Default 1. */
  readonly scale?: number;
  /** The first column of each of rows' rows that is added (rows may be wider than target). Default 0. */
  readonly column?: number;
}

/**
 * target[indices[n], j] += scale·rows[n, column + j] for every row n, in order: rows that share an
 * index are added one after another in batch order (deterministic, no atomics). `indices` is a
 * host Int32Array (checked; the rows are grouped on the host, linear work) or an i32 tensor (not
 * read back: an index out of range is skipped; O(N²) index comparisons, for small batches).
 * Rank-1 tensors are columns.
 *
 * @example
 * // the embedding gradient from the MLP's input gradient (columns 0..7 are the user embedding)
 * scatterAddRows(backend, inputGrad, users, userGrad, { column: 0 });
 */
export function scatterAddRows(backend: Backend, rows: Tensor, indices: Tensor | Int32Array, target: Tensor, options: ScatterAddRowsOptions = {}): void {
  const op = 'scatterAddRows';
  checkTensor(backend, rows, 'rows', op);
  checkTensor(backend, target, 'target', op);
  const t = asTable(target, 'target', op), r = asTable(rows, 'rows', op);
  const count = checkIndices(backend, op, indices, t.rows, 'target');
  if (r.rows !== count) throw new BanditError(`${op}: ${r.rows} rows but ${count} indices`);
  const column = checkColumn(op, options.column, t.cols, r.cols, 'rows\'');
  const scale = options.scale ?? 1;
  if (!isFiniteF32(scale)) throw new BanditError(`${op}: scale must be a finite number, got ${String(scale)}`);
  const named: [string, Tensor][] = [['rows', rows], ['target', target]];
  if (!(indices instanceof Int32Array)) named.push(['indices', indices]);
  checkDistinct(op, ...named);
  backend.ops.scatterAddRows({ rows, indices, target, count, cols: t.cols, targetRows: t.rows, rowCols: r.cols, column, scale });
}
