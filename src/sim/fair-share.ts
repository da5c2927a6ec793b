/**
 * How fast a policy gives a new collection its fair share of impressions.
 *
 * The fair share is the oracle's: at every step from the new collection's arrival, the oracle
 * shows the user the best item that can be shown (in the catalogue, in stock, by the true click
 * probabilities), and the fair share of the new items over a stretch of steps is the fraction of
 * those steps whose best item is a new one. It is measured on the same users and the same stock
 * as the policy, so the only noise in the comparison is the policy's. Why not 1/K of the eligible
 * items: the items are not equally good (the new collection is better on average, and tastes
 * differ), and a share that ignores quality rewards showing bad new items; the oracle's share is
 * what a policy with zero regret gives, item by item.
 */
import { BanditError } from '../core/errors.js';

/** A policy's share of the new items' impressions after their arrival, against the fair share. */
export interface NewItemShare {
  /** The new collection's first step and its first item (items ≥ it are new). */
  readonly from: number;
  readonly firstNewItem: number;
  /** The window W of the curves and of the reaching test. */
  readonly window: number;
  /** End (exclusive) of each window of W steps from `from` (the last may be shorter). */
  readonly windowEnds: Int32Array;
  /** The policy's share of impressions on new items in each window. */
  readonly share: Float64Array;
  /** The fair share in each window: the fraction of its steps whose best showable item is new. */
  readonly fairShare: Float64Array;
  /** Both over every step from `from` to the end. */
  readonly shareAfter: number;
  readonly fairShareAfter: number;
  /**
   * Steps from `from` until the share over a trailing window of W steps (all at or after `from`)
   * first reaches (1 − tolerance) × the fair share over the same steps, that fair share not 0 (a
   * window where no new item is the best one has nothing to reach): t + 1 − from at the first such
   * step t, so at least W; null if it never does within the run.
   */
  readonly stepsToFairShare: number | null;
  /** The same in rounds: the rounds from the one holding `from` to the one holding that step t, both counted. */
  readonly roundsToFairShare: number | null;
}

/**
 * The new items' share of a policy's impressions after their arrival, and how long it took to
 * reach their fair share (see the module's description): `shown[t]` the item the policy showed at
 * step t, `optimal[t]` the best showable item (the oracle's), items ≥ `firstNewItem` new, from
 * step `from`, with windows of `window` steps, `tolerance` (e.g. 0.2: 80 % of the fair share
 * counts as reached) and rounds of `batchSize` steps from step 0.
 *
 * @example
 * // steps 0..5, new items from 2 on, arriving at step 2; windows of 2:
 * newItemShare([0, 1, 0, 2, 2, 3], [1, 1, 2, 2, 3, 0], { firstNewItem: 2, from: 2, window: 2, tolerance: 0.2, batchSize: 2 });
 * // share [0.5, 1], fairShare [1, 0.5], stepsToFairShare 3 (steps 3–4: share 1 ≥ 0.8 × 1), roundsToFairShare 2
 */
export function newItemShare(
  shown: ArrayLike<number>, optimal: ArrayLike<number>,
  options: { readonly firstNewItem: number; readonly from: number; readonly window: number; readonly tolerance: number; readonly batchSize: number },
): NewItemShare {
  const { firstNewItem, from, window, tolerance, batchSize } = options;
  const steps = shown.length;
  if (optimal.length !== steps) throw new BanditError(`newItemShare: ${steps} shown items and ${optimal.length} optimal ones; one each a step`);
  const int = (name: string, v: number, min: number, max: number) => {
    if (!Number.isInteger(v) || v < min || v > max) throw new BanditError(`newItemShare: ${name} must be an integer in ${min}..${max}, got ${v}`);
  };
  int('from', from, 0, Math.max(0, steps - 1));
  int('window', window, 1, Number.MAX_SAFE_INTEGER);
  int('batchSize', batchSize, 1, Number.MAX_SAFE_INTEGER);
  int('firstNewItem', firstNewItem, 0, Number.MAX_SAFE_INTEGER);
  if (!(tolerance >= 0 && tolerance < 1)) throw new BanditError(`newItemShare: tolerance must be in [0, 1), got ${tolerance}`);
  const isNew = (item: number) => (item >= firstNewItem ? 1 : 0);
  const windows = Math.ceil((steps - from) / window);
  const windowEnds = new Int32Array(windows), share = new Float64Array(windows), fairShare = new Float64Array(windows);
  let mine = 0, fair = 0, trailMine = 0, trailFair = 0;
  let stepsToFairShare: number | null = null;
  for (let t = from; t < steps; t++) {
    const a = isNew(shown[t]!), o = isNew(optimal[t]!);
    const w = Math.floor((t - from) / window);
    share[w]! += a;
    fairShare[w]! += o;
    mine += a;
    fair += o;
    trailMine += a;
    trailFair += o;
    if (t - window >= from) {
      trailMine -= isNew(shown[t - window]!);
      trailFair -= isNew(optimal[t - window]!);
    }
    // Counts, so the comparison is exact: share ≥ (1 − tol)·fair over the same W steps, fair > 0.
    if (stepsToFairShare === null && t + 1 - from >= window && trailFair > 0 && trailMine >= (1 - tolerance) * trailFair) stepsToFairShare = t + 1 - from;
  }
  for (let w = 0; w < windows; w++) {
    const end = Math.min(steps, from + (w + 1) * window);
    windowEnds[w] = end;
    share[w]! /= end - (from + w * window);
    fairShare[w]! /= end - (from + w * window);
  }
  const n = steps - from;
  const roundsToFairShare = stepsToFairShare === null ? null : Math.floor((from + stepsToFairShare - 1) / batchSize) - Math.floor(from / batchSize) + 1;
  return { from, firstNewItem, window, windowEnds, share, fairShare, shareAfter: mine / n, fairShareAfter: fair / n, stepsToFairShare, roundsToFairShare };
}
