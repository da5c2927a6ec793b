import { BanditError } from '../core/errors.js';
import { Random } from '../core/random.js';
import { ModelBase, built, requireBackend, restored } from '../models/base.js';
import { Decisions, type Decision, type DecideOptions, type SelectOptions } from '../models/decisions.js';
import { SavedModelReader, saveModel } from '../models/saved.js';
import { Trainer, type Minibatches, type TrainedTensor } from '../models/trainer.js';
import { mlpForward, mlpLayout, type MlpLayout } from '../ops/mlp.js';
import { gatherRows, scatterAddRows } from '../ops/mlp-train.js';
import {
  allPairs, checkIds, checkInteractionContexts, checkLog, permutation, resolveEmbeddingMLPOptions, savedEmbeddingOptions, sigmoid,
  type CheckedLog, type EmbeddingMLPOptions, type InteractionLog, type ResolvedEmbeddingMLPOptions,
} from './embedding-input.js';
import type { SavedArray } from '../models/persist.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { checkBatchBindings, numberOption } from '../core/check.js';

export type { EmbeddingMLPOptions, InteractionLog } from './embedding-input.js';

export interface FitOptions {
  /** Passes over the log. Default: the model's `epochs`. */
  readonly epochs?: number;
  /**
   * Called after every epoch with its index (from 0 within this fit) and its mean training loss.
   * Without it, a fit reads its losses back once, at the end; with it, once an epoch.
   */
  readonly onProgress?: (epoch: number, loss: number) => void;
}

/** Full-batch gradients of the mean loss at the current parameters (see `gradients`). */
export interface EmbeddingMLPGradients {
  /** Mean binary cross-entropy over the log (without the L2 term). */
  readonly loss: number;
  /** ∂/∂θ of the MLP (mlpLayout of the model's input width and hidden). */
  readonly theta: Float32Array | Float64Array;
  /** users×embeddingDim and items×embeddingDim. */
  readonly userEmbeddings: Float32Array | Float64Array;
  readonly itemEmbeddings: Float32Array | Float64Array;
}

const MODEL = 'EmbeddingMLP';
const MODEL_VERSION = 1;
/** Standard deviation of the initial embeddings. */
const EMBEDDING_INIT_STD = 0.1;

/** A trained table with its Adam moments (saved as name.value, name.m, name.v). */
type AdamTable = TrainedTensor & { readonly moments: { readonly m: Tensor; readonly v: Tensor } };

/**
 * The static recommender baseline: user and item embeddings and the context features,
 * concatenated as [userEmb[u] | itemEmb[i] | context], feed a ReLU MLP whose output is the logit
 * of the click probability. `fit` trains everything (embeddings included) on logged interactions
 * in shuffled minibatches, binary cross-entropy and Adam, on the backend; the model is then served
 * frozen: `select` picks, for each user and context, the item with the highest predicted click
 * probability (ties to the lowest item), and never learns from what it serves.
 *
 * With `exploration` it serves by ε-greedy, softmax or SquareCB over its logits f instead (the
 * mean estimates on the scale the network predicts; σ(f) is monotone in f, so ε-greedy's best
 * item is the same; softmax is then the usual Boltzmann policy of a scoring model, ∝ exp(f/T),
 * and SquareCB's γ is per unit of logit), from its seeded stream; `decide` reports each choice's
 * probability, for off-policy evaluation of the baseline.
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * const model = await EmbeddingMLP.create(backend, { users: 1000, items: 50, contextDim: 4, seed: 1 });
 * const { losses } = await model.fit({ users, items, contexts, clicks }, { epochs: 3, onProgress: (e, l) => console.log(e, l) });
 * const picks = await model.select(new Int32Array([7, 8]), contextsOfTwo);   // Int32Array of items
 * const p = await model.predict(new Int32Array([7]), new Int32Array([3]), contextOfOne); // P(click)
 * const again = await EmbeddingMLP.load(backend, await model.save());
 * model.dispose();
 */
export class EmbeddingMLP extends ModelBase {
  readonly options: Readonly<ResolvedEmbeddingMLPOptions>;
  /** The MLP's parameter layout (input width 2·embeddingDim + contextDim). */
  readonly layout: MlpLayout;
  private readonly theta: AdamTable;
  private readonly userEmb: AdamTable;
  private readonly itemEmb: AdamTable;
  /** Zeros to clear the embedding gradients with (a buffer copy, inside the step). */
  private readonly zeros: Tensor;
  private readonly trainer: Trainer;
  private readonly decisions: Decisions;
  private random: Random;
  private epochsTrained = 0;

  private constructor(backend: Backend, options: ResolvedEmbeddingMLPOptions) {
    super(backend, MODEL);
    this.options = Object.freeze(options);
    const o = options, e = o.embeddingDim;
    this.layout = mlpLayout(this.inputDim, o.hidden);
    this.decisions = new Decisions(MODEL, { exploration: o.exploration, seed: o.seed >>> 0 });
    this.random = new Random(o.seed);
    const theta = new Float32Array(this.layout.paramCount);
    for (const l of this.layout.layers) {
      // He-uniform for ReLU inputs: variance 2/n_in.
      const bound = Math.sqrt(6 / l.in);
      for (let q = l.weightOffset; q < l.biasOffset; q++) theta[q] = (2 * this.random.uniform() - 1) * bound;
    }
    const embeddings = (rows: number) => Float32Array.from({ length: rows * e }, () => EMBEDDING_INIT_STD * this.random.normal());
    const users = embeddings(o.users), items = embeddings(o.items);
    const tensor = (data: Float32Array | null, shape: number[], label: string) =>
      this.own(data ? backend.tensor(data, shape, { label }) : backend.zeros(shape, { label }));
    const adam = (data: Float32Array, shape: number[], name: string): AdamTable => ({
      value: tensor(data, shape, `${MODEL} ${name}`), grad: tensor(null, shape, `${MODEL} ${name} gradient`),
      moments: { m: tensor(null, shape, `${MODEL} ${name} m`), v: tensor(null, shape, `${MODEL} ${name} v`) },
    });
    try {
      this.theta = adam(theta, [this.layout.paramCount], 'θ');
      this.userEmb = adam(users, [o.users, e], 'user embeddings');
      this.itemEmb = adam(items, [o.items, e], 'item embeddings');
      this.zeros = tensor(null, [Math.max(o.users, o.items) * e], `${MODEL} zeros`);
      this.trainer = this.own(new Trainer(backend, {
        label: MODEL, dim: this.inputDim, hidden: o.hidden, loss: 'logistic', optimizer: 'adam', lr: o.lr,
        theta: this.theta, inputs: [this.userEmb, this.itemEmb],
      }));
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** Width of the MLP's input rows. */
  get inputDim(): number {
    return 2 * this.options.embeddingDim + this.options.contextDim;
  }

  /**
   * Creates a model with He-uniform weights (zero biases) and N(0, 0.1²) embeddings drawn from `seed`.
   *
   * @example
   * const model = await EmbeddingMLP.create(backend, { users: 200, items: 10, contextDim: 0, hidden: [32], seed: 3 });
   */
  static async create(backend: Backend, options: EmbeddingMLPOptions): Promise<EmbeddingMLP> {
    requireBackend(MODEL, backend);
    const o = resolveEmbeddingMLPOptions(options);
    const e = o.embeddingDim, { paramCount } = mlpLayout(2 * e + o.contextDim, o.hidden);
    const limit = backend.maxBindingBytes;
    for (const [what, floats] of [['the user embeddings', o.users * e], ['the item embeddings', o.items * e], ['θ', paramCount]] as const) {
      if (floats * 4 > limit) throw new BanditError(`${MODEL}.create: ${what} need ${floats * 4} bytes, over the ${limit} one storage binding holds`);
    }
    return built(() => new EmbeddingMLP(backend, o), `${MODEL}.create: the device could not allocate the model`);
  }

  private get sizes(): { users: number; items: number; contextDim: number } {
    return this.options;
  }

  /** Writes [userEmb[u] | itemEmb[i] | contexts[c]] rows into x (N×inputDim). */
  private assemble(x: Tensor, users: Int32Array, items: Int32Array, contexts: Tensor | null, contextRows: Int32Array | null): void {
    const e = this.options.embeddingDim;
    gatherRows(this.backend, this.userEmb.value, users, { out: x, column: 0 });
    gatherRows(this.backend, this.itemEmb.value, items, { out: x, column: e });
    if (contexts && contextRows) gatherRows(this.backend, contexts, contextRows, { out: x, column: 2 * e });
  }

  /**
   * The log as minibatches: x = [userEmb | itemEmb | context] and the clicks gathered by row;
   * backward scatters ∇x into the embedding gradients (cleared first).
   */
  private minibatches(log: CheckedLog, contexts: Tensor | null, clicks: Tensor): Minibatches {
    const b = this.backend, e = this.options.embeddingDim;
    const ids = (rows: Int32Array) => ({ users: Int32Array.from(rows, (n) => log.users[n]!), items: Int32Array.from(rows, (n) => log.items[n]!) });
    return {
      gather: (rows, x, y) => {
        const { users, items } = ids(rows);
        this.assemble(x, users, items, contexts, rows);
        gatherRows(b, clicks, rows, { out: y });
      },
      backward: (rows, inputGrad) => {
        const { users, items } = ids(rows);
        for (const [table, of, column] of [[this.userEmb, users, 0], [this.itemEmb, items, e]] as const) {
          b.copy(this.zeros, table.grad, { srcOffset: 0, dstOffset: 0, count: table.grad.size });
          scatterAddRows(b, inputGrad, of, table.grad, { column });
        }
      },
    };
  }

  /**
   * The log's contexts and clicks on the backend for the duration of `body` (freed after: a log
   * can be large, and is not kept between calls).
   */
  private async withLog<T>(log: CheckedLog, body: (source: Minibatches) => Promise<T>): Promise<T> {
    const b = this.backend, c = this.options.contextDim;
    const contexts = c > 0 ? b.tensor(log.contexts, [log.rows, c], { label: `${MODEL} log contexts` }) : null;
    let clicks: Tensor | null = null;
    try {
      clicks = b.tensor(log.clicks, [log.rows], { label: `${MODEL} log clicks` });
      return await body(this.minibatches(log, contexts, clicks));
    } finally {
      contexts?.dispose();
      clicks?.dispose();
    }
  }

  /**
   * Trains on the log: each epoch shuffles it (from the model's seeded generator) and takes one Adam
   * step a minibatch of `batchSize` rows on the mean binary cross-entropy (plus l2), updating the
   * MLP and the embeddings of every user and item (dense Adam: rows absent from a batch still move
   * by their momentum). Resolves with the mean training loss of each epoch (each batch's loss before
   * its step, weighted by its size). Bad input throws BanditError before anything changes.
   *
   * @example
   * const { losses } = await model.fit({ users, items, contexts, clicks }, { epochs: 10 });
   */
  fit(log: InteractionLog, options: FitOptions = {}): Promise<{ losses: number[] }> {
    return this.run('fit', async () => {
      const op = `${MODEL}.fit`;
      const data = checkLog(op, this.sizes, this.backend.maxBindingBytes, log);
      if (!options || typeof options !== 'object') throw new BanditError(`${op}: options must be an object`);
      const epochs = numberOption(op, 'epochs', options.epochs, this.options.epochs, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
      const onProgress = options.onProgress;
      if (onProgress !== undefined && typeof onProgress !== 'function') throw new BanditError(`${op}: onProgress must be a function`);
      const N = data.rows, B = Math.min(this.options.batchSize, N), batches = Math.ceil(N / B);
      const losses: number[] = [];
      // A progress callback needs each epoch's loss when the epoch ends: then one run (and readback) an epoch.
      const perRun = onProgress ? 1 : Math.max(epochs, 1);
      await this.withLog(data, async (source) => {
        for (let first = 0; first < epochs; first += perRun) {
          const count = Math.min(perRun, epochs - first);
          const list: Int32Array[] = [];
          for (let e = 0; e < count; e++) {
            const order = permutation(this.random, N);
            for (let k = 0; k < batches; k++) list.push(order.subarray(k * B, Math.min(N, (k + 1) * B)));
          }
          const per = await this.trainer.run(list, source, { decay: this.options.l2 });
          for (let e = 0; e < count; e++) {
            let loss = 0;
            for (let k = 0; k < batches; k++) loss += (per[e * batches + k]! * Math.min(B, N - k * B)) / N;
            this.epochsTrained++;
            losses.push(loss);
            onProgress?.(first + e, loss);
          }
        }
        await this.backend.sync();
      });
      return { losses };
    });
  }

  /**
   * The full-batch gradient of the mean loss over the log at the current parameters (no step taken;
   * the L2 term is not included), for checking the model against its float64 twin or finite differences.
   *
   * @example
   * const { loss, theta } = await model.gradients(log);
   */
  gradients(log: InteractionLog): Promise<EmbeddingMLPGradients> {
    return this.run('gradients', async () => {
      const data = checkLog(`${MODEL}.gradients`, this.sizes, this.backend.maxBindingBytes, log);
      const b = this.backend;
      const lossOut = this.scratch('gradient loss', [1]);
      const read = (t: Tensor) => b.read(t) as Promise<Float32Array | Float64Array>;
      return this.withLog(data, async (source) => {
        this.trainer.gradient(Int32Array.from({ length: data.rows }, (_, n) => n), source, lossOut);
        return {
          loss: (await b.read(lossOut))[0]!,
          theta: await read(this.theta.grad), userEmbeddings: await read(this.userEmb.grad), itemEmbeddings: await read(this.itemEmb.grad),
        };
      });
    });
  }

  /** Logits of rows (users[n], items[n], contexts of row contextRows[n]) in chunks that fit a binding; `each` gets every chunk's logits tensor. */
  private async logits(users: Int32Array, items: Int32Array, contexts: Float32Array, contextRows: Int32Array, rowsPerGroup: number, each: (logits: Tensor, first: number, rows: number) => Promise<void>): Promise<void> {
    const b = this.backend, c = this.options.contextDim, total = users.length;
    const widest = Math.max(this.inputDim, ...this.options.hidden);
    // Whole groups (a user's row of items) a chunk, as many as one binding holds.
    const groups = Math.max(1, Math.floor(b.maxBindingBytes / (4 * widest * rowsPerGroup)));
    const chunk = Math.min(total, groups * rowsPerGroup);
    const ctx = c > 0 ? this.scratch('contexts', [contexts.length / c, c]) : null;
    if (ctx) b.write(ctx, contexts);
    for (let first = 0; first < total; first += chunk) {
      const rows = Math.min(chunk, total - first);
      const x = this.scratch('x', [rows, this.inputDim]);
      this.assemble(x, users.subarray(first, first + rows), items.subarray(first, first + rows), ctx, contextRows.subarray(first, first + rows));
      const { output } = mlpForward(b, this.theta.value, x, { dim: this.inputDim, hidden: this.options.hidden });
      try {
        await each(output, first, rows);
      } finally {
        output.dispose();
      }
    }
  }

  /**
   * Predicted click probabilities σ(f) of the pairs (users[n], items[n]) in context row n
   * (contexts N×contextDim; omit or pass an empty array when contextDim is 0).
   *
   * @example
   * const p = await model.predict(new Int32Array([0, 0]), new Int32Array([3, 7]), new Float32Array(2 * 4));
   */
  predict(users: Int32Array, items: Int32Array, contexts?: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    return this.run('predict', async () => {
      const op = `${MODEL}.predict`;
      const u = checkIds(op, this.sizes, 'users', users);
      const i = checkIds(op, this.sizes, 'items', items, u.length);
      const ctx = checkInteractionContexts(op, this.sizes, contexts, u.length);
      const out = new Float32Array(u.length);
      if (u.length === 0) return out;
      await this.logits(u, i, ctx, Int32Array.from({ length: u.length }, (_, n) => n), 1, async (logits, first) => {
        (await this.backend.read(logits)).forEach((f, n) => (out[first + n] = sigmoid(f)));
      });
      return out;
    });
  }

  /**
   * Predicted click probabilities of every item for each (user, context) row: B×items, row-major.
   *
   * @example
   * const s = await model.scores(new Int32Array([5]), context);   // s[k]: P(click on item k)
   */
  scores(users: Int32Array, contexts?: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    return this.run('scores', async () => {
      const op = `${MODEL}.scores`;
      const u = checkIds(op, this.sizes, 'users', users);
      const ctx = checkInteractionContexts(op, this.sizes, contexts, u.length);
      const out = new Float32Array(u.length * this.options.items);
      if (u.length === 0) return out;
      const pairs = allPairs(this.options.items, u);
      await this.logits(pairs.users, pairs.items, ctx, pairs.contextRows, this.options.items, async (logits, first) => {
        (await this.backend.read(logits)).forEach((f, n) => (out[first + n] = sigmoid(f)));
      });
      return out;
    });
  }

  /**
   * The B×items logits of every (user row, item) pair in the kept scratch, chunk by chunk (the
   * network's activations are what must fit one binding; the grid itself is items times smaller).
   */
  private async logitGrid(op: string, users: Int32Array, contexts: Float32Array): Promise<Tensor> {
    const K = this.options.items, B = users.length, pairs = allPairs(this.options.items, users);
    checkBatchBindings(op, this.backend.maxBindingBytes, B, [['scores', 4 * K]]);
    const grid = this.scratch('logits', [B, K]);
    await this.logits(pairs.users, pairs.items, contexts, pairs.contextRows, K, async (logits, first, rows) => {
      this.backend.copy(logits, grid, { srcOffset: 0, dstOffset: first, count: rows });
    });
    return grid;
  }

  /**
   * The item with the highest predicted click probability for each (user, context) row, ties to
   * the lowest item (with an exploration, a draw of it), over the eligible items when `eligible`
   * (items or B×items 0/1 values) is given. Only B integers are read back.
   *
   * @example
   * const picks = await model.select(new Int32Array([1, 2, 3]), contexts);   // Int32Array(3)
   */
  select(users: Int32Array, contexts?: Float32Array | ArrayLike<number>, options?: SelectOptions): Promise<Int32Array> {
    return this.run('select', async () => {
      const op = `${MODEL}.select`;
      const u = checkIds(op, this.sizes, 'users', users);
      const ctx = checkInteractionContexts(op, this.sizes, contexts, u.length);
      const checked = this.decisions.check(op, options, Math.max(u.length, 1), this.options.items, false);
      if (u.length === 0) return new Int32Array(0);
      const staged = this.decisions.stage(this.host, checked, u.length, this.options.items);
      return this.decisions.select(this.host, await this.logitGrid(op, u, ctx), staged, op);
    });
  }

  /**
   * Decides an item (or with `{ k }` a slate of k distinct items) for each (user, context) row:
   * `{ arms, propensities, eventIds }`, the arms being items; greedy with propensity 1 without an
   * exploration. The propensities are computed on the backend in the same step as the logits.
   * Bad options or a row with fewer than k eligible items are a BanditError, the model unchanged.
   *
   * @example
   * const { arms, propensities, eventIds } = await model.decide(new Int32Array([7]), context, { k: 3 });
   */
  decide(users: Int32Array, contexts?: Float32Array | ArrayLike<number>, options?: DecideOptions): Promise<Decision> {
    return this.run('decide', async () => {
      const op = `${MODEL}.decide`;
      const u = checkIds(op, this.sizes, 'users', users);
      const ctx = checkInteractionContexts(op, this.sizes, contexts, u.length);
      const checked = this.decisions.check(op, options, Math.max(u.length, 1), this.options.items, true);
      if (u.length === 0) return { arms: new Int32Array(0), propensities: new Float32Array(0), eventIds: [] };
      const staged = this.decisions.stage(this.host, checked, u.length, this.options.items);
      return this.decisions.decide(this.host, await this.logitGrid(op, u, ctx), staged, op);
    });
  }

  /**
   * Adam steps and epochs trained so far, and the decision stream (its seed and next step).
   *
   * @example
   * const { steps, epochs } = model.diagnostics();
   */
  diagnostics(): { readonly steps: number; readonly epochs: number; readonly decisions: { readonly seed: number; readonly step: number } } {
    return { steps: this.trainer.steps, epochs: this.epochsTrained, decisions: this.decisions.key };
  }

  private tables(): [string, AdamTable][] {
    return [['theta', this.theta], ['userEmbeddings', this.userEmb], ['itemEmbeddings', this.itemEmb]];
  }

  /**
   * The whole model as versioned bytes: options, counters, the MLP and both embedding tables with
   * their Adam moments, and the generator's state, so `fit` after `load` continues exactly as it
   * would have. Float64 state (cpu backend) is saved as float64, GPU state as float32.
   *
   * @example
   * const bytes = await model.save();
   * const same = await EmbeddingMLP.load(backend, bytes);
   */
  save(): Promise<Uint8Array> {
    return this.run('save', async () => {
      const arrays: Record<string, SavedArray> = {};
      for (const [name, p] of this.tables()) {
        for (const [part, t] of [['value', p.value], ['m', p.moments.m], ['v', p.moments.v]] as const) {
          arrays[`${name}.${part}`] = (await this.backend.read(t)) as Float32Array | Float64Array;
        }
      }
      arrays['random'] = this.random.state();
      return saveModel({
        model: MODEL, version: MODEL_VERSION,
        options: { ...savedEmbeddingOptions(this.options), hidden: [...this.options.hidden] },
        counters: { steps: this.trainer.steps, epochs: this.epochsTrained, ...this.decisions.counters() },
        arrays,
      });
    });
  }

  /**
   * Restores a model saved by `save()` on any backend. Corrupt, truncated or wrong-version bytes
   * throw BanditError.
   *
   * @example
   * const model = await EmbeddingMLP.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array): Promise<EmbeddingMLP> {
    const saved = SavedModelReader.open(bytes, MODEL, [MODEL_VERSION]);
    const counters = saved.counts(['steps', 'epochs'] as const);
    const state = saved.arrays['random'];
    if (!(state instanceof Uint32Array) || state.length !== 4 || state.every((v) => v === 0)) throw new BanditError(`${MODEL}.load: the generator state is missing or invalid`);
    const model = await EmbeddingMLP.create(backend, saved.options as unknown as EmbeddingMLPOptions);
    return restored(model, (m) => {
      for (const [name, p] of m.tables()) {
        for (const [part, t] of [['value', p.value], ['m', p.moments.m], ['v', p.moments.v]] as const) {
          backend.write(t, saved.need(`${name}.${part}`, t.size, { finite: true }));
        }
      }
      m.random = Random.fromState(state);
      m.trainer.steps = counters.steps;
      m.epochsTrained = counters.epochs;
      m.decisions.restore(saved);
    });
  }
}
