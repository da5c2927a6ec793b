import { BanditError } from '../../core/errors.js';
import type { Policy } from '../../eval/policy.js';

/**
 * The item with the highest click probability among the eligible ones, read from the simulator's
 * batch (ties to the lowest item): regret 0 by construction, the ceiling of the comparison. Throws on batches
 * without probabilities (logged data).
 *
 * @example
 * const oracle = oraclePolicy();
 */
export function oraclePolicy(options: { readonly name?: string } = {}): Policy {
  const name = options.name ?? 'oracle';
  return {
    name,
    select: async (batch) => {
      const p = batch.clickProbabilities;
      if (!p) throw new BanditError(`${name}: the batch has no click probabilities (the oracle runs on simulated batches only)`);
      const k = batch.shape.arms, e = batch.eligible;
      const out = new Int32Array(batch.size);
      for (let i = 0; i < batch.size; i++) {
        let best = -1;
        for (let a = 0; a < k; a++) if ((!e || e[i * k + a]) && (best < 0 || p[i * k + a]! > p[i * k + best]!)) best = a;
        out[i] = best;
      }
      return out;
    },
    update: async () => {},
    dispose: () => {},
  };
}
