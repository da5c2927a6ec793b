import { BanditError } from '../core/errors.js';
import { ArmShards, armsPerShardOption, maxArmsPerBinding, pickRows } from '../models/arm-shards.js';
import { ModelBase } from '../models/base.js';
import { Decisions, type Decision, type DecideOptions, type DecisionsSetup, type SelectOptions } from '../models/decisions.js';
import { InverseHealth, inverseHealthOptions, type InverseHealthOptions } from '../models/inverse-health.js';
import { saveModel } from '../models/saved.js';
import { matVec } from '../ops/gemm.js';
import { discountedUpdate, gatherMatVec, scatterAddScaled, ucbScores } from '../ops/linucb.js';
import { shermanMorrisonUpdate, symRank1Update } from '../ops/rank1.js';
import { checkFactorDim } from './options.js';
import type { ThompsonScores } from '../models/exploration.js';
import type { SavedModelReader } from '../models/saved.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import {
  checkBatchBindings, checkContexts, checkPlayedArms, checkRewards, numberOption, playedRows, positiveInt, type ContextLayout,
} from '../core/check.js';

// What LinUCB and LinTS share: disjoint per-arm ridge models A_a = λI + Σ x xᵀ, b_a = Σ r x,
// θ_a = A_a⁻¹b_a over shards, the Sherman–Morrison inverses with their drift control, discounting,
// the update, and decide/select/scores around a scoring step that each model writes its own way.

/** The options LinUCB and LinTS both take. */
export interface DisjointLinearOptions {
  /** Number of arms K. */
  readonly arms: number;
  /** Context dimension d. */
  readonly dim: number;
  /** Ridge regularisation: every A_a starts as λI (> 0). Default 1. */
  readonly lambda?: number;
  /** Contexts are B×arms×dim (a vector per arm) instead of B×dim shared by all arms. Default false. */
  readonly perArmFeatures?: boolean;
  /**
   * Re-factorise A⁻¹ from A (Cholesky on the backend) of the arms updated since the last time,
   * after this many updates (rows), whatever the drift. 0 turns it off. Default 2048.
   */
  readonly refactorEvery?: number;
  /**
   * Measure the drift ‖A·A⁻¹ − I‖∞ of the arms updated since the last check after this many
   * updates, and re-factorise those past `driftBound`; 0 turns it off. Default 256.
   */
  readonly driftCheckEvery?: number;
  /** Re-factorise when the largest drift of an arm passes this. Default 1e-4. */
  readonly driftBound?: number;
  /**
   * Discounting (Russac et al. 2019) for non-stationary rewards: every update row is a time
   * step at which every arm forgets, A ← γA + (1−γ)λI, b ← γb, before the played arm adds x xᵀ and
   * r·x. The regularisation is restored each step, so a rarely played arm's A tends to λI, never 0.
   */
  readonly forgetting?: { readonly gamma: number };
  /**
   * Most arms kept in one tensor. Default: as many as one storage binding holds (K·d² floats);
   * larger models are split over several tensors.
   */
  readonly armsPerShard?: number;
  /**
   * Seed of the decision stream (an integer in 0 … 2³²−1), saved with the model. Default: an
   * unpredictable one.
   */
  readonly seed?: number;
}

/** The shared options with every default filled in. */
export type ResolvedDisjointOptions = InverseHealthOptions & {
  readonly arms: number;
  readonly dim: number;
  readonly lambda: number;
  readonly perArmFeatures: boolean;
  readonly forgetting: { readonly gamma: number } | null;
  readonly armsPerShard: number;
};

/**
 * Checks the shared options of a disjoint linear model and fills in the defaults.
 *
 * @example
 * const o = resolveDisjointOptions('LinTS', backend, { arms: 10, dim: 8 });   // o.lambda === 1
 */
export function resolveDisjointOptions(model: string, backend: Backend, o: DisjointLinearOptions): ResolvedDisjointOptions {
  if (!o || typeof o !== 'object') throw new BanditError(`${model}.create: options are required ({ arms, dim, … })`);
  const arms = positiveInt(model, 'arms', o.arms);
  const dim = positiveInt(model, 'dim', o.dim);
  checkFactorDim(model, 'dim', dim);
  const lambda = numberOption(model, 'lambda', o.lambda, 1, (v) => v > 0, '> 0');
  let forgetting: { gamma: number } | null = null;
  if (o.forgetting !== undefined) {
    const gamma = numberOption(model, 'forgetting.gamma', o.forgetting?.gamma, NaN, (v) => v > 0 && v <= 1, 'in (0, 1]');
    forgetting = { gamma };
  }
  const armsPerShard = armsPerShardOption(model, arms, o.armsPerShard, maxArmsPerBinding(backend, dim * dim), `of dim ${dim}`);
  return { arms, dim, lambda, ...inverseHealthOptions(model, o), perArmFeatures: Boolean(o.perArmFeatures), forgetting, armsPerShard };
}

/** Counters and numerical health of a disjoint linear model (LinUCB, LinTS). */
export interface LinearDiagnostics {
  /** Update rows applied. */
  readonly updates: number;
  /** Times A⁻¹ was rebuilt from A. */
  readonly refactorizations: number;
  /**
   * Drift ‖A·A⁻¹ − I‖∞ at the last measurement, the largest over the arms measured (those updated
   * since the check before; every arm for measureDrift()), or null if never measured.
   */
  readonly lastDrift: number | null;
  readonly driftChecks: number;
  /** Arms whose re-factorisation was skipped because A was not numerically positive definite. */
  readonly failedRefactorizations: number;
  /** Plays per arm. */
  readonly plays: Int32Array;
  /** How the arms are split over tensors (one entry per shard: its arm count). */
  readonly shards: readonly number[];
  /** The decision stream: its seed and the step the next randomised or decide call draws from. */
  readonly decisions: { readonly seed: number; readonly step: number };
}

/** The per-arm state: A, A⁻¹ (kept by Sherman–Morrison), b and θ = A⁻¹b. */
export type LinearField = 'a' | 'aInv' | 'b' | 'theta';

/** The container's names of the saved per-arm fields, in the order they are saved. */
const SAVED_FIELDS: readonly LinearField[] = ['a', 'aInv', 'b', 'theta'];

/** What a scoring step writes: B×K scores to decide on, and for Thompson models their spread. */
export interface LinearScores {
  readonly scores: Tensor;
  readonly thompson?: ThompsonScores;
}

/**
 * The state and calls LinUCB and LinTS share (see DisjointLinearOptions): subclasses add their
 * options, the scoring step (`scoreStep`) and their save format's name and options.
 *
 * @example
 * class MyLinear extends DisjointLinear<ResolvedDisjointOptions> {
 *   protected scoreStep(x: Tensor, contexts: ArrayLike<number>, rows: number) { return { scores: this.linearScores(x, rows, 0) }; }
 * }
 */
export abstract class DisjointLinear<O extends ResolvedDisjointOptions> extends ModelBase {
  readonly options: Readonly<O>;
  protected readonly state: ArmShards<LinearField>;
  protected readonly health: InverseHealth<LinearField>;
  protected readonly decisions: Decisions;
  protected updates = 0;
  protected plays: Int32Array;

  protected constructor(backend: Backend, model: string, options: O, decisions: DecisionsSetup) {
    super(backend, model);
    this.options = Object.freeze(options);
    const { arms, dim: d, lambda } = options;
    this.state = this.own(ArmShards.create(backend, model, { arms, perShard: options.armsPerShard }, {
      a: { shape: [d, d], identity: lambda, label: 'A' },
      aInv: { shape: [d, d], identity: 1 / lambda, label: 'A⁻¹' },
      b: { shape: [d], label: 'b' },
      theta: { shape: [d], label: 'θ' },
    }));
    this.health = new InverseHealth(backend, this.state, options, ({ t }, local) => {
      if (local) gatherMatVec(backend, t.aInv, t.b, t.theta, local);
      else matVec(backend, t.aInv, t.b, { y: t.theta });
    });
    this.plays = new Int32Array(arms);
    this.decisions = new Decisions(model, decisions);
  }

  /** What create says when the device cannot hold the state. */
  protected static allocationMessage(model: string, o: ResolvedDisjointOptions): string {
    const bytes = 4 * o.arms * (2 * o.dim * o.dim + 2 * o.dim);
    return `${model}.create: the device could not allocate ${o.arms} arms × dim ${o.dim} ` +
      `(${(bytes / 2 ** 20).toFixed(0)} MiB of state in ${Math.ceil(o.arms / o.armsPerShard)} or more tensors)`;
  }

  protected get layout(): ContextLayout {
    return { arms: this.options.arms, dim: this.options.dim, perArm: this.options.perArmFeatures };
  }

  /** Checks contexts (sizes first: one binding must hold them and the scores, then values) and returns B. */
  protected contextRows(op: string, contexts: unknown): number {
    const { arms, dim, perArmFeatures } = this.options;
    const rowLength = perArmFeatures ? arms * dim : dim;
    const length = (contexts as { length?: unknown } | null)?.length;
    if (typeof length === 'number' && length % rowLength === 0) {
      checkBatchBindings(this.model, this.backend.maxBindingBytes, length / rowLength, [['contexts', 4 * rowLength], ['scores', 4 * arms]]);
    }
    return checkContexts(op, this.layout, contexts);
  }

  /** Uploads the contexts into the kept scratch ([B, d], or [B, K, d] with per-arm features). */
  protected uploadContexts(contexts: ArrayLike<number>, rows: number): Tensor {
    const { arms, dim, perArmFeatures } = this.options;
    const x = this.scratch('contexts', perArmFeatures ? [rows, arms, dim] : [rows, dim]);
    this.backend.write(x, contexts);
    return x;
  }

  /** Writes θ_aᵀx + α·sqrt(xᵀA_a⁻¹x) of every arm into the kept B×K scores (the shards cover every column). */
  protected linearScores(x: Tensor, rows: number, alpha: number): Tensor {
    const scores = this.scratch('scores', [rows, this.options.arms]);
    for (const s of this.state.shards) {
      ucbScores(this.backend, x, s.t.aInv, s.t.theta, { alpha, perArm: this.options.perArmFeatures, out: scores, armOffset: s.offset });
    }
    return scores;
  }

  /** The scoring step: B×K scores of the uploaded contexts `x` (host values `contexts`), encoded, not read. */
  protected abstract scoreStep(x: Tensor, contexts: ArrayLike<number>, rows: number): LinearScores;

  /**
   * One arm a context row: the model's policy (see its class), over the eligible arms when
   * `eligible` is given (K or B×K 0/1 values). Only the arms are read back.
   *
   * @example
   * const chosen = await model.select(contexts, { eligible });
   */
  select(contexts: Float32Array | ArrayLike<number>, options?: SelectOptions): Promise<Int32Array> {
    return this.run('select', async () => {
      const op = `${this.model}.select`;
      const rows = this.contextRows(op, contexts);
      const checked = this.decisions.check(op, options, rows, this.options.arms, false);
      const staged = this.decisions.stage(this.host, checked, rows, this.options.arms);
      const { scores, thompson } = this.scoreStep(this.uploadContexts(contexts, rows), contexts, rows);
      return this.decisions.select(this.host, scores, staged, op, thompson);
    });
  }

  /**
   * Decides every context row: `{ arms, propensities, eventIds }`, B entries (B×k with `{ k }`:
   * a slate of k distinct arms a row, each slot's propensity given the slots before it), each
   * propensity the probability the model's policy chose that arm with, computed on the backend in
   * the same step as the scores (only the arms, the propensities and a status a row are read
   * back). Bad options or a row with fewer than k eligible arms are a BanditError, and the model
   * is left as it was (its stream included).
   *
   * @example
   * const { arms, propensities, eventIds } = await model.decide(contexts, { k: 3, eligible });
   */
  decide(contexts: Float32Array | ArrayLike<number>, options?: DecideOptions): Promise<Decision> {
    return this.run('decide', async () => {
      const op = `${this.model}.decide`;
      const rows = this.contextRows(op, contexts);
      const checked = this.decisions.check(op, options, rows, this.options.arms, true);
      const staged = this.decisions.stage(this.host, checked, rows, this.options.arms);
      const { scores, thompson } = this.scoreStep(this.uploadContexts(contexts, rows), contexts, rows);
      return this.decisions.decide(this.host, scores, staged, op, thompson);
    });
  }

  /** Reads back the B×K scores of the scoring step (see the subclass's `scores`). */
  protected readScores(op: string, contexts: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    return this.run('scores', async () => {
      const rows = this.contextRows(op, contexts);
      const { scores } = this.scoreStep(this.uploadContexts(contexts, rows), contexts, rows);
      return Float32Array.from(await this.backend.read(scores));
    });
  }

  /**
   * Applies a batch of observations in order: row i played `arms[i]` in context i and got
   * `rewards[i]`. `contexts` is B×dim, or with `perArmFeatures` either B×arms×dim (what select
   * got; the played arm's row is used) or B×dim (the played arms' features).
   * Bad input throws BanditError before anything changes. One submit, unless a drift check finds
   * arms to re-factorise or a re-factorisation is due (see InverseHealth: a readback each).
   *
   * @example
   * await model.update(new Int32Array([3, 3]), contexts, new Float32Array([1, 0]));
   */
  update(arms: Int32Array, contexts: Float32Array | ArrayLike<number>, rewards: Float32Array | ArrayLike<number>): Promise<void> {
    return this.run('update', async () => {
      const op = `${this.model}.update`;
      const rows = checkPlayedArms(op, this.options.arms, arms);
      const played = playedRows(op, this.layout, contexts, arms);
      checkRewards(op, rewards, rows);
      if (rows === 0) return;
      const r = Float32Array.from(rewards);
      if (this.options.forgetting) this.encodeDiscounted(this.options.forgetting.gamma, arms, played, r);
      else this.encodeUpdate(arms, played, r);
      for (let i = 0; i < rows; i++) this.plays[arms[i]!]!++;
      this.updates += rows;
      this.health.touch(arms);
      // Discounted: every arm's A decayed, and not by a rank-1 change: invert them all afresh every batch.
      if (this.options.forgetting) await this.health.refactor(null);
      else await this.health.afterUpdate();
      await this.backend.sync();
    });
  }

  /**
   * Encodes the rank-1 updates of each shard's rows. Every upload comes first: a write ends the
   * open step, so writes between dispatches would split the call into several submits.
   */
  private encodeUpdate(arms: Int32Array, played: Float32Array, r: Float32Array): void {
    const { dim } = this.options;
    const groups = this.state.split(arms).map((g) => {
      const x = this.scratch(`update x [${g.shard.offset}..)`, [g.rows.length, dim]);
      this.backend.write(x, pickRows(played, g.rows, dim));
      return { ...g, x };
    });
    for (const { shard: { t }, rows, local, x } of groups) {
      symRank1Update(this.backend, t.a, x, local);
      shermanMorrisonUpdate(this.backend, t.aInv, x, local);
      scatterAddScaled(this.backend, t.b, x, local, pickRows(r, rows, 1));
      gatherMatVec(this.backend, t.aInv, t.b, t.theta, local);
    }
  }

  /** Encodes the discounted update of every shard: every row is a time step for every arm, so rows of other shards still decay this one. */
  private encodeDiscounted(gamma: number, arms: Int32Array, played: Float32Array, r: Float32Array): void {
    const x = this.scratch('update x', [arms.length, this.options.dim]);
    this.backend.write(x, played);
    for (const s of this.state.shards) {
      const local = Int32Array.from(arms, (k) => (k >= s.offset && k < s.offset + s.arms ? k - s.offset : -1));
      discountedUpdate(this.backend, s.t.a, s.t.b, x, local, r, { gamma, lambda: this.options.lambda });
    }
  }

  /**
   * Counters, the numerical health of the Sherman–Morrison inverses and the decision stream.
   *
   * @example
   * const { updates, refactorizations, lastDrift } = model.diagnostics();
   */
  diagnostics(): LinearDiagnostics {
    const h = this.health.counters();
    return {
      updates: this.updates, refactorizations: h.refactorizations, lastDrift: h.lastDrift, driftChecks: h.driftChecks,
      failedRefactorizations: h.failedRefactorizations, plays: this.plays.slice(), shards: this.state.sizes(), decisions: this.decisions.key,
    };
  }

  /**
   * Measures the drift now (whatever driftCheckEvery says) and returns it; re-factorises if it
   * passes the bound.
   *
   * @example
   * if ((await model.measureDrift()) > 1e-3) console.warn('inverses drifted');
   */
  measureDrift(): Promise<number> {
    return this.run('measureDrift', async () => {
      await this.health.check('all');
      await this.backend.sync();
      return this.health.counters().lastDrift!;
    });
  }

  /** The save of this model: its options as given, the counters and every per-arm array. */
  protected async saveWith(version: number, options: Record<string, unknown>): Promise<Uint8Array> {
    const arrays: Record<string, Float32Array | Float64Array | Int32Array> = {};
    for (const f of SAVED_FIELDS) arrays[f] = await this.state.read(f);
    return saveModel({
      model: this.model,
      version,
      options,
      counters: { updates: this.updates, ...this.health.counters(), ...this.decisions.counters() },
      arrays: { ...arrays, plays: this.plays.slice(), ...this.health.touchedArrays() },
    });
  }

  /** Writes a save's arrays, counters and decision stream into this (just created) model. */
  protected restoreFrom(saved: SavedModelReader): void {
    const { arms } = this.options;
    const found = SAVED_FIELDS.map((f) => [f, saved.need(f, arms * this.state.width(f))] as const);
    const plays = saved.need('plays', arms);
    for (const [field, values] of found) this.state.write(field, values);
    this.plays = Int32Array.from(plays);
    this.health.restore(saved, arms, 'error');
    this.updates = saved.counts(['updates']).updates;
    this.decisions.restore(saved);
  }
}
