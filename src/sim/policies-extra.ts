/**
 * Adapters for the models being written alongside the simulator: NeuralUCB and the Embedding + MLP
 * baseline. They are written against the models' announced methods through structural types,
 * so this file imports neither module and builds before they land.
 *
 * TODO(issue 5): once src/neural/ exports NeuralUCB and EmbeddingMLP, add factories next to the
 * adapters (e.g. `neuralUCBPolicyFor(backend, shape, opts)` calling `NeuralUCB.create(backend,
 * { dim: armFeatureDim(shape), … })`) and add both to `standardPolicies` in headtohead.ts.
 */
import { BanditError } from '../errors.js';
import { playedArmFeatures } from './batch.js';
import type { Policy } from './headtohead.js';

/**
 * What the adapter needs of a NeuralUCB model (DESIGN.md): `select(armFeatures, { arms })` with
 * B×K×dim per-arm features, `update(arms, playedFeatures B×dim, rewards)`.
 */
export interface NeuralUCBModel {
  select(armFeatures: Float32Array, options: { readonly arms: number }): Promise<Int32Array>;
  update(arms: Int32Array, features: Float32Array, rewards: Float32Array): Promise<void>;
  dispose(): void;
}

/**
 * NeuralUCB as a Policy, on the batch's per-arm features [user | item] (dim = armFeatureDim(shape)).
 * The model is disposed with the policy.
 *
 * @example
 * const model = await NeuralUCB.create(backend, { dim: armFeatureDim(sim.shape), hidden: [32], lambda: 1, nu: 0.1, lr: 0.01, seed: 1 });
 * const neural = neuralUCBPolicy(model);
 */
export function neuralUCBPolicy(model: NeuralUCBModel, options: { readonly name?: string } = {}): Policy {
  if (!model || typeof model.select !== 'function' || typeof model.update !== 'function') {
    throw new BanditError('neuralUCBPolicy: a NeuralUCB model ({ select, update, dispose }) is required');
  }
  return {
    name: options.name ?? 'NeuralUCB',
    select: (batch) => model.select(batch.armFeatures(), { arms: batch.shape.arms }),
    update: (batch, chosen, rewards) => model.update(chosen, playedArmFeatures(batch, chosen), rewards),
    dispose: () => model.dispose(),
  };
}

/**
 * What the adapter needs of a trained Embedding + MLP model: `select(users, contexts)` with B user
 * ids and B×contextDim contexts (the users' feature vectors, `batch.userFeatures`).
 */
export interface EmbeddingMLPModel {
  select(users: Int32Array, contexts: Float32Array): Promise<Int32Array>;
  dispose(): void;
}

/**
 * The Embedding + MLP baseline as a frozen Policy: it never learns during the run (update does
 * nothing). Train it first on logs collected before the shock by random logging:
 *
 *     const model = await EmbeddingMLP.create(backend, { users: sim.shape.users, items: sim.shape.arms, contextDim: sim.shape.userDim });
 *     await model.fit(sim.randomLog(5000));   // TODO(issue 5): map the BanditLog to fit()'s log type if it differs
 *     const baseline = embeddingMLPPolicy(model);
 *
 * The model is disposed with the policy.
 *
 * @example
 * const baseline = embeddingMLPPolicy(trainedModel, { name: 'Embedding + MLP (frozen)' });
 */
export function embeddingMLPPolicy(model: EmbeddingMLPModel, options: { readonly name?: string } = {}): Policy {
  if (!model || typeof model.select !== 'function') throw new BanditError('embeddingMLPPolicy: a trained EmbeddingMLP model ({ select, dispose }) is required');
  return {
    name: options.name ?? 'Embedding + MLP',
    select: (batch) => model.select(batch.users, batch.userFeatures),
    update: async () => {},
    dispose: () => model.dispose(),
  };
}
