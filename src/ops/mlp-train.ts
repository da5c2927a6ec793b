import source from '../../shaders/mlp-train.wgsl';
import { BanditError } from '../core/errors.js';
import { params, type GpuRuntime, type KernelDescriptor } from '../gpu/runtime.js';
import { checkTensor } from '../core/check.js';
import { bufferOf } from '../gpu/tensor.js';
import {
  BACKWARD_KERNELS, Scratch, activationShapes, actViews, allocate, baseArgs, checkDistinct, dense, encodeForward,
  inputOf, prepare, whole, type MlpShape, type View,
} from './mlp.js';
import { segmentIndex } from './rank1.js';
import type {
  Backend, GatherRowsArgs, MlpLayer, MlpLossArgs, OptimizerArgs, ScatterRowsArgs, Tensor,
} from '../core/op-args.js';

// ---------------------------------------------------------------------------------------------
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
}

const LOSSES: readonly MlpLoss[] = ['squared', 'logistic'];

/**
 * The gradient of a batch loss of the MLP of `mlpForward`: for the N rows of x and targets y,
 * scale·Σ_n ∇θ ℓ(f(x_n; θ), y_n) = scale·Σ_n e_n·∇θ f(x_n) (e_n the residual of the loss, see
 * MlpLossOptions), in one batched pass: forward, backward from δ_L = e_n, then per layer a
 * reduction over rows. Optionally also the loss scale·Σ_n ℓ_n and the input gradients. Returns the
 * gradient tensor (`out` when given).
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
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new BanditError(`${op}: scale must be a finite number, got ${String(scale)}`);
  checkTensor(backend, targets, 'targets', op);
  if (targets.size !== p.rows) throw new BanditError(`${op}: targets must hold one value a row of x (${p.rows}), got [${targets.shape.join(', ')}]`);
  const named: [string, Tensor][] = [['params', theta], ['x', x], ['targets', targets]];
  const { out, lossOut, inputGrad } = options;
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
  checkDistinct(op, named);
  const made = allocate(backend, [...(out ? [] : [[[p.layout.paramCount], `${op} gradient`] as [number[], string]]), ...activationShapes(p, op)]);
  const grad = out ?? made[0]!;
  const activations = made.slice(out ? 0 : 1);
  try {
    backend.ops.mlpLossGradient({
      ...baseArgs(theta, x, p, activations), targets, loss, scale, grad, lossOut: lossOut ?? null, inputGrad: inputGrad ?? null,
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
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new BanditError(`${op}: ${name} must be ${what}, got ${String(v)}`);
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
  checkDistinct(op, named);
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
  checkDistinct(op, named);
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
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new BanditError(`${op}: scale must be a finite number, got ${String(scale)}`);
  const named: [string, Tensor][] = [['rows', rows], ['target', target]];
  if (!(indices instanceof Int32Array)) named.push(['indices', indices]);
  checkDistinct(op, named);
  backend.ops.scatterAddRows({ rows, indices, target, count, cols: t.cols, targetRows: t.rows, rowCols: r.cols, column, scale });
}

// ---------------------------------------------------------------------------------------------
// WebGPU implementations (see shaders/train.wgsl).

const WG = 64;
const kernel = (entryPoint: string, storage: readonly ('read' | 'rw')[]): KernelDescriptor => ({
  name: entryPoint, source, entryPoint, storage, workgroupSize: WG,
});
const RESIDUAL_KERNEL = kernel('lossResidual', ['read', 'read', 'rw', 'rw']);
const WEIGHT_GRAD_KERNEL = kernel('weightGradPartial', ['read', 'read', 'rw']);
const SUM_KERNEL = kernel('sumRuns', ['read', 'rw']);
const SGD_KERNEL = kernel('sgdStep', ['read', 'read', 'rw']);
const ADAM_KERNEL = kernel('adamStep', ['read', 'read', 'rw', 'rw', 'rw']);
const GATHER_KERNEL = kernel('gatherRows', ['read', 'read', 'rw']);
const SCATTER_SEGMENTS_KERNEL = kernel('scatterSegments', ['read', 'read', 'rw']);
const SCATTER_OWNERS_KERNEL = kernel('scatterOwners', ['read', 'read', 'rw']);

/**
 * Rows a weightGradPartial invocation sums (split-K chunk): smaller chunks give more invocations
 * to spread over cores (and GPU lanes), larger ones fewer partial sums to add. Whole-op times on
 * SwiftShader (loaded 2-core box, best of 7) for chunks of 16 / 32 / 64 / 128 / 256 rows:
 * d = 24, hidden [64], N = 10⁴: 324 / 328 / 304 / 302 / 300 ms; d = 32, [100], N = 10⁴:
 * 665 / 558 / 499 / 536 / 547 ms; d = 32, [300, 300], N = 1000: 1788 / 1545 / 1216 / 1264 / 1444 ms.
 * A vec4-load variant measured no faster and was dropped.
 */
export const GRAD_CHUNK_ROWS = 64;
/** Rows a first-stage loss sum adds. */
const LOSS_RUN = 256;
/** Most bytes the per-chunk partial gradients may take (the chunk grows past GRAD_CHUNK_ROWS to stay under). */
const PARTIAL_CAP_BYTES = 64 * 1024 * 1024;
const NO_LIMIT = 0xffffffff;

function sumRuns(rt: GpuRuntime, input: GPUBuffer, out: GPUBuffer, f: { outputs: number; terms: number; qStride: number; kStride: number; limit: number; oOff?: number }): void {
  rt.dispatch({
    kernel: SUM_KERNEL, buffers: [input, out],
    uniforms: params('uuuuuu', f.outputs, f.terms, f.qStride, f.kStride, f.limit, f.oOff ?? 0),
    workgroups: Math.ceil(f.outputs / WG),
  });
}

/** Rows a gradient chunk sums, so that the partial sums of every chunk fit the cap. */
export function gradientChunkRows(rows: number, paramCount: number, bindingBytes: number): number {
  const maxChunks = Math.max(1, Math.floor(Math.min(PARTIAL_CAP_BYTES, bindingBytes) / (4 * paramCount)));
  return Math.max(GRAD_CHUNK_ROWS, Math.ceil(rows / maxChunks));
}

/** One layer's δ'ᵀ·[h | 1] over chunks of rows into `partial` (θ's layout, pStride a chunk). */
function encodeWeightGradient(rt: GpuRuntime, layer: MlpLayer, rows: number, chunkRows: number, delta: View, input: View, partial: GPUBuffer, pStride: number): void {
  const chunks = Math.ceil(rows / chunkRows);
  const unitBlocks = Math.ceil(layer.out / 4), colBlocks = Math.ceil((layer.in + 1) / 4);
  rt.dispatch({
    kernel: WEIGHT_GRAD_KERNEL, buffers: [delta.buffer, input.buffer, partial],
    uniforms: params(
      'uuuuuuuuuuuuuu', rows, layer.in, layer.out, chunkRows, chunks, unitBlocks, colBlocks,
      delta.off, delta.row, input.off, input.row, layer.weightOffset, layer.biasOffset, pStride,
    ),
    workgroups: Math.ceil((chunks * unitBlocks * colBlocks) / WG),
  });
}

export function mlpLossGradientWebGpu(rt: GpuRuntime, a: MlpLossArgs): void {
  const s = new Scratch(rt);
  try {
    const theta = bufferOf(a.params), rows = a.rows, layers = a.layers, L = layers.length, p = a.paramCount;
    const x = whole(a.x, layers[0]!.in), acts = actViews(a);
    const f = s.buffer(rows, 'mlpLossGradient f');
    encodeForward(rt, theta, layers, rows, x, acts, { buffer: f, off: 0, row: 1 });
    const e = s.buffer(rows, 'mlpLossGradient residuals'), rowLoss = s.buffer(rows, 'mlpLossGradient row losses');
    rt.dispatch({
      kernel: RESIDUAL_KERNEL, buffers: [f, bufferOf(a.targets), e, rowLoss],
      uniforms: params('uuf', rows, a.loss === 'logistic' ? 1 : 0, a.scale), workgroups: Math.ceil(rows / WG),
    });
    // δ'_l = e_n·δ_l: the backward pass of neural.wgsl with the residuals as δ_L.
    const residual: View = { buffer: e, off: 0, row: 1 };
    const deltas = s.deltas(layers, rows);
    const deltaOf = (l: number): View => (l === L - 1 ? residual : deltas[l]!);
    for (let l = L - 2; l >= 0; l--) {
      const next = layers[l + 1]!, units = layers[l]!.out, upstream = deltaOf(l + 1);
      dense(rt, BACKWARD_KERNELS, [upstream.buffer, theta, acts[l]!.buffer, deltas[l]!.buffer], {
        rows, nin: next.out, nout: units, aOff: upstream.off, aRow: upstream.row,
        wOff: next.weightOffset, wUnit: 1, wIn: units, mOff: acts[l]!.off, mRow: acts[l]!.row,
        oOff: deltas[l]!.off, oRow: deltas[l]!.row,
      });
    }
    if (a.inputGrad) {
      // ∇x = W_1ᵀ δ'_1 with no ReLU mask: the mask reads a row of ones (mRow 0).
      const first = layers[0]!, upstream = deltaOf(0);
      const ones = rt.upload(new Float32Array(first.in).fill(1), 'mlpLossGradient ones');
      dense(rt, BACKWARD_KERNELS, [upstream.buffer, theta, ones, bufferOf(a.inputGrad)], {
        rows, nin: first.out, nout: first.in, aOff: upstream.off, aRow: upstream.row,
        wOff: first.weightOffset, wUnit: 1, wIn: first.in, mOff: 0, mRow: 0, oOff: 0, oRow: first.in,
      });
      rt.releaseBuffer(ones);
    }
    const chunkRows = gradientChunkRows(rows, p, Math.min(rt.limits.maxStorageBufferBindingSize, rt.limits.maxBufferSize));
    const chunks = Math.ceil(rows / chunkRows);
    const partial = chunks === 1 ? bufferOf(a.grad) : s.buffer(chunks * p, 'mlpLossGradient partial gradients');
    layers.forEach((layer, l) => encodeWeightGradient(rt, layer, rows, chunkRows, deltaOf(l), inputOf(x, acts, l), partial, p));
    if (chunks > 1) sumRuns(rt, partial, bufferOf(a.grad), { outputs: p, terms: chunks, qStride: 1, kStride: p, limit: NO_LIMIT });
    if (a.lossOut) {
      const runs = Math.ceil(rows / LOSS_RUN);
      if (runs === 1) {
        sumRuns(rt, rowLoss, bufferOf(a.lossOut), { outputs: 1, terms: rows, qStride: rows, kStride: 1, limit: rows });
      } else {
        const runSums = s.buffer(runs, 'mlpLossGradient loss runs');
        sumRuns(rt, rowLoss, runSums, { outputs: runs, terms: LOSS_RUN, qStride: LOSS_RUN, kStride: 1, limit: rows });
        sumRuns(rt, runSums, bufferOf(a.lossOut), { outputs: 1, terms: runs, qStride: runs, kStride: 1, limit: runs });
      }
    }
  } finally {
    s.release();
  }
}

export function optimizerStepWebGpu(rt: GpuRuntime, a: OptimizerArgs): void {
  const theta = bufferOf(a.params), grad = bufferOf(a.grad);
  // Without an anchor the kernel never reads it: bind grad there (two read-only bindings may share a buffer).
  const anchor = a.anchor ? bufferOf(a.anchor) : grad;
  const adam = a.kind === 'adam';
  const c1 = adam ? 1 / (1 - a.beta1 ** a.step) : 0, c2 = adam ? 1 / (1 - a.beta2 ** a.step) : 0;
  rt.dispatch({
    kernel: adam ? ADAM_KERNEL : SGD_KERNEL,
    buffers: adam ? [grad, anchor, theta, bufferOf(a.m!), bufferOf(a.v!)] : [grad, anchor, theta],
    uniforms: params('uufffffffff', a.n, a.anchor ? 1 : 0, a.lr, a.decay, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, c1, c2, a.eps),
    workgroups: Math.ceil(a.n / WG),
  });
}

const rowUniforms = (count: number, cols: number, tableRows: number, batchCols: number, column: number, segments: number, scale: number) =>
  params('uuuuuuf', count, cols, tableRows, batchCols, column, segments, scale);

/** A host index array as a buffer (no queue write, so the open step goes on), or the tensor's. */
function indexBuffer(rt: GpuRuntime, indices: Tensor | Int32Array, label: string): { buffer: GPUBuffer; temporary: boolean } {
  if (indices instanceof Int32Array) return { buffer: rt.upload(indices, label), temporary: true };
  return { buffer: bufferOf(indices), temporary: false };
}

export function gatherRowsWebGpu(rt: GpuRuntime, a: GatherRowsArgs): void {
  const idx = indexBuffer(rt, a.indices, 'gatherRows indices');
  rt.dispatch({
    kernel: GATHER_KERNEL, buffers: [bufferOf(a.src), idx.buffer, bufferOf(a.out)],
    uniforms: rowUniforms(a.count, a.cols, a.srcRows, a.outCols, a.column, 0, 0),
    workgroups: Math.ceil((a.count * a.cols) / WG),
  });
  if (idx.temporary) rt.releaseBuffer(idx.buffer);
}

export function scatterAddRowsWebGpu(rt: GpuRuntime, a: ScatterRowsArgs): void {
  if (a.indices instanceof Int32Array) {
    const { index, segments } = segmentIndex(a.indices, a.targetRows);
    const buffer = rt.upload(index, 'scatterAddRows segments');
    rt.dispatch({
      kernel: SCATTER_SEGMENTS_KERNEL, buffers: [bufferOf(a.rows), buffer, bufferOf(a.target)],
      uniforms: rowUniforms(a.count, a.cols, a.targetRows, a.rowCols, a.column, segments, a.scale),
      workgroups: Math.ceil((segments * a.cols) / WG),
    });
    rt.releaseBuffer(buffer);
    return;
  }
  rt.dispatch({
    kernel: SCATTER_OWNERS_KERNEL, buffers: [bufferOf(a.rows), bufferOf(a.indices), bufferOf(a.target)],
    uniforms: rowUniforms(a.count, a.cols, a.targetRows, a.rowCols, a.column, 0, a.scale),
    workgroups: Math.ceil(a.count / WG),
  });
}

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [
  RESIDUAL_KERNEL, WEIGHT_GRAD_KERNEL, SUM_KERNEL, SGD_KERNEL, ADAM_KERNEL, GATHER_KERNEL, SCATTER_SEGMENTS_KERNEL, SCATTER_OWNERS_KERNEL,
];
