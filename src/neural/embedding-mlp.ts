import { BanditError } from '../core/errors.js';
import { checkModelSize } from '../core/check.js';
import { Random } from '../core/random.js';
import { built, placed, requireBackend, restored } from '../models/base.js';
import { loadOverrides, loadSaved, SavedModelReader, saveModel } from '../models/saved.js';
import { warmStartWeights, type WarmStartOptions } from '../models/weights.js';
import { mlpLayout } from '../ops/mlp.js';
import { EmbeddingCore, MODEL, type FitOptions } from './embedding-core.js';
import {
  allPairs, checkIds, checkInteractionContexts, checkLog, resolveEmbeddingMLPOptions, savedEmbeddingOptions, sigmoid,
  type EmbeddingLoggedDecisions, type EmbeddingMLPOptions, type InteractionLog, type ResolvedEmbeddingMLPOptions,
} from './embedding-input.js';
import type { AddArmsOptions } from '../models/catalogue.js';
import type { Decision, DecideOptions, SelectOptions } from '../models/decisions.js';
import type { SavedArray } from '../models/persist.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

export type { EmbeddingMLPOptions, EmbeddingLoggedDecisions, InteractionLog } from './embedding-input.js';
export type { FitOptions } from './embedding-core.js';

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

/** The formats: 1 before catalogues (still written when a save has no retired item), 2 with the retired items. */
const MODEL_VERSIONS = [1, 2] as const;

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
export class EmbeddingMLP extends EmbeddingCore {
  private constructor(backend: Backend, options: ResolvedEmbeddingMLPOptions) {
    super(backend, options);
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
    const fits = (b: Backend): void => {
      // Each table with its two Adam moments.
      checkModelSize(`${MODEL}.create`, `${o.users} users and ${o.items} items × embeddingDim ${e} and p = ${paramCount}`, 3 * ((o.users + o.items) * e + paramCount), b);
      for (const [what, floats] of [['the user embeddings', o.users * e], ['the item embeddings', o.items * e], ['θ', paramCount]] as const) {
        if (floats * 4 > b.maxBindingBytes) throw new BanditError(`${MODEL}.create: ${what} need ${floats * 4} bytes, over the ${b.maxBindingBytes} one storage binding holds`);
      }
    };
    // A decision scores every item for one user: a forward pass of ≈ p multiply-adds an item.
    const { backend: b } = await placed(MODEL, backend, fits, () => ({ multiplyAdds: o.items * paramCount }));
    return built(() => new EmbeddingMLP(b, o), `${MODEL}.create: the device could not allocate the model`);
  }

  /**
   * Trains on the log: each epoch shuffles it (from the model's seeded generator) and takes one Adam
   * step a minibatch of `batchSize` rows on the mean binary cross-entropy (plus l2), updating the
   * MLP and the embeddings of every user and item (dense Adam: rows absent from a batch still move
   * by their momentum). With `log.weights` the loss is the weighted one, Σ w_n·ℓ_n over the batch
   * size; rows of weight 0 are left out before anything (weights of 1 are the plain fit bit for
   * bit). Resolves with the mean training loss of each epoch (each batch's loss before its step,
   * weighted by its size). Bad input throws BanditError before anything changes.
   *
   * @example
   * const { losses } = await model.fit({ users, items, contexts, clicks }, { epochs: 10 });
   */
  fit(log: InteractionLog, options: FitOptions = {}): Promise<{ losses: number[] }> {
    return this.run('fit', [log, options], (log, options) => this.fitChecked(`${MODEL}.fit`, checkLog(`${MODEL}.fit`, this.sizes, this.backend.maxBindingBytes, log), options));
  }

  /**
   * Trains on a logged dataset of decisions (what `decide` and their rewards logged: users, the
   * items played as `arms`, contexts, clicks as `rewards` in [0, 1], and the logging policy's
   * propensities), each row weighted by its importance weight: 'ips' (default) min(1/p, clip)
   * normalised to mean 1 over the log, or 'none'. A `fit` of the weighted log (its epochs and
   * onProgress as fit's), so the baseline starts from yesterday's logs.
   *
   * @example
   * await model.warmStart({ users, arms: items, contexts, rewards: clicks, propensities }, { clip: 20, epochs: 3 });
   */
  warmStart(log: EmbeddingLoggedDecisions, options: WarmStartOptions & FitOptions = {}): Promise<{ losses: number[] }> {
    return this.run('warmStart', [log, options], async (log, options) => {
      const op = `${MODEL}.warmStart`;
      const weights = warmStartWeights(op, log, options, false);
      const { users, arms: items, contexts, rewards: clicks } = log;
      const data = checkLog(op, this.sizes, this.backend.maxBindingBytes, { users, items, contexts, clicks, ...(weights ? { weights } : {}) });
      return this.fitChecked(op, data, options);
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
    return this.run('gradients', [log], async (log) => {
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
  /**
   * Predicted click probabilities σ(f) of the pairs (users[n], items[n]) in context row n
   * (contexts N×contextDim; omit or pass an empty array when contextDim is 0).
   *
   * @example
   * const p = await model.predict(new Int32Array([0, 0]), new Int32Array([3, 7]), new Float32Array(2 * 4));
   */
  predict(users: Int32Array, items: Int32Array, contexts?: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    return this.run('predict', [users, items, contexts], async (users, items, contexts) => {
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
    return this.run('scores', [users, contexts], async (users, contexts) => {
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
   * The item with the highest predicted click probability for each (user, context) row, ties to
   * the lowest item (with an exploration, a draw of it), over the eligible items when `eligible`
   * (items or B×items 0/1 values) is given. Only B integers are read back.
   *
   * @example
   * const picks = await model.select(new Int32Array([1, 2, 3]), contexts);   // Int32Array(3)
   */
  select(users: Int32Array, contexts?: Float32Array | ArrayLike<number>, options?: SelectOptions): Promise<Int32Array> {
    return this.run('select', [users, contexts, options], async (users, contexts, options) => {
      const op = `${MODEL}.select`;
      const u = checkIds(op, this.sizes, 'users', users);
      const ctx = checkInteractionContexts(op, this.sizes, contexts, u.length);
      const checked = this.decisions.check(op, options, Math.max(u.length, 1), this.options.items, false, this.items.live());
      if (u.length === 0) return new Int32Array(0);
      const staged = this.decisions.stage(this.host, checked, u.length, this.options.items);
      return this.decisions.select(this.host, await this.logitGrid(op, u, ctx), staged, op);
    });
  }

  /**
   * Decides an item (or with `{ k }` a slate of k distinct items) for each (user, context) row:
   * `{ arms, propensities, eventIds }`, the arms being items; greedy with propensity 1 without an
   * exploration, never a retired item. The propensities are computed on the backend in the same
   * step as the logits. Bad options or a row with fewer than k eligible items are a BanditError,
   * the model unchanged.
   *
   * @example
   * const { arms, propensities, eventIds } = await model.decide(new Int32Array([7]), context, { k: 3 });
   */
  decide(users: Int32Array, contexts?: Float32Array | ArrayLike<number>, options?: DecideOptions): Promise<Decision> {
    return this.run('decide', [users, contexts, options], async (users, contexts, options) => {
      const op = `${MODEL}.decide`;
      const u = checkIds(op, this.sizes, 'users', users);
      const ctx = checkInteractionContexts(op, this.sizes, contexts, u.length);
      const checked = this.decisions.check(op, options, Math.max(u.length, 1), this.options.items, true, this.items.live());
      if (u.length === 0) return { arms: new Int32Array(0), propensities: new Float32Array(0), eventIds: [] };
      const staged = this.decisions.stage(this.host, checked, u.length, this.options.items);
      return this.decisions.decide(this.host, await this.logitGrid(op, u, ctx), staged, op);
    });
  }

  /**
   * Adds `n` users (ids users … users + n − 1). A new user's embedding starts at the mean of
   * every user's embedding (the average user: its predictions are the population's, until a fit
   * learns it), its Adam moments 0; every other table entry stays bit for bit. Resolves with the
   * new ids.
   *
   * @example
   * const [newUser] = await model.addUsers(1);
   */
  addUsers(n: number): Promise<Int32Array> {
    return this.run('addUsers', [n], async (n) => {
      const op = `${MODEL}.addUsers`;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) throw new BanditError(`${op}: the number of users to add must be an integer ≥ 0, got ${String(n)}`);
      const first = this.options.users;
      if (n > 0) await this.growTable(op, 'users', n, new Int32Array(0));
      await this.backend.sync();
      return Int32Array.from({ length: n }, (_, j) => first + j);
    });
  }

  /**
   * Adds `n` items. A new item's embedding starts at the mean of the live (not retired) items'
   * embeddings — the average item, so it is predicted as the catalogue is on average rather than
   * at a random point the trained network never saw — with Adam moments 0; every other table
   * entry stays bit for bit. With `reuseRetired`, retired item slots are taken first (reset the
   * same way). Resolves with the new items' ids.
   *
   * @example
   * const fresh = await model.addItems(3);                       // e.g. Int32Array [50, 51, 52]
   */
  addItems(n: number, options?: AddArmsOptions): Promise<Int32Array> {
    return this.run('addItems', [n, options], async (n, options) => {
      const op = `${MODEL}.addItems`;
      const plan = this.items.planAdd(op, n, options);
      if (plan.slots.length > 0) await this.growTable(op, 'items', plan.grow, plan.reuse);
      this.items.commitAdd(plan);
      await this.backend.sync();
      return plan.slots;
    });
  }

  /**
   * Retires items: no select or decide (nor its exploration) serves them again; their embeddings
   * stay (predict and scores still give them), and their slots are reused only by
   * `addItems(n, { reuseRetired: true })`. An item out of range, retired already or given twice is
   * a BanditError and nothing is retired.
   *
   * @example
   * await model.retireItems(Int32Array.of(4));
   */
  retireItems(items: Int32Array): Promise<void> {
    return this.run('retireItems', [items], async (items) => {
      const op = `${MODEL}.retireItems`;
      if (!(items instanceof Int32Array)) throw new BanditError(`${op}: items must be an Int32Array`);
      this.items.commitRetire(this.items.planRetire(op, items));
    });
  }

  /**
   * Adam steps and epochs trained so far, the decision stream (its seed and next step) and the
   * retired items.
   *
   * @example
   * const { steps, epochs, retired } = model.diagnostics();
   */
  diagnostics(): { readonly steps: number; readonly epochs: number; readonly decisions: { readonly seed: number; readonly step: number }; readonly retired: Int32Array } {
    return { steps: this.trainer.steps, epochs: this.epochsTrained, decisions: this.decisions.key, retired: this.items.retired };
  }

  /**
   * The whole model as versioned bytes: options (the numbers of users and items now), counters,
   * the MLP and both embedding tables with their Adam moments, the generator's state and the
   * retired items, so `fit` after `load` continues exactly as it would have. Float64 state (cpu backend) is saved as float64, GPU state as float32.
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
      const catalogue = this.items.saved();
      Object.assign(arrays, catalogue.arrays);
      return saveModel({
        model: MODEL, version: MODEL_VERSIONS[this.items.worthSaving ? 1 : 0],
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
  static async load(backend: Backend, bytes: Uint8Array, overrides: Record<string, never> = {}): Promise<EmbeddingMLP> {
    return loadSaved(MODEL, async () => {
      requireBackend(MODEL, backend, 'load');
      loadOverrides(MODEL, overrides, []);
      const saved = SavedModelReader.open(bytes, MODEL, MODEL_VERSIONS);
      const counters = saved.counts(['steps', 'epochs'] as const);
      const state = saved.arrays['random'];
      if (!(state instanceof Uint32Array) || state.length !== 4 || state.every((v) => v === 0)) throw new BanditError(`${MODEL}.load: the generator state is missing or invalid`);
      // The sizes the options describe must be the arrays present, checked before anything is allocated.
      const o = resolveEmbeddingMLPOptions(saved.options as unknown as EmbeddingMLPOptions);
      const e = o.embeddingDim, { paramCount } = mlpLayout(2 * e + o.contextDim, o.hidden);
      for (const [name, size] of [['theta', paramCount], ['userEmbeddings', o.users * e], ['itemEmbeddings', o.items * e]] as const) {
        saved.expect({ [`${name}.value`]: size, [`${name}.m`]: size, [`${name}.v`]: size });
        saved.need(`${name}.v`, size, { min: 0 });
      }
      const model = await EmbeddingMLP.create(backend, saved.options as unknown as EmbeddingMLPOptions);
      return EmbeddingMLP.restoreInto(backend, saved, model, state, counters);
    });
  }

  /** Writes a checked save into a just-created model. */
  private static restoreInto(backend: Backend, saved: SavedModelReader, model: EmbeddingMLP, state: Uint32Array, counters: { steps: number; epochs: number }): Promise<EmbeddingMLP> {
    return restored(model, (m) => {
      for (const [name, p] of m.tables()) {
        for (const [part, t] of [['value', p.value], ['m', p.moments.m], ['v', p.moments.v]] as const) {
          backend.write(t, saved.need(`${name}.${part}`, t.size));
        }
      }
      m.random = Random.fromState(state);
      m.trainer.steps = counters.steps;
      m.epochsTrained = counters.epochs;
      m.decisions.restore(saved);
      m.items.restore(saved);
    });
  }
}
