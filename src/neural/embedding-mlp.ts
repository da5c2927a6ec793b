import { BanditError } from '../core/errors.js';
import { CallQueue } from '../models/queue.js';
import { decodeModel, encodeModel, savedCounters, type SavedArray } from '../models/persist.js';
import { Random } from '../core/random.js';
import { rowArgmax } from '../ops/argmax.js';
import { mlpForward, mlpLayout, type MlpLayout } from '../ops/mlp.js';
import { gatherRows, mlpLossGradient, optimizerStep, scatterAddRows } from '../ops/mlp-train.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { numberOption, positiveInt } from '../core/check.js';

/** Options of `EmbeddingMLP.create`. */
export interface EmbeddingMLPOptions {
  /** Number of users (ids 0 … users − 1). */
  readonly users: number;
  /** Number of items (ids 0 … items − 1). */
  readonly items: number;
  /** Width of the context features of an interaction (0: none). */
  readonly contextDim: number;
  /** Width of each user and item embedding. Default 8. */
  readonly embeddingDim?: number;
  /** Hidden layer widths of the ReLU network on [user embedding | item embedding | context]. Default [64]. */
  readonly hidden?: readonly number[];
  /** Adam's step size. Default 1e-2. */
  readonly lr?: number;
  /** Interactions a minibatch (the last one of an epoch may be smaller). Default 256. */
  readonly batchSize?: number;
  /** Passes over the log a `fit` makes unless it says otherwise. Default 5. */
  readonly epochs?: number;
  /** L2 weight decay: l2·w is added to the gradient of every weight and embedding (the loss gains l2/2·‖w‖²). Default 0. */
  readonly l2?: number;
  /** Seed of the initial weights and the minibatch order. Default 0. */
  readonly seed?: number;
}

type Resolved = Required<Omit<EmbeddingMLPOptions, 'hidden'>> & { readonly hidden: readonly number[] };

/** Logged interactions: row n is user `users[n]` shown item `items[n]` in context n, clicked or not. */
export interface InteractionLog {
  readonly users: Int32Array;
  readonly items: Int32Array;
  /** N×contextDim, row-major (may be empty when contextDim is 0). */
  readonly contexts: Float32Array | ArrayLike<number>;
  /** Click labels in [0, 1] (0/1 clicks, or click rates). */
  readonly clicks: Float32Array | ArrayLike<number>;
}

export interface FitOptions {
  /** Passes over the log. Default: the model's `epochs`. */
  readonly epochs?: number;
  /** Called after every epoch with its index (from 0 within this fit) and its mean training loss. */
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

interface Adam {
  readonly value: Tensor;
  readonly m: Tensor;
  readonly v: Tensor;
  readonly grad: Tensor;
}

const isNumbers = (v: unknown): v is ArrayLike<number> => (ArrayBuffer.isView(v) && !(v instanceof DataView)) || Array.isArray(v);

function resolveOptions(o: EmbeddingMLPOptions): Resolved {
  if (!o || typeof o !== 'object') throw new BanditError(`${MODEL}.create: options are required ({ users, items, contextDim, … })`);
  const users = positiveInt(MODEL, 'users', o.users);
  const items = positiveInt(MODEL, 'items', o.items);
  const contextDim = numberOption(MODEL, 'contextDim', o.contextDim, NaN, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  const embeddingDim = o.embeddingDim === undefined ? 8 : positiveInt(MODEL, 'embeddingDim', o.embeddingDim);
  const hidden = o.hidden ?? [64];
  if (!Array.isArray(hidden)) throw new BanditError(`${MODEL}: option hidden must be an array of widths, got ${String(hidden)}`);
  hidden.forEach((h, l) => positiveInt(MODEL, `hidden[${l}]`, h));
  const lr = numberOption(MODEL, 'lr', o.lr, 1e-2, (v) => v > 0, '> 0');
  const batchSize = o.batchSize === undefined ? 256 : positiveInt(MODEL, 'batchSize', o.batchSize);
  const epochs = numberOption(MODEL, 'epochs', o.epochs, 5, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  const l2 = numberOption(MODEL, 'l2', o.l2, 0, (v) => v >= 0, '≥ 0');
  const seed = numberOption(MODEL, 'seed', o.seed, 0, (v) => Number.isInteger(v), 'an integer');
  return { users, items, contextDim, embeddingDim, hidden: [...hidden], lr, batchSize, epochs, l2, seed };
}

/**
 * The static recommender baseline: user and item embeddings and the context features,
 * concatenated as [userEmb[u] | itemEmb[i] | context], feed a ReLU MLP whose output is the logit
 * of the click probability. `fit` trains everything (embeddings included) on logged interactions
 * in shuffled minibatches, binary cross-entropy and Adam, on the backend; the model is then served
 * frozen: `select` picks, for each user and context, the item with the highest predicted click
 * probability (ties to the lowest item), and never learns from what it serves.
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
export class EmbeddingMLP {
  readonly backend: Backend;
  readonly options: Readonly<Resolved>;
  /** The MLP's parameter layout (input width 2·embeddingDim + contextDim). */
  readonly layout: MlpLayout;
  private readonly theta: Adam;
  private readonly userEmb: Adam;
  private readonly itemEmb: Adam;
  /** Zeros to clear the embedding gradients with (a buffer copy, inside the step). */
  private readonly zeros: Tensor;
  private random: Random;
  /** Adam steps taken (t of the bias correction). */
  private steps = 0;
  private epochsTrained = 0;
  private isDisposed = false;
  private readonly calls = new CallQueue();

  private constructor(backend: Backend, options: Resolved, state: { theta: Adam; userEmb: Adam; itemEmb: Adam; zeros: Tensor }, random: Random) {
    this.backend = backend;
    this.options = Object.freeze(options);
    this.layout = mlpLayout(this.inputDim, options.hidden);
    this.theta = state.theta;
    this.userEmb = state.userEmb;
    this.itemEmb = state.itemEmb;
    this.zeros = state.zeros;
    this.random = random;
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
    if (!backend || typeof backend.zeros !== 'function') throw new BanditError(`${MODEL}.create: a backend from createBackend() is required`);
    if (backend.disposed) throw new BanditError(`${MODEL}.create: the backend has been disposed`);
    const o = resolveOptions(options);
    const inputDim = 2 * o.embeddingDim + o.contextDim;
    const { layers, paramCount } = mlpLayout(inputDim, o.hidden);
    const e = o.embeddingDim;
    const limit = backend.maxBindingBytes;
    for (const [what, floats] of [['the user embeddings', o.users * e], ['the item embeddings', o.items * e], ['θ', paramCount]] as const) {
      if (floats * 4 > limit) throw new BanditError(`${MODEL}.create: ${what} need ${floats * 4} bytes, over the ${limit} one storage binding holds`);
    }
    const random = new Random(o.seed);
    const theta = new Float32Array(paramCount);
    for (const l of layers) {
      // He-uniform for ReLU inputs: variance 2/n_in.
      const bound = Math.sqrt(6 / l.in);
      for (let q = l.weightOffset; q < l.biasOffset; q++) theta[q] = (2 * random.uniform() - 1) * bound;
    }
    const embeddings = (rows: number) => Float32Array.from({ length: rows * e }, () => EMBEDDING_INIT_STD * random.normal());
    const users = embeddings(o.users), items = embeddings(o.items);
    const made: Tensor[] = [];
    const tensor = (data: Float32Array | null, shape: number[], label: string) => {
      const t = data ? backend.tensor(data, shape, { label }) : backend.zeros(shape, { label });
      made.push(t);
      return t;
    };
    const adam = (data: Float32Array, shape: number[], name: string): Adam => ({
      value: tensor(data, shape, `${MODEL} ${name}`), m: tensor(null, shape, `${MODEL} ${name} m`),
      v: tensor(null, shape, `${MODEL} ${name} v`), grad: tensor(null, shape, `${MODEL} ${name} gradient`),
    });
    try {
      const state = {
        theta: adam(theta, [paramCount], 'θ'), userEmb: adam(users, [o.users, e], 'user embeddings'),
        itemEmb: adam(items, [o.items, e], 'item embeddings'), zeros: tensor(null, [Math.max(o.users, o.items) * e], 'zeros'),
      };
      await backend.sync();
      return new EmbeddingMLP(backend, o, state, random);
    } catch (err) {
      for (const t of made) t.dispose();
      throw err;
    }
  }

  private run<T>(what: string, body: () => Promise<T>): Promise<T> {
    return this.calls.run(`${MODEL}.${what}`, this.isDisposed, body);
  }

  private checkIds(op: string, name: 'users' | 'items', ids: unknown, rows?: number): Int32Array {
    const count = name === 'users' ? this.options.users : this.options.items;
    if (!(ids instanceof Int32Array)) throw new BanditError(`${op}: ${name} must be an Int32Array`);
    if (rows !== undefined && ids.length !== rows) throw new BanditError(`${op}: ${rows} rows but ${ids.length} ${name}`);
    for (let n = 0; n < ids.length; n++) {
      const id = ids[n]!;
      if (id < 0 || id >= count) throw new BanditError(`${op}: ${name}[${n}] = ${id} is out of range 0..${count - 1}`);
    }
    return ids;
  }

  /** Checks rows×contextDim finite context values (an absent or empty array when contextDim is 0). */
  private checkContexts(op: string, contexts: unknown, rows: number): Float32Array {
    const c = this.options.contextDim;
    if (c === 0 && (contexts === undefined || (isNumbers(contexts) && contexts.length === 0))) return new Float32Array(0);
    if (!isNumbers(contexts)) throw new BanditError(`${op}: contexts must be a Float32Array (or an array of numbers)`);
    if (contexts.length !== rows * c) throw new BanditError(`${op}: contexts has ${contexts.length} values; ${rows} rows need ${rows}×${c}`);
    for (let i = 0; i < contexts.length; i++) {
      const v = contexts[i]!;
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new BanditError(`${op}: contexts[${i}] (row ${Math.floor(i / c)}, element ${i % c}) is ${String(v)}; values must be finite`);
      }
    }
    return Float32Array.from(contexts);
  }

  private checkLog(op: string, log: InteractionLog): { users: Int32Array; items: Int32Array; contexts: Float32Array; clicks: Float32Array; rows: number } {
    if (!log || typeof log !== 'object') throw new BanditError(`${op}: the log must be { users, items, contexts, clicks }`);
    const users = this.checkIds(op, 'users', log.users);
    const rows = users.length;
    if (rows === 0) throw new BanditError(`${op}: the log is empty`);
    const items = this.checkIds(op, 'items', log.items, rows);
    const contexts = this.checkContexts(op, log.contexts, rows);
    const clicks = log.clicks;
    if (!isNumbers(clicks)) throw new BanditError(`${op}: clicks must be a Float32Array (or an array of numbers)`);
    if (clicks.length !== rows) throw new BanditError(`${op}: ${rows} rows but ${clicks.length} clicks`);
    for (let n = 0; n < rows; n++) {
      const v = clicks[n]!;
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new BanditError(`${op}: clicks[${n}] is ${String(v)}; labels must be in [0, 1]`);
    }
    const limit = this.backend.maxBindingBytes;
    const widest = Math.max(this.options.contextDim, 1);
    if (rows * widest * 4 > limit) {
      throw new BanditError(`${op}: ${rows} rows of contexts need ${rows * widest * 4} bytes, over the ${limit} one binding holds; fit in parts`);
    }
    return { users, items, contexts, clicks: Float32Array.from(clicks), rows };
  }

  /** Writes [userEmb[u] | itemEmb[i] | contexts[c]] rows into x (N×inputDim). */
  private assemble(x: Tensor, users: Int32Array, items: Int32Array, contexts: Tensor | null, contextRows: Int32Array | null): void {
    const e = this.options.embeddingDim;
    gatherRows(this.backend, this.userEmb.value, users, { out: x, column: 0 });
    gatherRows(this.backend, this.itemEmb.value, items, { out: x, column: e });
    if (contexts && contextRows) gatherRows(this.backend, contexts, contextRows, { out: x, column: 2 * e });
  }

  /**
   * Minibatch gradient of the mean loss over `rows` of the log into the three gradient tensors
   * (θ's through mlpLossGradient, the embeddings' by scattering the input gradient), the batch
   * loss into `lossOut`.
   */
  private encodeGradients(scratch: Tensor[], rows: Int32Array, log: { users: Int32Array; items: Int32Array }, contexts: Tensor | null, clicks: Tensor, lossOut: Tensor, scale: number): void {
    const b = this.backend, e = this.options.embeddingDim;
    const [x, y, inputGrad] = scratch as [Tensor, Tensor, Tensor];
    const users = Int32Array.from(rows, (n) => log.users[n]!), items = Int32Array.from(rows, (n) => log.items[n]!);
    this.assemble(x, users, items, contexts, rows);
    gatherRows(b, clicks, rows, { out: y });
    mlpLossGradient(b, this.theta.value, x, y, {
      dim: this.inputDim, hidden: this.options.hidden, loss: 'logistic', scale, out: this.theta.grad, lossOut, inputGrad,
    });
    for (const [table, ids, column] of [[this.userEmb, users, 0], [this.itemEmb, items, e]] as const) {
      b.copy(this.zeros, table.grad, { srcOffset: 0, dstOffset: 0, count: table.grad.size });
      scatterAddRows(b, inputGrad, ids, table.grad, { column });
    }
  }

  /** Tensors of one batch size: x, y, the input gradient. */
  private batchScratch(rows: number): Tensor[] {
    const b = this.backend;
    return [
      b.zeros([rows, this.inputDim], { label: `${MODEL} x` }), b.zeros([rows], { label: `${MODEL} y` }),
      b.zeros([rows, this.inputDim], { label: `${MODEL} ∇x` }),
    ];
  }

  /** The log's contexts and clicks on the backend for the duration of `body`. */
  private async withLog<T>(log: { contexts: Float32Array; clicks: Float32Array; rows: number }, body: (contexts: Tensor | null, clicks: Tensor) => Promise<T>): Promise<T> {
    const b = this.backend, c = this.options.contextDim;
    const contexts = c > 0 ? b.tensor(log.contexts, [log.rows, c], { label: `${MODEL} log contexts` }) : null;
    let clicks: Tensor | null = null;
    try {
      clicks = b.tensor(log.clicks, [log.rows], { label: `${MODEL} log clicks` });
      return await body(contexts, clicks);
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
      const data = this.checkLog(op, log);
      if (!options || typeof options !== 'object') throw new BanditError(`${op}: options must be an object`);
      const epochs = numberOption(op, 'epochs', options.epochs, this.options.epochs, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
      const onProgress = options.onProgress;
      if (onProgress !== undefined && typeof onProgress !== 'function') throw new BanditError(`${op}: onProgress must be a function`);
      const b = this.backend, N = data.rows, B = Math.min(this.options.batchSize, N);
      const batches = Math.ceil(N / B);
      const losses: number[] = [];
      await this.withLog(data, async (contexts, clicks) => {
        const sizes = [...new Set([B, N - (batches - 1) * B])];
        const scratch = new Map(sizes.map((s) => [s, this.batchScratch(s)]));
        const stepLosses = b.zeros([batches], { label: `${MODEL} batch losses` });
        const lossOut = b.zeros([1], { label: `${MODEL} batch loss` });
        try {
          for (let epoch = 0; epoch < epochs; epoch++) {
            const order = this.permutation(N);
            for (let k = 0; k < batches; k++) {
              const rows = order.subarray(k * B, Math.min(N, (k + 1) * B));
              this.encodeGradients(scratch.get(rows.length)!, rows, data, contexts, clicks, lossOut, 1 / rows.length);
              b.copy(lossOut, stepLosses, { srcOffset: 0, dstOffset: k, count: 1 });
              this.encodeSteps();
            }
            const per = await b.read(stepLosses);
            let loss = 0;
            for (let k = 0; k < batches; k++) loss += (per[k]! * Math.min(B, N - k * B)) / N;
            this.epochsTrained++;
            losses.push(loss);
            onProgress?.(epoch, loss);
          }
          await b.sync();
        } finally {
          for (const list of scratch.values()) for (const t of list) t.dispose();
          stepLosses.dispose();
          lossOut.dispose();
        }
      });
      return { losses };
    });
  }

  /** One Adam step of θ and both embedding tables from their gradient tensors. */
  private encodeSteps(): void {
    this.steps++;
    for (const p of [this.theta, this.userEmb, this.itemEmb]) {
      optimizerStep(this.backend, {
        params: p.value, grad: p.grad, kind: 'adam', state: { m: p.m, v: p.v }, lr: this.options.lr, step: this.steps, decay: this.options.l2,
      });
    }
  }

  /** A uniformly random order of 0 … n−1 (Fisher–Yates on the model's generator). */
  private permutation(n: number): Int32Array {
    const order = Int32Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.random.int(i + 1);
      const t = order[i]!;
      order[i] = order[j]!;
      order[j] = t;
    }
    return order;
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
      const data = this.checkLog(`${MODEL}.gradients`, log);
      const b = this.backend;
      return this.withLog(data, async (contexts, clicks) => {
        const scratch = this.batchScratch(data.rows), lossOut = b.zeros([1]);
        try {
          this.encodeGradients(scratch, Int32Array.from({ length: data.rows }, (_, n) => n), data, contexts, clicks, lossOut, 1 / data.rows);
          return {
            loss: (await b.read(lossOut))[0]!,
            theta: (await b.read(this.theta.grad)) as Float32Array | Float64Array,
            userEmbeddings: (await b.read(this.userEmb.grad)) as Float32Array | Float64Array,
            itemEmbeddings: (await b.read(this.itemEmb.grad)) as Float32Array | Float64Array,
          };
        } finally {
          for (const t of [...scratch, lossOut]) t.dispose();
        }
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
    const ctx = c > 0 ? b.tensor(contexts, [contexts.length / c, c], { label: `${MODEL} contexts` }) : null;
    try {
      for (let first = 0; first < total; first += chunk) {
        const rows = Math.min(chunk, total - first);
        const x = b.zeros([rows, this.inputDim], { label: `${MODEL} x` });
        try {
          this.assemble(x, users.subarray(first, first + rows), items.subarray(first, first + rows), ctx, contextRows.subarray(first, first + rows));
          const { output } = mlpForward(b, this.theta.value, x, { dim: this.inputDim, hidden: this.options.hidden });
          try {
            await each(output, first, rows);
          } finally {
            output.dispose();
          }
        } finally {
          x.dispose();
        }
      }
    } finally {
      ctx?.dispose();
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
      const u = this.checkIds(op, 'users', users);
      const i = this.checkIds(op, 'items', items, u.length);
      const ctx = this.checkContexts(op, contexts, u.length);
      const out = new Float32Array(u.length);
      if (u.length === 0) return out;
      await this.logits(u, i, ctx, Int32Array.from({ length: u.length }, (_, n) => n), 1, async (logits, first) => {
        (await this.backend.read(logits)).forEach((f, n) => (out[first + n] = sigmoid(f)));
      });
      return out;
    });
  }

  /** Every (user row, item) pair, row-major: users repeated over the items, the items tiled. */
  private allPairs(users: Int32Array): { users: Int32Array; items: Int32Array; contextRows: Int32Array } {
    const K = this.options.items, B = users.length;
    const u = new Int32Array(B * K), it = new Int32Array(B * K), rows = new Int32Array(B * K);
    for (let r = 0; r < B; r++) {
      u.fill(users[r]!, r * K, (r + 1) * K);
      rows.fill(r, r * K, (r + 1) * K);
      for (let k = 0; k < K; k++) it[r * K + k] = k;
    }
    return { users: u, items: it, contextRows: rows };
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
      const u = this.checkIds(op, 'users', users);
      const ctx = this.checkContexts(op, contexts, u.length);
      const out = new Float32Array(u.length * this.options.items);
      if (u.length === 0) return out;
      const pairs = this.allPairs(u);
      await this.logits(pairs.users, pairs.items, ctx, pairs.contextRows, this.options.items, async (logits, first) => {
        (await this.backend.read(logits)).forEach((f, n) => (out[first + n] = sigmoid(f)));
      });
      return out;
    });
  }

  /**
   * The item with the highest predicted click probability for each (user, context) row, ties to
   * the lowest item (argmax of the logits on the backend; only B integers are read back).
   *
   * @example
   * const picks = await model.select(new Int32Array([1, 2, 3]), contexts);   // Int32Array(3)
   */
  select(users: Int32Array, contexts?: Float32Array | ArrayLike<number>): Promise<Int32Array> {
    return this.run('select', async () => {
      const op = `${MODEL}.select`;
      const u = this.checkIds(op, 'users', users);
      const ctx = this.checkContexts(op, contexts, u.length);
      const out = new Int32Array(u.length);
      if (u.length === 0) return out;
      const K = this.options.items, pairs = this.allPairs(u);
      await this.logits(pairs.users, pairs.items, ctx, pairs.contextRows, K, async (logits, first, rows) => {
        const b = this.backend;
        const grid = b.zeros([rows / K, K], { label: `${MODEL} logits` });
        try {
          b.copy(logits, grid);
          const chosen = rowArgmax(b, grid);
          try {
            out.set(Int32Array.from(await b.read(chosen)), first / K);
          } finally {
            chosen.dispose();
          }
        } finally {
          grid.dispose();
        }
      });
      return out;
    });
  }

  /** Adam steps and epochs trained so far. */
  diagnostics(): { readonly steps: number; readonly epochs: number } {
    return { steps: this.steps, epochs: this.epochsTrained };
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
        for (const part of ['value', 'm', 'v'] as const) {
          arrays[`${name}.${part}`] = (await this.backend.read(p[part])) as Float32Array | Float64Array;
        }
      }
      arrays['random'] = this.random.state();
      return encodeModel({
        model: MODEL, modelVersion: MODEL_VERSION,
        meta: { options: { ...this.options, hidden: [...this.options.hidden] }, counters: { steps: this.steps, epochs: this.epochsTrained } },
        arrays,
      });
    });
  }

  private tables(): [string, Adam][] {
    return [['theta', this.theta], ['userEmbeddings', this.userEmb], ['itemEmbeddings', this.itemEmb]];
  }

  /**
   * Restores a model saved by `save()` on any backend. Corrupt, truncated or wrong-version bytes
   * throw BanditError.
   *
   * @example
   * const model = await EmbeddingMLP.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array): Promise<EmbeddingMLP> {
    const saved = decodeModel(bytes, MODEL, [MODEL_VERSION]);
    const meta = saved.meta as { options?: EmbeddingMLPOptions; counters?: Record<string, unknown> };
    if (!meta.options || !meta.counters) throw new BanditError(`${MODEL}.load: the header lacks options or counters`);
    const counters = savedCounters(MODEL, meta.counters, ['steps', 'epochs'] as const);
    const state = saved.arrays['random'];
    if (!(state instanceof Uint32Array) || state.length !== 4 || state.every((v) => v === 0)) throw new BanditError(`${MODEL}.load: the generator state is missing or invalid`);
    const model = await EmbeddingMLP.create(backend, meta.options);
    try {
      for (const [name, p] of model.tables()) {
        for (const part of ['value', 'm', 'v'] as const) {
          const a = saved.arrays[`${name}.${part}`];
          if (!a || a.length !== p[part].size) throw new BanditError(`${MODEL}.load: array ${name}.${part} should hold ${p[part].size} values, has ${a?.length ?? 'none'}`);
          for (let i = 0; i < a.length; i++) {
            if (!Number.isFinite(a[i]!)) throw new BanditError(`${MODEL}.load: array ${name}.${part} holds ${a[i]} at ${i}`);
          }
          backend.write(p[part], a);
        }
      }
      model.random = Random.fromState(state);
      model.steps = counters.steps;
      model.epochsTrained = counters.epochs;
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
    for (const [, p] of this.tables()) for (const t of [p.value, p.m, p.v, p.grad]) t.dispose();
    this.zeros.dispose();
  }

  get disposed(): boolean {
    return this.isDisposed;
  }
}

function sigmoid(f: number): number {
  return f >= 0 ? 1 / (1 + Math.exp(-f)) : Math.exp(f) / (1 + Math.exp(f));
}
