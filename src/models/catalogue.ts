import { BanditError } from '../core/errors.js';
import type { SavedModelReader } from './saved.js';

// The arms of a model whose catalogue changes: how many there are, which are retired (never
// chosen again), and optionally the app's own item id of each, so an app never keeps a table of
// its own. Host bookkeeping only; the models grow and reset their state on the backend.

/**
 * Options of `addArms`.
 *
 * @example
 * const slots = await model.addArms(3, { reuseRetired: true });   // retired slots first, then new ones
 */
export interface AddArmsOptions {
  /**
   * Put new arms in the slots of retired arms (lowest first, their state reset to the prior and
   * their pending decisions dropped) before growing. Default false: retired slots stay retired.
   */
  readonly reuseRetired?: boolean;
}

/** What an `addArms` call will do, checked before anything changes. */
export interface AddPlan {
  /** The slots the new arms take, in order: reused retired slots first, then new ones. */
  readonly slots: Int32Array;
  /** Retired slots reused (reset to the prior). */
  readonly reuse: Int32Array;
  /** Arms the state grows by. */
  readonly grow: number;
  /** The new arms' item ids (null: the model has none). */
  readonly ids: readonly string[] | null;
}

/**
 * Arms as the public calls take them: arm indices, or the app's item ids when the model has them.
 *
 * @example
 * await model.retireArms(Int32Array.of(3));      // by index
 * await ided.retireArms(['sku-3']);              // by item id (a model created with itemIds)
 */
export type ArmsInput = Int32Array | readonly string[];

const isIdList = (v: unknown): v is readonly unknown[] => Array.isArray(v);

/**
 * Checks the `itemIds` and `arms` options of a model's create: with item ids, `arms` may be left
 * out (it is their number) and must match when given; the ids are distinct non-empty strings.
 *
 * @example
 * const { arms, itemIds } = catalogueOptions('LinUCB', undefined, ['sku-1', 'sku-2']);   // arms 2
 */
export function catalogueOptions(model: string, arms: unknown, itemIds: unknown): { arms: unknown; itemIds: string[] | null } {
  if (itemIds === undefined || itemIds === null) return { arms, itemIds: null };
  if (!isIdList(itemIds)) throw new BanditError(`${model}: option itemIds must be an array of distinct non-empty strings`);
  checkIdList(model, 'itemIds', itemIds, new Map());
  if (arms !== undefined && arms !== itemIds.length) throw new BanditError(`${model}: arms = ${String(arms)} but itemIds holds ${itemIds.length} ids`);
  return { arms: itemIds.length, itemIds: [...itemIds] as string[] };
}

function checkIdList(where: string, name: string, ids: readonly unknown[], taken: ReadonlyMap<string, number>): void {
  const seen = new Map<string, number>();
  ids.forEach((id, i) => {
    if (typeof id !== 'string' || id.length === 0) throw new BanditError(`${where}: ${name}[${i}] is ${JSON.stringify(id) ?? String(id)}; item ids are non-empty strings`);
    const before = seen.get(id);
    if (before !== undefined) throw new BanditError(`${where}: ${name}[${i}] = ${JSON.stringify(id)} repeats ${name}[${before}]`);
    const slot = taken.get(id);
    if (slot !== undefined) throw new BanditError(`${where}: ${name}[${i}] = ${JSON.stringify(id)} is already arm ${slot}`);
    seen.set(id, i);
  });
}

/**
 * A model's arms: their number, the retired ones and (optionally) the item id of each slot.
 * Every `plan…` call checks its input and changes nothing; `commit…` applies a checked plan.
 *
 * @example
 * const catalogue = new Catalogue('LinUCB', 3, ['a', 'b', 'c']);
 * const plan = catalogue.planAdd('LinUCB.addArms', ['d'], {});   // plan.slots: [3]
 * catalogue.commitAdd(plan);
 * catalogue.commitRetire(catalogue.planRetire('LinUCB.retireArms', ['b']));
 * catalogue.live();                                               // Uint8Array [1, 0, 1, 1]
 */
/** The most arms a model indexes (arm indices are Int32). */
export const MAX_ARMS = 2 ** 31 - 1;

export class Catalogue {
  private readonly model: string;
  private arms: number;
  private readonly retiredSet = new Set<number>();
  private liveMask: Uint8Array | null = null;
  /** Slot → id, and id → slot; null when the model addresses arms by index only. */
  private readonly ids: string[] | null;
  private readonly slots = new Map<string, number>();

  constructor(model: string, arms: number, itemIds: readonly string[] | null) {
    this.model = model;
    this.arms = arms;
    this.ids = itemIds ? [...itemIds] : null;
    this.ids?.forEach((id, slot) => this.slots.set(id, slot));
  }

  get size(): number {
    return this.arms;
  }

  get hasIds(): boolean {
    return this.ids !== null;
  }

  /** The item id of every slot, in slot order (retired slots keep theirs until reused), or null. */
  get itemIds(): readonly string[] | null {
    return this.ids ? [...this.ids] : null;
  }

  /** The retired arms, ascending. */
  get retired(): Int32Array {
    return Int32Array.from([...this.retiredSet].sort((a, b) => a - b));
  }

  /** 0/1 per arm, 0 for retired arms; null while none is retired (every arm may be chosen). */
  live(): Uint8Array | null {
    if (this.retiredSet.size === 0) return null;
    if (!this.liveMask || this.liveMask.length !== this.arms) {
      const mask = new Uint8Array(this.arms).fill(1);
      for (const a of this.retiredSet) mask[a] = 0;
      this.liveMask = mask;
    }
    return this.liveMask;
  }

  /**
   * Arm indices from what a call got: an Int32Array as it is (its range is the caller's check),
   * or item ids, each of which must be known. `name` is the argument in messages.
   */
  resolve(op: string, arms: unknown, name = 'arms'): Int32Array {
    if (arms instanceof Int32Array) return arms;
    if (!isIdList(arms) || (arms.length > 0 && !arms.some((id) => typeof id === 'string'))) {
      throw new BanditError(`${op}: ${name} must be an Int32Array${this.ids ? ' or an array of item ids' : ''}`);
    }
    if (!this.ids) throw new BanditError(`${op}: ${name} are item ids, but this model was created without itemIds; pass arm indices (Int32Array)`);
    return Int32Array.from(arms, (id, i) => {
      const slot = typeof id === 'string' ? this.slots.get(id) : undefined;
      if (slot === undefined) throw new BanditError(`${op}: ${name}[${i}] = ${JSON.stringify(id) ?? String(id)} is not an item id of this model`);
      return slot;
    });
  }

  /** The item ids of arm indices (valid ones), or null when the model has none. */
  idsOf(arms: Int32Array): string[] | null {
    return this.ids ? Array.from(arms, (a) => this.ids![a]!) : null;
  }

  /** A K-long eligibility mask (decide's `eligible`) with exactly these arms (indices or ids) set. */
  mask(op: string, arms: unknown): Uint8Array {
    const slots = this.resolve(op, arms);
    const out = new Uint8Array(this.arms);
    slots.forEach((a, i) => {
      if (!Number.isInteger(a) || a < 0 || a >= this.arms) throw new BanditError(`${op}: arms[${i}] = ${a} is out of range 0..${this.arms - 1}`);
      out[a] = 1;
    });
    return out;
  }

  /**
   * Checks an `addArms(what, options)` call: `what` a count (an integer ≥ 0) on a model without
   * item ids, or the new arms' ids (distinct, not in use, retired slots' ids included) on one with.
   */
  planAdd(op: string, what: unknown, options: unknown): AddPlan {
    if (options !== undefined && (typeof options !== 'object' || options === null)) throw new BanditError(`${op}: options must be an object, got ${String(options)}`);
    const given = (options as AddArmsOptions | undefined)?.reuseRetired;
    const reuseRetired = given === undefined ? false : given;
    if (typeof reuseRetired !== 'boolean') throw new BanditError(`${op}: reuseRetired must be true or false, got ${String(reuseRetired)}`);
    let n: number;
    if (typeof what === 'number') {
      if (!Number.isSafeInteger(what) || what < 0) throw new BanditError(`${op}: the number of arms to add must be an integer ≥ 0, got ${what}`);
      // Arm indices are Int32: refused here, before a slot list or any state is allocated.
      if (this.arms + what > MAX_ARMS) throw new BanditError(`${op}: ${this.arms} + ${what} arms is over ${MAX_ARMS}, the most a model indexes`);
      if (this.ids) throw new BanditError(`${op}: this model addresses arms by item ids: pass the new arms' ids, not a count`);
      n = what;
    } else if (isIdList(what)) {
      if (!this.ids) throw new BanditError(`${op}: this model was created without itemIds: pass a count of arms`);
      n = what.length;
    } else {
      throw new BanditError(`${op}: pass a count of arms (an integer ≥ 0)${this.ids ? ' or an array of new item ids' : ''}, got ${String(what)}`);
    }
    const reuse = reuseRetired ? this.retired.subarray(0, n) : new Int32Array(0);
    let ids: string[] | null = null;
    if (isIdList(what)) {
      // The ids of the slots being reused are given up, so an item may come back under its old id.
      const taken = new Map(this.slots);
      for (const a of reuse) taken.delete(this.ids![a]!);
      checkIdList(op, 'ids', what, taken);
      ids = [...what] as string[];
    }
    const grow = n - reuse.length;
    const slots = new Int32Array(n);
    slots.set(reuse);
    for (let j = 0; j < grow; j++) slots[reuse.length + j] = this.arms + j;
    return { slots, reuse, grow, ids };
  }

  /** Applies a checked plan: the arm count grows, reused slots are live again, the ids are mapped. */
  commitAdd(plan: AddPlan): void {
    this.arms += plan.grow;
    for (const a of plan.reuse) this.retiredSet.delete(a);
    this.liveMask = null;
    if (this.ids && plan.ids) {
      for (const slot of plan.reuse) this.slots.delete(this.ids[slot]!);
      plan.slots.forEach((slot, j) => {
        this.ids![slot] = plan.ids![j]!;
        this.slots.set(plan.ids![j]!, slot);
      });
    }
  }

  /** Checks a `retireArms` call: arms (indices or ids) in range, distinct, none retired already. */
  planRetire(op: string, arms: unknown): Int32Array {
    const slots = this.resolve(op, arms);
    const seen = new Map<number, number>();
    slots.forEach((a, i) => {
      if (!Number.isInteger(a) || a < 0 || a >= this.arms) throw new BanditError(`${op}: arms[${i}] = ${a} is out of range 0..${this.arms - 1}`);
      if (this.retiredSet.has(a)) throw new BanditError(`${op}: arm ${a} is retired already; nothing was retired`);
      const before = seen.get(a);
      if (before !== undefined) throw new BanditError(`${op}: arms[${i}] = ${a} repeats arms[${before}]; nothing was retired`);
      seen.set(a, i);
    });
    return slots;
  }

  commitRetire(arms: Int32Array): void {
    for (const a of arms) this.retiredSet.add(a);
    this.liveMask = null;
  }

  /** What a save holds: the ids in the options (so create maps them again), the retired arms as an array. Both only when present. */
  saved(): { options: { itemIds?: string[] }; arrays: { retired?: Int32Array } } {
    return {
      options: this.ids ? { itemIds: [...this.ids] } : {},
      arrays: this.retiredSet.size > 0 ? { retired: this.retired } : {},
    };
  }

  /** Whether a save must use the format that holds a catalogue (ids or retired arms). */
  get worthSaving(): boolean {
    return this.ids !== null || this.retiredSet.size > 0;
  }

  /** The retired arms of a save (none in one made before they existed), checked. */
  restore(saved: SavedModelReader): void {
    const list = saved.arrays['retired'];
    if (list === undefined) return;
    const fail = () => new BanditError(`${this.model}.load: the retired arms are not distinct arms in range 0..${this.arms - 1}`);
    if (!(list instanceof Int32Array) || new Set(list).size !== list.length) throw fail();
    for (const a of list) if (a < 0 || a >= this.arms) throw fail();
    this.commitRetire(list);
  }
}
