import { decayFactors } from '../../core/discount.js';
import { segmentIndex } from '../../core/segments.js';
import source from '../../../shaders/discounted.wgsl';
import type { GpuRuntime } from '../runtime.js';
import { kernel } from '../kernel.js';
import { GRID, SEGMENTS, wgsl } from '../shader.js';
import { uniforms } from '../uniforms.js';
import type { KernelFamily } from './family.js';
import { bufferOf } from '../tensor.js';
import { withRoom } from './index-data.js';
import type { DiscountedUpdateArgs } from '../../core/op-args.js';

const WG = 64;
/** The shader's NOT_PLAYED: an arm with no segment. */
const NO_SEGMENT = 0xffffffff;
const code = wgsl(source, GRID, SEGMENTS);
const DiscountParams = uniforms('DiscountParams', {
  d: 'u32', segments: 'u32', matrices: 'u32', segmentOfAt: 'u32', factorAt: 'u32', offsetAt: 'u32', rewardsAt: 'u32', fAll: 'f32', cAll: 'f32',
});
const discountKernel = (entryPoint: string) => kernel({
  name: entryPoint, source: code, entryPoint, storage: ['read', 'read', 'rw', 'rw'], workgroupSize: WG, uniforms: DiscountParams,
});
const DISCOUNT_A_KERNEL = discountKernel('discountedA');
const DISCOUNT_A_VEC4_KERNEL = discountKernel('discountedAVec4');
const DISCOUNT_B_KERNEL = discountKernel('discountedB');

/**
 * The index the discounted kernels read: segmentIndex, then per arm its segment, then per
 * segment entry s of segment t (and one more after its last play, at end + t) the factors
 * γ^g and (1−γ^g)λ of the gap g before it, then the rewards by row. Factors are computed in
 * float64 and rounded once to f32 (relative error ≤ 2⁻²⁴ each, one more rounding in the walk).
 */
function discountIndex(a: Pick<DiscountedUpdateArgs, 'arms' | 'rewards' | 'count' | 'matrices' | 'gamma' | 'lambda'>): {
  data: Uint32Array; segments: number; offsets: { segmentOfAt: number; factorAt: number; offsetAt: number; rewardsAt: number };
} {
  const { index, segments } = segmentIndex(a.arms, a.matrices);
  const U = a.count, T = segments;
  const off0 = index.length, off1 = off0 + a.matrices, off2 = off1 + U + T, off3 = off2 + U + T;
  const { data, bits } = withRoom(index, a.matrices + 2 * (U + T) + U);
  data.fill(NO_SEGMENT, off0, off1);
  const rows = 2 * T + 1;
  for (let t = 0; t < T; t++) {
    data[off0 + index[t]!] = t;
    const start = index[T + t]!, end = index[T + t + 1]!;
    let prev = -1;
    for (let s = start; s <= end; s++) {
      // A play's own step decays too (before the add); after the last play, the steps to U − 1.
      const u = s < end ? index[rows + s]! : U - 1;
      const [f, c] = decayFactors(a.gamma, a.lambda, u - prev);
      bits[off1 + s + t] = f;
      bits[off2 + s + t] = c;
      prev = u;
    }
  }
  bits.set(a.rewards, off3);
  return { data, segments, offsets: { segmentOfAt: off0, factorAt: off1, offsetAt: off2, rewardsAt: off3 } };
}

export function discountedUpdateWebGpu(rt: GpuRuntime, a: DiscountedUpdateArgs): void {
  const { data, segments, offsets } = discountIndex(a);
  const [fAll, cAll] = decayFactors(a.gamma, a.lambda, a.count);
  const buffer = rt.upload(data, 'discountedUpdate index');
  const values = { d: a.d, segments, matrices: a.matrices, ...offsets, fAll, cAll };
  const buffers = [buffer, bufferOf(a.x), bufferOf(a.a), bufferOf(a.b)];
  const vec4 = a.d % 4 === 0;
  const perArm = vec4 ? (a.d * a.d) / 4 : a.d * a.d;
  rt.dispatch({
    kernel: vec4 ? DISCOUNT_A_VEC4_KERNEL : DISCOUNT_A_KERNEL,
    buffers,
    params: values,
    workgroups: Math.ceil((a.matrices * perArm) / WG),
  });
  rt.dispatch({ kernel: DISCOUNT_B_KERNEL, buffers, params: values, workgroups: Math.ceil((a.matrices * a.d) / WG) });
  rt.releaseBuffer(buffer);
}

/** The ops this family implements and every kernel it can dispatch. */
export const family: KernelFamily<'discountedUpdate'> = {
  ops: { discountedUpdate: discountedUpdateWebGpu },
  kernels: [DISCOUNT_A_KERNEL, DISCOUNT_A_VEC4_KERNEL, DISCOUNT_B_KERNEL],
};
