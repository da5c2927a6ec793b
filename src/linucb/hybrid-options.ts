import { BanditError } from '../core/errors.js';
import { positiveInt } from '../core/check.js';
import { armsPerShardOption, maxArmsPerBinding } from '../models/arm-shards.js';
import { checkFactorDim, ridgeOptions, type RidgeOptions } from './options.js';
import type { Backend } from '../core/backend.js';

const MODEL = 'HybridLinUCB';

/**
 * The contexts of a batch for HybridLinUCB: for every row i and arm a, the arm's own features
 * x_{i,a} (dim values) and the features z_{i,a} (sharedDim values) whose coefficients β all
 * arms share. Both row-major, B×arms×dim and B×arms×sharedDim.
 *
 * @example
 * // Two rows, 3 arms, dim 2, sharedDim 4: z_{i,a} = e.g. user ⊗ article features
 * const contexts = { arm: new Float32Array(2 * 3 * 2), shared: new Float32Array(2 * 3 * 4) };
 * contexts.arm.set([0.1, 0.9], (1 * 3 + 2) * 2);  // x of row 1, arm 2
 */
export interface HybridContexts {
  /** x: B×arms×dim. */
  readonly arm: Float32Array | ArrayLike<number>;
  /** z: B×arms×sharedDim. */
  readonly shared: Float32Array | ArrayLike<number>;
}

/** Options of `HybridLinUCB.create`. */
export interface HybridLinUCBOptions {
  /** Number of arms K. */
  readonly arms: number;
  /** Per-arm feature dimension d (x). */
  readonly dim: number;
  /** Shared feature dimension k (z), ≤ 256. */
  readonly sharedDim: number;
  /** Width of the confidence bonus (≥ 0). Default 1. */
  readonly alpha?: number;
  /** Ridge regularisation: A0 starts as λI_k and every A_a as λI_d (> 0). Default 1. */
  readonly lambda?: number;
  /** Re-factorise A_a⁻¹ from A_a of the arms updated since the last time after this many updates (rows); 0 turns it off. Default 2048. */
  readonly refactorEvery?: number;
  /** Measure the drift ‖A_a·A_a⁻¹ − I‖∞ of the arms updated since the last check after this many updates; 0 turns it off. Default 256. */
  readonly driftCheckEvery?: number;
  /** Re-factorise an arm whose drift passes this. Default 1e-4. */
  readonly driftBound?: number;
  /** Most arms kept in one tensor. Default: as many as one storage binding holds; larger models are split. */
  readonly armsPerShard?: number;
}

/** Counters and numerical health of a HybridLinUCB model. */
export interface HybridLinUCBDiagnostics {
  /** Update rows applied. */
  readonly updates: number;
  /** Times per-arm A⁻¹ were rebuilt from A. */
  readonly refactorizations: number;
  /** Drift ‖A_a·A_a⁻¹ − I‖∞ (largest over the arms measured) at the last measurement, or null if never measured. */
  readonly lastDrift: number | null;
  readonly driftChecks: number;
  /** Arms whose re-factorisation was skipped because their A_a was not numerically positive definite. */
  readonly failedRefactorizations: number;
  /** Times A0⁻¹ could not be rebuilt (A0 not numerically positive definite) and the last one was kept. */
  readonly failedSharedFactorizations: number;
  /** Plays per arm. */
  readonly plays: Int32Array;
  /** How the arms are split over tensors (one entry per shard: its arm count). */
  readonly shards: readonly number[];
}

/** The options with every default filled in. */
export type ResolvedHybridOptions = RidgeOptions & { readonly arms: number; readonly dim: number; readonly sharedDim: number; readonly armsPerShard: number };

/**
 * Checks the options and fills in the defaults.
 *
 * @example
 * const o = resolveHybridOptions(backend, { arms: 50, dim: 6, sharedDim: 36 });   // o.alpha === 1
 */
export function resolveHybridOptions(backend: Backend, o: HybridLinUCBOptions): ResolvedHybridOptions {
  if (!o || typeof o !== 'object') throw new BanditError(`${MODEL}.create: options are required ({ arms, dim, sharedDim, … })`);
  const arms = positiveInt(MODEL, 'arms', o.arms);
  const dim = positiveInt(MODEL, 'dim', o.dim);
  const sharedDim = positiveInt(MODEL, 'sharedDim', o.sharedDim);
  checkFactorDim(MODEL, 'dim', dim);
  checkFactorDim(MODEL, 'sharedDim', sharedDim);
  const ridge = ridgeOptions(MODEL, o);
  const most = maxArmsPerBinding(backend, dim * Math.max(dim, sharedDim));
  const armsPerShard = armsPerShardOption(MODEL, arms, o.armsPerShard, most, `of dim ${dim} and sharedDim ${sharedDim}`);
  return { arms, dim, sharedDim, ...ridge, armsPerShard };
}
