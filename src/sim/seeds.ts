/**
 * The head-to-head over seeds: the same scenario with seed s = first, first + 1, …, each seed a
 * new world, user stream, click draws and model initialisation, and within a seed every
 * algorithm on common random numbers (the same users, and the same click draw for the same item
 * at the same step: see `runHeadToHead`). Per seed the figures of `runScenario`; over seeds their
 * means with Student-t bands, and paired comparisons of every two learning algorithms.
 */
import type { Backend } from '../core/backend.js';
import { BanditError } from '../core/errors.js';
import type { HeadToHeadResult } from './headtohead.js';
import type { NewItemShare } from './fair-share.js';
import { resolveScenario, runScenario, type AlgorithmKey, type Scenario, type ScenarioHooks, type ScenarioOptions, type ScenarioRun } from './scenario.js';
import { holm, meanInterval, pairedTTest, type MeanInterval, type PairedTest } from './stats.js';

/**
 * The per-seed figures kept of each algorithm (the scalar metrics of PolicyMetrics).
 *
 * @example
 * for (const m of SEED_METRICS) console.log(m, run.policies[0]!.summary[m].mean);
 */
export const SEED_METRICS = ['totalRegret', 'regretBeforeShock', 'regretAfterShock', 'ctr', 'ctrBeforeShock', 'ctrAfterShock', 'expectedCtr'] as const;
export type SeedMetric = (typeof SEED_METRICS)[number];

/**
 * The metrics compared pair by pair, each its own family for the correction.
 *
 * @example
 * for (const m of COMPARED_METRICS) console.log(m, run.comparisons[m].filter((c) => c.significant).length);
 */
export const COMPARED_METRICS = ['totalRegret', 'regretAfterShock'] as const;
export type ComparedMetric = (typeof COMPARED_METRICS)[number];

/**
 * Reference policies: shown, but not in the pairwise comparisons (their gaps to the learners are not the question).
 *
 * @example
 * const learners = run.policies.filter((p) => !REFERENCE_ALGORITHMS.includes(p.key));
 */
export const REFERENCE_ALGORITHMS: readonly AlgorithmKey[] = ['random', 'oracle'];

/** Options of `runSeeds`. */
export interface SeedsOptions {
  /** Exactly this many seeds (≥ 2). Without it, as many as `budgetMs` allows. */
  readonly seeds?: number;
  /**
   * When `seeds` is not given: after each seed, run another only if the time so far plus the mean
   * time a seed stays within this budget (milliseconds). Default 60,000.
   */
  readonly budgetMs?: number;
  /** Fewest seeds in budget mode (≥ 2). Default 3: a t-interval on 2 seeds has t = 12.7. */
  readonly minSeeds?: number;
  /** Most seeds in budget mode. Default 50. */
  readonly maxSeeds?: number;
  /** Coverage of the bands and intervals. Default 0.95. */
  readonly confidence?: number;
  /** Family-wise error of each metric's comparisons (Holm). Default 0.05. */
  readonly alpha?: number;
}

/** Mean and t-band of a curve over seeds, point by point. */
export interface CurveBand {
  readonly mean: Float64Array;
  readonly lower: Float64Array;
  readonly upper: Float64Array;
}

/** One algorithm over the seeds. */
export interface SeedsPolicy {
  readonly key: AlgorithmKey;
  readonly name: string;
  /** Each metric, one value a seed (in `MultiSeedRun.seeds` order). */
  readonly perSeed: Readonly<Record<SeedMetric, readonly number[]>>;
  /** Steps to recover after the shock, per seed (null: not within the run). */
  readonly recoverySteps: readonly (number | null)[];
  /** Each metric's mean and t-interval over seeds. */
  readonly summary: Readonly<Record<SeedMetric, MeanInterval>>;
  /** Cumulative regret after each round (MultiSeedRun.roundEnds) and CTR of each window, over seeds. */
  readonly cumulativeRegret: CurveBand;
  readonly windowCtr: CurveBand;
  /** Mean seconds a seed in select and update. */
  readonly seconds: number;
  /** The new collection's share of the impressions over seeds, where the scenario has one (else null). */
  readonly newItems: NewItemsOverSeeds | null;
}

/** A policy's `NewItemShare` over seeds. */
export interface NewItemsOverSeeds {
  /** Rounds to the fair share, a seed each (null: not within the run). */
  readonly roundsToFairShare: readonly (number | null)[];
  /** Share and fair share over every step after the arrival, over seeds. */
  readonly shareAfter: MeanInterval;
  readonly fairShareAfter: MeanInterval;
  /** The windows after the arrival (ends, the first seed's) and the share and fair share in each, over seeds. */
  readonly windowEnds: Int32Array;
  readonly share: CurveBand;
  readonly fairShare: CurveBand;
}

/** One pair of a comparison: a − b per seed, tested. */
export interface PairComparison extends PairedTest {
  readonly a: AlgorithmKey;
  readonly b: AlgorithmKey;
  /** Holm-adjusted p over the metric's family of pairs. */
  readonly adjustedP: number;
  readonly significant: boolean;
}

/** What `runSeeds` returns. */
export interface MultiSeedRun {
  /** The scenario of the first seed (the others differ only in the seed). */
  readonly scenario: Scenario;
  readonly seeds: readonly number[];
  readonly steps: number;
  readonly shockStep: number | null;
  readonly window: number;
  readonly roundEnds: Int32Array;
  readonly policies: readonly SeedsPolicy[];
  /** Every two learners (not REFERENCE_ALGORITHMS), per metric; lower is better for both metrics. */
  readonly comparisons: Readonly<Record<ComparedMetric, readonly PairComparison[]>>;
  readonly confidence: number;
  readonly alpha: number;
  /** The first seed's run without its result (world, backend, training losses, times). */
  readonly first: Omit<ScenarioRun, 'result'>;
  /** Milliseconds of each seed, and in all. */
  readonly seedMs: readonly number[];
  readonly totalMs: number;
  /** Why the run stopped at its number of seeds. */
  readonly stopReason: string;
}

/** Hooks of `runSeeds`: runScenario's for every seed, plus one after each seed. */
export type SeedsHooks = Omit<ScenarioHooks, 'simulator'> & {
  readonly onSeed?: (done: number, seed: number, run: ScenarioRun, planned: number | null) => void | Promise<void>;
};

const now = (): number => globalThis.performance?.now() ?? Date.now();

function curveBand(curves: readonly Float64Array[], confidence: number): CurveBand {
  const len = curves[0]!.length;
  const band = { mean: new Float64Array(len), lower: new Float64Array(len), upper: new Float64Array(len) };
  const column = new Float64Array(curves.length);
  for (let j = 0; j < len; j++) {
    curves.forEach((c, s) => (column[s] = c[j]!));
    const m = meanInterval(column, confidence);
    band.mean[j] = m.mean;
    band.lower[j] = m.lower;
    band.upper[j] = m.upper;
  }
  return band;
}

function intOption(op: string, name: string, v: unknown, fallback: number, min: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new BanditError(`${op}: option ${name} must be an integer ≥ ${min}, got ${String(v)}`);
  return v;
}

function newItemsOverSeeds(per: readonly (NewItemShare | null)[], confidence: number): NewItemsOverSeeds | null {
  if (per.some((x) => x === null)) return null;
  const all = per as readonly NewItemShare[];
  return {
    roundsToFairShare: all.map((x) => x.roundsToFairShare),
    shareAfter: meanInterval(all.map((x) => x.shareAfter), confidence),
    fairShareAfter: meanInterval(all.map((x) => x.fairShareAfter), confidence),
    windowEnds: all[0]!.windowEnds,
    share: curveBand(all.map((x) => x.share), confidence),
    fairShare: curveBand(all.map((x) => x.fairShare), confidence),
  };
}

/** How the seeds of a run over seeds went: which, how long each took, why it stopped. */
export interface SeedLoop {
  readonly seeds: readonly number[];
  readonly seedMs: readonly number[];
  readonly totalMs: number;
  readonly stopReason: string;
}

/**
 * Runs `runSeed` on seeds first, first + 1, …: exactly `seeds` of them, or while the time so far
 * plus the mean time a seed fits `budgetMs` (at least `minSeeds`, at most `maxSeeds`); what
 * `runSeeds` and `runDelaySweep` share. Bad options are a BanditError of `op`.
 *
 * @example
 * const loop = await seedLoop('mySweep', 1, { budgetMs: 30_000 }, async (seed) => { … });
 */
export async function seedLoop(
  op: string, first: number, seedsOptions: SeedsOptions, runSeed: (seed: number, index: number, planned: number | null) => Promise<void>,
): Promise<SeedLoop> {
  if (seedsOptions === null || typeof seedsOptions !== 'object') throw new BanditError(`${op}: seeds options must be an object`);
  const fixed = seedsOptions.seeds === undefined ? null : intOption(op, 'seeds', seedsOptions.seeds, 0, 2);
  const budgetMs = seedsOptions.budgetMs ?? 60_000;
  if (!(typeof budgetMs === 'number' && budgetMs >= 0)) throw new BanditError(`${op}: option budgetMs must be a number ≥ 0, got ${String(budgetMs)}`);
  const minSeeds = intOption(op, 'minSeeds', seedsOptions.minSeeds, 3, 2);
  const maxSeeds = intOption(op, 'maxSeeds', seedsOptions.maxSeeds, 50, minSeeds);
  if (first + (fixed ?? maxSeeds) - 1 > 0xffffffff) throw new BanditError(`${op}: the seeds would pass 2^32 − 1`);
  const started = now();
  const seeds: number[] = [];
  const seedMs: number[] = [];
  for (;;) {
    const seed = first + seeds.length;
    const t0 = now();
    await runSeed(seed, seeds.length, fixed);
    seedMs.push(now() - t0);
    seeds.push(seed);
    const elapsed = now() - started, perSeed = elapsed / seeds.length;
    if (fixed !== null) {
      if (seeds.length >= fixed) return { seeds, seedMs, totalMs: now() - started, stopReason: `${fixed} seeds, as asked` };
    } else if (seeds.length >= maxSeeds) {
      return { seeds, seedMs, totalMs: now() - started, stopReason: `the most seeds of the budget mode (${maxSeeds})` };
    } else if (seeds.length >= minSeeds && elapsed + perSeed > budgetMs) {
      const budget = `${(budgetMs / 1000).toFixed(0)} s budget`;
      const stopReason = elapsed <= budgetMs
        ? `${seeds.length} seeds fit the ${budget} (${(perSeed / 1000).toFixed(1)} s a seed; another would pass it)`
        : seeds.length === minSeeds
          ? `the fewest seeds of the budget mode (${minSeeds}), ${(elapsed / 1000).toFixed(0)} s, over the ${budget}`
          : `${seeds.length} seeds, the last of them slower than the ones before: ${(elapsed / 1000).toFixed(0)} s, over the ${budget}`;
      return { seeds, seedMs, totalMs: now() - started, stopReason };
    }
  }
}

/**
 * Summarises per-seed head-to-head results (one `HeadToHeadResult` a seed, the same algorithms in
 * the same order and the same steps): the means, bands and pairwise comparisons of
 * `MultiSeedRun`. Comparisons are Student's paired t-tests on the per-seed differences of each
 * pair of learners, Holm-corrected within each metric.
 *
 * @example
 * const { policies, comparisons } = summarizeSeeds(['linucb', 'neural'], results, [1, 2, 3]);
 */
export function summarizeSeeds(
  keys: readonly AlgorithmKey[], results: readonly HeadToHeadResult[], options: { confidence?: number; alpha?: number } = {},
): Pick<MultiSeedRun, 'policies' | 'comparisons' | 'steps' | 'shockStep' | 'window' | 'roundEnds' | 'confidence' | 'alpha'> {
  const confidence = options.confidence ?? 0.95, alpha = options.alpha ?? 0.05;
  if (results.length < 2) throw new BanditError(`summarizeSeeds: needs at least 2 seeds, got ${results.length}`);
  const first = results[0]!;
  for (const r of results) {
    if (r.steps !== first.steps || r.policies.length !== keys.length || r.window !== first.window || r.shockStep !== first.shockStep) {
      throw new BanditError('summarizeSeeds: every seed must run the same algorithms over the same steps, window and shock');
    }
  }
  const policies = keys.map((key, p): SeedsPolicy => {
    const per = results.map((r) => r.policies[p]!);
    const perSeed = Object.fromEntries(SEED_METRICS.map((m) => [m, per.map((x) => x[m])])) as Record<SeedMetric, number[]>;
    const summary = Object.fromEntries(SEED_METRICS.map((m) => {
      const values = perSeed[m].filter(Number.isFinite);
      return [m, values.length ? meanInterval(values, confidence) : { n: 0, mean: NaN, sd: NaN, lower: NaN, upper: NaN }];
    })) as Record<SeedMetric, MeanInterval>;
    return {
      key, name: per[0]!.name, perSeed, summary, recoverySteps: per.map((x) => x.recoverySteps),
      cumulativeRegret: curveBand(per.map((x) => x.cumulativeRegret), confidence),
      windowCtr: curveBand(per.map((x) => x.windowCtr), confidence),
      seconds: per.reduce((s, x) => s + (x.selectMs + x.updateMs) / 1000, 0) / per.length,
      newItems: newItemsOverSeeds(per.map((x) => x.newItems ?? null), confidence),
    };
  });
  const learners = policies.filter((p) => !REFERENCE_ALGORITHMS.includes(p.key));
  const comparisons = Object.fromEntries(COMPARED_METRICS.map((metric) => {
    if (first.shockStep === null && metric === 'regretAfterShock') return [metric, []];
    const tests: { a: SeedsPolicy; b: SeedsPolicy; test: PairedTest }[] = [];
    learners.forEach((a, i) => learners.slice(i + 1).forEach((b) => tests.push({ a, b, test: pairedTTest(a.perSeed[metric], b.perSeed[metric], confidence) })));
    const { adjusted, rejected } = holm(tests.map((t) => t.test.p), alpha);
    return [metric, tests.map((t, i): PairComparison => ({ ...t.test, a: t.a.key, b: t.b.key, adjustedP: adjusted[i]!, significant: rejected[i]! }))];
  })) as Record<ComparedMetric, PairComparison[]>;
  return { policies, comparisons, steps: first.steps, shockStep: first.shockStep, window: first.window, roundEnds: first.roundEnds, confidence, alpha };
}

/**
 * Runs a scenario over several seeds, one `runScenario` each on `backend`, and summarises them
 * (`summarizeSeeds`). With `seeds` it runs exactly seeds first … first + seeds − 1 (first =
 * the scenario's seed, default 1); without, it keeps adding seeds while the time so far plus the
 * mean time a seed fits `budgetMs` (at least `minSeeds`, at most `maxSeeds`).
 *
 * @example
 * const run = await runSeeds(backend, { steps: 2000 }, { seeds: 5 });
 * for (const c of run.comparisons.totalRegret) if (c.significant) console.log(c.a, c.b, c.mean.toFixed(1));
 */
export async function runSeeds(backend: Backend, options: ScenarioOptions = {}, seedsOptions: SeedsOptions = {}, hooks: SeedsHooks = {}): Promise<MultiSeedRun> {
  const base = resolveScenario(options);
  const results: HeadToHeadResult[] = [];
  let first: Omit<ScenarioRun, 'result'> | null = null;
  const loop = await seedLoop('runSeeds', base.seed, seedsOptions, async (seed, index, planned) => {
    const run = await runScenario(backend, { ...base, seed }, hooks);
    results.push(run.result);
    if (!first) {
      const { result: _, ...rest } = run;
      first = rest;
    }
    await hooks.onSeed?.(index + 1, seed, run, planned);
  });
  const confidence = seedsOptions.confidence ?? 0.95, alpha = seedsOptions.alpha ?? 0.05;
  return { scenario: base, ...loop, ...summarizeSeeds(base.algorithms, results, { confidence, alpha }), first: first!, seeds: loop.seeds };
}
