import { BackendError, BanditError } from '../core/errors.js';
import { CallQueue } from '../models/queue.js';
import { decodeModel, encodeModel, savedCounters, type SavedArray } from '../models/persist.js';
import { Random } from '../core/random.js';
import { rowArgmax } from '../ops/argmax.js';
import { MAX_FACTOR_DIM, spdInverse } from '../ops/cholesky.js';
import { scale } from '../ops/elementwise.js';
import { gemm } from '../ops/gemm.js';
import { inverseDrift } from '../ops/linucb.js';
import { diagonalBonus, mlpForward, mlpLayout, perArmGradients, type MlpLayout } from '../ops/mlp.js';
import { accumulateSquares, confidenceScores } from '../ops/confidence.js';
import { quadForm } from '../ops/quadform.js';
import { shermanMorrisonUpdate, symRank1Update } from '../ops/rank1.js';
import { gatherRows, mlpLossGradient, optimizerStep } from '../ops/mlp-train.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { checkFiniteValues, checkRewards, isNumberArray, numberOption, positiveInt } from '../core/check.js';

/** Options of `NeuralUCB.create`. Defaults and where they come from are listed on each. */
export interface NeuralUCBOptions {
  /** Width of each arm's feature vector. */
  readonly dim: number;
  /**
   * Hidden layer widths of the shared ReLU network, each even (the symmetric initialisation pairs
   * units). Default [100]: the one-hidden-layer, width-100 network of Zhou et al.'s experiments.
   */
  readonly hidden?: readonly number[];
  /** Regularisation λ: Z starts as λI and the loss holds mλ‖θ − θ₀‖²/2. Default 1e-3 (the paper's grid: 1, 1e-1, 1e-2, 1e-3). */
  readonly lambda?: number;
  /** Exploration scale ν of the bonus ν·sqrt(gᵀZ⁻¹g/m). Default 1e-2 (the paper's grid: 1e-1 … 1e-5). */
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
  /** Seed of the initial weights and the minibatch sampling. Default 0. */
  readonly seed?: number;
}

type Resolved = Required<Omit<NeuralUCBOptions, 'hidden'>> & {
  readonly hidden: readonly number[];
  /** What 'auto' resolved to. */
  readonly confidence: 'diagonal' | 'full';
};

/** Counters and health of a NeuralUCB model. */
export interface NeuralUCBDiagnostics {
  /** Update rows applied. */
  readonly updates: number;
  /** Rows held in the history now (at most historyLimit). */
  readonly historyRows: number;
  readonly trainRuns: number;
  readonly optimizerSteps: number;
  /** Mean of (f − r)²/2 over the last minibatch, before its step; null before any training. */
  readonly lastLoss: number | null;
  /** Number of parameters p. */
  readonly paramCount: number;
  readonly confidence: 'diagonal' | 'full';
  /** 'full': ‖Z·Z⁻¹ − I‖∞ at the last check (after any repair), or null. */
  readonly lastDrift: number | null;
  readonly driftChecks: number;
  /** 'full': times Z⁻¹ was rebuilt from Z. */
  readonly repairs: number;
}

const MODEL = 'NeuralUCB';
const MODEL_VERSION = 1;
const DEFAULT_FULL_BYTES = 64 * 2 ** 20;
/** Newton–Schulz steps at most a repair of a Z⁻¹ too large for the batched Cholesky. */
const MAX_NEWTON_STEPS = 4;

function resolveOptions(backend: Backend, o: NeuralUCBOptions): { options: Resolved; layout: MlpLayout } {
  if (!o || typeof o !== 'object') throw new BanditError('NeuralUCB.create: options are required ({ dim, hidden, … })');
  const M = 'NeuralUCB';
  const dim = positiveInt(M, 'dim', o.dim);
  const hidden = o.hidden ?? [100];
  if (!Array.isArray(hidden) || hidden.length === 0) {
    throw new BanditError(`${M}: option hidden must be a non-empty array of even widths (e.g. [100]), got ${String(hidden)}`);
  }
  hidden.forEach((h: unknown, l) => {
    if (typeof h !== 'number' || !Number.isInteger(h) || h < 2 || h % 2 !== 0) {
      throw new BanditError(`${M}: hidden[${l}] = ${String(h)}; widths must be even integers ≥ 2 (the symmetric initialisation pairs units)`);
    }
  });
  const layout = mlpLayout(dim, hidden);
  const lambda = numberOption(M, 'lambda', o.lambda, 1e-3, (v) => v > 0, '> 0');
  const nu = numberOption(M, 'nu', o.nu, 1e-2, (v) => v >= 0, '≥ 0');
  const optimizer = o.optimizer ?? 'adam';
  if (optimizer !== 'sgd' && optimizer !== 'adam') throw new BanditError(`${M}: option optimizer must be 'sgd' or 'adam', got ${String(optimizer)}`);
  const lr = numberOption(M, 'lr', o.lr, optimizer === 'sgd' ? 1e-2 : 1e-3, (v) => v > 0, '> 0');
  const int0 = (name: keyof NeuralUCBOptions, fallback: number) =>
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
  const wanted = o.confidence ?? 'diagonal';
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
      confidence, fullMemoryBytes, historyLimit, driftCheckEvery, driftBound, seed,
    },
    layout,
  };
}

/**
 * θ₀ of Zhou et al. (2020): each hidden layer's units come in two identical halves (W_1 = [W; W],
 * deeper W_l = [[W, 0], [0, W]] with entries N(0, 4/m_l)), the output W_L = [w, −w] with entries
 * N(0, 2/m), biases 0. So f(x; θ₀) = 0 for every x, while the gradients are not.
 */
export function initialParameters(layout: MlpLayout, random: Random): Float32Array {
  const theta = new Float32Array(layout.paramCount);
  const L = layout.layers.length;
  layout.layers.forEach((layer, l) => {
    const units = layer.out, inputs = layer.in;
    if (l === L - 1) {
      const half = inputs / 2, sd = Math.sqrt(2 / inputs);
      for (let j = 0; j < half; j++) {
        const w = sd * random.normal();
        theta[layer.weightOffset + j] = w;
        theta[layer.weightOffset + half + j] = -w;
      }
      return;
    }
    const half = units / 2, sd = Math.sqrt(4 / units);
    // Layer 1 sees all of x in both halves; deeper layers are block-diagonal over the halves.
    const blockIn = l === 0 ? inputs : inputs / 2;
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < blockIn; j++) {
        const w = sd * random.normal();
        const lo = layer.weightOffset + i * inputs + j;
        const hi = layer.weightOffset + (half + i) * inputs + (l === 0 ? j : blockIn + j);
        theta[lo] = w;
        theta[hi] = w;
      }
    }
  });
  return theta;
}

interface SelectScratch {
  readonly rows: number; readonly arms: number;
  readonly x: Tensor; readonly scores: Tensor; readonly chosen: Tensor;
}

/**
 * NeuralUCB (Zhou, Li & Gu 2020, Algorithm 1): one shared ReLU network f(x; θ) scores every arm's
 * features; the bonus ν·sqrt(g_aᵀZ⁻¹g_a / m) uses the gradient g_a = ∇θ f(x_a; θ) of EVERY
 * candidate arm, computed for all arms in one batched pass (the Jacobian, or matrix-free for the
 * diagonal Z) instead of one backward pass an arm. After each update Z ← Z + g gᵀ/m for the
 * played rows, and the network is trained on the history (kept on the backend) by minibatch
 * gradient descent on Σ (f(x_i; θ) − r_i)²/2 + mλ‖θ − θ₀‖²/2. m is the width of the last hidden
 * layer (all widths are equal in the paper).
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * const model = await NeuralUCB.create(backend, { dim: 16, hidden: [100], seed: 1 });
 * const [arm] = await model.select(armFeatures, { arms: 10 });   // armFeatures: 1×10×16
 * await model.update(new Int32Array([arm!]), armFeatures.subarray(arm! * 16, (arm! + 1) * 16), new Float32Array([1]));
 * const again = await NeuralUCB.load(backend, await model.save());
 * model.dispose();
 */
export class NeuralUCB {
  readonly backend: Backend;
  readonly options: Readonly<Resolved>;
  readonly layout: MlpLayout;
  private readonly theta: Tensor;
  private readonly theta0: Tensor;
  /** Adam's moments (adam only). */
  private readonly moments: { m: Tensor; v: Tensor } | null;
  /** diag(Z) ('diagonal') or Z and Z⁻¹, 1×p×p ('full'). */
  private readonly zDiag: Tensor | null;
  private readonly zFull: { z: Tensor; inv: Tensor } | null;
  private random: Random;
  private history: { x: Tensor; r: Tensor; capacity: number };
  /** Rows held, and the slot the next row goes to (a ring once historyLimit is reached). */
  private historyRows = 0;
  private historyNext = 0;
  private updates = 0;
  private sinceTrain = 0;
  private sinceDriftCheck = 0;
  private trainRuns = 0;
  private optimizerSteps = 0;
  private lastLoss: number | null = null;
  private lastDrift: number | null = null;
  private driftChecks = 0;
  private repairs = 0;
  private scratch: SelectScratch | null = null;
  private isDisposed = false;
  private readonly calls = new CallQueue();

  private constructor(backend: Backend, options: Resolved, layout: MlpLayout, t: {
    theta: Tensor; theta0: Tensor; moments: { m: Tensor; v: Tensor } | null; zDiag: Tensor | null;
    zFull: { z: Tensor; inv: Tensor } | null; history: { x: Tensor; r: Tensor; capacity: number };
  }, random: Random) {
    this.backend = backend;
    this.options = Object.freeze(options);
    this.layout = layout;
    this.theta = t.theta;
    this.theta0 = t.theta0;
    this.moments = t.moments;
    this.zDiag = t.zDiag;
    this.zFull = t.zFull;
    this.history = t.history;
    this.random = random;
  }

  /**
   * A model at θ₀ (f ≡ 0), Z = λI and an empty history.
   *
   * @example
   * const model = await NeuralUCB.create(backend, { dim: 8, hidden: [20], confidence: 'full' });
   */
  static async create(backend: Backend, options: NeuralUCBOptions): Promise<NeuralUCB> {
    if (!backend || typeof backend.zeros !== 'function') throw new BanditError('NeuralUCB.create: a backend from createBackend() is required');
    if (backend.disposed) throw new BanditError('NeuralUCB.create: the backend has been disposed');
    const { options: o, layout } = resolveOptions(backend, options);
    const p = layout.paramCount;
    const random = new Random(o.seed);
    const init = initialParameters(layout, random);
    const made: Tensor[] = [];
    const keep = <T extends Tensor>(t: T): T => {
      made.push(t);
      return t;
    };
    try {
      const theta = keep(backend.tensor(init, [p], { label: 'NeuralUCB θ' }));
      const theta0 = keep(backend.tensor(init, [p], { label: 'NeuralUCB θ₀' }));
      const moments = o.optimizer === 'adam'
        ? { m: keep(backend.zeros([p], { label: 'NeuralUCB Adam m' })), v: keep(backend.zeros([p], { label: 'NeuralUCB Adam v' })) }
        : null;
      let zDiag: Tensor | null = null, zFull: { z: Tensor; inv: Tensor } | null = null;
      if (o.confidence === 'diagonal') {
        zDiag = keep(backend.tensor(new Float32Array(p).fill(o.lambda), [p], { label: 'NeuralUCB diag Z' }));
      } else {
        zFull = {
          z: keep(backend.tensor(scaledIdentity(p, o.lambda), [1, p, p], { label: 'NeuralUCB Z' })),
          inv: keep(backend.tensor(scaledIdentity(p, 1 / o.lambda), [1, p, p], { label: 'NeuralUCB Z⁻¹' })),
        };
      }
      const capacity = Math.min(o.historyLimit, 1024);
      const history = {
        x: keep(backend.zeros([capacity, o.dim], { label: 'NeuralUCB history x' })),
        r: keep(backend.zeros([capacity], { label: 'NeuralUCB history r' })),
        capacity,
      };
      await backend.sync();
      return new NeuralUCB(backend, o, layout, { theta, theta0, moments, zDiag, zFull, history }, random);
    } catch (e) {
      for (const t of made) t.dispose();
      if (e instanceof BackendError && /OutOfMemory/i.test(e.message)) {
        throw new BackendError(`NeuralUCB.create: the device could not allocate the model (p = ${p}, confidence '${o.confidence}'): ${e.message}`);
      }
      throw e;
    }
  }

  /** m of the bonus: the width of the last hidden layer. */
  get width(): number {
    return this.options.hidden[this.options.hidden.length - 1]!;
  }

  private run<T>(what: string, body: () => Promise<T>): Promise<T> {
    return this.calls.run(`NeuralUCB.${what}`, this.isDisposed, body);
  }

  /** Checks B×K×dim features (K from `arms`, else B = 1) and returns [B, K]. */
  private featureRows(op: string, features: unknown, arms: number | undefined): [number, number] {
    const { dim } = this.options;
    if (!isNumberArray(features)) throw new BanditError(`${op}: armFeatures must be a Float32Array (or an array of numbers)`);
    if (features.length === 0 || features.length % dim !== 0) {
      throw new BanditError(`${op}: armFeatures has ${features.length} values, not a whole number of ${dim}-wide feature vectors`);
    }
    let K: number, B: number;
    if (arms === undefined) {
      K = features.length / dim;
      B = 1;
    } else {
      if (typeof arms !== 'number' || !Number.isInteger(arms) || arms < 1) throw new BanditError(`${op}: arms must be a positive integer, got ${String(arms)}`);
      if (features.length % (arms * dim) !== 0) {
        throw new BanditError(`${op}: armFeatures has ${features.length} values, not a whole number of rows of ${arms} arms × ${dim}`);
      }
      K = arms;
      B = features.length / (arms * dim);
    }
    this.checkBindings(op, B * K);
    checkFiniteValues(op, 'armFeatures', features, dim);
    return [B, K];
  }

  /** Refuses a call whose per-row tensors would not fit one storage binding, with the most rows that do. */
  private checkBindings(op: string, rows: number): void {
    const widest = Math.max(this.options.dim, ...this.options.hidden, this.options.confidence === 'full' ? this.layout.paramCount : 0);
    const limit = this.backend.maxBindingBytes;
    if (rows * widest * 4 > limit) {
      throw new BanditError(`${op}: ${rows} arm rows need ${rows * widest * 4} bytes in one tensor, over the ${limit} one binding holds; pass at most ${Math.floor(limit / (widest * 4))} rows (B·K) a call`);
    }
  }

  private scoreTensor(features: ArrayLike<number>, B: number, K: number): SelectScratch {
    const { dim, hidden, nu } = this.options;
    if (this.scratch?.rows !== B || this.scratch.arms !== K) {
      this.freeScratch();
      this.scratch = {
        rows: B, arms: K,
        x: this.backend.zeros([B * K, dim], { label: 'NeuralUCB arm features' }),
        scores: this.backend.zeros([B, K], { label: 'NeuralUCB scores' }),
        chosen: this.backend.zeros([B], { dtype: 'i32', label: 'NeuralUCB chosen' }),
      };
    }
    const s = this.scratch;
    this.backend.write(s.x, features);
    const shape = { dim, hidden };
    const { output, activations } = mlpForward(this.backend, this.theta, s.x, { ...shape, saveActivations: true });
    let width2: Tensor | null = null;
    try {
      if (this.zDiag) {
        width2 = diagonalBonus(this.backend, this.theta, s.x, this.zDiag, { ...shape, activations });
      } else {
        const jac = perArmGradients(this.backend, this.theta, s.x, { ...shape, activations });
        try {
          width2 = quadForm(this.backend, jac, this.zFull!.inv);
        } finally {
          jac.dispose();
        }
      }
      confidenceScores(this.backend, output, width2, nu / Math.sqrt(this.width), s.scores);
    } finally {
      output.dispose();
      width2?.dispose();
      for (const t of activations) t.dispose();
    }
    return s;
  }

  private freeScratch(): void {
    if (!this.scratch) return;
    for (const t of [this.scratch.x, this.scratch.scores, this.scratch.chosen]) t.dispose();
    this.scratch = null;
  }

  /**
   * The arm with the highest score f(x_a; θ) + ν·sqrt(g_aᵀZ⁻¹g_a / m) in each row, ties to the lowest.
   * `armFeatures` is B×K×dim with `{ arms: K }`, or without it one row of K = length/dim arms.
   * Only B integers are read back.
   *
   * @example
   * const chosen = await model.select(features, { arms: 10 });   // features: B×10×dim
   */
  select(armFeatures: Float32Array | ArrayLike<number>, options: { readonly arms?: number } = {}): Promise<Int32Array> {
    return this.run('select', async () => {
      const [B, K] = this.featureRows('NeuralUCB.select', armFeatures, options?.arms);
      const s = this.scoreTensor(armFeatures, B, K);
      rowArgmax(this.backend, s.scores, s.chosen);
      return Int32Array.from(await this.backend.read(s.chosen));
    });
  }

  /**
   * The scores of every arm, B×K row-major (same input as select).
   *
   * @example
   * const s = await model.scores(features, { arms: 10 });   // s[b * 10 + a]
   */
  scores(armFeatures: Float32Array | ArrayLike<number>, options: { readonly arms?: number } = {}): Promise<Float32Array> {
    return this.run('scores', async () => {
      const [B, K] = this.featureRows('NeuralUCB.scores', armFeatures, options?.arms);
      const s = this.scoreTensor(armFeatures, B, K);
      return Float32Array.from(await this.backend.read(s.scores));
    });
  }

  /**
   * Learns from a batch of plays: row i played `arms[i]` (an index ≥ 0 into what select saw; the
   * network is shared, so it is only checked) whose features are row i of `features` (B×dim, the
   * PLAYED arms' features) and got `rewards[i]`. In order: Z ← Z + g gᵀ/m for each row's gradient at
   * the current θ, the rows join the history, then the network trains if trainEvery rows have
   * passed. Bad input throws BanditError before anything changes.
   *
   * @example
   * await model.update(chosen, playedFeatures, rewards);
   */
  update(arms: Int32Array, features: Float32Array | ArrayLike<number>, rewards: Float32Array | ArrayLike<number>): Promise<void> {
    return this.run('update', async () => {
      const op = 'NeuralUCB.update';
      if (!(arms instanceof Int32Array)) throw new BanditError(`${op}: arms must be an Int32Array`);
      arms.forEach((a, i) => {
        if (a < 0) throw new BanditError(`${op}: arms[${i}] = ${a} is negative`);
      });
      const rows = arms.length, { dim } = this.options;
      if (!isNumberArray(features)) throw new BanditError(`${op}: features must be a Float32Array (or an array of numbers)`);
      if (features.length !== rows * dim) {
        throw new BanditError(`${op}: features has ${features.length} values; ${rows} played arms need ${rows}×${dim} (the played arms' features only)`);
      }
      checkFiniteValues(op, 'features', features, dim);
      checkRewards(op, rewards, rows);
      if (rows === 0) return;
      // Chunks keep each Jacobian within one storage binding.
      const p = this.layout.paramCount;
      const chunk = Math.max(1, Math.floor(this.backend.maxBindingBytes / (4 * Math.max(p, dim))));
      for (let start = 0; start < rows; start += chunk) {
        const end = Math.min(rows, start + chunk);
        const x = this.backend.tensor(Float32Array.from(sliceOf(features, start * dim, end * dim)), [end - start, dim], { label: 'NeuralUCB played x' });
        try {
          this.addToZ(x);
          this.appendHistory(x, Float32Array.from(sliceOf(rewards, start, end)));
        } finally {
          x.dispose();
        }
      }
      this.updates += rows;
      this.sinceTrain += rows;
      this.sinceDriftCheck += rows;
      if (this.zFull && this.options.driftCheckEvery > 0 && this.sinceDriftCheck >= this.options.driftCheckEvery) await this.checkDrift();
      if (this.options.trainEvery > 0 && this.sinceTrain >= this.options.trainEvery) await this.trainNow(this.options.trainSteps);
      else await this.backend.sync();
    });
  }

  /** Z ← Z + g gᵀ/m for each row of x, in order, with g at the current θ. */
  private addToZ(x: Tensor): void {
    const shape = { dim: this.options.dim, hidden: this.options.hidden };
    const jac = perArmGradients(this.backend, this.theta, x, shape);
    try {
      if (this.zDiag) {
        accumulateSquares(this.backend, this.zDiag, jac, 1 / this.width);
      } else {
        scale(this.backend, 1 / Math.sqrt(this.width), jac);
        const one = new Int32Array(x.shape[0]!);
        symRank1Update(this.backend, this.zFull!.z, jac, one);
        shermanMorrisonUpdate(this.backend, this.zFull!.inv, jac, one);
      }
    } finally {
      jac.dispose();
    }
  }

  /** Appends the rows of x and r to the history ring, growing its tensors up to historyLimit. */
  private appendHistory(x: Tensor, r: Float32Array): void {
    const { dim, historyLimit } = this.options;
    const rows = x.shape[0]!;
    if (this.historyRows + rows > this.history.capacity && this.history.capacity < historyLimit) {
      this.growHistory(Math.min(historyLimit, Math.max(2 * this.history.capacity, this.historyRows + rows)));
    }
    const rt = this.backend.tensor(r, [rows], { label: 'NeuralUCB played r' });
    try {
      // At most two contiguous runs: up to the end of the ring, then from its start.
      for (let done = 0; done < rows;) {
        const slot = this.historyNext, run = Math.min(rows - done, this.history.capacity - slot);
        this.backend.copy(x, this.history.x, { srcOffset: done * dim, dstOffset: slot * dim, count: run * dim });
        this.backend.copy(rt, this.history.r, { srcOffset: done, dstOffset: slot, count: run });
        this.historyNext = (slot + run) % this.history.capacity;
        this.historyRows = Math.min(this.historyRows + run, this.history.capacity);
        done += run;
      }
    } finally {
      rt.dispose();
    }
  }

  private growHistory(capacity: number): void {
    const { dim } = this.options;
    const x = this.backend.zeros([capacity, dim], { label: 'NeuralUCB history x' });
    const r = this.backend.zeros([capacity], { label: 'NeuralUCB history r' });
    // Only grown before the ring wraps, so the rows are 0 … historyRows−1 in order.
    if (this.historyRows > 0) {
      this.backend.copy(this.history.x, x, { srcOffset: 0, dstOffset: 0, count: this.historyRows * dim });
      this.backend.copy(this.history.r, r, { srcOffset: 0, dstOffset: 0, count: this.historyRows });
    }
    this.history.x.dispose();
    this.history.r.dispose();
    this.history = { x, r, capacity };
    this.historyNext = this.historyRows;
  }

  /**
   * Runs `steps` optimiser steps now (default trainSteps) on the history and returns the last
   * minibatch loss (mean (f − r)²/2 before its step). Resolves to null with an empty history.
   *
   * @example
   * const loss = await model.train(100);
   */
  train(steps?: number): Promise<number | null> {
    return this.run('train', async () => {
      const n = steps === undefined ? this.options.trainSteps : positiveInt('NeuralUCB.train', 'steps', steps);
      await this.trainNow(n);
      return this.historyRows === 0 ? null : this.lastLoss;
    });
  }

  private async trainNow(steps: number): Promise<void> {
    this.sinceTrain = 0;
    const n = this.historyRows;
    if (n === 0) return;
    const { dim, hidden, batchSize, lambda, lr, optimizer } = this.options;
    const b = Math.min(n, batchSize);
    const p = this.layout.paramCount;
    const xb = this.backend.zeros([b, dim], { label: 'NeuralUCB batch x' });
    const rb = this.backend.zeros([b], { label: 'NeuralUCB batch r' });
    const grad = this.backend.zeros([p], { label: 'NeuralUCB gradient' });
    const loss = this.backend.zeros([1], { label: 'NeuralUCB loss' });
    const all = n <= batchSize ? Int32Array.from({ length: n }, (_, i) => i) : null;
    try {
      for (let s = 0; s < steps; s++) {
        const idx = all ?? Int32Array.from({ length: b }, () => this.random.int(n));
        const it = this.backend.tensor(idx, [b], { dtype: 'i32', label: 'NeuralUCB batch rows' });
        try {
          gatherRows(this.backend, this.history.x, it, { out: xb });
          gatherRows(this.backend, this.history.r, it, { out: rb });
          mlpLossGradient(this.backend, this.theta, xb, rb, { dim, hidden, loss: 'squared', scale: 1 / b, out: grad, lossOut: loss });
          this.optimizerSteps++;
          optimizerStep(this.backend, {
            params: this.theta, grad, kind: optimizer, lr, step: this.optimizerSteps,
            ...(this.moments ? { state: this.moments } : {}),
            // The loss over n rows divided by n: mean squared error + (mλ/n)‖θ − θ₀‖²/2, same minimiser.
            anchor: this.theta0, decay: (this.width * lambda) / n,
          });
        } finally {
          it.dispose();
        }
      }
      this.lastLoss = (await this.backend.read(loss))[0]!;
      this.trainRuns++;
    } finally {
      for (const t of [xb, rb, grad, loss]) t.dispose();
    }
  }

  /** 'full': measures ‖Z·Z⁻¹ − I‖∞ and rebuilds Z⁻¹ from Z past driftBound. */
  private async checkDrift(): Promise<void> {
    const full = this.zFull!;
    this.sinceDriftCheck = 0;
    this.driftChecks++;
    let drift = await this.readDrift();
    if (drift <= this.options.driftBound) {
      this.lastDrift = drift;
      return;
    }
    const p = this.layout.paramCount;
    if (p <= MAX_FACTOR_DIM) {
      const { result, status } = spdInverse(this.backend, full.z);
      try {
        if ((await this.backend.read(status))[0] === 0) this.backend.copy(result, full.inv);
      } finally {
        result.dispose();
        status.dispose();
      }
    } else {
      // Newton–Schulz, X ← 2X − X·Z·X: quadratic convergence from the drifted inverse, GEMMs only.
      for (let k = 0; k < MAX_NEWTON_STEPS && drift > this.options.driftBound; k++) {
        const zx = gemm(this.backend, full.z, full.inv);
        const next = this.backend.zeros([1, p, p], { label: 'NeuralUCB Z⁻¹ next' });
        try {
          this.backend.copy(full.inv, next);
          gemm(this.backend, full.inv, zx, { c: next, alpha: -1, beta: 2 });
          this.backend.copy(next, full.inv);
        } finally {
          zx.dispose();
          next.dispose();
        }
        drift = await this.readDrift();
      }
    }
    this.repairs++;
    this.lastDrift = await this.readDrift();
  }

  private async readDrift(): Promise<number> {
    const t = inverseDrift(this.backend, this.zFull!.z, this.zFull!.inv);
    try {
      const v = (await this.backend.read(t))[0]!;
      return Number.isNaN(v) ? Infinity : v;
    } finally {
      t.dispose();
    }
  }

  /**
   * Counters and numerical health.
   *
   * @example
   * const { updates, lastLoss, confidence } = model.diagnostics();
   */
  diagnostics(): NeuralUCBDiagnostics {
    return {
      updates: this.updates, historyRows: this.historyRows, trainRuns: this.trainRuns, optimizerSteps: this.optimizerSteps,
      lastLoss: this.lastLoss, paramCount: this.layout.paramCount, confidence: this.options.confidence,
      lastDrift: this.lastDrift, driftChecks: this.driftChecks, repairs: this.repairs,
    };
  }

  /**
   * The whole model as versioned bytes: options, counters, θ, θ₀, optimiser state, Z (diagonal or
   * Z and Z⁻¹), the history and the random generator's state, so a loaded model continues exactly.
   *
   * @example
   * const bytes = await model.save();
   */
  save(): Promise<Uint8Array> {
    return this.run('save', async () => {
      const read = (t: Tensor) => this.backend.read(t) as Promise<Float32Array | Float64Array>;
      const { dim } = this.options;
      const hx = await read(this.history.x), hr = await read(this.history.r);
      const arrays: Record<string, SavedArray> = {
        theta: await read(this.theta),
        theta0: await read(this.theta0),
        historyX: hx.slice(0, this.historyRows * dim),
        historyR: hr.slice(0, this.historyRows),
        random: this.random.state(),
      };
      if (this.moments) {
        arrays['adamM'] = await read(this.moments.m);
        arrays['adamV'] = await read(this.moments.v);
      }
      if (this.zDiag) arrays['zDiag'] = await read(this.zDiag);
      if (this.zFull) {
        arrays['z'] = await read(this.zFull.z);
        arrays['zInv'] = await read(this.zFull.inv);
      }
      const o = this.options;
      return encodeModel({
        model: MODEL,
        modelVersion: MODEL_VERSION,
        meta: {
          options: {
            dim: o.dim, hidden: [...o.hidden], lambda: o.lambda, nu: o.nu, lr: o.lr, optimizer: o.optimizer,
            trainEvery: o.trainEvery, trainSteps: o.trainSteps, batchSize: o.batchSize, confidence: o.confidence,
            fullMemoryBytes: Math.max(o.fullMemoryBytes, o.confidence === 'full' ? 8 * this.layout.paramCount ** 2 : 0),
            historyLimit: o.historyLimit, driftCheckEvery: o.driftCheckEvery, driftBound: o.driftBound, seed: o.seed,
          },
          counters: {
            updates: this.updates, historyRows: this.historyRows, historyNext: this.historyNext, sinceTrain: this.sinceTrain,
            sinceDriftCheck: this.sinceDriftCheck, trainRuns: this.trainRuns, optimizerSteps: this.optimizerSteps,
            driftChecks: this.driftChecks, repairs: this.repairs, lastLoss: this.lastLoss, lastDrift: this.lastDrift,
            historyCapacity: this.history.capacity,
          },
        },
        arrays,
      });
    });
  }

  /**
   * Restores a model saved by `save()` on any backend; it continues exactly where it stopped
   * (same selections, same training minibatches). Corrupt or wrong-version bytes throw BanditError.
   *
   * @example
   * const model = await NeuralUCB.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array): Promise<NeuralUCB> {
    const saved = decodeModel(bytes, MODEL, [MODEL_VERSION]);
    const meta = saved.meta as { options?: NeuralUCBOptions; counters?: Record<string, number | null> };
    if (!meta.options || !meta.counters) throw new BanditError('NeuralUCB.load: the header lacks options or counters');
    const model = await NeuralUCB.create(backend, meta.options);
    try {
      const p = model.layout.paramCount, { dim } = model.options;
      const c = meta.counters;
      const counts = savedCounters(MODEL, c, [
        'updates', 'historyRows', 'historyNext', 'sinceTrain', 'sinceDriftCheck', 'trainRuns', 'optimizerSteps',
        'driftChecks', 'repairs', 'historyCapacity',
      ] as const);
      const need = (name: string, length: number): SavedArray => {
        const a = saved.arrays[name];
        if (!a || a.length !== length) throw new BanditError(`NeuralUCB.load: array ${name} should hold ${length} values, has ${a?.length ?? 'none'}`);
        return a;
      };
      const rows = counts.historyRows, capacity = counts.historyCapacity;
      if (rows > capacity || capacity > model.options.historyLimit || counts.historyNext >= Math.max(capacity, 1)) {
        throw new BanditError('NeuralUCB.load: the history counters are inconsistent');
      }
      backend.write(model.theta, need('theta', p));
      backend.write(model.theta0, need('theta0', p));
      if (model.moments) {
        backend.write(model.moments.m, need('adamM', p));
        backend.write(model.moments.v, need('adamV', p));
      }
      if (model.zDiag) backend.write(model.zDiag, need('zDiag', p));
      if (model.zFull) {
        backend.write(model.zFull.z, need('z', p * p));
        backend.write(model.zFull.inv, need('zInv', p * p));
      }
      if (capacity !== model.history.capacity) model.growHistory(capacity);
      const hx = need('historyX', rows * dim), hr = need('historyR', rows);
      const fullX = new Float32Array(capacity * dim), fullR = new Float32Array(capacity);
      fullX.set(hx);
      fullR.set(hr);
      backend.write(model.history.x, fullX);
      backend.write(model.history.r, fullR);
      const state = saved.arrays['random'];
      if (!(state instanceof Uint32Array) || state.length !== 4) throw new BanditError('NeuralUCB.load: the random generator state is missing');
      model.random = Random.fromState(state);
      const { historyCapacity: _, ...restored } = counts;
      Object.assign(model, restored);
      model.lastLoss = typeof c['lastLoss'] === 'number' ? c['lastLoss'] : null;
      model.lastDrift = typeof c['lastDrift'] === 'number' ? c['lastDrift'] : null;
      await backend.sync();
      return model;
    } catch (e) {
      model.dispose();
      throw e;
    }
  }

  /** Frees the model's tensors; every later call rejects with BanditError. */
  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.freeScratch();
    const all = [this.theta, this.theta0, this.history.x, this.history.r];
    if (this.moments) all.push(this.moments.m, this.moments.v);
    if (this.zDiag) all.push(this.zDiag);
    if (this.zFull) all.push(this.zFull.z, this.zFull.inv);
    for (const t of all) t.dispose();
  }

  get disposed(): boolean {
    return this.isDisposed;
  }
}

function scaledIdentity(p: number, value: number): Float32Array {
  const out = new Float32Array(p * p);
  for (let i = 0; i < p; i++) out[i * p + i] = value;
  return out;
}

function sliceOf(values: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  return ArrayBuffer.isView(values) ? (values as Float32Array).subarray(start, end) : Array.prototype.slice.call(values, start, end);
}
