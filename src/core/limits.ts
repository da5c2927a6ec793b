import { BanditError } from './errors.js';

/** The largest matrix order the batched Cholesky and SPD inverse take (one workgroup a matrix, d ≤ 256). */
export const MAX_FACTOR_DIM = 256;

// The ranges inside which f32 state (webgpu, wasm) stays finite and as accurate as float64 (see
// docs/numerics.md, "Bounds"), in one place; every backend refuses what lies outside, so a model
// behaves (and saves, and loads) the same on all of them. Powers of two, so the bounds are exact
// in f32 and float64 alike.

/** `lambda` (ridge, A starts as λI) in [2⁻⁴⁰, 2⁴⁰] ≈ [9.1e-13, 1.1e12]: 1/λ and λ·κ stay normal f32. */
export const LAMBDA_RANGE = [2 ** -40, 2 ** 40] as const;
/** `alpha` (confidence width) at most 2⁶⁴ ≈ 1.8e19: α·√(xᵀA⁻¹x) of an accepted context stays finite. */
export const ALPHA_MAX = 2 ** 64;
/**
 * The largest |value| of one context vector (a row, or an arm's part of a per-arm row) is 0 or
 * in [2⁻⁴⁰, 2³²] ≈ [9.1e-13, 4.3e9]: then x xᵀ and xᵀA⁻¹x (with λ in LAMBDA_RANGE) are normal
 * f32, neither underflowing to 0 nor overflowing. Single values below the row's scale are fine.
 */
export const CONTEXT_SCALE_RANGE = [2 ** -40, 2 ** 32] as const;
/** |reward| at most 2⁶⁴ ≈ 1.8e19 (with contexts in range, r·x stays far inside f32). */
export const REWARD_MAX = 2 ** 64;
/**
 * Per arm, λ + Σ w·‖x‖² (which bounds |A_ij|) and Σ w·|r|·max|x| (which bounds |b_i|) at most
 * 2¹⁰⁰ ≈ 1.3e30: sums of d products of A with its inverse then stay finite in f32.
 */
export const STATE_MAX = 2 ** 100;
/**
 * Per arm, (λ + Σ w·‖x‖²)/λ, a bound on A's condition number, at most 2²⁰ ≈ 1.05e6 on f32
 * backends (measured: scores within 1.2e-5 of float64 at 10⁶, 9e-3 at 10⁷, garbage at 10⁸;
 * docs/numerics.md) and 2⁴⁰ on the float64 cpu backend.
 */
export function conditioningMax(kind: string): number {
  return kind === 'cpu' ? 2 ** 40 : 2 ** 20;
}

/**
 * Whether a backend's state is f32 and so gets the refinement steps (Newton steps after a
 * re-factorisation, refineSolve steps for θ): the cpu backend's float64 state is already as
 * accurate as they would make it, and skipping them keeps its results what they were.
 */
export function refinesState(kind: string): boolean {
  return kind !== 'cpu';
}

const fmt = (v: number): string => v.toExponential(2);

/**
 * Refuses context vectors (runs of `width` values) whose largest |value| is outside
 * CONTEXT_SCALE_RANGE (and not 0), naming the first one.
 *
 * @example
 * checkContextScale('LinUCB.select', 'contexts', x, dim);
 */
export function checkContextScale(op: string, name: string, values: ArrayLike<number>, width: number): void {
  const [lo, hi] = CONTEXT_SCALE_RANGE;
  for (let start = 0; start < values.length; start += width) {
    let m = 0;
    for (let j = start; j < start + width && j < values.length; j++) m = Math.max(m, Math.abs(values[j]!));
    if (m !== 0 && !(m >= lo && m <= hi)) {
      throw new BanditError(`${op}: ${name}[${start}..${start + width}) has largest |value| ${fmt(m)}, outside the safe range ` +
        `[${fmt(lo)}, ${fmt(hi)}] (2⁻⁴⁰ … 2³²) of a context vector (or all zeros); rescale the features`);
    }
  }
}

/**
 * Refuses a reward with |r| over REWARD_MAX.
 *
 * @example
 * checkRewardScale('LinUCB.update', rewards);
 */
export function checkRewardScale(op: string, rewards: ArrayLike<number>): void {
  for (let i = 0; i < rewards.length; i++) {
    if (Math.abs(rewards[i]!) > REWARD_MAX) {
      throw new BanditError(`${op}: rewards[${i}] = ${fmt(rewards[i]!)} is outside the safe range |r| ≤ ${fmt(REWARD_MAX)} (2⁶⁴)`);
    }
  }
}

/** `lambda` in LAMBDA_RANGE: the test and the words of numberOption. */
export const lambdaInRange = (v: number): boolean => v >= LAMBDA_RANGE[0] && v <= LAMBDA_RANGE[1];
export const LAMBDA_WORDS = `in [${fmt(LAMBDA_RANGE[0])}, ${fmt(LAMBDA_RANGE[1])}] (2⁻⁴⁰ … 2⁴⁰)`;
/** `alpha` in [0, ALPHA_MAX]. */
export const alphaInRange = (v: number): boolean => v >= 0 && v <= ALPHA_MAX;
export const ALPHA_WORDS = `in [0, ${fmt(ALPHA_MAX)}] (2⁶⁴)`;

/**
 * The host's running bounds on each arm's accumulated state (λ + Σ w‖x‖² and Σ w|r|·max|x|),
 * float64, checked before an update is applied: an update that would take an arm past
 * STATE_MAX or past conditioningMax is refused whole, with nothing changed. Grows and resets
 * with the arms; a load recomputes it from the saved A and b.
 *
 * @example
 * const mass = new ArmMass('LinUCB', backend.kind, lambda, arms);
 * mass.admit('LinUCB.update', arms, x, r, dim);   // throws, or records the rows
 */
export class ArmMass {
  private a: Float64Array;
  private b: Float64Array;
  private readonly model: string;
  private readonly lambda: number;
  private readonly kappa: number;

  constructor(model: string, kind: string, lambda: number, arms: number) {
    this.model = model;
    this.lambda = lambda;
    this.kappa = conditioningMax(kind);
    this.a = new Float64Array(arms);
    this.b = new Float64Array(arms);
  }

  /**
   * Checks rows (x already scaled by √w, r by √w) against the bounds, then records them; with
   * `decay` (discounting, γ) an arm's sums are at most a row's over (1 − γ), so each row is
   * checked alone at that and nothing is recorded.
   */
  admit(op: string, arms: Int32Array, x: Float32Array, r: Float32Array, d: number, decay: number | null = null): void {
    const addA = new Map<number, number>(), addB = new Map<number, number>();
    for (let u = 0; u < arms.length; u++) {
      let n2 = 0, m = 0;
      for (let j = 0; j < d; j++) {
        const v = x[u * d + j]!;
        n2 += v * v;
        m = Math.max(m, Math.abs(v));
      }
      const k = arms[u]!, rb = Math.abs(r[u]!) * m;
      const massA = decay === null ? (addA.get(k) ?? this.a[k]!) + n2 : n2 / (1 - decay);
      const massB = decay === null ? (addB.get(k) ?? this.b[k]!) + rb : rb / (1 - decay);
      if (!(this.lambda + massA <= STATE_MAX) || !(massB <= STATE_MAX)) {
        throw new BanditError(`${op}: row ${u} would take arm ${k}'s accumulated ${massA > massB ? 'λ + Σ w‖x‖²' : 'Σ w|r|·max|x|'} to ` +
          `${fmt(Math.max(this.lambda + massA, massB))}, past the safe ${fmt(STATE_MAX)} (2¹⁰⁰) of f32 state; rescale contexts or rewards`);
      }
      if (!((this.lambda + massA) / this.lambda <= this.kappa)) {
        throw new BanditError(`${op}: row ${u} would take arm ${k}'s conditioning bound (λ + Σ w‖x‖²)/λ to ${fmt((this.lambda + massA) / this.lambda)}, ` +
          `past the ${fmt(this.kappa)} this backend keeps accurate (docs/numerics.md); use a larger lambda, forgetting, or smaller weights`);
      }
      if (decay === null) {
        addA.set(k, massA);
        addB.set(k, massB);
      }
    }
    for (const [k, v] of addA) this.a[k] = v;
    for (const [k, v] of addB) this.b[k] = v;
  }

  /** n more arms at zero, and `reset` arms back to zero. */
  grow(n: number, reset: ArrayLike<number> = []): void {
    const a = new Float64Array(this.a.length + n), b = new Float64Array(this.b.length + n);
    a.set(this.a);
    b.set(this.b);
    for (let i = 0; i < reset.length; i++) a[reset[i]!] = b[reset[i]!] = 0;
    this.a = a;
    this.b = b;
  }

  /** From saved state: Σ w‖x‖² = trace(A) − d·λ, and max_i |b_i| (a lower bound of Σ w|r|·max|x|). */
  restore(a: ArrayLike<number>, b: ArrayLike<number>, d: number): void {
    for (let k = 0; k < this.a.length; k++) {
      let tr = 0, mb = 0;
      for (let i = 0; i < d; i++) {
        tr += a[k * d * d + i * d + i]!;
        mb = Math.max(mb, Math.abs(b[k * d + i]!));
      }
      this.a[k] = Math.max(0, tr - d * this.lambda);
      this.b[k] = mb;
    }
  }
}
