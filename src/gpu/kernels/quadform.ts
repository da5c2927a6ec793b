import source from '../../../shaders/quadform.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { TILE, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { QuadFormArgs } from '../../core/op-args.js';

const WG = 64;
/** Rows of x an invocation handles against one matrix (the shader's ROWS): M is read once per tile. */
const ROW_TILE = 4;
const code = wgsl(source, TILE);
const QuadFormParams = uniforms('QuadFormParams', {
  rows: 'u32', arms: 'u32', d: 'u32', xRowStride: 'u32', xArmStride: 'u32', rowTiles: 'u32',
});

const quadFormKernel = (entryPoint: 'quadFormVec4' | 'quadFormScalar', rows: number) => kernel({
  name: `${entryPoint}Rows${rows}`,
  source: code,
  entryPoint,
  storage: ['read', 'read', 'rw'],
  workgroupSize: WG,
  constants: { ROWS: rows },
  uniforms: QuadFormParams,
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
  const k = vec4
    ? rowsPerTile === 1 ? QUAD_FORM_VEC4_ROW_KERNEL : QUAD_FORM_VEC4_KERNEL
    : rowsPerTile === 1 ? QUAD_FORM_SCALAR_ROW_KERNEL : QUAD_FORM_SCALAR_KERNEL;
  const rowTiles = Math.ceil(a.rows / rowsPerTile);
  rt.dispatch({
    kernel: k,
    buffers: [bufferOf(a.x), bufferOf(a.m), bufferOf(a.out)],
    params: {
      rows: a.rows, arms: a.arms, d: a.d, xRowStride: a.perArm ? a.arms * a.d : a.d, xArmStride: a.perArm ? a.d : 0, rowTiles,
    },
    workgroups: Math.ceil((a.arms * rowTiles) / WG),
  });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'quadForm'> = {
  ops: { quadForm: quadFormWebGpu },
  kernels: [
    QUAD_FORM_VEC4_KERNEL, QUAD_FORM_VEC4_ROW_KERNEL, QUAD_FORM_SCALAR_KERNEL, QUAD_FORM_SCALAR_ROW_KERNEL,
  ],
};
