import { BanditError } from '../core/errors.js';
import { numberOption } from '../core/check.js';
import { ALPHA_WORDS, LAMBDA_WORDS, MAX_FACTOR_DIM, alphaInRange, lambdaInRange } from '../core/limits.js';
import { inverseHealthOptions, type InverseHealthOptions } from '../models/inverse-health.js';

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
