import source from '../../../shaders/mlp.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel, type KernelDescriptor } from '../kernel.js';
import { GRID, wgsl } from '../shader.js';
import { uniforms, type FieldsOf, type UniformValues } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { MlpArgs, MlpBonusArgs, MlpForwardArgs, MlpGradientArgs, MlpLayer } from '../../core/op-args.js';
import type { Tensor } from '../../core/tensor.js';

// WebGPU implementations: a layer a dispatch, all rows at once (see shaders/mlp.wgsl).

const WG = 64;
/** Rows and units of the register tile of the dense kernels (fixed in the shader). */
export const TILE = 4;
const UNIT_INPUT = 1, RELU = 2, UNIT_DELTA = 4;

const code = wgsl(source, GRID);
const MlpParams = uniforms('MlpParams', {
  rows: 'u32', nin: 'u32', nout: 'u32', rowTiles: 'u32', blocks: 'u32', aOff: 'u32', aRow: 'u32', wOff: 'u32', wUnit: 'u32',
  wIn: 'u32', bOff: 'u32', oOff: 'u32', oRow: 'u32', mOff: 'u32', mRow: 'u32', flags: 'u32',
});
type MlpKernel = KernelDescriptor<FieldsOf<typeof MlpParams>>;
const mlpKernel = (name: string, entryPoint: string, storage: readonly ('read' | 'rw')[]): MlpKernel => kernel({
  name, source: code, entryPoint, storage, workgroupSize: WG, uniforms: MlpParams,
});
/** Scalar-load and vec4-load variants of each GEMM-shaped kernel. */
export interface Variants { readonly scalar: MlpKernel; readonly vec4: MlpKernel }
/**
 * Rows of a tile in the vec4 kernels: two 4-row halves share each W load. Measured on SwiftShader
 * (K = 1000, d = 32, hidden [100]; and hidden [64, 64]) as fast or faster than 4 rows: forward
 * 6.8 vs 8.0 ms, bonus 11.2 vs 13.3 ms (best of 15).
 */
const VEC4_ROWS = 8;
const variants = (name: string, entryPoint: string, storage: readonly ('read' | 'rw')[]): Variants => ({
  scalar: mlpKernel(name, entryPoint, storage),
  vec4: { ...mlpKernel(`${name}Vec4`, `${entryPoint}Vec4`, storage), constants: { ROWS: VEC4_ROWS } },
});
export const FORWARD_KERNELS = variants('mlpForwardLayer', 'denseForward', ['read', 'read', 'rw']);
export const BACKWARD_KERNELS = variants('mlpBackwardLayer', 'denseBackward', ['read', 'read', 'read', 'rw']);
const BONUS_KERNELS = variants('mlpBonusPartial', 'bonusPartial', ['read', 'read', 'read', 'rw']);
const REDUCE_KERNEL = mlpKernel('mlpBonusReduce', 'bonusReduce', ['read', 'rw']);
const RECIPROCAL_KERNEL = mlpKernel('mlpReciprocal', 'reciprocal', ['read', 'rw']);
const JACOBIAN_KERNEL = mlpKernel('mlpJacobianLayer', 'jacobian', ['read', 'read', 'rw']);

/** MlpParams less rowTiles (from the tile height), fields left out being 0. */
interface Fields {
  rows: number; nin: number; nout: number; blocks: number;
  aOff?: number; aRow?: number; wOff?: number; wUnit?: number; wIn?: number; bOff?: number;
  oOff?: number; oRow?: number; mOff?: number; mRow?: number; flags?: number;
}

function mlpParams(f: Fields, rowsPerTile = TILE): UniformValues<FieldsOf<typeof MlpParams>> {
  return {
    rows: f.rows, nin: f.nin, nout: f.nout, rowTiles: Math.ceil(f.rows / rowsPerTile), blocks: f.blocks, aOff: f.aOff ?? 0, aRow: f.aRow ?? 0,
    wOff: f.wOff ?? 0, wUnit: f.wUnit ?? 0, wIn: f.wIn ?? 0, bOff: f.bOff ?? 0, oOff: f.oOff ?? 0, oRow: f.oRow ?? 0,
    mOff: f.mOff ?? 0, mRow: f.mRow ?? 0, flags: f.flags ?? 0,
  };
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
    kernel: vec4 ? k.vec4 : k.scalar, buffers, params: mlpParams({ ...f, blocks }, rowsPerTile),
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
      params: mlpParams({
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
    const b = this.rt.acquire(floats * 4, label);
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
    rt.dispatch({ kernel: RECIPROCAL_KERNEL, buffers: [bufferOf(a.z), zInv], params: mlpParams({ rows: p, nin: 0, nout: 0, blocks: 0 }), workgroups: Math.ceil(p / WG) });
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
        params: mlpParams({ rows: a.rows, nin: 0, nout: 0, blocks: slotCount }), workgroups: Math.ceil(a.rows / WG),
      });
    });
  });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'mlpForward' | 'mlpJacobian' | 'mlpKPassJacobian' | 'mlpDiagonalBonus'> = {
  ops: { mlpForward: mlpForwardWebGpu, mlpJacobian: mlpJacobianWebGpu, mlpKPassJacobian: mlpKPassJacobianWebGpu, mlpDiagonalBonus: mlpDiagonalBonusWebGpu },
  kernels: [
    ...[FORWARD_KERNELS, BACKWARD_KERNELS, BONUS_KERNELS].flatMap((v) => [v.scalar, v.vec4]), REDUCE_KERNEL, RECIPROCAL_KERNEL, JACOBIAN_KERNEL,
  ],
};
