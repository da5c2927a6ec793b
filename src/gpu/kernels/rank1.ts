import { segmentIndex } from '../../core/segments.js';
import source from '../../../shaders/rank1.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { GRID, SEGMENTS, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import type { Rank1Args } from '../../core/op-args.js';

const WG_SYM = 64;
const code = wgsl(source, GRID, SEGMENTS);
const Rank1Params = uniforms('Rank1Params', { d: 'u32', segments: 'u32', groupsPerArm: 'u32', alpha: 'f32' });

/**
 * Sherman–Morrison runs one workgroup an arm with an invocation a column (quad): about one quad an
 * invocation, at least 4 and at most 64 invocations. SwiftShader pays for every invocation at each
 * barrier (an update each), so idle invocations cost time there.
 */
function smWorkgroupSize(d: number): number {
  const quads = Math.ceil(d / 4);
  return Math.min(64, Math.max(4, 2 ** Math.ceil(Math.log2(quads))));
}
const SM_SIZES = [4, 8, 16, 32, 64];

const smKernel = (wg: number, vec4: boolean) => {
  const entryPoint = vec4 ? 'shermanMorrisonVec4' : 'shermanMorrison';
  return kernel({ name: `${entryPoint}-wg${wg}`, source: code, entryPoint, storage: ['read', 'read', 'rw', 'rw'], workgroupSize: wg, uniforms: Rank1Params });
};
const SM_KERNELS = new Map<string, ReturnType<typeof smKernel>>();
for (const vec4 of [false, true]) for (const wg of SM_SIZES) SM_KERNELS.set(`${vec4}-${wg}`, smKernel(wg, vec4));

const symKernel = (vec4: boolean) => {
  const entryPoint = vec4 ? 'symRank1Vec4' : 'symRank1';
  return kernel({ name: entryPoint, source: code, entryPoint, storage: ['read', 'read', 'rw'], workgroupSize: WG_SYM, uniforms: Rank1Params });
};
const SYM_KERNELS = [symKernel(false), symKernel(true)] as const;
function uploadIndex(rt: GpuRuntime, a: Rank1Args, op: string): { buffer: GPUBuffer; segments: number } {
  const { index, segments } = segmentIndex(a.arms, a.matrices);
  const buffer = rt.upload(index, `${op} index`);
  return { buffer, segments };
}

export function shermanMorrisonWebGpu(rt: GpuRuntime, a: Rank1Args): void {
  if (a.count === 0) return;
  const { buffer, segments } = uploadIndex(rt, a, 'shermanMorrisonUpdate');
  const program = SM_KERNELS.get(`${a.d % 4 === 0}-${smWorkgroupSize(a.d)}`)!;
  const v = rt.acquire(segments * 2 * a.d * 4, 'shermanMorrisonUpdate v');
  rt.dispatch({
    kernel: program,
    buffers: [buffer, bufferOf(a.x), bufferOf(a.mats), v],
    params: { d: a.d, segments, groupsPerArm: 0, alpha: 0 },
    workgroups: segments,
  });
  rt.releaseBuffer(buffer);
  rt.releaseBuffer(v);
}

export function symRank1WebGpu(rt: GpuRuntime, a: Rank1Args): void {
  if (a.count === 0) return;
  const { buffer, segments } = uploadIndex(rt, a, 'symRank1Update');
  const vec4 = a.d % 4 === 0;
  const groupsPerArm = Math.ceil((a.d * a.d) / (vec4 ? 16 : 1) / WG_SYM);
  rt.dispatch({
    kernel: SYM_KERNELS[vec4 ? 1 : 0],
    buffers: [buffer, bufferOf(a.x), bufferOf(a.mats)],
    params: { d: a.d, segments, groupsPerArm, alpha: a.alpha },
    workgroups: segments * groupsPerArm,
  });
  rt.releaseBuffer(buffer);
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'shermanMorrison' | 'symRank1'> = {
  ops: { shermanMorrison: shermanMorrisonWebGpu, symRank1: symRank1WebGpu },
  kernels: [...SM_KERNELS.values(), ...SYM_KERNELS],
};
