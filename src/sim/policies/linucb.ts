import type { Backend } from '../../core/backend.js';
import type { FeatureShape } from '../../eval/batch.js';
import type { Policy } from '../../eval/policy.js';
import { scoredTarget } from '../../eval/target-policy.js';
import { LinUCB, type LinUCBOptions } from '../../linucb/linucb.js';
import { perItemPolicy } from './per-item.js';

/** Options of the LinUCB adapters: the model's options less the sizes (they come from the shape), plus a display name. */
export type LinUCBPolicyOptions = Omit<LinUCBOptions, 'arms' | 'dim' | 'perArmFeatures'> & { readonly name?: string };

/**
 * Default UCB width of the adapters: tuned on the default scenario (α = 1 explores 50 arms too long there).
 *
 * @example
 * const wider = await linUCBPolicy(backend, sim.shape, { alpha: 2 * DEFAULT_POLICY_ALPHA });
 */
export const DEFAULT_POLICY_ALPHA = 0.5;

/**
 * Disjoint LinUCB on the users' contexts (B×userDim, shared by all arms): one ridge model per item.
 * With `exploration` (ε-greedy, softmax or SquareCB over the mean estimates θ_aᵀx) it samples;
 * give it a `seed` for a run that repeats. `decide` is the model's (the propensity it sampled
 * with; 1 without exploration) and `distribution` the exact π(a|x) of its scores through the
 * exploration formula (`scoredTarget`; one-hot at the UCB argmax without exploration). It
 * chooses among `batch.eligible`, learns late rewards through the model's `reward` and new items
 * through its `addArms`.
 *
 * @example
 * const linucb = await linUCBPolicy(backend, sim.shape, { alpha: 0.5 });
 * const explorer = await linUCBPolicy(backend, sim.shape, { exploration: { kind: 'epsilon-greedy', epsilon: 0.05 }, seed: 1 });
 */
export async function linUCBPolicy(backend: Backend, shape: FeatureShape, options: LinUCBPolicyOptions = {}): Promise<Policy> {
  const { name, ...model } = options;
  const m = await LinUCB.create(backend, { alpha: DEFAULT_POLICY_ALPHA, ...model, arms: shape.arms, dim: shape.userDim });
  const target = scoredTarget('LinUCB', (batch) => m.scores(batch.userFeatures), m.options.exploration ?? { kind: 'greedy' });
  return perItemPolicy(name ?? (model.forgetting ? `discounted LinUCB (γ = ${model.forgetting.gamma})` : 'LinUCB'), m, (batch) => batch.userFeatures, (batch) => target.distribution(batch));
}

/**
 * Default discount of `discountedLinUCBPolicy`: a memory of about 1/(1 − γ) = 2000 rows over all arms.
 *
 * @example
 * const memory = 1 / (1 - DEFAULT_DISCOUNT_GAMMA);   // 2000 rows
 */
export const DEFAULT_DISCOUNT_GAMMA = 0.9995;

/**
 * Discounted LinUCB (LinUCB with `forgetting: { gamma }`, Russac et al. 2019): every update row
 * discounts every arm's statistics by γ, so the model forgets the world before a shock. The
 * memory, about 1/(1 − γ) rows, is shared by all arms: with K arms each keeps ~1/(K(1 − γ)) of its
 * own rows, hence a γ close to 1.
 *
 * @example
 * const discounted = await discountedLinUCBPolicy(backend, sim.shape, { gamma: 0.999 });
 */
export async function discountedLinUCBPolicy(
  backend: Backend, shape: FeatureShape, options: Omit<LinUCBPolicyOptions, 'forgetting'> & { readonly gamma?: number } = {},
): Promise<Policy> {
  const { gamma = DEFAULT_DISCOUNT_GAMMA, ...rest } = options;
  return linUCBPolicy(backend, shape, { ...rest, forgetting: { gamma } });
}
