import { ModelBase } from './base.js';
import { Decisions, type Decision, type DecisionsSetup } from './decisions.js';
import { PendingDecisions, savedDelayedRewards, type DelayedRewardCounts, type ResolvedDelayedRewards, type RewardRows } from './pending.js';
import { warmStartWeights, type LoggedDecisions, type UpdateOptions, type WarmStartOptions } from './weights.js';
import type { SavedArray } from './persist.js';
import type { SavedModelReader } from './saved.js';
import type { Backend } from '../core/backend.js';

/**
 * What the models that learn online share (LinUCB, LinTS, HybridLinUCB, NeuralUCB, NeuralTS):
 * their decisions, the decisions waiting for a reward (`reward` by event id, wait time, default
 * reward, capacity) and `warmStart` from a logged dataset. A subclass gives `learn` (its update
 * once the input is checked) and `checkedUpdate` (its update's checks, then `learn`).
 *
 * @example
 * const d = await model.decide(contexts);
 * // … later, in any order and any batches:
 * await model.reward(d.eventIds.slice(0, 2), Float32Array.of(1, 0));
 * console.log(model.diagnostics().rewards);   // { pending, rewarded, expired, overflowed, defaulted, dropped }
 */
export abstract class OnlineModel<C, A = Int32Array, W extends WarmStartOptions = WarmStartOptions> extends ModelBase {
  protected readonly decisions: Decisions;
  protected readonly pending: PendingDecisions;
  /** Warm-start IPS weights are normalised per arm (the linear models) or over the whole log. */
  protected abstract readonly ipsPerArm: boolean;

  protected constructor(backend: Backend, model: string, decisions: DecisionsSetup, width: number, delayed: ResolvedDelayedRewards) {
    super(backend, model);
    this.decisions = new Decisions(model, decisions);
    this.pending = new PendingDecisions(model, width, delayed);
  }

  /**
   * Learns from checked rows: arms valid for the model, `contexts` the played rows (rows ×
   * width), finite rewards, weights ≥ 0 or null (every row 1). Called inside a queued call; one
   * submit as the model's update.
   */
  protected abstract learn(arms: Int32Array, contexts: Float32Array, rewards: Float32Array, weights: Float64Array | null): Promise<void>;

  /** The model's update, named `op` in messages: every check, then `learn` (inside a queued call). */
  protected abstract checkedUpdate(op: string, arms: A, contexts: C, rewards: Float32Array | ArrayLike<number>, options?: UpdateOptions): Promise<void>;

  /**
   * Runs `decide` (`make`) and keeps its decisions waiting for their reward, each with its played
   * context (`played`: B·k × width rows); then learns what fell due (expired decisions, or the
   * oldest past pendingCapacity, with the default reward).
   */
  protected async decided(make: () => Promise<Decision>, played: (d: Decision) => Float32Array): Promise<Decision> {
    const step = this.decisions.key.step;
    const d = await make();
    if (this.pending.options.pendingCapacity === 0) return d;
    await this.learnRows(this.pending.record(step, d.arms, d.propensities, played(d)));
    return d;
  }

  private async learnRows(rows: RewardRows): Promise<void> {
    if (rows.arms.length > 0) await this.learn(rows.arms, rows.contexts, rows.rewards, null);
  }

  /**
   * Applies the rewards of earlier decisions by their event ids (from `decide`), in any order
   * and any batches: the same as `update(arms, contexts, rewards)` with the decisions' arms and
   * contexts in the order of `eventIds`, done now. Decisions past `rewardWaitTime` are settled
   * in the same update (the default reward, or dropped). An unknown, expired, already rewarded or
   * repeated id, or a bad reward, is a BanditError and nothing is applied.
   *
   * @example
   * const d = await model.decide(contexts);
   * await model.reward([d.eventIds[1]!, d.eventIds[0]!], Float32Array.of(0, 1));
   */
  reward(eventIds: readonly string[], rewards: Float32Array | ArrayLike<number>): Promise<void> {
    return this.run('reward', [eventIds, rewards], async (eventIds, rewards) => {
      const claim = this.pending.claim(`${this.model}.reward`, this.decisions.id, this.decisions.key.step, eventIds, rewards);
      await this.learnRows(claim.rows);
      claim.commit();
    });
  }

  /**
   * Learns from a logged dataset (yesterday's decide + reward log, or any logging policy's),
   * weighting each row by its importance weight (see WarmStartOptions): one weighted `update`
   * with the log, checked as `update` checks it (plus the propensities). A model can start from
   * the logs instead of from zero.
   *
   * @example
   * await model.warmStart({ arms, contexts, rewards, propensities }, { weighting: 'ips', clip: 20 });
   */
  warmStart(log: LoggedDecisions<C, A>, options?: W): Promise<void> {
    return this.run('warmStart', [log, options], async (log, options) => {
      const op = `${this.model}.warmStart`;
      const weights = warmStartWeights(op, log, options, this.ipsPerArm);
      const more = this.warmStartTraining(op, log.arms as { length: number }, options);
      await this.checkedUpdate(op, log.arms, log.contexts, log.rewards, weights ? { weights } : undefined);
      await more?.();
    });
  }

  /**
   * What a warm start does after its update (checked before it): nothing here; the neural models
   * train on (see NeuralWarmStartOptions).
   */
  protected warmStartTraining(_op: string, _arms: { length: number }, _options: W | undefined): (() => Promise<void>) | null {
    return null;
  }

  /** What became of the decisions that waited for a reward (see DelayedRewardCounts). */
  protected get rewardCounts(): DelayedRewardCounts {
    return this.pending.counts();
  }

  /**
   * The save's parts of the delayed rewards: the options away from their defaults, and the
   * counters and pending decisions once there are any (else nothing, so a model that never used
   * them saves as before they existed).
   */
  protected pendingSave(): { options: Record<string, unknown>; counters: Record<string, unknown>; arrays: Record<string, SavedArray> } {
    const options = savedDelayedRewards(this.pending.options);
    if (!this.pending.worthSaving) return { options, counters: {}, arrays: {} };
    return { options, counters: { pending: this.pending.savedCounters() }, arrays: this.pending.arrays() };
  }

  /** Restores the pending decisions of a save (arms checked against `arms`, or null for any index). */
  protected restorePending(saved: SavedModelReader, arms: number | null): void {
    this.pending.restore(saved, arms);
  }
}
