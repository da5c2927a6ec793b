import type { DecisionBatch } from './batch.js';

/**
 * A decision maker driven by the replay evaluator (here) and the simulator's head-to-head runner
 * (`webgpu-bandits/sim`). `select` gets a batch of B users and returns B items; `update` gets the
 * same batch back with the items shown and their rewards (clicks). A policy may read any feature
 * layout of the batch (user contexts, per-arm features, hybrid contexts; `clickProbabilities`
 * only exists on simulated batches).
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
}
