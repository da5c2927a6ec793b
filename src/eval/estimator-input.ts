/**
 * The one input of every off-policy estimator, its validation, and the per-row quantities the
 * estimators share (importance weights, the reward model's value of the target policy).
 */
import { checkFiniteValues, isNumberArray } from '../core/check.js';
import { BanditError } from '../core/errors.js';

/**
 * Logged bandit feedback and the evaluated (target) policy, one entry a logged row i = 0..n−1 over
 * K actions; the names of Open Bandit Pipeline (OBP, `obp/ope/estimators.py`) in brackets.
 *
 * OBP's arrays carry a third axis, the position in a list of len_list slots; here there is one
 * position (OBP's `position = None`, len_list = 1). A log over several positions — the Open
 * Bandit Dataset shows 3 items at once — is evaluated position-wise as OBP does: give row i the
 * target policy's distribution and the reward model's estimates AT ITS LOGGED POSITION p_i
 * (OBP's `action_dist[i, :, p_i]` and `estimated_rewards_by_reg_model[i, :, p_i]`), and every
 * estimator returns exactly OBP's value with `position` (each OBP estimator is a mean over rows
 * of a term that reads only the row's own position slice).
 *
 * @example
 * // 2 rows, K = 2, logged uniformly; the target plays action 1 with probability 0.8
 * const input: EstimatorInput = {
 *   rewards: [1, 0], actions: [1, 0], propensities: [0.5, 0.5],
 *   targetDistribution: [0.2, 0.8, 0.2, 0.8],
 *   estimatedRewards: [0.1, 0.6, 0.1, 0.6],
 * };
 */
export interface EstimatorInput {
  /** r_i, n finite rewards [`reward`]. */
  readonly rewards: ArrayLike<number>;
  /** a_i, n logged actions, integers in 0..K−1 [`action`]. */
  readonly actions: ArrayLike<number>;
  /** π_b(a_i | x_i), n propensities of the logging (behaviour) policy, in (0, 1] [`pscore`]. */
  readonly propensities: ArrayLike<number>;
  /**
   * π_e(a | x_i), n×K row-major: the target policy's probability of every action in row i's
   * context (one-hot rows for a deterministic policy) [`action_dist[:, :, 0]`]. Each entry in
   * [0, 1], each row summing to 1 within `DISTRIBUTION_TOLERANCE`. K is its length / n.
   */
  readonly targetDistribution: ArrayLike<number>;
  /**
   * q̂(x_i, a), n×K row-major: a reward model's expected reward of every action in row i's
   * context [`estimated_rewards_by_reg_model[:, :, 0]`]. Required by DM and the DR family; the
   * importance-sampling estimators ignore it.
   */
  readonly estimatedRewards?: ArrayLike<number>;
}

/**
 * How far a row of `targetDistribution` may sum from 1: OBP's `np.allclose(action_dist.sum(axis=1), 1)`,
 * |Σ_a π_e(a|x_i) − 1| ≤ 1e-8 + 1e-5 (numpy's default atol + rtol·1). Wide enough for a softmax
 * computed in float32 and stored in a Float32Array.
 *
 * @example
 * const sum = row.reduce((s, p) => s + p, 0);
 * if (Math.abs(sum - 1) > DISTRIBUTION_TOLERANCE) renormalise(row);
 */
export const DISTRIBUTION_TOLERANCE = 1e-8 + 1e-5;

/** A validated input: its sizes and the per-row quantities every estimator reads. */
export interface CheckedInput {
  readonly n: number;
  readonly k: number;
  readonly rewards: ArrayLike<number>;
  /** w_i = π_e(a_i|x_i) / π_b(a_i|x_i), OBP's `iw`. */
  readonly weights: Float64Array;
  /** q̂(x_i, a_i), the reward model at the logged action (OBP's `q_hat_factual`); null without `estimatedRewards`. */
  readonly factual: Float64Array | null;
  /**
   * q̂(x_i, π_e) = Σ_a π_e(a|x_i) q̂(x_i,a) / Σ_a π_e(a|x_i): OBP's `np.average(q_hat, weights=pi_e, axis=1)`,
   * which divides by the row sum (1 within the tolerance); null without `estimatedRewards`.
   */
  readonly modelValue: Float64Array | null;
}

const INPUT_SHAPE = '{ rewards, actions, propensities, targetDistribution, estimatedRewards? }';

function column(op: string, input: EstimatorInput, name: keyof EstimatorInput): ArrayLike<number> {
  const v = input[name];
  if (!isNumberArray(v)) throw new BanditError(`${op}: input.${name} must be a typed array or an array of numbers, got ${v === null ? 'null' : typeof v}`);
  return v;
}

/**
 * Checks an estimator input and computes the shared per-row quantities. Throws a BanditError
 * naming the field and the row (and action) at fault: lengths that disagree, an empty log, a
 * non-finite value, an action that is not an integer in 0..K−1, a propensity outside (0, 1], a
 * target probability outside [0, 1] or a row that does not sum to 1, and — when
 * `needsRewardModel` — a missing `estimatedRewards`.
 *
 * @example
 * const { n, k, weights } = checkEstimatorInput('ipsEstimate', input, false);
 */
export function checkEstimatorInput(op: string, input: EstimatorInput, needsRewardModel: boolean): CheckedInput {
  if (input === null || typeof input !== 'object') throw new BanditError(`${op}: input must be ${INPUT_SHAPE}`);
  const rewards = column(op, input, 'rewards');
  const actions = column(op, input, 'actions');
  const propensities = column(op, input, 'propensities');
  const target = column(op, input, 'targetDistribution');
  const n = rewards.length;
  if (n === 0) throw new BanditError(`${op}: the log is empty (input.rewards has no rows)`);
  if (actions.length !== n || propensities.length !== n) {
    throw new BanditError(`${op}: rewards, actions and propensities must have one entry a row, got ${n}, ${actions.length}, ${propensities.length}`);
  }
  const k = target.length / n;
  if (!Number.isInteger(k) || k < 1) {
    throw new BanditError(`${op}: input.targetDistribution holds ${target.length} values, not n×K for n = ${n} rows (a whole number K ≥ 1 of actions a row)`);
  }
  let estimated: ArrayLike<number> | null = null;
  if (input.estimatedRewards !== undefined) {
    estimated = column(op, input, 'estimatedRewards');
    if (estimated.length !== n * k) {
      throw new BanditError(`${op}: input.estimatedRewards holds ${estimated.length} values, expected n×K = ${n}×${k} = ${n * k} (the shape of targetDistribution)`);
    }
    checkFiniteValues(op, 'input.estimatedRewards', estimated, k);
  } else if (needsRewardModel) {
    throw new BanditError(`${op}: input.estimatedRewards (n×K, the reward model's q̂(x_i, a)) is required by this estimator`);
  }
  checkFiniteValues(op, 'input.rewards', rewards, 1);

  const weights = new Float64Array(n);
  const factual = estimated ? new Float64Array(n) : null;
  const modelValue = estimated ? new Float64Array(n) : null;
  for (let i = 0; i < n; i++) {
    const a = actions[i]!;
    if (!(Number.isInteger(a) && a >= 0 && a < k)) throw new BanditError(`${op}: input.actions[${i}] is ${String(a)}; actions must be integers in 0..${k - 1}`);
    const mu = propensities[i]!;
    if (!(mu > 0 && mu <= 1)) throw new BanditError(`${op}: input.propensities[${i}] is ${String(mu)}; propensities must be in (0, 1]`);
    const o = i * k;
    let total = 0, value = 0;
    for (let j = 0; j < k; j++) {
      const p = target[o + j]!;
      if (!(p >= 0 && p <= 1)) {
        throw new BanditError(`${op}: input.targetDistribution[${o + j}] (row ${i}, action ${j}) is ${String(p)}; probabilities must be in [0, 1]`);
      }
      total += p;
      if (estimated) value += p * estimated[o + j]!;
    }
    if (!(Math.abs(total - 1) <= DISTRIBUTION_TOLERANCE)) {
      throw new BanditError(`${op}: row ${i} of input.targetDistribution sums to ${total}, not 1 (tolerance ${DISTRIBUTION_TOLERANCE.toExponential(2)})`);
    }
    weights[i] = target[o + a]! / mu;
    if (factual && modelValue) {
      factual[i] = estimated![o + a]!;
      modelValue[i] = value / total;
    }
  }
  return { n, k, rewards, weights, factual, modelValue };
}
