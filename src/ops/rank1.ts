import source from '../../shaders/rank1.wgsl';
import { BanditError } from '../core/errors.js';
import { params, type GpuRuntime, type KernelDescriptor } from '../gpu/runtime.js';
import { asMatrices, checkFinite, checkTensor } from '../core/check.js';
import { bufferOf } from '../gpu/tensor.js';
import type { Backend, Rank1Args, Tensor } from '../core/op-args.js';

function rank1Args(backend: Backend, op: string, mats: Tensor, x: Tensor, arms: Int32Array, alpha: number): Rank1Args {
  checkTensor(backend, mats, 'mats', op);
  checkTensor(backend, x, 'x', op);
  checkFinite(op, 'alpha', alpha);
  const M = asMatrices(mats, 'mats', op);
  if (M.rows !== M.cols) throw new BanditError(`${op}: mats must hold square matrices, got ${M.rows}×${M.cols}`);
  const d = M.rows;
  if (x.shape.length !== 2 || x.shape[1] !== d) throw new BanditError(`${op}: x must be U×${d}, got [${x.shape.join(', ')}]`);
  if (!(arms instanceof Int32Array)) throw new BanditError(`${op}: arms must be an Int32Array`);
  if (x === mats) throw new BanditError(`${op}: x and mats must be different tensors`);
  const count = x.shape[0]!;
  if (arms.length !== count) throw new BanditError(`${op}: ${count} vectors but ${arms.length} arm indices`);
  for (let u = 0; u < count; u++) {
    const k = arms[u]!;
    if (k < 0 || k >= M.batch) throw new BanditError(`${op}: arms[${u}] = ${k} is out of range 0..${M.batch - 1}`);
  }
  return { mats, x, arms, count, d, matrices: M.batch, alpha };
}

/**
 * Sherman–Morrison rank-1 updates of inverses, for every (arm, x) pair in order:
 * M_k ← M_k − (M_k x)(M_k x)ᵀ / (1 + xᵀ M_k x), i.e. (M_k⁻¹ + x xᵀ)⁻¹ for symmetric M_k.
 * Updates of different arms run in parallel; several of one arm apply one after another.
 *
 * @example
 * shermanMorrisonUpdate(backend, aInv, contexts, new Int32Array([3, 0, 3]));
 */
export function shermanMorrisonUpdate(backend: Backend, mats: Tensor, x: Tensor, arms: Int32Array): void {
  backend.ops.shermanMorrison(rank1Args(backend, 'shermanMorrisonUpdate', mats, x, arms, 1));
}

/**
 * Symmetric rank-1 updates M_k ← M_k + α·x xᵀ for every (arm, x) pair, in order.
 *
 * @example
 * symRank1Update(backend, a, contexts, arms);        // A_k += x xᵀ beside the inverse
 */
export function symRank1Update(backend: Backend, mats: Tensor, x: Tensor, arms: Int32Array, alpha = 1): void {
  backend.ops.symRank1(rank1Args(backend, 'symRank1Update', mats, x, arms, alpha));
}

const WG_SYM = 64;

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

const smKernel = (wg: number, vec4: boolean): KernelDescriptor => {
  const entryPoint = vec4 ? 'shermanMorrisonVec4' : 'shermanMorrison';
  return { name: `${entryPoint}-wg${wg}`, source, entryPoint, storage: ['read', 'read', 'rw', 'rw'], workgroupSize: wg };
};
const SM_KERNELS = new Map<string, KernelDescriptor>();
for (const vec4 of [false, true]) for (const wg of SM_SIZES) SM_KERNELS.set(`${vec4}-${wg}`, smKernel(wg, vec4));

const symKernel = (vec4: boolean): KernelDescriptor => {
  const entryPoint = vec4 ? 'symRank1Vec4' : 'symRank1';
  return { name: entryPoint, source, entryPoint, storage: ['read', 'read', 'rw'], workgroupSize: WG_SYM };
};
const SYM_KERNELS = [symKernel(false), symKernel(true)] as const;

/**
 * The updates grouped by arm, stably: `[arms of the T segments | T+1 segment starts | rows of x]`
 * (the layout the shader reads), arms in order of first appearance.
 */
export function segmentIndex(arms: Int32Array, matrices: number): { index: Uint32Array; segments: number } {
  const count = arms.length;
  const segmentOf = new Int32Array(matrices).fill(-1);
  const touched: number[] = [];
  const sizes: number[] = [];
  for (let u = 0; u < count; u++) {
    const k = arms[u]!;
    if (k < 0) continue; // a row that touches none of these matrices (discountedUpdate's steps of other shards)
    let s = segmentOf[k]!;
    if (s < 0) {
      s = segmentOf[k] = touched.length;
      touched.push(k);
      sizes.push(0);
    }
    sizes[s]!++;
  }
  const segments = touched.length;
  const index = new Uint32Array(2 * segments + 1 + count);
  const rows = 2 * segments + 1;
  let start = 0;
  for (let s = 0; s < segments; s++) {
    index[s] = touched[s]!;
    index[segments + s] = start;
    start += sizes[s]!;
  }
  index[2 * segments] = start;
  const next = index.slice(segments, 2 * segments);
  for (let u = 0; u < count; u++) if (arms[u]! >= 0) index[rows + next[segmentOf[arms[u]!]!]!++] = u;
  return { index, segments };
}

function uploadIndex(rt: GpuRuntime, a: Rank1Args, op: string): { buffer: GPUBuffer; segments: number } {
  const { index, segments } = segmentIndex(a.arms, a.matrices);
  const buffer = rt.upload(index, `${op} index`);
  return { buffer, segments };
}

export function shermanMorrisonWebGpu(rt: GpuRuntime, a: Rank1Args): void {
  if (a.count === 0) return;
  const { buffer, segments } = uploadIndex(rt, a, 'shermanMorrisonUpdate');
  const kernel = SM_KERNELS.get(`${a.d % 4 === 0}-${smWorkgroupSize(a.d)}`)!;
  const v = rt.createBuffer(segments * 2 * a.d * 4, 'shermanMorrisonUpdate v');
  rt.dispatch({
    kernel,
    buffers: [buffer, bufferOf(a.x), bufferOf(a.mats), v],
    uniforms: params('uuuf', a.d, segments, 0, 0),
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
    uniforms: params('uuuf', a.d, segments, groupsPerArm, a.alpha),
    workgroups: segments * groupsPerArm,
  });
  rt.releaseBuffer(buffer);
}

/** Every kernel of this family, for the shader-compilation test. */
export const KERNELS: readonly KernelDescriptor[] = [...SM_KERNELS.values(), ...SYM_KERNELS];
