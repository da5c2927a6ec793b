import type { Backend } from '../../core/backend.js';
import type { FeatureShape } from '../../eval/batch.js';
import type { Policy } from '../../eval/policy.js';
import { hybridLinUCBPolicy } from './hybrid.js';
import { DEFAULT_POLICY_ALPHA, discountedLinUCBPolicy, linUCBPolicy } from './linucb.js';
import { oraclePolicy } from './oracle.js';
import { randomPolicy } from './random.js';

/**
 * The linear line-up on one backend: random, oracle, LinUCB, hybrid LinUCB, discounted LinUCB.
 * The whole head-to-head, with NeuralUCB and the trained Embedding + MLP baseline, is
 * `defaultPolicies` / `runScenario` in scenario.ts. `oracle: false` leaves the oracle out (for logged data).
 *
 * @example
 * const policies = await standardPolicies(backend, sim.shape);
 * const result = await runHeadToHead(sim, policies);
 * for (const p of policies) p.dispose();
 */
export async function standardPolicies(
  backend: Backend, shape: FeatureShape, options: { readonly seed?: number; readonly oracle?: boolean; readonly alpha?: number; readonly gamma?: number } = {},
): Promise<Policy[]> {
  const alpha = options.alpha ?? DEFAULT_POLICY_ALPHA;
  const made: Policy[] = [randomPolicy(shape, options.seed === undefined ? {} : { seed: options.seed })];
  try {
    if (options.oracle ?? true) made.push(oraclePolicy());
    made.push(await linUCBPolicy(backend, shape, { alpha }));
    made.push(await hybridLinUCBPolicy(backend, shape, { alpha }));
    made.push(await discountedLinUCBPolicy(backend, shape, options.gamma === undefined ? { alpha } : { alpha, gamma: options.gamma }));
    return made;
  } catch (e) {
    for (const p of made) p.dispose();
    throw e;
  }
}
