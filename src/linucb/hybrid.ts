import { BanditError } from '../core/errors.js';
import { CallQueue } from '../models/queue.js';
import { decodeModel, encodeModel, savedCounters, type SavedArray } from '../models/persist.js';
import { rowArgmax } from '../ops/argmax.js';
import { cholesky, spdInverse } from '../ops/cholesky.js';
import { gemm, matVec } from '../ops/gemm.js';
import { hybridArmUpdate, hybridScores, scatterOuterAdd } from '../ops/hybrid.js';
import { inverseDrift, scatterAddScaled } from '../ops/linucb.js';
import { symRank1Update } from '../ops/rank1.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { identities } from './linucb.js';
import {
  checkPlayedArms, checkContexts, checkRewards, numberOption, playedRows, positiveInt, type ContextLayout,
} from '../core/check.js';

/**
 * The contexts of a batch for HybridLinUCB: for every row i and arm a, the arm's own features
 * x_{i,a} (dim values) and the features z_{i,a} (sharedDim values) whose coefficients β all
 * arms share. Both row-major, B×arms×dim and B×arms×sharedDim.
 *
 * @example
 * // Two rows, 3 arms, dim 2, sharedDim 4: z_{i,a} = e.g. user ⊗ article features
 * const contexts = { arm: new Float32Array(2 * 3 * 2), shared: new Float32Array(2 * 3 * 4) };
 * contexts.arm.set([0.1, 0.9], (1 * 3 + 2) * 2);  // x of row 1, arm 2
 */
export interface HybridContexts {
  /** x: B×arms×dim. */
  readonly arm: Float32Array | ArrayLike<number>;
  /** z: B×arms×sharedDim. */
  readonly shared: Float32Array | ArrayLike<number>;
}

/** Options of `HybridLinUCB.create`. */
export interface HybridLinUCBOptions {
  /** Number of arms K. */
  readonly arms: number;
  /** Per-arm feature dimension d (x). */
  readonly dim: number;
  /** Shared feature dimension k (z), ≤ 256. */
  readonly sharedDim: number;
  /** Width of the confidence bonus (≥ 0). Default 1. */
  readonly alpha?: number;
  /** Ridge regularisation: A0 starts as λI_k and every A_a as λI_d (> 0). Default 1. */
  readonly lambda?: number;
  /** Re-factorise every A_a⁻¹ from A_a after this many updates (rows); 0 turns it off. Default 2048. */
  readonly refactorEvery?: number;
  /** Measure the drift ‖A_a·A_a⁻¹ − I‖∞ after this many updates; 0 turns it off. Default 256. */
  readonly driftCheckEvery?: number;
  /** Re-factorise when the largest drift of an arm passes this. Default 1e-4. */
  readonly driftBound?: number;
  /** Most arms kept in one tensor. Default: as many as one storage binding holds; larger models are split. */
  readonly armsPerShard?: number;
}

/** Counters and numerical health of a HybridLinUCB model. */
export interface HybridLinUCBDiagnostics {
  /** Update rows applied. */
  readonly updates: number;
  /** Times the per-arm A⁻¹ were rebuilt from A. */
  readonly refactorizations: number;
  /** Drift ‖A_a·A_a⁻¹ − I‖∞ (largest over arms) at the last measurement, or null if never measured. */
  readonly lastDrift: number | null;
  readonly driftChecks: number;
  /** Times a shard's re-factorisation was skipped because an A_a was not numerically positive definite. */
  readonly failedRefactorizations: number;
  /** Times A0⁻¹ could not be rebuilt (A0 not numerically positive definite) and the last one was kept. */
  readonly failedSharedFactorizations: number;
  /** Plays per arm. */
  readonly plays: Int32Array;
  /** How the arms are split over tensors (one entry per shard: its arm count). */
  readonly shards: readonly number[];
}

/**
 * One shard's per-arm state. A, B, b are Algorithm 2's sums; A⁻¹, C = A⁻¹B and φ = A⁻¹b are kept
 * current row by row (hybridArmUpdate) and rebuilt from A, B, b on re-factorisation; θ = φ − Cβ
 * and D = C·L follow β and L, so they are refreshed for every arm after each batch.
 */
interface Shard {
  readonly offset: number;
  readonly arms: number;
  readonly a: Tensor;
  readonly aInv: Tensor;
  readonly bMat: Tensor;
  readonly c: Tensor;
  readonly b: Tensor;
  readonly phi: Tensor;
  readonly dMat: Tensor;
  readonly theta: Tensor;
}

/** A0 and b0 are Algorithm 2's sums; A0⁻¹, L (A0⁻¹ = L Lᵀ) and β = A0⁻¹b0 are rebuilt after each batch. */
interface Shared {
  readonly a0: Tensor;
  readonly b0: Tensor;
  readonly a0Inv: Tensor;
  readonly l: Tensor;
  readonly beta: Tensor;
}

type Resolved = Required<HybridLinUCBOptions>;

const MODEL = 'HybridLinUCB';
const MODEL_VERSION = 1;
/** The shared k×k system is inverted by the batched Cholesky, one workgroup a matrix (d ≤ 256). */
const MAX_DIM = 256;

function resolveOptions(backend: Backend, o: HybridLinUCBOptions): Resolved {
  if (!o || typeof o !== 'object') throw new BanditError(`${MODEL}.create: options are required ({ arms, dim, sharedDim, … })`);
  const arms = positiveInt(MODEL, 'arms', o.arms);
  const dim = positiveInt(MODEL, 'dim', o.dim);
  const sharedDim = positiveInt(MODEL, 'sharedDim', o.sharedDim);
  for (const [name, v] of [['dim', dim], ['sharedDim', sharedDim]] as const) {
    if (v > MAX_DIM) throw new BanditError(`${MODEL}: ${name} = ${v} is over ${MAX_DIM}, the largest the batched factorisation supports`);
  }
  const alpha = numberOption(MODEL, 'alpha', o.alpha, 1, (v) => v >= 0, '≥ 0');
  const lambda = numberOption(MODEL, 'lambda', o.lambda, 1, (v) => v > 0, '> 0');
  const refactorEvery = numberOption(MODEL, 'refactorEvery', o.refactorEvery, 2048, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  const driftCheckEvery = numberOption(MODEL, 'driftCheckEvery', o.driftCheckEvery, 256, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0');
  const driftBound = numberOption(MODEL, 'driftBound', o.driftBound, 1e-4, (v) => v > 0, '> 0');
  const maxPerBinding = maxArmsPerBinding(backend, dim, sharedDim);
  const armsPerShard = o.armsPerShard === undefined ? Math.min(arms, maxPerBinding) : positiveInt(MODEL, 'armsPerShard', o.armsPerShard);
  if (armsPerShard > maxPerBinding) {
    throw new BanditError(
      `${MODEL}: armsPerShard = ${armsPerShard} is over ${maxPerBinding}, the most arms of dim ${dim} and sharedDim ${sharedDim} one storage binding holds`,
    );
  }
  return { arms, dim, sharedDim, alpha, lambda, refactorEvery, driftCheckEvery, driftBound, armsPerShard: Math.min(armsPerShard, arms) };
}

/** The largest per-arm tensor holds d·max(d, k) floats an arm (A, A⁻¹: d×d; B, C, D: d×k). */
function maxArmsPerBinding(backend: Backend, dim: number, sharedDim: number): number {
  return Math.max(1, Math.floor(backend.maxBindingBytes / (4 * dim * Math.max(dim, sharedDim))));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * Hybrid LinUCB (Li, Chu, Langford, Schapire 2010, Algorithm 2): the reward of arm a in context
 * (x, z) is modelled as zᵀβ + xᵀθ_a, β shared by all arms (what one arm teaches about z helps
 * every arm) and θ_a per arm; select picks argmax_a zᵀβ̂ + xᵀθ̂_a + α·sqrt(s_{t,a}) (ties to the
 * lowest arm) with Algorithm 2's variance s_{t,a}. State: A0 = λI_k, b0 = 0 shared; per arm
 * A_a = λI_d, B_a = 0 (d×k), b_a = 0.
 *
 * The per-arm inverses A_a⁻¹, A_a⁻¹B_a and A_a⁻¹b_a are kept current by Sherman–Morrison, row by
 * row within an arm and arms in parallel, with A beside them to measure the drift and
 * re-factorise (see `diagnostics()`). A0 changes by a positive semi-definite rank-1 term a row
 * (the Schur complement form of Algorithm 2's two A0 steps, exact, and free of their cancellation),
 * summed over the batch; A0⁻¹ and β are then rebuilt by Cholesky once a batch (k ≤ 256), which is
 * all the scores need as they are only read between batches. All state lives on the backend;
 * select reads back B integers.
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * const model = await HybridLinUCB.create(backend, { arms: 50, dim: 6, sharedDim: 36, alpha: 1 });
 * // x: B×50×6 per-arm features, z: B×50×36 shared features
 * const chosen = await model.select({ arm: x, shared: z });
 * await model.update(chosen, { arm: x, shared: z }, rewards);
 * const again = await HybridLinUCB.load(backend, await model.save());
 * model.dispose();
 */
export class HybridLinUCB {
  readonly backend: Backend;
  readonly options: Readonly<Resolved>;
  private readonly shards: Shard[];
  private shared: Shared;
  private updates = 0;
  private refactorizations = 0;
  private failedRefactorizations = 0;
  private failedSharedFactorizations = 0;
  private lastDrift: number | null = null;
  private driftChecks = 0;
  private sinceRefactor = 0;
  private sinceDriftCheck = 0;
  private plays: Int32Array;
  private isDisposed = false;
  private readonly calls = new CallQueue();

  private constructor(backend: Backend, options: Resolved, shards: Shard[], shared: Shared) {
    this.backend = backend;
    this.options = Object.freeze(options);
    this.shards = shards;
    this.shared = shared;
    this.plays = new Int32Array(options.arms);
  }

  /**
   * Creates a model with A0 = λI, b0 = 0 and, for every arm, A = λI, B = 0, b = 0.
   *
   * @example
   * const model = await HybridLinUCB.create(backend, { arms: 20, dim: 4, sharedDim: 8, lambda: 0.5 });
   */
  static async create(backend: Backend, options: HybridLinUCBOptions): Promise<HybridLinUCB> {
    if (!backend || typeof backend.zeros !== 'function') throw new BanditError(`${MODEL}.create: a backend from createBackend() is required`);
    if (backend.disposed) throw new BanditError(`${MODEL}.create: the backend has been disposed`);
    const o = resolveOptions(backend, options);
    const { dim: d, sharedDim: k, lambda } = o;
    const wide = backend.kind === 'cpu';
    const made: Tensor[] = [];
    const keep = (t: Tensor): Tensor => (made.push(t), t);
    try {
      const shards: Shard[] = [];
      for (let offset = 0; offset < o.arms; offset += o.armsPerShard) {
        const arms = Math.min(o.armsPerShard, o.arms - offset);
        const label = (n: string) => `${MODEL} ${n} [${offset}..${offset + arms})`;
        shards.push({
          offset, arms,
          a: keep(backend.tensor(identities(arms, d, lambda, wide), [arms, d, d], { label: label('A') })),
          aInv: keep(backend.tensor(identities(arms, d, 1 / lambda, wide), [arms, d, d], { label: label('A⁻¹') })),
          bMat: keep(backend.zeros([arms, d, k], { label: label('B') })),
          c: keep(backend.zeros([arms, d, k], { label: label('A⁻¹B') })),
          b: keep(backend.zeros([arms, d], { label: label('b') })),
          phi: keep(backend.zeros([arms, d], { label: label('A⁻¹b') })),
          dMat: keep(backend.zeros([arms, d, k], { label: label('A⁻¹BL') })),
          theta: keep(backend.zeros([arms, d], { label: label('θ') })),
        });
      }
      const shared: Shared = {
        a0: keep(backend.tensor(identities(1, k, lambda, wide), [k, k], { label: `${MODEL} A0` })),
        b0: keep(backend.zeros([k], { label: `${MODEL} b0` })),
        a0Inv: keep(backend.zeros([k, k], { label: `${MODEL} A0⁻¹` })),
        l: keep(backend.zeros([k, k], { label: `${MODEL} L (A0⁻¹ = LLᵀ)` })),
        beta: keep(backend.zeros([k], { label: `${MODEL} β` })),
      };
      const model = new HybridLinUCB(backend, o, shards, shared);
      await model.refreshShared();
      return model;
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  }

  /** The largest number of arms of dimensions (dim, sharedDim) one tensor (storage binding) of `backend` holds. */
  static armsPerBinding(backend: Backend, dim: number, sharedDim: number): number {
    return maxArmsPerBinding(backend, dim, sharedDim);
  }

  private run<T>(what: string, body: () => Promise<T>): Promise<T> {
    return this.calls.run(`${MODEL}.${what}`, this.isDisposed, body);
  }

  private layouts(): { x: ContextLayout; z: ContextLayout } {
    const { arms, dim, sharedDim } = this.options;
    return { x: { arms, dim, perArm: true }, z: { arms, dim: sharedDim, perArm: true } };
  }

  private static contextParts(op: string, contexts: unknown): { arm: unknown; shared: unknown } {
    if (!isObject(contexts) || !('arm' in contexts) || !('shared' in contexts)) {
      throw new BanditError(`${op}: contexts must be an object { arm: B×arms×dim, shared: B×arms×sharedDim }`);
    }
    return { arm: contexts['arm'], shared: contexts['shared'] };
  }

  /** Checks contexts (sizes first, then values) and returns B. */
  private contextRows(op: string, contexts: unknown): number {
    const { arm, shared } = HybridLinUCB.contextParts(op, contexts);
    const { arms, dim, sharedDim } = this.options;
    const lengthOf = (v: unknown) => (v as { length?: unknown } | null)?.length;
    const [xl, zl] = [lengthOf(arm), lengthOf(shared)];
    if (typeof xl === 'number' && xl % (arms * dim) === 0 && typeof zl === 'number' && zl % (arms * sharedDim) === 0) {
      const [bx, bz] = [xl / (arms * dim), zl / (arms * sharedDim)];
      if (bx !== bz) throw new BanditError(`${op}: contexts.arm holds ${bx} rows (B×${arms}×${dim}) but contexts.shared ${bz} (B×${arms}×${sharedDim})`);
      this.checkBindings(bx);
    }
    const layout = this.layouts();
    const rows = checkContexts(op, layout.x, arm, 'contexts.arm');
    checkContexts(op, layout.z, shared, 'contexts.shared');
    return rows;
  }

  /** Refuses a batch whose contexts or scores would not fit one storage binding, with the largest that does. */
  private checkBindings(rows: number): void {
    const { arms, dim, sharedDim } = this.options;
    const limit = this.backend.maxBindingBytes;
    const what = [
      ['contexts.arm', rows * arms * dim * 4],
      ['contexts.shared', rows * arms * sharedDim * 4],
      ['scores', rows * arms * 4],
    ] as const;
    for (const [name, bytes] of what) {
      if (bytes > limit) {
        const most = Math.max(1, Math.floor((rows * limit) / bytes));
        throw new BanditError(`${MODEL}: ${rows} rows of ${name} need ${bytes} bytes, over the ${limit} one binding holds; pass at most ${most} rows a call`);
      }
    }
  }

  /** Uploads contexts and writes the B×K scores of every arm. */
  private scoreTensor(contexts: HybridContexts, rows: number): Tensor[] {
    const { arms, dim, sharedDim, alpha } = this.options;
    const x = this.backend.tensor(contexts.arm, [rows, arms, dim], { label: `${MODEL} contexts.arm` });
    const z = this.backend.tensor(contexts.shared, [rows, arms, sharedDim], { label: `${MODEL} contexts.shared` });
    const scores = this.backend.zeros([rows, arms], { label: `${MODEL} scores` });
    const { l, beta } = this.shared;
    for (const s of this.shards) {
      hybridScores(this.backend, x, z, s, { l, beta }, { alpha, out: scores, armOffset: s.offset });
    }
    return [scores, x, z];
  }

  /**
   * The arm with the highest score zᵀβ̂ + xᵀθ̂_a + α·sqrt(s_{t,a}) for each context row, ties to the
   * lowest arm. Only B integers are read back.
   *
   * @example
   * const chosen = await model.select({ arm: x, shared: z });   // x: B×arms×dim, z: B×arms×sharedDim
   */
  select(contexts: HybridContexts): Promise<Int32Array> {
    return this.run('select', async () => {
      const rows = this.contextRows(`${MODEL}.select`, contexts);
      const made = this.scoreTensor(contexts, rows);
      const chosen = rowArgmax(this.backend, made[0]!);
      try {
        return Int32Array.from(await this.backend.read(chosen));
      } finally {
        for (const t of [...made, chosen]) t.dispose();
      }
    });
  }

  /**
   * Scores zᵀβ̂ + xᵀθ̂_a + α·sqrt(max(s_{t,a}, 0)) of every arm, B×arms row-major.
   *
   * @example
   * const s = await model.scores({ arm: x, shared: z });   // s[i * arms + a]
   */
  scores(contexts: HybridContexts): Promise<Float32Array> {
    return this.run('scores', async () => {
      const rows = this.contextRows(`${MODEL}.scores`, contexts);
      const made = this.scoreTensor(contexts, rows);
      try {
        return Float32Array.from(await this.backend.read(made[0]!));
      } finally {
        for (const t of made) t.dispose();
      }
    });
  }

  /**
   * Applies a batch of observations in order: row i played `arms[i]` in context i and got
   * `rewards[i]`. `contexts` is either what select got ({ arm: B×arms×dim, shared:
   * B×arms×sharedDim }, the played arm's rows are used) or the played rows ({ arm: B×dim,
   * shared: B×sharedDim }), told apart by length with B = arms.length. Bad input throws
   * BanditError before anything changes.
   *
   * @example
   * await model.update(chosen, { arm: x, shared: z }, rewards);
   * await model.update(new Int32Array([3]), { arm: xPlayed, shared: zPlayed }, new Float32Array([1]));
   */
  update(arms: Int32Array, contexts: HybridContexts, rewards: Float32Array | ArrayLike<number>): Promise<void> {
    return this.run('update', async () => {
      const op = `${MODEL}.update`;
      const rows = checkPlayedArms(op, this.options.arms, arms);
      const parts = HybridLinUCB.contextParts(op, contexts);
      const layout = this.layouts();
      const x = playedRows(op, layout.x, parts.arm, arms, 'contexts.arm');
      const z = playedRows(op, layout.z, parts.shared, arms, 'contexts.shared');
      checkRewards(op, rewards, rows);
      if (rows === 0) return;
      this.applyRows(arms, x, z, Float32Array.from(rewards));
      for (let i = 0; i < rows; i++) this.plays[arms[i]!]!++;
      this.updates += rows;
      this.sinceRefactor += rows;
      this.sinceDriftCheck += rows;
      const { refactorEvery, driftCheckEvery } = this.options;
      if (refactorEvery > 0 && this.sinceRefactor >= refactorEvery) await this.refactor();
      else if (driftCheckEvery > 0 && this.sinceDriftCheck >= driftCheckEvery) await this.checkDrift();
      await this.refreshShared();
    });
  }

  /**
   * Encodes the batch: per shard, the rows of its arms in order (inverses, then A, B, b), each
   * shard's WᵀW and Wᵀρ into A0 and b0. Uploads come first so the dispatches share one step
   * (submitted by refreshShared's read).
   */
  private applyRows(arms: Int32Array, x: Float32Array, z: Float32Array, r: Float32Array): void {
    const { dim: d, sharedDim: k } = this.options;
    const b = this.backend;
    const made: Tensor[] = [];
    try {
      const work: { s: Shard; local: Int32Array; rs: Float32Array; tx: Tensor; tz: Tensor; txz: Tensor }[] = [];
      for (const s of this.shards) {
        const rows: number[] = [];
        for (let i = 0; i < arms.length; i++) if (arms[i]! >= s.offset && arms[i]! < s.offset + s.arms) rows.push(i);
        if (rows.length === 0) continue;
        const n = rows.length;
        const xs = new Float32Array(n * d), zs = new Float32Array(n * k), xzs = new Float32Array(n * (d + k));
        rows.forEach((i, j) => {
          const xi = x.subarray(i * d, (i + 1) * d), zi = z.subarray(i * k, (i + 1) * k);
          xs.set(xi, j * d);
          zs.set(zi, j * k);
          xzs.set(xi, j * (d + k));
          xzs.set(zi, j * (d + k) + d);
        });
        const upload = (data: Float32Array, shape: number[], what: string) => {
          const t = b.tensor(data, shape, { label: `${MODEL} update ${what}` });
          made.push(t);
          return t;
        };
        work.push({
          s,
          local: Int32Array.from(rows, (i) => arms[i]! - s.offset),
          rs: Float32Array.from(rows, (i) => r[i]!),
          tx: upload(xs, [n, d], 'x'),
          tz: upload(zs, [n, k], 'z'),
          txz: upload(xzs, [n, d + k], '[x | z]'),
        });
      }
      const { a0, b0 } = this.shared;
      for (const { s, local, rs, tx, tz, txz } of work) {
        const { w, rho } = hybridArmUpdate(b, s, txz, local, rs);
        made.push(w, rho);
        symRank1Update(b, s.a, tx, local);
        scatterOuterAdd(b, s.bMat, tx, tz, local);
        scatterAddScaled(b, s.b, tx, local, rs);
        gemm(b, w, w, { transA: true, c: a0, beta: 1 });
        matVec(b, w, rho, { trans: true, y: b0, beta: 1 });
      }
    } finally {
      for (const t of made) t.dispose();
    }
  }

  /**
   * A0⁻¹ and L (A0⁻¹ = LLᵀ) by Cholesky, β = A0⁻¹b0, then every arm's θ = φ − Cβ and D = C·L, in
   * one step with one readback (the status). The new A0⁻¹ and L replace the old tensors only once
   * the status says they are good; A0 ⪰ λI by construction, but should it fail to factorise
   * (overflow), β, θ and D are computed again from the last good ones and the failure is counted.
   */
  private async refreshShared(): Promise<void> {
    const b = this.backend;
    const inverse = spdInverse(b, this.shared.a0);
    const factor = cholesky(b, inverse.result);
    let fresh: Tensor[] = [inverse.result, factor.result];
    try {
      this.derive(inverse.result, factor.result);
      // A failed inverse is NaN throughout, so its Cholesky fails too: one status says both.
      if ((await b.read(factor.status))[0] === 0) {
        const old = [this.shared.a0Inv, this.shared.l];
        this.shared = { ...this.shared, a0Inv: inverse.result, l: factor.result };
        fresh = old;
      } else {
        this.failedSharedFactorizations++;
        this.derive(this.shared.a0Inv, this.shared.l);
        await b.sync();
      }
    } finally {
      for (const t of [...fresh, inverse.status, factor.status]) t.dispose();
    }
  }

  /** β = A0⁻¹b0, and for every arm θ = φ − Cβ and D = C·L. */
  private derive(a0Inv: Tensor, l: Tensor): void {
    const b = this.backend;
    const { b0, beta } = this.shared;
    matVec(b, a0Inv, b0, { y: beta });
    for (const s of this.shards) {
      gemm(b, s.c, l, { c: s.dMat });
      b.copy(s.phi, s.theta);
      matVec(b, s.c, beta, { y: s.theta, alpha: -1, beta: 1 });
    }
  }

  /** Measures ‖A·A⁻¹ − I‖∞ on every arm and re-factorises when it passes the bound. */
  private async checkDrift(): Promise<void> {
    let worst = 0;
    for (const s of this.shards) {
      const drift = inverseDrift(this.backend, s.a, s.aInv);
      try {
        // A NaN drift (a broken inverse) is the worst of all.
        for (const v of await this.backend.read(drift)) if (Number.isNaN(v) || v > worst) worst = Number.isNaN(worst) ? worst : v;
      } finally {
        drift.dispose();
      }
    }
    this.lastDrift = worst;
    this.driftChecks++;
    this.sinceDriftCheck = 0;
    if (!(worst <= this.options.driftBound)) await this.refactor();
  }

  /**
   * Rebuilds A⁻¹ from A by batched Cholesky, then C = A⁻¹B and φ = A⁻¹b; keeps the old ones of a
   * shard where some A is not SPD. (θ and D follow in refreshShared.)
   */
  private async refactor(): Promise<void> {
    const b = this.backend;
    for (const s of this.shards) {
      const { result, status } = spdInverse(b, s.a);
      try {
        const st = await b.read(status);
        if (st.some((v) => v !== 0)) {
          this.failedRefactorizations++;
          continue;
        }
        b.copy(result, s.aInv);
        gemm(b, s.aInv, s.bMat, { c: s.c });
        matVec(b, s.aInv, s.b, { y: s.phi });
      } finally {
        result.dispose();
        status.dispose();
      }
    }
    await b.sync();
    this.refactorizations++;
    this.sinceRefactor = 0;
    this.sinceDriftCheck = 0;
  }

  /**
   * Counters and the numerical health of the Sherman–Morrison inverses.
   *
   * @example
   * const { updates, refactorizations, lastDrift } = model.diagnostics();
   */
  diagnostics(): HybridLinUCBDiagnostics {
    return {
      updates: this.updates,
      refactorizations: this.refactorizations,
      lastDrift: this.lastDrift,
      driftChecks: this.driftChecks,
      failedRefactorizations: this.failedRefactorizations,
      failedSharedFactorizations: this.failedSharedFactorizations,
      plays: this.plays.slice(),
      shards: this.shards.map((s) => s.arms),
    };
  }

  /**
   * Measures the per-arm drift now (whatever driftCheckEvery says) and returns it; re-factorises
   * if it passes the bound.
   *
   * @example
   * if ((await model.measureDrift()) > 1e-3) console.warn('inverses drifted');
   */
  measureDrift(): Promise<number> {
    return this.run('measureDrift', async () => {
      const before = this.refactorizations;
      await this.checkDrift();
      if (this.refactorizations !== before) await this.refreshShared();
      return this.lastDrift!;
    });
  }

  /**
   * The shared coefficients β̂ = A0⁻¹b0 (sharedDim values).
   *
   * @example
   * const beta = await model.sharedCoefficients();
   */
  sharedCoefficients(): Promise<Float32Array> {
    return this.run('sharedCoefficients', async () => Float32Array.from(await this.backend.read(this.shared.beta)));
  }

  /**
   * The whole model as versioned, self-describing bytes: options, counters, Algorithm 2's sums
   * (A0, b0, A, B, b) and the kept inverses (A⁻¹, A⁻¹B, A⁻¹b), checksum. What follows from them
   * once a batch (A0⁻¹, β, θ, D) is rebuilt on load. Float64 state (cpu backend) is saved as
   * float64, GPU state as float32.
   *
   * @example
   * const bytes = await model.save();
   */
  save(): Promise<Uint8Array> {
    return this.run('save', async () => {
      const { arms, dim: d, sharedDim: k } = this.options;
      const wide = this.backend.kind === 'cpu';
      const alloc = (n: number) => (wide ? new Float64Array(n) : new Float32Array(n));
      const perArm: [keyof Shard & string, string, number][] = [
        ['a', 'a', d * d], ['aInv', 'aInv', d * d], ['bMat', 'B', d * k], ['c', 'C', d * k], ['b', 'b', d], ['phi', 'phi', d],
      ];
      const arrays: Record<string, SavedArray> = {};
      for (const [field, name, size] of perArm) {
        const all = alloc(arms * size);
        for (const s of this.shards) all.set(await this.backend.read(s[field] as Tensor), s.offset * size);
        arrays[name] = all;
      }
      arrays['a0'] = alloc(k * k);
      arrays['a0'].set(await this.backend.read(this.shared.a0));
      arrays['b0'] = alloc(k);
      arrays['b0'].set(await this.backend.read(this.shared.b0));
      arrays['plays'] = this.plays.slice();
      const o = this.options;
      return encodeModel({
        model: MODEL,
        modelVersion: MODEL_VERSION,
        meta: {
          options: {
            arms: o.arms, dim: o.dim, sharedDim: o.sharedDim, alpha: o.alpha, lambda: o.lambda,
            refactorEvery: o.refactorEvery, driftCheckEvery: o.driftCheckEvery, driftBound: o.driftBound,
          },
          counters: {
            updates: this.updates, refactorizations: this.refactorizations, failedRefactorizations: this.failedRefactorizations,
            failedSharedFactorizations: this.failedSharedFactorizations, lastDrift: this.lastDrift, driftChecks: this.driftChecks,
            sinceRefactor: this.sinceRefactor, sinceDriftCheck: this.sinceDriftCheck,
          },
        },
        arrays,
      });
    });
  }

  /**
   * Restores a model saved by `save()`, on any backend; it continues where it stopped.
   * Corrupt, truncated, foreign or wrong-version bytes throw BanditError.
   *
   * @example
   * const model = await HybridLinUCB.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array, overrides: Pick<HybridLinUCBOptions, 'armsPerShard'> = {}): Promise<HybridLinUCB> {
    const saved = decodeModel(bytes, MODEL, [MODEL_VERSION]);
    const meta = saved.meta as { options?: HybridLinUCBOptions; counters?: Record<string, number | null> };
    if (!isObject(meta.options) || !isObject(meta.counters)) throw new BanditError(`${MODEL}.load: the header lacks options or counters`);
    const model = await HybridLinUCB.create(backend, { ...meta.options, ...overrides });
    try {
      const { arms, dim: d, sharedDim: k } = model.options;
      const need = (name: string, length: number): SavedArray => {
        const a = saved.arrays[name];
        if (!a || a.length !== length) throw new BanditError(`${MODEL}.load: array ${name} should hold ${length} values, has ${a?.length ?? 'none'}`);
        return a;
      };
      const perArm: [keyof Shard & string, string, number][] = [
        ['a', 'a', d * d], ['aInv', 'aInv', d * d], ['bMat', 'B', d * k], ['c', 'C', d * k], ['b', 'b', d], ['phi', 'phi', d],
      ];
      const found = perArm.map(([, name, size]) => need(name, arms * size));
      const a0 = need('a0', k * k), b0 = need('b0', k), plays = need('plays', arms);
      for (const s of model.shards) {
        perArm.forEach(([field, , size], i) => {
          backend.write(s[field] as Tensor, found[i]!.subarray(s.offset * size, (s.offset + s.arms) * size));
        });
      }
      backend.write(model.shared.a0, a0);
      backend.write(model.shared.b0, b0);
      model.plays = Int32Array.from(plays);
      const c = meta.counters;
      Object.assign(model, savedCounters(MODEL, c, [
        'updates', 'refactorizations', 'failedRefactorizations', 'failedSharedFactorizations', 'driftChecks',
        'sinceRefactor', 'sinceDriftCheck',
      ] as const));
      model.lastDrift = typeof c['lastDrift'] === 'number' ? c['lastDrift'] : null;
      await model.refreshShared();
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
    for (const s of this.shards) for (const t of [s.a, s.aInv, s.bMat, s.c, s.b, s.phi, s.dMat, s.theta]) t.dispose();
    for (const t of Object.values(this.shared)) t.dispose();
  }

  get disposed(): boolean {
    return this.isDisposed;
  }
}
