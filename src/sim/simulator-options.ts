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
  return {
    seed, steps, items, categories, users, latentDim, userFeatureDim, itemFeatureDim, featureNoise, baseLogit,
    affinityScale, popularitySpread, shock,
  };
}
