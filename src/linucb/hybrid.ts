import { ArmShards, identities, maxArmsPerBinding } from '../models/arm-shards.js';
import { ArmModel } from '../models/arm-model.js';
import { built, placed, requireBackend, restored } from '../models/base.js';
import { decisionRows } from '../models/pending.js';
import { sqrtWeighted, updateWeights, withoutZeroWeights, type UpdateOptions } from '../models/weights.js';
import type { ArmsInput } from '../models/catalogue.js';
import type { Decision, DecideOptions, SelectOptions } from '../models/decisions.js';
import { resolveSeed, saveExploration } from '../models/exploration.js';
import { InverseHealth } from '../models/inverse-health.js';
import { loadOverrides, loadSaved, SavedModelReader, saveModel } from '../models/saved.js';
import { cholesky, spdInverse } from '../ops/cholesky.js';
import { gemm, matVec } from '../ops/gemm.js';
import { hybridScores } from '../ops/hybrid.js';
import { encodeHybridRows, solveHybridArms, type HybridField } from './hybrid-accurate.js';
import {
  checkHybridContexts, hybridPlayedRows, resolveHybridOptions, type HybridContexts, type HybridLinUCBDiagnostics, type HybridLinUCBOptions, type ResolvedHybridOptions,
} from './hybrid-options.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { checkPlayedArms, checkRewards } from '../core/check.js';

export type { HybridContexts, HybridLinUCBDiagnostics, HybridLinUCBOptions } from './hybrid-options.js';

type Field = HybridField;
/** The saved per-arm fields and their names in the container (θ and D follow from them). */
const SAVED: readonly (readonly [Field, string])[] = [['a', 'a'], ['aInv', 'aInv'], ['bMat', 'B'], ['c', 'C'], ['b', 'b'], ['phi', 'phi'], ['aLo', 'aLo'], ['bMatLo', 'BLo'], ['bLo', 'bLo']];
/** The lo parts of A, B, b (float-float, docs/numerics.md): saves made before them have none and load them as zeros. */
const OPTIONAL_SAVED: ReadonlySet<string> = new Set(['aLo', 'BLo', 'bLo']);

/** A0 and b0 are Algorithm 2's sums; A0⁻¹, L (A0⁻¹ = L Lᵀ) and β = A0⁻¹b0 are rebuilt after each batch. */
interface Shared {
  readonly a0: Tensor;
  readonly b0: Tensor;
  readonly a0Inv: Tensor;
  readonly l: Tensor;
  readonly beta: Tensor;
}

const MODEL = 'HybridLinUCB';
/** The formats: 1 before catalogues and delayed rewards (still written when a save holds neither), 2 with them. */
const MODEL_VERSIONS = [1, 2] as const;

/**
 * Hybrid LinUCB (Li, Chu, Langford, Schapire 2010, Algorithm 2): the reward of arm a in context
 * (x, z) is modelled as zᵀβ + xᵀθ_a, β shared by all arms (what one arm teaches about z helps
 * every arm) and θ_a per arm; select picks argmax_a zᵀβ̂ + xᵀθ̂_a + α·sqrt(s_{t,a}) (ties to the
 * lowest arm) with Algorithm 2's variance s_{t,a}. State: A0 = λI_k, b0 = 0 shared; per arm
 * A_a = λI_d, B_a = 0 (d×k), b_a = 0.
 *
 * The per-arm inverses A_a⁻¹, A_a⁻¹B_a and A_a⁻¹b_a are kept current by Sherman–Morrison, row by
 * row within an arm and arms in parallel, with A, B, b beside them (float-float on f32 backends,
 * A⁻¹B and A⁻¹b refined against them after each batch: docs/numerics.md) to measure the drift of
 * the arms updated since the last check and re-factorise them (see `diagnostics()`). A0 changes by a
 * positive semi-definite rank-1 term a row (the Schur complement form of Algorithm 2's two A0
 * steps, exact, and free of their cancellation), summed over the batch; A0⁻¹ and β are then
 * rebuilt by Cholesky once a batch (k ≤ 256), which is all the scores need as they are only read
 * between batches. All state lives on the backend; select reads back B integers.
 *
 * With `exploration` the model samples over its mean estimates zᵀβ̂ + xᵀθ̂_a (α = 0) by
 * ε-greedy, softmax or SquareCB (see LinUCB), and `decide` reports each choice's probability.
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
export class HybridLinUCB extends ArmModel<ResolvedHybridOptions, HybridContexts> {
  protected readonly state: ArmShards<Field>;
  private readonly health: InverseHealth<Field>;
  private shared: Shared;
  private updates = 0;
  private failedSharedFactorizations = 0;
  protected readonly ipsPerArm = true;

  private constructor(backend: Backend, options: ResolvedHybridOptions, itemIds: readonly string[] | null, seed: number) {
    super(backend, MODEL, options, itemIds, { exploration: options.exploration, seed }, options.dim + options.sharedDim, options.delayed);
    const { arms, dim: d, sharedDim: k, lambda } = options;
    this.state = this.own(ArmShards.create(backend, MODEL, { arms, perShard: options.armsPerShard }, {
      a: { shape: [d, d], identity: lambda, label: 'A' },
      aLo: { shape: [d, d], label: 'A (lo)' },
      aInv: { shape: [d, d], identity: 1 / lambda, label: 'A⁻¹' },
      bMat: { shape: [d, k], label: 'B' },
      bMatLo: { shape: [d, k], label: 'B (lo)' },
      c: { shape: [d, k], label: 'A⁻¹B' },
      b: { shape: [d], label: 'b' },
      bLo: { shape: [d], label: 'b (lo)' },
      phi: { shape: [d], label: 'A⁻¹b' },
      dMat: { shape: [d, k], label: 'A⁻¹BL' },
      theta: { shape: [d], label: 'θ' },
    }));
    this.health = new InverseHealth(backend, this.state, options, (s, local) => solveHybridArms(backend, s, local));
    // The shared tensors are replaced as A0⁻¹ and L are rebuilt: whichever are current are freed.
    this.own({ dispose: () => Object.values(this.shared ?? {}).forEach((t: Tensor) => t.dispose()) });
    const made: Tensor[] = [];
    const keep = (t: Tensor): Tensor => (made.push(t), t);
    try {
      this.shared = {
        a0: keep(backend.tensor(identities(1, k, lambda, backend.kind === 'cpu'), [k, k], { label: `${MODEL} A0` })),
        b0: keep(backend.zeros([k], { label: `${MODEL} b0` })),
        a0Inv: keep(backend.zeros([k, k], { label: `${MODEL} A0⁻¹` })),
        l: keep(backend.zeros([k, k], { label: `${MODEL} L (A0⁻¹ = LLᵀ)` })),
        beta: keep(backend.zeros([k], { label: `${MODEL} β` })),
      };
    } catch (e) {
      for (const t of made) t.dispose();
      this.state.dispose();
      throw e;
    }
  }

  /**
   * Creates a model with A0 = λI, b0 = 0 and, for every arm, A = λI, B = 0, b = 0.
   *
   * @example
   * const model = await HybridLinUCB.create(backend, { arms: 20, dim: 4, sharedDim: 8, lambda: 0.5 });
   */
  static async create(backend: Backend, options: HybridLinUCBOptions): Promise<HybridLinUCB> {
    requireBackend(MODEL, backend);
    const seed = resolveSeed(MODEL, options.seed);
    // A score is xᵀA⁻¹x plus the shared terms in z (sharedDim) and their cross terms: ~(dim + sharedDim)² an arm.
    const { backend: b, options: { itemIds, ...o } } = await placed(MODEL, backend, (b) => resolveHybridOptions(b, options),
      (o) => ({ multiplyAdds: o.arms * (o.dim + o.sharedDim) ** 2 }));
    return built(() => new HybridLinUCB(b, o, itemIds, seed), `${MODEL}.create: the device could not allocate ${o.arms} arms`, (m) => m.refreshShared());
  }

  /**
   * The largest number of arms of dimensions (dim, sharedDim) one tensor (storage binding) of `backend` holds.
   *
   * @example
   * const perShard = HybridLinUCB.armsPerBinding(backend, 6, 36);
   */
  static armsPerBinding(backend: Backend, dim: number, sharedDim: number): number {
    return maxArmsPerBinding(backend, dim * Math.max(dim, sharedDim));
  }

  /** Checks contexts (sizes first: one binding must hold each part and the scores, then values) and returns B. */
  private contextRows(op: string, contexts: unknown): number {
    return checkHybridContexts(op, this.options, this.backend.maxBindingBytes, contexts);
  }

  /** Uploads contexts into the kept scratch and writes the B×K scores of every arm (the mean estimates under an exploration). */
  private scoreTensor(contexts: HybridContexts, rows: number): Tensor {
    const { arms, dim, sharedDim } = this.options;
    const alpha = this.options.exploration ? 0 : this.options.alpha;
    const x = this.scratch('contexts.arm', [rows, arms, dim]);
    const z = this.scratch('contexts.shared', [rows, arms, sharedDim]);
    const scores = this.scratch('scores', [rows, arms]);
    this.backend.write(x, contexts.arm);
    this.backend.write(z, contexts.shared);
    for (const s of this.state.shards) hybridScores(this.backend, x, z, s.t, this.shared, { alpha, out: scores, armOffset: s.offset });
    return scores;
  }

  /**
   * The arm with the highest score zᵀβ̂ + xᵀθ̂_a + α·sqrt(s_{t,a}) for each context row, ties to the
   * lowest arm (with an exploration, a draw of it), over the eligible arms when `eligible` (K or
   * B×K 0/1 values) is given. Only B integers are read back.
   *
   * @example
   * const chosen = await model.select({ arm: x, shared: z });   // x: B×arms×dim, z: B×arms×sharedDim
   */
  select(contexts: HybridContexts, options?: SelectOptions): Promise<Int32Array> {
    return this.run('select', [contexts, options], async (contexts, options) => {
      const op = `${MODEL}.select`, rows = this.contextRows(op, contexts);
      const checked = this.decisions.check(op, options, rows, this.options.arms, false, this.catalogue.live());
      const staged = this.decisions.stage(this.host, checked, rows, this.options.arms);
      return this.decisions.select(this.host, this.scoreTensor(contexts, rows), staged, op);
    });
  }

  /**
   * Decides every context row: `{ arms, propensities, eventIds }`, B entries or B×k with `{ k }`
   * (a slate, each slot's propensity given the slots before it), over the eligible arms (never a
   * retired one); the UCB argmax with propensity 1 without an exploration. Each decision waits
   * for its reward by event id (`reward`). See LinUCB.decide.
   *
   * @example
   * const { arms, propensities, eventIds } = await model.decide({ arm: x, shared: z }, { k: 2 });
   */
  decide(contexts: HybridContexts, options?: DecideOptions): Promise<Decision> {
    return this.run('decide', [contexts, options], async (contexts, options) => {
      const op = `${MODEL}.decide`, rows = this.contextRows(op, contexts);
      const { arms, dim, sharedDim } = this.options;
      const checked = this.decisions.check(op, options, rows, arms, true, this.catalogue.live());
      const staged = this.decisions.stage(this.host, checked, rows, arms);
      const scores = this.scoreTensor(contexts, rows);
      const parts = [{ values: contexts.arm, dim, perArm: true }, { values: contexts.shared, dim: sharedDim, perArm: true }];
      return this.decided(() => this.decisions.decide(this.host, scores, staged, op), (d) => decisionRows(parts, rows, checked.k, arms, d.arms));
    });
  }

  /**
   * The scores `decide` works on, B×arms row-major: zᵀβ̂ + xᵀθ̂_a + α·sqrt(max(s_{t,a}, 0)), or with
   * an exploration the mean estimates zᵀβ̂ + xᵀθ̂_a.
   *
   * @example
   * const s = await model.scores({ arm: x, shared: z });   // s[i * arms + a]
   */
  scores(contexts: HybridContexts): Promise<Float32Array> {
    return this.run('scores', [contexts], async (contexts) => {
      const rows = this.contextRows(`${MODEL}.scores`, contexts);
      return Float32Array.from(await this.backend.read(this.scoreTensor(contexts, rows)));
    });
  }

  /**
   * Applies a batch of observations in order: row i played `arms[i]` (an index, or an item id)
   * in context i and got `rewards[i]`. `contexts` is either what select got ({ arm: B×arms×dim,
   * shared: B×arms×sharedDim }, the played arm's rows are used) or the played rows ({ arm:
   * B×dim, shared: B×sharedDim }), told apart by length with B = arms.length. With `weights`,
   * row i counts w_i times (Algorithm 2 on √w·x, √w·z, √w·r; 0 skips the row, 1 is the plain
   * update bit for bit). Bad input throws BanditError before anything changes. One submit (the
   * shared factorisation's status is the readback), plus one for a drift check that finds arms
   * to re-factorise and one for a re-factorisation (see InverseHealth).
   *
   * @example
   * await model.update(chosen, { arm: x, shared: z }, rewards);
   * await model.update(new Int32Array([3]), { arm: xPlayed, shared: zPlayed }, new Float32Array([1]), { weights: [0.5] });
   */
  update(arms: ArmsInput, contexts: HybridContexts, rewards: Float32Array | ArrayLike<number>, options?: UpdateOptions): Promise<void> {
    return this.run('update', [arms, contexts, rewards, options], (arms, contexts, rewards, options) => this.checkedUpdate(`${MODEL}.update`, arms, contexts, rewards, options));
  }

  protected async checkedUpdate(op: string, armsIn: ArmsInput, contexts: HybridContexts, rewards: Float32Array | ArrayLike<number>, options?: UpdateOptions): Promise<void> {
    const arms = this.armIndices(op, armsIn);
    const rows = checkPlayedArms(op, this.options.arms, arms);
    const xz = hybridPlayedRows(op, this.options, contexts, arms);
    checkRewards(op, rewards, rows);
    await this.learn(arms, xz, Float32Array.from(rewards), updateWeights(op, options, rows));
  }

  /** Learns from checked rows of [x | z] (rows × (dim + sharedDim)), weighted by √w as LinUCB. */
  protected async learn(armsIn: Int32Array, xz: Float32Array, rewards: Float32Array, weights: Float64Array | null): Promise<void> {
    const width = this.options.dim + this.options.sharedDim;
    const kept = withoutZeroWeights({ arms: armsIn, contexts: xz, rewards, weights }, width);
    const arms = kept.arms, rows = arms.length;
    if (rows === 0) return;
    const { contexts, rewards: r } = sqrtWeighted(kept, width);
    const { dim, sharedDim } = this.options;
    encodeHybridRows({ backend: this.backend, state: this.state, shared: this.shared, dim, sharedDim, scratch: (key, shape) => this.scratch(key, shape) }, arms, contexts, r);
    for (let i = 0; i < rows; i++) this.plays[arms[i]!]!++;
    this.updates += rows;
    this.health.touch(arms);
    await this.health.afterUpdate();
    await this.refreshShared();
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
      this.deriveFromShared(inverse.result, factor.result);
      // A failed inverse is NaN throughout, so its Cholesky fails too: one status says both.
      if ((await b.read(factor.status))[0] === 0) {
        const old = [this.shared.a0Inv, this.shared.l];
        this.shared = { ...this.shared, a0Inv: inverse.result, l: factor.result };
        fresh = old;
      } else {
        this.failedSharedFactorizations++;
        this.deriveFromShared(this.shared.a0Inv, this.shared.l);
        await b.sync();
      }
    } finally {
      for (const t of [...fresh, inverse.status, factor.status]) t.dispose();
    }
  }

  /** β = A0⁻¹b0, and for every arm θ = φ − Cβ and D = C·L. */
  private deriveFromShared(a0Inv: Tensor, l: Tensor): void {
    const b = this.backend;
    const { b0, beta } = this.shared;
    matVec(b, a0Inv, b0, { y: beta });
    for (const { t } of this.state.shards) {
      gemm(b, t.c, l, { c: t.dMat });
      b.copy(t.phi, t.theta);
      matVec(b, t.c, beta, { y: t.theta, alpha: -1, beta: 1 });
    }
  }

  /**
   * Counters and the numerical health of the Sherman–Morrison inverses.
   *
   * @example
   * const { updates, refactorizations, lastDrift } = model.diagnostics();
   */
  diagnostics(): HybridLinUCBDiagnostics {
    const h = this.health.counters();
    return {
      updates: this.updates, refactorizations: h.refactorizations, lastDrift: h.lastDrift, driftChecks: h.driftChecks,
      failedRefactorizations: h.failedRefactorizations, failedSharedFactorizations: this.failedSharedFactorizations,
      plays: this.plays.slice(), shards: this.state.sizes(), decisions: this.decisions.key,
      retired: this.catalogue.retired, rewards: this.rewardCounts,
    };
  }

  /**
   * Measures the per-arm drift of every arm now (whatever driftCheckEvery says) and returns it;
   * re-factorises the arms past the bound.
   *
   * @example
   * if ((await model.measureDrift()) > 1e-3) console.warn('inverses drifted');
   */
  measureDrift(): Promise<number> {
    return this.run('measureDrift', async () => {
      const before = this.health.counters().refactorizations;
      await this.health.check('all');
      if (this.health.counters().refactorizations !== before) await this.refreshShared();
      await this.backend.sync();
      return this.health.counters().lastDrift!;
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
   * (A0, b0, A, B, b), the kept inverses (A⁻¹, A⁻¹B, A⁻¹b) and the arms updated since the last
   * drift check and re-factorisation, checksum. What follows from them once a batch (A0⁻¹, β, θ,
   * D) is rebuilt on load. Float64 state (cpu backend) is saved as float64, GPU state as float32.
   *
   * @example
   * const bytes = await model.save();
   */
  save(): Promise<Uint8Array> {
    return this.run('save', async () => {
      const arrays: Record<string, Float32Array | Float64Array | Int32Array> = {};
      for (const [field, name] of SAVED) arrays[name] = await this.state.read(field);
      arrays['a0'] = await this.backend.read(this.shared.a0);
      arrays['b0'] = await this.backend.read(this.shared.b0);
      arrays['plays'] = this.plays.slice();
      Object.assign(arrays, this.health.touchedArrays());
      const o = this.options;
      const { refactorizations, failedRefactorizations, ...health } = this.health.counters();
      const extra = this.catalogueSave(MODEL_VERSIONS);
      return saveModel({
        model: MODEL,
        version: extra.version,
        options: {
          arms: o.arms, dim: o.dim, sharedDim: o.sharedDim, alpha: o.alpha, lambda: o.lambda,
          refactorEvery: o.refactorEvery, driftCheckEvery: o.driftCheckEvery, driftBound: o.driftBound,
          ...(o.exploration ? { exploration: saveExploration(o.exploration) } : {}), ...extra.options,
        },
        counters: {
          updates: this.updates, refactorizations, failedRefactorizations, failedSharedFactorizations: this.failedSharedFactorizations, ...health,
          ...this.decisions.counters(), ...extra.counters,
        },
        arrays: { ...arrays, ...extra.arrays },
      });
    });
  }

  /**
   * Restores a model saved by `save()`, on any backend; it continues where it stopped.
   * Corrupt, truncated, foreign or wrong-version bytes throw BanditError. A save made before the
   * touched arms were kept counts every arm as touched (its next check covers them all).
   * Retired arms, item ids and decisions waiting for a reward come back with it (formats 1 and 2
   * load); a clock of your own is passed again in `overrides` (it is not saved).
   *
   * @example
   * const model = await HybridLinUCB.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array, overrides: Pick<HybridLinUCBOptions, 'armsPerShard' | 'clock'> = {}): Promise<HybridLinUCB> {
    return loadSaved(MODEL, async () => {
      requireBackend(MODEL, backend, 'load');
      const saved = SavedModelReader.open(bytes, MODEL, MODEL_VERSIONS);
      const options = { ...(saved.options as unknown as HybridLinUCBOptions), ...loadOverrides(MODEL, overrides, ['armsPerShard', 'clock']) };
      // The sizes the options describe must be the arrays present, checked before anything is allocated.
      const { arms, dim: d, sharedDim: k } = resolveHybridOptions(backend, options);
      saved.expect({ a: arms * d * d, aInv: arms * d * d, B: arms * d * k, C: arms * d * k, b: arms * d, phi: arms * d, a0: k * k, b0: k, plays: arms });
      saved.need('plays', arms, { min: 0 });
      const model = await HybridLinUCB.create(backend, options);
      return HybridLinUCB.restoreInto(backend, saved, model);
    });
  }

  /** Writes a checked save into a just-created model. */
  private static restoreInto(backend: Backend, saved: SavedModelReader, model: HybridLinUCB): Promise<HybridLinUCB> {
    return restored(model, async (m) => {
      const { arms, sharedDim: k } = m.options;
      const found = SAVED.filter(([, name]) => !OPTIONAL_SAVED.has(name) || saved.arrays[name] !== undefined)
        .map(([field, name]) => [field, saved.need(name, arms * m.state.width(field))] as const);
      const a0 = saved.need('a0', k * k), b0 = saved.need('b0', k), plays = saved.need('plays', arms);
      for (const [field, values] of found) m.state.write(field, values);
      backend.write(m.shared.a0, a0);
      backend.write(m.shared.b0, b0);
      m.plays = Int32Array.from(plays);
      m.health.restore(saved, arms, 'all');
      const c = saved.counts(['updates', 'failedSharedFactorizations'] as const);
      m.updates = c.updates;
      m.failedSharedFactorizations = c.failedSharedFactorizations;
      m.decisions.restore(saved);
      m.restoreCatalogue(saved);
      await m.refreshShared();
    });
  }
}
