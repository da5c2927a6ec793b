/** What every adapter passes on of a batch's catalogue: the rows' eligible items. */
import type { DecisionBatch } from '../../eval/batch.js';

/**
 * The `eligible` option of a model's select or decide for a batch: its B×K mask (the catalogue at
 * each row's step, in stock), or nothing when every row may show every item (the plain call).
 *
 * @example
 * const chosen = await model.select(batch.userFeatures, eligibleOption(batch));
 */
export function eligibleOption(batch: DecisionBatch): { readonly eligible?: Uint8Array } {
  return batch.eligible ? { eligible: batch.eligible } : {};
}
