import type { MlpArgs, MlpBonusArgs, MlpForwardArgs, MlpGradientArgs, MlpLayer } from '../core/op-args.js';
import { f64 } from './tensor.js';

// The float64 twins of the MLP ops, row by row. ReLU as in the shader: σ(z) = z unless z ≤ 0
// (so NaN passes), σ'(z) = 1 exactly where h = σ(z) > 0 (σ'(0) = 0).

/** Layer l's input row: x_n for l = 0, else h_l of row n. */
function inputRow(a: MlpArgs, l: number, n: number): { data: Float64Array; off: number } {
  if (l === 0) return { data: f64(a.x), off: n * a.layers[0]!.in };
  return { data: f64(a.activations[l - 1]!), off: n * a.layers[l - 1]!.out };
}

function forwardRow(a: MlpArgs, n: number, out: Float64Array, outOff: number): void {
  const th = f64(a.params);
  a.layers.forEach((layer, l) => {
    const last = l === a.layers.length - 1;
    const { data: h, off } = inputRow(a, l, n);
    const target = last ? out : f64(a.activations[l]!);
    const tOff = last ? outOff : n * layer.out;
    for (let i = 0; i < layer.out; i++) {
      const w = layer.weightOffset + i * layer.in;
      let z = 0;
      for (let j = 0; j < layer.in; j++) z += th[w + j]! * h[off + j]!;
      z += th[layer.biasOffset + i]!;
      target[tOff + i] = !last && z <= 0 ? 0 : z;
    }
  });
}

export function mlpForwardF64(a: MlpForwardArgs): void {
  const out = f64(a.out);
  for (let n = 0; n < a.rows; n++) forwardRow(a, n, out, n);
}

/** δ_1 … δ_{L−1} of row n (δ_L = 1), from the activations. */
function backwardRow(a: MlpArgs, n: number, deltas: Float64Array[]): void {
  const th = f64(a.params);
  const L = a.layers.length;
  for (let l = L - 2; l >= 0; l--) {
    const next: MlpLayer = a.layers[l + 1]!, units = a.layers[l]!.out;
    const h = f64(a.activations[l]!);
    for (let i = 0; i < units; i++) {
      let s = 0;
      for (let k = 0; k < next.out; k++) s += th[next.weightOffset + k * units + i]! * (l + 1 === L - 1 ? 1 : deltas[l + 1]![k]!);
      deltas[l]![i] = h[n * units + i]! > 0 ? s : 0;
    }
  }
}

/** Calls `visit(l, δ_l, input row)` for every layer of row n after its backward pass. */
function gradientRows(a: MlpGradientArgs, visit: (n: number, l: number, delta: Float64Array | null, h: Float64Array, off: number) => void, rowByRow: boolean): void {
  const deltas = a.layers.slice(0, -1).map((layer) => new Float64Array(layer.out));
  const scratch = new Float64Array(a.rows);
  if (a.forward && !rowByRow) for (let n = 0; n < a.rows; n++) forwardRow(a, n, scratch, n);
  for (let n = 0; n < a.rows; n++) {
    if (a.forward && rowByRow) forwardRow(a, n, scratch, n);
    backwardRow(a, n, deltas);
    a.layers.forEach((_, l) => {
      const { data, off } = inputRow(a, l, n);
      visit(n, l, l === a.layers.length - 1 ? null : deltas[l]!, data, off);
    });
  }
}

function jacobian(a: MlpGradientArgs, rowByRow: boolean): void {
  const jac = f64(a.out), p = a.paramCount;
  gradientRows(a, (n, l, delta, h, off) => {
    const layer = a.layers[l]!, row = n * p;
    for (let i = 0; i < layer.out; i++) {
      const d = delta ? delta[i]! : 1;
      const w = row + layer.weightOffset + i * layer.in;
      for (let j = 0; j < layer.in; j++) jac[w + j] = d * h[off + j]!;
      jac[row + layer.biasOffset + i] = d;
    }
  }, rowByRow);
}

export function mlpJacobianF64(a: MlpGradientArgs): void {
  jacobian(a, false);
}

/** Same values as mlpJacobianF64, each row's forward pass run just before its backward pass. */
export function mlpKPassJacobianF64(a: MlpGradientArgs): void {
  jacobian(a, true);
}

/** Σ_l Σ_i δ_{l,i}²·(Σ_j h_{l−1,j}²/Z_W[i, j] + 1/Z_c[i]) per row, no Jacobian held. */
export function mlpDiagonalBonusF64(a: MlpBonusArgs): void {
  const z = f64(a.z), out = f64(a.out);
  out.fill(0, 0, a.rows);
  gradientRows(a, (n, l, delta, h, off) => {
    const layer = a.layers[l]!;
    let total = 0;
    for (let i = 0; i < layer.out; i++) {
      const d = delta ? delta[i]! : 1;
      const w = layer.weightOffset + i * layer.in;
      let s = 1 / z[layer.biasOffset + i]!;
      for (let j = 0; j < layer.in; j++) s += (h[off + j]! * h[off + j]!) / z[w + j]!;
      total += d * d * s;
    }
    out[n] = out[n]! + total;
  }, false);
}
