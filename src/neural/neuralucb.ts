import { built, placed, requireBackend, restored } from '../models/base.js';
import { loadExploration, resolveExploration, saveExploration, type Exploration } from '../models/exploration.js';
import { loadOverrides, loadSaved, SavedModelReader } from '../models/saved.js';
import { NeuralBandit } from './neural-core.js';
import type { NeuralDiagnostics, NeuralScores } from './neural-types.js';
import { resolveNeuralOptions, savedNeuralOptions, type NeuralUCBOptions, type ResolvedNeuralOptions } from './options.js';
import type { MlpLayout } from '../ops/mlp.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

export type { NeuralUCBOptions } from './options.js';
export type { NeuralDecideOptions, NeuralSelectOptions } from './neural-types.js';
export { initialParameters } from './init.js';

/** Counters and health of a NeuralUCB model. */
export type NeuralUCBDiagnostics = NeuralDiagnostics;

type Resolved = ResolvedNeuralOptions & { readonly exploration: Exploration | null };

const MODEL = 'NeuralUCB';
/** The formats: 1 before weighted histories and delayed rewards (still written when a save holds neither), 2 with them. */
const MODEL_VERSIONS = [1, 2] as const;

/**
 * NeuralUCB (Zhou, Li & Gu 2020, Algorithm 1): one shared ReLU network f(x; θ) scores every arm's
 * features; the bonus ν·sqrt(g_aᵀZ⁻¹g_a / m) uses the gradient g_a = ∇θ f(x_a; θ) of EVERY
 * candidate arm, computed for all arms in one batched pass (the Jacobian, or matrix-free for the
 * diagonal Z) instead of one backward pass an arm. After each update Z ← Z + g gᵀ/m for the
 * played rows, and the network is trained on the history (kept on the backend) by minibatch
 * gradient descent on Σ (f(x_i; θ) − r_i)²/2 + mλ‖θ − θ₀‖²/2. m is the width of the last hidden
 * layer (all widths are equal in the paper).
 *
 * With `exploration` the model samples over its mean estimates f(x_a; θ) instead (no gradients
 * are computed to decide): ε-greedy, softmax or SquareCB, from its seeded stream (the low 32
 * bits of `seed`); `decide` reports each choice's probability. Without, `decide` is the UCB
 * argmax with propensity 1. The arms are the rows of each call's features, so K may change from
 * call to call (a catalogue that grows needs nothing more).
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' });
 * const model = await NeuralUCB.create(backend, { dim: 16, hidden: [100], seed: 1 });
 * const [arm] = await model.select(armFeatures, { arms: 10 });   // armFeatures: 1×10×16
 * await model.update(new Int32Array([arm!]), armFeatures.subarray(arm! * 16, (arm! + 1) * 16), new Float32Array([1]));
 * const again = await NeuralUCB.load(backend, await model.save());
 * model.dispose();
 */
export class NeuralUCB extends NeuralBandit<Resolved> {
  private constructor(backend: Backend, options: Resolved, layout: MlpLayout) {
    super(backend, MODEL, options, layout, { exploration: options.exploration, seed: options.seed >>> 0 });
  }

  /**
   * A model at θ₀ (f ≡ 0), Z = λI and an empty history.
   *
   * @example
   * const model = await NeuralUCB.create(backend, { dim: 8, hidden: [20], confidence: 'full' });
   */
  static async create(backend: Backend, options: NeuralUCBOptions): Promise<NeuralUCB> {
    requireBackend(MODEL, backend);
    const exploration = resolveExploration(MODEL, options.exploration);
    const { backend: b, options: { options: shared, layout } } = await placed(MODEL, backend, (b) => resolveNeuralOptions(MODEL, b, options),
      (r) => NeuralBandit.size(r.options, r.layout));
    const o: Resolved = { ...shared, exploration };
    return built(() => new NeuralUCB(b, o, layout), NeuralBandit.allocationMessage(MODEL, o, layout));
  }

  /** UCB scores f + ν·sqrt(gᵀZ⁻¹g/m), or with an exploration the mean estimates f it samples over. */
  protected scoreStep(x: Tensor, B: number, K: number): NeuralScores {
    return { scores: this.evaluate(x, B, K, this.options.exploration ? 'mean' : 'ucb').scores };
  }

  /**
   * The scores `decide` works on, B×K row-major (same input as select): f(x_a; θ) + ν·sqrt(g_aᵀZ⁻¹g_a / m),
   * or with an exploration the mean estimates f(x_a; θ).
   *
   * @example
   * const s = await model.scores(features, { arms: 10 });   // s[b * 10 + a]
   */
  scores(armFeatures: Float32Array | ArrayLike<number>, options: { readonly arms?: number } = {}): Promise<Float32Array> {
    return this.readScores(armFeatures, options);
  }

  /**
   * The whole model as versioned bytes: options, counters, θ, θ₀, optimiser state, Z (diagonal or
   * Z and Z⁻¹), the history, the random generator's state and the decision stream (once it
   * matters), so a loaded model continues exactly.
   *
   * @example
   * const bytes = await model.save();
   */
  save(): Promise<Uint8Array> {
    return this.run('save', async () => {
      const o = this.options;
      return this.saveWith(MODEL_VERSIONS, {
        ...savedNeuralOptions(o, this.layout.paramCount), ...(o.exploration ? { exploration: saveExploration(o.exploration) } : {}),
      });
    });
  }

  /**
   * Restores a model saved by `save()` on any backend; it continues exactly where it stopped
   * (same selections and decisions, same training minibatches). Corrupt or wrong-version bytes
   * throw BanditError.
   * Its decisions waiting for a reward come back with it (formats 1 and 2 load); a
   * clock of your own is passed again in `overrides` (it is not saved).
   *
   * @example
   * const model = await NeuralUCB.load(backend, bytes);
   */
  static async load(backend: Backend, bytes: Uint8Array, overrides: Pick<NeuralUCBOptions, 'clock'> = {}): Promise<NeuralUCB> {
    return loadSaved(MODEL, async () => {
      requireBackend(MODEL, backend, 'load');
      const saved = SavedModelReader.open(bytes, MODEL, MODEL_VERSIONS);
      const options = { ...(saved.options as unknown as NeuralUCBOptions), ...loadOverrides(MODEL, overrides, NeuralBandit.LOAD_OVERRIDES) };
      loadExploration(MODEL, options.exploration);
      const { options: o, layout } = resolveNeuralOptions(MODEL, backend, options);
      NeuralBandit.expectSaved(saved, o, layout);
      const model = await NeuralUCB.create(backend, options);
      return restored(model, (m) => m.restoreFrom(saved));
    });
  }
}
