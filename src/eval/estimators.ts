/**
 * Off-policy estimators of the value V(π_e) = E_x E_{a~π_e(·|x)} [r] of a target policy π_e from
 * a log collected by a behaviour policy π_b, with the definitions of Open Bandit Pipeline (Saito
 * et al., NeurIPS 2021 Datasets and Benchmarks; `obp/ope/estimators.py`), term by term.
 *
 * Notation (OBP's): E_n[·] is the mean over the n logged rows; w(x_i,a_i) = π_e(a_i|x_i) /
 * π_b(a_i|x_i) is the importance weight (`iw`); q̂(x_i,a) the reward model's estimate
 * (`estimated_rewards_by_reg_model`); q̂(x_i,a_i) its value at the logged action
 * (`q_hat_factual`); q̂(x_i,π_e) = Σ_a π_e(a|x_i) q̂(x_i,a) / Σ_a π_e(a|x_i) its value under the
 * target policy (`np.average(q_hat, weights=pi_e)`). Every estimator is E_n of a per-row term —
 * OBP's `_estimate_round_rewards` — which the bootstrap (bootstrap.ts) resamples.
 *
 * The input has one position (OBP's len_list = 1); for a log over several positions see
 * `EstimatorInput` (position-wise evaluation, exactly OBP's estimate with `position`). Host
 * float64; one pass over the n×K input to validate it, one over the rows to estimate: 10⁶ rows ×
 * K = 10 took 0.09–0.11 s an estimator on 2 lightly loaded cores (bench/ope.ts).
 */
import { BanditError } from '../core/errors.js';
import { checkEstimatorInput, type CheckedInput, type EstimatorInput } from './estimator-input.js';

/** Options of `ipsEstimate` and `drEstimate`. */
export interface ClippingOptions {
  /**
   * λ > 0, the largest importance weight used: each w is replaced by min(w, λ) (OBP's `lambda_`,
   * "a maximum possible value of the importance weight"; OBP's docs ask λ > 0). Less variance,
   * biased down. Default ∞: no clipping.
   */
  readonly maxWeight?: number;
}

/** Options of `switchDrEstimate`. */
export interface SwitchDrOptions {
  /**
   * τ ≥ 0, the switching threshold on the importance weight (OBP's `lambda_` of
   * `SwitchDoublyRobust`; `tau` in OBP before v0.5): rows with w ≤ τ take DR's correction, rows
   * with w > τ the reward model alone. τ = ∞ is DR, τ = 0 is DM wherever w > 0. Required: it is
   * the estimator's one choice (OBP's default ∞ would silently be plain DR).
   */
  readonly tau: number;
}

/** Options of `drosEstimate`. */
export interface DrosOptions {
  /**
   * λ ≥ 0, the shrinkage of the importance weight (OBP's `lambda_` of `DoublyRobustWithShrinkage`):
   * w becomes ŵ = λw / (w² + λ). λ = 0 is DM, λ → ∞ is DR (∞ is accepted and gives DR exactly).
   * Required: OBP's default 0 would silently be DM.
   */
  readonly lambda: number;
}

/**
 * The estimators by the names `bootstrapInterval` takes (OBP's `estimator_name` is in each one's doc).
 *
 * @example
 * for (const estimator of ESTIMATOR_NAMES) if (estimator !== 'switch-dr' && estimator !== 'dros') console.log(estimator, bootstrapInterval(input, { estimator }));
 */
export const ESTIMATOR_NAMES = ['dm', 'ips', 'snips', 'dr', 'sndr', 'switch-dr', 'dros'] as const;
export type EstimatorName = (typeof ESTIMATOR_NAMES)[number];

/** Every estimator option, each read only by the estimators it belongs to. */
export type AnyEstimatorOptions = Partial<ClippingOptions & SwitchDrOptions & DrosOptions>;

function thresholdOption(op: string, name: string, value: unknown, fallback: number | null, positive: boolean): number {
  if (value === undefined) {
    if (fallback === null) throw new BanditError(`${op}: option ${name} is required (a number ${positive ? '> 0' : '≥ 0'}, Infinity allowed)`);
    return fallback;
  }
  if (typeof value !== 'number' || Number.isNaN(value) || (positive ? !(value > 0) : !(value >= 0))) {
    throw new BanditError(`${op}: option ${name} must be a number ${positive ? '> 0' : '≥ 0'} (Infinity allowed), got ${String(value)}`);
  }
  return value;
}

function options<T extends object>(op: string, value: T | undefined): Partial<T> {
  if (value === undefined) return {};
  if (value === null || typeof value !== 'object') throw new BanditError(`${op}: options must be an object, got ${String(value)}`);
  return value;
}

/** E_n[w(x_i,a_i)], the denominator of the self-normalised estimators (0 when π_e never takes a logged action). */
function meanWeight(c: CheckedInput): number {
  let s = 0;
  for (let i = 0; i < c.n; i++) s += c.weights[i]!;
  return s / c.n;
}

/** n per-row terms (a plain loop: `Float64Array.from` with a map function walks an iterator, 2–3× slower). */
function perRow(n: number, term: (i: number) => number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = term(i);
  return out;
}

/** Per-row terms of the DR family: q̂(x_i,π_e) + ŵ_i (r_i − q̂(x_i,a_i)), ŵ_i = shrink(w_i). */
function doublyRobustRounds(c: CheckedInput, shrink: (w: number) => number): Float64Array {
  const model = c.modelValue!, factual = c.factual!;
  return perRow(c.n, (i) => model[i]! + shrink(c.weights[i]!) * (c.rewards[i]! - factual[i]!));
}

/**
 * The per-row terms whose mean is the named estimator (OBP's `_estimate_round_rewards`), of an
 * input already checked (with the reward model where the estimator needs one). `op` names the
 * caller in messages about options.
 *
 * @example
 * const rounds = roundRewards('dr', checkEstimatorInput('mine', input, true), {}, 'mine');
 */
export function roundRewards(name: EstimatorName, c: CheckedInput, opts: AnyEstimatorOptions | undefined, op: string): Float64Array {
  const o = options(op, opts);
  switch (name) {
    case 'dm':
      return c.modelValue!.slice();
    case 'ips': {
      const cap = thresholdOption(op, 'maxWeight', o.maxWeight, Infinity, true);
      return perRow(c.n, (i) => Math.min(c.weights[i]!, cap) * c.rewards[i]!);
    }
    case 'snips': {
      const mean = meanWeight(c);
      return perRow(c.n, (i) => (c.weights[i]! * c.rewards[i]!) / mean);
    }
    case 'dr': {
      const cap = thresholdOption(op, 'maxWeight', o.maxWeight, Infinity, true);
      return doublyRobustRounds(c, (w) => Math.min(w, cap));
    }
    case 'sndr': {
      const mean = meanWeight(c);
      return doublyRobustRounds(c, (w) => w / mean);
    }
    case 'switch-dr': {
      const tau = thresholdOption(op, 'tau', o.tau, null, false);
      return doublyRobustRounds(c, (w) => (w <= tau ? w : 0));
    }
    case 'dros': {
      const lambda = thresholdOption(op, 'lambda', o.lambda, null, false);
      // OBP evaluates λw/(w²+λ) as written, 0/0 = NaN at w = 0 and λ = 0; the limit (and λ's
      // meaning, "λ = 0 is DM") is 0, taken here.
      return doublyRobustRounds(c, (w) => (lambda === Infinity ? w : w === 0 ? 0 : (lambda * w) / (w * w + lambda)));
    }
  }
  throw new BanditError(`${op}: unknown estimator '${String(name)}'; choose from ${ESTIMATOR_NAMES.join(', ')}`);
}

/** Whether the named estimator reads `estimatedRewards`. */
export const needsRewardModel = (name: EstimatorName): boolean => name !== 'ips' && name !== 'snips';

/** E_n of the per-row terms. NaN stays NaN (a self-normalised estimator with no weight). */
export function mean(values: Float64Array): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i]!;
  return s / values.length;
}

function estimate(op: string, name: EstimatorName, input: EstimatorInput, opts: AnyEstimatorOptions | undefined): number {
  return mean(roundRewards(name, checkEstimatorInput(op, input, needsRewardModel(name)), opts, op));
}

/**
 * Direct method (OBP `DirectMethod`, 'dm'): the reward model's value of the target policy,
 *
 *     V̂_DM = E_n[ q̂(x_i, π_e) ] = E_n[ Σ_a π_e(a|x_i) q̂(x_i,a) ]
 *
 * low variance, but as biased as the reward model. Reads `targetDistribution` and
 * `estimatedRewards` (the rest of the input is checked all the same, so one input serves every
 * estimator).
 *
 * @example
 * // Row 0: 0.2·0.1 + 0.8·0.6 = 0.5; row 1: 1·0.3 = 0.3 → (0.5 + 0.3) / 2 = 0.4
 * dmEstimate({ rewards: [1, 0], actions: [1, 0], propensities: [0.5, 0.5],
 *   targetDistribution: [0.2, 0.8, 1, 0], estimatedRewards: [0.1, 0.6, 0.3, 0.9] });   // 0.4
 */
export function dmEstimate(input: EstimatorInput): number {
  return estimate('dmEstimate', 'dm', input, undefined);
}

/**
 * Inverse propensity scoring (OBP `InverseProbabilityWeighting`, 'ipw'):
 *
 *     V̂_IPS = E_n[ ŵ(x_i,a_i) r_i ],   ŵ = min(w, λ)  (λ = `maxWeight`, default ∞)
 *
 * unbiased without clipping when π_b gives every action π_e takes a positive probability; its
 * variance grows with the weights. Clipping trades it for a downward bias.
 *
 * @example
 * // The target always plays action 0: w = [1/0.5, 0/0.5] = [2, 0] → (2·1 + 0·1) / 2 = 1
 * const input = { rewards: [1, 1], actions: [0, 1], propensities: [0.5, 0.5], targetDistribution: [1, 0, 1, 0] };
 * ipsEstimate(input);                       // 1
 * ipsEstimate(input, { maxWeight: 1.5 });   // (1.5·1 + 0) / 2 = 0.75
 */
export function ipsEstimate(input: EstimatorInput, options?: ClippingOptions): number {
  return estimate('ipsEstimate', 'ips', input, options);
}

/**
 * Self-normalised IPS (OBP `SelfNormalizedInverseProbabilityWeighting`, 'snipw'):
 *
 *     V̂_SNIPS = E_n[ w(x_i,a_i) r_i ] / E_n[ w(x_i,a_i) ]
 *
 * slightly biased, consistent, of lower variance than IPS and always within the rewards' range.
 * No clipping (OBP's SNIPW ignores `lambda_`). NaN when every weight is 0 (π_e never takes a
 * logged action; OBP's 0/0).
 *
 * @example
 * // w = [2, 0, 2] → (2·1 + 0 + 2·0) / (2 + 0 + 2) = 0.5
 * snipsEstimate({ rewards: [1, 1, 0], actions: [0, 1, 0], propensities: [0.5, 0.5, 0.5], targetDistribution: [1, 0, 1, 0, 1, 0] });   // 0.5
 */
export function snipsEstimate(input: EstimatorInput): number {
  return estimate('snipsEstimate', 'snips', input, undefined);
}

/**
 * Doubly robust (OBP `DoublyRobust`, 'dr'; Dudík, Erhan, Langford, Li 2014):
 *
 *     V̂_DR = E_n[ q̂(x_i,π_e) + ŵ(x_i,a_i) (r_i − q̂(x_i,a_i)) ],   ŵ = min(w, λ)  (λ = `maxWeight`, default ∞)
 *
 * the reward model corrected by IPS on its residuals: unbiased when the propensities are right,
 * consistent when either they or the model are. With a finite `maxWeight` it is OBP's DR with
 * clipping (pessimistic shrinkage, Su et al. 2020).
 *
 * @example
 * // Row 0: q̂(π) = 0.6, w = 2, residual 1 − 0.6 → 0.6 + 0.8 = 1.4; row 1: q̂(π) = 0.6, w = 0 → 0.6
 * drEstimate({ rewards: [1, 0], actions: [1, 0], propensities: [0.5, 0.5],
 *   targetDistribution: [0, 1, 0, 1], estimatedRewards: [0.2, 0.6, 0.2, 0.6] });   // (1.4 + 0.6) / 2 = 1
 */
export function drEstimate(input: EstimatorInput, options?: ClippingOptions): number {
  return estimate('drEstimate', 'dr', input, options);
}

/**
 * Self-normalised doubly robust (OBP `SelfNormalizedDoublyRobust`, 'sndr'):
 *
 *     V̂_SNDR = E_n[ q̂(x_i,π_e) + w(x_i,a_i) (r_i − q̂(x_i,a_i)) / E_n[w(x_i,a_i)] ]
 *
 * DR with the weights divided by their mean, as SNIPS does for IPS. No clipping (OBP's SNDR
 * ignores `lambda_`). NaN when every weight is 0 (OBP's 0/0).
 *
 * @example
 * // w = [2, 0], E_n[w] = 1: the same as DR on this log → 1
 * sndrEstimate({ rewards: [1, 0], actions: [1, 0], propensities: [0.5, 0.5],
 *   targetDistribution: [0, 1, 0, 1], estimatedRewards: [0.2, 0.6, 0.2, 0.6] });   // 1
 */
export function sndrEstimate(input: EstimatorInput): number {
  return estimate('sndrEstimate', 'sndr', input, undefined);
}

/**
 * Switch doubly robust (OBP `SwitchDoublyRobust`, 'switch-dr'; Wang, Agarwal, Dudík 2017):
 *
 *     V̂_SwitchDR = E_n[ q̂(x_i,π_e) + w(x_i,a_i) (r_i − q̂(x_i,a_i)) 𝕀{ w(x_i,a_i) ≤ τ } ]
 *
 * DR where the weight is small, the reward model alone where it is over τ (OBP's `lambda_`).
 *
 * @example
 * // w = [2, 4]; τ = 3 keeps row 0's correction only: (0.5 + 2·0.5 + 0.5) / 2 = 1
 * switchDrEstimate({ rewards: [1, 1], actions: [0, 0], propensities: [0.5, 0.25],
 *   targetDistribution: [1, 0, 1, 0], estimatedRewards: [0.5, 0, 0.5, 0] }, { tau: 3 });   // 1
 */
export function switchDrEstimate(input: EstimatorInput, options: SwitchDrOptions): number {
  return estimate('switchDrEstimate', 'switch-dr', input, options);
}

/**
 * Doubly robust with optimistic shrinkage (OBP `DoublyRobustWithShrinkage`, 'dr-os'; Su,
 * Dimakopoulou, Krishnamurthy, Dudík, ICML 2020):
 *
 *     V̂_DRos = E_n[ q̂(x_i,π_e) + ŵ(x_i,a_i; λ) (r_i − q̂(x_i,a_i)) ],   ŵ(x,a; λ) = λ w(x,a) / (w(x,a)² + λ)
 *
 * the weight shrunk towards 0, the more the larger it is; λ = 0 is DM, λ = ∞ is DR. (OBP's
 * docstring writes one more factor w in the formula; its code and the paper shrink w to ŵ as
 * here.)
 *
 * @example
 * // w = [2, 0]; λ = 4: ŵ = 4·2 / (4 + 4) = 1 → (0.5 + 1·0.5 + 0.5) / 2 = 0.75
 * drosEstimate({ rewards: [1, 0], actions: [0, 1], propensities: [0.5, 0.5],
 *   targetDistribution: [1, 0, 1, 0], estimatedRewards: [0.5, 0, 0.5, 0] }, { lambda: 4 });   // 0.75
 */
export function drosEstimate(input: EstimatorInput, options: DrosOptions): number {
  return estimate('drosEstimate', 'dros', input, options);
}
