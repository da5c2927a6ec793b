import { BanditError } from '../core/errors.js';
import { checkDistinct, checkTensor } from '../core/check.js';
import type { MlpArgs, MlpForwardArgs, MlpGradientArgs, MlpLayer } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

export type { MlpLayer } from '../core/op-args.js';

// The parameter layout and the public functions. Everything is validated before any work, so bad
// input leaves every tensor as it was. NaN and ±Inf inside tensors are not looked for (that would
// need a readback): the model validates host data before it uploads it. Past that, WGSL lets
// the GPU assume finite math, so what a NaN becomes there is not specified.

/** The network's shape: input width and hidden widths (an empty list is the linear model wᵀx + c). */
export interface MlpShape {
  readonly dim: number;
  readonly hidden: readonly number[];
}

/** Where each layer's weights and bias sit in θ, and p = paramCount, the number of parameters. */
export interface MlpLayout {
  readonly layers: readonly MlpLayer[];
  readonly paramCount: number;
}

/**
 * The layout of θ, one flat f32 tensor of p values: for each layer l = 1 … L (L = hidden.length
 * + 1, widths n_0 = dim, n_l = hidden[l−1], n_L = 1) the weights W_l, n_l × n_{l−1} row-major
 * (W_l[i, j] at weightOffset + i·n_{l−1} + j), then the bias c_l (c_l[i] at biasOffset + i),
 * then the next layer. Column q of the Jacobian is the derivative by θ[q].
 *
 * @example
 * const { layers, paramCount } = mlpLayout(2, [3]);
 * // layers[0]: W_1 3×2 at 0, c_1 at 6; layers[1]: W_2 1×3 at 9, c_2 at 12; paramCount 13
 */
export function mlpLayout(dim: number, hidden: readonly number[]): MlpLayout {
  checkWidths('mlpLayout', dim, hidden);
  const widths = [dim, ...hidden, 1];
  const layers: MlpLayer[] = [];
  let offset = 0;
  for (let l = 1; l < widths.length; l++) {
    const inputs = widths[l - 1]!, units = widths[l]!;
    layers.push({ in: inputs, out: units, weightOffset: offset, biasOffset: offset + inputs * units });
    offset += (inputs + 1) * units;
  }
  return { layers, paramCount: offset };
}

export interface MlpForwardOptions extends MlpShape {
  /** Also return h_1 … h_{L−1} (what perArmGradients and diagonalBonus can reuse). Default false. */
  readonly saveActivations?: boolean;
}

export interface MlpForwardResult {
  /** f(x_n; θ) for every row: x's shape without its last axis (N, or B×K). */
  readonly output: Tensor;
  /** With saveActivations: h_l = σ(z_l) of each hidden layer, N × n_l; else empty. */
  readonly activations: Tensor[];
}

export interface MlpGradientOptions extends MlpShape {
  /**
   * h_1 … h_{L−1} from `mlpForward(…, { saveActivations: true })` on this θ and x: skips the
   * forward pass. Without them the forward pass runs first (into temporaries).
   */
  readonly activations?: readonly Tensor[];
  /** Where to write the result (same shape as the returned one); a new tensor if absent. */
  readonly out?: Tensor;
}

const isWidth = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1;

export function checkWidths(op: string, dim: unknown, hidden: unknown): void {
  if (!isWidth(dim)) throw new BanditError(`${op}: dim must be an integer ≥ 1, got ${dim}`);
  if (!Array.isArray(hidden)) throw new BanditError(`${op}: hidden must be an array of widths (e.g. [100]), got ${String(hidden)}`);
  hidden.forEach((h: unknown, l) => {
    if (!isWidth(h)) throw new BanditError(`${op}: hidden[${l}] must be an integer ≥ 1, got ${h}`);
  });
}

export interface Prepared {
  readonly layout: MlpLayout;
  readonly rows: number;
  readonly rowShape: number[];
}

export function prepare(backend: Backend, op: string, theta: Tensor, x: Tensor, options: MlpShape): Prepared {
  checkTensor(backend, theta, 'params', op);
  checkTensor(backend, x, 'x', op);
  const dim = options?.dim, hidden = options?.hidden;
  checkWidths(op, dim, hidden);
  const layout = mlpLayout(dim, hidden);
  if (theta.size !== layout.paramCount) {
    throw new BanditError(
      `${op}: params holds ${theta.size} values, but dim ${dim} and hidden [${hidden.join(', ')}] need ${layout.paramCount}`,
    );
  }
  if (x.shape.length < 2 || x.shape[x.shape.length - 1] !== dim) {
    throw new BanditError(`${op}: x must be N×${dim} (or B×K×${dim}), got [${x.shape.join(', ')}]`);
  }
  const rowShape = x.shape.slice(0, -1);
  return { layout, rows: rowShape.reduce((a, b) => a * b, 1), rowShape };
}


function checkActivations(backend: Backend, op: string, acts: readonly Tensor[], p: Prepared): void {
  const hidden = p.layout.layers.slice(0, -1);
  if (!Array.isArray(acts) || acts.length !== hidden.length) {
    throw new BanditError(`${op}: activations must be ${hidden.length} tensors (one a hidden layer), got ${Array.isArray(acts) ? acts.length : String(acts)}`);
  }
  acts.forEach((t, l) => {
    checkTensor(backend, t, `activations[${l}]`, op);
    const units = hidden[l]!.out;
    if (t.shape.length !== 2 || t.shape[0] !== p.rows || t.shape[1] !== units) {
      throw new BanditError(`${op}: activations[${l}] must be ${p.rows}×${units}, got [${t.shape.join(', ')}]`);
    }
  });
}

export function checkOut(backend: Backend, op: string, out: Tensor, shape: readonly number[]): void {
  checkTensor(backend, out, 'out', op);
  if (out.shape.length !== shape.length || out.shape.some((v, i) => v !== shape[i])) {
    throw new BanditError(`${op}: out must be [${shape.join(', ')}], got [${out.shape.join(', ')}]`);
  }
}

/** New tensors, all or none: if one cannot be made (over the device's limits), those made are freed. */
export function allocate(backend: Backend, wanted: readonly [readonly number[], string][]): Tensor[] {
  const made: Tensor[] = [];
  try {
    for (const [shape, label] of wanted) made.push(backend.zeros(shape, { label }));
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
  return made;
}

export const activationShapes = (p: Prepared, op: string): [number[], string][] =>
  p.layout.layers.slice(0, -1).map((layer, l) => [[p.rows, layer.out], `${op} h${l + 1}`]);

export function baseArgs(theta: Tensor, x: Tensor, p: Prepared, activations: readonly Tensor[]): MlpArgs {
  return { params: theta, x, rows: p.rows, layers: p.layout.layers, paramCount: p.layout.paramCount, activations };
}

/**
 * The MLP's output f(x_n; θ) = W_L σ(… σ(W_1 x_n + c_1) …) + c_L for every row of x (N×dim or
 * B×K×dim), with σ = ReLU (σ(z) = z for z > 0, else 0). θ is laid out as `mlpLayout` says.
 *
 * @example
 * const { output, activations } = mlpForward(backend, theta, armFeatures, { dim: 32, hidden: [100], saveActivations: true });
 * const bonus = diagonalBonus(backend, theta, armFeatures, zDiag, { dim: 32, hidden: [100], activations });
 */
export function mlpForward(backend: Backend, theta: Tensor, x: Tensor, options: MlpForwardOptions): MlpForwardResult {
  const op = 'mlpForward';
  const p = prepare(backend, op, theta, x, options);
  const save = options.saveActivations ?? false;
  if (typeof save !== 'boolean') throw new BanditError(`${op}: saveActivations must be a boolean, got ${String(save)}`);
  const [output, ...activations] = allocate(backend, [[p.rowShape, `${op} output`], ...activationShapes(p, op)]);
  const args: MlpForwardArgs = { ...baseArgs(theta, x, p, activations), out: output! };
  backend.ops.mlpForward(args);
  if (!save) {
    for (const t of activations) t.dispose();
    return { output: output!, activations: [] };
  }
  return { output: output!, activations };
}

function gradientCall(
  backend: Backend, op: string, theta: Tensor, x: Tensor, options: MlpGradientOptions, z: Tensor | null,
  outShape: (p: Prepared) => number[], run: (args: MlpGradientArgs, z: Tensor | null) => void, allowActivations = true,
): Tensor {
  const p = prepare(backend, op, theta, x, options);
  const named: [string, Tensor][] = [['params', theta], ['x', x]];
  if (z) {
    checkTensor(backend, z, 'z', op);
    if (z.size !== p.layout.paramCount || z.shape.length !== 1) {
      throw new BanditError(`${op}: z (the diagonal of Z) must be [${p.layout.paramCount}], got [${z.shape.join(', ')}]`);
    }
    named.push(['z', z]);
  }
  const given = options.activations;
  if (given !== undefined) {
    if (!allowActivations) throw new BanditError(`${op}: takes no activations (it runs its own forward pass a row)`);
    checkActivations(backend, op, given, p);
    given.forEach((t, l) => named.push([`activations[${l}]`, t]));
  }
  const shape = outShape(p);
  if (options.out !== undefined) {
    checkOut(backend, op, options.out, shape);
    named.push(['out', options.out]);
  }
  checkDistinct(op, ...named);
  const made = allocate(backend, [
    ...(options.out ? [] : [[shape, `${op} out`] as [number[], string]]), ...(given ? [] : activationShapes(p, op)),
  ]);
  const out = options.out ?? made[0]!;
  const activations = given ?? made.slice(options.out ? 0 : 1);
  try {
    run({ ...baseArgs(theta, x, p, activations), out, forward: given === undefined }, z);
  } catch (e) {
    if (!options.out) out.dispose();
    throw e;
  } finally {
    if (given === undefined) for (const t of activations) t.dispose();
  }
  return out;
}

/**
 * The per-row gradients ∇θ f(x_n; θ) of every row of x in one batched pass: the N×p Jacobian J,
 * J[n, q] = ∂f(x_n)/∂θ[q]. Backprop of the scalar output gives δ_L = 1 and
 * δ_l = (W_{l+1}ᵀ δ_{l+1}) ⊙ σ'(z_l) with σ'(z) = 1 for z > 0, else 0 (so σ'(0) = 0); layer l's
 * block of row n is the outer product δ_l ⊗ h_{l−1} (h_0 = x_n) and its bias block δ_l. A constant
 * number of dispatches whatever N (compare kPassGradients). N·p·4 bytes must fit one storage
 * binding: for large N·p use diagonalBonus, which never holds J.
 *
 * @example
 * const J = perArmGradients(backend, theta, armFeatures, { dim: 32, hidden: [100] }); // K×3401
 */
export function perArmGradients(backend: Backend, theta: Tensor, x: Tensor, options: MlpGradientOptions): Tensor {
  return gradientCall(backend, 'perArmGradients', theta, x, options, null, (p) => [p.rows, p.layout.paramCount], (a) => backend.ops.mlpJacobian(a));
}

/**
 * The naive baseline of the "K-pass problem", kept for the benchmark and the tests: the same N×p
 * Jacobian as perArmGradients, computed the way a per-arm autograd loop does it, one forward and
 * one backward pass (a dispatch sequence) for each row in turn, each writing its row of J. Its
 * cost grows with N in dispatches; do not use it for work.
 *
 * @example
 * const slow = kPassGradients(backend, theta, armFeatures, { dim: 32, hidden: [100] }); // equals perArmGradients
 */
export function kPassGradients(backend: Backend, theta: Tensor, x: Tensor, options: MlpShape & { readonly out?: Tensor }): Tensor {
  return gradientCall(
    backend, 'kPassGradients', theta, x, options as MlpGradientOptions, null,
    (p) => [p.rows, p.layout.paramCount], (a) => backend.ops.mlpKPassJacobian({ ...a, forward: true }), false,
  );
}

/**
 * The diagonal confidence of every row, matrix-free: bonus_n = Σ_q J[n, q]² / Z[q] with z the
 * diagonal of Z (p values > 0), i.e. Σ_l Σ_ij δ_{l,i}²·h_{l−1,j}² / Z_{W_l}[i, j] + Σ_i δ_{l,i}² / Z_{c_l}[i],
 * without ever holding the N×p Jacobian: per layer a GEMM of the squared inputs with 1/Z, weighted
 * by δ². NeuralUCB's score is then f + ν·sqrt(bonus / m).
 *
 * @example
 * const bonus = diagonalBonus(backend, theta, armFeatures, zDiag, { dim: 32, hidden: [100] }); // K values
 */
export function diagonalBonus(backend: Backend, theta: Tensor, x: Tensor, z: Tensor, options: MlpGradientOptions): Tensor {
  return gradientCall(backend, 'diagonalBonus', theta, x, options, z, (p) => p.rowShape, (a, zd) => backend.ops.mlpDiagonalBonus({ ...a, z: zd! }));
}
