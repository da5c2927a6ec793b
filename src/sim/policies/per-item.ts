/** What the adapters of models with per-item state (LinUCB, LinTS, HybridLinUCB) share. */
import type { DecisionBatch } from '../../eval/batch.js';
import type { Policy, PolicyDecision } from '../../eval/policy.js';
import { eligibleOption } from './catalogue.js';

/** The calls an adapter makes on a model with per-item state, whose contexts of a batch are C. */
export interface PerItemModel<C> {
  select(contexts: C, options: { readonly eligible?: Uint8Array }): Promise<Int32Array>;
  decide(contexts: C, options: { readonly eligible?: Uint8Array }): Promise<PolicyDecision>;
  update(arms: Int32Array, contexts: C, rewards: Float32Array): Promise<void>;
  reward(eventIds: readonly string[], rewards: Float32Array): Promise<void>;
  addArms(count: number): Promise<unknown>;
  dispose(): void;
}

/**
 * The Policy of a per-item model: every call on the batch's `contexts(batch)`, choosing among
 * `batch.eligible`; late rewards through the model's `reward`, new items through its `addArms`;
 * `distribution` where the adapter has one (`scoredTarget`, `decidedTarget`). Disposing the
 * policy disposes the model.
 *
 * @example
 * const m = await LinUCB.create(backend, { arms: shape.arms, dim: shape.userDim });
 * const policy = perItemPolicy('LinUCB', m, (batch) => batch.userFeatures);
 */
export function perItemPolicy<C>(
  name: string, model: PerItemModel<C>, contexts: (batch: DecisionBatch) => C, distribution?: (batch: DecisionBatch) => Promise<Float64Array>,
): Policy {
  return {
    name,
    select: (batch) => model.select(contexts(batch), eligibleOption(batch)),
    decide: (batch) => model.decide(contexts(batch), eligibleOption(batch)),
    ...(distribution ? { distribution } : {}),
    update: (batch, chosen, rewards) => model.update(chosen, contexts(batch), rewards),
    reward: (eventIds, rewards) => model.reward(eventIds, rewards),
    addArms: async (count) => void (await model.addArms(count)),
    dispose: () => model.dispose(),
  };
}
