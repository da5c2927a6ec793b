import { BanditError } from '../core/errors.js';
import type { DecisionBatch } from './batch.js';

/**
 * What a policy's `decide` returns for a batch of B rows: the chosen items and the probability
 * with which the policy chose each (a model's `decide`). Thompson-sampling models estimate that
 * probability from M extra posterior draws and say M in `propensityDraws`.
 *
 * @example
 * const d: PolicyDecision = { arms: Int32Array.of(3, 0), propensities: Float32Array.of(0.9, 0.02) };
 */
export interface PolicyDecision {
  readonly arms: Int32Array;
  readonly propensities: ArrayLike<number>;
  readonly propensityDraws?: number;
  /** The model's event ids of the decisions, for a policy whose `reward` takes them (delayed rewards). */
  readonly eventIds?: readonly string[];
}

/**
 * A decision maker driven by the replay evaluator (here) and the simulator's head-to-head runner
 * (`webgpu-bandits/sim`). `select` gets a batch of B users and returns B items; `update` gets the
 * same batch back with the items shown and their rewards (clicks). A policy may read any feature
 * layout of the batch (user contexts, per-arm features, hybrid contexts; `clickProbabilities`
 * only exists on simulated batches).
 *
 * A policy honours `batch.eligible` where it is given (it never chooses an ineligible item).
 *
 * Two optional methods make a policy's decisions evaluable off-policy:
 * - `decide` chooses like `select` and reports each choice's probability (the model's `decide`):
 *   what a log records as its propensity (the head-to-head's `log` option). A policy without it
 *   is logged as deterministic (propensity 1), so a randomised policy must have it.
 * - `distribution` gives π(a | x) of every arm for each row in the policy's current state
 *   (B×K, rows summing to 1), without learning: what the off-policy estimators take as the
 *   target policy (`targetDistribution`). Without it, the policy's choices stand for it (one-hot).
 *
 * It lives in the evaluation layer because replay takes one and the simulator layer sits above
 * it; the ready-made policies are in `src/sim/policies/`.
 *
 * @example
 * const greedyFirst: Policy = {
 *   name: 'always item 0',
 *   select: async (batch) => new Int32Array(batch.size),
 *   update: async () => {},
 *   dispose: () => {},
 * };
 */
export interface Policy {
  readonly name: string;
  select(batch: DecisionBatch): Promise<Int32Array>;
  update(batch: DecisionBatch, chosen: Int32Array, rewards: Float32Array): Promise<void>;
  dispose(): void;
  decide?(batch: DecisionBatch): Promise<PolicyDecision>;
  distribution?(batch: DecisionBatch): Promise<Float64Array>;
  /**
   * The rewards of earlier `decide` decisions by their event ids, in the order given (the model's
   * `reward`): how a policy learns from rewards that arrive late. Without it, late rewards come
   * through `update` with a batch of the rewarded rows.
   */
  reward?(eventIds: readonly string[], rewards: Float32Array): Promise<void>;
  /**
   * The catalogue grew by `count` items, appended after the current ones (the model's `addArms`
   * or `addItems`). Without it, the policy reads the items of each batch as they come (`batch.shape.arms`).
   */
  addArms?(count: number): Promise<void>;
}

/**
 * A policy's decision on a batch, checked: through its `decide` when it has one, else its
 * `select` with propensity 1 (a deterministic policy). Throws a BanditError when the arms are not
 * an Int32Array of B items in 0..K−1 or a propensity is not in [0, 1] (a Thompson estimate may be 0).
 *
 * @example
 * const { arms, propensities } = await decisionOf(policy, batch, 'runHeadToHead');
 */
export async function decisionOf(policy: Policy, batch: DecisionBatch, op: string): Promise<PolicyDecision> {
  const size = batch.size, k = batch.shape.arms;
  const d: PolicyDecision = policy.decide
    ? await policy.decide(batch)
    : { arms: await policy.select(batch), propensities: new Float64Array(size).fill(1) };
  const arms = d?.arms;
  if (!(arms instanceof Int32Array) || arms.length !== size) {
    throw new BanditError(`${op}: policy ${policy.name}.${policy.decide ? 'decide' : 'select'} must return ${policy.decide ? '{ arms: Int32Array' : 'an Int32Array'} of ${size} items${policy.decide ? ', propensities }' : ''}`);
  }
  if (!d.propensities || d.propensities.length !== size) throw new BanditError(`${op}: policy ${policy.name}.decide returned ${d.propensities?.length} propensities for ${size} rows`);
  for (let i = 0; i < size; i++) {
    if (!(arms[i]! >= 0 && arms[i]! < k)) throw new BanditError(`${op}: policy ${policy.name} chose item ${arms[i]} (row ${i}), out of range 0..${k - 1}`);
    const p = d.propensities[i]!;
    if (!(p >= 0 && p <= 1)) throw new BanditError(`${op}: policy ${policy.name} reported propensity ${p} (row ${i}), not in [0, 1]`);
  }
  return d;
}
