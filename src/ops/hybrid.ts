import { BanditError } from '../core/errors.js';
import { asMatrices, checkArmIndices, checkDistinct, checkTensor, checkTensors, checkVectors, checkWeights, squareMatrices } from '../core/check.js';
import { scoreOptions } from './linucb.js';
import type { HybridArmUpdateArgs, HybridScoresArgs, OuterAddArgs } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

// Public functions: validate everything before any work, so bad input leaves the tensors as they were.

/** One shard of a hybrid model's per-arm state, as the score reads it. */
export interface HybridArmTensors {
  /** A⁻¹_a, K×d×d. */
  readonly aInv: Tensor;
  /** θ_a = A⁻¹_a(b_a − B_a β), K×d. */
  readonly theta: Tensor;
  /** D_a = A⁻¹_a B_a L, K×d×k. */
  readonly dMat: Tensor;
}

/** The shared part of a hybrid model's state, as the score reads it. */
export interface HybridSharedTensors {
  /** L, k×k lower triangular with zeros above the diagonal, A0⁻¹ = L Lᵀ (cholesky of A0⁻¹). */
  readonly l: Tensor;
  /** β = A0⁻¹ b0, k. */
  readonly beta: Tensor;
}

export interface HybridScoresOptions {
  /** Width of the confidence bonus, finite and ≥ 0. */
  readonly alpha: number;
  /** B×Ktotal scores; only columns armOffset … armOffset+K−1 are written. Required when armOffset > 0. */
  readonly out?: Tensor;
  /** Arm (of x's and z's arm axis, and column of `out`) of this shard's first arm; default 0. */
  readonly armOffset?: number;
}

/**
 * Hybrid LinUCB scores (Li et al. 2010, Algorithm 2) of one shard of arms:
 * out[i, armOffset + a] = θ_aᵀx + βᵀz + α·sqrt(max(xᵀA⁻¹_a x + ‖Lᵀz − D_aᵀx‖², 0)) with
 * x = x[i, armOffset + a], z = z[i, armOffset + a]. With D_a = A⁻¹_a B_a L and A0⁻¹ = L Lᵀ the
 * form is Algorithm 2's s_{t,a}; see shaders/hybrid.wgsl. A NaN form gives a NaN score; other
 * columns of `out` are left as they are.
 *
 * @example
 * // x: B×K×d, z: B×K×k; per-arm state of K arms, shared L and β
 * const scores = hybridScores(backend, x, z, { aInv, theta, dMat }, { l, beta }, { alpha: 1 });
 */
export function hybridScores(
  backend: Backend, x: Tensor, z: Tensor, arms: HybridArmTensors, shared: HybridSharedTensors, options: HybridScoresOptions,
): Tensor {
  const op = 'hybridScores';
  const { aInv, theta, dMat } = arms ?? ({} as HybridArmTensors);
  const { l, beta } = shared ?? ({} as HybridSharedTensors);
  for (const [name, t] of [['x', x], ['z', z], ['aInv', aInv], ['theta', theta], ['dMat', dMat], ['l', l], ['beta', beta]] as const) {
    checkTensor(backend, t, name, op);
  }
  const { alpha, armOffset } = scoreOptions(op, options);
  const { batch: count, d } = squareMatrices(aInv, 'aInv', op);
  const { batch: one, d: k } = squareMatrices(l, 'l', op);
  if (one !== 1) throw new BanditError(`${op}: l must be one k×k matrix, got [${l.shape.join(', ')}]`);
  checkVectors(theta, 'theta', op, count, d);
  const D = asMatrices(dMat, 'dMat', op);
  if (D.batch !== count || D.rows !== d || D.cols !== k) {
    throw new BanditError(`${op}: dMat must be ${count}×${d}×${k}, got [${dMat.shape.join(', ')}]`);
  }
  if (beta.shape.length !== 1 || beta.shape[0] !== k) throw new BanditError(`${op}: beta must hold ${k} values, got [${beta.shape.join(', ')}]`);
  const needArms = armOffset + count;
  if (x.shape.length !== 3 || x.shape[2] !== d || x.shape[1]! < needArms) {
    throw new BanditError(`${op}: x must be B×Ktotal×${d} with Ktotal ≥ ${needArms} (armOffset ${armOffset} + ${count} arms), got [${x.shape.join(', ')}]`);
  }
  const rows = x.shape[0]!, xArms = x.shape[1]!;
  if (z.shape.length !== 3 || z.shape[0] !== rows || z.shape[1] !== xArms || z.shape[2] !== k) {
    throw new BanditError(`${op}: z must be ${rows}×${xArms}×${k} (x's rows and arms, k = ${k}), got [${z.shape.join(', ')}]`);
  }
  let out = options.out;
  if (out) {
    checkTensor(backend, out, 'out', op);
    checkDistinct(op, ['out', out], ['x', x], ['z', z], ['aInv', aInv], ['theta', theta], ['dMat', dMat], ['l', l], ['beta', beta]);
    if (out.shape.length !== 2 || out.shape[0] !== rows || out.shape[1] !== xArms) {
      throw new BanditError(`${op}: out must be ${rows}×${xArms} (x's rows and arms), got [${out.shape.join(', ')}]`);
    }
  } else {
    if (armOffset > 0) throw new BanditError(`${op}: out is required when armOffset > 0`);
    if (xArms !== count) throw new BanditError(`${op}: out is required when x has more arms (${xArms}) than the state (${count})`);
    out = backend.zeros([rows, count], { label: 'hybridScores out' });
  }
  const args: HybridScoresArgs = {
    x, z, aInv, theta, dMat, l, beta, out, rows, arms: count, d, k, xArms, outCols: out.shape[1]!, armOffset, alpha,
  };
  backend.ops.hybridScores(args);
  return out;
}

/** The per-arm state hybridArmUpdate keeps current. */
export interface HybridInverses {
  /** A⁻¹_a, K×d×d (symmetric). */
  readonly aInv: Tensor;
  /** C_a = A⁻¹_a B_a, K×d×k. */
  readonly c: Tensor;
  /** φ_a = A⁻¹_a b_a, K×d. */
  readonly phi: Tensor;
}

/** What hybridArmUpdate writes by row: A0 += WᵀW and b0 += Wᵀρ is the batch's shared update. */
export interface HybridUpdateRows {
  /** U×k, w_u = √s·(z_u − C_aᵀx_u). */
  readonly w: Tensor;
  /** U, ρ_u = √s·(r_u − φ_aᵀx_u). */
  readonly rho: Tensor;
}

/**
 * Applies observations (x_u, z_u, r_u) of arms[u] to A⁻¹, C = A⁻¹B and φ = A⁻¹b in order (rows
 * of one arm one after another, arms in parallel), as Algorithm 2's A_a += xxᵀ, B_a += xzᵀ,
 * b_a += r·x do to them: with y = A⁻¹x, u = Cᵀx, e = φᵀx and s = 1/(1 + xᵀy),
 * A⁻¹ −= s·y yᵀ, C += s·y (z − u)ᵀ, φ += s·y (r − e), each with the arm's state before the row.
 * Row u of `w` and `rho` gets √s·(z − u) and √s·(r − e): Algorithm 2's change of A0 and b0 for
 * that row is w wᵀ and w ρ (the Schur complement; see shaders/hybrid.wgsl). `xz` holds rows
 * [x | z] (one binding: the kernel uses the 8 storage bindings WebGPU guarantees).
 *
 * @example
 * const { w, rho } = hybridArmUpdate(backend, { aInv, c, phi }, xz, arms, rewards);
 * gemm(backend, w, w, { transA: true, c: a0, beta: 1 });        // A0 += WᵀW
 * matVec(backend, w, rho, { trans: true, y: b0, beta: 1 });     // b0 += Wᵀρ
 */
export function hybridArmUpdate(
  backend: Backend, state: HybridInverses, xz: Tensor, arms: Int32Array, rewards: Float32Array, out?: HybridUpdateRows,
): HybridUpdateRows {
  const op = 'hybridArmUpdate';
  const { aInv, c, phi } = state ?? ({} as HybridInverses);
  for (const [name, t] of [['aInv', aInv], ['c', c], ['phi', phi], ['xz', xz]] as const) checkTensor(backend, t, name, op);
  const { batch: matrices, d } = squareMatrices(aInv, 'aInv', op);
  const C = asMatrices(c, 'c', op);
  if (C.batch !== matrices || C.rows !== d) throw new BanditError(`${op}: c must be ${matrices}×${d}×k, got [${c.shape.join(', ')}]`);
  const k = C.cols;
  checkVectors(phi, 'phi', op, matrices, d);
  if (xz.shape.length !== 2 || xz.shape[1] !== d + k) {
    throw new BanditError(`${op}: xz must be U×${d + k} (rows [x | z]), got [${xz.shape.join(', ')}]`);
  }
  const count = xz.shape[0]!;
  checkArmIndices(op, arms, count, matrices);
  checkWeights(op, 'rewards', rewards, count);
  let w = out?.w, rho = out?.rho;
  if (w || rho) {
    if (!w || !rho) throw new BanditError(`${op}: give both w and rho, or neither`);
    checkTensors(backend, op, { w, rho });
    if (w.shape.length !== 2 || w.shape[0] !== count || w.shape[1] !== k) throw new BanditError(`${op}: w must be ${count}×${k}, got [${w.shape.join(', ')}]`);
    if (rho.shape.length !== 1 || rho.shape[0] !== count) throw new BanditError(`${op}: rho must hold ${count} values, got [${rho.shape.join(', ')}]`);
  } else {
    w = backend.zeros([count, k], { label: 'hybridArmUpdate w' });
    rho = backend.zeros([count], { label: 'hybridArmUpdate rho' });
  }
  checkDistinct(op, ['aInv', aInv], ['c', c], ['phi', phi], ['xz', xz], ['w', w], ['rho', rho]);
  const args: HybridArmUpdateArgs = { aInv, c, phi, xz, arms, rewards, w, rho, count, d, k, matrices };
  backend.ops.hybridArmUpdate(args);
  return { w, rho };
}

/**
 * M_k += x_u z_uᵀ for every row u with arms[u] = k (M: K×d×k, x: U×d, z: U×k), rows of one arm
 * in order. For hybrid LinUCB: B_a += x zᵀ.
 *
 * @example
 * scatterOuterAdd(backend, bMat, x, z, new Int32Array([3, 0, 3]));
 */
export function scatterOuterAdd(backend: Backend, m: Tensor, x: Tensor, z: Tensor, arms: Int32Array): void {
  const op = 'scatterOuterAdd';
  checkTensors(backend, op, { m, x, z });
  checkDistinct(op, ['m', m], ['x', x], ['z', z]);
  const M = asMatrices(m, 'm', op);
  const d = M.rows, k = M.cols;
  if (x.shape.length !== 2 || x.shape[1] !== d) throw new BanditError(`${op}: x must be U×${d}, got [${x.shape.join(', ')}]`);
  const count = x.shape[0]!;
  if (z.shape.length !== 2 || z.shape[0] !== count || z.shape[1] !== k) {
    throw new BanditError(`${op}: z must be ${count}×${k}, got [${z.shape.join(', ')}]`);
  }
  checkArmIndices(op, arms, count, M.batch);
  const args: OuterAddArgs = { m, x, z, arms, count, d, k, matrices: M.batch };
  backend.ops.scatterOuterAdd(args);
}
