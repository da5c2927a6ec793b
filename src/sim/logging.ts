/**
 * Logs of the simulator's policies: what a policy decided on each step, with the probability it
 * reported (its `decide`), as a BanditLog the off-policy estimators and replay read. Made by
 * `runHeadToHead(sim, policies, { log: true })` and `logPolicy`.
 *
 * A log can only evaluate a target inside its support: an item the logger (almost) never plays
 * is (almost) never logged, whatever its propensity says. Thompson sampling concentrates: on a
 * 5-item world LinTS at the head-to-head's v = 0.05 gave the uniform target a mean importance
 * weight (1/N)Σ(1/K)/μ_i of 0.23 over 6000 steps, where any log covering every item gives 1
 * in expectation; at v = 2 it was 0.999 ± 0.015 and IPS/DR of a softmax target matched its true
 * value (test/sim/logging.spec.ts). Check that mean before trusting an estimate.
 */
import { BanditError } from '../core/errors.js';
import type { DecisionBatch, FeatureShape } from '../eval/batch.js';
import type { BanditLog } from '../eval/log.js';
import type { PolicyDecision } from '../eval/policy.js';

/** One policy's log of a head-to-head run. */
export interface PolicyLog {
  readonly policy: string;
  /** Every step: the user, the context, the item shown, the click and the logged propensity. */
  readonly log: BanditLog;
  /**
   * Steps whose reported propensity was 0: a Thompson estimate whose every conditional win
   * probability underflowed f32 (see `loggedPropensity`, which logs them as 1/(M + 1)).
   */
  readonly zeroPropensities: number;
  /** M of the policy's Thompson propensity estimates; null where the propensities are exact. */
  readonly propensityDraws: number | null;
}

/**
 * The propensity a log records for a reported one. Exact propensities (`draws` undefined) are
 * logged as reported; they must be in (0, 1]. A Thompson model's propensity is an estimate p̂
 * from M fresh draws of the other arms, the mean of Φ((μ_a − max_b r̃_b)/σ_a) (thompsonPropensities:
 * unbiased, never above the counting estimate's variance p(1 − p)/M, and positive wherever the
 * arm can win), and is logged as reported. It is 0 only where Φ underflowed f32 on every draw (the
 * arm more than 14 deviations below every competitor's draw: it could have won only on an extreme
 * draw of its own); such a row is logged as 1/(M + 1), the clip the share of M draws would have had.
 * 1/p̂ is then almost unbiased for 1/p where p̂'s relative error is small (Jensen: E[1/p̂] ≥ 1/p).
 *
 * @example
 * loggedPropensity(0.9, undefined);   // 0.9
 * loggedPropensity(0, 1024);          // 1/1025
 * loggedPropensity(3e-5, 1024);       // 3e-5
 */
export function loggedPropensity(p: number, draws: number | undefined): number {
  if (draws === undefined) {
    if (!(p > 0 && p <= 1)) throw new BanditError(`loggedPropensity: an exact propensity must be in (0, 1], got ${p}`);
    return p;
  }
  if (!(Number.isInteger(draws) && draws >= 1)) throw new BanditError(`loggedPropensity: draws must be a positive integer, got ${String(draws)}`);
  if (!(p >= 0 && p <= 1)) throw new BanditError(`loggedPropensity: an estimated propensity must be in [0, 1], got ${p}`);
  return p > 0 ? p : 1 / (draws + 1);
}

/**
 * Collects one policy's decisions step by step into a BanditLog (steps in order, from 0).
 *
 * @example
 * const recorder = new LogRecorder(policy.name, sim.shape, sim.steps, sim.itemFeatures, sim.hybridItemFeatures);
 * recorder.record(batch, 0, decision, clicks);
 * const { log } = recorder.finish();
 */
export class LogRecorder {
  private readonly users: Int32Array;
  private readonly contexts: Float32Array;
  private readonly actions: Int32Array;
  private readonly rewards: Float32Array;
  private readonly propensities: Float64Array;
  private zeros = 0;
  private draws: number | null = null;
  private filled = 0;

  constructor(
    private readonly policy: string, private readonly shape: FeatureShape, private readonly steps: number,
    private readonly itemFeatures: Float32Array, private readonly hybridItemFeatures: Float32Array,
  ) {
    this.users = new Int32Array(steps);
    this.contexts = new Float32Array(steps * shape.userDim);
    this.actions = new Int32Array(steps);
    this.rewards = new Float32Array(steps);
    this.propensities = new Float64Array(steps);
  }

  /** Steps start … start + B − 1: the batch's users and contexts, the decision and the clicks. */
  record(batch: DecisionBatch, start: number, decision: PolicyDecision, rewards: Float32Array): void {
    if (start !== this.filled) throw new BanditError(`LogRecorder(${this.policy}): steps must come in order; expected step ${this.filled}, got ${start}`);
    const du = this.shape.userDim;
    const m = decision.propensityDraws;
    if (m !== undefined) {
      if (this.draws !== null && this.draws !== m) throw new BanditError(`LogRecorder(${this.policy}): the propensity draws changed from ${this.draws} to ${m}`);
      this.draws = m;
    }
    for (let r = 0; r < batch.size; r++) {
      const t = start + r;
      const p = decision.propensities[r]!;
      if (p === 0) this.zeros++;
      this.users[t] = batch.users[r]!;
      this.contexts.set(batch.userFeatures.subarray(r * du, (r + 1) * du), t * du);
      this.actions[t] = decision.arms[r]!;
      this.rewards[t] = rewards[r]!;
      this.propensities[t] = loggedPropensity(p, m);
    }
    this.filled += batch.size;
  }

  /** The log of every step recorded. */
  finish(): PolicyLog {
    if (this.filled !== this.steps) throw new BanditError(`LogRecorder(${this.policy}): ${this.filled} of ${this.steps} steps recorded`);
    const log: BanditLog = {
      shape: this.shape, length: this.steps, users: this.users, contexts: this.contexts, actions: this.actions, rewards: this.rewards,
      propensities: this.propensities, itemFeatures: this.itemFeatures, hybridItemFeatures: this.hybridItemFeatures,
    };
    return { policy: this.policy, log, zeroPropensities: this.zeros, propensityDraws: this.draws };
  }
}
