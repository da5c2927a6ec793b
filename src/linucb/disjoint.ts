import type { ModelSize } from '../backend.js';
import { ArmShards, pickRows, type Shard } from '../models/arm-shards.js';
import { ArmModel } from '../models/arm-model.js';
import { decisionRows } from '../models/pending.js';
import { InverseHealth } from '../models/inverse-health.js';
import { saveModel } from '../models/saved.js';
import { sqrtWeighted, updateWeights, withoutZeroWeights, type UpdateOptions } from '../models/weights.js';
import { accumulateOuter, refineSolve } from '../ops/accurate.js';
import { discountedUpdate, ucbScores } from '../ops/linucb.js';
import { shermanMorrisonUpdate } from '../ops/rank1.js';
import type { ArmsInput } from '../models/catalogue.js';
import type { Decision, DecideOptions, DecisionsSetup, SelectOptions } from '../models/decisions.js';
import type { ThompsonScores } from '../models/exploration.js';
import type { SavedModelReader } from '../models/saved.js';
import type { LinearDiagnostics, ResolvedDisjointOptions } from './disjoint-options.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import { ArmMass, refinesState } from '../core/limits.js';
import { checkBatchBindings, checkContexts, checkPlayedArms, checkRewards, playedRows, type ContextLayout } from '../core/check.js';

export { resolveDisjointOptions, type DisjointLinearOptions, type LinearDiagnostics, type ResolvedDisjointOptions } from './disjoint-options.js';

// What LinUCB and LinTS share: disjoint per-arm ridge models A_a = λI + Σ x xᵀ, b_a = Σ r x,
// θ_a = A_a⁻¹b_a over shards, the Sherman–Morrison inverses with their drift control, discounting,
// the update, and decide/select/scores around a scoring step that each model writes its own way.

/**
 * The per-arm state: A and b as float-float (hi `a`, `b` and lo `aLo`, `bLo`: see
 * docs/numerics.md), A⁻¹ (kept by Sherman–Morrison) and θ = A⁻¹b (refined against A and b).
 */
export type LinearField = 'a' | 'aLo' | 'aInv' | 'b' | 'bLo' | 'theta';

/** The container's names of the saved per-arm fields, in the order they are saved. */
const SAVED_FIELDS: readonly LinearField[] = ['a', 'aInv', 'b', 'theta', 'aLo', 'bLo'];
/** Saved since the float-float state: a save made before has none (they load as zeros). */
const LO_FIELDS: ReadonlySet<LinearField> = new Set(['aLo', 'bLo']);

/**
 * Steps of refineSolve for θ after an update or a re-factorisation, from θ = 0: the first is
 * θ = A⁻¹b with the kept inverse, the others refine it against the float-float A and b (f32
 * state only: see refinesState).
 */
const SOLVE_STEPS = 2;

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
export abstract class DisjointLinear<O extends ResolvedDisjointOptions> extends ArmModel<O, Float32Array | ArrayLike<number>> {
  protected readonly state: ArmShards<LinearField>;
  protected readonly health: InverseHealth<LinearField>;
  protected updates = 0;
  /** Selects that found a row without a finite score and re-factorised every arm (since create or load). */
  private repairs = 0;
  protected readonly ipsPerArm = true;
  /** Bounds on each arm's accumulated A and b, checked before an update (src/core/limits.ts). */
  private readonly mass: ArmMass;

  protected constructor(backend: Backend, model: string, options: O, itemIds: readonly string[] | null, decisions: DecisionsSetup) {
    super(backend, model, options, itemIds, decisions, options.dim, options.delayed);
    const { arms, dim: d, lambda } = options;
    this.state = this.own(ArmShards.create(backend, model, { arms, perShard: options.armsPerShard }, {
      a: { shape: [d, d], identity: lambda, label: 'A' },
      aLo: { shape: [d, d], label: 'A (lo)' },
      aInv: { shape: [d, d], identity: 1 / lambda, label: 'A⁻¹' },
      b: { shape: [d], label: 'b' },
      bLo: { shape: [d], label: 'b (lo)' },
      theta: { shape: [d], label: 'θ' },
    }));
    this.health = new InverseHealth(backend, this.state, options, (shard, local) => this.solve(shard, local));
    this.mass = new ArmMass(model, backend.kind, lambda, arms);
  }

  protected override armsAdded(grown: number, reset: Int32Array): void {
    this.mass.grow(grown, reset);
  }

  /** θ = A⁻¹b of the `local` arms of `shard` (null: all), refined against the float-float A and b. */
  private solve({ t, arms }: Shard<LinearField>, local: Int32Array | null): void {
    const list = local ?? Int32Array.from({ length: arms }, (_, k) => k);
    refineSolve(this.backend, { hi: t.a, lo: t.aLo }, { hi: t.b, lo: t.bLo }, t.aInv, t.theta, list, { iterations: refinesState(this.backend.kind) ? SOLVE_STEPS : 1, restart: true });
  }

  /** What `load` takes beside the save: what is not saved. */
  protected static readonly LOAD_OVERRIDES: readonly string[] = ['armsPerShard', 'clock'];

  /** Refuses a save whose arrays are not the sizes its options describe, or whose A, its low part or A⁻¹ is not symmetric, before anything is allocated. */
  protected static expectSaved(saved: SavedModelReader, o: ResolvedDisjointOptions): void {
    const { arms, dim: d } = o;
    saved.expect({ a: arms * d * d, aInv: arms * d * d, b: arms * d, theta: arms * d, plays: arms });
    saved.need('plays', arms, { min: 0 });
    saved.symmetric('a', arms, d);
    saved.symmetric('aLo', arms, d, saved.arrays.a);
    saved.symmetric('aInv', arms, d);
  }

  /** The cost model's size of a model (`placed`): a decision's quadratic forms, arms·dim². */
  protected static size(o: ResolvedDisjointOptions): ModelSize {
    return { multiplyAdds: o.arms * o.dim * o.dim };
  }

  /** What create says when the device cannot hold the state. */
  protected static allocationMessage(model: string, o: ResolvedDisjointOptions): string {
    const bytes = 4 * o.arms * (3 * o.dim * o.dim + 3 * o.dim);
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
    return this.run('select', [contexts, options], async (contexts, options) => {
      const op = `${this.model}.select`;
      const rows = this.contextRows(op, contexts);
      const checked = this.decisions.check(op, options, rows, this.options.arms, false, this.catalogue.live());
      const staged = this.decisions.stage(this.host, checked, rows, this.options.arms);
      const x = this.uploadContexts(contexts, rows);
      const { scores, thompson } = this.scoreStep(x, contexts, rows);
      const chosen = await this.decisions.select(this.host, scores, staged, op, thompson);
      if (options?.eligible !== undefined || !chosen.includes(-1)) return chosen;
      // Finite contexts and no eligibility mask, yet a row without a finite score: a broken
      // inverse (NaN). Rebuild every arm from the accurate A and b, and score again.
      this.repairs++;
      await this.health.refactor(null);
      const again = this.scoreStep(x, contexts, rows);
      return this.decisions.select(this.host, again.scores, staged, op, again.thompson);
    });
  }

  /**
   * Decides every context row: `{ arms, propensities, eventIds }`, B entries (B×k with `{ k }`:
   * a slate of k distinct arms a row, each slot's propensity given the slots before it), each
   * propensity the probability the model's policy chose that arm with, computed on the backend in
   * the same step as the scores (only the arms, the propensities and a status a row are read
   * back). Retired arms are never chosen. Each decision waits for its reward by event id
   * (`reward`; see DelayedRewardOptions), and `itemIds` come back for a model that has them.
   * Bad options or a row with fewer than k eligible arms are a BanditError, and the model is
   * left as it was (its stream included).
   *
   * @example
   * const { arms, propensities, eventIds } = await model.decide(contexts, { k: 3, eligible });
   */
  decide(contexts: Float32Array | ArrayLike<number>, options?: DecideOptions): Promise<Decision> {
    return this.run('decide', [contexts, options], async (contexts, options) => {
      const op = `${this.model}.decide`;
      const rows = this.contextRows(op, contexts);
      const { arms, dim, perArmFeatures: perArm } = this.options;
      const checked = this.decisions.check(op, options, rows, arms, true, this.catalogue.live());
      const staged = this.decisions.stage(this.host, checked, rows, arms);
      const { scores, thompson } = this.scoreStep(this.uploadContexts(contexts, rows), contexts, rows);
      return this.decided(
        () => this.decisions.decide(this.host, scores, staged, op, thompson),
        (d) => decisionRows([{ values: contexts, dim, perArm }], rows, checked.k, arms, d.arms),
      );
    });
  }

  /** Reads back the B×K scores of the scoring step (see the subclass's `scores`). */
  protected readScores(op: string, contexts: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    return this.run('scores', [op, contexts], async (op, contexts) => {
      const rows = this.contextRows(op, contexts);
      const { scores } = this.scoreStep(this.uploadContexts(contexts, rows), contexts, rows);
      return Float32Array.from(await this.backend.read(scores));
    });
  }

  /**
   * Applies a batch of observations in order: row i played `arms[i]` (an index, or an item id for
   * a model created with `itemIds`) in context i and got `rewards[i]`. `contexts` is B×dim, or
   * with `perArmFeatures` either B×arms×dim (what select got; the played arm's row is used) or
   * B×dim (the played arms' features). With `weights`, row i counts w_i times: A += w·xxᵀ,
   * b += w·r·x (Sherman–Morrison with √w·x; a weight of 0 skips the row, 1 is the plain update
   * bit for bit). Bad input throws BanditError before anything changes. One submit, unless a
   * drift check finds arms to re-factorise or a re-factorisation is due (see InverseHealth: a
   * readback each).
   *
   * @example
   * await model.update(new Int32Array([3, 3]), contexts, new Float32Array([1, 0]));
   * await model.update(Int32Array.of(1), x, Float32Array.of(1), { weights: Float32Array.of(2.5) });
   */
  update(arms: ArmsInput, contexts: Float32Array | ArrayLike<number>, rewards: Float32Array | ArrayLike<number>, options?: UpdateOptions): Promise<void> {
    return this.run('update', [arms, contexts, rewards, options], (arms, contexts, rewards, options) => this.checkedUpdate(`${this.model}.update`, arms, contexts, rewards, options));
  }

  protected async checkedUpdate(op: string, armsIn: ArmsInput, contexts: Float32Array | ArrayLike<number>, rewards: Float32Array | ArrayLike<number>, options?: UpdateOptions): Promise<void> {
    const arms = this.armIndices(op, armsIn);
    const rows = checkPlayedArms(op, this.options.arms, arms);
    const played = playedRows(op, this.layout, contexts, arms);
    checkRewards(op, rewards, rows);
    const weights = updateWeights(op, options, rows);
    await this.learn(arms, played, Float32Array.from(rewards), weights);
  }

  protected async learn(armsIn: Int32Array, played: Float32Array, rewards: Float32Array, weights: Float64Array | null): Promise<void> {
    const { dim } = this.options;
    const kept = withoutZeroWeights({ arms: armsIn, contexts: played, rewards, weights }, dim);
    const arms = kept.arms, rows = arms.length;
    if (rows === 0) return;
    const { contexts: x, rewards: r } = sqrtWeighted(kept, dim);
    this.mass.admit(`${this.model}.update`, arms, x, r, dim, this.options.forgetting?.gamma ?? null);
    if (this.options.forgetting) this.encodeDiscounted(this.options.forgetting.gamma, arms, x, r);
    else this.encodeUpdate(arms, x, r);
    for (let i = 0; i < rows; i++) this.plays[arms[i]!]!++;
    this.updates += rows;
    this.health.touch(arms);
    // Discounted: every arm's A decayed, and not by a rank-1 change: invert them all afresh every batch.
    if (this.options.forgetting) await this.health.refactor(null);
    else await this.health.afterUpdate();
    await this.backend.sync();
  }

  /**
   * Encodes the rank-1 updates of each shard's rows. Every upload comes first: a write ends the
   * open step, so writes between dispatches would split the call into several submits.
   */
  private encodeUpdate(arms: Int32Array, played: Float32Array, r: Float32Array): void {
    const { dim } = this.options;
    const groups = this.state.split(arms);
    // One group holds every row, in batch order (one shard): the played rows and rewards as they are.
    const whole = groups.length === 1;
    const xs: Tensor[] = [];
    for (const { shard, rows } of groups) {
      const x = this.scratch(this.updateKey(shard.offset), [rows.length, dim]);
      this.backend.write(x, whole ? played : pickRows(played, rows, dim));
      xs.push(x);
    }
    for (let g = 0; g < groups.length; g++) {
      const { shard, rows, local } = groups[g]!, x = xs[g]!, { t } = shard;
      accumulateOuter(this.backend, { hi: t.a, lo: t.aLo }, x, local, this.ones(rows.length));
      shermanMorrisonUpdate(this.backend, t.aInv, x, local);
      accumulateOuter(this.backend, { hi: t.b, lo: t.bLo }, x, local, whole ? r : pickRows(r, rows, 1));
      this.solve(shard, local);
    }
  }

  /** The scratch key of the update rows of the shard at `offset` (kept: one string a shard, not one a call). */
  private updateKey(offset: number): string {
    let key = this.updateKeys.get(offset);
    if (key === undefined) this.updateKeys.set(offset, (key = `update x [${offset}..)`));
    return key;
  }

  private readonly updateKeys = new Map<number, string>();

  /** `n` weights of 1 (A += x xᵀ): a kept array, never written after it is filled. */
  private ones(n: number): Float32Array {
    if (this.onesKept.length < n) this.onesKept = new Float32Array(n).fill(1);
    return this.onesKept.length === n ? this.onesKept : this.onesKept.subarray(0, n);
  }

  private onesKept = new Float32Array(0);

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
      failedRefactorizations: h.failedRefactorizations, repairs: this.repairs, plays: this.plays.slice(), shards: this.state.sizes(), decisions: this.decisions.key,
      retired: this.catalogue.retired, rewards: this.rewardCounts,
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
   * The save of this model: its options (the disjoint ones, then the subclass's `own`, then the
   * item ids and delayed-reward options), the counters and every per-arm array; format
   * `versions[0]` unless it holds retired arms, item ids or delayed rewards (`versions[1]`).
   */
  protected async saveWith(versions: readonly [number, number], own: Record<string, unknown>): Promise<Uint8Array> {
    const o = this.options;
    const options = {
      arms: o.arms, dim: o.dim, lambda: o.lambda, perArmFeatures: o.perArmFeatures,
      refactorEvery: o.refactorEvery, driftCheckEvery: o.driftCheckEvery, driftBound: o.driftBound,
      ...(o.forgetting ? { forgetting: { gamma: o.forgetting.gamma } } : {}), ...own,
    };
    const arrays: Record<string, Float32Array | Float64Array | Int32Array> = {};
    for (const f of SAVED_FIELDS) arrays[f] = await this.state.read(f);
    const extra = this.catalogueSave(versions);
    return saveModel({
      model: this.model,
      version: extra.version,
      options: { ...options, ...extra.options },
      counters: { updates: this.updates, ...this.health.counters(), ...this.decisions.counters(), ...extra.counters },
      arrays: { ...arrays, plays: this.plays.slice(), ...this.health.touchedArrays(), ...extra.arrays },
    });
  }

  /** Writes a save's arrays, counters, decision stream, retired arms and pending decisions into this (just created) model. */
  protected restoreFrom(saved: SavedModelReader): void {
    const { arms } = this.options;
    const found = SAVED_FIELDS.filter((f) => !LO_FIELDS.has(f) || saved.arrays[f] !== undefined)
      .map((f) => [f, saved.need(f, arms * this.state.width(f))] as const);
    const plays = saved.need('plays', arms);
    for (const [field, values] of found) this.state.write(field, values);
    this.mass.restore(found.find(([f]) => f === 'a')![1], found.find(([f]) => f === 'b')![1], this.options.dim);
    this.plays = Int32Array.from(plays);
    this.health.restore(saved, arms, 'error');
    this.updates = saved.counts(['updates']).updates;
    this.decisions.restore(saved);
    this.restoreCatalogue(saved);
  }
}
