import { BanditError } from '../core/errors.js';
import { checkFiniteValues, isFiniteF32, isNumberArray } from '../core/check.js';
import { parseEventId } from './exploration.js';
import type { SavedArray } from './persist.js';
import type { SavedModelReader } from './saved.js';

// Decisions waiting for their reward: what `decide` chose (the arm, the played context, the
// propensity, the time), kept on the host by event id until `reward` applies it, the wait time
// passes, or the capacity pushes it out; saved with the model so a reload loses nothing.

/**
 * Options of the models that learn from delayed rewards (`decide`, then `reward` by event id),
 * after Azure Personalizer's Rank/Reward: a reward wait time after which a default reward is
 * applied, or the event dropped.
 *
 * @example
 * const model = await LinUCB.create(backend, { arms: 50, dim: 8, rewardWaitTime: 600_000, defaultReward: 0 });
 */
export interface DelayedRewardOptions {
  /**
   * Most decisions kept waiting for a reward (each its arm, played context, propensity and time,
   * on the host and in saves). When a decision would pass it, the oldest is settled as if its
   * wait time had passed (the default reward, or dropped) and counted as `overflowed`. 0 keeps
   * none: `reward` then knows no event. Default 10 000.
   */
  readonly pendingCapacity?: number;
  /**
   * Milliseconds a decision waits for its reward (> 0; Infinity: forever). Once passed, the
   * decision is expired: `reward` refuses its id, and the next `decide` or `reward` call settles
   * it (the default reward, or dropped). Default Infinity.
   */
  readonly rewardWaitTime?: number;
  /**
   * The reward an expired (or overflowed) decision is learnt with, or null to drop it unlearnt.
   * Default null.
   */
  readonly defaultReward?: number | null;
  /** The time in milliseconds (tests inject their own). Default Date.now. Not saved: pass it again to load. */
  readonly clock?: () => number;
}

/** The delayed-reward options with every default filled in. */
export interface ResolvedDelayedRewards {
  readonly pendingCapacity: number;
  readonly rewardWaitTime: number;
  readonly defaultReward: number | null;
  readonly clock: () => number;
}

/** The default `pendingCapacity`. */
export const DEFAULT_PENDING_CAPACITY = 10_000;

/**
 * Checks the delayed-reward options (BanditError naming the option) and fills in the defaults.
 * A save holds `rewardWaitTime: null` for Infinity (JSON has no Infinity).
 *
 * @example
 * const r = resolveDelayedRewards('LinUCB', { rewardWaitTime: 60_000, defaultReward: 0 });   // r.pendingCapacity === 10000
 */
export function resolveDelayedRewards(model: string, o: DelayedRewardOptions): ResolvedDelayedRewards {
  const c = o.pendingCapacity === undefined ? DEFAULT_PENDING_CAPACITY : o.pendingCapacity;
  if (typeof c !== 'number' || !Number.isInteger(c) || c < 0) throw new BanditError(`${model}: option pendingCapacity must be an integer ≥ 0, got ${String(c)}`);
  const w = (o.rewardWaitTime as number | null | undefined) ?? Infinity;
  if (typeof w !== 'number' || Number.isNaN(w) || !(w > 0)) throw new BanditError(`${model}: option rewardWaitTime must be a number of milliseconds > 0 (or Infinity), got ${String(w)}`);
  const d = o.defaultReward === undefined ? null : o.defaultReward;
  if (d !== null && (!isFiniteF32(d))) throw new BanditError(`${model}: option defaultReward must be a finite number or null, got ${String(d)}`);
  const clock = o.clock === undefined ? Date.now : o.clock;
  if (typeof clock !== 'function') throw new BanditError(`${model}: option clock must be a function returning milliseconds`);
  return { pendingCapacity: c, rewardWaitTime: w, defaultReward: d, clock };
}

/**
 * The delayed-reward options as saved: only those away from their defaults (so a model that
 * never set them saves as before they existed); the clock is never saved.
 *
 * @example
 * const options = { arms, dim, ...savedDelayedRewards(model.delayed) };
 */
export function savedDelayedRewards(r: ResolvedDelayedRewards): Record<string, unknown> {
  return {
    ...(r.pendingCapacity !== DEFAULT_PENDING_CAPACITY ? { pendingCapacity: r.pendingCapacity } : {}),
    ...(r.rewardWaitTime !== Infinity ? { rewardWaitTime: r.rewardWaitTime } : {}),
    ...(r.defaultReward !== null ? { defaultReward: r.defaultReward } : {}),
  };
}

/**
 * What became of the decisions that waited for a reward, for `diagnostics()`. Every decision
 * `decide` made is pending until it is rewarded, expired or overflowed; those two end defaulted or
 * dropped (so expired + overflowed + the reused slots' = defaulted + dropped).
 *
 * @example
 * const { pending, rewarded, expired, dropped } = model.diagnostics().rewards;
 */
export interface DelayedRewardCounts {
  /** Decisions waiting now. */
  readonly pending: number;
  /** Learnt from with the reward `reward` gave. */
  readonly rewarded: number;
  /** Passed rewardWaitTime unrewarded (then defaulted or dropped). */
  readonly expired: number;
  /** Pushed out, oldest first, by pendingCapacity (then defaulted or dropped). */
  readonly overflowed: number;
  /** Learnt from with defaultReward (expired or overflowed). */
  readonly defaulted: number;
  /** Removed unlearnt: expired or overflowed with defaultReward null, or their arm's slot reused by addArms. */
  readonly dropped: number;
}

/** Rows to learn from: arms, the played contexts (rows × width) and rewards. */
export interface RewardRows {
  readonly arms: Int32Array;
  readonly contexts: Float32Array;
  readonly rewards: Float32Array;
}

interface Entry {
  readonly arm: number;
  readonly propensity: number;
  readonly time: number;
  readonly context: Float32Array;
}

type Fate = 'rewarded' | 'expired' | 'overflowed' | 'dropped';

/** A reward batch checked against the pending decisions, applied by `commit` once the model has learnt from `rows`. */
export interface Claim {
  /** The rewarded rows in the order given, then the expired decisions to learn with the default reward. */
  readonly rows: RewardRows;
  commit(): void;
}

/**
 * The rows of B·k decisions (row ⌊j/k⌋ of a call of B rows, slot j mod k) as played contexts:
 * for each part of the contexts (LinUCB: one; HybridLinUCB: x and z), the row's vector, or with
 * `perArm` the chosen arm's vector of the row (B×K×dim), concatenated across parts.
 *
 * @example
 * const played = decisionRows([{ values: contexts, dim: 8, perArm: false }], rows, k, K, d.arms);   // B·k × 8
 */
export function decisionRows(
  parts: readonly { readonly values: ArrayLike<number>; readonly dim: number; readonly perArm: boolean }[], rows: number, k: number, K: number, arms: Int32Array,
): Float32Array {
  if (rows * k !== arms.length) throw new BanditError(`decisionRows: ${arms.length} decisions are not ${rows} rows of ${k}`);
  const width = parts.reduce((w, p) => w + p.dim, 0);
  const out = new Float32Array(arms.length * width);
  for (let j = 0; j < arms.length; j++) {
    const r = Math.floor(j / k);
    let at = j * width;
    for (const { values, dim, perArm } of parts) {
      const from = (perArm ? r * K + arms[j]! : r) * dim;
      for (let q = 0; q < dim; q++) out[at + q] = values[from + q]!;
      at += dim;
    }
  }
  return out;
}

/**
 * A model's decisions waiting for their reward, by event id (see DelayedRewardOptions): `record`
 * keeps a decide call's decisions (and settles those past their wait time or the capacity),
 * `claim` checks a reward batch all-or-nothing, `settle` gives what is due now. Kept on the
 * host; `arrays`/`restore` carry them through save/load.
 *
 * @example
 * const pending = new PendingDecisions('LinUCB', dim, resolveDelayedRewards('LinUCB', options));
 * const due = pending.record(modelId, step, d.arms, d.propensities, played);   // learn `due` with the default reward
 * const claim = pending.claim('LinUCB.reward', modelId, step, eventIds, rewards);
 * await learn(claim.rows);
 * claim.commit();
 */
export class PendingDecisions {
  readonly options: ResolvedDelayedRewards;
  /** Floats of a played context. */
  readonly width: number;
  private readonly model: string;
  /** By `${step}-${index}`, oldest first (a Map keeps insertion order). */
  private entries = new Map<string, Entry>();
  /** The fate of recently settled ids (not saved), for messages that say why an id is refused. */
  private readonly fates = new Map<string, Fate>();
  private counters = { rewarded: 0, expired: 0, overflowed: 0, defaulted: 0, dropped: 0 };

  constructor(model: string, width: number, options: ResolvedDelayedRewards) {
    this.model = model;
    this.width = width;
    this.options = options;
  }

  get size(): number {
    return this.entries.size;
  }

  counts(): DelayedRewardCounts {
    return { pending: this.entries.size, ...this.counters };
  }

  private expiredAt(e: Entry, now: number): boolean {
    return now - e.time >= this.options.rewardWaitTime;
  }

  private remember(key: string, fate: Fate): void {
    this.fates.delete(key);
    this.fates.set(key, fate);
    const most = Math.max(1024, this.options.pendingCapacity);
    for (const old of this.fates.keys()) {
      if (this.fates.size <= most) break;
      this.fates.delete(old);
    }
  }

  /** Removes `keys` as `fate` (expired or overflowed): the rows to learn with the default reward, or none when it is null. */
  private settleKeys(keys: readonly string[], fate: 'expired' | 'overflowed'): Entry[] {
    const learnt: Entry[] = [];
    for (const key of keys) {
      const e = this.entries.get(key)!;
      this.entries.delete(key);
      this.counters[fate]++;
      if (this.options.defaultReward === null) this.counters.dropped++;
      else {
        this.counters.defaulted++;
        learnt.push(e);
      }
      this.remember(key, fate);
    }
    return learnt;
  }

  private rowsOf(list: readonly Entry[], rewards: ArrayLike<number>): RewardRows {
    const contexts = new Float32Array(list.length * this.width);
    list.forEach((e, i) => contexts.set(e.context, i * this.width));
    return { arms: Int32Array.from(list, (e) => e.arm), contexts, rewards: Float32Array.from(rewards) };
  }

  /**
   * The decisions expired by `now`, oldest first. They are kept in the order they were made, so
   * the scan stops at the first that has not expired (a clock that went back only delays expiry).
   */
  private due(now: number): string[] {
    const keys: string[] = [];
    if (this.options.rewardWaitTime === Infinity) return keys;
    for (const [key, e] of this.entries) {
      if (!this.expiredAt(e, now)) break;
      keys.push(key);
    }
    return keys;
  }

  /** The `n` oldest decisions' keys. */
  private oldest(n: number): string[] {
    const keys: string[] = [];
    for (const key of this.entries.keys()) {
      if (keys.length === n) break;
      keys.push(key);
    }
    return keys;
  }

  /**
   * Keeps the decisions of the decide call at `step` (arms, propensities, played contexts
   * arms.length × width, event index j for row j) and returns what is due with the default
   * reward: the decisions that expired by now, then (capacity) the oldest ones pushed out.
   */
  record(step: number, arms: Int32Array, propensities: Float32Array, contexts: Float32Array): RewardRows {
    const now = this.options.clock();
    const learnt = this.settleKeys(this.due(now), 'expired');
    const capacity = this.options.pendingCapacity;
    if (capacity > 0) {
      for (let j = 0; j < arms.length; j++) {
        const context = contexts.slice(j * this.width, (j + 1) * this.width);
        this.entries.set(`${step}-${j}`, { arm: arms[j]!, propensity: propensities[j] ?? 1, time: now, context });
      }
      const over = this.entries.size - capacity;
      if (over > 0) learnt.push(...this.settleKeys(this.oldest(over), 'overflowed'));
    }
    return this.rowsOf(learnt, learnt.map(() => this.options.defaultReward ?? 0));
  }

  /** Settles what has expired by now: the rows to learn with the default reward (the entries are removed). */
  settle(): RewardRows {
    const learnt = this.settleKeys(this.due(this.options.clock()), 'expired');
    return this.rowsOf(learnt, learnt.map(() => this.options.defaultReward ?? 0));
  }

  /**
   * Checks a reward batch: `eventIds` strings of this model (`modelId`, issued before `step`),
   * each pending, not expired and given once, `rewards` as many finite numbers. Any defect is a
   * BanditError naming the id and why, and nothing is changed. The claim's rows are the rewarded
   * decisions in the order given, then the expired ones due the default reward; `commit` removes
   * them all.
   */
  claim(op: string, modelId: string, step: number, eventIds: unknown, rewards: unknown): Claim {
    if (!Array.isArray(eventIds)) throw new BanditError(`${op}: eventIds must be an array of the event ids decide returned`);
    if (!isNumberArray(rewards)) throw new BanditError(`${op}: rewards must be a Float32Array (or an array of numbers)`);
    if (rewards.length !== eventIds.length) throw new BanditError(`${op}: ${eventIds.length} event ids but ${rewards.length} rewards`);
    checkFiniteValues(op, 'rewards', rewards, 1);
    const now = this.options.clock();
    const seen = new Map<string, number>();
    const list: Entry[] = [];
    eventIds.forEach((id: unknown, i) => {
      const parsed = parseEventId(modelId, id);
      const what = `eventIds[${i}] = ${JSON.stringify(id)}`;
      if (!parsed) throw new BanditError(`${op}: ${what} is not an event id of this model (ids are '${modelId}-step-index'); nothing was applied`);
      const key = `${parsed.step}-${parsed.row}`;
      const before = seen.get(key);
      if (before !== undefined) throw new BanditError(`${op}: ${what} repeats eventIds[${before}]; nothing was applied`);
      seen.set(key, i);
      const e = this.entries.get(key);
      if (!e) throw new BanditError(`${op}: ${what} ${this.whyNot(key, parsed.step, step)}; nothing was applied`);
      if (this.expiredAt(e, now)) {
        throw new BanditError(`${op}: ${what} has expired (decided ${now - e.time} ms ago, rewardWaitTime ${this.options.rewardWaitTime} ms); nothing was applied`);
      }
      list.push(e);
    });
    const expired = this.due(now);
    const defaults = this.options.defaultReward === null ? [] : expired.map((key) => this.entries.get(key)!);
    const rows = this.rowsOf([...list, ...defaults], [...Array.from(rewards), ...defaults.map(() => this.options.defaultReward!)]);
    return {
      rows,
      commit: () => {
        for (const key of seen.keys()) {
          this.entries.delete(key);
          this.remember(key, 'rewarded');
        }
        this.counters.rewarded += seen.size;
        this.settleKeys(expired, 'expired');
      },
    };
  }

  private whyNot(key: string, idStep: number, step: number): string {
    const fate = this.fates.get(key);
    if (fate === 'rewarded') return 'was rewarded already';
    if (fate === 'expired') return `expired (rewardWaitTime ${this.options.rewardWaitTime} ms) and was ${this.options.defaultReward === null ? 'dropped' : 'given the default reward'}`;
    if (fate === 'overflowed') return `was pushed out by pendingCapacity (${this.options.pendingCapacity})`;
    if (fate === 'dropped') return 'was dropped (its arm was retired and the slot reused)';
    if (idStep >= step) return 'was never issued';
    if (this.options.pendingCapacity === 0) return 'is not pending: the model keeps no decisions (pendingCapacity 0)';
    return 'is no longer pending (rewarded, expired or dropped before)';
  }

  /** Drops, unlearnt, the decisions of these arms (their slots are reused by new arms). */
  dropArms(arms: ReadonlySet<number>): void {
    for (const [key, e] of this.entries) {
      if (!arms.has(e.arm)) continue;
      this.entries.delete(key);
      this.counters.dropped++;
      this.remember(key, 'dropped');
    }
  }

  /** Whether a save must hold this store (a decision waiting, or one ever settled). */
  get worthSaving(): boolean {
    return this.entries.size > 0 || Object.values(this.counters).some((v) => v > 0);
  }

  /** The counters a save holds. */
  savedCounters(): Record<string, number> {
    return { ...this.counters };
  }

  /** The arrays a save holds: each decision's step, index, arm, propensity, time and played context. */
  arrays(): Record<string, SavedArray> {
    const list = [...this.entries], n = list.length;
    const step = new Uint32Array(n), index = new Uint32Array(n), arm = new Int32Array(n);
    const propensity = new Float32Array(n), time = new Float64Array(n), context = new Float32Array(n * this.width);
    list.forEach(([key, e], i) => {
      const [s, j] = key.split('-');
      step[i] = Number(s);
      index[i] = Number(j);
      arm[i] = e.arm;
      propensity[i] = e.propensity;
      time[i] = e.time;
      context.set(e.context, i * this.width);
    });
    return { 'pending.step': step, 'pending.index': index, 'pending.arm': arm, 'pending.propensity': propensity, 'pending.time': time, 'pending.context': context };
  }

  /**
   * The decisions and counters of a save (none in a save made before they existed), each arm
   * checked against `arms` when the model has a fixed number of arms (null: any index ≥ 0).
   */
  restore(saved: SavedModelReader, arms: number | null): void {
    const counts = saved.counters['pending'];
    if (counts === undefined) return;
    const fail = (why: string): never => {
      throw new BanditError(`${this.model}.load: the pending decisions ${why}`);
    };
    const c = counts as Record<string, unknown>;
    for (const name of Object.keys(this.counters) as (keyof typeof this.counters)[]) {
      const v = c?.[name];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`lack a valid counter ${name}`);
      this.counters[name] = v as number;
    }
    const step = saved.arrays['pending.step'], n = step?.length ?? -1;
    if (!(step instanceof Uint32Array)) return fail('lack their steps');
    const index = saved.need('pending.index', n), arm = saved.need('pending.arm', n), propensity = saved.need('pending.propensity', n);
    const time = saved.need('pending.time', n), context = saved.need('pending.context', n * this.width);
    const entries = new Map<string, Entry>();
    for (let i = 0; i < n; i++) {
      const a = arm[i]!;
      if (!Number.isInteger(a) || a < 0 || (arms !== null && a >= arms)) fail(`hold arm ${a}, out of range`);
      entries.set(`${step[i]}-${index[i]}`, { arm: a, propensity: propensity[i]!, time: time[i]!, context: Float32Array.from(context.subarray(i * this.width, (i + 1) * this.width)) });
    }
    if (entries.size !== n) fail('repeat an event');
    this.entries = entries;
  }
}
