/**
 * NeuralUCB as a head-to-head policy: an adapter over any model with the announced methods (a
 * structural type), and a factory that builds the model with the settings of the default scenario.
 */
import type { Backend } from '../../core/backend.js';
import { BanditError } from '../../core/errors.js';
import { armFeatureDim, playedArmFeatures, type FeatureShape } from '../../eval/batch.js';
import type { Policy, PolicyDecision } from '../../eval/policy.js';
import { NeuralUCB, type NeuralUCBOptions } from '../../neural/neuralucb.js';
import { eligibleOption } from './catalogue.js';

/**
 * What the adapter needs of a NeuralUCB model (DESIGN.md): `select(armFeatures, { arms })` with
 * B×K×dim per-arm features, `update(arms, playedFeatures B×dim, rewards)`.
 */
export interface NeuralUCBModel {
  select(armFeatures: Float32Array, options: { readonly arms: number; readonly eligible?: Uint8Array }): Promise<Int32Array>;
  /** The model's decide (arms, propensities, event ids), if it has one: what a logged run records. */
  decide?(armFeatures: Float32Array, options: { readonly arms: number; readonly eligible?: Uint8Array }): Promise<PolicyDecision>;
  update(arms: Int32Array, features: Float32Array, rewards: Float32Array): Promise<void>;
  /** The model's reward by event id, if it has one: how late rewards reach it. */
  reward?(eventIds: readonly string[], rewards: Float32Array): Promise<void>;
  dispose(): void;
}

/**
 * NeuralUCB as a Policy, on the batch's per-arm features [user | item] (dim = armFeatureDim(shape)).
 * The arms of a call are the batch's items (`batch.shape.arms`), so a catalogue that grows needs
 * no addArms: K grows with the batches. The model is disposed with the policy.
 *
 * @example
 * const model = await NeuralUCB.create(backend, { dim: armFeatureDim(sim.shape), hidden: [32], lambda: 1, nu: 0.1, lr: 0.01, seed: 1 });
 * const neural = neuralUCBPolicy(model);
 */
export function neuralUCBPolicy(model: NeuralUCBModel, options: { readonly name?: string } = {}): Policy {
  if (!model || typeof model.select !== 'function' || typeof model.update !== 'function') {
    throw new BanditError('neuralUCBPolicy: a NeuralUCB model ({ select, update, dispose }) is required');
  }
  const decide = model.decide?.bind(model), reward = model.reward?.bind(model);
  return {
    name: options.name ?? 'NeuralUCB',
    select: (batch) => model.select(batch.armFeatures(), { arms: batch.shape.arms, ...eligibleOption(batch) }),
    ...(decide ? { decide: (batch) => decide(batch.armFeatures(), { arms: batch.shape.arms, ...eligibleOption(batch) }) } : {}),
    update: (batch, chosen, rewards) => model.update(chosen, playedArmFeatures(batch, chosen), rewards),
    ...(reward ? { reward } : {}),
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
 *
 * @example
 * const neural = await neuralUCBPolicyFor(backend, sim.shape, { ...DEFAULT_NEURAL_POLICY_OPTIONS, trainSteps: 20 });
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
