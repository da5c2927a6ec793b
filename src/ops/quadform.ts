import source from '../../shaders/quadform.wgsl';
import { BanditError } from '../core/errors.js';
import { params, type GpuRuntime, type KernelDescriptor } from '../gpu/runtime.js';
import { asMatrices, checkTensor } from '../core/check.js';
import { bufferOf } from '../gpu/tensor.js';
import type { Backend, QuadFormArgs, Tensor } from '../core/op-args.js';

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
  checkTensor(backend, x, 'x', op);
  checkTensor(backend, m, 'm', op);
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

const WG = 64;
/** Rows of x an invocation handles against one matrix (the shader's ROWS): M is read once per tile. */
const ROW_TILE = 4;

const quadFormKernel = (entryPoint: 'quadFormVec4' | 'quadFormScalar', rows: number): KernelDescriptor => ({
  name: `${entryPoint}Rows${rows}`,
  source,
  entryPoint,
  storage: ['read', 'read', 'rw'],
  workgroupSize: WG,
  constants: { ROWS: rows },
});
export const QUAD_FORM_VEC4_KERNEL = quadFormKernel('quadFormVec4', ROW_TILE);
export const QUAD_FORM_VEC4_ROW_KERNEL = quadFormKernel('quadFormVec4', 1);
export const QUAD_FORM_SCALAR_KERNEL = quadFormKernel('quadFormScalar', ROW_TILE);
export const QUAD_FORM_SCALAR_ROW_KERNEL = quadFormKernel('quadFormScalar', 1);

export function quadFormWebGpu(rt: GpuRuntime, a: QuadFormArgs): void {
  // A single row would compute three clamped copies of itself for nothing; from two rows on,
  // reading each M_k once per tile pays for the idle rows (on SwiftShader, measured, and more so
  // where M's traffic dominates, as on a GPU).
  const rowsPerTile = a.rows === 1 ? 1 : ROW_TILE;
  const vec4 = a.d % 4 === 0;
  const kernel = vec4
    ? rowsPerTile === 1 ? QUAD_FORM_VEC4_ROW_KERNEL : QUAD_FORM_VEC4_KERNEL
    : rowsPerTile === 1 ? QUAD_FORM_SCALAR_ROW_KERNEL : QUAD_FORM_SCALAR_KERNEL;
  const rowTiles = Math.ceil(a.rows / rowsPerTile);
  const xRowStride = a.perArm ? a.arms * a.d : a.d;
  const xArmStride = a.perArm ? a.d : 0;
  rt.dispatch({
    kernel,
    buffers: [bufferOf(a.x), bufferOf(a.m), bufferOf(a.out)],
    uniforms: params('uuuuuu', a.rows, a.arms, a.d, xRowStride, xArmStride, rowTiles),
    workgroups: Math.ceil((a.arms * rowTiles) / WG),
  });
}

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [
  QUAD_FORM_VEC4_KERNEL, QUAD_FORM_VEC4_ROW_KERNEL, QUAD_FORM_SCALAR_KERNEL, QUAD_FORM_SCALAR_ROW_KERNEL,
];
