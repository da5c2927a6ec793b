import type { Backend } from '../../core/backend.js';
import { hybridSharedDim, type FeatureShape } from '../../eval/batch.js';
import type { Policy } from '../../eval/policy.js';
import { HybridLinUCB, type HybridLinUCBOptions } from '../../linucb/hybrid.js';
import { perItemPolicy } from './per-item.js';
import { DEFAULT_POLICY_ALPHA } from './linucb.js';

/** Options of the HybridLinUCB adapter: the model's options less the sizes, plus a display name. */
export type HybridLinUCBPolicyOptions = Omit<HybridLinUCBOptions, 'arms' | 'dim' | 'sharedDim'> & { readonly name?: string };

/**
 * Hybrid LinUCB on `batch.hybridContexts()`: per arm θ_a on the user's context, shared β on
 * vec(user ⊗ item) (sharedDim = userDim · hybridItemDim, at most 256), so every click teaches
 * every item something about the user–item match.
 *
 * @example
 * const hybrid = await hybridLinUCBPolicy(backend, sim.shape);
 */
export async function hybridLinUCBPolicy(backend: Backend, shape: FeatureShape, options: HybridLinUCBPolicyOptions = {}): Promise<Policy> {
  const { name, ...model } = options;
  const m = await HybridLinUCB.create(backend, {
    alpha: DEFAULT_POLICY_ALPHA, ...model, arms: shape.arms, dim: shape.userDim, sharedDim: hybridSharedDim(shape),
  });
  return perItemPolicy(name ?? 'hybrid LinUCB', m, (batch) => batch.hybridContexts());
}
