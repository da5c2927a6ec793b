import source from '../../shaders/mlp.wgsl';
import { BanditError } from '../core/errors.js';
import { params, type GpuRuntime, type KernelDescriptor } from '../gpu/runtime.js';
import { checkTensor } from '../core/check.js';
import { bufferOf } from '../gpu/tensor.js';
import type { Backend, MlpArgs, MlpBonusArgs, MlpForwardArgs, MlpGradientArgs, MlpLayer, Tensor } from '../core/op-args.js';

export type { MlpLayer } from '../core/op-args.js';

// ---------------------------------------------------------------------------------------------
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

export function checkDistinct(op: string, named: [string, Tensor][]): void {
  for (let i = 0; i < named.length; i++) {
    for (let j = i + 1; j < named.length; j++) {
      if (named[i]![1] === named[j]![1]) throw new BanditError(`${op}: ${named[i]![0]} and ${named[j]![0]} must be different tensors`);
    }
  }
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
  checkDistinct(op, named);
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

// ---------------------------------------------------------------------------------------------
// WebGPU implementations: a layer a dispatch, all rows at once (see shaders/neural.wgsl).

const WG = 64;
/** Rows and units of the register tile of the dense kernels (fixed in the shader). */
export const TILE = 4;
const UNIT_INPUT = 1, RELU = 2, UNIT_DELTA = 4;

const kernel = (name: string, entryPoint: string, storage: readonly ('read' | 'rw')[]): KernelDescriptor => ({
  name, source, entryPoint, storage, workgroupSize: WG,
});
/** Scalar-load and vec4-load variants of each GEMM-shaped kernel. */
export interface Variants { readonly scalar: KernelDescriptor; readonly vec4: KernelDescriptor }
/**
 * Rows of a tile in the vec4 kernels: two 4-row halves share each W load. Measured on SwiftShader
 * (K = 1000, d = 32, hidden [100]; and hidden [64, 64]) as fast or faster than 4 rows: forward
 * 6.8 vs 8.0 ms, bonus 11.2 vs 13.3 ms (best of 15).
 */
const VEC4_ROWS = 8;
const variants = (name: string, entryPoint: string, storage: readonly ('read' | 'rw')[]): Variants => ({
  scalar: kernel(name, entryPoint, storage),
  vec4: { ...kernel(`${name}Vec4`, `${entryPoint}Vec4`, storage), constants: { ROWS: VEC4_ROWS } },
});
export const FORWARD_KERNELS = variants('mlpForwardLayer', 'denseForward', ['read', 'read', 'rw']);
export const BACKWARD_KERNELS = variants('mlpBackwardLayer', 'denseBackward', ['read', 'read', 'read', 'rw']);
const BONUS_KERNELS = variants('mlpBonusPartial', 'bonusPartial', ['read', 'read', 'read', 'rw']);
const REDUCE_KERNEL = kernel('mlpBonusReduce', 'bonusReduce', ['read', 'rw']);
const RECIPROCAL_KERNEL = kernel('mlpReciprocal', 'reciprocal', ['read', 'rw']);
const JACOBIAN_KERNEL = kernel('mlpJacobianLayer', 'jacobian', ['read', 'read', 'rw']);

/** The shader's Params; every field a u32. */
interface Fields {
  rows: number; nin: number; nout: number; blocks: number;
  aOff?: number; aRow?: number; wOff?: number; wUnit?: number; wIn?: number; bOff?: number;
  oOff?: number; oRow?: number; mOff?: number; mRow?: number; flags?: number;
}

function uniforms(f: Fields, rowsPerTile = TILE): ArrayBuffer {
  const rowTiles = Math.ceil(f.rows / rowsPerTile);
  return params(
    'uuuuuuuuuuuuuuuu', f.rows, f.nin, f.nout, rowTiles, f.blocks, f.aOff ?? 0, f.aRow ?? 0, f.wOff ?? 0, f.wUnit ?? 0,
    f.wIn ?? 0, f.bOff ?? 0, f.oOff ?? 0, f.oRow ?? 0, f.mOff ?? 0, f.mRow ?? 0, f.flags ?? 0,
  );
}

/** A block of rows of a matrix inside a buffer: element (n, k) at off + n·row + k. */
export interface View { readonly buffer: GPUBuffer; readonly off: number; readonly row: number }

const aligned = (...v: number[]) => v.every((e) => e % 4 === 0);

/**
 * One GEMM-shaped dispatch. The vec4 variant needs A's rows and W's rows (or, transposed, its
 * unit runs) to start on a vec4: true for the common widths (d = 32, hidden [100]) whatever the
 * layer's place in θ, since every block before it then has a size divisible by 4.
 */
export function dense(rt: GpuRuntime, k: Variants, buffers: GPUBuffer[], f: Omit<Fields, 'blocks'>): void {
  const blocks = Math.ceil(f.nout / TILE);
  const byRow = f.wIn === 1;
  const vec4 = !((f.flags ?? 0) & UNIT_INPUT) && aligned(f.nin, f.aOff ?? 0, f.aRow ?? 0, f.wOff ?? 0) &&
    (byRow ? aligned(f.wUnit ?? 0) : f.wUnit === 1 && aligned(f.wIn ?? 0, f.nout));
  const rowsPerTile = vec4 ? VEC4_ROWS : TILE;
  rt.dispatch({
    kernel: vec4 ? k.vec4 : k.scalar, buffers, uniforms: uniforms({ ...f, blocks }, rowsPerTile),
    workgroups: Math.ceil((blocks * Math.ceil(f.rows / rowsPerTile)) / WG),
  });
}

/** Layer l's input: x for the first layer, else h_{l−1}. */
export const inputOf = (x: View, acts: readonly View[], l: number): View => (l === 0 ? x : acts[l - 1]!);

export function encodeForward(rt: GpuRuntime, theta: GPUBuffer, layers: readonly MlpLayer[], rows: number, x: View, acts: readonly View[], out: View): void {
  layers.forEach((layer, l) => {
    const last = l === layers.length - 1;
    const input = inputOf(x, acts, l), target = last ? out : acts[l]!;
    dense(rt, FORWARD_KERNELS, [input.buffer, theta, target.buffer], {
      rows, nin: layer.in, nout: layer.out, aOff: input.off, aRow: input.row,
      wOff: layer.weightOffset, wUnit: layer.in, wIn: 1, bOff: layer.biasOffset,
      oOff: target.off, oRow: target.row, flags: last ? 0 : RELU,
    });
  });
}

/** δ_l for l = L−1 … 1 into `deltas` (δ_L = 1 is implicit). */
function encodeBackward(rt: GpuRuntime, theta: GPUBuffer, layers: readonly MlpLayer[], rows: number, acts: readonly View[], deltas: readonly View[]): void {
  for (let l = layers.length - 2; l >= 0; l--) {
    const next = layers[l + 1]!, units = layers[l]!.out;
    const fromOutput = l + 1 === layers.length - 1;
    const upstream = fromOutput ? { buffer: theta, off: 0, row: 0 } : deltas[l + 1]!;
    dense(rt, BACKWARD_KERNELS, [upstream.buffer, theta, acts[l]!.buffer, deltas[l]!.buffer], {
      rows, nin: next.out, nout: units, aOff: upstream.off, aRow: upstream.row,
      wOff: next.weightOffset, wUnit: 1, wIn: units, mOff: acts[l]!.off, mRow: acts[l]!.row,
      oOff: deltas[l]!.off, oRow: deltas[l]!.row, flags: fromOutput ? UNIT_INPUT : 0,
    });
  }
}

/** Writes rows jRow0 … jRow0+rows−1 of J (p columns a row) from the inputs and deltas. */
function encodeJacobian(
  rt: GpuRuntime, theta: GPUBuffer, layers: readonly MlpLayer[], p: number, rows: number,
  x: View, acts: readonly View[], deltas: readonly View[], jac: GPUBuffer, jRow0: number,
): void {
  layers.forEach((layer, l) => {
    const last = l === layers.length - 1;
    const input = inputOf(x, acts, l);
    const delta = last ? { buffer: theta, off: 0, row: 0 } : deltas[l]!;
    const blocks = Math.ceil(layer.in / TILE) + 1;
    rt.dispatch({
      kernel: JACOBIAN_KERNEL,
      buffers: [input.buffer, delta.buffer, jac],
      uniforms: uniforms({
        rows, nin: layer.in, nout: layer.out, blocks, aOff: input.off, aRow: input.row,
        wOff: layer.weightOffset, bOff: layer.biasOffset, oOff: jRow0 * p, oRow: p,
        mOff: delta.off, mRow: delta.row, flags: last ? UNIT_DELTA : 0,
      }),
      workgroups: Math.ceil((rows * blocks) / WG),
    });
  });
}

export const whole = (t: Tensor, row: number): View => ({ buffer: bufferOf(t), off: 0, row });

/** Temporary buffers of one op, all released together (also when making one of them throws). */
export class Scratch {
  private readonly made: GPUBuffer[] = [];
  constructor(private readonly rt: GpuRuntime) {}

  buffer(floats: number, label: string): GPUBuffer {
    const b = this.rt.createBuffer(floats * 4, label);
    this.made.push(b);
    return b;
  }

  /** δ of the hidden layers, rows × n_l each. */
  deltas(layers: readonly MlpLayer[], rows: number): View[] {
    return layers.slice(0, -1).map((layer, l) => ({ buffer: this.buffer(rows * layer.out, `mlp δ${l + 1}`), off: 0, row: layer.out }));
  }

  release(): void {
    for (const b of this.made) this.rt.releaseBuffer(b);
  }
}

export function withScratch(rt: GpuRuntime, body: (s: Scratch) => void): void {
  const s = new Scratch(rt);
  try {
    body(s);
  } finally {
    s.release();
  }
}

export const actViews = (a: MlpArgs): View[] => a.activations.map((t, l) => whole(t, a.layers[l]!.out));

export function mlpForwardWebGpu(rt: GpuRuntime, a: MlpForwardArgs): void {
  encodeForward(rt, bufferOf(a.params), a.layers, a.rows, whole(a.x, a.layers[0]!.in), actViews(a), whole(a.out, 1));
}

/** The forward pass (unless the activations are given) and the backward pass, then `body`. */
function withPasses(rt: GpuRuntime, s: Scratch, a: MlpGradientArgs, body: (x: View, acts: View[], deltas: View[]) => void): void {
  const theta = bufferOf(a.params);
  const x = whole(a.x, a.layers[0]!.in), acts = actViews(a);
  const deltas = s.deltas(a.layers, a.rows);
  if (a.forward) {
    // The output itself is not needed, only the activations the later passes read.
    encodeForward(rt, theta, a.layers, a.rows, x, acts, { buffer: s.buffer(a.rows, 'mlp output'), off: 0, row: 1 });
  }
  encodeBackward(rt, theta, a.layers, a.rows, acts, deltas);
  body(x, acts, deltas);
}

export function mlpJacobianWebGpu(rt: GpuRuntime, a: MlpGradientArgs): void {
  withScratch(rt, (s) => withPasses(rt, s, a, (x, acts, deltas) => {
    encodeJacobian(rt, bufferOf(a.params), a.layers, a.paramCount, a.rows, x, acts, deltas, bufferOf(a.out), 0);
  }));
}

/**
 * The K-pass baseline: rows one at a time, each a forward pass, a backward pass and its row of J
 * (3L − 1 dispatches a row), through one-row scratch buffers, like a per-arm autograd loop.
 */
export function mlpKPassJacobianWebGpu(rt: GpuRuntime, a: MlpGradientArgs): void {
  withScratch(rt, (s) => {
    const theta = bufferOf(a.params), jac = bufferOf(a.out);
    const acts = a.layers.slice(0, -1).map((layer, l): View => ({ buffer: s.buffer(layer.out, `mlp k-pass h${l + 1}`), off: 0, row: layer.out }));
    const deltas = s.deltas(a.layers, 1);
    const output: View = { buffer: s.buffer(1, 'mlp k-pass output'), off: 0, row: 1 };
    const d = a.layers[0]!.in;
    for (let n = 0; n < a.rows; n++) {
      const x: View = { buffer: bufferOf(a.x), off: n * d, row: d };
      encodeForward(rt, theta, a.layers, 1, x, acts, output);
      encodeBackward(rt, theta, a.layers, 1, acts, deltas);
      encodeJacobian(rt, theta, a.layers, a.paramCount, 1, x, acts, deltas, jac, n);
    }
  });
}

export function mlpDiagonalBonusWebGpu(rt: GpuRuntime, a: MlpBonusArgs): void {
  const p = a.paramCount;
  const slots = a.layers.map((layer) => Math.ceil(layer.out / TILE));
  const slotCount = slots.reduce((sum, v) => sum + v, 0);
  withScratch(rt, (s) => {
    const zInv = s.buffer(p, 'mlp 1/Z');
    const partial = s.buffer(a.rows * slotCount, 'mlp bonus partial sums');
    rt.dispatch({ kernel: RECIPROCAL_KERNEL, buffers: [bufferOf(a.z), zInv], uniforms: uniforms({ rows: p, nin: 0, nout: 0, blocks: 0 }), workgroups: Math.ceil(p / WG) });
    withPasses(rt, s, a, (x, acts, deltas) => {
      let slot0 = 0;
      a.layers.forEach((layer, l) => {
        const last = l === a.layers.length - 1;
        const input = inputOf(x, acts, l);
        const delta = last ? { buffer: zInv, off: 0, row: 0 } : deltas[l]!;
        dense(rt, BONUS_KERNELS, [input.buffer, zInv, delta.buffer, partial], {
          rows: a.rows, nin: layer.in, nout: layer.out, aOff: input.off, aRow: input.row,
          wOff: layer.weightOffset, wUnit: layer.in, wIn: 1, bOff: layer.biasOffset,
          oOff: slot0, oRow: slotCount, mOff: delta.off, mRow: delta.row, flags: last ? UNIT_DELTA : 0,
        });
        slot0 += slots[l]!;
      });
      rt.dispatch({
        kernel: REDUCE_KERNEL, buffers: [partial, bufferOf(a.out)],
        uniforms: uniforms({ rows: a.rows, nin: 0, nout: 0, blocks: slotCount }), workgroups: Math.ceil(a.rows / WG),
      });
    });
  });
}

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [
  ...[FORWARD_KERNELS, BACKWARD_KERNELS, BONUS_KERNELS].flatMap((v) => [v.scalar, v.vec4]), REDUCE_KERNEL, RECIPROCAL_KERNEL, JACOBIAN_KERNEL,
];
