import type { GatherRowsArgs, MlpLossArgs, OptimizerArgs, ScatterRowsArgs } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import { segmentIndex } from '../core/segments.js';
import { f64, i32 } from './tensor.js';

// The float64 twins of the training ops, with the kernels' semantics: ReLU σ(z) = z unless z ≤ 0,
// σ'(z) = 1 exactly where h > 0; the same formulas for the losses and the optimisers.

/** log(1 + e^{−|f|}) and σ(f) as the kernel forms them (σ on the side where exp cannot overflow). */
function logistic(f: number): { sigma: number; softplusTail: number } {
  const z = Math.exp(-Math.abs(f));
  return { sigma: f >= 0 ? 1 / (1 + z) : z / (1 + z), softplusTail: Math.log1p(z) };
}

export function mlpLossGradientF64(a: MlpLossArgs): void {
  const th = f64(a.params), x = f64(a.x), y = f64(a.targets), grad = f64(a.grad);
  const layers = a.layers, L = layers.length, dim = layers[0]!.in;
  const inputGrad = a.inputGrad ? f64(a.inputGrad) : null;
  const weights = a.weights ? f64(a.weights) : null;
  // Per row: the activations h_0 = x_n … h_{L−1}, then δ'_L = e_n … δ'_1.
  const h = layers.map((l) => new Float64Array(l.in));
  const delta = layers.map((l) => new Float64Array(l.out));
  const acc = new Float64Array(a.paramCount);
  let lossSum = 0;
  for (let n = 0; n < a.rows; n++) {
    h[0]!.set(x.subarray(n * dim, (n + 1) * dim));
    let f = 0;
    layers.forEach((layer, l) => {
      const input = h[l]!, last = l === L - 1;
      for (let i = 0; i < layer.out; i++) {
        const w = layer.weightOffset + i * layer.in;
        let z = 0;
        for (let j = 0; j < layer.in; j++) z += th[w + j]! * input[j]!;
        z += th[layer.biasOffset + i]!;
        if (last) f = z;
        else h[l + 1]![i] = z <= 0 ? 0 : z;
      }
    });
    const t = y[n]!;
    let e: number, loss: number;
    if (a.loss === 'logistic') {
      const { sigma, softplusTail } = logistic(f);
      e = sigma - t;
      loss = Math.max(f, 0) - t * f + softplusTail;
    } else {
      e = f - t;
      loss = 0.5 * e * e;
    }
    const w = weights ? weights[n]! : 1;
    lossSum += a.scale * (w * loss);
    delta[L - 1]![0] = a.scale * (w * e);
    for (let l = L - 2; l >= 0; l--) {
      const next = layers[l + 1]!, units = layers[l]!.out, up = delta[l + 1]!, hl = h[l + 1]!;
      for (let i = 0; i < units; i++) {
        let s = 0;
        for (let k = 0; k < next.out; k++) s += th[next.weightOffset + k * units + i]! * up[k]!;
        delta[l]![i] = hl[i]! > 0 ? s : 0;
      }
    }
    layers.forEach((layer, l) => {
      const d = delta[l]!, input = h[l]!;
      for (let i = 0; i < layer.out; i++) {
        const w = layer.weightOffset + i * layer.in, di = d[i]!;
        for (let j = 0; j < layer.in; j++) acc[w + j] = acc[w + j]! + di * input[j]!;
        acc[layer.biasOffset + i] = acc[layer.biasOffset + i]! + di;
      }
    });
    if (inputGrad) {
      const first = layers[0]!, d = delta[0]!;
      for (let j = 0; j < dim; j++) {
        let s = 0;
        for (let i = 0; i < first.out; i++) s += th[first.weightOffset + i * dim + j]! * d[i]!;
        inputGrad[n * dim + j] = s;
      }
    }
  }
  grad.set(acc);
  if (a.lossOut) f64(a.lossOut)[0] = lossSum;
}

export function optimizerStepF64(a: OptimizerArgs): void {
  const th = f64(a.params), g = f64(a.grad), anchor = a.anchor ? f64(a.anchor) : null;
  const m = a.m ? f64(a.m) : null, v = a.v ? f64(a.v) : null;
  const c1 = 1 / (1 - a.beta1 ** a.step), c2 = 1 / (1 - a.beta2 ** a.step);
  for (let i = 0; i < a.n; i++) {
    const theta = th[i]!;
    const gt = g[i]! + a.decay * (anchor ? theta - anchor[i]! : theta);
    if (a.kind === 'sgd') {
      th[i] = theta - a.lr * gt;
      continue;
    }
    const mi = a.beta1 * m![i]! + (1 - a.beta1) * gt;
    const vi = a.beta2 * v![i]! + (1 - a.beta2) * (gt * gt);
    m![i] = mi;
    v![i] = vi;
    th[i] = theta - a.lr * ((mi * c1) / (Math.sqrt(vi * c2) + a.eps));
  }
}

const indexArray = (indices: Tensor | Int32Array): Int32Array => (indices instanceof Int32Array ? indices : i32(indices));

export function gatherRowsF64(a: GatherRowsArgs): void {
  const src = f64(a.src), out = f64(a.out), idx = indexArray(a.indices);
  for (let n = 0; n < a.count; n++) {
    const r = idx[n]!, o = n * a.outCols + a.column;
    const inside = r >= 0 && r < a.srcRows;
    for (let j = 0; j < a.cols; j++) out[o + j] = inside ? src[r * a.cols + j]! : 0;
  }
}

export function scatterAddRowsF64(a: ScatterRowsArgs): void {
  const rows = f64(a.rows), target = f64(a.target), idx = indexArray(a.indices);
  // The same grouping as the kernels (it changes no sum: rows of one target are added in order).
  const outside = idx.map((r) => (r >= 0 && r < a.targetRows ? r : -1));
  const { index, segments } = segmentIndex(outside, a.targetRows);
  const rows0 = 2 * segments + 1;
  for (let s = 0; s < segments; s++) {
    const at = index[s]! * a.cols;
    for (let k = index[segments + s]!; k < index[segments + s + 1]!; k++) {
      const from = index[rows0 + k]! * a.rowCols + a.column;
      for (let j = 0; j < a.cols; j++) target[at + j] = target[at + j]! + a.scale * rows[from + j]!;
    }
  }
}
