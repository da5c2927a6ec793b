import type { FeatureShape } from '../../eval/batch.js';
import type { Policy } from '../../eval/policy.js';
import { SimRandom } from '../random.js';

/**
 * Uniformly random items from a seeded generator of its own (the same picks on every run).
 *
 * @example
 * const random = randomPolicy(sim.shape, { seed: 3 });
 */
export function randomPolicy(shape: Pick<FeatureShape, 'arms'>, options: { readonly seed?: number; readonly name?: string } = {}): Policy {
  const random = new SimRandom(options.seed ?? 0x5eed);
  return {
    name: options.name ?? 'random',
    select: async (batch) => Int32Array.from({ length: batch.size }, () => random.int(shape.arms)),
    update: async () => {},
    dispose: () => {},
  };
}
