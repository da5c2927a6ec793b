import { BackendError, BanditError } from '../core/errors.js';
import { CallQueue } from '../models/queue.js';
import { decodeModel, encodeModel, savedCounters, type SavedArray } from '../models/persist.js';
import { rowArgmax } from '../ops/argmax.js';
import { spdInverse } from '../ops/cholesky.js';
import { matVec } from '../ops/gemm.js';
import { discountedUpdate, gatherMatVec, inverseDrift, scatterAddScaled, ucbScores } from '../ops/linucb.js';
import { shermanMorrisonUpdate, symRank1Update } from '../ops/rank1.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import {
  checkPlayedArms, checkContexts, checkRewards, numberOption, playedRows, positiveInt, type ContextLayout,
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

interface Shard {
  readonly offset: number;
  readonly arms: number;
  readonly a: Tensor;
  readonly aInv: Tensor;
  readonly b: Tensor;
  readonly theta: Tensor;
}

type Resolved = Required<Omit<LinUCBOptions, 'forgetting'>> & { forgetting: { gamma: number } | null };

const MODEL = 'LinUCB';
const MODEL_VERSION = 1;

function resolveOptions(backend: Backend, o: LinUCBOptions): Resolved {
  if (!o || typeof o !== 'object') throw new BanditError('LinUCB.create: options are required ({ arms, dim, … })');
  const arms = positiveInt('LinUCB', 'arms', o.arms);
  const dim = positiveInt('LinUCB', 'dim', o.dim);
  if (dim > 256) throw new BanditError(`LinUCB: dim = ${dim} is over 256, the largest the batched factorisation supports`);
  const alpha = numberOption('LinUCB', 'alpha', o.alpha, 1, (v) => v >= 0, '≥ 0');
  const lambda = numberOption('LinUCB', 'lambda', o.lambda, 1, (v) => v > 0, '> 0');
  const refactorEvery = numberOption('LinUCB', 'refactorEvery', o.refactorEvery, 2048, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  const driftCheckEvery = numberOption('LinUCB', 'driftCheckEvery', o.driftCheckEvery, 256, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  const driftBound = numberOption('LinUCB', 'driftBound', o.driftBound, 1e-4, (v) => v > 0, '> 0');
  let forgetting: { gamma: number } | null = null;
  if (o.forgetting !== undefined) {
    const gamma = numberOption('LinUCB', 'forgetting.gamma', o.forgetting?.gamma, NaN, (v) => v > 0 && v <= 1, 'in (0, 1]');
    forgetting = { gamma };
  }
  const maxPerBinding = maxArmsPerBinding(backend, dim);
  const armsPerShard = o.armsPerShard === undefined
    ? Math.min(arms, maxPerBinding)
    : positiveInt('LinUCB', 'armsPerShard', o.armsPerShard);
  if (armsPerShard > maxPerBinding) {
    throw new BanditError(`LinUCB: armsPerShard = ${armsPerShard} is over ${maxPerBinding}, the most arms of dim ${dim} one storage binding holds`);
  }
  return {
    arms, dim, alpha, lambda, perArmFeatures: Boolean(o.perArmFeatures), refactorEvery, driftCheckEvery, driftBound,
    forgetting, armsPerShard: Math.min(armsPerShard, arms),
  };
}

function maxArmsPerBinding(backend: Backend, dim: number): number {
  return Math.max(1, Math.floor(backend.maxBindingBytes / (4 * dim * dim)));
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
export class LinUCB {
  readonly backend: Backend;
  readonly options: Readonly<Resolved>;
  private readonly shards: Shard[];
  private updates = 0;
  private refactorizations = 0;
  private failedRefactorizations = 0;
  private lastDrift: number | null = null;
  private driftChecks = 0;
  private sinceRefactor = 0;
  private sinceDriftCheck = 0;
  /**
   * Arms updated since the last drift check / re-factorisation: only their inverses can have
   * drifted, so checks and periodic re-factorisations touch them alone (not all K arms).
   */
  private touchedSinceCheck = new Set<number>();
  private touchedSinceRefactor = new Set<number>();
  private plays: Int32Array;
  private isDisposed = false;
  /** Select's tensors, kept for the next call of the same batch size (allocation was ~30% of a small select). */
  private scratch: { rows: number; x: Tensor; scores: Tensor; chosen: Tensor } | null = null;
  private readonly calls = new CallQueue();

  private constructor(backend: Backend, options: Resolved, shards: Shard[]) {
    this.backend = backend;
    this.options = Object.freeze(options);
    this.shards = shards;
    this.plays = new Int32Array(options.arms);
  }

  /**
   * Creates a model with A = λI, b = 0 for every arm.
   *
   * @example
   * const model = await LinUCB.create(backend, { arms: 50, dim: 8, perArmFeatures: true });
   */
  static async create(backend: Backend, options: LinUCBOptions): Promise<LinUCB> {
    if (!backend || typeof backend.zeros !== 'function') throw new BanditError('LinUCB.create: a backend from createBackend() is required');
    if (backend.disposed) throw new BanditError('LinUCB.create: the backend has been disposed');
    const o = resolveOptions(backend, options);
    const shards: Shard[] = [];
    try {
      for (let offset = 0; offset < o.arms; offset += o.armsPerShard) {
        const arms = Math.min(o.armsPerShard, o.arms - offset);
        const wide = backend.kind === 'cpu';
        const eye = identities(arms, o.dim, o.lambda, wide);
        const inv = identities(arms, o.dim, 1 / o.lambda, wide);
        const label = (n: string) => `LinUCB ${n} [${offset}..${offset + arms})`;
        shards.push({
          offset, arms,
          a: backend.tensor(eye, [arms, o.dim, o.dim], { label: label('A') }),
          aInv: backend.tensor(inv, [arms, o.dim, o.dim], { label: label('A⁻¹') }),
          b: backend.zeros([arms, o.dim], { label: label('b') }),
          theta: backend.zeros([arms, o.dim], { label: label('θ') }),
        });
      }
      await backend.sync();
    } catch (e) {
      for (const s of shards) for (const t of [s.a, s.aInv, s.b, s.theta]) t.dispose();
      if (e instanceof BackendError && /OutOfMemory/i.test(e.message)) {
        const bytes = 4 * o.arms * (2 * o.dim * o.dim + 2 * o.dim);
        throw new BackendError(
          `LinUCB.create: the device could not allocate ${o.arms} arms × dim ${o.dim} ` +
            `(${(bytes / 2 ** 20).toFixed(0)} MiB of state in ${shards.length} or more tensors): ${e.message}`,
        );
      }
      throw e;
    }
    return new LinUCB(backend, o, shards);
  }

  /** The largest number of arms of dimension `dim` a single tensor (storage binding) of `backend` holds. */
  static armsPerBinding(backend: Backend, dim: number): number {
    return maxArmsPerBinding(backend, dim);
  }

  private get layout(): ContextLayout {
    return { arms: this.options.arms, dim: this.options.dim, perArm: this.options.perArmFeatures };
  }

  private run<T>(what: string, body: () => Promise<T>): Promise<T> {
    return this.calls.run(`LinUCB.${what}`, this.isDisposed, body);
  }

  /** Checks contexts (sizes first, then values) and returns B. */
  private contextRows(op: string, contexts: unknown): number {
    const { arms, dim, perArmFeatures } = this.options;
    const rowLength = perArmFeatures ? arms * dim : dim;
    const length = (contexts as { length?: unknown } | null)?.length;
    if (typeof length === 'number' && length % rowLength === 0) this.checkBindings(length / rowLength);
    return checkContexts(op, this.layout, contexts);
  }

  /** Refuses a batch whose contexts or scores would not fit one storage binding, with the largest that does. */
  private checkBindings(rows: number): void {
    const { arms, dim, perArmFeatures } = this.options;
    const limit = this.backend.maxBindingBytes;
    const what = [
      ['contexts', rows * (perArmFeatures ? arms * dim : dim) * 4],
      ['scores', rows * arms * 4],
    ] as const;
    for (const [name, bytes] of what) {
      if (bytes > limit) {
        const most = Math.max(1, Math.floor((rows * limit) / bytes));
        throw new BanditError(`LinUCB: ${rows} rows of ${name} need ${bytes} bytes, over the ${limit} one binding holds; pass at most ${most} rows a call`);
      }
    }
  }

  /** Uploads contexts and writes the B×K UCB scores of every arm (the shards cover every column). */
  private scoreTensor(contexts: ArrayLike<number>, rows: number): { scores: Tensor; chosen: Tensor } {
    const { arms, dim, perArmFeatures, alpha } = this.options;
    if (this.scratch?.rows !== rows) {
      this.freeScratch();
      this.scratch = {
        rows,
        x: this.backend.zeros(perArmFeatures ? [rows, arms, dim] : [rows, dim], { label: 'LinUCB contexts' }),
        scores: this.backend.zeros([rows, arms], { label: 'LinUCB scores' }),
        chosen: this.backend.zeros([rows], { dtype: 'i32', label: 'LinUCB chosen' }),
      };
    }
    const { x, scores, chosen } = this.scratch;
    this.backend.write(x, contexts);
    for (const s of this.shards) {
      ucbScores(this.backend, x, s.aInv, s.theta, { alpha, perArm: perArmFeatures, out: scores, armOffset: s.offset });
    }
    return { scores, chosen };
  }

  private freeScratch(): void {
    if (!this.scratch) return;
    for (const t of [this.scratch.x, this.scratch.scores, this.scratch.chosen]) t.dispose();
    this.scratch = null;
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
      const { scores, chosen } = this.scoreTensor(contexts, rows);
      rowArgmax(this.backend, scores, chosen);
      return Int32Array.from(await this.backend.read(chosen));
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
      const { scores } = this.scoreTensor(contexts, rows);
      return Float32Array.from(await this.backend.read(scores));
    });
  }

  /**
   * Applies a batch of observations in order: row i played `arms[i]` in context i and got
   * `rewards[i]`. `contexts` is B×dim, or with `perArmFeatures` either B×arms×dim (what select
   * got; the played arm's row is used) or B×dim (the played arms' features).
   * Bad input throws BanditError before anything changes.
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
      const { dim } = this.options;
      for (const s of this.shards) {
        const inShard: number[] = [];
        for (let i = 0; i < rows; i++) if (arms[i]! >= s.offset && arms[i]! < s.offset + s.arms) inShard.push(i);
        if (this.options.forgetting) {
          // Every row is a time step for every arm: rows of other shards still decay this one.
          const local = new Int32Array(rows);
          for (let i = 0; i < rows; i++) local[i] = arms[i]! >= s.offset && arms[i]! < s.offset + s.arms ? arms[i]! - s.offset : -1;
          const x = this.backend.tensor(played, [rows, dim], { label: 'LinUCB update x' });
          discountedUpdate(this.backend, s.a, s.b, x, local, r, { gamma: this.options.forgetting.gamma, lambda: this.options.lambda });
          x.dispose();
          continue;
        }
        if (inShard.length === 0) continue;
        const local = Int32Array.from(inShard, (i) => arms[i]! - s.offset);
        const xs = new Float32Array(inShard.length * dim);
        inShard.forEach((i, j) => xs.set(played.subarray(i * dim, (i + 1) * dim), j * dim));
        const x = this.backend.tensor(xs, [inShard.length, dim], { label: 'LinUCB update x' });
        symRank1Update(this.backend, s.a, x, local);
        shermanMorrisonUpdate(this.backend, s.aInv, x, local);
        scatterAddScaled(this.backend, s.b, x, local, Float32Array.from(inShard, (i) => r[i]!));
        gatherMatVec(this.backend, s.aInv, s.b, s.theta, local);
        x.dispose();
      }
      for (let i = 0; i < rows; i++) {
        this.plays[arms[i]!]!++;
        this.touchedSinceCheck.add(arms[i]!);
        this.touchedSinceRefactor.add(arms[i]!);
      }
      this.updates += rows;
      this.sinceRefactor += rows;
      this.sinceDriftCheck += rows;
      if (this.options.forgetting) {
        // Every arm's A decayed, and not by a rank-1 change: invert them all afresh every batch.
        await this.refactor(null);
        return;
      }
      const { refactorEvery, driftCheckEvery } = this.options;
      if (refactorEvery > 0 && this.sinceRefactor >= refactorEvery) await this.refactor(this.touchedSinceRefactor);
      else if (driftCheckEvery > 0 && this.sinceDriftCheck >= driftCheckEvery) await this.checkDrift('touched');
      else await this.backend.sync();
    });
  }

  /** The arms of shard `s` among `arms` (model-wide ids) as local indices, ascending; null for all of them. */
  private localArms(s: Shard, arms: ReadonlySet<number> | null): Int32Array | null {
    if (arms === null) return null;
    const local: number[] = [];
    for (const k of arms) if (k >= s.offset && k < s.offset + s.arms) local.push(k - s.offset);
    return local.length === s.arms ? null : Int32Array.from(local.sort((x, y) => x - y));
  }

  /** The d×d matrices of `local` arms of `m`, packed into a new tensor. */
  private gatherMatrices(m: Tensor, local: Int32Array): Tensor {
    const d2 = this.options.dim * this.options.dim;
    const out = this.backend.zeros([local.length, this.options.dim, this.options.dim], { label: `${m.label} gathered` });
    local.forEach((k, j) => this.backend.copy(m, out, { srcOffset: k * d2, dstOffset: j * d2, count: d2 }));
    return out;
  }

  /**
   * Measures ‖A·A⁻¹ − I‖∞ on the arms updated since the last check ('touched'; the others have
   * not changed since theirs) or on every arm, and re-factorises the arms past the bound.
   */
  private async checkDrift(which: 'touched' | 'all'): Promise<void> {
    let worst = 0, measured = 0;
    const drifted = new Set<number>();
    for (const s of this.shards) {
      const local = this.localArms(s, which === 'all' ? null : this.touchedSinceCheck);
      if (local && local.length === 0) continue;
      const a = local ? this.gatherMatrices(s.a, local) : s.a;
      const aInv = local ? this.gatherMatrices(s.aInv, local) : s.aInv;
      const drift = inverseDrift(this.backend, a, aInv);
      try {
        const values = await this.backend.read(drift);
        values.forEach((v, j) => {
          // A NaN drift (a broken inverse) is the worst of all.
          if (Number.isNaN(v) || v > worst) worst = Number.isNaN(worst) ? worst : v;
          if (!(v <= this.options.driftBound)) drifted.add(s.offset + (local ? local[j]! : j));
        });
        measured += values.length;
      } finally {
        drift.dispose();
        if (local) {
          a.dispose();
          aInv.dispose();
        }
      }
    }
    if (measured > 0) this.lastDrift = worst;
    this.driftChecks++;
    this.sinceDriftCheck = 0;
    this.touchedSinceCheck.clear();
    if (drifted.size > 0) await this.refactor(drifted);
  }

  /**
   * Rebuilds A⁻¹ from A by batched Cholesky, and θ = A⁻¹b, for `arms` (model-wide ids) or every
   * arm (null). An arm whose A is not numerically positive definite keeps its old A⁻¹ (counted).
   */
  private async refactor(arms: ReadonlySet<number> | null): Promise<void> {
    const d2 = this.options.dim * this.options.dim;
    for (const s of this.shards) {
      const local = this.localArms(s, arms);
      if (local && local.length === 0) continue;
      const a = local ? this.gatherMatrices(s.a, local) : s.a;
      const { result, status } = spdInverse(this.backend, a);
      try {
        const st = await this.backend.read(status);
        const ok: number[] = [];
        st.forEach((v, j) => (v === 0 ? ok.push(j) : this.failedRefactorizations++));
        if (!local && ok.length === s.arms) {
          this.backend.copy(result, s.aInv);
          matVec(this.backend, s.aInv, s.b, { y: s.theta });
        } else if (ok.length > 0) {
          const arm = (j: number) => (local ? local[j]! : j);
          for (const j of ok) this.backend.copy(result, s.aInv, { srcOffset: j * d2, dstOffset: arm(j) * d2, count: d2 });
          gatherMatVec(this.backend, s.aInv, s.b, s.theta, Int32Array.from(ok, arm));
        }
      } finally {
        result.dispose();
        status.dispose();
        if (local) a.dispose();
      }
    }
    await this.backend.sync();
    this.refactorizations++;
    if (arms === null || arms === this.touchedSinceRefactor) {
      // A periodic (or complete) re-factorisation: every arm is fresh now.
      this.touchedSinceRefactor = new Set();
      this.touchedSinceCheck.clear();
      this.sinceRefactor = 0;
      this.sinceDriftCheck = 0;
    } else {
      for (const k of arms) {
        this.touchedSinceRefactor.delete(k);
        this.touchedSinceCheck.delete(k);
      }
    }
  }

  /**
   * Counters and the numerical health of the Sherman–Morrison inverses.
   *
   * @example
   * const { updates, refactorizations, lastDrift } = model.diagnostics();
   */
  diagnostics(): LinUCBDiagnostics {
    return {
      updates: this.updates,
      refactorizations: this.refactorizations,
      lastDrift: this.lastDrift,
      driftChecks: this.driftChecks,
      failedRefactorizations: this.failedRefactorizations,
      plays: this.plays.slice(),
      shards: this.shards.map((s) => s.arms),
    };
  }

  /**
   * Measures the drift now (whatever driftCheckEvery says) and returns it; re-factorises if it
   * passes the bound.
   */
  measureDrift(): Promise<number> {
    return this.run('measureDrift', async () => {
      await this.checkDrift('all');
      return this.lastDrift!;
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
      const { arms, dim } = this.options;
      const wide = this.backend.kind === 'cpu';
      const alloc = (n: number) => (wide ? new Float64Array(n) : new Float32Array(n));
      const all = { a: alloc(arms * dim * dim), aInv: alloc(arms * dim * dim), b: alloc(arms * dim), theta: alloc(arms * dim) };
      for (const s of this.shards) {
        all.a.set(await this.backend.read(s.a), s.offset * dim * dim);
        all.aInv.set(await this.backend.read(s.aInv), s.offset * dim * dim);
        all.b.set(await this.backend.read(s.b), s.offset * dim);
        all.theta.set(await this.backend.read(s.theta), s.offset * dim);
      }
      const o = this.options;
      return encodeModel({
        model: MODEL,
        modelVersion: MODEL_VERSION,
        meta: {
          options: {
            arms: o.arms, dim: o.dim, alpha: o.alpha, lambda: o.lambda, perArmFeatures: o.perArmFeatures,
            refactorEvery: o.refactorEvery, driftCheckEvery: o.driftCheckEvery, driftBound: o.driftBound,
            ...(o.forgetting ? { forgetting: { gamma: o.forgetting.gamma } } : {}),
          },
          counters: {
            updates: this.updates, refactorizations: this.refactorizations, failedRefactorizations: this.failedRefactorizations,
            lastDrift: this.lastDrift, driftChecks: this.driftChecks, sinceRefactor: this.sinceRefactor,
            sinceDriftCheck: this.sinceDriftCheck,
          },
        },
        arrays: {
          ...all,
          plays: this.plays.slice(),
          touchedSinceCheck: Int32Array.from([...this.touchedSinceCheck].sort((x, y) => x - y)),
          touchedSinceRefactor: Int32Array.from([...this.touchedSinceRefactor].sort((x, y) => x - y)),
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
    const saved = decodeModel(bytes, MODEL, [MODEL_VERSION]);
    const meta = saved.meta as { options?: LinUCBOptions; counters?: Record<string, number | null> };
    if (!meta.options || !meta.counters) throw new BanditError('LinUCB.load: the header lacks options or counters');
    const model = await LinUCB.create(backend, { ...meta.options, ...overrides });
    try {
      const { arms, dim } = model.options;
      const need = (name: string, length: number): SavedArray => {
        const a = saved.arrays[name];
        if (!a || a.length !== length) throw new BanditError(`LinUCB.load: array ${name} should hold ${length} values, has ${a?.length ?? 'none'}`);
        return a;
      };
      const a = need('a', arms * dim * dim), aInv = need('aInv', arms * dim * dim);
      const b = need('b', arms * dim), theta = need('theta', arms * dim);
      const plays = need('plays', arms);
      for (const s of model.shards) {
        backend.write(s.a, a.subarray(s.offset * dim * dim, (s.offset + s.arms) * dim * dim));
        backend.write(s.aInv, aInv.subarray(s.offset * dim * dim, (s.offset + s.arms) * dim * dim));
        backend.write(s.b, b.subarray(s.offset * dim, (s.offset + s.arms) * dim));
        backend.write(s.theta, theta.subarray(s.offset * dim, (s.offset + s.arms) * dim));
      }
      model.plays = Int32Array.from(plays);
      for (const name of ['touchedSinceCheck', 'touchedSinceRefactor'] as const) {
        const list = saved.arrays[name];
        if (!(list instanceof Int32Array) || list.some((k) => k < 0 || k >= arms)) {
          throw new BanditError(`LinUCB.load: array ${name} is missing or holds an arm out of range`);
        }
        model[name] = new Set(list);
      }
      const c = meta.counters;
      Object.assign(model, savedCounters(MODEL, c, [
        'updates', 'refactorizations', 'failedRefactorizations', 'driftChecks', 'sinceRefactor', 'sinceDriftCheck',
      ] as const));
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
    for (const s of this.shards) for (const t of [s.a, s.aInv, s.b, s.theta]) t.dispose();
  }

  get disposed(): boolean {
    return this.isDisposed;
  }
}

/** `count` copies of value·I (d×d), row-major; float64 for the cpu backend. */
export function identities(count: number, d: number, value: number, wide: boolean): Float32Array | Float64Array {
  const out = wide ? new Float64Array(count * d * d) : new Float32Array(count * d * d);
  for (let k = 0; k < count; k++) for (let i = 0; i < d; i++) out[k * d * d + i * d + i] = value;
  return out;
}
