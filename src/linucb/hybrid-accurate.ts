import { refinesState } from '../core/limits.js';
import { pickRows, type ArmShards, type Shard } from '../models/arm-shards.js';
import { accumulateOuter, refineSolve } from '../ops/accurate.js';
import { gemm, matVec } from '../ops/gemm.js';
import { hybridArmUpdate } from '../ops/hybrid.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

// HybridLinUCB's per-arm numerics (docs/numerics.md): Algorithm 2's sums A, B, b in float-float,
// C = A⁻¹B and φ = A⁻¹b refined against them after every batch (f32 backends) and on
// re-factorisation, so the shared rows w = √s·(z − Cᵀx), ρ = √s·(r − φᵀx) of the next batch start
// from an accurate C and φ.

/**
 * The per-arm state. A, B, b are Algorithm 2's sums (float-float: hi and lo); A⁻¹, C = A⁻¹B and
 * φ = A⁻¹b are kept current row by row (hybridArmUpdate) and refined from A, B, b after each batch
 * and on re-factorisation; θ = φ − Cβ and D = C·L follow β and L, so they are refreshed for every
 * arm after each batch.
 */
export type HybridField = 'a' | 'aLo' | 'aInv' | 'bMat' | 'bMatLo' | 'c' | 'b' | 'bLo' | 'phi' | 'dMat' | 'theta';

/** refineSolve steps for C and φ on f32 backends, from 0 (the first is X·B): measured in docs/numerics.md. */
const SOLVE_STEPS = 2;

/** C = A⁻¹B and φ = A⁻¹b of the `local` arms of a shard (null: all) from their kept A⁻¹, refined against A, B, b. */
export function solveHybridArms(backend: Backend, { t, arms }: Shard<HybridField>, local: Int32Array | null): void {
  const list = local ?? Int32Array.from({ length: arms }, (_, k) => k);
  const a = { hi: t.a, lo: t.aLo }, steps = { iterations: refinesState(backend.kind) ? SOLVE_STEPS : 1, restart: true };
  refineSolve(backend, a, { hi: t.bMat, lo: t.bMatLo }, t.aInv, t.c, list, steps);
  refineSolve(backend, a, { hi: t.b, lo: t.bLo }, t.aInv, t.phi, list, steps);
}

/** What encodeHybridRows needs of the model. */
export interface HybridRowsTarget {
  readonly backend: Backend;
  readonly state: ArmShards<HybridField>;
  /** A0 and b0, which every row's w wᵀ and w ρ are added to. */
  readonly shared: { readonly a0: Tensor; readonly b0: Tensor };
  readonly dim: number;
  readonly sharedDim: number;
  /** The model's kept scratch tensor of a key. */
  readonly scratch: (key: string, shape: number[]) => Tensor;
}

/**
 * Encodes a batch of checked rows [x | z] (weighted by √w already): per shard, the rows of its arms
 * in order (inverses, then A, B, b in float-float, then C and φ refined on f32 backends), and each
 * shard's WᵀW and Wᵀρ into A0 and b0. Uploads come first so the dispatches share one step.
 */
export function encodeHybridRows(m: HybridRowsTarget, arms: Int32Array, xz: Float32Array, r: Float32Array): void {
  const { backend: b, dim: d, sharedDim: k } = m;
  const work = m.state.split(arms).map((g) => {
    const n = g.rows.length, key = (what: string) => `update ${what} [${g.shard.offset}..)`;
    const xzs = pickRows(xz, g.rows, d + k), xs = new Float32Array(n * d), zs = new Float32Array(n * k);
    for (let j = 0; j < n; j++) {
      xs.set(xzs.subarray(j * (d + k), j * (d + k) + d), j * d);
      zs.set(xzs.subarray(j * (d + k) + d, (j + 1) * (d + k)), j * k);
    }
    const upload = (what: string, data: Float32Array, shape: number[]) => {
      const t = m.scratch(key(what), shape);
      b.write(t, data);
      return t;
    };
    return {
      ...g, rs: pickRows(r, g.rows, 1),
      tx: upload('x', xs, [n, d]), tz: upload('z', zs, [n, k]), txz: upload('[x | z]', xzs, [n, d + k]),
      out: { w: m.scratch(key('w'), [n, k]), rho: m.scratch(key('ρ'), [n]) },
    };
  });
  const { a0, b0 } = m.shared;
  for (const { shard, local, rs, tx, tz, txz, out } of work) {
    const t = shard.t;
    const { w, rho } = hybridArmUpdate(b, t, txz, local, rs, out);
    const ones = new Float32Array(local.length).fill(1);
    accumulateOuter(b, { hi: t.a, lo: t.aLo }, tx, local, ones);
    accumulateOuter(b, { hi: t.bMat, lo: t.bMatLo }, tx, local, ones, tz);
    accumulateOuter(b, { hi: t.b, lo: t.bLo }, tx, local, rs);
    // float64 state keeps C and φ by Sherman–Morrison as they are; f32 refines them from A, B, b.
    if (refinesState(b.kind)) solveHybridArms(b, shard, local);
    gemm(b, w, w, { transA: true, c: a0, beta: 1 });
    matVec(b, w, rho, { trans: true, y: b0, beta: 1 });
  }
}
