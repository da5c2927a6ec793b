/**
 * The catalogue scenario over click delays and seeds: a shop whose catalogue changes (a new
 * collection arrives mid-run, items go out of stock and come back), run with the clicks arriving
 * after a random delay of mean 0, d₁, d₂, … rounds. Every delay runs on the same seeds, so within
 * a seed the delays share the world, the users and the click draws (and the delay draws, scaled):
 * the regret a delay adds is measured pair by pair, seed by seed.
 */
import type { Backend } from '../core/backend.js';
import { BanditError } from '../core/errors.js';
import type { HeadToHeadResult } from './headtohead.js';
import { resolveScenario, runScenario, type Scenario, type ScenarioHooks, type ScenarioOptions, type ScenarioRun, type TrainedModels } from './scenario.js';
import { seedLoop, summarizeSeeds, type MultiSeedRun, type SeedLoop, type SeedsOptions } from './seeds.js';
import { pairedTTest, type PairedTest } from './stats.js';

/**
 * The scenario of the delay sweep (`npm start`'s second part): 1600 steps without a market
 * shock; at step 800 a new collection of 10 items arrives, their click logits 0.5 above the old
 * items' (so for about a quarter of the users the best item is a new one); every item is out of
 * stock 10 % of the time, in stretches of 250 steps on average. Half a run after the arrival is
 * enough to see who gives the new items their share. The frozen Embedding + MLP, the same at every
 * delay, is trained on 5000 rows for 5 epochs (trained once a seed). At these sizes a seed of the
 * three default delays took 10–15 s on the cpu backend with the cores shared (load 4–6).
 *
 * @example
 * const run = await runDelaySweep(backend, { ...CATALOGUE_SCENARIO, steps: 4000, newCollection: { step: 2000 } });
 */
export const CATALOGUE_SCENARIO: ScenarioOptions = Object.freeze({
  steps: 1600,
  shockAt: null,
  newCollection: Object.freeze({ step: 800, items: 10, boost: 0.5 }),
  stockOuts: Object.freeze({ share: 0.1, meanLength: 250 }),
  trainingRows: 5000,
  trainingEpochs: 5,
});

/**
 * The mean click delays of the sweep, in rounds of the batch (25 users a round): none, 3 rounds
 * (75 users later on average) and 10 rounds (250 users, a third of the time the new items have).
 *
 * @example
 * const run = await runDelaySweep(backend, CATALOGUE_SCENARIO, { delays: [...DEFAULT_DELAYS, 30] });
 */
export const DEFAULT_DELAYS: readonly number[] = Object.freeze([0, 3, 10]);

/** Options of `runDelaySweep`: runSeeds' (seeds or a budget), and the delays. */
export interface DelaySweepOptions extends SeedsOptions {
  /** Mean click delays in rounds, distinct, ≥ 0; the first is the one the others are compared with. Default DEFAULT_DELAYS. */
  readonly delays?: readonly number[];
}

/** One algorithm's regret at one delay against the first delay, over the seeds: delay − first, paired. */
export interface DelayEffect extends PairedTest {
  readonly delay: number;
}

/** What `runDelaySweep` returns. */
export interface DelaySweepRun extends SeedLoop {
  readonly scenario: Scenario;
  readonly delays: readonly number[];
  /** At each delay (in `delays` order) the summary over seeds, as runSeeds gives it (new items included). */
  readonly levels: readonly Pick<MultiSeedRun, 'policies' | 'comparisons' | 'steps' | 'shockStep' | 'window' | 'roundEnds' | 'confidence' | 'alpha'>[];
  /** Per algorithm (in the scenario's order), the total regret each delay adds to the first's (delays[1..]). */
  readonly effects: readonly { readonly key: string; readonly name: string; readonly effects: readonly DelayEffect[] }[];
  /** The first run's settings (world, backend, training, times) without its result. */
  readonly first: Omit<ScenarioRun, 'result'>;
  readonly confidence: number;
}

/** Hooks of `runDelaySweep`: runScenario's for every run, and one after each run. */
export type DelaySweepHooks = Omit<ScenarioHooks, 'simulator'> & {
  readonly onRun?: (seed: number, delay: number, run: ScenarioRun) => void | Promise<void>;
};

/**
 * Runs a scenario (default CATALOGUE_SCENARIO) at every mean click delay of `delays` on seeds
 * first, first + 1, … (exactly `seeds`, or as many as fit `budgetMs`: see runSeeds), and
 * summarises each delay over the seeds (`summarizeSeeds`: regret, CTR, the new items' share) and
 * the regret each delay adds to the first delay's, per algorithm (paired t-intervals over seeds).
 *
 * @example
 * const sweep = await runDelaySweep(backend, CATALOGUE_SCENARIO, { seeds: 3, delays: [0, 5] });
 * for (const a of sweep.effects) console.log(a.name, a.effects[0]!.mean.toFixed(1));   // regret added by a delay of 5 rounds
 */
export async function runDelaySweep(
  backend: Backend, options: ScenarioOptions = CATALOGUE_SCENARIO, sweepOptions: DelaySweepOptions = {}, hooks: DelaySweepHooks = {},
): Promise<DelaySweepRun> {
  const base = resolveScenario(options);
  const delays = sweepOptions.delays ?? DEFAULT_DELAYS;
  if (!Array.isArray(delays) || delays.length === 0) throw new BanditError('runDelaySweep: delays must be a non-empty list of mean delays (rounds)');
  for (const d of delays) {
    if (!(typeof d === 'number' && Number.isFinite(d) && d >= 0)) throw new BanditError(`runDelaySweep: a delay must be a finite number ≥ 0 (mean rounds), got ${String(d)}`);
  }
  if (new Set(delays).size !== delays.length) throw new BanditError(`runDelaySweep: delays lists one twice: ${delays.join(', ')}`);
  const results: HeadToHeadResult[][] = delays.map(() => []);
  let first: Omit<ScenarioRun, 'result'> | null = null;
  const loop = await seedLoop('runDelaySweep', base.seed, sweepOptions, async (seed) => {
    // The frozen Embedding + MLP of a seed is the same at every delay: trained once.
    const trained: TrainedModels = new Map();
    for (const [i, delay] of delays.entries()) {
      const run = await runScenario(backend, { ...base, seed, rewardDelay: delay }, { ...hooks, trained });
      results[i]!.push(run.result);
      if (!first) {
        const { result: _, ...rest } = run;
        first = rest;
      }
      await hooks.onRun?.(seed, delay, run);
    }
  });
  const confidence = sweepOptions.confidence ?? 0.95, alpha = sweepOptions.alpha ?? 0.05;
  const levels = results.map((r) => summarizeSeeds(base.algorithms, r, { confidence, alpha }));
  const effects = base.algorithms.map((key, p) => ({
    key, name: levels[0]!.policies[p]!.name,
    effects: delays.slice(1).map((delay, j): DelayEffect => ({
      delay, ...pairedTTest(levels[j + 1]!.policies[p]!.perSeed.totalRegret, levels[0]!.policies[p]!.perSeed.totalRegret, confidence),
    })),
  }));
  return { scenario: base, delays: [...delays], ...loop, levels, effects, first: first!, confidence };
}
