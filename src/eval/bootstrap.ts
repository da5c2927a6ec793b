import { Random } from '../core/random.js';
import { BanditError } from '../core/errors.js';
import { checkEstimatorInput, type EstimatorInput } from './estimator-input.js';
import {
  ESTIMATOR_NAMES, mean, needsRewardModel, roundRewards,
  type AnyEstimatorOptions, type ClippingOptions, type DrosOptions, type EstimatorName, type SwitchDrOptions,
} from './estimators.js';

/** How many resamples, at what confidence, from which seed. */
export interface BootstrapSettings {
  /**
   * Bootstrap resamples. Default 1000 (OBP's default is 10,000). The cost is samples × n random
   * draws, 17–50 ns each here by the machine's load: 100 resamples of 10⁶ rows took 1.7–5.3 s
   * (bench/ope.ts), so 1000 take tens of seconds at that size.
   */
  readonly samples?: number;
  /** Coverage of the interval, in (0, 1): OBP's 1 − `alpha`. Default 0.95. */
  readonly confidence?: number;
  /** Seed of the resampling (OBP's `random_state`): the same seed, the same interval. Default 0. */
  readonly seed?: number;
}

/** Options of `bootstrapInterval`: the estimator by name with its own options, and the bootstrap's settings. */
export type BootstrapOptions = BootstrapSettings & (
  | { readonly estimator: 'dm' | 'snips' | 'sndr' }
  | ({ readonly estimator: 'ips' | 'dr' } & ClippingOptions)
  | ({ readonly estimator: 'switch-dr' } & SwitchDrOptions)
  | ({ readonly estimator: 'dros' } & DrosOptions)
);

/** What `bootstrapInterval` returns. */
export interface BootstrapInterval {
  /** The estimator's value on the whole log (what `drEstimate` etc. return). */
  readonly estimate: number;
  /** The (1 − confidence)/2 and (1 + confidence)/2 percentiles of the resampled estimates. */
  readonly lower: number;
  readonly upper: number;
  /** The mean of the resampled estimates: what OBP reports as "mean" (the estimate, up to resampling noise). */
  readonly bootstrapMean: number;
}

/**
 * numpy's default `np.percentile` (linear interpolation): of `sorted` (ascending, length m), the
 * value at position h = (m − 1)·q, interpolated between its two neighbours.
 */
function percentile(sorted: Float64Array, q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h), hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/** The means of `samples` resamples of `terms`, n rows drawn with replacement each (indices from `random.int(n)`, in order). */
function resampledMeans(terms: Float64Array, samples: number, random: Random): Float64Array {
  const n = terms.length;
  const means = new Float64Array(samples);
  for (let s = 0; s < samples; s++) {
    let sum = 0;
    for (let j = 0; j < n; j++) sum += terms[random.int(n)]!;
    means[s] = sum / n;
  }
  return means;
}

/**
 * A percentile bootstrap confidence interval of an off-policy estimate, as OBP's
 * `estimate_interval` (`estimate_confidence_interval_by_bootstrap`): compute the estimator's
 * per-row terms once (its `_estimate_round_rewards`, on the whole log), then `samples` times
 * draw n rows with replacement and take the mean of their terms; the interval runs between the
 * (1 − confidence)/2 and (1 + confidence)/2 percentiles of those means (numpy's linear
 * interpolation). As in OBP, the self-normalised estimators keep the whole log's E_n[w] in every
 * resample (their terms are computed once), and the reward model is not refitted.
 *
 * Validates the input as the estimators do (BanditError naming the field and row), and the
 * settings: samples an integer ≥ 2, confidence in (0, 1), seed an integer in 0..2³²−1. An
 * estimate that is NaN (a self-normalised estimator with no weight) gives NaN bounds.
 *
 * @example
 * const { estimate, lower, upper } = bootstrapInterval(input, { estimator: 'dr', samples: 1000, confidence: 0.95, seed: 1 });
 * console.log(`DR ${estimate.toFixed(4)} [${lower.toFixed(4)}, ${upper.toFixed(4)}]`);
 */
export function bootstrapInterval(input: EstimatorInput, options: BootstrapOptions): BootstrapInterval {
  const op = 'bootstrapInterval';
  if (options === null || typeof options !== 'object') throw new BanditError(`${op}: options { estimator, samples?, confidence?, seed? } are required`);
  const { estimator } = options;
  if (!(ESTIMATOR_NAMES as readonly string[]).includes(estimator)) {
    throw new BanditError(`${op}: option estimator must be one of ${ESTIMATOR_NAMES.join(', ')}, got ${String(estimator)}`);
  }
  const settings = checkSettings(op, options);
  const name: EstimatorName = estimator;
  const checked = checkEstimatorInput(op, input, needsRewardModel(name));
  return intervalOfTerms(roundRewards(name, checked, options as AnyEstimatorOptions, op), settings);
}

function checkSettings(op: string, options: BootstrapSettings): Required<BootstrapSettings> {
  const { samples = 1000, confidence = 0.95, seed = 0 } = options;
  if (!(Number.isInteger(samples) && samples >= 2)) throw new BanditError(`${op}: option samples must be an integer ≥ 2, got ${String(samples)}`);
  if (!(typeof confidence === 'number' && confidence > 0 && confidence < 1)) {
    throw new BanditError(`${op}: option confidence must be in (0, 1), e.g. 0.95, got ${String(confidence)}`);
  }
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new BanditError(`${op}: option seed must be an integer in 0..2^32−1, got ${String(seed)}`);
  return { samples, confidence, seed };
}

function intervalOfTerms(terms: Float64Array, { samples, confidence, seed }: Required<BootstrapSettings>): BootstrapInterval {
  const estimate = mean(terms);
  if (Number.isNaN(estimate)) return { estimate, lower: NaN, upper: NaN, bootstrapMean: NaN };
  const means = resampledMeans(terms, samples, new Random(seed));
  const bootstrapMean = mean(means);
  means.sort();
  const alpha = 1 - confidence;
  return { estimate, lower: percentile(means, alpha / 2), upper: percentile(means, 1 - alpha / 2), bootstrapMean };
}

/**
 * The same percentile bootstrap for the plain mean of `values` (finite numbers): e.g. the replay
 * estimate, the mean reward of the rows where the policy matched the log, resampled among those
 * rows. NaN bounds for no values.
 *
 * @example
 * const { estimate, lower, upper } = bootstrapMeanInterval(matchedRewards, { samples: 1000, seed: 1 });
 */
export function bootstrapMeanInterval(values: ArrayLike<number>, settings: BootstrapSettings = {}): BootstrapInterval {
  const op = 'bootstrapMeanInterval';
  if (settings === null || typeof settings !== 'object') throw new BanditError(`${op}: settings must be an object`);
  const checked = checkSettings(op, settings);
  const terms = Float64Array.from(values);
  terms.forEach((v, i) => {
    if (!Number.isFinite(v)) throw new BanditError(`${op}: values[${i}] is ${v}; values must be finite`);
  });
  if (terms.length === 0) return { estimate: NaN, lower: NaN, upper: NaN, bootstrapMean: NaN };
  return intervalOfTerms(terms, checked);
}

/**
 * resampledMeans for several term vectors on the same resamples: one index stream (the same as
 * resampledMeans' for one vector), every vector's mean over it. Each resample's indices are
 * drawn into an array first, then each vector summed over them in a loop of its own: at 10⁶ rows
 * the 7 estimators cost 3.7 single bootstraps, not 7 (memory-bound: one random read a vector a
 * draw); one loop doing all 7 adds after each draw cost 8 (bench/ope.ts).
 */
function sharedResampledMeans(terms: readonly Float64Array[], samples: number, random: Random): Float64Array[] {
  const n = terms[0]!.length;
  const index = new Int32Array(n);
  const means = terms.map(() => new Float64Array(samples));
  for (let s = 0; s < samples; s++) {
    for (let j = 0; j < n; j++) index[j] = random.int(n);
    for (let e = 0; e < terms.length; e++) {
      const t = terms[e]!;
      let sum = 0;
      for (let j = 0; j < n; j++) sum += t[index[j]!]!;
      means[e]![s] = sum / n;
    }
  }
  return means;
}

/** Options of `bootstrapIntervals`: which estimators, their options, and the bootstrap's settings. */
export type BootstrapAllOptions = BootstrapSettings & AnyEstimatorOptions & {
  /** Default every estimator of ESTIMATOR_NAMES (then `tau` and `lambda` are required). */
  readonly estimators?: readonly EstimatorName[];
};

/**
 * `bootstrapInterval` of several estimators at once, on the SAME resamples: each resample's row
 * indices are drawn once and every estimator's mean taken over them, so the result equals one
 * `bootstrapInterval` call per estimator with the same seed (the index stream depends only on the
 * seed and n), for about half the time of the separate calls (the draws are shared). Estimators that need the reward model require
 * `estimatedRewards`; 'switch-dr' and 'dros' require `tau` and `lambda`.
 *
 * @example
 * const ci = bootstrapIntervals(input, { estimators: ['ips', 'dr', 'dros'], lambda: 100, samples: 1000, seed: 1 });
 * console.log(ci.dr?.lower, ci.dr?.upper);
 */
export function bootstrapIntervals(input: EstimatorInput, options: BootstrapAllOptions): Partial<Record<EstimatorName, BootstrapInterval>> {
  const op = 'bootstrapIntervals';
  if (options === null || typeof options !== 'object') throw new BanditError(`${op}: options { estimators?, samples?, confidence?, seed?, tau?, lambda? } are required`);
  const names: readonly EstimatorName[] = options.estimators ?? ESTIMATOR_NAMES;
  if (!Array.isArray(names as unknown) || names.length === 0) throw new BanditError(`${op}: option estimators must be a non-empty list of ${ESTIMATOR_NAMES.join(', ')}`);
  for (const e of names) {
    if (!(ESTIMATOR_NAMES as readonly string[]).includes(e)) throw new BanditError(`${op}: unknown estimator '${String(e)}'; choose from ${ESTIMATOR_NAMES.join(', ')}`);
  }
  const settings = checkSettings(op, options);
  const checked = checkEstimatorInput(op, input, names.some(needsRewardModel));
  const terms = names.map((e) => roundRewards(e, checked, options, op));
  const estimates = terms.map(mean);
  const live = names.map((_, e) => !Number.isNaN(estimates[e]!));
  const means = sharedResampledMeans(terms, settings.samples, new Random(settings.seed));
  const alpha = 1 - settings.confidence;
  const out: Partial<Record<EstimatorName, BootstrapInterval>> = {};
  names.forEach((name, e) => {
    const estimate = estimates[e]!;
    if (!live[e]) {
      out[name] = { estimate, lower: NaN, upper: NaN, bootstrapMean: NaN };
      return;
    }
    const sorted = means[e]!;
    const bootstrapMean = mean(sorted);
    sorted.sort();
    out[name] = { estimate, lower: percentile(sorted, alpha / 2), upper: percentile(sorted, 1 - alpha / 2), bootstrapMean };
  });
  return out;
}

/** Options of `bootstrapDifferences`: one estimator with its options, and the bootstrap's settings. */
export type BootstrapDifferenceOptions = BootstrapSettings & AnyEstimatorOptions & { readonly estimator: EstimatorName };

/** The difference of one estimator between two target policies on the same log, with its paired interval. */
export interface BootstrapDifference {
  /** Indices of the two inputs: the difference is V̂(inputs[a]) − V̂(inputs[b]). */
  readonly a: number;
  readonly b: number;
  readonly estimate: number;
  readonly lower: number;
  readonly upper: number;
}

/**
 * Paired bootstrap intervals of the differences between target policies evaluated on the SAME
 * log (every input with the same rewards, actions and propensities; its own target distribution
 * and, if it likes, its own reward estimates): each resample draws the row indices once and takes
 * every policy's estimate on them, so the interval of V̂_a − V̂_b keeps the two estimates'
 * correlation (they share the rows) instead of comparing two separate intervals. Every pair a < b,
 * at `confidence` each: pass 1 − (1 − c)/pairs for a Bonferroni-corrected family.
 *
 * @example
 * const [d] = bootstrapDifferences([inputA, inputB], { estimator: 'dr', samples: 1000, confidence: 0.95, seed: 1 });
 * if (d.lower > 0) console.log('A beats B');
 */
export function bootstrapDifferences(inputs: readonly EstimatorInput[], options: BootstrapDifferenceOptions): BootstrapDifference[] {
  const op = 'bootstrapDifferences';
  if (!Array.isArray(inputs) || inputs.length < 2) throw new BanditError(`${op}: needs at least two inputs (target policies on one log)`);
  if (options === null || typeof options !== 'object' || !(ESTIMATOR_NAMES as readonly string[]).includes(options.estimator)) {
    throw new BanditError(`${op}: option estimator must be one of ${ESTIMATOR_NAMES.join(', ')}`);
  }
  const settings = checkSettings(op, options);
  const checked = inputs.map((input) => checkEstimatorInput(op, input, needsRewardModel(options.estimator)));
  const n = checked[0]!.n;
  inputs.forEach((input, t) => {
    if (checked[t]!.n !== n) throw new BanditError(`${op}: inputs[${t}] has ${checked[t]!.n} rows, inputs[0] ${n}: the policies must be evaluated on one log`);
    for (let i = 0; i < n; i++) {
      if (input.actions[i] !== inputs[0]!.actions[i] || input.rewards[i] !== inputs[0]!.rewards[i]) {
        throw new BanditError(`${op}: inputs[${t}] differs from inputs[0] at row ${i} (actions or rewards): the policies must be evaluated on one log`);
      }
    }
  });
  const terms = checked.map((c) => roundRewards(options.estimator, c, options, op));
  const m = terms.length;
  const means = sharedResampledMeans(terms, settings.samples, new Random(settings.seed));
  const alpha = 1 - settings.confidence;
  const out: BootstrapDifference[] = [];
  for (let a = 0; a < m; a++) {
    for (let b = a + 1; b < m; b++) {
      const d = Float64Array.from(means[a]!, (v, s) => v - means[b]![s]!).sort();
      out.push({ a, b, estimate: mean(terms[a]!) - mean(terms[b]!), lower: percentile(d, alpha / 2), upper: percentile(d, 1 - alpha / 2) });
    }
  }
  return out;
}
