import { BanditError } from '../core/errors.js';
import { numberOption } from '../core/check.js';
import { ALPHA_WORDS, LAMBDA_WORDS, MAX_FACTOR_DIM, alphaInRange, lambdaInRange } from '../core/limits.js';
import { inverseHealthOptions, type InverseHealthOptions } from '../models/inverse-health.js';
import type { DelayedRewardCounts } from '../models/pending.js';

/** What LinUCB and HybridLinUCB both take beside their sizes. */
export interface RidgeOptions extends InverseHealthOptions {
  /** Width of the confidence bonus (≥ 0). */
  readonly alpha: number;
  /** Ridge regularisation: every A starts as λI (> 0). */
  readonly lambda: number;
}

/**
 * α (default 1), λ (default 1) and the drift control (see inverseHealthOptions), checked.
 *
 * @example
 * const { alpha, lambda, driftBound } = ridgeOptions('LinUCB', options);
 */
export function ridgeOptions(model: string, o: Partial<RidgeOptions>): RidgeOptions {
  const alpha = numberOption(model, 'alpha', o.alpha, 1, alphaInRange, ALPHA_WORDS);
  const lambda = numberOption(model, 'lambda', o.lambda, 1, lambdaInRange, LAMBDA_WORDS);
  return { alpha, lambda, ...inverseHealthOptions(model, o) };
}

/**
 * Refuses a matrix order the batched factorisation (one workgroup a matrix) cannot take.
 *
 * @example
 * checkFactorDim('HybridLinUCB', 'sharedDim', 300);   // throws: over 256
 */
export function checkFactorDim(model: string, name: string, value: number): void {
  if (value > MAX_FACTOR_DIM) {
    throw new BanditError(`${model}: ${name} = ${value} is over ${MAX_FACTOR_DIM}, the largest the batched factorisation supports`);
  }
}

/**
 * Counters and numerical health every per-arm ridge model reports (LinUCB, LinTS, HybridLinUCB):
 * updates, the per-arm inverses' re-factorisations and drift, plays, the catalogue, the delayed
 * rewards, the shards and the decision stream.
 *
 * @example
 * const { updates, refactorizations, lastDrift, plays } = model.diagnostics();
 */
export interface RidgeDiagnostics {
  /** Update rows applied. */
  readonly updates: number;
  /** Times per-arm A⁻¹ were rebuilt from A. */
  readonly refactorizations: number;
  /**
   * Drift ‖A_a·A_a⁻¹ − I‖∞ at the last measurement, the largest over the arms measured (those
   * updated since the check before; every arm for measureDrift()), or null if never measured.
   */
  readonly lastDrift: number | null;
  readonly driftChecks: number;
  /** Arms whose re-factorisation was skipped because their A_a was not numerically positive definite. */
  readonly failedRefactorizations: number;
  /** Plays per arm. */
  readonly plays: Int32Array;
  /** The retired arms, ascending. */
  readonly retired: Int32Array;
  /** What became of the decisions that waited for a reward. */
  readonly rewards: DelayedRewardCounts;
  /** How the arms are split over tensors (one entry per shard: its arm count). */
  readonly shards: readonly number[];
  /** The decision stream: its seed and the step the next randomised or decide call draws from. */
  readonly decisions: { readonly seed: number; readonly step: number };
}
