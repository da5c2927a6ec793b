import type { Backend } from '../../core/backend.js';
import { armFeatureDim, playedArmFeatures, type FeatureShape } from '../../eval/batch.js';
import type { Policy } from '../../eval/policy.js';
import { decidedTarget } from '../../eval/target-policy.js';
import { NeuralTS, type NeuralTSOptions } from '../../neural/neuralts.js';
import { eligibleOption } from './catalogue.js';
import { DEFAULT_TARGET_DRAWS } from './lints.js';
import { DEFAULT_NEURAL_POLICY_OPTIONS } from './neuralucb.js';

/**
 * ν of the head-to-head's NeuralTS: the posterior of each item's reward is N(f(x_a), ν²·g_aᵀZ⁻¹g_a/m)
 * (Zhang, Zhou, Li & Gu 2021, with their λ folded into ν as NeuralUCB's bonus does), the other
 * settings NeuralUCB's (`DEFAULT_NEURAL_POLICY_OPTIONS`, ν = 0.1 there too). From a sweep on the
 * default scenario (cpu backend; seeds 101–105, apart from `npm start`'s; mean total regret ± its
 * standard error): ν = 0.01 / 0.03 / 0.1 / 0.3 / 1 gave 1736 ± 67 / 1747 ± 52 / 1660 ± 60 /
 * 1916 ± 30 / 2393 ± 44 (NeuralUCB: 1747 ± 49), 2.6 s a seed in select and update.
 *
 * @example
 * const ts = await neuralTSPolicyFor(backend, sim.shape, { nu: DEFAULT_NEURALTS_NU / 10 });
 */
export const DEFAULT_NEURALTS_NU = 0.1;

/** Options of `neuralTSPolicyFor`: the model's options less `dim`, a display name, the draws of its distribution. */
export type NeuralTSPolicyOptions = Omit<NeuralTSOptions, 'dim'> & {
  readonly name?: string;
  /** M of `distribution` (see DEFAULT_TARGET_DRAWS). */
  readonly targetDraws?: number;
};

/**
 * NeuralTS on the batch's per-arm features [user | item] (dim = armFeatureDim(shape)), with
 * NeuralUCB's head-to-head settings (`DEFAULT_NEURAL_POLICY_OPTIONS`: one hidden layer of 32,
 * diagonal Z, trained every 25 rows on the 500 most recent plays) and ν = DEFAULT_NEURALTS_NU.
 * `decide` reports the model's propensity estimates (M = its `propensityDraws`), `distribution`
 * is `decidedTarget` over `targetDraws` replicated rows.
 *
 * @example
 * const neuralts = await neuralTSPolicyFor(backend, sim.shape, { seed: 2 });
 */
export async function neuralTSPolicyFor(backend: Backend, shape: FeatureShape, options: NeuralTSPolicyOptions = {}): Promise<Policy> {
  const { name, targetDraws = DEFAULT_TARGET_DRAWS, ...model } = options;
  const m = await NeuralTS.create(backend, { ...DEFAULT_NEURAL_POLICY_OPTIONS, nu: DEFAULT_NEURALTS_NU, ...model, dim: armFeatureDim(shape) });
  try {
    const target = decidedTarget('NeuralTS', (batch) => m.select(batch.armFeatures(), { arms: batch.shape.arms }), { draws: targetDraws, replicate: true });
    return {
      name: name ?? 'NeuralTS',
      select: (batch) => m.select(batch.armFeatures(), { arms: batch.shape.arms, ...eligibleOption(batch) }),
      decide: (batch) => m.decide(batch.armFeatures(), { arms: batch.shape.arms, ...eligibleOption(batch) }),
      distribution: (batch) => target.distribution(batch),
      update: (batch, chosen, rewards) => m.update(chosen, playedArmFeatures(batch, chosen), rewards),
      reward: (eventIds, rewards) => m.reward(eventIds, rewards),
      dispose: () => m.dispose(),
    };
  } catch (e) {
    m.dispose();
    throw e;
  }
}
