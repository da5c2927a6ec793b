import type { DecisionBatch, FeatureShape } from '../../eval/batch.js';
import type { Policy } from '../../eval/policy.js';
import { SimRandom } from '../random.js';

/**
 * Uniformly random items from a seeded generator of its own (the same picks on every run): each
 * with propensity 1/K (`decide`), the distribution 1/K everywhere.
 *
 * @example
 * const random = randomPolicy(sim.shape, { seed: 3 });
 */
export function randomPolicy(shape: Pick<FeatureShape, 'arms'>, options: { readonly seed?: number; readonly name?: string } = {}): Policy {
  const random = new SimRandom(options.seed ?? 0x5eed);
  const select = async (batch: DecisionBatch) => Int32Array.from({ length: batch.size }, () => random.int(shape.arms));
  return {
    name: options.name ?? 'random',
    select,
    decide: async (batch) => ({ arms: await select(batch), propensities: new Float64Array(batch.size).fill(1 / shape.arms) }),
    distribution: async (batch) => new Float64Array(batch.size * shape.arms).fill(1 / shape.arms),
    update: async () => {},
    dispose: () => {},
  };
}
