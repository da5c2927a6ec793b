import { BanditError } from '../core/errors.js';
import { Random } from '../core/random.js';
import { ModelBase } from '../models/base.js';
import { Catalogue } from '../models/catalogue.js';
import { Decisions } from '../models/decisions.js';
import { Trainer, type Minibatches } from '../models/trainer.js';
import { mlpForward, mlpLayout, type MlpLayout } from '../ops/mlp.js';
import { gatherRows, scatterAddRows } from '../ops/mlp-train.js';
import { AdamTable } from './embedding-table.js';
import { allPairs, permutation, withoutZeroWeightRows, type CheckedLog, type ResolvedEmbeddingMLPOptions } from './embedding-input.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { checkBatchBindings, checkModelSize, numberOption } from '../core/check.js';

// EmbeddingMLP's state and the machinery under its calls: the tables (θ, user and item
// embeddings with their Adam moments), the trainer and its minibatches, the chunked forward
// pass, the items' catalogue and growth. The public calls are in embedding-mlp.ts.

export interface FitOptions {
  /** Passes over the log. Default: the model's `epochs`. */
  readonly epochs?: number;
  /**
   * Called after every epoch with its index (from 0 within this fit) and its mean training loss.
   * Without it, a fit reads its losses back once, at the end; with it, once an epoch.
   */
  readonly onProgress?: (epoch: number, loss: number) => void;
}

export const MODEL = 'EmbeddingMLP';
/** Standard deviation of the initial embeddings. */
const EMBEDDING_INIT_STD = 0.1;

/**
 * What EmbeddingMLP is made of (see it): its tables, trainer, decisions and items, and the
 * encoding of its fits, forward passes and growth.
 *
 * @example
 * class Served extends EmbeddingCore {
 *   best(users: Int32Array) { return this.run('best', async () => this.host.argmaxRows(await this.logitGrid('best', users, new Float32Array(0)))); }
 * }
 */
export abstract class EmbeddingCore extends ModelBase {
  /** The MLP's parameter layout (input width 2·embeddingDim + contextDim). */
  readonly layout: MlpLayout;
  protected current: Readonly<ResolvedEmbeddingMLPOptions>;
  protected readonly theta: AdamTable;
  protected readonly userEmb: AdamTable;
  protected readonly itemEmb: AdamTable;
  /** Zeros to clear the embedding gradients with (a buffer copy, inside the step); regrown with the tables. */
  protected zeros: Tensor;
  protected readonly trainer: Trainer;
  protected readonly decisions: Decisions;
  /** The items: how many, and which are retired (never served again). */
  protected readonly items: Catalogue;
  protected random: Random;
  protected epochsTrained = 0;

  protected constructor(backend: Backend, options: ResolvedEmbeddingMLPOptions) {
    super(backend, MODEL);
    this.current = Object.freeze(options);
    const o = options, e = o.embeddingDim;
    this.layout = mlpLayout(this.inputDim, o.hidden);
    this.decisions = new Decisions(MODEL, { exploration: o.exploration, seed: o.seed >>> 0 });
    this.items = new Catalogue(MODEL, o.items, null);
    this.random = new Random(o.seed);
    const theta = new Float32Array(this.layout.paramCount);
    for (const l of this.layout.layers) {
      // He-uniform for ReLU inputs: variance 2/n_in.
      const bound = Math.sqrt(6 / l.in);
      for (let q = l.weightOffset; q < l.biasOffset; q++) theta[q] = (2 * this.random.uniform() - 1) * bound;
    }
    const embeddings = (rows: number) => Float32Array.from({ length: rows * e }, () => EMBEDDING_INIT_STD * this.random.normal());
    const users = embeddings(o.users), items = embeddings(o.items);
    const table = (data: Float32Array, rows: number, width: number, name: string) => this.own(new AdamTable(backend, `${MODEL} ${name}`, data, rows, width));
    // Whichever zeros are current are freed.
    this.own({ dispose: () => this.zeros?.dispose() });
    try {
      this.theta = table(theta, this.layout.paramCount, 1, 'θ');
      this.userEmb = table(users, o.users, e, 'user embeddings');
      this.itemEmb = table(items, o.items, e, 'item embeddings');
      this.zeros = backend.zeros([Math.max(o.users, o.items) * e], { label: `${MODEL} zeros` });
      this.trainer = this.own(new Trainer(backend, {
        label: MODEL, dim: this.inputDim, hidden: o.hidden, loss: 'logistic', optimizer: 'adam', lr: o.lr,
        theta: this.theta, inputs: [this.userEmb, this.itemEmb],
      }));
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** The resolved options; `users` and `items` are the numbers now (addUsers, addItems grow them). */
  get options(): Readonly<ResolvedEmbeddingMLPOptions> {
    return this.current;
  }

  /** Width of the MLP's input rows. */
  get inputDim(): number {
    return 2 * this.options.embeddingDim + this.options.contextDim;
  }

  protected get sizes(): { users: number; items: number; contextDim: number } {
    return this.options;
  }

  /** Writes [userEmb[u] | itemEmb[i] | contexts[c]] rows into x (N×inputDim). */
  protected assemble(x: Tensor, users: Int32Array, items: Int32Array, contexts: Tensor | null, contextRows: Int32Array | null): void {
    const e = this.options.embeddingDim;
    gatherRows(this.backend, this.userEmb.value, users, { out: x, column: 0 });
    gatherRows(this.backend, this.itemEmb.value, items, { out: x, column: e });
    if (contexts && contextRows) gatherRows(this.backend, contexts, contextRows, { out: x, column: 2 * e });
  }

  /**
   * The log as minibatches: x = [userEmb | itemEmb | context] and the clicks gathered by row;
   * backward scatters ∇x into the embedding gradients (cleared first).
   */
  protected minibatches(log: CheckedLog, contexts: Tensor | null, clicks: Tensor, weights: Tensor | null): Minibatches {
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
      ...(weights ? { gatherWeights: (rows: Int32Array, w: Tensor) => gatherRows(b, weights, rows, { out: w }) } : {}),
    };
  }

  /**
   * The log's contexts and clicks on the backend for the duration of `body` (freed after: a log
   * can be large, and is not kept between calls).
   */
  protected async withLog<T>(log: CheckedLog, body: (source: Minibatches) => Promise<T>): Promise<T> {
    const b = this.backend, c = this.options.contextDim;
    const contexts = c > 0 ? b.tensor(log.contexts, [log.rows, c], { label: `${MODEL} log contexts` }) : null;
    let clicks: Tensor | null = null, weights: Tensor | null = null;
    try {
      clicks = b.tensor(log.clicks, [log.rows], { label: `${MODEL} log clicks` });
      if (log.weights) weights = b.tensor(log.weights, [log.rows], { label: `${MODEL} log weights` });
      return await body(this.minibatches(log, contexts, clicks, weights));
    } finally {
      contexts?.dispose();
      clicks?.dispose();
      weights?.dispose();
    }
  }

  protected async fitChecked(op: string, checked: CheckedLog, options: FitOptions): Promise<{ losses: number[] }> {
    if (!options || typeof options !== 'object') throw new BanditError(`${op}: options must be an object`);
    const epochs = numberOption(op, 'epochs', options.epochs, this.options.epochs, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
    const onProgress = options.onProgress;
    if (onProgress !== undefined && typeof onProgress !== 'function') throw new BanditError(`${op}: onProgress must be a function`);
    const data = withoutZeroWeightRows(checked);
    const N = data.rows, B = Math.min(this.options.batchSize, N), batches = Math.ceil(N / B);
    const losses: number[] = [];
    if (N === 0) return { losses };
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
  }

  protected async logits(users: Int32Array, items: Int32Array, contexts: Float32Array, contextRows: Int32Array, rowsPerGroup: number, each: (logits: Tensor, first: number, rows: number) => Promise<void>): Promise<void> {
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
   * The B×items logits of every (user row, item) pair in the kept scratch, chunk by chunk (the
   * network's activations are what must fit one binding; the grid itself is items times smaller).
   */
  protected async logitGrid(op: string, users: Int32Array, contexts: Float32Array): Promise<Tensor> {
    const K = this.options.items, B = users.length, pairs = allPairs(this.options.items, users);
    checkBatchBindings(op, this.backend.maxBindingBytes, B, [['scores', 4 * K]]);
    const grid = this.scratch('logits', [B, K]);
    await this.logits(pairs.users, pairs.items, contexts, pairs.contextRows, K, async (logits, first, rows) => {
      this.backend.copy(logits, grid, { srcOffset: 0, dstOffset: first, count: rows });
    });
    return grid;
  }

  protected tables(): [string, AdamTable][] {
    return [['theta', this.theta], ['userEmbeddings', this.userEmb], ['itemEmbeddings', this.itemEmb]];
  }

  /**
   * Grows the user or item table by `grow` rows and puts the `reuse` rows (retired item slots)
   * back at the start value: the mean of the table's live rows (all users; the items not
   * retired, or every item when all are), read back once, with Adam moments 0; every other row
   * bit for bit. The new tensors are all made before any replaces an old one.
   */
  protected async growTable(op: string, which: 'users' | 'items', grow: number, reuse: Int32Array): Promise<void> {
    const e = this.options.embeddingDim, table = which === 'users' ? this.userEmb : this.itemEmb;
    const sizes = { users: this.options.users, items: this.options.items, [which]: this.options[which] + grow };
    const limit = this.backend.maxBindingBytes;
    checkModelSize(op, `${sizes.users} users and ${sizes.items} items × embeddingDim ${e}`, 3 * (sizes.users + sizes.items) * e, this.backend);
    if (sizes[which] * e * 4 > limit) throw new BanditError(`${op}: ${sizes[which]} ${which} × embeddingDim ${e} need ${sizes[which] * e * 4} bytes, over the ${limit} one storage binding holds`);
    const live = which === 'items' ? this.items.live() : null;
    const mean = await table.meanRow(live ? Int32Array.from({ length: live.length }, (_, i) => i).filter((i) => live[i] === 1) : null);
    const init = new Float64Array(grow * e);
    for (let j = 0; j < grow; j++) init.set(mean, j * e);
    const need = Math.max(sizes.users, sizes.items) * e;
    const zeros = need > this.zeros.size ? this.backend.zeros([need], { label: `${MODEL} zeros` }) : null;
    try {
      table.grow(grow, init);
    } catch (err) {
      zeros?.dispose();
      throw err;
    }
    table.resetRows(reuse, mean);
    if (zeros) {
      this.zeros.dispose();
      this.zeros = zeros;
    }
    this.current = Object.freeze({ ...this.current, [which]: sizes[which] });
  }
}
