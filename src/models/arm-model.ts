import { OnlineModel } from './online.js';
import { Catalogue, type AddArmsOptions, type ArmsInput } from './catalogue.js';
import type { Decision, DecisionsSetup } from './decisions.js';
import type { ResolvedDelayedRewards } from './pending.js';
import type { SavedArray } from './persist.js';
import type { SavedModelReader } from './saved.js';
import type { Backend } from '../core/backend.js';

/**
 * What the models with per-arm state share (LinUCB, LinTS, HybridLinUCB): a catalogue that
 * changes — `addArms` (new arms at the prior, every other arm's state untouched, across shard
 * boundaries), `retireArms` (never chosen again by select, decide or any exploration), arms
 * addressed by the app's own item ids (`itemIds` at create) — and the plays per arm. A subclass
 * gives its per-arm state (`state`: grow and reset).
 *
 * @example
 * const model = await LinUCB.create(backend, { itemIds: ['sku-1', 'sku-2'], dim: 8 });
 * await model.addArms(['sku-3']);
 * await model.retireArms(['sku-1']);
 * const { arms, itemIds, eventIds } = await model.decide(contexts);   // never sku-1
 * await model.update(['sku-2'], contextOfOne, Float32Array.of(1));
 */
export abstract class ArmModel<O extends { readonly arms: number }, C> extends OnlineModel<C, ArmsInput> {
  protected readonly catalogue: Catalogue;
  protected plays: Int32Array;
  private current: Readonly<O>;

  protected constructor(
    backend: Backend, model: string, options: O, itemIds: readonly string[] | null, decisions: DecisionsSetup, width: number, delayed: ResolvedDelayedRewards,
  ) {
    super(backend, model, decisions, width, delayed);
    this.current = Object.freeze(options);
    this.catalogue = new Catalogue(model, options.arms, itemIds);
    this.plays = new Int32Array(options.arms);
  }

  /** The resolved options; `arms` is the number of arms now (addArms grows it). */
  get options(): Readonly<O> {
    return this.current;
  }

  /**
   * The per-arm state: `grow(n)` allocates n more arms at the prior (all-or-nothing), `reset`
   * puts (distinct, valid) arms back at it, both in the open step. Every field of a subclass's
   * state starts at its prior (LinUCB: A = λI, b = 0; HybridLinUCB: also B = 0, so C, φ, θ, D = 0).
   */
  protected abstract readonly state: { grow(n: number): void; reset(arms: Int32Array): void };

  /** Host-side per-arm state of a subclass follows `state`: `grown` new arms, `reset` ones back at the prior. */
  protected armsAdded(_grown: number, _reset: Int32Array): void {}

  /**
   * Adds arms that start at the prior (their scores those of a fresh model's arms); every other
   * arm's state stays bit for bit as it was. `what` is a count, or for a model created with
   * `itemIds` the new arms' ids. New arms take new slots (growing the last shard, then new ones)
   * unless `reuseRetired` puts them in retired slots first (reset to the prior, their pending
   * decisions dropped). Resolves with the slots the new arms took, in order. Bad input is a
   * BanditError and nothing changes.
   *
   * @example
   * const slots = await model.addArms(2);                        // e.g. Int32Array [10, 11]
   * await ided.addArms(['sku-9'], { reuseRetired: true });        // into a retired slot, if any
   */
  addArms(what: number | readonly string[], options?: AddArmsOptions): Promise<Int32Array> {
    return this.run('addArms', [what, options], async (what, options) => {
      const plan = this.catalogue.planAdd(`${this.model}.addArms`, what, options);
      if (plan.slots.length === 0) return plan.slots;
      this.state.grow(plan.grow);
      if (plan.reuse.length > 0) {
        this.state.reset(plan.reuse);
        this.pending.dropArms(new Set(plan.reuse));
      }
      const plays = new Int32Array(this.plays.length + plan.grow);
      plays.set(this.plays);
      for (const a of plan.reuse) plays[a] = 0;
      this.plays = plays;
      this.armsAdded(plan.grow, plan.reuse);
      this.catalogue.commitAdd(plan);
      this.current = Object.freeze({ ...this.current, arms: this.catalogue.size });
      await this.backend.sync();
      return plan.slots;
    });
  }

  /**
   * Retires arms (indices, or item ids): from now on no select, decide or exploration chooses
   * them (they are left out of every eligible set, and propensities are over the arms left). Their
   * state is kept — `scores` still give their columns, and they still learn from rewards of
   * decisions made before — and their slot is
   * reused only by `addArms(…, { reuseRetired: true })`. An arm out of range, retired already or
   * given twice is a BanditError and nothing is retired.
   *
   * @example
   * await model.retireArms(Int32Array.of(3));
   */
  retireArms(arms: ArmsInput): Promise<void> {
    return this.run('retireArms', [arms], async (arms) => {
      this.catalogue.commitRetire(this.catalogue.planRetire(`${this.model}.retireArms`, arms));
    });
  }

  /**
   * The retired arms, ascending.
   *
   * @example
   * const gone = model.retiredArms;   // Int32Array
   */
  get retiredArms(): Int32Array {
    return this.catalogue.retired;
  }

  /**
   * The item id of every arm, in arm order (the order of per-arm contexts and eligible masks),
   * or null for a model created without `itemIds`.
   *
   * @example
   * const order = model.itemIds;   // ['sku-1', 'sku-2', …]
   */
  get itemIds(): readonly string[] | null {
    return this.catalogue.itemIds;
  }

  /**
   * The arms of item ids (an unknown id is a BanditError).
   *
   * @example
   * const [arm] = model.armsOf(['sku-2']);
   */
  armsOf(itemIds: readonly string[]): Int32Array {
    return Int32Array.from(this.catalogue.resolve(`${this.model}.armsOf`, itemIds, 'itemIds'));
  }

  /**
   * An `eligible` mask for decide and select (K values) with exactly these arms (indices or item
   * ids) eligible.
   *
   * @example
   * const d = await model.decide(contexts, { eligible: model.eligibleOf(['sku-2', 'sku-7']) });
   */
  eligibleOf(arms: ArmsInput): Uint8Array {
    return this.catalogue.mask(`${this.model}.eligibleOf`, arms);
  }

  /** Arm indices from what update got (item ids resolved; the range is update's check). */
  protected armIndices(op: string, arms: unknown): Int32Array {
    return this.catalogue.resolve(op, arms);
  }

  /** As OnlineModel's, with the item ids of the arms for a model that has them. */
  protected override async decided(make: () => Promise<Decision>, played: (d: Decision) => Float32Array): Promise<Decision> {
    const d = await super.decided(make, played);
    const ids = this.catalogue.idsOf(d.arms);
    return ids ? { ...d, itemIds: ids } : d;
  }

  /**
   * The save's parts of the catalogue and the delayed rewards (options, counters, arrays) and
   * its format version: `versions[0]` (the format before these existed, byte for byte) when it
   * holds none of them, else `versions[1]`.
   */
  protected catalogueSave(versions: readonly [number, number]): {
    version: number; options: Record<string, unknown>; counters: Record<string, unknown>; arrays: Record<string, SavedArray>;
  } {
    const c = this.catalogue.saved(), p = this.pendingSave();
    const extended = this.catalogue.worthSaving || Object.keys(p.options).length > 0 || Object.keys(p.counters).length > 0;
    return { version: versions[extended ? 1 : 0], options: { ...c.options, ...p.options }, counters: p.counters, arrays: { ...c.arrays, ...p.arrays } };
  }

  /** Restores the retired arms and pending decisions of a save (none in an older one). */
  protected restoreCatalogue(saved: SavedModelReader): void {
    this.catalogue.restore(saved);
    this.restorePending(saved, this.catalogue.size);
  }
}
