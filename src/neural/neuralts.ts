import { BanditError } from '../core/errors.js';
import { built, placed, requireBackend, restored } from '../models/base.js';
import { resolvePropensityDraws } from '../models/exploration.js';
import { loadOverrides, loadSaved, SavedModelReader } from '../models/saved.js';
import { NeuralBandit } from './neural-core.js';
import type { NeuralDiagnostics, NeuralScores } from './neural-types.js';
import { resolveNeuralOptions, savedNeuralOptions, type NeuralTSOptions, type ResolvedNeuralOptions } from './options.js';
import type { MlpLayout } from '../ops/mlp.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

export type { NeuralTSOptions } from './options.js';

/** Counters and health of a NeuralTS model. */
export type NeuralTSDiagnostics = NeuralDiagnostics;

type Resolved = ResolvedNeuralOptions & { readonly propensityDraws: number };

const MODEL = 'NeuralTS';
/** The formats: 1 before weighted histories and delayed rewards (still written when a save holds neither), 2 with them. */
const MODEL_VERSIONS = [1, 2] as const;

/**
 * Neural Thompson sampling (Zhang, Zhou, Li & Gu, ICLR 2021) on the NeuralUCB machinery — the
 * same network, Z (diagonal or full), history and training: each row draws, for every arm,
 * r̃_a ~ N(f(x_a; θ), ν²·g_aᵀZ⁻¹g_a/m) independently (Algorithm 1's σ²_a = λ·g_aᵀZ⁻¹g_a/m with
 * λ folded into ν, as NeuralUCB's bonus is), and plays argmax_a r̃_a. The draws are made on the
 * backend, keyed by the model's seed (its low 32 bits), step, row and arm; a slate of k takes k
 * independent draws, slot j the argmax of its own over the arms not yet taken.
 *
 * `decide` estimates each propensity from `propensityDraws` fresh draws of the same row in the
 * same pass and reports M. `scores` are the means f(x_a; θ); `sampledScores` one draw a row.
 *
 * @example
 * const ts = await NeuralTS.create(backend, { dim: 16, hidden: [100], nu: 0.1, seed: 1 });
 * const { arms, propensities, eventIds } = await ts.decide(armFeatures, { arms: 10 });
 * const played = armFeatures.subarray(arms[0]! * 16, (arms[0]! + 1) * 16);
 * await ts.update(arms, played, new Float32Array([1]));
 * ts.dispose();
 */
export class NeuralTS extends NeuralBandit<Resolved> {
  private constructor(backend: Backend, options: Resolved, layout: MlpLayout) {
    super(backend, MODEL, options, layout, { exploration: null, seed: options.seed >>> 0, thompson: true });
  }

  /**
   * A model at θ₀ (f ≡ 0), Z = λI and an empty history.
   *
   * @example
   * const ts = await NeuralTS.create(backend, { dim: 8, hidden: [20], confidence: 'full', propensityDraws: 256 });
   */
  static async create(backend: Backend, options: NeuralTSOptions): Promise<NeuralTS> {
    requireBackend(MODEL, backend);
    if ((options as { exploration?: unknown } | null)?.exploration !== undefined) {
      throw new BanditError(`${MODEL}: option exploration does not apply: NeuralTS explores by Thompson sampling (its scale is nu)`);
    }
    // Every option is checked before `placed` may make a backend for the model.
    const propensityDraws = resolvePropensityDraws(MODEL, (options as NeuralTSOptions | null)?.propensityDraws);
    const { backend: b, options: { options: shared, layout } } = await placed(MODEL, backend, (b) => resolveNeuralOptions(MODEL, b, options),
      (r) => NeuralBandit.size(r.options, r.layout));
    const o: Resolved = { ...shared, propensityDraws };
    return built(() => new NeuralTS(b, o, layout), NeuralBandit.allocationMessage(MODEL, o, layout));
  }

  /** The means f(x_a), with the squared widths gᵀZ⁻¹g and scale ν/√m they are sampled by. */
  protected scoreStep(x: Tensor, B: number, K: number): NeuralScores {
    const { scores, width2 } = this.evaluate(x, B, K, 'posterior');
    return { scores, thompson: { width2: width2!, scale: this.options.nu / Math.sqrt(this.width), draws: this.options.propensityDraws } };
  }

  /**
   * The means f(x_a; θ) of every arm, B×K row-major (same input as select; no draw).
   *
   * @example
   * const means = await ts.scores(features, { arms: 10 });
   */
  scores(armFeatures: Float32Array | ArrayLike<number>, options: { readonly arms?: number } = {}): Promise<Float32Array> {
    return this.readScores(armFeatures, options);
  }

  /**
   * One posterior draw a row: r̃_a ~ N(f(x_a; θ), ν²·g_aᵀZ⁻¹g_a/m) for every arm, B×K row-major —
   * the numbers a `select` or (slot 0 of a) `decide` call at this step would take the argmax of.
   * Moves the stream on, as those calls do.
   *
   * @example
   * const draw = await ts.sampledScores(features, { arms: 10 });
   */
  sampledScores(armFeatures: Float32Array | ArrayLike<number>, options: { readonly arms?: number } = {}): Promise<Float32Array> {
    return this.run('sampledScores', [armFeatures, options], async (armFeatures, options) => {
      const [B, K] = this.featureRows(`${MODEL}.sampledScores`, armFeatures, NeuralBandit.armsOf(options, `${MODEL}.sampledScores`));
      const { scores, thompson } = this.score(armFeatures, B, K);
      return this.decisions.sampledScores(this.host, scores, thompson!);
    });
  }

  /**
   * The whole model as versioned bytes (as NeuralUCB's, with M and the decision stream).
   *
   * @example
   * const bytes = await ts.save();
   */
  save(): Promise<Uint8Array> {
    return this.run('save', async () => this.saveWith(MODEL_VERSIONS, {
      ...savedNeuralOptions(this.options, this.layout.paramCount), propensityDraws: this.options.propensityDraws,
    }));
  }

  /**
   * Restores a model saved by `save()` on any backend; it continues the same draws and training.
   * Its decisions waiting for a reward come back with it (formats 1 and 2 load); a
   * clock of your own is passed again in `overrides` (it is not saved).
   *
   * @example
   * const ts = await NeuralTS.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array, overrides: Pick<NeuralTSOptions, 'clock'> = {}): Promise<NeuralTS> {
    return loadSaved(MODEL, async () => {
      requireBackend(MODEL, backend, 'load');
      const saved = SavedModelReader.open(bytes, MODEL, MODEL_VERSIONS);
      if (saved.counters['decisions'] === undefined) throw new BanditError(`${MODEL}.load: the save lacks its decision stream`);
      const options = { ...(saved.options as unknown as NeuralTSOptions), ...loadOverrides(MODEL, overrides, NeuralBandit.LOAD_OVERRIDES) };
      const { options: o, layout } = resolveNeuralOptions(MODEL, backend, options);
      NeuralBandit.expectSaved(saved, o, layout);
      const model = await NeuralTS.create(backend, options);
      return restored(model, (m) => m.restoreFrom(saved));
    });
  }
}
