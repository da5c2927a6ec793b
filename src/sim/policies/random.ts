import type { DecisionBatch, FeatureShape } from '../../eval/batch.js';
import type { Policy } from '../../eval/policy.js';
import { SimRandom } from '../random.js';

/**
 * Uniformly random items from a seeded generator of its own (the same picks on every run): each
 * with propensity 1/K (`decide`), the distribution 1/K everywhere; K the batch's items, or where
 * `batch.eligible` is given, a row's eligible ones.
 *
 * @example
 * const random = randomPolicy(sim.shape, { seed: 3 });
 */
export function randomPolicy(_shape: Pick<FeatureShape, 'arms'>, options: { readonly seed?: number; readonly name?: string } = {}): Policy {
  const random = new SimRandom(options.seed ?? 0x5eed);
  const decide = async (batch: DecisionBatch) => {
    const k = batch.shape.arms, e = batch.eligible;
    const arms = new Int32Array(batch.size), propensities = new Float64Array(batch.size);
    for (let r = 0; r < batch.size; r++) {
      if (!e) {
        arms[r] = random.int(k);
        propensities[r] = 1 / k;
        continue;
      }
      let live = 0;
      for (let a = 0; a < k; a++) live += e[r * k + a]!;
      let j = random.int(live), a = 0;
      for (; ; a++) if (e[r * k + a] && j-- === 0) break;
      arms[r] = a;
      propensities[r] = 1 / live;
    }
    return { arms, propensities };
  };
  return {
    name: options.name ?? 'random',
    select: async (batch) => (await decide(batch)).arms,
    decide,
    distribution: async (batch) => {
      const k = batch.shape.arms, e = batch.eligible;
      const out = new Float64Array(batch.size * k).fill(1 / k);
      if (e) {
        for (let r = 0; r < batch.size; r++) {
          let live = 0;
          for (let a = 0; a < k; a++) live += e[r * k + a]!;
          for (let a = 0; a < k; a++) out[r * k + a] = e[r * k + a]! / live;
        }
      }
      return out;
    },
    update: async () => {},
    dispose: () => {},
  };
}
