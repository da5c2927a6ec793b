/**
 * The head-to-head as one call: the default scenario (every algorithm of the project on one
 * simulated stream with a market shock), shared by the CLI (`webgpu-bandits start`) and the demo
 * page.
 */
import { BanditError } from '../core/errors.js';
import type { Backend } from '../core/backend.js';
import type { Policy } from '../eval/policy.js';
import { runHeadToHead, type HeadToHeadResult, type RoundSnapshot } from './headtohead.js';
import { EmbeddingMLP } from '../neural/embedding-mlp.js';
import { DEFAULT_EMBEDDING_TRAINING, embeddingMLPPolicy, embeddingMLPPolicyFor } from './policies/embedding-mlp.js';
import { DEFAULT_EPSILON, DEFAULT_SQUARECB_GAMMA, epsilonGreedyLinUCBPolicy, squareCBLinUCBPolicy } from './policies/exploring.js';
import { hybridLinUCBPolicy } from './policies/hybrid.js';
import { DEFAULT_LINTS_V, linTSPolicy } from './policies/lints.js';
import { DEFAULT_DISCOUNT_GAMMA, discountedLinUCBPolicy, linUCBPolicy } from './policies/linucb.js';
import { DEFAULT_NEURALTS_NU, neuralTSPolicyFor } from './policies/neuralts.js';
import { neuralUCBPolicyFor } from './policies/neuralucb.js';
import { oraclePolicy } from './policies/oracle.js';
import { randomPolicy } from './policies/random.js';
import { EcommerceSimulator } from './simulator.js';
import { resolveSimulatorOptions, type EcommerceSimulatorOptions, type NewCollectionOptions, type ResolvedSimulatorOptions, type StockOutOptions } from './simulator-options.js';

/**
 * The algorithms of the head-to-head, by the keys the CLI and the demo take.
 *
 * @example
 * const run = await runScenario(backend, resolveScenario({ algorithms: ALGORITHMS.filter((a) => a !== 'hybrid') }));
 */
export const ALGORITHMS = [
  'linucb', 'hybrid', 'discounted', 'egreedy', 'squarecb', 'lints', 'neural', 'neuralts', 'embedding', 'random', 'oracle',
] as const;
export type AlgorithmKey = (typeof ALGORITHMS)[number];

/**
 * What a scenario runs unless told otherwise (`npm start`, the demo's ticked boxes): every
 * algorithm but hybrid LinUCB. The seeds have to fit about a minute on 2 CPU cores, and the more
 * seeds the more pairs the paired tests can separate. On the cpu backend (load average ~1) a seed
 * of all eleven took 10.3 s and one without hybrid 7.2 s (hybrid 2.9 s of select and update a
 * seed, the most of any), while hybrid's total regret (1775 [1686, 1864] over seeds 1–3) stayed
 * within LinUCB's spread: 8 seeds a minute instead of 5. `--algos all` runs it too.
 *
 * @example
 * const scenario = resolveScenario({ algorithms: [...DEFAULT_ALGORITHMS, 'hybrid'] });
 */
export const DEFAULT_ALGORITHMS: readonly AlgorithmKey[] = Object.freeze(ALGORITHMS.filter((a) => a !== 'hybrid'));

/**
 * One line on each algorithm (for help texts and the report).
 *
 * @example
 * for (const a of ALGORITHMS) console.log(`${a}: ${ALGORITHM_DESCRIPTIONS[a]}`);
 */
export const ALGORITHM_DESCRIPTIONS: Readonly<Record<AlgorithmKey, string>> = Object.freeze({
  linucb: 'LinUCB, disjoint: one ridge model per item on the user context (Li et al. 2010)',
  hybrid: 'hybrid LinUCB: per-item models plus coefficients shared by all items on user ⊗ item features',
  discounted: `discounted LinUCB: forgets old rows (γ = ${DEFAULT_DISCOUNT_GAMMA}), for a world that changes`,
  egreedy: `ε-greedy LinUCB: the ridge models' best item, or a random one with probability ε = ${DEFAULT_EPSILON}`,
  squarecb: `SquareCB (Foster & Rakhlin 2020): inverse-gap weighting over the ridge models' means, γ = ${DEFAULT_SQUARECB_GAMMA}`,
  lints: `LinTS (Agrawal & Goyal 2013): Thompson sampling from each item's ridge posterior, v = ${DEFAULT_LINTS_V}`,
  neural: 'NeuralUCB: one shared MLP on [user | item] with a gradient-based bonus (diagonal Z), trained on the 500 most recent plays',
  neuralts: `NeuralTS (Zhang et al. 2021): NeuralUCB's network, Thompson draws of ν·sqrt(gᵀZ⁻¹g/m) width, ν = ${DEFAULT_NEURALTS_NU}`,
  embedding: 'Embedding + MLP: trained once on random logs from before the shock, then frozen',
  random: 'uniformly random items: the floor',
  oracle: 'the best item for each user (knows the click probabilities): the ceiling',
});

/** Options of the head-to-head scenario; every field has a default (the default scenario). */
export interface ScenarioOptions {
  /** User arrivals. Default 6000. */
  readonly steps?: number;
  /**
   * Step of the market shock; `steps` arms it without planning it within the run (for a runtime
   * trigger, `EcommerceSimulator.triggerShock`); null: no shock at all. Default ⌊steps/2⌋.
   */
  readonly shockAt?: number | null;
  /** Seed of the world, the stream and the models. Default 1. */
  readonly seed?: number;
  /** Users arriving at once (rows a select / update). Default 25. */
  readonly batchSize?: number;
  /** Which algorithms, in this order. Default: DEFAULT_ALGORITHMS (all of ALGORITHMS but hybrid), in that order. */
  readonly algorithms?: readonly AlgorithmKey[];
  /** Rows of the random pre-shock log the Embedding + MLP is trained on. Default 10,000. */
  readonly trainingRows?: number;
  /** Epochs of that training. Default 10. */
  readonly trainingEpochs?: number;
  /** Steps a window of the CTR and regret curves (and the recovery measure). Default (or null): runHeadToHead's. */
  readonly window?: number | null;
  /** New items arriving mid-run (the simulator's NewCollectionOptions, `{}` for its defaults). Default null: none. */
  readonly newCollection?: NewCollectionOptions | null;
  /** Items out of stock for stretches (the simulator's StockOutOptions, `{}` for its defaults). Default null: none. */
  readonly stockOuts?: StockOutOptions | null;
  /** Mean click delay in rounds (runHeadToHead's `rewardDelay`); 0 decides and rewards in the same round. Default null: no delay. */
  readonly rewardDelay?: number | null;
}

/** A scenario with every default filled in. */
export interface Scenario {
  readonly steps: number;
  readonly shockAt: number | null;
  readonly seed: number;
  readonly batchSize: number;
  readonly algorithms: readonly AlgorithmKey[];
  readonly trainingRows: number;
  readonly trainingEpochs: number;
  readonly window: number | null;
  readonly newCollection: NewCollectionOptions | null;
  readonly stockOuts: StockOutOptions | null;
  readonly rewardDelay: number | null;
  /** The simulator's options (its other options at their defaults: 50 items, 5 categories, 500 users). */
  readonly simulator: EcommerceSimulatorOptions;
}

const intIn = (what: string, v: unknown, min: number, max: number): number => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new BanditError(`scenario: ${what} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
  return v;
};

/**
 * Fills in the defaults and checks the options (BanditError naming the bad one).
 *
 * @example
 * resolveScenario({ steps: 2000 });   // { steps: 2000, shockAt: 1000, seed: 1, batchSize: 25, algorithms: DEFAULT_ALGORITHMS, … }
 */
export function resolveScenario(options: ScenarioOptions = {}): Scenario {
  if (!options || typeof options !== 'object') throw new BanditError('scenario: options must be an object');
  const steps = intIn('steps', options.steps ?? 6000, 1, 10_000_000);
  const shockAt = options.shockAt === null ? null : intIn('shockAt (the shock step)', options.shockAt ?? Math.floor(steps / 2), 0, steps);
  const seed = intIn('seed', options.seed ?? 1, 0, 0xffffffff);
  const batchSize = intIn('batchSize', options.batchSize ?? 25, 1, 4096);
  const algorithms = options.algorithms ?? DEFAULT_ALGORITHMS;
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new BanditError(`scenario: algorithms must be a non-empty list of ${ALGORITHMS.join(', ')}`);
  for (const a of algorithms) {
    if (!(ALGORITHMS as readonly string[]).includes(a)) throw new BanditError(`scenario: unknown algorithm '${String(a)}'; known: ${ALGORITHMS.join(', ')}`);
  }
  if (new Set(algorithms).size !== algorithms.length) throw new BanditError(`scenario: algorithms lists one twice: ${algorithms.join(', ')}`);
  const trainingRows = intIn('trainingRows', options.trainingRows ?? DEFAULT_EMBEDDING_TRAINING.rows, 1, 10_000_000);
  const trainingEpochs = intIn('trainingEpochs', options.trainingEpochs ?? DEFAULT_EMBEDDING_TRAINING.epochs, 0, 10_000);
  const window = options.window === undefined || options.window === null ? null : intIn('window', options.window, 1, steps);
  const rewardDelay = options.rewardDelay ?? null;
  if (rewardDelay !== null && !(typeof rewardDelay === 'number' && Number.isFinite(rewardDelay) && rewardDelay >= 0)) {
    throw new BanditError(`scenario: rewardDelay must be a finite number ≥ 0 (mean rounds) or null, got ${String(rewardDelay)}`);
  }
  const newCollection = options.newCollection ?? null, stockOuts = options.stockOuts ?? null;
  const simulator: EcommerceSimulatorOptions = {
    seed, steps, shock: shockAt === null ? null : { step: shockAt }, ...(newCollection ? { newCollection } : {}), ...(stockOuts ? { stockOuts } : {}),
  };
  try {
    resolveSimulatorOptions(simulator);
  } catch (e) {
    if (e instanceof BanditError) throw new BanditError(e.message.replace(/^EcommerceSimulator: option /, 'scenario: ').replace(/^EcommerceSimulator: /, 'scenario: '));
    throw e;
  }
  return Object.freeze({
    steps, shockAt, seed, batchSize, algorithms: Object.freeze([...algorithms]), trainingRows, trainingEpochs, window, newCollection, stockOuts, rewardDelay,
    simulator: Object.freeze(simulator),
  });
}

/**
 * The world of a scenario (pass it to `runScenario` as `hooks.simulator` to keep a handle on it,
 * e.g. to trigger the shock from a button).
 *
 * @example
 * const sim = scenarioSimulator(resolveScenario({ shockAt: 6000 }));   // shock armed, not planned
 */
export function scenarioSimulator(scenario: Scenario): EcommerceSimulator {
  return new EcommerceSimulator(scenario.simulator);
}

/** Hooks of `defaultPolicies` and `runScenario`. */
export interface ScenarioHooks {
  /** The simulator to run on (from `scenarioSimulator(scenario)`); default: a new one. */
  readonly simulator?: EcommerceSimulator;
  /** What is being done now, in a few words (e.g. 'training Embedding + MLP on 10000 logged rows'). */
  readonly onStage?: (stage: string) => void;
  /** After each epoch of the Embedding + MLP's training. */
  readonly onTrainingEpoch?: (epoch: number, epochs: number, loss: number) => void | Promise<void>;
  /** After each round of the run (see HeadToHeadOptions.onProgress and onRound). */
  readonly onProgress?: (done: number, total: number) => void | Promise<void>;
  readonly onRound?: (snapshot: RoundSnapshot) => void | Promise<void>;
  readonly signal?: AbortSignal;
  /**
   * Trained Embedding + MLP models to reuse, kept by what they were trained on (the world's
   * options, the rows and the epochs): a run that would train one kept here loads it instead (it
   * is frozen, and load gives the saved model bit for bit), and keeps what it trains. runDelaySweep
   * passes one, so the delays of a seed train it once.
   */
  readonly trained?: TrainedModels;
}

/** Trained models by what they were trained on (see ScenarioHooks.trained). */
export type TrainedModels = Map<string, { readonly bytes: Uint8Array; readonly losses: readonly number[] }>;

/**
 * The policies of a scenario, in its order, on one backend: the LinUCB family with the
 * adapters' defaults (α = 0.5), the exploring ridge models (ε-greedy with DEFAULT_EPSILON,
 * SquareCB with DEFAULT_SQUARECB_GAMMA, LinTS with DEFAULT_LINTS_V), NeuralUCB with
 * `DEFAULT_NEURAL_POLICY_OPTIONS` and NeuralTS with them and DEFAULT_NEURALTS_NU, the Embedding +
 * MLP trained on `sim.randomLog(trainingRows)` (random logging before the shock) and then frozen,
 * random and the oracle. Every randomised model draws from a stream seeded by the scenario's
 * seed. Dispose them after the run.
 *
 * @example
 * const scenario = resolveScenario({ algorithms: ['linucb', 'embedding', 'random'] });
 * const sim = scenarioSimulator(scenario);
 * const policies = await defaultPolicies(backend, sim, scenario);
 * const result = await runHeadToHead(sim, policies);
 * for (const p of policies) p.dispose();
 */
export async function defaultPolicies(
  backend: Backend, sim: EcommerceSimulator, scenario: Scenario, hooks: Pick<ScenarioHooks, 'onStage' | 'onTrainingEpoch' | 'trained'> = {},
): Promise<Policy[]> {
  const made: Policy[] = [];
  const shape = sim.shape;
  // Late rewards need decide's event ids; the head-to-head does not use the propensities, so the
  // Thompson models estimate them from one draw instead of 1024 (their decisions are the same).
  const draws = scenario.rewardDelay === null ? {} : { propensityDraws: 1 };
  try {
    for (const key of scenario.algorithms) {
      switch (key) {
        case 'linucb': made.push(await linUCBPolicy(backend, shape)); break;
        case 'hybrid': made.push(await hybridLinUCBPolicy(backend, shape)); break;
        case 'discounted': made.push(await discountedLinUCBPolicy(backend, shape)); break;
        case 'egreedy': made.push(await epsilonGreedyLinUCBPolicy(backend, shape, { seed: scenario.seed })); break;
        case 'squarecb': made.push(await squareCBLinUCBPolicy(backend, shape, { seed: scenario.seed })); break;
        case 'lints': made.push(await linTSPolicy(backend, shape, { seed: scenario.seed, ...draws })); break;
        case 'neuralts': made.push(await neuralTSPolicyFor(backend, shape, { seed: scenario.seed, ...draws })); break;
        case 'neural': made.push(await neuralUCBPolicyFor(backend, shape, { seed: scenario.seed })); break;
        case 'random': made.push(randomPolicy(shape, { seed: scenario.seed })); break;
        case 'oracle': made.push(oraclePolicy()); break;
        case 'embedding': {
          const key = JSON.stringify([scenario.simulator, scenario.trainingRows, scenario.trainingEpochs]);
          const kept = hooks.trained?.get(key);
          if (kept) {
            const reused = { ...embeddingMLPPolicy(await EmbeddingMLP.load(backend, kept.bytes), { name: 'Embedding + MLP (frozen)' }), trainingLosses: kept.losses };
            made.push(reused);
            break;
          }
          hooks.onStage?.(`training Embedding + MLP on ${scenario.trainingRows} random-logged pre-shock rows, ${scenario.trainingEpochs} epochs`);
          const epochs = scenario.trainingEpochs;
          let pending: Promise<void> = Promise.resolve();
          const trained = await embeddingMLPPolicyFor(backend, sim.randomLog(scenario.trainingRows), {
            seed: scenario.seed, epochs,
            ...(hooks.onTrainingEpoch ? { onEpoch: (e: number, loss: number) => void (pending = pending.then(() => hooks.onTrainingEpoch!(e, epochs, loss))) } : {}),
          });
          made.push(trained);
          await pending;
          hooks.trained?.set(key, { bytes: await trained.save(), losses: trained.trainingLosses });
          break;
        }
      }
    }
    return made;
  } catch (e) {
    for (const p of made) p.dispose();
    throw e;
  }
}

/** What `runScenario` returns. */
export interface ScenarioRun {
  readonly scenario: Scenario;
  /** The world's resolved options (sizes, click model, the shock as it came). */
  readonly world: ResolvedSimulatorOptions;
  readonly result: HeadToHeadResult;
  /** `backend.info.summary`: which backend and adapter ran it. */
  readonly backend: string;
  /** The Embedding + MLP's mean training loss per epoch (empty without it). */
  readonly trainingLosses: readonly number[];
  /** Milliseconds creating and training the models, running the stream, and both. */
  readonly setupMs: number;
  readonly runMs: number;
  readonly totalMs: number;
  /** When it started, ISO 8601. */
  readonly startedAt: string;
}

const now = (): number => globalThis.performance?.now() ?? Date.now();

/**
 * Runs a scenario end to end on one backend: builds the world, creates (and for the Embedding +
 * MLP, trains) the policies, runs them head to head on the same stream, disposes them.
 *
 * The default scenario (6000 steps, 50 items, 500 users, shock at step 3000, batches of 25) with
 * the first seven algorithms (before the randomised explorers) took 25–57 s end to end on webgpu
 * over SwiftShader on this project's 2-core machine, shared with other busy processes (load
 * average 2.5–5), and 36 s in headless Chromium; the same regrets to the last digit on both (the
 * run is a function of the seed). With DEFAULT_ALGORITHMS on the cpu backend (what `npm start`
 * picks there) a seed took 7–13 s, by the load.
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * const run = await runScenario(backend, {}, { onProgress: (done, total) => console.log(`${done}/${total}`) });
 * for (const p of run.result.policies) console.log(p.name, p.totalRegret.toFixed(1), p.recoverySteps);
 */
export async function runScenario(backend: Backend, options: ScenarioOptions | Scenario = {}, hooks: ScenarioHooks = {}): Promise<ScenarioRun> {
  const scenario = resolveScenario(options);
  const startedAt = new Date().toISOString();
  const t0 = now();
  const sim = hooks.simulator ?? scenarioSimulator(scenario);
  if (sim.steps !== scenario.steps) throw new BanditError(`runScenario: the simulator runs ${sim.steps} steps, the scenario ${scenario.steps}`);
  hooks.onStage?.('creating the models');
  const policies = await defaultPolicies(backend, sim, scenario, hooks);
  try {
    const t1 = now();
    hooks.onStage?.(`running ${scenario.algorithms.length} algorithms on ${scenario.steps} steps`);
    const result = await runHeadToHead(sim, policies, {
      batchSize: scenario.batchSize,
      ...(scenario.window === null ? {} : { window: scenario.window }),
      ...(scenario.rewardDelay === null ? {} : { rewardDelay: scenario.rewardDelay }),
      ...(hooks.onProgress ? { onProgress: hooks.onProgress } : {}),
      ...(hooks.onRound ? { onRound: hooks.onRound } : {}),
      ...(hooks.signal ? { signal: hooks.signal } : {}),
    });
    const t2 = now();
    const trainingLosses = policies.flatMap((p) => ('trainingLosses' in p ? [...(p as { trainingLosses: number[] }).trainingLosses] : []));
    return { scenario, world: sim.options, result, backend: backend.info.summary, trainingLosses, setupMs: t1 - t0, runMs: t2 - t1, totalMs: t2 - t0, startedAt };
  } finally {
    for (const p of policies) p.dispose();
  }
}
