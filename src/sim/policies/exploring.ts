/**
 * LinUCB's ridge models with randomised exploration over their mean estimates θ_aᵀx: ε-greedy and
 * SquareCB (Foster & Rakhlin 2020), as head-to-head policies with the defaults of the default
 * scenario.
 */
import type { Backend } from '../../core/backend.js';
import type { FeatureShape } from '../../eval/batch.js';
import type { Policy } from '../../eval/policy.js';
import { linUCBPolicy, type LinUCBPolicyOptions } from './linucb.js';

/** Options of the exploring adapters: LinUCB's less `exploration` (and α, which exploration does not use). */
export type ExploringLinUCBPolicyOptions = Omit<LinUCBPolicyOptions, 'exploration' | 'alpha'>;

/**
 * ε of the head-to-head's ε-greedy LinUCB, from a sweep on the default scenario (cpu backend;
 * seeds 101–110, apart from `npm start`'s; mean total regret ± its standard error over the
 * seeds): ε = 0.02 / 0.05 / 0.1 / 0.2 gave 1828 ± 40 / 1673 ± 34 / 1748 ± 23 / 1866 ± 22
 * (LinUCB α = 0.5: 1815 ± 21). With 50 items, 5 % of the rows spread over all of them is enough
 * to find the shock's new favourites within a few hundred steps.
 *
 * @example
 * const bolder = await epsilonGreedyLinUCBPolicy(backend, sim.shape, { epsilon: 2 * DEFAULT_EPSILON });
 */
export const DEFAULT_EPSILON = 0.05;

/**
 * γ of the head-to-head's SquareCB. Foster & Rakhlin (2020, Theorem 1) set γ = sqrt(K·T/Reg_Sq(T))
 * (Reg_Sq the regression oracle's square-loss regret), i.e. γ ∝ sqrt(K·T); Vowpal Wabbit's
 * `--squarecb` grows γ_t = 10·sqrt(t). Here γ is a fixed model option, and sqrt(K·T) =
 * sqrt(50 · 6000) ≈ 548 for the default scenario. A sweep around it (cpu backend; seeds 101–110,
 * apart from `npm start`'s; mean total regret ± its standard error): γ = 250 / 500 / 1000 / 1500 /
 * 2500 / 5000 gave 1984 ± 19 / 1835 ± 18 / 1665 ± 22 / 1736 ± 29 / 1717 ± 25 / 1774 ± 55, so
 * γ ≈ 1.8·sqrt(K·T). The gaps are in click probability (means θ_aᵀx of 0/1 rewards): an item
 * 0.1 below the best gets 1/(50 + 100) ≈ 0.7 %.
 *
 * @example
 * const gamma = Math.sqrt(sim.shape.arms * sim.steps);   // Foster & Rakhlin's scale for another scenario
 */
export const DEFAULT_SQUARECB_GAMMA = 1000;

/**
 * ε-greedy over LinUCB's ridge models: the item of the highest mean estimate θ_aᵀx, or with
 * probability ε a uniformly random one (each item's propensity ε/K, the greedy one's 1 − ε + ε/K).
 *
 * @example
 * const egreedy = await epsilonGreedyLinUCBPolicy(backend, sim.shape, { epsilon: 0.05, seed: 1 });
 */
export function epsilonGreedyLinUCBPolicy(
  backend: Backend, shape: FeatureShape, options: ExploringLinUCBPolicyOptions & { readonly epsilon?: number } = {},
): Promise<Policy> {
  const { epsilon = DEFAULT_EPSILON, name, ...rest } = options;
  return linUCBPolicy(backend, shape, { ...rest, exploration: { kind: 'epsilon-greedy', epsilon }, name: name ?? `ε-greedy LinUCB (ε = ${epsilon})` });
}

/**
 * SquareCB (Foster & Rakhlin 2020) over LinUCB's ridge models: inverse-gap weighting of the mean
 * estimates, p_a = 1/(K + γ·(best − θ_aᵀx)) for every item but the best, which takes the rest; a
 * larger γ explores less.
 *
 * @example
 * const squarecb = await squareCBLinUCBPolicy(backend, sim.shape, { gamma: 1000, seed: 1 });
 */
export function squareCBLinUCBPolicy(
  backend: Backend, shape: FeatureShape, options: ExploringLinUCBPolicyOptions & { readonly gamma?: number } = {},
): Promise<Policy> {
  const { gamma = DEFAULT_SQUARECB_GAMMA, name, ...rest } = options;
  return linUCBPolicy(backend, shape, { ...rest, exploration: { kind: 'squarecb', gamma }, name: name ?? `SquareCB (γ = ${gamma})` });
}
