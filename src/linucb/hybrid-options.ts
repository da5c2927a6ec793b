import { BanditError } from '../core/errors.js';
import { checkBatchBindings, checkContexts, checkModelSize, playedRows, positiveInt, type ContextLayout } from '../core/check.js';
import { armsPerShardOption, maxArmsPerBinding } from '../models/arm-shards.js';
import { catalogueOptions } from '../models/catalogue.js';
import { resolveExploration, type Exploration } from '../models/exploration.js';
import { resolveDelayedRewards, type DelayedRewardOptions, type ResolvedDelayedRewards } from '../models/pending.js';
import { checkFactorDim, ridgeOptions, type RidgeDiagnostics, type RidgeOptions } from './options.js';
import type { Backend } from '../core/backend.js';

const MODEL = 'HybridLinUCB';

/**
 * The contexts of a batch for HybridLinUCB: for every row i and arm a, the arm's own features
 * x_{i,a} (dim values) and the features z_{i,a} (sharedDim values) whose coefficients β all
 * arms share. Both row-major, B×arms×dim and B×arms×sharedDim.
 *
 * @example
 * // Two rows, 3 arms, dim 2, sharedDim 4: z_{i,a} = e.g. user ⊗ article features
 * const contexts = { arm: new Float32Array(2 * 3 * 2), shared: new Float32Array(2 * 3 * 4) };
 * contexts.arm.set([0.1, 0.9], (1 * 3 + 2) * 2);  // x of row 1, arm 2
 */
export interface HybridContexts {
  /** x: B×arms×dim. */
  readonly arm: Float32Array | ArrayLike<number>;
  /** z: B×arms×sharedDim. */
  readonly shared: Float32Array | ArrayLike<number>;
}

/** Options of `HybridLinUCB.create`. */
export interface HybridLinUCBOptions extends DelayedRewardOptions {
  /** Number of arms K (may be left out with `itemIds`: their number). addArms adds more. */
  readonly arms?: number;
  /** The app's own id of each arm (see DisjointLinearOptions.itemIds). Default: arms by index only. */
  readonly itemIds?: readonly string[];
  /** Per-arm feature dimension d (x). */
  readonly dim: number;
  /** Shared feature dimension k (z), ≤ 256. */
  readonly sharedDim: number;
  /** Width of the confidence bonus (≥ 0). Default 1. Not used with `exploration`. */
  readonly alpha?: number;
  /**
   * Randomised exploration instead of the UCB argmax (ε-greedy, softmax or SquareCB), over the
   * mean estimates zᵀβ̂ + xᵀθ̂_a (α is then not used). Saved with the model. Default: none.
   */
  readonly exploration?: Exploration;
  /** Seed of the decision stream (0 … 2³²−1), saved with the model. Default: an unpredictable one. */
  readonly seed?: number;
  /** Ridge regularisation: A0 starts as λI_k and every A_a as λI_d (> 0). Default 1. */
  readonly lambda?: number;
  /** Re-factorise A_a⁻¹ from A_a of the arms updated since the last time after this many updates (rows); 0 turns it off. Default 2048. */
  readonly refactorEvery?: number;
  /** Measure the drift ‖A_a·A_a⁻¹ − I‖∞ of the arms updated since the last check after this many updates; 0 turns it off. Default 256. */
  readonly driftCheckEvery?: number;
  /** Re-factorise an arm whose drift passes this. Default 1e-4. */
  readonly driftBound?: number;
  /** Most arms kept in one tensor. Default: as many as one storage binding holds; larger models are split. */
  readonly armsPerShard?: number;
}

/** Counters and numerical health of a HybridLinUCB model. */
export interface HybridLinUCBDiagnostics extends RidgeDiagnostics {
  /** Times A0⁻¹ could not be rebuilt (A0 not numerically positive definite) and the last one was kept. */
  readonly failedSharedFactorizations: number;
}

/** The options with every default filled in. */
export type ResolvedHybridOptions = RidgeOptions & {
  /** The number of arms now (addArms grows it). */
  readonly arms: number;
  readonly delayed: ResolvedDelayedRewards;
  readonly dim: number;
  readonly sharedDim: number;
  readonly armsPerShard: number;
  readonly exploration: Exploration | null;
};

/**
 * Checks the options and fills in the defaults.
 *
 * @example
 * const o = resolveHybridOptions(backend, { arms: 50, dim: 6, sharedDim: 36 });   // o.alpha === 1
 */
export function resolveHybridOptions(backend: Backend, o: HybridLinUCBOptions): ResolvedHybridOptions & { readonly itemIds: string[] | null } {
  if (!o || typeof o !== 'object') throw new BanditError(`${MODEL}.create: options are required ({ arms, dim, sharedDim, … })`);
  const ids = catalogueOptions(MODEL, o.arms, o.itemIds);
  const arms = positiveInt(MODEL, 'arms', ids.arms);
  const dim = positiveInt(MODEL, 'dim', o.dim);
  const sharedDim = positiveInt(MODEL, 'sharedDim', o.sharedDim);
  checkFactorDim(MODEL, 'dim', dim);
  checkFactorDim(MODEL, 'sharedDim', sharedDim);
  const ridge = ridgeOptions(MODEL, o);
  checkModelSize(`${MODEL}.create`, `${arms} arms × dim ${dim} × sharedDim ${sharedDim}`, arms * (2 * dim * dim + 3 * dim * sharedDim + 3 * dim + 1), backend);
  const most = maxArmsPerBinding(backend, dim * Math.max(dim, sharedDim));
  const armsPerShard = armsPerShardOption(MODEL, o.armsPerShard, most, `of dim ${dim} and sharedDim ${sharedDim}`);
  return {
    arms, dim, sharedDim, ...ridge, armsPerShard, exploration: resolveExploration(MODEL, o.exploration),
    delayed: resolveDelayedRewards(MODEL, o), itemIds: ids.itemIds,
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * The per-arm layouts of the two parts of HybridLinUCB's contexts.
 *
 * @example
 * const { x, z } = hybridLayouts(model.options);   // x: B×arms×dim, z: B×arms×sharedDim
 */
export function hybridLayouts(o: ResolvedHybridOptions): { x: ContextLayout; z: ContextLayout } {
  return { x: { arms: o.arms, dim: o.dim, perArm: true }, z: { arms: o.arms, dim: o.sharedDim, perArm: true } };
}

/**
 * The two parts of a contexts object, unchecked (a BanditError unless it has both).
 *
 * @example
 * const { arm, shared } = hybridContextParts('HybridLinUCB.update', contexts);
 */
export function hybridContextParts(op: string, contexts: unknown): { arm: unknown; shared: unknown } {
  if (!isObject(contexts) || !('arm' in contexts) || !('shared' in contexts)) {
    throw new BanditError(`${op}: contexts must be an object { arm: B×arms×dim, shared: B×arms×sharedDim }`);
  }
  return { arm: contexts['arm'], shared: contexts['shared'] };
}

/**
 * Checks HybridLinUCB contexts for scoring (sizes first: one binding of `bindingBytes` must hold
 * each part and the scores, then the values) and returns B.
 *
 * @example
 * const rows = checkHybridContexts('HybridLinUCB.select', model.options, backend.maxBindingBytes, contexts);
 */
export function checkHybridContexts(op: string, o: ResolvedHybridOptions, bindingBytes: number, contexts: unknown): number {
  const { arm, shared } = hybridContextParts(op, contexts);
  const { arms, dim, sharedDim } = o;
  const lengthOf = (v: unknown) => (v as { length?: unknown } | null)?.length;
  const [xl, zl] = [lengthOf(arm), lengthOf(shared)];
  if (typeof xl === 'number' && xl % (arms * dim) === 0 && typeof zl === 'number' && zl % (arms * sharedDim) === 0) {
    const [bx, bz] = [xl / (arms * dim), zl / (arms * sharedDim)];
    if (bx !== bz) throw new BanditError(`${op}: contexts.arm holds ${bx} rows (B×${arms}×${dim}) but contexts.shared ${bz} (B×${arms}×${sharedDim})`);
    checkBatchBindings(MODEL, bindingBytes, bx, [
      ['contexts.arm', 4 * arms * dim], ['contexts.shared', 4 * arms * sharedDim], ['scores', 4 * arms],
    ]);
  }
  const layout = hybridLayouts(o);
  const rows = checkContexts(op, layout.x, arm, 'contexts.arm');
  checkContexts(op, layout.z, shared, 'contexts.shared');
  return rows;
}

/**
 * The played rows of an update's contexts, checked (either form, see HybridLinUCB.update), as
 * [x | z] rows: arms.length × (dim + sharedDim).
 *
 * @example
 * const xz = hybridPlayedRows('HybridLinUCB.update', model.options, contexts, arms);
 */
export function hybridPlayedRows(op: string, o: ResolvedHybridOptions, contexts: unknown, arms: Int32Array): Float32Array {
  const parts = hybridContextParts(op, contexts);
  const layout = hybridLayouts(o);
  const x = playedRows(op, layout.x, parts.arm, arms, 'contexts.arm');
  const z = playedRows(op, layout.z, parts.shared, arms, 'contexts.shared');
  const d = o.dim, k = o.sharedDim, rows = arms.length;
  const xz = new Float32Array(rows * (d + k));
  for (let j = 0; j < rows; j++) {
    xz.set(x.subarray(j * d, (j + 1) * d), j * (d + k));
    xz.set(z.subarray(j * k, (j + 1) * k), j * (d + k) + d);
  }
  return xz;
}
