import { LAMBDA_WORDS, lambdaInRange } from '../core/limits.js';
import { BanditError } from '../core/errors.js';
import { booleanOption, checkModelSize, numberOption, positiveInt } from '../core/check.js';
import { armsPerShardOption, maxArmsPerBinding } from '../models/arm-shards.js';
import { catalogueOptions } from '../models/catalogue.js';
import { inverseHealthOptions, type InverseHealthOptions } from '../models/inverse-health.js';
import { resolveDelayedRewards, type DelayedRewardOptions, type ResolvedDelayedRewards } from '../models/pending.js';
import { checkFactorDim, type RidgeDiagnostics } from './options.js';
import type { Backend } from '../core/backend.js';

/** The options LinUCB and LinTS both take. */
export interface DisjointLinearOptions extends DelayedRewardOptions {
  /** Number of arms K (may be left out with `itemIds`: their number). addArms adds more. */
  readonly arms?: number;
  /**
   * The app's own id of each arm (distinct non-empty strings; K of them): update, retireArms,
   * eligibleOf and armsOf then take ids where they take arms, decide returns `itemIds` beside the
   * arms, and addArms takes the new arms' ids. Saved with the model. Default: arms by index only.
   */
  readonly itemIds?: readonly string[];
  /** Context dimension d. */
  readonly dim: number;
  /** Ridge regularisation: every A_a starts as λI (> 0). Default 1. */
  readonly lambda?: number;
  /** Contexts are B×arms×dim (a vector per arm) instead of B×dim shared by all arms. Default false. */
  readonly perArmFeatures?: boolean;
  /**
   * Re-factorise A⁻¹ from A (Cholesky on the backend) of the arms updated since the last time,
   * after this many updates (rows), whatever the drift. 0 turns it off. Default 2048.
   */
  readonly refactorEvery?: number;
  /**
   * Measure the drift ‖A·A⁻¹ − I‖∞ of the arms updated since the last check after this many
   * updates, and re-factorise those past `driftBound`; 0 turns it off. Default 256.
   */
  readonly driftCheckEvery?: number;
  /** Re-factorise when the largest drift of an arm passes this. Default 1e-4. */
  readonly driftBound?: number;
  /**
   * Discounting (Russac et al. 2019) for non-stationary rewards: every update row is a time
   * step at which every arm forgets, A ← γA + (1−γ)λI, b ← γb, before the played arm adds x xᵀ and
   * r·x. The regularisation is restored each step, so a rarely played arm's A tends to λI, never 0.
   */
  readonly forgetting?: { readonly gamma: number };
  /**
   * Most arms kept in one tensor. Default: as many as one storage binding holds (K·d² floats);
   * larger models are split over several tensors.
   */
  readonly armsPerShard?: number;
  /**
   * Seed of the decision stream (an integer in 0 … 2³²−1), saved with the model. Default: an
   * unpredictable one.
   */
  readonly seed?: number;
}

/** The shared options with every default filled in. */
export type ResolvedDisjointOptions = InverseHealthOptions & {
  /** The number of arms now (addArms grows it). */
  readonly arms: number;
  readonly dim: number;
  readonly lambda: number;
  readonly perArmFeatures: boolean;
  readonly forgetting: { readonly gamma: number } | null;
  readonly armsPerShard: number;
  readonly delayed: ResolvedDelayedRewards;
};

/**
 * Checks the shared options of a disjoint linear model and fills in the defaults.
 *
 * @example
 * const o = resolveDisjointOptions('LinTS', backend, { arms: 10, dim: 8 });   // o.lambda === 1
 */
export function resolveDisjointOptions(model: string, backend: Backend, o: DisjointLinearOptions): ResolvedDisjointOptions & { readonly itemIds: string[] | null } {
  if (!o || typeof o !== 'object') throw new BanditError(`${model}.create: options are required ({ arms, dim, … })`);
  const ids = catalogueOptions(model, o.arms, o.itemIds);
  const arms = positiveInt(model, 'arms', ids.arms);
  const dim = positiveInt(model, 'dim', o.dim);
  checkFactorDim(model, 'dim', dim);
  const lambda = numberOption(model, 'lambda', o.lambda, 1, lambdaInRange, LAMBDA_WORDS);
  let forgetting: { gamma: number } | null = null;
  if (o.forgetting !== undefined) {
    const gamma = numberOption(model, 'forgetting.gamma', o.forgetting?.gamma, NaN, (v) => v > 0 && v <= 1, 'in (0, 1]');
    forgetting = { gamma };
  }
  checkModelSize(`${model}.create`, `${arms} arms × dim ${dim}`, arms * (2 * dim * dim + 2 * dim + 1), backend);
  const armsPerShard = armsPerShardOption(model, o.armsPerShard, maxArmsPerBinding(backend, dim * dim), `of dim ${dim}`);
  const delayed = resolveDelayedRewards(model, o);
  return {
    arms, dim, lambda, ...inverseHealthOptions(model, o), perArmFeatures: booleanOption(model, 'perArmFeatures', o.perArmFeatures, false), forgetting, armsPerShard, delayed, itemIds: ids.itemIds,
  };
}

/** Counters and numerical health of a disjoint linear model (LinUCB, LinTS). */
export interface LinearDiagnostics extends RidgeDiagnostics {
  /**
   * Times `select` found a row with no finite score (a broken inverse) and rebuilt every arm's
   * inverse from the accurate A and b before scoring again (counted since create or load).
   */
  readonly repairs: number;
}
