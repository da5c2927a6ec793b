import { BanditError } from '../core/errors.js';
import type { HybridContexts } from '../linucb/hybrid.js';

/**
 * The feature dimensions of a decision problem (a simulator or a logged data set), from which
 * every policy sizes its model. Per-arm and hybrid features are built from the user and item
 * features (see `DecisionBatch`), so their sizes follow:
 * - per-arm features: `userDim + itemDim` (`armFeatureDim`);
 * - hybrid: arm part `userDim`, shared part `userDim · hybridItemDim` (`hybridSharedDim`).
 *
 * @example
 * const shape = sim.shape;   // { arms: 50, users: 500, userDim: 9, itemDim: 13, hybridItemDim: 8 }
 * const model = await LinUCB.create(backend, { arms: shape.arms, dim: shape.userDim });
 */
export interface FeatureShape {
  /** Number of arms (items) K. */
  readonly arms: number;
  /** Number of distinct user ids (ids are 0..users−1). */
  readonly users: number;
  /** Length of a user's context vector (the shared context of disjoint LinUCB). */
  readonly userDim: number;
  /** Length of an item's feature vector. */
  readonly itemDim: number;
  /** Length of the item vector whose outer product with the user's context is the hybrid shared part. */
  readonly hybridItemDim: number;
}

/**
 * Length of a per-arm feature vector [user | item].
 *
 * @example
 * const model = await NeuralUCB.create(backend, { dim: armFeatureDim(sim.shape), hidden: [32] });
 */
export const armFeatureDim = (s: FeatureShape): number => s.userDim + s.itemDim;

/**
 * Length of the hybrid shared features vec(user ⊗ hybridItem).
 *
 * @example
 * const model = await HybridLinUCB.create(backend, { arms: shape.arms, dim: shape.userDim, sharedDim: hybridSharedDim(shape) });
 */
export const hybridSharedDim = (s: FeatureShape): number => s.userDim * s.hybridItemDim;

/**
 * B decisions to make at once: who the users are and every feature layout the policies take.
 * Made by the simulator (`EcommerceSimulator.batch`) and by the replay evaluator from a log; a
 * policy must not modify its arrays. The derived layouts are built on first use and cached.
 *
 * @example
 * const chosen = await linucb.select(batch.userFeatures);                 // B×userDim
 * const picks = await neural.select(batch.armFeatures(), { arms: batch.shape.arms });
 */
export interface DecisionBatch {
  readonly shape: FeatureShape;
  /** B, the number of rows. */
  readonly size: number;
  /** The user id of each row (B). */
  readonly users: Int32Array;
  /** B×userDim: each row's user context. */
  readonly userFeatures: Float32Array;
  /** K×itemDim: the items' features (the same for every row). */
  readonly itemFeatures: Float32Array;
  /** K×hybridItemDim: the item vectors in the hybrid shared outer product. */
  readonly hybridItemFeatures: Float32Array;
  /** B×K×(userDim + itemDim): row i, arm a holds [user_i | item_a]. */
  armFeatures(): Float32Array;
  /**
   * HybridLinUCB's contexts: `arm` is B×K×userDim (the user's context for every arm, so each arm
   * fits its own θ_a on it), `shared` is B×K×(userDim·hybridItemDim) holding vec(user_i ⊗ h_a)
   * row-major (index j·hybridItemDim + l = user_i[j]·h_a[l]), whose β all arms share.
   */
  hybridContexts(): HybridContexts;
  /**
   * B×K click probabilities, where the batch comes from a simulator (what the oracle reads);
   * undefined for logged data.
   */
  readonly clickProbabilities?: Float64Array;
  /**
   * B×K, 1 where the row may be shown the item (a simulator's catalogue and stock); undefined
   * when every row may be shown every item. A policy passes it to its model's `eligible`.
   */
  readonly eligible?: Uint8Array;
}

/**
 * A DecisionBatch over given user and item features, the derived layouts built lazily.
 *
 * @example
 * const batch = new FeatureBatch(shape, users, userFeatures, itemFeatures, hybridItemFeatures);
 * const picks = await policy.select(batch);
 */
export class FeatureBatch implements DecisionBatch {
  readonly size: number;
  private perArm: Float32Array | null = null;
  private hybrid: HybridContexts | null = null;

  constructor(
    readonly shape: FeatureShape, readonly users: Int32Array, readonly userFeatures: Float32Array, readonly itemFeatures: Float32Array,
    readonly hybridItemFeatures: Float32Array,
  ) {
    const expect = (what: string, got: number, want: number) => {
      if (got !== want) throw new BanditError(`DecisionBatch: ${what} holds ${got} values, expected ${want}`);
    };
    this.size = users.length;
    expect('userFeatures', userFeatures.length, this.size * shape.userDim);
    expect('itemFeatures', itemFeatures.length, shape.arms * shape.itemDim);
    expect('hybridItemFeatures', hybridItemFeatures.length, shape.arms * shape.hybridItemDim);
  }

  armFeatures(): Float32Array {
    if (this.perArm) return this.perArm;
    const { arms: k, userDim: du, itemDim: di } = this.shape;
    const d = du + di;
    const out = new Float32Array(this.size * k * d);
    for (let i = 0; i < this.size; i++) {
      const user = this.userFeatures.subarray(i * du, (i + 1) * du);
      for (let a = 0; a < k; a++) {
        const o = (i * k + a) * d;
        out.set(user, o);
        out.set(this.itemFeatures.subarray(a * di, (a + 1) * di), o + du);
      }
    }
    return (this.perArm = out);
  }

  hybridContexts(): HybridContexts {
    if (this.hybrid) return this.hybrid;
    const { arms: k, userDim: du, hybridItemDim: dh } = this.shape;
    const arm = new Float32Array(this.size * k * du);
    const shared = new Float32Array(this.size * k * du * dh);
    for (let i = 0; i < this.size; i++) {
      const user = this.userFeatures.subarray(i * du, (i + 1) * du);
      for (let a = 0; a < k; a++) {
        arm.set(user, (i * k + a) * du);
        const o = (i * k + a) * du * dh;
        for (let j = 0; j < du; j++) {
          const uj = user[j]!;
          for (let l = 0; l < dh; l++) shared[o + j * dh + l] = uj * this.hybridItemFeatures[a * dh + l]!;
        }
      }
    }
    return (this.hybrid = { arm, shared });
  }
}

/**
 * The played arms' per-arm features, B×(userDim + itemDim): what NeuralUCB's update takes.
 *
 * @example
 * await neural.update(chosen, playedArmFeatures(batch, chosen), rewards);
 */
export function playedArmFeatures(batch: DecisionBatch, chosen: Int32Array): Float32Array {
  const { userDim: du, itemDim: di, arms } = batch.shape;
  const d = du + di;
  if (chosen.length !== batch.size) throw new BanditError(`playedArmFeatures: ${chosen.length} arms for a batch of ${batch.size}`);
  const out = new Float32Array(batch.size * d);
  for (let i = 0; i < batch.size; i++) {
    const a = chosen[i]!;
    if (!(a >= 0 && a < arms)) throw new BanditError(`playedArmFeatures: chosen[${i}] = ${a} is out of range 0..${arms - 1}`);
    out.set(batch.userFeatures.subarray(i * du, (i + 1) * du), i * d);
    out.set(batch.itemFeatures.subarray(a * di, (a + 1) * di), i * d + du);
  }
  return out;
}
