import type { ModelSize } from '../backend.js';
import { BanditError } from '../core/errors.js';
import { Random } from '../core/random.js';
import { OnlineModel } from '../models/online.js';
import { decisionRows } from '../models/pending.js';
import { updateWeights, withoutZeroWeights, type NeuralWarmStartOptions, type UpdateOptions } from '../models/weights.js';
import type { Decision, DecisionsSetup } from '../models/decisions.js';
import { saveModel } from '../models/saved.js';
import { Trainer, type Minibatches } from '../models/trainer.js';
import { confidenceScores } from '../ops/confidence.js';
import { mlpForward, type MlpLayout } from '../ops/mlp.js';
import { gatherRows } from '../ops/mlp-train.js';
import { makeConfidence, type Confidence } from './confidence.js';
import { HistoryRing } from './history.js';
import { initialParameters } from './init.js';
import { checkPlayedFeatures, type ResolvedNeuralOptions } from './options.js';
import type { NeuralDecideOptions, NeuralDiagnostics, NeuralEvaluation, NeuralScores, NeuralSelectOptions } from './neural-types.js';
import type { SavedArray } from '../models/persist.js';
import type { SavedModelReader } from '../models/saved.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { checkBatchBindings, checkFiniteValues, checkRewards, isNumberArray, numberOption, positiveInt } from '../core/check.js';
import { checkContextScale } from '../core/limits.js';

// What NeuralUCB and NeuralTS share (Zhou, Li & Gu 2020; Zhang, Zhou, Li & Gu 2021): one shared
// ReLU network f(x; θ) from θ₀, Z = λI + Σ g gᵀ/m over the played rows' gradients (diagonal or
// full), the history and its training, the per-arm gradients of every candidate in one batched
// pass, and decide/select/scores around a scoring step each model writes its own way. The public
// types of both are in neural-types.ts.

/**
 * The state and calls NeuralUCB and NeuralTS share: subclasses add the scoring step
 * (`scoreStep`, from `evaluate`) and their save format's name and options.
 *
 * @example
 * class Greedy extends NeuralBandit<ResolvedNeuralOptions> {
 *   protected scoreStep(x: Tensor, B: number, K: number) { return { scores: this.evaluate(x, B, K, 'mean').scores }; }
 * }
 */
export abstract class NeuralBandit<O extends ResolvedNeuralOptions> extends OnlineModel<Float32Array | ArrayLike<number>, Int32Array, NeuralWarmStartOptions> {
  readonly options: Readonly<O>;
  protected readonly ipsPerArm = false;
  readonly layout: MlpLayout;
  protected readonly theta: Tensor;
  protected readonly theta0: Tensor;
  /** Adam's moments (adam only). */
  protected readonly moments: { m: Tensor; v: Tensor } | null;
  protected readonly confidence: Confidence;
  protected readonly history: HistoryRing;
  protected readonly trainer: Trainer;
  protected random: Random;
  protected updates = 0;
  protected sinceTrain = 0;
  protected sinceDriftCheck = 0;
  protected trainRuns = 0;
  protected lastLoss: number | null = null;

  protected constructor(backend: Backend, model: string, options: O, layout: MlpLayout, decisions: DecisionsSetup) {
    super(backend, model, decisions, options.dim, options.delayed);
    this.options = Object.freeze(options);
    this.layout = layout;
    const p = layout.paramCount, o = options;
    this.random = new Random(o.seed);
    const init = initialParameters(layout, this.random);
    const tensor = (data: Float32Array | null, label: string) =>
      this.own(data ? backend.tensor(data, [p], { label: `${model} ${label}` }) : backend.zeros([p], { label: `${model} ${label}` }));
    try {
      this.theta = tensor(init, 'θ');
      this.theta0 = tensor(init, 'θ₀');
      this.moments = o.optimizer === 'adam' ? { m: tensor(null, 'Adam m'), v: tensor(null, 'Adam v') } : null;
      const shape = { dim: o.dim, hidden: o.hidden };
      this.confidence = this.own(makeConfidence(backend, o.confidence, {
        label: model, shape, params: p, width: this.width, lambda: o.lambda, driftBound: o.driftBound,
      }));
      this.history = this.own(new HistoryRing(backend, model, o.dim, o.historyLimit));
      this.trainer = this.own(new Trainer(backend, {
        label: model, ...shape, loss: 'squared', optimizer: o.optimizer, lr: o.lr,
        theta: { value: this.theta, grad: tensor(null, 'gradient'), anchor: this.theta0, ...(this.moments ? { moments: this.moments } : {}) },
      }));
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** What `load` takes beside the save: what is not saved. */
  protected static readonly LOAD_OVERRIDES: readonly string[] = ['clock'];

  /** Refuses a save whose arrays are not the sizes its options describe, before anything is allocated. */
  protected static expectSaved(saved: SavedModelReader, o: ResolvedNeuralOptions, layout: MlpLayout): void {
    const p = layout.paramCount;
    saved.expect({
      theta: p, theta0: p,
      ...(o.optimizer === 'adam' ? { adamM: p, adamV: p } : {}),
      ...(o.confidence === 'full' ? { z: p * p, zInv: p * p } : { zDiag: p }),
    });
    if (o.optimizer === 'adam') saved.need('adamV', p, { min: 0 });
  }

  /** What create says when the device cannot hold the model. */
  /**
   * The cost model's size of a model (`placed`): an arm's forward pass, Jacobian row and bonus
   * (≈ 4p, or p² + 3p with the full Z⁻¹), and the training a decision brings (trainSteps
   * minibatches of batchSize rows, forward and backward ≈ 3p a row, every trainEvery rounds).
   */
  protected static size(o: ResolvedNeuralOptions, layout: MlpLayout): ModelSize {
    const p = layout.paramCount;
    return { perArm: o.confidence === 'full' ? p * p + 3 * p : 4 * p, multiplyAdds: o.trainEvery ? (o.trainSteps * o.batchSize * 3 * p) / o.trainEvery : 0 };
  }

  protected static allocationMessage(model: string, o: ResolvedNeuralOptions, layout: MlpLayout): string {
    return `${model}.create: the device could not allocate the model (p = ${layout.paramCount}, confidence '${o.confidence}')`;
  }

  /** m of the bonus: the width of the last hidden layer. */
  get width(): number {
    return this.options.hidden[this.options.hidden.length - 1]!;
  }

  /** Checks B×K×dim features (K from `arms`, else B = 1) and returns [B, K]. */
  protected featureRows(op: string, features: unknown, arms: unknown): [number, number] {
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
    checkContextScale(op, 'armFeatures', features, dim);
    return [B, K];
  }

  /** The `arms` of a call's options (undefined when the options are absent or not an object; checked later). */
  protected static armsOf(options: unknown, op: string): unknown {
    if (options === undefined) return undefined;
    if (typeof options !== 'object' || options === null) throw new BanditError(`${op}: options must be an object ({ arms }), got ${String(options)}`);
    return (options as { arms?: unknown }).arms;
  }

  /**
   * Evaluates the network on the uploaded features x (B·K rows) into the kept B×K scores: the
   * UCB f + ν·sqrt(gᵀZ⁻¹g/m), the mean f alone (no gradients computed), or the mean with the
   * squared widths gᵀZ⁻¹g into a kept B×K `width2`.
   */
  protected evaluate(x: Tensor, B: number, K: number, what: NeuralEvaluation): { scores: Tensor; width2?: Tensor } {
    const { dim, hidden, nu } = this.options;
    const scores = this.scratch('scores', [B, K]);
    const { output, activations } = mlpForward(this.backend, this.theta, x, { dim, hidden, saveActivations: what !== 'mean' });
    let bonus: Tensor | null = null;
    try {
      if (what === 'mean') {
        this.backend.copy(output, scores);
        return { scores };
      }
      bonus = this.confidence.bonus(this.theta, x, activations);
      if (what === 'ucb') {
        confidenceScores(this.backend, output, bonus, nu / Math.sqrt(this.width), scores);
        return { scores };
      }
      const width2 = this.scratch('width2', [B, K]);
      this.backend.copy(output, scores);
      this.backend.copy(bonus, width2);
      return { scores, width2 };
    } finally {
      output.dispose();
      bonus?.dispose();
      for (const t of activations) t.dispose();
    }
  }

  /** The scoring step on the uploaded features x (B·K rows): B×K scores, encoded, not read. */
  protected abstract scoreStep(x: Tensor, B: number, K: number): NeuralScores;

  /** Uploads checked B×K×dim features into the kept scratch and runs the scoring step. */
  protected score(features: ArrayLike<number>, B: number, K: number): NeuralScores {
    const x = this.scratch('arm features', [B * K, this.options.dim]);
    this.backend.write(x, features);
    return this.scoreStep(x, B, K);
  }

  /**
   * One arm a row by the model's policy (see its class), over the eligible arms when `eligible`
   * (K or B×K 0/1 values) is given. `armFeatures` is B×K×dim with `{ arms: K }`, or without it one
   * row of K = length/dim arms. Only B integers are read back.
   *
   * @example
   * const chosen = await model.select(features, { arms: 10 });   // features: B×10×dim
   */
  select(armFeatures: Float32Array | ArrayLike<number>, options: NeuralSelectOptions = {}): Promise<Int32Array> {
    return this.run('select', [armFeatures, options], async (armFeatures, options) => {
      const op = `${this.model}.select`;
      const [B, K] = this.featureRows(op, armFeatures, NeuralBandit.armsOf(options, op));
      const checked = this.decisions.check(op, options, B, K, false);
      const staged = this.decisions.stage(this.host, checked, B, K);
      const { scores, thompson } = this.score(armFeatures, B, K);
      return this.decisions.select(this.host, scores, staged, op, thompson);
    });
  }

  /**
   * Decides every row of B×K×dim arm features (as select takes them): `{ arms, propensities,
   * eventIds }`, B entries or B×k with `{ k }` (a slate, each slot's propensity given the slots
   * before it), over the eligible arms, each propensity computed on the backend in the same step
   * as the scores. Bad options or a row with fewer than k eligible arms are a BanditError, and the
   * model is left as it was (its stream included). K may change from call to call: the arms are
   * the rows of each call's features, so a catalogue that grows or shrinks needs no addArms or
   * retireArms (leave an item out of the features, or out of `eligible`). Each decision waits for
   * its reward by event id with the chosen arm's features (`reward`).
   *
   * @example
   * const { arms, propensities, eventIds } = await model.decide(features, { arms: 10, k: 2 });
   */
  decide(armFeatures: Float32Array | ArrayLike<number>, options: NeuralDecideOptions = {}): Promise<Decision> {
    return this.run('decide', [armFeatures, options], async (armFeatures, options) => {
      const op = `${this.model}.decide`;
      const [B, K] = this.featureRows(op, armFeatures, NeuralBandit.armsOf(options, op));
      const checked = this.decisions.check(op, options, B, K, true);
      const staged = this.decisions.stage(this.host, checked, B, K);
      const { scores, thompson } = this.score(armFeatures, B, K);
      const { dim } = this.options;
      return this.decided(
        () => this.decisions.decide(this.host, scores, staged, op, thompson),
        (d) => decisionRows([{ values: armFeatures, dim, perArm: true }], B, checked.k, K, d.arms),
      );
    });
  }

  /** Reads back the B×K scores of the scoring step (see the subclass's `scores`). */
  protected readScores(armFeatures: Float32Array | ArrayLike<number>, options: { readonly arms?: number }): Promise<Float32Array> {
    return this.run('scores', [armFeatures, options], async (armFeatures, options) => {
      const [B, K] = this.featureRows(`${this.model}.scores`, armFeatures, NeuralBandit.armsOf(options, `${this.model}.scores`));
      const { scores } = this.score(armFeatures, B, K);
      return Float32Array.from(await this.backend.read(scores));
    });
  }

  /**
   * Learns from a batch of plays: row i played `arms[i]` (an index ≥ 0 into what select saw; the
   * network is shared, so it is only checked) whose features are row i of `features` (B×dim, the
   * PLAYED arms' features) and got `rewards[i]`. In order: Z ← Z + g gᵀ/m for each row's gradient at
   * the current θ, the rows join the history, then the network trains if trainEvery rows have
   * passed. With `weights`, row i counts w_i times: Z += w·g gᵀ/m and the training loss weighs its
   * (f − r)²/2 by w (kept in the history; a weight of 0 skips the row, weights of 1 are the plain
   * update bit for bit). Bad input throws BanditError before anything changes. One submit,
   * training included (a drift check of the full Z adds its readbacks, see FullConfidence.repair).
   *
   * @example
   * await model.update(chosen, playedFeatures, rewards);
   * await model.update(chosen, playedFeatures, rewards, { weights: Float32Array.of(3) });
   */
  update(arms: Int32Array, features: Float32Array | ArrayLike<number>, rewards: Float32Array | ArrayLike<number>, options?: UpdateOptions): Promise<void> {
    return this.run('update', [arms, features, rewards, options], (arms, features, rewards, options) => this.checkedUpdate(`${this.model}.update`, arms, features, rewards, options));
  }

  protected async checkedUpdate(op: string, arms: Int32Array, features: Float32Array | ArrayLike<number>, rewards: Float32Array | ArrayLike<number>, options?: UpdateOptions): Promise<void> {
    const played = checkPlayedFeatures(op, this.options.dim, arms, features);
    checkRewards(op, rewards, arms.length);
    await this.learn(arms, played, Float32Array.from(rewards), updateWeights(op, options, arms.length));
  }

  protected async learn(armsIn: Int32Array, features: Float32Array, rewardsIn: Float32Array, weightsIn: Float64Array | null): Promise<void> {
    const { dim } = this.options;
    const { contexts, rewards, weights } = withoutZeroWeights({ arms: armsIn, contexts: features, rewards: rewardsIn, weights: weightsIn }, dim);
    const rows = rewards.length;
    if (rows === 0) return;
    // Once the history holds weights, every row needs one (1 for a plain update).
    const w = weights ?? (this.history.w ? new Float64Array(rows).fill(1) : null);
    // Chunks keep each Jacobian within one storage binding. Every upload comes first: a write
    // ends the open step, so a write between dispatches would split the call into several submits.
    const chunk = Math.max(1, Math.floor(this.backend.maxBindingBytes / (4 * Math.max(this.layout.paramCount, dim))));
    const uploads: { x: Tensor; r: Tensor; w: Tensor | null; weights: Float64Array | null }[] = [];
    for (let start = 0, i = 0; start < rows; start += chunk, i++) {
      const end = Math.min(rows, start + chunk);
      const x = this.scratch(`played x ${i}`, [end - start, dim]), r = this.scratch(`played r ${i}`, [end - start]);
      this.backend.write(x, contexts.subarray(start * dim, end * dim));
      this.backend.write(r, rewards.subarray(start, end));
      const part = w ? w.subarray(start, end) : null;
      const tw = part ? this.scratch(`played w ${i}`, [end - start]) : null;
      if (tw) this.backend.write(tw, Float32Array.from(part!));
      uploads.push({ x, r, w: tw, weights: weights ? part : null });
    }
    for (const { x, r, w: tw, weights: part } of uploads) {
      this.confidence.add(this.theta, x, part ?? undefined);
      this.history.append(x, r, tw ?? undefined);
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
    return this.run('train', [steps], async (steps) => {
      const n = steps === undefined ? this.options.trainSteps : positiveInt(`${this.model}.train`, 'steps', steps);
      await this.trainNow(n);
      return this.history.rows === 0 ? null : this.lastLoss;
    });
  }

  /** After a warm start's update, the steps of NeuralWarmStartOptions.trainSteps (checked before the update). */
  protected override warmStartTraining(op: string, arms: { length: number }, options: NeuralWarmStartOptions | undefined): (() => Promise<void>) | null {
    const { trainEvery, trainSteps } = this.options;
    const runs = trainEvery > 0 ? Math.ceil(arms.length / trainEvery) - 1 : 0;
    const steps = options?.trainSteps === undefined ? trainSteps * Math.max(runs, 0)
      : numberOption(op, 'trainSteps', options.trainSteps, 0, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
    return steps > 0 ? async () => {
      await this.trainNow(steps);
      await this.backend.sync();
    } : null;
  }

  /** The history as minibatches: features and rewards (and once weighted, the weights) gathered by row on the backend. */
  private get minibatches(): Minibatches {
    const w = this.history.w;
    return {
      gather: (rows, x, y) => {
        gatherRows(this.backend, this.history.x, rows, { out: x });
        gatherRows(this.backend, this.history.r, rows, { out: y });
      },
      ...(w ? { gatherWeights: (rows: Int32Array, out: Tensor) => gatherRows(this.backend, w, rows, { out }) } : {}),
    };
  }

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
  diagnostics(): NeuralDiagnostics {
    const { lastDrift, driftChecks, repairs } = this.confidence.health;
    return {
      updates: this.updates, historyRows: this.history.rows, trainRuns: this.trainRuns, optimizerSteps: this.trainer.steps,
      lastLoss: this.lastLoss, paramCount: this.layout.paramCount, confidence: this.options.confidence,
      lastDrift, driftChecks, repairs, decisions: this.decisions.key, rewards: this.rewardCounts,
    };
  }

  /**
   * The save of this model: its options as given, the counters, θ, θ₀, the optimiser state, Z,
   * the history and the generators, and the delayed rewards; format `versions[0]` unless it holds
   * history weights or delayed rewards (`versions[1]`).
   */
  protected async saveWith(versions: readonly [number, number], options: Record<string, unknown>): Promise<Uint8Array> {
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
    const pending = this.pendingSave();
    const extended = arrays['historyW'] !== undefined || Object.keys(pending.options).length > 0 || Object.keys(pending.counters).length > 0;
    Object.assign(arrays, pending.arrays);
    return saveModel({
      model: this.model,
      version: versions[extended ? 1 : 0],
      options: { ...options, ...pending.options },
      counters: {
        updates: this.updates, historyRows: this.history.rows, historyNext: this.history.next, sinceTrain: this.sinceTrain,
        sinceDriftCheck: this.sinceDriftCheck, trainRuns: this.trainRuns, optimizerSteps: this.trainer.steps,
        driftChecks, repairs, lastLoss: this.lastLoss, lastDrift, historyCapacity: this.history.capacity,
        ...this.decisions.counters(), ...pending.counters,
      },
      arrays,
    });
  }

  /** Writes a save's arrays, counters, generator and decision stream into this (just created) model. */
  protected restoreFrom(saved: SavedModelReader): void {
    const backend = this.backend, p = this.layout.paramCount;
    const c = saved.counts([
      'updates', 'historyRows', 'historyNext', 'sinceTrain', 'sinceDriftCheck', 'trainRuns', 'optimizerSteps',
      'driftChecks', 'repairs', 'historyCapacity',
    ] as const);
    this.history.restore(saved, { rows: c.historyRows, next: c.historyNext, capacity: c.historyCapacity });
    backend.write(this.theta, saved.need('theta', p));
    backend.write(this.theta0, saved.need('theta0', p));
    if (this.moments) {
      backend.write(this.moments.m, saved.need('adamM', p));
      backend.write(this.moments.v, saved.need('adamV', p));
    }
    this.confidence.restore(saved);
    const state = saved.arrays['random'];
    if (!(state instanceof Uint32Array) || state.length !== 4) throw new BanditError(`${this.model}.load: the random generator state is missing`);
    this.random = Random.fromState(state);
    this.updates = c.updates;
    this.sinceTrain = c.sinceTrain;
    this.sinceDriftCheck = c.sinceDriftCheck;
    this.trainRuns = c.trainRuns;
    this.trainer.steps = c.optimizerSteps;
    this.lastLoss = saved.numberOrNull('lastLoss');
    this.decisions.restore(saved);
    this.restorePending(saved, null);
  }
}

