import { segmentIndex } from '../../core/segments.js';
import source from '../../../shaders/scatter-gather.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { SEGMENTS, TILE, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import { withRoom } from './index-data.js';
import type { GatherMatVecArgs, ScatterAddArgs } from '../../core/op-args.js';

const WG = 64;
const code = wgsl(source, TILE, SEGMENTS);
const ScatterParams = uniforms('ScatterParams', { d: 'u32', segments: 'u32', weightsAt: 'u32' });
const MvParams = uniforms('MvParams', { d: 'u32', count: 'u32' });

const SCATTER_KERNEL = kernel({
  name: 'scatterAddScaled', source: code, entryPoint: 'scatterAddScaled', storage: ['read', 'read', 'rw'], workgroupSize: WG, uniforms: ScatterParams,
});

export function scatterAddScaledWebGpu(rt: GpuRuntime, a: ScatterAddArgs): void {
  const { index, segments } = segmentIndex(a.arms, a.vectors);
  const { data, bits } = withRoom(index, a.count);
  bits.set(a.weights, index.length);
  const buffer = rt.upload(data, 'scatterAddScaled index');
  rt.dispatch({
    kernel: SCATTER_KERNEL,
    buffers: [buffer, bufferOf(a.x), bufferOf(a.b)],
    params: { d: a.d, segments, weightsAt: index.length },
    workgroups: Math.ceil((segments * a.d) / WG),
  });
  rt.releaseBuffer(buffer);
}

const gatherKernel = (entryPoint: string) => kernel({
  name: entryPoint, source: code, entryPoint, storage: ['read', 'read', 'read', 'rw'], workgroupSize: WG, uniforms: MvParams,
});
const GATHER_KERNEL = gatherKernel('gatherMatVec');
const GATHER_VEC4_KERNEL = gatherKernel('gatherMatVecVec4');

export function gatherMatVecWebGpu(rt: GpuRuntime, a: GatherMatVecArgs): void {
  const distinct = Uint32Array.from(new Set(a.arms));
  if (distinct.length === 0) return;
  const vec4 = a.d % 4 === 0;
  const buffer = rt.upload(distinct, 'gatherMatVec arms');
  rt.dispatch({
    kernel: vec4 ? GATHER_VEC4_KERNEL : GATHER_KERNEL,
    buffers: [buffer, bufferOf(a.m), bufferOf(a.v), bufferOf(a.out)],
    params: { d: a.d, count: distinct.length },
    workgroups: Math.ceil((distinct.length * (vec4 ? a.d / 4 : a.d)) / WG),
  });
  rt.releaseBuffer(buffer);
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'scatterAddScaled' | 'gatherMatVec'> = {
  ops: { scatterAddScaled: scatterAddScaledWebGpu, gatherMatVec: gatherMatVecWebGpu },
  kernels: [SCATTER_KERNEL, GATHER_KERNEL, GATHER_VEC4_KERNEL],
};
