import { maxArmsPerBinding } from '../models/arm-shards.js';
import { built, placed, requireBackend, restored } from '../models/base.js';
import { loadExploration, resolveExploration, resolveSeed, saveExploration, type Exploration } from '../models/exploration.js';
import { loadOverrides, loadSaved, SavedModelReader } from '../models/saved.js';
import { DisjointLinear, resolveDisjointOptions, type DisjointLinearOptions, type LinearDiagnostics, type LinearScores, type ResolvedDisjointOptions } from './disjoint.js';
import { ridgeOptions } from './options.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/** Options of `LinUCB.create`. */
export interface LinUCBOptions extends DisjointLinearOptions {
  /** Width of the confidence bonus (≥ 0). Default 1. Not used with `exploration`. */
  readonly alpha?: number;
  /**
   * Randomised exploration instead of the UCB argmax: ε-greedy, softmax (temperature T) or
   * SquareCB (γ), applied to the mean estimates θ_aᵀx (α is then not used). Saved with the
   * model, as is the decision stream (`seed`). Default: none (deterministic UCB).
   */
  readonly exploration?: Exploration;
}

/** Counters and numerical health of a LinUCB model. */
export type LinUCBDiagnostics = LinearDiagnostics;

type Resolved = ResolvedDisjointOptions & { readonly alpha: number; readonly exploration: Exploration | null };

const MODEL = 'LinUCB';
/** The formats: 1 before catalogues and delayed rewards (still written when a save holds neither), 2 with them. */
const MODEL_VERSIONS = [1, 2] as const;

function resolveOptions(backend: Backend, o: LinUCBOptions): Resolved & { readonly itemIds: string[] | null } {
  const shared = resolveDisjointOptions(MODEL, backend, o);
  const { alpha } = ridgeOptions(MODEL, o);
  return { ...shared, alpha, exploration: resolveExploration(MODEL, o.exploration) };
}

/**
 * LinUCB with disjoint per-arm ridge models (Li et al. 2010): per arm A_a = λI + Σ x xᵀ,
 * b_a = Σ r x, θ_a = A_a⁻¹ b_a; select picks argmax_a θ_aᵀx + α·sqrt(xᵀA_a⁻¹x) (ties to the lowest
 * arm). A⁻¹ is kept current by Sherman–Morrison updates, with A beside it to measure the drift and
 * re-factorise (see `diagnostics()`). All state lives on the backend; select reads back B integers.
 *
 * With `exploration` the model samples instead, over its mean estimates θ_aᵀx (α = 0):
 * ε-greedy (the best arm, or with probability ε a uniform eligible one), softmax
 * (p_a ∝ exp(θ_aᵀx / T)) or SquareCB (Foster & Rakhlin 2020's inverse-gap weighting
 * p_a = 1/(n + γ·(best − θ_aᵀx))), from its seeded stream; `decide` reports each choice's
 * probability. Without, `decide` is the UCB argmax with propensity 1.
 *
 * The catalogue may change while it runs (addArms, retireArms, arms by `itemIds`), rewards may
 * come later by event id (`reward`), and `warmStart` learns from a logged dataset (see ArmModel
 * and OnlineModel).
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * const model = await LinUCB.create(backend, { arms: 1000, dim: 32, alpha: 1, lambda: 1 });
 * const chosen = await model.select(contexts);              // Int32Array, one arm per row
 * await model.update(chosen, contexts, rewards);
 * const explorer = await LinUCB.create(backend, { arms: 1000, dim: 32, exploration: { kind: 'epsilon-greedy', epsilon: 0.05 }, seed: 1 });
 * const { arms, propensities, eventIds } = await explorer.decide(contexts);
 * const again = await LinUCB.load(backend, await model.save());
 * model.dispose();
 */
export class LinUCB extends DisjointLinear<Resolved> {
  private constructor(backend: Backend, options: Resolved, itemIds: readonly string[] | null, seed: number) {
    super(backend, MODEL, options, itemIds, { exploration: options.exploration, seed });
  }

  /**
   * Creates a model with A = λI, b = 0 for every arm.
   *
   * @example
   * const model = await LinUCB.create(backend, { arms: 50, dim: 8, perArmFeatures: true });
   */
  static async create(backend: Backend, options: LinUCBOptions): Promise<LinUCB> {
    requireBackend(MODEL, backend);
    const seed = resolveSeed(MODEL, options.seed);
    const { backend: b, options: { itemIds, ...o } } = await placed(MODEL, backend, (b) => resolveOptions(b, options), DisjointLinear.size);
    return built(() => new LinUCB(b, o, itemIds, seed), DisjointLinear.allocationMessage(MODEL, o));
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

  /** UCB scores, or with an exploration the mean estimates it samples over. */
  protected scoreStep(x: Tensor, _contexts: ArrayLike<number>, rows: number): LinearScores {
    return { scores: this.linearScores(x, rows, this.options.exploration ? 0 : this.options.alpha) };
  }

  /**
   * The scores `decide` works on, B×arms row-major: the UCB scores θ_aᵀx + α·sqrt(xᵀA_a⁻¹x), or
   * with an exploration the mean estimates θ_aᵀx it samples over.
   *
   * @example
   * const s = await model.scores(contexts);   // s[i * arms + a]
   */
  scores(contexts: Float32Array | ArrayLike<number>): Promise<Float32Array> {
    return this.readScores(`${MODEL}.scores`, contexts);
  }

  /**
   * The whole model as versioned, self-describing bytes (options, counters, the decision stream
   * once it matters, A, A⁻¹, b, θ, checksum). Float64 state (cpu backend) is saved as float64,
   * GPU state as float32.
   *
   * @example
   * localStorage.setItem('model', btoa(String.fromCharCode(...await model.save())));
   */
  save(): Promise<Uint8Array> {
    return this.run('save', async () => {
      const o = this.options;
      return this.saveWith(MODEL_VERSIONS, { alpha: o.alpha, ...(o.exploration ? { exploration: saveExploration(o.exploration) } : {}) });
    });
  }

  /**
   * Restores a model saved by `save()`, on any backend; it continues where it stopped (the
   * same decisions, the same event ids). Corrupt, truncated or wrong-version bytes throw BanditError.
   * Its retired arms, item ids and decisions waiting for a reward come back with it (formats 1 and 2 load); a
   * clock of your own is passed again in `overrides` (it is not saved).
   *
   * @example
   * const model = await LinUCB.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array, overrides: Pick<LinUCBOptions, 'armsPerShard' | 'clock'> = {}): Promise<LinUCB> {
    return loadSaved(MODEL, async () => {
      requireBackend(MODEL, backend, 'load');
      const saved = SavedModelReader.open(bytes, MODEL, MODEL_VERSIONS);
      const options = { ...(saved.options as unknown as LinUCBOptions), ...loadOverrides(MODEL, overrides, DisjointLinear.LOAD_OVERRIDES) };
      loadExploration(MODEL, options.exploration);
      DisjointLinear.expectSaved(saved, resolveOptions(backend, options));
      const model = await LinUCB.create(backend, options);
      return restored(model, (m) => m.restoreFrom(saved));
    });
  }
}
