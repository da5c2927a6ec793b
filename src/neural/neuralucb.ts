import { BanditError } from '../core/errors.js';
import { Random } from '../core/random.js';
import { ModelBase, built, requireBackend, restored } from '../models/base.js';
import { SavedModelReader, saveModel } from '../models/saved.js';
import { Trainer, type Minibatches } from '../models/trainer.js';
import { confidenceScores } from '../ops/confidence.js';
import { mlpForward, type MlpLayout } from '../ops/mlp.js';
import { gatherRows } from '../ops/mlp-train.js';
import { makeConfidence, type Confidence } from './confidence.js';
import { HistoryRing } from './history.js';
import { initialParameters } from './init.js';
import { resolveNeuralUCBOptions, savedNeuralUCBOptions, type NeuralUCBOptions, type ResolvedNeuralUCBOptions } from './options.js';
import type { SavedArray } from '../models/persist.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { checkBatchBindings, checkFiniteValues, checkRewards, isNumberArray, positiveInt } from '../core/check.js';

export type { NeuralUCBOptions } from './options.js';
export { initialParameters } from './init.js';

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
export class NeuralUCB extends ModelBase {
  readonly options: Readonly<ResolvedNeuralUCBOptions>;
  readonly layout: MlpLayout;
  private readonly theta: Tensor;
  private readonly theta0: Tensor;
  /** Adam's moments (adam only). */
  private readonly moments: { m: Tensor; v: Tensor } | null;
  private readonly confidence: Confidence;
  private readonly history: HistoryRing;
  private readonly trainer: Trainer;
  private random: Random;
  private updates = 0;
  private sinceTrain = 0;
  private sinceDriftCheck = 0;
  private trainRuns = 0;
  private lastLoss: number | null = null;

  private constructor(backend: Backend, options: ResolvedNeuralUCBOptions, layout: MlpLayout) {
    super(backend, MODEL);
    this.options = Object.freeze(options);
    this.layout = layout;
    const p = layout.paramCount, o = options;
    this.random = new Random(o.seed);
    const init = initialParameters(layout, this.random);
    const tensor = (data: Float32Array | null, label: string) =>
      this.own(data ? backend.tensor(data, [p], { label: `${MODEL} ${label}` }) : backend.zeros([p], { label: `${MODEL} ${label}` }));
    try {
      this.theta = tensor(init, 'θ');
      this.theta0 = tensor(init, 'θ₀');
      this.moments = o.optimizer === 'adam' ? { m: tensor(null, 'Adam m'), v: tensor(null, 'Adam v') } : null;
      const shape = { dim: o.dim, hidden: o.hidden };
      this.confidence = this.own(makeConfidence(backend, o.confidence, {
        label: MODEL, shape, params: p, width: this.width, lambda: o.lambda, driftBound: o.driftBound,
      }));
      this.history = this.own(new HistoryRing(backend, MODEL, o.dim, o.historyLimit));
      this.trainer = this.own(new Trainer(backend, {
        label: MODEL, ...shape, loss: 'squared', optimizer: o.optimizer, lr: o.lr,
        theta: { value: this.theta, grad: tensor(null, 'gradient'), anchor: this.theta0, ...(this.moments ? { moments: this.moments } : {}) },
      }));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /**
   * A model at θ₀ (f ≡ 0), Z = λI and an empty history.
   *
   * @example
   * const model = await NeuralUCB.create(backend, { dim: 8, hidden: [20], confidence: 'full' });
   */
  static async create(backend: Backend, options: NeuralUCBOptions): Promise<NeuralUCB> {
    requireBackend(MODEL, backend);
    const { options: o, layout } = resolveNeuralUCBOptions(backend, options);
    return built(() => new NeuralUCB(backend, o, layout),
      `NeuralUCB.create: the device could not allocate the model (p = ${layout.paramCount}, confidence '${o.confidence}')`);
  }

  /** m of the bonus: the width of the last hidden layer. */
  get width(): number {
    return this.options.hidden[this.options.hidden.length - 1]!;
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
    const widest = Math.max(dim, ...this.options.hidden, this.confidence.kind === 'full' ? this.layout.paramCount : 0);
    checkBatchBindings(op, this.backend.maxBindingBytes, B * K, [['the widest per-row tensor', 4 * widest]], 'arm rows (B·K)');
    checkFiniteValues(op, 'armFeatures', features, dim);
    return [B, K];
  }

  /** Uploads the features into the kept scratch and writes the B×K scores f + ν·sqrt(gᵀZ⁻¹g/m). */
  private scoreTensor(features: ArrayLike<number>, B: number, K: number): Tensor {
    const { dim, hidden, nu } = this.options;
    const x = this.scratch('arm features', [B * K, dim]);
    const scores = this.scratch('scores', [B, K]);
    this.backend.write(x, features);
    const { output, activations } = mlpForward(this.backend, this.theta, x, { dim, hidden, saveActivations: true });
    let width2: Tensor | null = null;
    try {
      width2 = this.confidence.bonus(this.theta, x, activations);
      confidenceScores(this.backend, output, width2, nu / Math.sqrt(this.width), scores);
    } finally {
      output.dispose();
      width2?.dispose();
      for (const t of activations) t.dispose();
    }
    return scores;
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
      return this.argmaxRows(this.scoreTensor(armFeatures, B, K));
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
      return Float32Array.from(await this.backend.read(this.scoreTensor(armFeatures, B, K)));
    });
  }

  /**
   * Learns from a batch of plays: row i played `arms[i]` (an index ≥ 0 into what select saw; the
   * network is shared, so it is only checked) whose features are row i of `features` (B×dim, the
   * PLAYED arms' features) and got `rewards[i]`. In order: Z ← Z + g gᵀ/m for each row's gradient at
   * the current θ, the rows join the history, then the network trains if trainEvery rows have
   * passed. Bad input throws BanditError before anything changes. One submit, training included
   * (a drift check of the full Z adds its readbacks, see FullConfidence.repair).
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
      // Chunks keep each Jacobian within one storage binding. Every upload comes first: a write
      // ends the open step, so a write between dispatches would split the call into several submits.
      const chunk = Math.max(1, Math.floor(this.backend.maxBindingBytes / (4 * Math.max(this.layout.paramCount, dim))));
      const uploads: { x: Tensor; r: Tensor }[] = [];
      for (let start = 0, i = 0; start < rows; start += chunk, i++) {
        const end = Math.min(rows, start + chunk);
        const x = this.scratch(`played x ${i}`, [end - start, dim]), r = this.scratch(`played r ${i}`, [end - start]);
        this.backend.write(x, Float32Array.from(sliceOf(features, start * dim, end * dim)));
        this.backend.write(r, Float32Array.from(sliceOf(rewards, start, end)));
        uploads.push({ x, r });
      }
      for (const { x, r } of uploads) {
        this.confidence.add(this.theta, x);
        this.history.append(x, r);
      }
      this.updates += rows;
      this.sinceTrain += rows;
      this.sinceDriftCheck += rows;
      if (this.confidence.drifts && this.options.driftCheckEvery > 0 && this.sinceDriftCheck >= this.options.driftCheckEvery) {
        this.sinceDriftCheck = 0;
        await this.confidence.repair();
      }
      if (this.options.trainEvery > 0 && this.sinceTrain >= this.options.trainEvery) await this.trainNow(this.options.trainSteps);
      await this.backend.sync();
    });
  }

  /**
   * Runs `steps` optimiser steps now (default trainSteps) on the history and returns the last
   * minibatch loss (mean (f − r)²/2 before its step). Resolves to null with an empty history.
   * One submit, whatever the number of steps.
   *
   * @example
   * const loss = await model.train(100);
   */
  train(steps?: number): Promise<number | null> {
    return this.run('train', async () => {
      const n = steps === undefined ? this.options.trainSteps : positiveInt('NeuralUCB.train', 'steps', steps);
      await this.trainNow(n);
      return this.history.rows === 0 ? null : this.lastLoss;
    });
  }

  /** The history as minibatches: features and rewards gathered by row on the backend. */
  private readonly minibatches: Minibatches = {
    gather: (rows, x, y) => {
      gatherRows(this.backend, this.history.x, rows, { out: x });
      gatherRows(this.backend, this.history.r, rows, { out: y });
    },
  };

  private async trainNow(steps: number): Promise<void> {
    this.sinceTrain = 0;
    const n = this.history.rows;
    if (n === 0) return;
    const { batchSize, lambda } = this.options;
    const b = Math.min(n, batchSize);
    const all = n <= batchSize ? Int32Array.from({ length: n }, (_, i) => i) : null;
    const batches = Array.from({ length: steps }, () => all ?? Int32Array.from({ length: b }, () => this.random.int(n)));
    // The loss over n rows divided by n: mean squared error + (mλ/n)‖θ − θ₀‖²/2, same minimiser.
    const [last] = await this.trainer.run(batches, this.minibatches, { decay: (this.width * lambda) / n, losses: 'last' });
    this.lastLoss = last!;
    this.trainRuns++;
  }

  /**
   * Counters and numerical health.
   *
   * @example
   * const { updates, lastLoss, confidence } = model.diagnostics();
   */
  diagnostics(): NeuralUCBDiagnostics {
    const { lastDrift, driftChecks, repairs } = this.confidence.health;
    return {
      updates: this.updates, historyRows: this.history.rows, trainRuns: this.trainRuns, optimizerSteps: this.trainer.steps,
      lastLoss: this.lastLoss, paramCount: this.layout.paramCount, confidence: this.options.confidence,
      lastDrift, driftChecks, repairs,
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
      const arrays: Record<string, SavedArray> = {
        theta: await read(this.theta), theta0: await read(this.theta0), ...(await this.history.arrays()), random: this.random.state(),
      };
      if (this.moments) {
        arrays['adamM'] = await read(this.moments.m);
        arrays['adamV'] = await read(this.moments.v);
      }
      Object.assign(arrays, await this.confidence.arrays());
      const { lastDrift, driftChecks, repairs } = this.confidence.health;
      return saveModel({
        model: MODEL,
        version: MODEL_VERSION,
        options: savedNeuralUCBOptions(this.options, this.layout.paramCount),
        counters: {
          updates: this.updates, historyRows: this.history.rows, historyNext: this.history.next, sinceTrain: this.sinceTrain,
          sinceDriftCheck: this.sinceDriftCheck, trainRuns: this.trainRuns, optimizerSteps: this.trainer.steps,
          driftChecks, repairs, lastLoss: this.lastLoss, lastDrift, historyCapacity: this.history.capacity,
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
    const saved = SavedModelReader.open(bytes, MODEL, [MODEL_VERSION]);
    const model = await NeuralUCB.create(backend, saved.options as unknown as NeuralUCBOptions);
    return restored(model, (m) => {
      const p = m.layout.paramCount;
      const c = saved.counts([
        'updates', 'historyRows', 'historyNext', 'sinceTrain', 'sinceDriftCheck', 'trainRuns', 'optimizerSteps',
        'driftChecks', 'repairs', 'historyCapacity',
      ] as const);
      m.history.restore(saved, { rows: c.historyRows, next: c.historyNext, capacity: c.historyCapacity });
      backend.write(m.theta, saved.need('theta', p));
      backend.write(m.theta0, saved.need('theta0', p));
      if (m.moments) {
        backend.write(m.moments.m, saved.need('adamM', p));
        backend.write(m.moments.v, saved.need('adamV', p));
      }
      m.confidence.restore(saved);
      const state = saved.arrays['random'];
      if (!(state instanceof Uint32Array) || state.length !== 4) throw new BanditError('NeuralUCB.load: the random generator state is missing');
      m.random = Random.fromState(state);
      m.updates = c.updates;
      m.sinceTrain = c.sinceTrain;
      m.sinceDriftCheck = c.sinceDriftCheck;
      m.trainRuns = c.trainRuns;
      m.trainer.steps = c.optimizerSteps;
      m.lastLoss = saved.numberOrNull('lastLoss');
    });
  }
}

function sliceOf(values: ArrayLike<number>, start: number, end: number): ArrayLike<number> {
  return ArrayBuffer.isView(values) ? (values as Float32Array).subarray(start, end) : Array.prototype.slice.call(values, start, end);
}
