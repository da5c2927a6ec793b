import type { Backend } from '../../core/backend.js';
import type { FeatureShape } from '../../eval/batch.js';
import type { Policy } from '../../eval/policy.js';
import { decidedTarget } from '../../eval/target-policy.js';
import { LinTS, type LinTSOptions } from '../../linucb/lints.js';
import { perItemPolicy } from './per-item.js';

/** Options of the LinTS adapter: the model's options less the sizes, a display name, and the draws of its distribution. */
export type LinTSPolicyOptions = Omit<LinTSOptions, 'arms' | 'dim' | 'perArmFeatures'> & {
  readonly name?: string;
  /** M of `distribution`: posterior draws a row (one call on M copies of each row). Default DEFAULT_TARGET_DRAWS. */
  readonly targetDraws?: number;
};

/**
 * Posterior scale v of the head-to-head's LinTS. Agrawal & Goyal's (2013) analysis takes
 * v = R·sqrt(24 d ln(1/δ)/ε) (R the reward noise's sub-Gaussian scale, ε ∈ (0, 1)): far wider
 * than works in practice (Chapelle & Li 2011 found shrinking the posterior helped). The value is
 * from a sweep on the default scenario (cpu backend; seeds 101–110, apart from the seeds 1, 2, …
 * of `npm start`; mean total regret ± its standard error over the seeds): v = 0.03 / 0.05 /
 * 0.075 / 0.1 / 0.2 gave 1767 ± 28 / 1701 ± 29 / 1767 ± 21 / 1737 ± 31 / 1797 ± 34 (0.02: 2052,
 * 0.5: 2260 on seeds 1–3; LinUCB α = 0.5: 1815 ± 21). The rewards are clicks, so R ≤ 1/2 and
 * v = 0.05 is a tenth of the noise scale.
 *
 * @example
 * const wider = await linTSPolicy(backend, sim.shape, { v: 2 * DEFAULT_LINTS_V });
 */
export const DEFAULT_LINTS_V = 0.05;

/**
 * M of a Thompson adapter's `distribution` (π̂(a|x) as the share of M posterior draws): standard
 * error ≤ 0.5/√M = 0.0625 an entry. The off-policy estimators stay unbiased for any M (E π̂ = π);
 * M sets the extra variance, small next to the log's on a click log (π̂ only matters at rows with
 * a click for IPS, and through Σ_a π̂(a) q̂(a) for DM). 64 copies of each row cost one LinTS call
 * of 64 rows (5.7 ms on the cpu backend at K = 34, d = 25: the Open Bandit sample).
 *
 * @example
 * const precise = await linTSPolicy(backend, log.shape, { targetDraws: 4 * DEFAULT_TARGET_DRAWS });
 */
export const DEFAULT_TARGET_DRAWS = 16;

/**
 * Linear Thompson sampling (LinTS, Agrawal & Goyal 2013) on the users' contexts: one ridge
 * posterior N(θ_a, v²A_a⁻¹) per item, each row plays the argmax of one posterior draw. `select`
 * draws no propensities; `decide` estimates the chosen item's from the model's M propensity draws
 * (`propensityDraws`, default 1024) and reports M; `distribution` is `decidedTarget` over
 * `targetDraws` replicated rows (Thompson sampling has no closed-form π(a|x)).
 *
 * @example
 * const ts = await linTSPolicy(backend, sim.shape, { v: 0.1, seed: 1 });
 */
export async function linTSPolicy(backend: Backend, shape: FeatureShape, options: LinTSPolicyOptions = {}): Promise<Policy> {
  const { name, targetDraws = DEFAULT_TARGET_DRAWS, ...model } = options;
  const m = await LinTS.create(backend, { v: DEFAULT_LINTS_V, ...model, arms: shape.arms, dim: shape.userDim });
  try {
    const target = decidedTarget('LinTS', (batch) => m.select(batch.userFeatures), { draws: targetDraws, replicate: true });
    return perItemPolicy(name ?? `LinTS (v = ${m.options.v})`, m, (batch) => batch.userFeatures, (batch) => target.distribution(batch));
  } catch (e) {
    m.dispose();
    throw e;
  }
}
