/**
 * NeuralUCB and the Embedding + MLP baseline as head-to-head policies: adapters over any model
 * with the announced methods (structural types), and factories that build the models with the
 * settings of the default scenario.
 */
import { BanditError } from '../core/errors.js';
import { EmbeddingMLP, type EmbeddingMLPOptions, type InteractionLog } from '../neural/embedding-mlp.js';
import { NeuralUCB, type NeuralUCBOptions } from '../neural/neuralucb.js';
import type { Backend } from '../core/backend.js';
import { armFeatureDim, playedArmFeatures, type FeatureShape } from './batch.js';
import type { Policy } from './headtohead.js';
import type { BanditLog } from './replay.js';

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
 * NeuralUCB settings of the head-to-head (`neuralUCBPolicyFor`). 'diagonal' confidence: 'full'
 * (p×p Sherman–Morrison on every update) measured far too slow on SwiftShader. One hidden layer
 * of 32, trained every 25 update rows (each round of the default batch) for 10 Adam steps, on a
 * sliding history of the 500 most recent plays: like discounting for LinUCB, the window lets the
 * network forget the world before the shock. On the default scenario (seed 1, cpu backend) the
 * whole history gave 1991 total regret (1087 after the shock; LinUCB 1953), windows of 250 / 500 /
 * 750 / 1000 / 2000 rows 1779 / 1646 / 1726 / 1748 / 1902 (770 after the shock at 500); model
 * seeds 2 and 3 at 500: 1666 and 1829. Widths 32 and 64, 10 or 20 steps, ν 0.01–0.1 and lr
 * 1e-3–1e-2 changed little (width 64 cost 1.4× the time).
 */
export const DEFAULT_NEURAL_POLICY_OPTIONS = Object.freeze({
  hidden: Object.freeze([32]) as readonly number[],
  confidence: 'diagonal',
  trainEvery: 25,
  trainSteps: 10,
  historyLimit: 500,
  nu: 0.1,
  lambda: 0.01,
  lr: 0.003,
  seed: 1,
} satisfies Omit<NeuralUCBOptions, 'dim'>);

/** Options of `neuralUCBPolicyFor`: the model's options less `dim` (it comes from the shape), plus a display name. */
export type NeuralUCBPolicyOptions = Omit<NeuralUCBOptions, 'dim'> & { readonly name?: string };

/**
 * Creates a NeuralUCB model on the shape's per-arm features (dim = userDim + itemDim) with
 * `DEFAULT_NEURAL_POLICY_OPTIONS` under `options`, as a Policy.
 *
 * @example
 * const neural = await neuralUCBPolicyFor(backend, sim.shape, { hidden: [64] });
 */
export async function neuralUCBPolicyFor(backend: Backend, shape: FeatureShape, options: NeuralUCBPolicyOptions = {}): Promise<Policy> {
  const { name, ...model } = options;
  const m = await NeuralUCB.create(backend, { ...DEFAULT_NEURAL_POLICY_OPTIONS, ...model, dim: armFeatureDim(shape) });
  return neuralUCBPolicy(m, name === undefined ? {} : { name });
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
 * nothing). `embeddingMLPPolicyFor` creates and trains one; with a model of your own:
 *
 *     const model = await EmbeddingMLP.create(backend, { users: sim.shape.users, items: sim.shape.arms, contextDim: sim.shape.userDim });
 *     await model.fit(interactionsOf(sim.randomLog(10000)));
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

/**
 * A bandit log as the Embedding + MLP's training data: user ids, the logged items, the user
 * contexts and the clicks (the propensities are not used: the baseline is fitted as a plain
 * click model, as a batch-trained recommender is).
 *
 * @example
 * await model.fit(interactionsOf(sim.randomLog(10000)));
 */
export function interactionsOf(log: BanditLog): InteractionLog {
  if (!log || typeof log !== 'object' || !log.actions) throw new BanditError('interactionsOf: a BanditLog is required');
  return { users: log.users, items: log.actions, contexts: log.contexts, clicks: log.rewards };
}

/**
 * Training of the head-to-head's Embedding + MLP (`embeddingMLPPolicyFor`): 10 epochs over a
 * random log of 10,000 pre-shock rows. On the default scenario (webgpu on SwiftShader) the fit
 * took 3–10 s (by load) and the frozen model had the lowest regret of all before the shock (745
 * vs LinUCB's 941) and about random's after it; 5,000 rows × 5 epochs took 2.7 s but left it at
 * 1099 before.
 */
export const DEFAULT_EMBEDDING_TRAINING = Object.freeze({ rows: 10_000, epochs: 10 });

/** Options of `embeddingMLPPolicyFor`: the model's options less the sizes, the fit's epochs and progress, a display name. */
export type EmbeddingMLPPolicyOptions = Omit<EmbeddingMLPOptions, 'users' | 'items' | 'contextDim'> & {
  readonly name?: string;
  /** Passes over the log. Default `DEFAULT_EMBEDDING_TRAINING.epochs`. */
  readonly epochs?: number;
  /** Called after every epoch with its index and mean training loss. */
  readonly onEpoch?: (epoch: number, loss: number) => void;
};

/**
 * Creates an Embedding + MLP model sized by the log (users, items, contextDim = userDim), trains
 * it with `fit` on the log (in the head-to-head: `sim.randomLog(rows)`, random logging in the
 * world before the shock), and returns it frozen, as a Policy. The policy's `trainingLosses` are
 * the fit's mean loss per epoch.
 *
 * @example
 * const baseline = await embeddingMLPPolicyFor(backend, sim.randomLog(10000), { epochs: 10 });
 * console.log(baseline.trainingLosses);   // e.g. [0.58, 0.51, …, 0.40]
 */
export async function embeddingMLPPolicyFor(
  backend: Backend, log: BanditLog, options: EmbeddingMLPPolicyOptions = {},
): Promise<Policy & { readonly trainingLosses: readonly number[] }> {
  if (!log || typeof log !== 'object' || !log.shape) throw new BanditError('embeddingMLPPolicyFor: a BanditLog to train on is required');
  const { name, epochs = DEFAULT_EMBEDDING_TRAINING.epochs, onEpoch, ...model } = options;
  const { shape } = log;
  const m = await EmbeddingMLP.create(backend, { seed: 1, ...model, users: shape.users, items: shape.arms, contextDim: shape.userDim });
  try {
    const { losses } = await m.fit(interactionsOf(log), { epochs, ...(onEpoch ? { onProgress: onEpoch } : {}) });
    return { ...embeddingMLPPolicy(m, { name: name ?? 'Embedding + MLP (frozen)' }), trainingLosses: losses };
  } catch (e) {
    m.dispose();
    throw e;
  }
}
