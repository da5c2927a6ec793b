import source from '../../../shaders/drift.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { TILE, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { DriftArgs } from '../../core/op-args.js';

const WG = 64;
/** Rows of A one inverseDrift invocation takes: A⁻¹ is read once for four rows. */
const DRIFT_ROWS = 4;
const code = wgsl(source, TILE);
const DriftParams = uniforms('DriftParams', { d: 'u32', matrices: 'u32', rowTiles: 'u32' });
const driftKernel = (entryPoint: string) => kernel({
  name: `${entryPoint}Rows${DRIFT_ROWS}`, source: code, entryPoint, storage: ['read', 'read', 'rw'], workgroupSize: WG,
  constants: { ROWS: DRIFT_ROWS }, uniforms: DriftParams,
});
const DRIFT_VEC4_KERNEL = driftKernel('inverseDriftVec4');
const DRIFT_SCALAR_KERNEL = driftKernel('inverseDriftScalar');

export function inverseDriftWebGpu(rt: GpuRuntime, a: DriftArgs): void {
  const rowTiles = Math.ceil(a.d / DRIFT_ROWS);
  rt.dispatch({
    kernel: a.d % 4 === 0 ? DRIFT_VEC4_KERNEL : DRIFT_SCALAR_KERNEL,
    buffers: [bufferOf(a.a), bufferOf(a.aInv), bufferOf(a.out)],
    params: { d: a.d, matrices: a.matrices, rowTiles },
    workgroups: Math.ceil((a.matrices * rowTiles) / WG),
  });
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'inverseDrift'> = {
  ops: { inverseDrift: inverseDriftWebGpu },
  kernels: [DRIFT_VEC4_KERNEL, DRIFT_SCALAR_KERNEL],
};
