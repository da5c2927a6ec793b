import { BanditError } from '../core/errors.js';
import { numberOption } from '../core/check.js';
import { pickRows } from '../models/arm-shards.js';
import { built, placed, requireBackend, restored } from '../models/base.js';
import { resolvePropensityDraws, resolveSeed } from '../models/exploration.js';
import { loadOverrides, loadSaved, SavedModelReader } from '../models/saved.js';
import { gatherRows } from '../ops/mlp-train.js';
import { quadForm } from '../ops/quadform.js';
import { DisjointLinear, resolveDisjointOptions, type DisjointLinearOptions, type LinearDiagnostics, type LinearScores, type ResolvedDisjointOptions } from './disjoint.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/** Options of `LinTS.create`. */
export interface LinTSOptions extends DisjointLinearOptions {
  /** Scale v of the posterior N(θ_a, v²A_a⁻¹) (≥ 0; 0 is greedy on θ_aᵀx). Default 0.5. */
  readonly v?: number;
  /**
   * M, the extra posterior draws a row each `decide` propensity is estimated from (1 … 2²⁴),
   * standard error ≤ 0.5/√M. Default 1024 (≤ 0.016). `select` draws none. The estimate is the
   * mean over M fresh draws of the other arms of Φ((μ_a − their largest draw)/σ_a), the chosen
   * arm's conditional probability of winning (ops `thompsonPropensities`): unbiased, and positive
   * even where the arm's probability is far below 1/M (a share of M draws was 0 for 100% of rows at
   * K = 1000, M ≤ 256, in bench/decide.ts; this estimate for none).
   */
  readonly propensityDraws?: number;
}

/** Counters and numerical health of a LinTS model. */
export type LinTSDiagnostics = LinearDiagnostics;

type Resolved = ResolvedDisjointOptions & { readonly v: number; readonly propensityDraws: number };

const MODEL = 'LinTS';
/** The formats: 1 before catalogues and delayed rewards (still written when a save holds neither), 2 with them. */
const MODEL_VERSIONS = [1, 2] as const;

function resolveOptions(backend: Backend, o: LinTSOptions): Resolved & { readonly itemIds: string[] | null } {
  const shared = resolveDisjointOptions(MODEL, backend, o);
  if ((o as { exploration?: unknown }).exploration !== undefined) {
    throw new BanditError(`${MODEL}: option exploration does not apply: LinTS explores by Thompson sampling (its scale is v)`);
  }
  const v = numberOption(MODEL, 'v', o.v, 0.5, (x) => x >= 0, '≥ 0');
  return { ...shared, v, propensityDraws: resolvePropensityDraws(MODEL, o.propensityDraws) };
}

/**
 * Linear Thompson sampling (Agrawal & Goyal 2013) on disjoint per-arm ridge models — the state,
 * update, discounting (`forgetting`) and drift control of LinUCB: per arm A_a = λI + Σ x xᵀ,
 * b_a = Σ r x, θ_a = A_a⁻¹b_a. Each context row draws θ̃_a ~ N(θ_a, v²A_a⁻¹) for every arm and
 * plays argmax_a θ̃_aᵀx_a. Only the row's scores θ̃_aᵀx_a are needed, and for each arm they are
 * exactly N(θ_aᵀx, v²·xᵀA_a⁻¹x), the arms independent: they are drawn as such on the backend
 * (sampleScores, keyed by the model's seed, step, row and arm), so a row is one exact posterior
 * sample without factorising A_a⁻¹. A slate of k draws k independent samples, slot j the argmax
 * of its own over the arms not yet taken.
 *
 * Thompson propensities have no closed form: `decide` estimates each from `propensityDraws`
 * fresh posterior draws of the same row in the same pass (thompsonPropensities) and reports M.
 * `scores` are the posterior means θ_aᵀx; `sampledScores` one posterior draw a row. As LinUCB, the
 * catalogue may change (addArms, retireArms, `itemIds`), rewards may come later (`reward`) and
 * `warmStart` learns from logs.
 *
 * @example
 * const ts = await LinTS.create(backend, { arms: 100, dim: 16, lambda: 1, v: 0.5, seed: 1 });
 * const { arms, propensities, eventIds, propensityDraws } = await ts.decide(contexts);
 * await ts.update(arms, contexts, rewards);
 * const again = await LinTS.load(backend, await ts.save());   // continues the same draws
 * ts.dispose();
 */
export class LinTS extends DisjointLinear<Resolved> {
  private constructor(backend: Backend, options: Resolved, itemIds: readonly string[] | null, seed: number) {
    super(backend, MODEL, options, itemIds, { exploration: null, seed, thompson: true });
  }

  /**
   * Creates a model with A = λI, b = 0 for every arm (every posterior N(0, v²/λ·I)).
   *
   * @example
   * const ts = await LinTS.create(backend, { arms: 20, dim: 8, perArmFeatures: true, forgetting: { gamma: 0.99 }, seed: 3 });
   */
  static async create(backend: Backend, options: LinTSOptions): Promise<LinTS> {
    requireBackend(MODEL, backend);
    const seed = resolveSeed(MODEL, options.seed);
    const { backend: b, options: { itemIds, ...o } } = await placed(MODEL, backend, (b) => resolveOptions(b, options), DisjointLinear.size);
    return built(() => new LinTS(b, o, itemIds, seed), DisjointLinear.allocationMessage(MODEL, o));
  }

  /** B×K xᵀA_a⁻¹x into the kept scratch, shard by shard (host slices of per-arm contexts where there are several). */
  private width2(x: Tensor, contexts: ArrayLike<number>, rows: number): Tensor {
    const { arms, dim, perArmFeatures: perArm } = this.options;
    const shards = this.state.shards;
    const out = this.scratch('width2', [rows, arms]);
    if (shards.length === 1) return quadForm(this.backend, x, shards[0]!.t.aInv, { perArm, out });
    // Every upload first: a write ends the open step.
    const iota = this.scratch('row ids', [rows], 'i32');
    this.backend.write(iota, Int32Array.from({ length: rows }, (_, i) => i));
    const parts = shards.map((s) => {
      let xs = x;
      if (perArm) {
        xs = this.scratch(`contexts [${s.offset}..)`, [rows, s.arms, dim]);
        const ids = Int32Array.from({ length: rows * s.arms }, (_, i) => Math.floor(i / s.arms) * arms + s.offset + (i % s.arms));
        this.backend.write(xs, pickRows(Float32Array.from(contexts), ids, dim));
      }
      return { s, xs, w: this.scratch(`width2 [${s.offset}..)`, [rows, s.arms]) };
    });
    for (const { s, xs, w } of parts) {
      quadForm(this.backend, xs, s.t.aInv, { perArm, out: w });
      gatherRows(this.backend, w, iota, { out, column: s.offset });
    }
    return out;
  }

  /** The posterior means θ_aᵀx, with the squared widths xᵀA_a⁻¹x and scale v they are sampled by. */
  protected scoreStep(x: Tensor, contexts: ArrayLike<number>, rows: number): LinearScores {
    const width2 = this.width2(x, contexts, rows);
    const scores = this.linearScores(x, rows, 0);
    return { scores, thompson: { width2, scale: this.options.v, draws: this.options.propensityDraws } };
  }

  /**
   * The posterior means θ_aᵀx of every arm, B×arms row-major (no draw; the stream does not move).
   *
   * @example
   * const means = await ts.scores(contexts);   // means[i * arms + a]
   */
  scores(contexts: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    return this.readScores(`${MODEL}.scores`, contexts);
  }

  /**
   * One posterior draw a row: θ̃_aᵀx_a ~ N(θ_aᵀx, v²·xᵀA_a⁻¹x) for every arm, B×arms row-major —
   * the numbers a `select` or (slot 0 of a) `decide` call at this step would take the argmax of.
   * Moves the stream on, as those calls do.
   *
   * @example
   * const draw = await ts.sampledScores(contexts);
   */
  sampledScores(contexts: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    return this.run('sampledScores', [contexts], async (contexts) => {
      const op = `${MODEL}.sampledScores`;
      const rows = this.contextRows(op, contexts);
      const { scores, thompson } = this.scoreStep(this.uploadContexts(contexts, rows), contexts, rows);
      return this.decisions.sampledScores(this.host, scores, thompson!);
    });
  }

  /**
   * The whole model as versioned, self-describing bytes (options, counters, the decision stream
   * and event ids' model id, A, A⁻¹, b, θ, checksum).
   *
   * @example
   * const bytes = await ts.save();
   */
  save(): Promise<Uint8Array> {
    return this.run('save', async () => {
      const o = this.options;
      return this.saveWith(MODEL_VERSIONS, { v: o.v, propensityDraws: o.propensityDraws });
    });
  }

  /**
   * Restores a model saved by `save()`, on any backend; it continues the same stream of draws.
   * Corrupt, truncated or wrong-version bytes throw BanditError.
   * Its retired arms, item ids and decisions waiting for a reward come back with it (formats 1 and 2 load); a
   * clock of your own is passed again in `overrides` (it is not saved).
   *
   * @example
   * const ts = await LinTS.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array, overrides: Pick<LinTSOptions, 'armsPerShard' | 'clock'> = {}): Promise<LinTS> {
    return loadSaved(MODEL, async () => {
      requireBackend(MODEL, backend, 'load');
      const saved = SavedModelReader.open(bytes, MODEL, MODEL_VERSIONS);
      if (saved.counters['decisions'] === undefined) throw new BanditError(`${MODEL}.load: the save lacks its decision stream`);
      const options = { ...(saved.options as unknown as LinTSOptions), ...loadOverrides(MODEL, overrides, DisjointLinear.LOAD_OVERRIDES) };
      DisjointLinear.expectSaved(saved, resolveDisjointOptions(MODEL, backend, options));
      const model = await LinTS.create(backend, options);
      return restored(model, (m) => m.restoreFrom(saved));
    });
  }
}
