import { MAX_FACTOR_DIM, refinesState } from '../core/limits.js';
import { REFINE_STEPS, refineInverse } from '../models/inverse-health.js';
import { accumulateOuter, accurateResidual, addAccurate } from '../ops/accurate.js';
import { gemm } from '../ops/gemm.js';
import { identities } from '../models/arm-shards.js';
import { spdInverse } from '../ops/cholesky.js';
import { accumulateSquares } from '../ops/confidence.js';
import { axpy, scale } from '../ops/elementwise.js';
import { scatterAddScaled } from '../ops/linucb.js';
import { diagonalBonus, perArmGradients, type MlpShape } from '../ops/mlp.js';
import { quadForm } from '../ops/quadform.js';
import { shermanMorrisonUpdate } from '../ops/rank1.js';
import type { SavedModelReader } from '../models/saved.js';
import type { SavedArray } from '../models/persist.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/** Newton–Schulz steps at most a repair of a Z⁻¹ too large for the batched Cholesky. */
const MAX_NEWTON_STEPS = 4;
/**
 * Newton steps on the float-float Z⁻¹ after a repair (f32 backends): each shrinks the drift by
 * about the f32 floor u·‖ |Z|·|Z⁻¹| ‖∞ (≈ 0.5 at κ(Z) ≈ 10⁷; measured in docs/numerics.md).
 */
const FF_STEPS = 8;

/** How a Z is made: the network's shape, its width m, λ and (full) the drift bound. */
export interface ConfidenceSetup {
  readonly label: string;
  readonly shape: MlpShape;
  /** p, the number of parameters. */
  readonly params: number;
  /** m of g gᵀ/m: the width of the last hidden layer. */
  readonly width: number;
  readonly lambda: number;
  readonly driftBound: number;
}

/**
 * NeuralUCB's confidence: Z = λI + Σ g gᵀ/m over the played rows' gradients, and the squared
 * width gᵀZ⁻¹g of the candidates' gradients.
 */
export interface Confidence {
  readonly kind: 'diagonal' | 'full';
  /** Whether a kept inverse can drift, so `repair` has work to do. */
  readonly drifts: boolean;
  /** Z ← Z + w·g gᵀ/m for each row of x (n×dim), in order, with g at θ; `weights` (n values, > 0) absent: w = 1. */
  add(theta: Tensor, x: Tensor, weights?: Float64Array): void;
  /** gᵀZ⁻¹g of every row of x (B·K rows), a new tensor; `activations` are the forward pass's at θ. */
  bonus(theta: Tensor, x: Tensor, activations: readonly Tensor[]): Tensor;
  /** Measures the kept inverse's drift and rebuilds it past the bound (counted in `health`). */
  repair(): Promise<void>;
  /** ‖Z·Z⁻¹ − I‖∞ at the last check (after any repair) or null, checks and repairs made. */
  readonly health: { readonly lastDrift: number | null; readonly driftChecks: number; readonly repairs: number };
  /** The arrays a save holds. */
  arrays(): Promise<Record<string, SavedArray>>;
  /** Writes the arrays of a save; `health` comes back from its counters. */
  restore(saved: SavedModelReader): void;
  dispose(): void;
}

/**
 * The rows of `jac` (n×p) scaled by `factors` (n values) into a new tensor: row j ← factor_j·row j
 * (a scatter-add of the rows into zeros, one dispatch).
 */
function scaledRows(backend: Backend, jac: Tensor, factors: Float32Array): Tensor {
  const out = backend.zeros(jac.shape, { label: `${jac.label} scaled` });
  try {
    scatterAddScaled(backend, out, jac, Int32Array.from(factors, (_, j) => j), factors);
  } catch (e) {
    out.dispose();
    throw e;
  }
  return out;
}

/** `next` in place of `old`, which is freed. */
function replace(old: Tensor, next: Tensor): Tensor {
  old.dispose();
  return next;
}

/** What both kinds hold: the backend and how their Z is made. */
abstract class ConfidenceParts {
  protected readonly backend: Backend;
  protected readonly setup: ConfidenceSetup;

  constructor(backend: Backend, setup: ConfidenceSetup) {
    this.backend = backend;
    this.setup = setup;
  }

  /** p×… values starting as `value`·I (p values when `diagonal`), in f32 as every backend starts them. */
  protected start(value: number, diagonal: boolean, label: string): Tensor {
    const p = this.setup.params;
    const data = diagonal ? new Float32Array(p).fill(value) : identities(1, p, value, false);
    return this.backend.tensor(data, diagonal ? [p] : [1, p, p], { label: `${this.setup.label} ${label}` });
  }
}

/**
 * diag(Z) only (p values), with the bonus computed matrix-free (K·p work a select), as Zhou et
 * al.'s released code does. It keeps no inverse: the bonus divides by diag(Z) itself, so there
 * is no drift to repair.
 *
 * @example
 * const z = new DiagonalConfidence(backend, { label: 'NeuralUCB', shape, params: p, width: m, lambda, driftBound });
 */
export class DiagonalConfidence extends ConfidenceParts implements Confidence {
  readonly kind = 'diagonal';
  readonly drifts = false;
  readonly health = { lastDrift: null, driftChecks: 0, repairs: 0 };
  private readonly z = this.start(this.setup.lambda, true, 'diag Z');

  add(theta: Tensor, x: Tensor, weights?: Float64Array): void {
    let jac = perArmGradients(this.backend, theta, x, this.setup.shape);
    try {
      // w·g² = (√w·g)²: the rows scaled by √w.
      if (weights) jac = replace(jac, scaledRows(this.backend, jac, Float32Array.from(weights, Math.sqrt)));
      accumulateSquares(this.backend, this.z, jac, 1 / this.setup.width);
    } finally {
      jac.dispose();
    }
  }

  bonus(theta: Tensor, x: Tensor, activations: readonly Tensor[]): Tensor {
    return diagonalBonus(this.backend, theta, x, this.z, { ...this.setup.shape, activations });
  }

  async repair(): Promise<void> {
    // Nothing is kept that could drift from diag(Z).
  }

  async arrays(): Promise<Record<string, SavedArray>> {
    return { zDiag: (await this.backend.read(this.z)) as Float32Array | Float64Array };
  }

  restore(saved: SavedModelReader): void {
    this.backend.write(this.z, saved.need('zDiag', this.setup.params));
  }

  dispose(): void {
    this.z.dispose();
  }
}

/**
 * Z and Z⁻¹ in full (p×p each; Z as float-float, `z` + `zLo`, see docs/numerics.md): Z⁻¹ kept by
 * Sherman–Morrison (K·p² work a select), checked against the accurate Z and repaired by batched
 * Cholesky refined by Newton steps (p ≤ 256) or by Newton steps X ← X + X(I − Z X) from the
 * drifted inverse alone (larger p), the residual against the accurate Z. On f32 backends Z⁻¹ is
 * float-float too (`inv` + `invLo`): a repair ends with FF_STEPS Newton steps whose correction
 * X·R lands in both (addAccurate), so the drift goes below the f32 floor u·κ(Z) (0.5 at κ ≈ 10⁷),
 * and the bonus reads both.
 *
 * @example
 * const z = new FullConfidence(backend, { label: 'NeuralUCB', shape, params: p, width: m, lambda, driftBound: 1e-3 });
 * await z.repair();   // after driftCheckEvery update rows
 */
export class FullConfidence extends ConfidenceParts implements Confidence {
  readonly kind = 'full';
  readonly drifts = true;
  health = { lastDrift: null as number | null, driftChecks: 0, repairs: 0 };
  private readonly z: Tensor;
  private readonly zLo: Tensor;
  private readonly inv: Tensor;
  /** Z⁻¹'s lo part: zeros on the cpu backend (float64 needs none) and until a repair on f32 ones. */
  private readonly invLo: Tensor;

  constructor(backend: Backend, setup: ConfidenceSetup) {
    super(backend, setup);
    this.z = this.start(setup.lambda, false, 'Z');
    const made = [this.z];
    try {
      this.zLo = this.start(0, false, 'Z (lo)');
      made.push(this.zLo);
      this.inv = this.start(1 / setup.lambda, false, 'Z⁻¹');
      made.push(this.inv);
      this.invLo = this.start(0, false, 'Z⁻¹ (lo)');
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  }

  add(theta: Tensor, x: Tensor, weights?: Float64Array): void {
    let jac = perArmGradients(this.backend, theta, x, this.setup.shape);
    try {
      scale(this.backend, 1 / Math.sqrt(this.setup.width), jac);
      if (weights) jac = replace(jac, scaledRows(this.backend, jac, Float32Array.from(weights, Math.sqrt)));
      const one = new Int32Array(x.shape[0]!);
      accumulateOuter(this.backend, { hi: this.z, lo: this.zLo }, jac, one, new Float32Array(one.length).fill(1));
      shermanMorrisonUpdate(this.backend, this.inv, jac, one);
    } finally {
      jac.dispose();
    }
  }

  bonus(theta: Tensor, x: Tensor, activations: readonly Tensor[]): Tensor {
    const jac = perArmGradients(this.backend, theta, x, { ...this.setup.shape, activations });
    try {
      const q = quadForm(this.backend, jac, this.inv);
      if (refinesState(this.backend.kind)) {
        const lo = quadForm(this.backend, jac, this.invLo);
        axpy(this.backend, 1, lo, q);
        lo.dispose();
      }
      return q;
    } finally {
      jac.dispose();
    }
  }

  /**
   * Measures ‖Z·Z⁻¹ − I‖∞ and rebuilds Z⁻¹ from Z past the bound. Readbacks in the middle, each
   * needed for the next decision: the drift (repair or not), the Cholesky status (keep the new
   * inverse or not) or each Newton–Schulz step's drift (stop early), then the drift after repair.
   */
  async repair(): Promise<void> {
    this.health.driftChecks++;
    let drift = await this.readDrift();
    if (drift <= this.setup.driftBound) {
      this.health.lastDrift = drift;
      return;
    }
    const p = this.setup.params, z = { hi: this.z, lo: this.zLo };
    if (p <= MAX_FACTOR_DIM) {
      const { result, status } = spdInverse(this.backend, this.z);
      try {
        refineInverse(this.backend, z, result, refinesState(this.backend.kind) ? REFINE_STEPS : 0);
        if ((await this.backend.read(status))[0] === 0) {
          this.backend.copy(result, this.inv);
          this.clearLo();
        }
      } finally {
        result.dispose();
        status.dispose();
      }
    } else {
      // Newton steps X ← X + X(I − Z X): quadratic convergence from the drifted inverse, the
      // residual against the accurate Z, GEMMs otherwise.
      for (let k = 0; k < MAX_NEWTON_STEPS && drift > this.setup.driftBound; k++) {
        this.clearLo();
        refineInverse(this.backend, z, this.inv, 1);
        drift = await this.readDrift();
      }
    }
    this.health.repairs++;
    drift = await this.readDrift();
    // Newton steps converge only from ‖I − Z X‖ < 1 (a failed factorisation keeps a worse X).
    if (refinesState(this.backend.kind) && drift < 1) {
      this.refineAccurate();
      drift = await this.readDrift();
    }
    this.health.lastDrift = drift;
  }

  /** FF_STEPS Newton steps X ← X + X·(I − Z X) on the float-float X (hi + lo), encoded. */
  private refineAccurate(): void {
    const b = this.backend, x = { hi: this.inv, lo: this.invLo }, shape = this.inv.shape;
    const r = b.zeros(shape, { label: 'Z⁻¹ residual' }), t = b.zeros(shape, { label: 'Z⁻¹ correction' });
    try {
      for (let s = 0; s < FF_STEPS; s++) {
        accurateResidual(b, { hi: this.z, lo: this.zLo }, x, r).dispose();
        gemm(b, this.inv, r, { c: t });
        addAccurate(b, x, t);
      }
    } finally {
      r.dispose();
      t.dispose();
    }
  }

  /** invLo ← 0 in the open step (after a new f32 inverse replaced hi). */
  private clearLo(): void {
    const zero = this.backend.zeros(this.invLo.shape, { label: 'Z⁻¹ (lo) cleared' });
    this.backend.copy(zero, this.invLo);
    zero.dispose();
  }

  private async readDrift(): Promise<number> {
    const t = accurateResidual(this.backend, { hi: this.z, lo: this.zLo }, { hi: this.inv, lo: this.invLo });
    try {
      const v = (await this.backend.read(t))[0]!;
      return Number.isNaN(v) ? Infinity : v;
    } finally {
      t.dispose();
    }
  }

  async arrays(): Promise<Record<string, SavedArray>> {
    const read = (t: Tensor) => this.backend.read(t) as Promise<Float32Array | Float64Array>;
    return { z: await read(this.z), zInv: await read(this.inv), zLo: await read(this.zLo), zInvLo: await read(this.invLo) };
  }

  restore(saved: SavedModelReader): void {
    const p = this.setup.params;
    this.backend.write(this.z, saved.need('z', p * p));
    this.backend.write(this.inv, saved.need('zInv', p * p));
    // Z's lo part (float-float Z): saves made before it have none, and load it as zeros.
    if (saved.arrays['zLo'] !== undefined) this.backend.write(this.zLo, saved.need('zLo', p * p));
    // Z⁻¹'s lo part likewise.
    if (saved.arrays['zInvLo'] !== undefined) this.backend.write(this.invLo, saved.need('zInvLo', p * p));
    const c = saved.counts(['driftChecks', 'repairs'] as const);
    this.health = { lastDrift: saved.numberOrNull('lastDrift'), driftChecks: c.driftChecks, repairs: c.repairs };
  }

  dispose(): void {
    this.z.dispose();
    this.zLo.dispose();
    this.inv.dispose();
    this.invLo.dispose();
  }
}

/**
 * The confidence a model asked for.
 *
 * @example
 * const z = makeConfidence(backend, options.confidence, setup);
 */
export function makeConfidence(backend: Backend, kind: 'diagonal' | 'full', setup: ConfidenceSetup): Confidence {
  return kind === 'diagonal' ? new DiagonalConfidence(backend, setup) : new FullConfidence(backend, setup);
}
