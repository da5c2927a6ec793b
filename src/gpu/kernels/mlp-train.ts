import { segmentIndex } from '../../core/segments.js';
import source from '../../../shaders/mlp-train.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { GRID, SEGMENTS, wgsl } from '../shader.js';
import { uniforms, type UniformFields, type UniformLayout } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import { BACKWARD_KERNELS, Scratch, actViews, dense, encodeForward, inputOf, whole, type View } from './mlp.js';
import type { GatherRowsArgs, MlpLayer, MlpLossArgs, OptimizerArgs, ScatterRowsArgs } from '../../core/op-args.js';
import type { Tensor } from '../../core/tensor.js';

// WebGPU implementations (see shaders/mlp-train.wgsl).

const WG = 64;
const code = wgsl(source, GRID, SEGMENTS);
const LossParams = uniforms('LossParams', { rows: 'u32', logistic: 'u32', scale: 'f32', weighted: 'u32' });
const GradParams = uniforms('GradParams', {
  rows: 'u32', nin: 'u32', nout: 'u32', chunkRows: 'u32', chunks: 'u32', unitBlocks: 'u32', colBlocks: 'u32',
  dOff: 'u32', dRow: 'u32', hOff: 'u32', hRow: 'u32', wOff: 'u32', bOff: 'u32', pStride: 'u32',
});
const SumParams = uniforms('SumParams', { outputs: 'u32', terms: 'u32', qStride: 'u32', kStride: 'u32', limit: 'u32', oOff: 'u32' });
const StepParams = uniforms('StepParams', {
  n: 'u32', flags: 'u32', lr: 'f32', decay: 'f32', beta1: 'f32', oneMinusBeta1: 'f32', beta2: 'f32', oneMinusBeta2: 'f32',
  c1: 'f32', c2: 'f32', eps: 'f32',
});
const RowParams = uniforms('RowParams', {
  count: 'u32', cols: 'u32', tableRows: 'u32', batchCols: 'u32', column: 'u32', segments: 'u32', scale: 'f32',
});
const trainKernel = <F extends UniformFields>(entryPoint: string, storage: readonly ('read' | 'rw')[], layout: UniformLayout<F>) => kernel({
  name: entryPoint, source: code, entryPoint, storage, workgroupSize: WG, uniforms: layout,
});
const RESIDUAL_KERNEL = trainKernel('lossResidual', ['read', 'read', 'rw', 'rw', 'read'], LossParams);
const WEIGHT_GRAD_KERNEL = trainKernel('weightGradPartial', ['read', 'read', 'rw'], GradParams);
const SUM_KERNEL = trainKernel('sumRuns', ['read', 'rw'], SumParams);
const SGD_KERNEL = trainKernel('sgdStep', ['read', 'read', 'rw'], StepParams);
const ADAM_KERNEL = trainKernel('adamStep', ['read', 'read', 'rw', 'rw', 'rw'], StepParams);
const GATHER_KERNEL = trainKernel('gatherRows', ['read', 'read', 'rw'], RowParams);
const SCATTER_SEGMENTS_KERNEL = trainKernel('scatterSegments', ['read', 'read', 'rw'], RowParams);
const SCATTER_OWNERS_KERNEL = trainKernel('scatterOwners', ['read', 'read', 'rw'], RowParams);

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
    params: { outputs: f.outputs, terms: f.terms, qStride: f.qStride, kStride: f.kStride, limit: f.limit, oOff: f.oOff ?? 0 },
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
    params: {
      rows, nin: layer.in, nout: layer.out, chunkRows, chunks, unitBlocks, colBlocks,
      dOff: delta.off, dRow: delta.row, hOff: input.off, hRow: input.row, wOff: layer.weightOffset, bOff: layer.biasOffset, pStride,
    },
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
    // Unweighted, the kernel never reads the weights: bind the targets there (two read-only bindings may share a buffer).
    const weights = a.weights ? bufferOf(a.weights) : bufferOf(a.targets);
    rt.dispatch({
      kernel: RESIDUAL_KERNEL, buffers: [f, bufferOf(a.targets), e, rowLoss, weights],
      params: { rows, logistic: a.loss === 'logistic' ? 1 : 0, scale: a.scale, weighted: a.weights ? 1 : 0 }, workgroups: Math.ceil(rows / WG),
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
    params: {
      n: a.n, flags: a.anchor ? 1 : 0, lr: a.lr, decay: a.decay, beta1: a.beta1, oneMinusBeta1: 1 - a.beta1,
      beta2: a.beta2, oneMinusBeta2: 1 - a.beta2, c1, c2, eps: a.eps,
    },
    workgroups: Math.ceil(a.n / WG),
  });
}

const rowParams = (count: number, cols: number, tableRows: number, batchCols: number, column: number, segments: number, scale: number) =>
  ({ count, cols, tableRows, batchCols, column, segments, scale });

/** A host index array as a buffer (no queue write, so the open step goes on), or the tensor's. */
function indexBuffer(rt: GpuRuntime, indices: Tensor | Int32Array, label: string): { buffer: GPUBuffer; temporary: boolean } {
  if (indices instanceof Int32Array) return { buffer: rt.upload(indices, label), temporary: true };
  return { buffer: bufferOf(indices), temporary: false };
}

export function gatherRowsWebGpu(rt: GpuRuntime, a: GatherRowsArgs): void {
  const idx = indexBuffer(rt, a.indices, 'gatherRows indices');
  rt.dispatch({
    kernel: GATHER_KERNEL, buffers: [bufferOf(a.src), idx.buffer, bufferOf(a.out)],
    params: rowParams(a.count, a.cols, a.srcRows, a.outCols, a.column, 0, 0),
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
      params: rowParams(a.count, a.cols, a.targetRows, a.rowCols, a.column, segments, a.scale),
      workgroups: Math.ceil((segments * a.cols) / WG),
    });
    rt.releaseBuffer(buffer);
    return;
  }
  rt.dispatch({
    kernel: SCATTER_OWNERS_KERNEL, buffers: [bufferOf(a.rows), bufferOf(a.indices), bufferOf(a.target)],
    params: rowParams(a.count, a.cols, a.targetRows, a.rowCols, a.column, 0, a.scale),
    workgroups: Math.ceil(a.count / WG),
  });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'mlpLossGradient' | 'optimizerStep' | 'gatherRows' | 'scatterAddRows'> = {
  ops: { mlpLossGradient: mlpLossGradientWebGpu, optimizerStep: optimizerStepWebGpu, gatherRows: gatherRowsWebGpu, scatterAddRows: scatterAddRowsWebGpu },
  kernels: [
    RESIDUAL_KERNEL, WEIGHT_GRAD_KERNEL, SUM_KERNEL, SGD_KERNEL, ADAM_KERNEL, GATHER_KERNEL, SCATTER_SEGMENTS_KERNEL, SCATTER_OWNERS_KERNEL,
  ],
};
