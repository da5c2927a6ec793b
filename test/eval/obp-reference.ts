/**
 * Open Bandit Pipeline's estimators (obp/ope/estimators.py, `_estimate_round_rewards` of each
 * class) transcribed as plain float64 loops over OBP's own layout: action_dist and
 * estimated_rewards_by_reg_model are n×K×L (L = len_list positions, index [i][a][p] at
 * (i·K + a)·L + p) and `position` picks row i's slot. Written apart from src/eval (no helper of it
 * is used), so the tests compare two independent readings of the same definitions.
 */

/** One logged data set in OBP's argument names. */
export interface ObpLog {
  readonly n: number;
  readonly k: number;
  /** len_list. */
  readonly l: number;
  readonly reward: Float64Array;
  readonly action: Int32Array;
  readonly pscore: Float64Array;
  /** n×K×L. */
  readonly actionDist: Float64Array;
  /** n×K×L. */
  readonly qHat: Float64Array;
  /** n positions in 0..L−1. */
  readonly position: Int32Array;
}

const at = (log: ObpLog, i: number, a: number): number => (i * log.k + a) * log.l + log.position[i]!;

/** iw = action_dist[i, a_i, p_i] / pscore[i]. */
function iw(log: ObpLog, i: number): number {
  return log.actionDist[at(log, i, log.action[i]!)]! / log.pscore[i]!;
}

/** np.average(q_hat[i, :, p_i], weights=action_dist[i, :, p_i]). */
function qPi(log: ObpLog, i: number): number {
  let num = 0, den = 0;
  for (let a = 0; a < log.k; a++) {
    num += log.actionDist[at(log, i, a)]! * log.qHat[at(log, i, a)]!;
    den += log.actionDist[at(log, i, a)]!;
  }
  return num / den;
}

function qFactual(log: ObpLog, i: number): number {
  return log.qHat[at(log, i, log.action[i]!)]!;
}

function average(f: (i: number) => number, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += f(i);
  return s / n;
}

export const referenceDm = (log: ObpLog): number => average((i) => qPi(log, i), log.n);

export const referenceIpw = (log: ObpLog, lambda = Infinity): number =>
  average((i) => log.reward[i]! * Math.min(iw(log, i), lambda), log.n);

export function referenceSnipw(log: ObpLog): number {
  const meanIw = average((i) => iw(log, i), log.n);
  return average((i) => (log.reward[i]! * iw(log, i)) / meanIw, log.n);
}

export const referenceDr = (log: ObpLog, lambda = Infinity): number =>
  average((i) => qPi(log, i) + Math.min(iw(log, i), lambda) * (log.reward[i]! - qFactual(log, i)), log.n);

export function referenceSndr(log: ObpLog): number {
  const meanIw = average((i) => iw(log, i), log.n);
  return average((i) => qPi(log, i) + (iw(log, i) * (log.reward[i]! - qFactual(log, i))) / meanIw, log.n);
}

/** SwitchDoublyRobust with `lambda_` = τ: switch_indicator = iw <= τ. */
export const referenceSwitchDr = (log: ObpLog, tau: number): number =>
  average((i) => qPi(log, i) + (iw(log, i) <= tau ? 1 : 0) * iw(log, i) * (log.reward[i]! - qFactual(log, i)), log.n);

/** DoublyRobustWithShrinkage: iw_hat = λ·iw / (iw² + λ) when λ < ∞, else iw. */
export function referenceDros(log: ObpLog, lambda: number): number {
  return average((i) => {
    const w = iw(log, i);
    const shrunk = lambda < Infinity ? (lambda * w) / (w * w + lambda) : w;
    return qPi(log, i) + shrunk * (log.reward[i]! - qFactual(log, i));
  }, log.n);
}

/** The DR per-row terms (the samples OBP's bootstrap resamples). */
export function referenceDrRounds(log: ObpLog): Float64Array {
  return Float64Array.from({ length: log.n }, (_, i) => qPi(log, i) + iw(log, i) * (log.reward[i]! - qFactual(log, i)));
}

/**
 * The estimator input of src/eval for row i at its logged position: the position-p_i slices of
 * action_dist and q_hat (position-wise evaluation; see EstimatorInput's docs).
 */
export function positionSlices(log: ObpLog): {
  rewards: Float64Array; actions: Int32Array; propensities: Float64Array; targetDistribution: Float64Array; estimatedRewards: Float64Array;
} {
  const targetDistribution = new Float64Array(log.n * log.k), estimatedRewards = new Float64Array(log.n * log.k);
  for (let i = 0; i < log.n; i++) {
    for (let a = 0; a < log.k; a++) {
      targetDistribution[i * log.k + a] = log.actionDist[at(log, i, a)]!;
      estimatedRewards[i * log.k + a] = log.qHat[at(log, i, a)]!;
    }
  }
  return { rewards: log.reward, actions: log.action, propensities: log.pscore, targetDistribution, estimatedRewards };
}
