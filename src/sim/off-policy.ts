/**
 * Off-policy evaluation of the project's algorithms on a logged data set (the Open Bandit sample
 * in `webgpu-bandits replay`): every estimator — replay, IPS, SNIPS, DM, DR, SNDR, Switch-DR, DRos
 * — with a bootstrap interval, for a list of target policies. It lives in the simulator layer
 * because the target policies are the head-to-head's adapters (src/sim/policies).
 *
 * How each kind of target gets its n×K distribution on the log:
 * - `fixed` (random): its exact distribution, 1/K everywhere;
 * - `online` (LinUCB, LinTS, NeuralUCB, …): replayed on the log (it learns from the rows where it
 *   picks the logged item and replay keeps the row, as in the replay method) and evaluated as the
 *   sequence of its states: row i's distribution is the policy's in the state it had reached at
 *   row i. How that distribution is had (`OffPolicyTargetSpec.distribution`):
 *   - 'choices', a deterministic learner (LinUCB, NeuralUCB): one-hot at the item it picked;
 *   - 'exact', a learner that samples by a formula over its scores (ε-greedy, SquareCB): the
 *     policy's `distribution`, `scoredTarget` over the model's scores, exact;
 *   - 'sampled', a Thompson sampler (LinTS, NeuralTS), whose π(a|x) has no closed form: the
 *     policy's `distribution`, `decidedTarget` over M posterior draws of the row (`targetDraws`,
 *     one call on M copies of the row). An item whose probability is far below 1/M is mostly
 *     never drawn and gets π̂ = 0, so its importance weight on a row that logged it is 0; that
 *     is unbiased (E π̂ = π: the rows where it was drawn weigh 1/M/μ instead of π/μ) and only
 *     adds variance, π(1 − π)/M an entry; the logged propensities here are exact (OBD's uniform
 *     logger), so nothing divides by an estimate. Every estimator then measures the click rate of
 *     the policy as it learns from this log, the model-based ones over all n rows instead of the
 *     ~n/K replay keeps;
 * - `frozen` (the Embedding + MLP baseline, trained once and served): cross-fitted over two halves
 *   of the log — trained on one half, greedy on the other — so no row is evaluated by a model that
 *   saw its click.
 *
 * A log from a non-uniform logger is read through its propensities everywhere: the OBP
 * estimators divide by them and replay keeps a matched row with probability c/μ_i (rejection
 * sampling, see `replayEvaluate`).
 */
import type { Backend } from '../core/backend.js';
import { BanditError } from '../core/errors.js';
import {
  ESTIMATOR_NAMES, bootstrapDifferences, bootstrapIntervals, bootstrapMeanInterval, fitRewardModel, foldAssignment, logBatch, oneHot, replayAcceptance,
  replayEvaluate, selectRows,
  type BanditLog, type EstimatorInput, type FeatureShape, type EstimatorName, type Policy, type RewardModelKind,
} from '../eval/index.js';
import { embeddingMLPPolicyFor } from './policies/embedding-mlp.js';
import { epsilonGreedyLinUCBPolicy, squareCBLinUCBPolicy } from './policies/exploring.js';
import { hybridLinUCBPolicy } from './policies/hybrid.js';
import { DEFAULT_TARGET_DRAWS, linTSPolicy } from './policies/lints.js';
import { discountedLinUCBPolicy, linUCBPolicy } from './policies/linucb.js';
import { neuralTSPolicyFor } from './policies/neuralts.js';
import { neuralUCBPolicyFor } from './policies/neuralucb.js';
import { randomPolicy } from './policies/random.js';

/** How a target policy is turned into a distribution on the log (see the module doc). */
export type OffPolicyTargetKind = 'fixed' | 'online' | 'frozen';

/**
 * Where an online target's distribution comes from (see the module doc): its choices (one-hot),
 * its exact `distribution`, or its `distribution` estimated from M draws.
 */
export type OffPolicyDistribution = 'choices' | 'exact' | 'sampled';

/** What a target's `make` is given besides the backend and the log. */
export interface OffPolicyMakeOptions {
  /** Seed of the target's randomness (its model's stream). */
  readonly seed: number;
  /** M of a 'sampled' target's distribution. */
  readonly targetDraws: number;
}

/** A target policy the evaluation knows how to build. */
export interface OffPolicyTargetSpec {
  readonly kind: OffPolicyTargetKind;
  /** For an online target: where its distribution on each row comes from. */
  readonly distribution: OffPolicyDistribution;
  readonly description: string;
  /** The policy: replayed ('online', 'fixed': its replay row), or trained on `log` and served greedy ('frozen'). */
  make(backend: Backend, log: BanditLog, options: OffPolicyMakeOptions): Promise<Policy>;
}

/** A head-to-head adapter built for the log's shape, given the make options it takes. */
type Adapter = (backend: Backend, shape: FeatureShape, options: OffPolicyMakeOptions) => Promise<Policy>;

/** An online target: the adapter of the log's shape, replayed on the log. */
function replayed(distribution: OffPolicyDistribution, description: string, adapter: Adapter): OffPolicyTargetSpec {
  return { kind: 'online', distribution, description, make: (backend, log, options) => adapter(backend, log.shape, options) };
}

/** An adapter that takes the seed alone (its options have no `targetDraws`). */
function seeded(adapter: (backend: Backend, shape: FeatureShape, options: { readonly seed: number }) => Promise<Policy>): Adapter {
  return (backend, shape, { seed }) => adapter(backend, shape, { seed });
}

/**
 * The target policies by key, in the order `replay` lists them. To add one, add an entry: an
 * online learner is `replayed('choices', description, (backend, shape) => myPolicy(backend,
 * shape))`; a randomised one gives its policy a `distribution` method and
 * says 'exact' or 'sampled'.
 *
 * @example
 * const keys = Object.keys(OFF_POLICY_TARGETS);   // ['random', 'linucb', 'egreedy', 'squarecb', 'lints', 'discounted', …]
 */
export const OFF_POLICY_TARGETS = Object.freeze({
  random: {
    kind: 'fixed', distribution: 'exact', description: 'uniformly random items (exact distribution 1/K)',
    make: async (_backend, log, { seed }) => randomPolicy(log.shape, { seed }),
  },
  linucb: replayed('choices', 'LinUCB (α = 0.5), replayed', (backend, shape) => linUCBPolicy(backend, shape)),
  egreedy: replayed('exact', 'ε-greedy LinUCB, replayed; its exact ε-greedy distribution on every row', seeded(epsilonGreedyLinUCBPolicy)),
  squarecb: replayed('exact', 'SquareCB over LinUCB\'s ridge models, replayed; its exact inverse-gap distribution on every row', seeded(squareCBLinUCBPolicy)),
  lints: replayed('sampled', 'LinTS, replayed; its distribution on every row from M posterior draws', linTSPolicy),
  discounted: replayed('choices', 'discounted LinUCB, replayed', (backend, shape) => discountedLinUCBPolicy(backend, shape)),
  hybrid: replayed('choices', 'hybrid LinUCB, replayed', (backend, shape) => hybridLinUCBPolicy(backend, shape)),
  neural: replayed('choices', 'NeuralUCB (the head-to-head settings), replayed', seeded(neuralUCBPolicyFor)),
  neuralts: replayed('sampled', 'NeuralTS (the head-to-head settings), replayed; its distribution on every row from M posterior draws', neuralTSPolicyFor),
  embedding: {
    kind: 'frozen', distribution: 'choices', description: 'Embedding + MLP, trained on one half of the log and greedy on the other (both ways)',
    make: (backend, log, { seed }) => embeddingMLPPolicyFor(backend, log, { seed }),
  },
} satisfies Record<string, OffPolicyTargetSpec>);
export type OffPolicyTargetKey = keyof typeof OFF_POLICY_TARGETS;
/**
 * What `replay` evaluates unless told otherwise.
 *
 * @example
 * await evaluateOffPolicy(backend, log, { targets: [...DEFAULT_OFF_POLICY_TARGETS, 'hybrid'] });
 */
export const DEFAULT_OFF_POLICY_TARGETS: readonly OffPolicyTargetKey[] = ['random', 'linucb', 'egreedy', 'lints', 'neural', 'embedding'];

/** Options of `evaluateOffPolicy`. */
export interface OffPolicyOptions {
  /** Which targets, in this order. Default DEFAULT_OFF_POLICY_TARGETS. */
  readonly targets?: readonly OffPolicyTargetKey[];
  /** The reward model of DM and the DR family. Default 'ridge'. */
  readonly rewardModel?: RewardModelKind;
  /** Cross-fitting folds of the reward model. Default 3 (OBP's OBD example). */
  readonly folds?: number;
  /** The 0-based position of each row: one reward model per position (OBP's len_list). Default: one position. */
  readonly positions?: ArrayLike<number>;
  /** Bootstrap resamples, confidence and seed (also of the folds and the models). Defaults 1000, 0.95, 1. */
  readonly samples?: number;
  readonly confidence?: number;
  readonly seed?: number;
  /** Switch-DR's τ. Default 10 (the smallest of OBP's OBD grid). */
  readonly tau?: number;
  /** DRos's λ. Default 1000 (the middle of OBP's OBD grid). */
  readonly lambda?: number;
  /** Rows an online target decides before learning (replayEvaluate's batchSize). Default 1. */
  readonly batchSize?: number;
  /** M, the posterior draws a row of a 'sampled' (Thompson) target's distribution. Default DEFAULT_TARGET_DRAWS. */
  readonly targetDraws?: number;
  /** What is being done, in a few words. */
  readonly onStage?: (stage: string) => void;
  /** Rows replayed so far by the current target. */
  readonly onProgress?: (target: string, done: number, total: number) => void;
}

/**
 * The estimators of a report, in order: replay first, then OBP's.
 *
 * @example
 * for (const e of OFF_POLICY_ESTIMATORS) console.log(estimatorLabel(e, report.settings));
 */
export const OFF_POLICY_ESTIMATORS = ['replay', ...ESTIMATOR_NAMES] as const;
export type OffPolicyEstimator = (typeof OFF_POLICY_ESTIMATORS)[number];

/** One estimate with its bootstrap interval. */
export interface OffPolicyEstimate {
  readonly estimator: OffPolicyEstimator;
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
}

/** One target's results. */
export interface OffPolicyTargetResult {
  readonly key: OffPolicyTargetKey;
  readonly name: string;
  readonly kind: OffPolicyTargetKind;
  readonly distribution: OffPolicyDistribution;
  /** M of a 'sampled' distribution; null otherwise. */
  readonly draws: number | null;
  /** Rows where the target picked the logged item. */
  readonly matched: number;
  /** Of those, the rows replay kept (all of them under a uniform logger; see replayEvaluate), and their clicks: the replay estimate's data. */
  readonly accepted: number;
  readonly clicks: number;
  /** Rows whose importance weight is over Switch-DR's τ: there Switch-DR uses the reward model alone. */
  readonly switched: number;
  readonly estimates: readonly OffPolicyEstimate[];
  /** Seconds making, training, replaying and estimating this target. */
  readonly seconds: number;
}

/** A paired comparison of two targets by DR: V̂_DR(a) − V̂_DR(b) on the same rows. */
export interface OffPolicyComparison {
  readonly a: OffPolicyTargetKey;
  readonly b: OffPolicyTargetKey;
  readonly difference: number;
  /** The paired bootstrap interval at `OffPolicyReport.comparisonConfidence` (Bonferroni over the pairs). */
  readonly lower: number;
  readonly upper: number;
  /** The interval excludes 0. */
  readonly significant: boolean;
}

/** What `evaluateOffPolicy` returns. */
export interface OffPolicyReport {
  readonly rows: number;
  readonly arms: number;
  readonly positions: number;
  readonly clicks: number;
  readonly rewardModel: { readonly kind: RewardModelKind; readonly folds: number; readonly seconds: number };
  readonly settings: {
    readonly samples: number; readonly confidence: number; readonly seed: number; readonly tau: number; readonly lambda: number; readonly targetDraws: number;
  };
  readonly targets: readonly OffPolicyTargetResult[];
  /** Every two targets compared by DR, paired bootstrap on the same resamples, Bonferroni-corrected. */
  readonly comparisons: readonly OffPolicyComparison[];
  /** The confidence of each comparison's interval: 1 − (1 − confidence)/pairs. */
  readonly comparisonConfidence: number;
  readonly seconds: number;
}

const now = (): number => globalThis.performance?.now() ?? Date.now();

/** The chosen item on each row of a frozen target: trained on the other half of the log, greedy on this one. */
async function crossFittedChoices(backend: Backend, spec: OffPolicyTargetSpec, log: BanditLog, make: OffPolicyMakeOptions): Promise<{ name: string; chosen: Int32Array }> {
  const { seed } = make;
  const half = foldAssignment(log.length, 2, seed);
  const chosen = new Int32Array(log.length);
  let name = '';
  for (let f = 0; f < 2; f++) {
    const test = Int32Array.from({ length: log.length }, (_, i) => i).filter((i) => half[i] === f);
    const train = Int32Array.from({ length: log.length }, (_, i) => i).filter((i) => half[i] !== f);
    const policy = await spec.make(backend, selectRows(log, train), { ...make, seed: seed + f });
    try {
      name = policy.name;
      const picks = await policy.select(logBatch(log, test));
      test.forEach((i, j) => (chosen[i] = picks[j]!));
    } finally {
      policy.dispose();
    }
  }
  return { name, chosen };
}

/**
 * Evaluates each target policy on the log with every estimator and its percentile bootstrap
 * interval (the seven of `bootstrapIntervals` on the same resamples, and replay's over its
 * matched rows), and compares every two targets by DR: a paired bootstrap of the difference
 * (`bootstrapDifferences`, the same resampled rows for both), Bonferroni-corrected over the pairs. The reward model is fitted once (cross-fitted, per position when `positions` is
 * given) and shared by every target. Positions: the targets pick one item for a context and do
 * not see the position, so π_e(·|x, p) is the same at every position, and each logged impression
 * is a round at its own position (OBP's position-wise evaluation): an estimate is the click rate
 * of the target's item averaged over the positions in the log's proportions.
 *
 * @example
 * const log = await loadObd();
 * const report = await evaluateOffPolicy(backend, log, { positions: Int32Array.from(log.positions, (p) => p - 1) });
 * for (const t of report.targets) console.log(t.name, t.estimates.find((e) => e.estimator === 'dr'));
 */
export async function evaluateOffPolicy(backend: Backend, log: BanditLog, options: OffPolicyOptions = {}): Promise<OffPolicyReport> {
  const started = now();
  const targets: readonly OffPolicyTargetKey[] = options.targets ?? DEFAULT_OFF_POLICY_TARGETS;
  if (!Array.isArray(targets as unknown) || targets.length === 0) throw new BanditError('evaluateOffPolicy: targets must be a non-empty list');
  for (const t of targets) {
    if (!Object.hasOwn(OFF_POLICY_TARGETS, t)) throw new BanditError(`evaluateOffPolicy: unknown target '${String(t)}'; known: ${Object.keys(OFF_POLICY_TARGETS).join(', ')}`);
  }
  const seed = options.seed ?? 1, folds = options.folds ?? 3, kind = options.rewardModel ?? 'ridge';
  const targetDraws = options.targetDraws ?? DEFAULT_TARGET_DRAWS;
  if (!(Number.isInteger(targetDraws) && targetDraws >= 1)) throw new BanditError(`evaluateOffPolicy: targetDraws must be a positive integer, got ${String(targetDraws)}`);
  const settings = { samples: options.samples ?? 1000, confidence: options.confidence ?? 0.95, seed, tau: options.tau ?? 10, lambda: options.lambda ?? 1000, targetDraws };
  const k = log.shape.arms;

  options.onStage?.(`fitting the ${kind} reward model, ${folds}-fold cross-fitted${options.positions ? ', one a position' : ''}`);
  const t0 = now();
  const fit = await fitRewardModel(backend, log, { model: kind, folds, seed, ...(options.positions ? { positions: options.positions } : {}) });
  const rewardModel = { kind, folds, seconds: (now() - t0) / 1000 };

  const results: OffPolicyTargetResult[] = [];
  const inputs: EstimatorInput[] = [];
  for (const key of targets) {
    const spec: OffPolicyTargetSpec = OFF_POLICY_TARGETS[key];
    const t1 = now();
    let name: string, chosen: Int32Array, targetDistribution: Float64Array, kept: Uint8Array;
    const make = { seed, targetDraws };
    if (spec.kind === 'frozen') {
      options.onStage?.(`training ${key} on each half of the log`);
      ({ name, chosen } = await crossFittedChoices(backend, spec, log, make));
      targetDistribution = oneHot(chosen, k);
      kept = replayAcceptance(log.propensities, log.length, seed).keep;
    } else {
      const policy = await spec.make(backend, log, make);
      try {
        name = policy.name;
        const replay = await replayEvaluate(log, policy, {
          batchSize: options.batchSize ?? 1, seed, distribution: spec.kind === 'online' && spec.distribution !== 'choices',
          ...(options.onProgress ? { onProgress: (done, total) => options.onProgress!(policy.name, done, total) } : {}),
        });
        chosen = replay.chosen;
        targetDistribution = spec.kind === 'fixed' ? new Float64Array(log.length * k).fill(1 / k) : replay.targetDistribution;
        kept = new Uint8Array(log.length);
        for (const i of replay.acceptedRows) kept[i] = 1;
      } finally {
        policy.dispose();
      }
    }
    const keptRewards: number[] = [];
    let matched = 0, switched = 0;
    for (let i = 0; i < log.length; i++) {
      if (chosen[i] === log.actions[i]) {
        matched++;
        if (kept[i]) keptRewards.push(log.rewards[i]!);
      }
      if (targetDistribution[i * k + log.actions[i]!]! / log.propensities[i]! > settings.tau) switched++;
    }
    const input = { rewards: log.rewards, actions: log.actions, propensities: log.propensities, targetDistribution, estimatedRewards: fit.estimatedRewards };
    inputs.push(input);
    const intervals = bootstrapIntervals(input, settings);
    const replay = bootstrapMeanInterval(keptRewards, settings);
    const estimates: OffPolicyEstimate[] = [
      { estimator: 'replay', estimate: replay.estimate, lower: replay.lower, upper: replay.upper },
      ...ESTIMATOR_NAMES.map((e: EstimatorName) => ({ estimator: e, estimate: intervals[e]!.estimate, lower: intervals[e]!.lower, upper: intervals[e]!.upper })),
    ];
    results.push({
      key, name, kind: spec.kind, distribution: spec.distribution, draws: spec.distribution === 'sampled' ? targetDraws : null,
      matched, accepted: keptRewards.length, clicks: keptRewards.reduce((s, r) => s + r, 0), switched, estimates, seconds: (now() - t1) / 1000,
    });
  }
  const pairs = (targets.length * (targets.length - 1)) / 2;
  const comparisonConfidence = 1 - (1 - settings.confidence) / Math.max(1, pairs);
  const comparisons = targets.length < 2 ? [] : bootstrapDifferences(inputs, { ...settings, estimator: 'dr', confidence: comparisonConfidence })
    .map((d): OffPolicyComparison => ({
      a: targets[d.a]!, b: targets[d.b]!, difference: d.estimate, lower: d.lower, upper: d.upper, significant: d.lower > 0 || d.upper < 0,
    }));
  let clicks = 0;
  for (let i = 0; i < log.length; i++) clicks += log.rewards[i]!;
  const positions = options.positions ? new Set(Array.from(options.positions)).size : 1;
  return { rows: log.length, arms: k, positions, clicks, rewardModel, settings, targets: results, comparisons, comparisonConfidence, seconds: (now() - started) / 1000 };
}
