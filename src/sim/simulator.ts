import { BanditError } from '../core/errors.js';
import { FeatureBatch, type DecisionBatch, type FeatureShape } from '../eval/batch.js';
import type { BanditLog } from '../eval/log.js';
import { hashUniform, STREAM } from './random.js';
import { outOfStockAt, stockStretches } from './stock-outs.js';
import { buildWorld } from './world.js';
import { resolveSimulatorOptions, type EcommerceSimulatorOptions, type ResolvedSimulatorOptions } from './simulator-options.js';

/** A DecisionBatch from the simulator, with what only a simulator knows. */
export interface SimBatch extends DecisionBatch {
  /** The step of each row (consecutive, from `start`). */
  readonly steps: Int32Array;
  readonly start: number;
  /** B×K click probabilities of every item for each row's user at that step. */
  readonly clickProbabilities: Float64Array;
  /** The item with the highest click probability for each row (ties to the lowest). */
  readonly optimal: Int32Array;
  /** That item's click probability. */
  readonly optimalProbability: Float64Array;
  /** 1 where the row's step is at or after the shock. */
  readonly shocked: Uint8Array;
  /**
   * B×K, 1 where the item can be shown to the row's user (in the catalogue at that step and in
   * stock); undefined when every item of the batch can be shown on every row.
   */
  readonly eligible?: Uint8Array;
}

/**
 * A seeded, deterministic e-commerce world for head-to-head bandit runs.
 *
 * Users u have latent unit taste vectors t_u (latentDim) and observable features
 * x_u = [P t_u + ε_u, 1] (P a fixed random userFeatureDim×latentDim Gaussian projection,
 * ε_u ~ N(0, featureNoise²) drawn once per user, a constant 1 appended so linear models get an
 * intercept). Items i have latent unit vectors v_i, a category c_i and observable features
 * [Q v_i + ε_i, onehot(c_i)]. The click probability is
 *
 *     p(click | u, i) = σ(baseLogit + pop[c_i] + affinityScale · t_u·v_i)
 *
 * At every step one user of the population arrives (uniformly at random). At the shock step the
 * world changes for good: every t_u turns by `shock.rotation` (a random rotation, the same for all
 * users) and pop[shock.category] += shock.popularityChange; the observable features stay as they
 * were. The simulator knows every probability, so the best item and the exact expected regret
 * p(best) − p(chosen) of every decision are known.
 *
 * With `newCollection`, new items join the catalogue at its step (see NewCollectionOptions); with
 * `stockOuts`, items are out of stock for stretches (see StockOutOptions). A batch's items are the
 * catalogue at its last step (`batch.shape.arms`), and `batch.eligible` marks what each row may
 * show; the best item and the regret are over the eligible items. `shape` is the catalogue at
 * step 0, what the policies are created with.
 *
 * Everything is a function of the seed: the step-t user and the click of item i at step t are
 * drawn from counter-based uniforms u(seed, t) and u(seed, t, i) (a click is u(seed, t, i) <
 * p(t, i)), so policies run on the same stream see the same users and the same click luck for
 * the same item, and any batch can be built on its own, in any order.
 *
 * @example
 * const sim = new EcommerceSimulator({ seed: 7, steps: 4000 });       // shock at step 2000
 * const batch = sim.batch(0, 32);                                      // steps 0..31
 * const chosen = await linucb.select(batch.userFeatures);             // B×userDim contexts
 * const clicks = sim.clicks(batch, chosen);                            // Float32Array of 0/1
 * const regret = sim.regret(batch, chosen);                            // Float64Array, p* − p
 */
export class EcommerceSimulator {
  /** The resolved options; `options.shock.step` follows `triggerShock`. */
  get options(): ResolvedSimulatorOptions {
    return this.resolved;
  }
  private resolved: ResolvedSimulatorOptions;
  /** Feature sizes: userDim = userFeatureDim + 1, itemDim = itemFeatureDim + categories, hybridItemDim = itemFeatureDim. */
  readonly shape: FeatureShape;
  /** The category of each item. */
  readonly itemCategories: Int32Array;
  /** Category popularities (logits) before the shock and from the shock on. */
  readonly popularity: { readonly before: Float64Array; readonly after: Float64Array };
  /** users×userDim observable user features (float32, what the policies see). */
  readonly userFeatures: Float32Array;
  /** (all items)×itemDim observable item features: [Q v_i + ε_i, onehot(c_i)]; the new collection's after the first `items`. */
  readonly itemFeatures: Float32Array;
  /** (all items)×itemFeatureDim: the projected item latents alone, the item half of the hybrid shared features. */
  readonly hybridItemFeatures: Float32Array;
  /** The shape with every item there will be (the new collection's too): what a log of the run has. */
  readonly allItemsShape: FeatureShape;
  /** users×(all items) click probabilities before the shock ([0]) and after it ([1]). */
  private readonly probability: [Float64Array, Float64Array];
  /** users: the best item of the first `items` before ([0]) and after ([1]) the shock, and of all items. */
  private readonly best: [Int32Array, Int32Array];
  private readonly bestAll: [Int32Array, Int32Array];
  /** Per item, its out-of-stock stretches within the run as [start, end) pairs, ascending. */
  private readonly stockOut: readonly Int32Array[];

  constructor(options: EcommerceSimulatorOptions = {}) {
    const o = resolveSimulatorOptions(options);
    const w = buildWorld(o);
    const k = w.items, kAll = w.allItems;
    this.resolved = Object.freeze({
      ...o, shock: o.shock ? Object.freeze({ ...o.shock, category: w.shockCategory }) : null,
      newCollection: o.newCollection ? Object.freeze({ ...o.newCollection }) : null, stockOuts: o.stockOuts ? Object.freeze({ ...o.stockOuts }) : null,
    });
    this.shape = Object.freeze({ arms: k, users: o.users, userDim: o.userFeatureDim + 1, itemDim: o.itemFeatureDim + o.categories, hybridItemDim: o.itemFeatureDim });
    this.allItemsShape = Object.freeze({ ...this.shape, arms: kAll });
    this.itemCategories = Int32Array.from(w.categoryOf);
    this.popularity = w.popularity;
    this.userFeatures = w.userFeatures;
    this.itemFeatures = w.itemFeatures;
    this.hybridItemFeatures = w.hybridItemFeatures;
    this.probability = w.probability;
    this.best = w.best;
    this.bestAll = w.bestAll;
    this.stockOut = Array.from({ length: kAll }, (_, i) => stockStretches(this.resolved, i, i < k ? 0 : o.newCollection!.step));
  }

  /** The items in the catalogue at `step`: the first `items`, and from the new collection's step all. */
  catalogueSize(step: number): number {
    const nc = this.resolved.newCollection;
    return nc && step >= nc.step ? this.allItemsShape.arms : this.shape.arms;
  }

  /** The step the new collection arrives at, or null without one. */
  get newCollectionStep(): number | null {
    return this.resolved.newCollection?.step ?? null;
  }

  /** Whether `item` is in stock at `step` (it may still be outside the catalogue: see catalogueSize). */
  inStock(step: number, item: number): boolean {
    this.checkStep('inStock', step);
    this.checkItem('inStock', item);
    return !outOfStockAt(this.stockOut[item]!, step);
  }

  /** Number of steps of the run. */
  get steps(): number {
    return this.options.steps;
  }

  /** First step of the shocked world, or null when there is no shock. */
  get shockStep(): number | null {
    return this.options.shock?.step ?? null;
  }

  /**
   * Makes the market shock happen at `step` instead of when it was planned (earlier or later):
   * the runtime trigger of a live demo's "shock now" button. The shocked world itself (the
   * rotation, the category and its popularity change) is the one planned at construction, so a
   * run is still a function of the seed and the step the shock came at. Batches built before the
   * call keep the world they were built in: a live caller passes the first step it has not built
   * yet. `step` = `steps` moves the shock past the end of the run (it does not happen). A world
   * built with `shock: null` has no shocked world to switch to; build it with
   * `shock: { step: steps }` (armed, not planned within the run) to trigger it later.
   *
   * @example
   * const sim = new EcommerceSimulator({ steps: 6000, shock: { step: 6000 } });   // armed, not planned
   * // … after 1200 steps have been served, the user presses "shock now":
   * sim.triggerShock(1200);
   * sim.shockStep;   // 1200
   */
  triggerShock(step: number): void {
    const shock = this.resolved.shock;
    if (!shock) {
      throw new BanditError('EcommerceSimulator.triggerShock: this world was built with shock: null; build it with shock: { step: steps } to arm a shock for later');
    }
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > this.resolved.steps) {
      throw new BanditError(`EcommerceSimulator.triggerShock: step must be an integer in 0..${this.resolved.steps} (steps), got ${String(step)}`);
    }
    this.resolved = Object.freeze({ ...this.resolved, shock: Object.freeze({ ...shock, step }) });
  }

  private world(step: number): 0 | 1 {
    const s = this.options.shock;
    return s && step >= s.step ? 1 : 0;
  }

  private checkStep(what: string, step: number): void {
    if (!Number.isInteger(step) || step < 0) throw new BanditError(`EcommerceSimulator.${what}: step must be an integer ≥ 0, got ${step}`);
  }

  private checkItem(what: string, item: number, arms = this.allItemsShape.arms): void {
    if (!Number.isInteger(item) || item < 0 || item >= arms) {
      throw new BanditError(`EcommerceSimulator.${what}: item ${item} is out of range 0..${arms - 1}`);
    }
  }

  /** The user who arrives at `step`. Steps past the run's end are valid (the stream goes on). */
  userAt(step: number): number {
    this.checkStep('userAt', step);
    return Math.floor(hashUniform(this.options.seed, STREAM.user, step, 0) * this.shape.users);
  }

  /** Click probability of `item` for the user of `step`, in the world of that step. */
  clickProbability(step: number, item: number): number {
    this.checkItem('clickProbability', item);
    return this.probability[this.world(step)][this.userAt(step) * this.allItemsShape.arms + item]!;
  }

  /** The best item that can be shown at `step`: in the catalogue and in stock (ties to the lowest). */
  optimalItem(step: number): number {
    return this.batch(step, 1).optimal[0]!;
  }

  /** Whether `item` shown at `step` is clicked (1) or not (0): u(seed, step, item) < p(step, item). */
  click(step: number, item: number): 0 | 1 {
    return hashUniform(this.options.seed, STREAM.click, step, item) < this.clickProbability(step, item) ? 1 : 0;
  }

  /**
   * How many rounds after it is shown the click (or no click) of `step` arrives: geometric on
   * 0, 1, 2, … with mean `mean` (P(D = d) = p(1 − p)^d, p = 1/(1 + mean)), from a draw of its own
   * for the step, so every policy's reward of that step arrives alike. 0 when `mean` is 0.
   *
   * @example
   * sim.clickDelay(120, 4);   // e.g. 2: the click of step 120 arrives two rounds later
   */
  clickDelay(step: number, mean: number): number {
    this.checkStep('clickDelay', step);
    if (typeof mean !== 'number' || !Number.isFinite(mean) || mean < 0) throw new BanditError(`EcommerceSimulator.clickDelay: mean must be a finite number ≥ 0, got ${String(mean)}`);
    if (mean === 0) return 0;
    return Math.floor(Math.log(hashUniform(this.options.seed, STREAM.delay, step, 0)) / Math.log(mean / (1 + mean)));
  }

  /**
   * Steps start..start+size−1 as one batch (B users arriving at once).
   *
   * @example
   * for (let t = 0; t < sim.steps; t += 32) { const batch = sim.batch(t, Math.min(32, sim.steps - t)); … }
   */
  batch(start: number, size: number): SimBatch {
    this.checkStep('batch', start);
    if (!Number.isInteger(size) || size < 1) throw new BanditError(`EcommerceSimulator.batch: size must be a positive integer, got ${size}`);
    return this.batchOf(Int32Array.from({ length: size }, (_, r) => start + r));
  }

  /**
   * The batch of the given steps (any steps, in the order given), as `batch` builds consecutive
   * ones: the items are the catalogue at the latest of them.
   *
   * @example
   * const late = sim.batchOf(Int32Array.of(40, 12, 97));
   */
  batchOf(steps: Int32Array): SimBatch {
    if (!(steps instanceof Int32Array) || steps.length === 0) throw new BanditError('EcommerceSimulator.batchOf: steps must be a non-empty Int32Array');
    let last = 0;
    for (const t of steps) {
      this.checkStep('batchOf', t);
      last = Math.max(last, t);
    }
    const size = steps.length;
    const kAll = this.allItemsShape.arms;
    const k = this.catalogueSize(last);
    const { userDim } = this.shape;
    const users = new Int32Array(size);
    const userFeatures = new Float32Array(size * userDim);
    const clickProbabilities = new Float64Array(size * k);
    const optimal = new Int32Array(size);
    const optimalProbability = new Float64Array(size);
    const shocked = new Uint8Array(size);
    const eligible = this.eligibility(steps, k);
    for (let r = 0; r < size; r++) {
      const t = steps[r]!;
      const u = this.userAt(t);
      const w = this.world(t);
      const p = this.probability[w];
      users[r] = u;
      shocked[r] = w;
      userFeatures.set(this.userFeatures.subarray(u * userDim, (u + 1) * userDim), r * userDim);
      clickProbabilities.set(p.subarray(u * kAll, u * kAll + k), r * k);
      let best: number;
      if (!eligible?.rowLimited[r]) {
        best = (this.catalogueSize(t) === this.shape.arms ? this.best : this.bestAll)[w][u]!;
      } else {
        best = -1;
        for (let i = 0; i < k; i++) if (eligible.mask[r * k + i] && (best < 0 || p[u * kAll + i]! > p[u * kAll + best]!)) best = i;
      }
      optimal[r] = best;
      optimalProbability[r] = p[u * kAll + best]!;
    }
    const shape = k === this.shape.arms ? this.shape : Object.freeze({ ...this.shape, arms: k });
    const base = new FeatureBatch(shape, users, userFeatures, this.itemFeatures.subarray(0, k * shape.itemDim), this.hybridItemFeatures.subarray(0, k * shape.hybridItemDim));
    return Object.assign(base, { steps, start: steps[0]!, clickProbabilities, optimal, optimalProbability, shocked }, eligible ? { eligible: eligible.mask } : {});
  }

  /**
   * The B×K eligibility of the rows (the catalogue at each row's step, in stock), and which rows
   * have an ineligible item; null when every row may show every item.
   */
  private eligibility(steps: Int32Array, k: number): { mask: Uint8Array; rowLimited: Uint8Array } | null {
    const size = steps.length;
    let mask: Uint8Array | null = null;
    const rowLimited = new Uint8Array(size);
    const off = (r: number, i: number) => {
      mask ??= new Uint8Array(size * k).fill(1);
      mask[r * k + i] = 0;
      rowLimited[r] = 1;
    };
    for (let r = 0; r < size; r++) for (let i = this.catalogueSize(steps[r]!); i < k; i++) off(r, i);
    if (this.resolved.stockOuts) {
      for (let i = 0; i < k; i++) {
        if (this.stockOut[i]!.length === 0) continue;
        for (let r = 0; r < size; r++) if (outOfStockAt(this.stockOut[i]!, steps[r]!)) off(r, i);
      }
      // A row with nothing in stock shows its whole catalogue.
      if (mask) {
        const m: Uint8Array = mask;
        for (let r = 0; r < size; r++) {
          const live = this.catalogueSize(steps[r]!);
          let any = false;
          for (let i = 0; i < live && !any; i++) any = m[r * k + i] === 1;
          if (!any) for (let i = 0; i < live; i++) m[r * k + i] = 1;
        }
      }
    }
    return mask ? { mask, rowLimited } : null;
  }

  private checkChosen(what: string, batch: SimBatch, chosen: Int32Array): void {
    if (!(chosen instanceof Int32Array) || chosen.length !== batch.size) {
      throw new BanditError(`EcommerceSimulator.${what}: chosen must be an Int32Array of ${batch.size} items (one a row)`);
    }
    for (let r = 0; r < chosen.length; r++) this.checkItem(`${what} (row ${r})`, chosen[r]!, batch.shape.arms);
  }

  /** The clicks (0/1) of showing `chosen[r]` to row r's user: the same draws for every policy. */
  clicks(batch: SimBatch, chosen: Int32Array): Float32Array {
    this.checkChosen('clicks', batch, chosen);
    const k = batch.shape.arms;
    const out = new Float32Array(batch.size);
    for (let r = 0; r < batch.size; r++) {
      const item = chosen[r]!;
      out[r] = hashUniform(this.options.seed, STREAM.click, batch.steps[r]!, item) < batch.clickProbabilities[r * k + item]! ? 1 : 0;
    }
    return out;
  }

  /** The expected regret p(best) − p(chosen) of each row (≥ 0; 0 for the best item). */
  regret(batch: SimBatch, chosen: Int32Array): Float64Array {
    this.checkChosen('regret', batch, chosen);
    const k = batch.shape.arms;
    return Float64Array.from(chosen, (item, r) => batch.optimalProbability[r]! - batch.clickProbabilities[r * k + item]!);
  }

  /**
   * `rows` interactions logged by a uniformly random policy in the world BEFORE the shock (and the
   * new collection: the items of step 0, all in stock), from
   * draws of their own (not the run's stream): the training data of a batch-trained model (the
   * Embedding + MLP baseline) that is then frozen. propensities = 1/K.
   *
   * @example
   * const log = sim.randomLog(5000);   // { users, contexts, actions, rewards, propensities, … }
   */
  randomLog(rows: number): BanditLog {
    if (!Number.isInteger(rows) || rows < 1) throw new BanditError(`EcommerceSimulator.randomLog: rows must be a positive integer, got ${rows}`);
    const { arms: k, users: n, userDim, itemDim, hybridItemDim } = this.shape;
    const kAll = this.allItemsShape.arms;
    const seed = this.options.seed;
    const users = new Int32Array(rows), actions = new Int32Array(rows);
    const contexts = new Float32Array(rows * userDim), rewards = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      const u = Math.floor(hashUniform(seed, STREAM.logUser, r, 0) * n);
      const a = Math.floor(hashUniform(seed, STREAM.logAction, r, 0) * k);
      users[r] = u;
      actions[r] = a;
      contexts.set(this.userFeatures.subarray(u * userDim, (u + 1) * userDim), r * userDim);
      rewards[r] = hashUniform(seed, STREAM.logClick, r, a) < this.probability[0][u * kAll + a]! ? 1 : 0;
    }
    return {
      shape: this.shape, length: rows, users, contexts, actions, rewards,
      propensities: new Float64Array(rows).fill(1 / k),
      itemFeatures: this.itemFeatures.subarray(0, k * itemDim), hybridItemFeatures: this.hybridItemFeatures.subarray(0, k * hybridItemDim),
    };
  }
}
