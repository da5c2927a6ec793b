/** The simulator's options, their defaults and their validation. */
import { BanditError } from '../core/errors.js';

/** The market shock: from `step` on, users' tastes rotate and one category's popularity changes. */
export interface MarketShockOptions {
  /** First step (0-based arrival index) of the shocked world. Default: half the run, ⌊steps/2⌋. */
  readonly step?: number;
  /**
   * Angle in radians by which every user's latent preference vector turns. The rotation turns
   * ⌊latentDim/2⌋ random orthogonal planes by this angle each, so every user's new preference
   * has cosine cos(rotation) with the old one (exactly, for an even latentDim). Default π/2: the
   * old preferences say nothing about the new ones. The observable user features do not change:
   * the same people, new tastes.
   */
  readonly rotation?: number;
  /** Category whose popularity changes. Default: the least popular one before the shock (a trend takes off). */
  readonly category?: number;
  /** Added to that category's popularity (a logit). Default +1.5. */
  readonly popularityChange?: number;
}

/**
 * The "new collection" event: at `step`, `items` new items join the catalogue (appended after the
 * old ones, at indices items … items + newItems − 1), drawn like the old ones (a latent vector, a
 * random category, projected noisy features) with `boost` added to their click logit: on average
 * better than the old items, and for the users whose tastes they match the best of all. The users
 * and the old items are the same as in a world without the event (their draws come first).
 */
export interface NewCollectionOptions {
  /** First step at which the new items are in the catalogue. Default ⌊steps/3⌋. */
  readonly step?: number;
  /** How many new items. Default 10. */
  readonly items?: number;
  /** Added to the new items' click logits (a logit). Default 0.5. */
  readonly boost?: number;
}

/**
 * Items going out of stock for stretches, and back: every item of the catalogue (each new item from
 * its arrival) alternates between in stock and out of stock, the lengths of the stretches drawn
 * from geometric distributions in steps, so that an item is out of stock about `share` of the time,
 * `meanLength` steps at a time. Each item's stretches come from draws of its own (hashUniform by
 * item), apart from every other draw of the world. An out-of-stock item cannot be shown: it is not
 * eligible, and regret is measured against the best item in stock. Should every item of the
 * catalogue be out of stock at a step, the whole catalogue counts as in stock there.
 */
export interface StockOutOptions {
  /** Long-run fraction of the steps an item is out of stock, in [0, 0.9]. Default 0.1. */
  readonly share?: number;
  /** Mean length of an out-of-stock stretch, in steps (≥ 1). Default 250. */
  readonly meanLength?: number;
}

/** Options of `new EcommerceSimulator`; every field has a default. */
export interface EcommerceSimulatorOptions {
  /** Seed of everything random (the world, the users arriving, the clicks). Default 1. */
  readonly seed?: number;
  /** Length of the run in steps (user arrivals). Default 6000. */
  readonly steps?: number;
  /** Number of items (arms). Default 50. */
  readonly items?: number;
  /** Number of item categories (each item has one; each category at least one item). Default min(5, items). */
  readonly categories?: number;
  /** Size of the user population; each step one of them arrives, uniformly at random. Default 500. */
  readonly users?: number;
  /** Dimension of the latent taste vectors of users and items (unit vectors). Default 8. */
  readonly latentDim?: number;
  /** Observable user features: a random projection of the latent, plus noise; a constant 1 is appended. Default 8. */
  readonly userFeatureDim?: number;
  /** Observable item features: a random projection of the item's latent, plus noise. Default 8. */
  readonly itemFeatureDim?: number;
  /** Standard deviation of the noise added to the projected features. Default 0.3. */
  readonly featureNoise?: number;
  /** The click model's intercept (a logit). Default −2. */
  readonly baseLogit?: number;
  /** Weight of the taste match u·v (both unit vectors) in the logit. Default 3. */
  readonly affinityScale?: number;
  /** Standard deviation of the categories' popularities (logits, drawn once). Default 0.5. */
  readonly popularitySpread?: number;
  /** The market shock; null for a stationary world. Default: the defaults of MarketShockOptions. */
  readonly shock?: MarketShockOptions | null;
  /** New items arriving mid-run (see NewCollectionOptions); null (the default): a fixed catalogue. */
  readonly newCollection?: NewCollectionOptions | null;
  /** Items out of stock for stretches (see StockOutOptions); null (the default): always in stock. */
  readonly stockOuts?: StockOutOptions | null;
}

/** The resolved options (every default filled in; shock null when there is none). */
export interface ResolvedSimulatorOptions {
  readonly seed: number;
  readonly steps: number;
  readonly items: number;
  readonly categories: number;
  readonly users: number;
  readonly latentDim: number;
  readonly userFeatureDim: number;
  readonly itemFeatureDim: number;
  readonly featureNoise: number;
  readonly baseLogit: number;
  readonly affinityScale: number;
  readonly popularitySpread: number;
  readonly shock: { readonly step: number; readonly rotation: number; readonly category: number; readonly popularityChange: number } | null;
  readonly newCollection: { readonly step: number; readonly items: number; readonly boost: number } | null;
  readonly stockOuts: { readonly share: number; readonly meanLength: number } | null;
}

const DEFAULTS = {
  seed: 1, steps: 6000, items: 50, categories: 5, users: 500, latentDim: 8, userFeatureDim: 8, itemFeatureDim: 8,
  featureNoise: 0.3, baseLogit: -2, affinityScale: 3, popularitySpread: 0.5,
} as const;

/**
 * The options with every default filled in; a BanditError naming the option when one is out of
 * range.
 *
 * @example
 * resolveSimulatorOptions({ steps: 1000 }).shock;   // { step: 500, rotation: π/2, category: -1, popularityChange: 1.5 }
 */
export function resolveSimulatorOptions(o: EcommerceSimulatorOptions): ResolvedSimulatorOptions {
  if (o === null || typeof o !== 'object') throw new BanditError('EcommerceSimulator: options must be an object');
  const int = (name: keyof typeof DEFAULTS, min: number, max = Number.MAX_SAFE_INTEGER): number => {
    const v = (o as Record<string, unknown>)[name] ?? DEFAULTS[name];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new BanditError(`EcommerceSimulator: option ${name} must be an integer in ${min}..${max}, got ${String(v)}`);
    }
    return v;
  };
  const real = (name: keyof typeof DEFAULTS, ok: (v: number) => boolean = () => true, what = 'a finite number'): number => {
    const v = (o as Record<string, unknown>)[name] ?? DEFAULTS[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) throw new BanditError(`EcommerceSimulator: option ${name} must be ${what}, got ${String(v)}`);
    return v;
  };
  const seed = int('seed', 0, 0xffffffff);
  const steps = int('steps', 1, 2 ** 31 - 1);
  const items = int('items', 1, 100_000);
  const categories = o.categories === undefined ? Math.min(DEFAULTS.categories, items) : int('categories', 1, items);
  const users = int('users', 1, 10_000_000);
  const latentDim = int('latentDim', 1, 1024);
  const userFeatureDim = int('userFeatureDim', 1, 1024);
  const itemFeatureDim = int('itemFeatureDim', 1, 1024);
  if (items * users > 50_000_000) {
    throw new BanditError(`EcommerceSimulator: items × users = ${items * users} is over 5e7 (the click-probability tables are users × items)`);
  }
  const featureNoise = real('featureNoise', (v) => v >= 0, '≥ 0');
  const baseLogit = real('baseLogit');
  const affinityScale = real('affinityScale');
  const popularitySpread = real('popularitySpread', (v) => v >= 0, '≥ 0');
  let shock: ResolvedSimulatorOptions['shock'] = null;
  if (o.shock !== null) {
    const s = o.shock ?? {};
    if (typeof s !== 'object') throw new BanditError('EcommerceSimulator: option shock must be an object or null');
    const step = s.step ?? Math.floor(steps / 2);
    if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > steps) {
      throw new BanditError(`EcommerceSimulator: shock.step must be an integer in 0..${steps} (steps), got ${String(step)}`);
    }
    const rotation = s.rotation ?? Math.PI / 2;
    if (typeof rotation !== 'number' || !Number.isFinite(rotation)) throw new BanditError(`EcommerceSimulator: shock.rotation must be a finite angle in radians, got ${String(rotation)}`);
    const category = s.category ?? -1;
    if (s.category !== undefined && (typeof category !== 'number' || !Number.isInteger(category) || category < 0 || category >= categories)) {
      throw new BanditError(`EcommerceSimulator: shock.category must be an integer in 0..${categories - 1}, got ${String(s.category)}`);
    }
    const popularityChange = s.popularityChange ?? 1.5;
    if (typeof popularityChange !== 'number' || !Number.isFinite(popularityChange)) {
      throw new BanditError(`EcommerceSimulator: shock.popularityChange must be a finite number, got ${String(popularityChange)}`);
    }
    shock = { step, rotation, category, popularityChange };
  }
  const newCollection = resolveNewCollection(o.newCollection, steps, items);
  const stockOuts = resolveStockOuts(o.stockOuts);
  const allItems = items + (newCollection?.items ?? 0);
  if (allItems * users > 50_000_000) {
    throw new BanditError(`EcommerceSimulator: (items + newCollection.items) × users = ${allItems * users} is over 5e7 (the click-probability tables are users × items)`);
  }
  return {
    seed, steps, items, categories, users, latentDim, userFeatureDim, itemFeatureDim, featureNoise, baseLogit,
    affinityScale, popularitySpread, shock, newCollection, stockOuts,
  };
}

function sub(what: string, v: unknown): Record<string, unknown> {
  if (v === null || typeof v !== 'object') throw new BanditError(`EcommerceSimulator: option ${what} must be an object or null`);
  return v as Record<string, unknown>;
}

function resolveNewCollection(v: NewCollectionOptions | null | undefined, steps: number, items: number): ResolvedSimulatorOptions['newCollection'] {
  if (v === undefined || v === null) return null;
  const s = sub('newCollection', v);
  const step = s.step ?? Math.floor(steps / 3);
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0 || step > steps) {
    throw new BanditError(`EcommerceSimulator: newCollection.step must be an integer in 0..${steps} (steps), got ${String(step)}`);
  }
  const count = s.items ?? 10;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count + items > 100_000) {
    throw new BanditError(`EcommerceSimulator: newCollection.items must be an integer in 1..${100_000 - items}, got ${String(count)}`);
  }
  const boost = s.boost ?? 0.5;
  if (typeof boost !== 'number' || !Number.isFinite(boost)) throw new BanditError(`EcommerceSimulator: newCollection.boost must be a finite number, got ${String(boost)}`);
  return { step, items: count, boost };
}

function resolveStockOuts(v: StockOutOptions | null | undefined): ResolvedSimulatorOptions['stockOuts'] {
  if (v === undefined || v === null) return null;
  const s = sub('stockOuts', v);
  const share = s.share ?? 0.1;
  if (typeof share !== 'number' || !(share >= 0 && share <= 0.9)) throw new BanditError(`EcommerceSimulator: stockOuts.share must be a number in [0, 0.9], got ${String(share)}`);
  const meanLength = s.meanLength ?? 250;
  if (typeof meanLength !== 'number' || !Number.isFinite(meanLength) || meanLength < 1) {
    throw new BanditError(`EcommerceSimulator: stockOuts.meanLength must be a finite number ≥ 1 (steps), got ${String(meanLength)}`);
  }
  return { share, meanLength };
}
