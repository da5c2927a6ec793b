import { BanditError } from '../core/errors.js';
import { asMatrices, asVectors, checkArmIndices, checkDistinct, checkTensor, checkTensors, checkVectors, checkWeights, sameDims, squareMatrices } from '../core/check.js';
import { MAX_FACTOR_DIM } from '../core/limits.js';
import type { AccumulateArgs, AddAccurateArgs, RefineSolveArgs, ResidualArgs } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

// The float-float accumulators of ridge state and what is computed from them (docs/numerics.md).
// On the GPU a value is hi + lo, two f32 tensors of one shape; on the cpu backend hi is float64
// and lo stays zero.

/** The float-float pair of tensors holding one accurate value an element. */
export interface Accurate {
  readonly hi: Tensor;
  readonly lo: Tensor;
}

function sameShape(op: string, a: Tensor, an: string, b: Tensor, bn: string): void {
  if (!sameDims(a.shape, b.shape)) {
    throw new BanditError(`${op}: ${an} is [${a.shape.join(', ')}] but ${bn} is [${b.shape.join(', ')}]`);
  }
}

/**
 * Accumulates in float-float, rows u in order (k = arms[u]): M_k += w_u·x_u x_uᵀ when `m` holds K
 * d×d matrices, v_k += w_u·x_u when it holds K vectors of d, and with `z` (U×c) M_k += w_u·x_u z_uᵀ
 * into K d×c matrices (rank 2: one d×c matrix, every arms[u] 0). Products are exact and sums carry
 * about 48 bits, so A = λI + Σ x xᵀ after 10⁵ plays still holds λ to ~1e-9 of the played part.
 *
 * @example
 * accumulateOuter(backend, { hi: a, lo: aLo }, x, arms, ones);          // A_k += x xᵀ
 * accumulateOuter(backend, { hi: b, lo: bLo }, x, arms, rewards);       // b_k += r·x
 * accumulateOuter(backend, { hi: bMat, lo: bMatLo }, x, arms, ones, z); // B_k += x zᵀ
 */
export function accumulateOuter(backend: Backend, m: Accurate, x: Tensor, arms: Int32Array, weights: Float32Array, z: Tensor | null = null): void {
  const op = 'accumulateOuter';
  checkTensors(backend, op, { hi: m.hi, lo: m.lo, x });
  if (z) checkTensor(backend, z, 'z', op);
  sameShape(op, m.hi, 'hi', m.lo, 'lo');
  checkDistinct(op, ['hi', m.hi], ['lo', m.lo], ['x', x]);
  if (z) checkDistinct(op, ['hi', m.hi], ['lo', m.lo], ['z', z]);
  let matrices: number, d: number, width: number;
  if (z) {
    ({ batch: matrices, rows: d, cols: width } = asMatrices(m.hi, 'hi', op));
  } else if (m.hi.shape.length === 3) {
    ({ batch: matrices, d } = squareMatrices(m.hi, 'hi', op));
    width = d;
  } else {
    ({ batch: matrices, len: d } = asVectors(m.hi, 'hi', op));
    width = 1;
  }
  if (x.shape.length !== 2 || x.shape[1] !== d) throw new BanditError(`${op}: x must be U×${d}, got [${x.shape.join(', ')}]`);
  const count = x.shape[0]!;
  if (z && (z.shape.length !== 2 || z.shape[0] !== count || z.shape[1] !== width)) {
    throw new BanditError(`${op}: z must be ${count}×${width} (x's rows, hi's columns), got [${z.shape.join(', ')}]`);
  }
  checkArmIndices(op, arms, count, matrices);
  checkWeights(op, 'weights', weights, count);
  const args: AccumulateArgs = { hi: m.hi, lo: m.lo, x, z, arms, weights, count, d, width, outer: z !== null || m.hi.shape.length === 3, matrices };
  backend.ops.accumulateOuter(args);
}

/**
 * The residual R = I − A·X of a kept inverse X against the float-float A, computed with exact
 * products and float-float sums, and per matrix [‖R‖∞, ‖ |A|·|X| ‖∞] (K×2, returned): u·the second
 * (u the storage's unit roundoff) is what even the correctly rounded inverse leaves, so a drift
 * near it cannot be improved by re-factorising. X is f32 or float-float ({ hi, lo }: then the
 * drift can go below that). With `r`, R itself is written there (K×d×d).
 *
 * @example
 * const norms = accurateResidual(backend, { hi: a, lo: aLo }, aInv);           // [drift, scale] an arm
 * accurateResidual(backend, { hi: a, lo: aLo }, x, r).dispose();               // R for a refinement step
 */
export function accurateResidual(backend: Backend, a: Accurate, inverse: Tensor | Accurate, r: Tensor | null = null): Tensor {
  const op = 'accurateResidual';
  const aInv = 'hi' in inverse ? inverse.hi : inverse, aInvLo = 'hi' in inverse ? inverse.lo : null;
  checkTensors(backend, op, { aHi: a.hi, aLo: a.lo, aInv });
  sameShape(op, a.hi, 'aHi', a.lo, 'aLo');
  sameShape(op, a.hi, 'aHi', aInv, 'aInv');
  if (aInvLo) {
    checkTensor(backend, aInvLo, 'aInvLo', op);
    sameShape(op, a.hi, 'aHi', aInvLo, 'aInvLo');
    checkDistinct(op, ['aInv', aInv], ['aInvLo', aInvLo]);
  }
  const { batch: matrices, d } = squareMatrices(a.hi, 'aHi', op);
  if (r) {
    checkTensor(backend, r, 'r', op);
    sameShape(op, a.hi, 'aHi', r, 'r');
    checkDistinct(op, ['r', r], ['aHi', a.hi], ['aLo', a.lo], ['aInv', aInv], ...(aInvLo ? [['aInvLo', aInvLo] as [string, Tensor]] : []));
  }
  const norms = backend.zeros([matrices, 2], { label: `${op} norms` });
  const args: ResidualArgs = { aHi: a.hi, aLo: a.lo, aInv, aInvLo, r, norms, matrices, d };
  backend.ops.accurateResidual(args);
  return norms;
}

/**
 * M ← M + C in float-float (hi + lo + c, renormalised so |lo| ≤ ulp(hi)/2), elementwise: a
 * correction (a Newton step's X·R) added to an accurate value without losing its low bits.
 *
 * @example
 * addAccurate(backend, { hi: zInv, lo: zInvLo }, correction);
 */
export function addAccurate(backend: Backend, m: Accurate, c: Tensor): void {
  const op = 'addAccurate';
  checkTensors(backend, op, { hi: m.hi, lo: m.lo, c });
  sameShape(op, m.hi, 'hi', m.lo, 'lo');
  sameShape(op, m.hi, 'hi', c, 'c');
  checkDistinct(op, ['hi', m.hi], ['lo', m.lo], ['c', c]);
  const args: AddAccurateArgs = { hi: m.hi, lo: m.lo, c, n: m.hi.size };
  backend.ops.addAccurate(args);
}

/** How refineSolve starts: from θ as it is, or from θ = 0 (its first step is then θ = X b). */
export interface RefineSolveOptions {
  readonly iterations: number;
  readonly restart?: boolean;
}

/**
 * Iterative refinement of θ_k = A_k⁻¹ b_k for the (distinct) arms `arms`: `iterations` times
 * θ_k += X_k (b_k − A_k θ_k), the residual in float-float against the accurate A and b, X the
 * kept f32 inverse. Each step shrinks θ's error by about ‖I − X A‖ (the drift), down to f32
 * rounding of θ itself. b and θ are K×d, or K×d×c for c right-hand sides (C = A⁻¹B) each refined
 * alike.
 *
 * @example
 * refineSolve(backend, { hi: a, lo: aLo }, { hi: b, lo: bLo }, aInv, theta, arms, { iterations: 2, restart: true });
 * refineSolve(backend, { hi: a, lo: aLo }, { hi: bMat, lo: bMatLo }, aInv, c, arms, { iterations: 2, restart: true });
 */
export function refineSolve(backend: Backend, a: Accurate, b: Accurate, aInv: Tensor, theta: Tensor, arms: Int32Array, options: RefineSolveOptions): void {
  const op = 'refineSolve';
  const named: [string, Tensor][] = [['aHi', a.hi], ['aLo', a.lo], ['bHi', b.hi], ['bLo', b.lo], ['aInv', aInv], ['theta', theta]];
  for (const [name, t] of named) checkTensor(backend, t, name, op);
  checkDistinct(op, ['theta', theta], ...named.slice(0, 5));
  sameShape(op, a.hi, 'aHi', a.lo, 'aLo');
  sameShape(op, a.hi, 'aHi', aInv, 'aInv');
  const { batch: matrices, d } = squareMatrices(a.hi, 'aHi', op);
  let cols = 1;
  if (b.hi.shape.length === 3) {
    const B = asMatrices(b.hi, 'bHi', op);
    if (B.batch !== matrices || B.rows !== d) throw new BanditError(`${op}: bHi must be ${matrices}×${d}×c, got [${b.hi.shape.join(', ')}]`);
    cols = B.cols;
  } else {
    checkVectors(b.hi, 'bHi', op, matrices, d);
  }
  sameShape(op, b.hi, 'bHi', b.lo, 'bLo');
  sameShape(op, b.hi, 'bHi', theta, 'theta');
  checkArmIndices(op, arms, arms instanceof Int32Array ? arms.length : 0, matrices);
  if (d > MAX_FACTOR_DIM) throw new BanditError(`${op}: d = ${d} is over the limit of ${MAX_FACTOR_DIM}`);
  const iterations = options.iterations;
  if (!Number.isInteger(iterations) || iterations < 0 || iterations > 16) throw new BanditError(`${op}: iterations must be an integer in 0..16, got ${iterations}`);
  const args: RefineSolveArgs = { aHi: a.hi, aLo: a.lo, bHi: b.hi, bLo: b.lo, aInv, theta, arms, d, cols, matrices, iterations, restart: options.restart ?? false };
  backend.ops.refineSolve(args);
}
