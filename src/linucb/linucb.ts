import { BanditError } from '../core/errors.js';
import { ArmShards, armsPerShardOption, maxArmsPerBinding, pickRows } from '../models/arm-shards.js';
import { ModelBase, built, requireBackend, restored } from '../models/base.js';
import { InverseHealth } from '../models/inverse-health.js';
import { SavedModelReader, saveModel } from '../models/saved.js';
import { matVec } from '../ops/gemm.js';
import { discountedUpdate, gatherMatVec, scatterAddScaled, ucbScores } from '../ops/linucb.js';
import { shermanMorrisonUpdate, symRank1Update } from '../ops/rank1.js';
import { checkFactorDim, ridgeOptions, type RidgeOptions } from './options.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import {
  checkBatchBindings, checkContexts, checkPlayedArms, checkRewards, numberOption, playedRows, positiveInt, type ContextLayout,
} from '../core/check.js';

/** Options of `LinUCB.create`. */
export interface LinUCBOptions {
  /** Number of arms K. */
  readonly arms: number;
  /** Context dimension d. */
  readonly dim: number;
  /** Width of the confidence bonus (≥ 0). Default 1. */
  readonly alpha?: number;
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
   * Discounted LinUCB (Russac et al. 2019) for non-stationary rewards: every update row is a time
   * step at which every arm forgets, A ← γA + (1−γ)λI, b ← γb, before the played arm adds x xᵀ and
   * r·x. The regularisation is restored each step, so a rarely played arm's A tends to λI, never 0.
   */
  readonly forgetting?: { readonly gamma: number };
  /**
   * Most arms kept in one tensor. Default: as many as one storage binding holds (K·d² floats);
   * larger models are split over several tensors.
   */
  readonly armsPerShard?: number;
}

/** Counters and numerical health of a LinUCB model. */
export interface LinUCBDiagnostics {
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
}

type Resolved = RidgeOptions & {
  readonly arms: number;
  readonly dim: number;
  readonly perArmFeatures: boolean;
  readonly forgetting: { readonly gamma: number } | null;
  readonly armsPerShard: number;
};

/** The per-arm state: A, A⁻¹ (kept by Sherman–Morrison), b and θ = A⁻¹b. */
type Field = 'a' | 'aInv' | 'b' | 'theta';

const MODEL = 'LinUCB';
const MODEL_VERSION = 1;

function resolveOptions(backend: Backend, o: LinUCBOptions): Resolved {
  if (!o || typeof o !== 'object') throw new BanditError('LinUCB.create: options are required ({ arms, dim, … })');
  const arms = positiveInt(MODEL, 'arms', o.arms);
  const dim = positiveInt(MODEL, 'dim', o.dim);
  checkFactorDim(MODEL, 'dim', dim);
  const ridge = ridgeOptions(MODEL, o);
  let forgetting: { gamma: number } | null = null;
  if (o.forgetting !== undefined) {
    const gamma = numberOption(MODEL, 'forgetting.gamma', o.forgetting?.gamma, NaN, (v) => v > 0 && v <= 1, 'in (0, 1]');
    forgetting = { gamma };
  }
  const armsPerShard = armsPerShardOption(MODEL, arms, o.armsPerShard, maxArmsPerBinding(backend, dim * dim), `of dim ${dim}`);
  return { arms, dim, ...ridge, perArmFeatures: Boolean(o.perArmFeatures), forgetting, armsPerShard };
}

/**
 * LinUCB with disjoint per-arm ridge models (Li et al. 2010): per arm A_a = λI + Σ x xᵀ,
 * b_a = Σ r x, θ_a = A_a⁻¹ b_a; select picks argmax_a θ_aᵀx + α·sqrt(xᵀA_a⁻¹x) (ties to the lowest
 * arm). A⁻¹ is kept current by Sherman–Morrison updates, with A beside it to measure the drift and
 * re-factorise (see `diagnostics()`). All state lives on the backend; select reads back B integers.
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * const model = await LinUCB.create(backend, { arms: 1000, dim: 32, alpha: 1, lambda: 1 });
 * const chosen = await model.select(contexts);              // Int32Array, one arm per row
 * await model.update(chosen, contexts, rewards);
 * const bytes = await model.save();
 * const again = await LinUCB.load(backend, bytes);
 * model.dispose();
 */
export class LinUCB extends ModelBase {
  readonly options: Readonly<Resolved>;
  private readonly state: ArmShards<Field>;
  private readonly health: InverseHealth<Field>;
  private updates = 0;
  private plays: Int32Array;

  private constructor(backend: Backend, options: Resolved) {
    super(backend, MODEL);
    this.options = Object.freeze(options);
    const { arms, dim: d, lambda } = options;
    this.state = this.own(ArmShards.create(backend, MODEL, { arms, perShard: options.armsPerShard }, {
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
  }

  /**
   * Creates a model with A = λI, b = 0 for every arm.
   *
   * @example
   * const model = await LinUCB.create(backend, { arms: 50, dim: 8, perArmFeatures: true });
   */
  static async create(backend: Backend, options: LinUCBOptions): Promise<LinUCB> {
    requireBackend(MODEL, backend);
    const o = resolveOptions(backend, options);
    const bytes = 4 * o.arms * (2 * o.dim * o.dim + 2 * o.dim);
    return built(() => new LinUCB(backend, o), `LinUCB.create: the device could not allocate ${o.arms} arms × dim ${o.dim} ` +
      `(${(bytes / 2 ** 20).toFixed(0)} MiB of state in ${Math.ceil(o.arms / o.armsPerShard)} or more tensors)`);
  }

  /**
   * The largest number of arms of dimension `dim` a single tensor (storage binding) of `backend` holds.
   *
   * @example
   * const shards = Math.ceil(10_000 / LinUCB.armsPerBinding(backend, 64));
   */
  static armsPerBinding(backend: Backend, dim: number): number {
    return maxArmsPerBinding(backend, dim * dim);
  }

  private get layout(): ContextLayout {
    return { arms: this.options.arms, dim: this.options.dim, perArm: this.options.perArmFeatures };
  }

  /** Checks contexts (sizes first: one binding must hold them and the scores, then values) and returns B. */
  private contextRows(op: string, contexts: unknown): number {
    const { arms, dim, perArmFeatures } = this.options;
    const rowLength = perArmFeatures ? arms * dim : dim;
    const length = (contexts as { length?: unknown } | null)?.length;
    if (typeof length === 'number' && length % rowLength === 0) {
      checkBatchBindings(MODEL, this.backend.maxBindingBytes, length / rowLength, [['contexts', 4 * rowLength], ['scores', 4 * arms]]);
    }
    return checkContexts(op, this.layout, contexts);
  }

  /** Uploads contexts into the kept scratch and writes the B×K UCB scores of every arm (the shards cover every column). */
  private scoreTensor(contexts: ArrayLike<number>, rows: number): Tensor {
    const { arms, dim, perArmFeatures, alpha } = this.options;
    const x = this.scratch('contexts', perArmFeatures ? [rows, arms, dim] : [rows, dim]);
    const scores = this.scratch('scores', [rows, arms]);
    this.backend.write(x, contexts);
    for (const s of this.state.shards) {
      ucbScores(this.backend, x, s.t.aInv, s.t.theta, { alpha, perArm: perArmFeatures, out: scores, armOffset: s.offset });
    }
    return scores;
  }

  /**
   * The arm with the highest UCB score for each context row, ties to the lowest arm.
   * `contexts`: B×dim, or B×arms×dim with `perArmFeatures`. Only B integers are read back.
   *
   * @example
   * const chosen = await model.select(new Float32Array(2 * 32));  // two rows, dim 32
   */
  select(contexts: Float32Array | ArrayLike<number>): Promise<Int32Array> {
    return this.run('select', async () => {
      const rows = this.contextRows('LinUCB.select', contexts);
      return this.argmaxRows(this.scoreTensor(contexts, rows));
    });
  }

  /**
   * UCB scores θ_aᵀx + α·sqrt(xᵀA_a⁻¹x) of every arm, B×arms row-major.
   *
   * @example
   * const s = await model.scores(contexts);   // s[i * arms + a]
   */
  scores(contexts: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    return this.run('scores', async () => {
      const rows = this.contextRows('LinUCB.scores', contexts);
      return Float32Array.from(await this.backend.read(this.scoreTensor(contexts, rows)));
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
      const op = 'LinUCB.update';
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
   * Counters and the numerical health of the Sherman–Morrison inverses.
   *
   * @example
   * const { updates, refactorizations, lastDrift } = model.diagnostics();
   */
  diagnostics(): LinUCBDiagnostics {
    const h = this.health.counters();
    return {
      updates: this.updates, refactorizations: h.refactorizations, lastDrift: h.lastDrift, driftChecks: h.driftChecks,
      failedRefactorizations: h.failedRefactorizations, plays: this.plays.slice(), shards: this.state.sizes(),
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

  /**
   * The whole model as versioned, self-describing bytes (options, counters, A, A⁻¹, b, θ, checksum).
   * Float64 state (cpu backend) is saved as float64, GPU state as float32.
   *
   * @example
   * localStorage.setItem('model', btoa(String.fromCharCode(...await model.save())));
   */
  save(): Promise<Uint8Array> {
    return this.run('save', async () => {
      const o = this.options;
      return saveModel({
        model: MODEL,
        version: MODEL_VERSION,
        options: {
          arms: o.arms, dim: o.dim, alpha: o.alpha, lambda: o.lambda, perArmFeatures: o.perArmFeatures,
          refactorEvery: o.refactorEvery, driftCheckEvery: o.driftCheckEvery, driftBound: o.driftBound,
          ...(o.forgetting ? { forgetting: { gamma: o.forgetting.gamma } } : {}),
        },
        counters: { updates: this.updates, ...this.health.counters() },
        arrays: {
          a: await this.state.read('a'), aInv: await this.state.read('aInv'),
          b: await this.state.read('b'), theta: await this.state.read('theta'),
          plays: this.plays.slice(), ...this.health.touchedArrays(),
        },
      });
    });
  }

  /**
   * Restores a model saved by `save()`, on any backend; it continues where it stopped.
   * Corrupt, truncated or wrong-version bytes throw BanditError.
   *
   * @example
   * const model = await LinUCB.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array, overrides: Pick<LinUCBOptions, 'armsPerShard'> = {}): Promise<LinUCB> {
    const saved = SavedModelReader.open(bytes, MODEL, [MODEL_VERSION]);
    const model = await LinUCB.create(backend, { ...(saved.options as unknown as LinUCBOptions), ...overrides });
    return restored(model, (m) => {
      const { arms } = m.options;
      const found = (['a', 'aInv', 'b', 'theta'] as const).map((f) => [f, saved.need(f, arms * m.state.width(f))] as const);
      const plays = saved.need('plays', arms);
      for (const [field, values] of found) m.state.write(field, values);
      m.plays = Int32Array.from(plays);
      m.health.restore(saved, arms, 'error');
      m.updates = saved.counts(['updates']).updates;
    });
  }
}
