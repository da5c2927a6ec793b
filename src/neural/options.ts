import { checkContextScale, LAMBDA_WORDS, lambdaInRange } from '../core/limits.js';
import { BanditError } from '../core/errors.js';
import { checkFiniteValues, checkModelSize, isNumberArray, numberOption, positiveInt } from '../core/check.js';
import { mlpLayout, type MlpLayout } from '../ops/mlp.js';
import { resolveDelayedRewards, type DelayedRewardOptions, type ResolvedDelayedRewards } from '../models/pending.js';
import type { Exploration } from '../models/exploration.js';
import type { Backend } from '../core/backend.js';

/** Options NeuralUCB and NeuralTS both take. Defaults and where they come from are listed on each. */
export interface NeuralOptions extends DelayedRewardOptions {
  /** Width of each arm's feature vector. */
  readonly dim: number;
  /**
   * Hidden layer widths of the shared ReLU network, each even (the symmetric initialisation pairs
   * units). Default [100]: the one-hidden-layer, width-100 network of Zhou et al.'s experiments.
   */
  readonly hidden?: readonly number[];
  /** Regularisation λ: Z starts as λI and the loss holds mλ‖θ − θ₀‖²/2. Default 1e-3 (the paper's grid: 1, 1e-1, 1e-2, 1e-3). */
  readonly lambda?: number;
  /**
   * Exploration scale ν: NeuralUCB's bonus ν·sqrt(gᵀZ⁻¹g/m), NeuralTS's posterior sd
   * ν·sqrt(gᵀZ⁻¹g/m). Default 1e-2 (both papers' grids: 1e-1 … 1e-5).
   */
  readonly nu?: number;
  /** Step size. Default 1e-3 for 'adam', 1e-2 for 'sgd' (the paper's η). */
  readonly lr?: number;
  /**
   * Adam, or plain gradient descent on minibatches ('sgd', the paper's). Default 'adam': on the
   * test suite's cos(3·xᵀθ*) bandit, 300 rounds, SGD at the paper's η = 1e-2 had 3.6× Adam's regret
   * (94.9 vs 26.3; LinUCB 155.7, random 187.1).
   */
  readonly optimizer?: 'sgd' | 'adam';
  /** Train after every this many update rows (the paper trains every round: 1). 0 never trains by itself (call `train`). Default 1. */
  readonly trainEvery?: number;
  /** Optimiser steps a training run. Default 10. */
  readonly trainSteps?: number;
  /** Rows a step: the whole history while it holds at most this many (exact gradient descent), else a uniform sample. Default 64. */
  readonly batchSize?: number;
  /**
   * 'diagonal' keeps diag(Z) (p values) and computes the bonus matrix-free, K·p work a select, as
   * the authors' released code does; 'full' keeps Z and Z⁻¹ (p×p each, Sherman–Morrison,
   * drift-checked), K·p² work a select and p³ a drift check; 'auto' takes 'full' while both fit
   * `fullMemoryBytes` and one storage binding, else 'diagonal'. Default 'diagonal'.
   */
  readonly confidence?: 'diagonal' | 'full' | 'auto';
  /** Most bytes 'full' may use for Z and Z⁻¹ together (2·p²·4). Default 64 MiB. */
  readonly fullMemoryBytes?: number;
  /**
   * Most history rows kept (features and rewards, on the backend); past it the oldest are
   * overwritten. Default 65536, or fewer when dim-wide rows would not fit one storage binding.
   */
  readonly historyLimit?: number;
  /** 'full': measure ‖Z·Z⁻¹ − I‖∞ after this many update rows and repair Z⁻¹ past `driftBound`. 0 never. Default 256. */
  readonly driftCheckEvery?: number;
  /** 'full': the drift bound. Default 1e-3. */
  readonly driftBound?: number;
  /**
   * Seed of the initial weights, the minibatch sampling and (its low 32 bits) the decision
   * stream. Default 0.
   */
  readonly seed?: number;
}

/** Options of `NeuralUCB.create`. */
export interface NeuralUCBOptions extends NeuralOptions {
  /**
   * Randomised exploration instead of the UCB argmax (ε-greedy, softmax or SquareCB), over the
   * network's mean estimates f(x_a; θ) (ν is then not used). Saved with the model. Default: none.
   */
  readonly exploration?: Exploration;
}

/** Options of `NeuralTS.create`. */
export interface NeuralTSOptions extends NeuralOptions {
  /**
   * M, the extra posterior draws a row each `decide` propensity is estimated from (1 … 2²⁴).
   * Default 1024. The estimate is Rao–Blackwellised and positive even for an arm whose
   * probability is far below 1/M (see LinTSOptions.propensityDraws).
   */
  readonly propensityDraws?: number;
}

/** The shared options with every default filled in. */
export type ResolvedNeuralOptions = Required<Omit<NeuralOptions, 'hidden' | keyof DelayedRewardOptions>> & {
  readonly hidden: readonly number[];
  readonly delayed: ResolvedDelayedRewards;
  /** What 'auto' resolved to. */
  readonly confidence: 'diagonal' | 'full';
};

const DEFAULT_FULL_BYTES = 64 * 2 ** 20;

/**
 * Checks the shared options of model `M` ('NeuralUCB', 'NeuralTS'), fills in the defaults and
 * resolves 'auto'; also returns the network's layout.
 *
 * @example
 * const { options, layout } = resolveNeuralOptions('NeuralUCB', backend, { dim: 16, confidence: 'auto' });
 */
export function resolveNeuralOptions(M: string, backend: Backend, o: NeuralOptions): { options: ResolvedNeuralOptions; layout: MlpLayout } {
  if (!o || typeof o !== 'object') throw new BanditError(`${M}.create: options are required ({ dim, hidden, … })`);
  const dim = positiveInt(M, 'dim', o.dim);
  const hidden = o.hidden === undefined ? [100] : o.hidden;
  if (!Array.isArray(hidden) || hidden.length === 0) {
    throw new BanditError(`${M}: option hidden must be a non-empty array of even widths (e.g. [100]), got ${String(hidden)}`);
  }
  hidden.forEach((h: unknown, l) => {
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 2 || h % 2 !== 0) {
      throw new BanditError(`${M}: hidden[${l}] = ${String(h)}; widths must be even integers ≥ 2 (the symmetric initialisation pairs units)`);
    }
  });
  const layout = mlpLayout(dim, hidden);
  // θ, θ₀, the gradient, Adam's moments, diag(Z) and scratch: a handful of p-vectors at least.
  checkModelSize(`${M}.create`, `a network of p = ${layout.paramCount} parameters`, 8 * layout.paramCount, backend);
  const lambda = numberOption(M, 'lambda', o.lambda, 1e-3, lambdaInRange, LAMBDA_WORDS);
  const nu = numberOption(M, 'nu', o.nu, 1e-2, (v) => v >= 0, '≥ 0');
  const optimizer = o.optimizer === undefined ? 'adam' : o.optimizer;
  if (optimizer !== 'sgd' && optimizer !== 'adam') throw new BanditError(`${M}: option optimizer must be 'sgd' or 'adam', got ${String(optimizer)}`);
  const lr = numberOption(M, 'lr', o.lr, optimizer === 'sgd' ? 1e-2 : 1e-3, (v) => v > 0, '> 0');
  const int0 = (name: keyof NeuralOptions, fallback: number) =>
    numberOption(M, name, o[name], fallback, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  const trainEvery = int0('trainEvery', 1);
  const trainSteps = o.trainSteps === undefined ? 10 : positiveInt(M, 'trainSteps', o.trainSteps);
  const batchSize = o.batchSize === undefined ? 64 : positiveInt(M, 'batchSize', o.batchSize);
  const mostRows = Math.floor(backend.maxBindingBytes / (4 * dim));
  const historyLimit = o.historyLimit === undefined ? Math.min(65536, mostRows) : positiveInt(M, 'historyLimit', o.historyLimit);
  const driftCheckEvery = int0('driftCheckEvery', 256);
  const driftBound = numberOption(M, 'driftBound', o.driftBound, 1e-3, (v) => v > 0, '> 0');
  const fullMemoryBytes = numberOption(M, 'fullMemoryBytes', o.fullMemoryBytes, DEFAULT_FULL_BYTES, (v) => v > 0, '> 0');
  const seed = numberOption(M, 'seed', o.seed, 0, (v) => Number.isInteger(v), 'an integer');
  const wanted = o.confidence === undefined ? 'diagonal' : o.confidence;
  if (wanted !== 'diagonal' && wanted !== 'full' && wanted !== 'auto') {
    throw new BanditError(`${M}: option confidence must be 'diagonal', 'full' or 'auto', got ${String(wanted)}`);
  }
  const p = layout.paramCount;
  const fullBytes = 2 * p * p * 4;
  const fits = fullBytes <= fullMemoryBytes && p * p * 4 <= backend.maxBindingBytes;
  if (wanted === 'full' && !fits) {
    throw new BanditError(
      `${M}: confidence 'full' keeps Z and Z⁻¹, 2·p² floats = ${(fullBytes / 2 ** 20).toFixed(1)} MiB for p = ${p} parameters, ` +
        `over fullMemoryBytes (${(fullMemoryBytes / 2 ** 20).toFixed(1)} MiB) or one storage binding ` +
        `(${(backend.maxBindingBytes / 2 ** 20).toFixed(0)} MiB); use confidence: 'diagonal' (p values, matrix-free bonus) or a smaller network`,
    );
  }
  if (historyLimit > mostRows) {
    throw new BanditError(`${M}: historyLimit ${historyLimit} rows × dim ${dim} floats is over one storage binding; at most ${mostRows} rows`);
  }
  const confidence = wanted === 'auto' ? (fits ? 'full' : 'diagonal') : wanted;
  return {
    options: {
      dim, hidden: Object.freeze([...hidden]), lambda, nu, lr, optimizer, trainEvery, trainSteps, batchSize,
      confidence, fullMemoryBytes, historyLimit, driftCheckEvery, driftBound, seed, delayed: resolveDelayedRewards(M, o),
    },
    layout,
  };
}

/**
 * The shared options as saved: every resolved value, with fullMemoryBytes raised to what a
 * 'full' model uses, so the save loads as 'full' whatever the default.
 *
 * @example
 * const saved = savedNeuralOptions(model.options, model.layout.paramCount);
 */
export function savedNeuralOptions(o: ResolvedNeuralOptions, paramCount: number): Record<string, unknown> {
  return {
    dim: o.dim, hidden: [...o.hidden], lambda: o.lambda, nu: o.nu, lr: o.lr, optimizer: o.optimizer,
    trainEvery: o.trainEvery, trainSteps: o.trainSteps, batchSize: o.batchSize, confidence: o.confidence,
    fullMemoryBytes: Math.max(o.fullMemoryBytes, o.confidence === 'full' ? 8 * paramCount ** 2 : 0),
    historyLimit: o.historyLimit, driftCheckEvery: o.driftCheckEvery, driftBound: o.driftBound, seed: o.seed,
  };
}

/**
 * Checks the played arms (an Int32Array of indices ≥ 0: the network is shared, so only that) and
 * their features (arms.length × dim finite values) of a neural model's update; returns the
 * features as f32.
 *
 * @example
 * const played = checkPlayedFeatures('NeuralUCB.update', dim, arms, features);
 */
export function checkPlayedFeatures(op: string, dim: number, arms: unknown, features: unknown): Float32Array {
  if (!(arms instanceof Int32Array)) throw new BanditError(`${op}: arms must be an Int32Array`);
  arms.forEach((a, i) => {
    if (a < 0) throw new BanditError(`${op}: arms[${i}] = ${a} is negative`);
  });
  const rows = arms.length;
  if (!isNumberArray(features)) throw new BanditError(`${op}: features must be a Float32Array (or an array of numbers)`);
  if (features.length !== rows * dim) {
    throw new BanditError(`${op}: features has ${features.length} values; ${rows} played arms need ${rows}×${dim} (the played arms' features only)`);
  }
  checkFiniteValues(op, 'features', features, dim);
  checkContextScale(op, 'features', features, dim);
  return Float32Array.from(features);
}
