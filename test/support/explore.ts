// What the exploration specs share: the policies' probabilities written straight from their
// definitions (independent of src/cpu/explore.ts), running sampleArms on a backend, the bounds the
// f32 kernels are held to, and the calibration check.
import type { Backend } from '../../src/index.js';
import { sampleArms, type RandomKey, type SamplingPolicy } from '../../src/ops/index.js';
import { F32_EPS } from './compare.js';

/** The softmax weight floor and the SquareCB gap cap the library documents. */
export const LOGIT_FLOOR = 87;
export const GAP_CAP = 2 ** 100;

/**
 * The distribution of one slot over a row's arms: `usable[a]` says eligible and not chosen
 * by an earlier slot; arms with a non-finite score get 0. From the formulas in sampleArms' doc.
 */
export function slotDistribution(s: ArrayLike<number>, usable: (a: number) => boolean, policy: SamplingPolicy): Float64Array {
  const K = s.length, p = new Float64Array(K);
  const cand: number[] = [];
  for (let a = 0; a < K; a++) if (usable(a) && Number.isFinite(s[a]!)) cand.push(a);
  if (cand.length === 0) return p;
  let best = cand[0]!;
  for (const a of cand) if (s[a]! > s[best]!) best = a;
  const n = cand.length, m = s[best]!;
  switch (policy.kind) {
    case 'greedy':
      p[best] = 1;
      break;
    case 'epsilon-greedy':
      for (const a of cand) p[a] = policy.epsilon / n;
      p[best] = p[best]! + 1 - policy.epsilon;
      break;
    case 'softmax': {
      // log-sum-exp over the logits above the floor.
      let z = 0;
      for (const a of cand) {
        const l = (s[a]! - m) / policy.temperature;
        if (l >= -LOGIT_FLOOR) z += Math.exp(l);
      }
      for (const a of cand) {
        const l = (s[a]! - m) / policy.temperature;
        p[a] = l >= -LOGIT_FLOOR ? Math.exp(l) / z : 0;
      }
      break;
    }
    case 'squarecb': {
      let rest = 0;
      for (const a of cand) {
        if (a === best) continue;
        p[a] = 1 / (n + Math.min(policy.gamma * (m - s[a]!), GAP_CAP));
        rest += p[a]!;
      }
      p[best] = 1 - rest;
      break;
    }
  }
  return p;
}

/**
 * Relative error allowed on an f32 propensity against its definition, for rows of K arms whose
 * logits are at most `maxLogit` in magnitude. Each weight takes a few roundings (ε/n, 1/(n + q),
 * the rounding of ε, T or γ to f32), exp adds WGSL's 3 + 2|x| ULP plus |x|·2u from its rounded
 * argument; the total W is a sum of K terms (≤ (K + 1)u, in any order), and SquareCB's best
 * weight is another such sum; p = w/W adds WGSL's 2.5-ULP division.
 */
export function propensityRelBound(policy: SamplingPolicy, K: number, maxLogit = 0): number {
  const sums = policy.kind === 'squarecb' ? 2 * (K + 2) : K + 2;
  const exp = policy.kind === 'softmax' ? 2 * (3 + 2 * maxLogit) + 2 * maxLogit : 0;
  return (sums + 2 * exp + 16) * F32_EPS;
}

/** Smallest probability the comparisons resolve: a softmax weight at the floor, e⁻⁸⁷ ≈ 1.6e−38, and flush-to-zero. */
export const PROPENSITY_ABS = 1e-36;

export interface Sampled {
  readonly arms: Int32Array;
  readonly propensities: Float64Array;
  readonly status: Int32Array;
}

export interface SampleCase {
  readonly rows: number;
  readonly cols: number;
  readonly policy: SamplingPolicy;
  readonly key: RandomKey;
  readonly k?: number;
  /** K values (every row) or B×K, 0/1. */
  readonly eligible?: Int32Array;
  readonly perSlotScores?: boolean;
}

/** Runs sampleArms on a backend and reads arms, propensities and status back. */
export async function runSampleArms(backend: Backend, scores: Float32Array, c: SampleCase): Promise<Sampled> {
  const k = c.k ?? 1;
  const shape = c.perSlotScores ? [k, c.rows, c.cols] : [c.rows, c.cols];
  const s = backend.tensor(scores, shape);
  const eligible = c.eligible
    ? backend.tensor(c.eligible, c.eligible.length === c.cols ? [c.cols] : [c.rows, c.cols], { dtype: 'i32' })
    : undefined;
  const out = sampleArms(backend, s, {
    policy: c.policy, key: c.key, k, ...(eligible ? { eligible } : {}), ...(c.perSlotScores ? { perSlotScores: true } : {}),
  });
  const [arms, propensities, status] = await Promise.all([backend.read(out.arms), backend.read(out.propensities), backend.read(out.status)]);
  for (const t of [s, eligible, out.arms, out.propensities, out.status]) t?.dispose();
  return { arms: arms as Int32Array, propensities: Float64Array.from(propensities), status: status as Int32Array };
}

/** Whether arm a of row r is eligible under a K or B×K mask. */
export const eligibleAt = (mask: Int32Array | undefined, cols: number, r: number, a: number): boolean =>
  !mask || mask[mask.length === cols ? a : r * cols + a] !== 0;

/** Φ, the standard normal CDF (the library's own, src/core/normal.ts: erfc within 1.2e−7 relative). */
export { normalCdf } from '../../src/core/normal.js';

/**
 * Whether `hits` of `n` trials is within `sigmas` standard deviations of probability p (plus
 * one count, for the discreteness of a frequency). Returns the deviation in σ (0 when p is 0 or 1
 * and hits match exactly; Infinity when they cannot).
 */
export function deviationSigmas(hits: number, n: number, p: number): number {
  const sd = Math.sqrt(n * p * (1 - p));
  const err = Math.max(0, Math.abs(hits - n * p) - 1);
  if (err === 0) return 0;
  return sd === 0 ? Infinity : err / sd;
}

/**
 * The largest error allowed a GPU normal against the float64 twin. shaders/lib/random.wgsl builds
 * ln, cos and sin from correctly rounded +, −, × (÷ within 2.5 ULP): ln u within 16u relative
 * (≤ 7u in the series, doubled by the e·ln 2 + series cancellation, which is at most 2×), so
 * r = sqrt(−2 ln u) within 8u + WGSL's 9u for sqrt (2 + 2.5 ULP), i.e. ≤ 17u·r; cos and sin within
 * 8u absolute (Horner's roundings, |terms| ≤ π/4); z = r·cos within 17u·r + 8u·r + u·r.
 * With r ≤ MAX_NORMAL ≈ 5.77: 26u·5.77 ≈ 9e−6; 2⁻¹⁶ ≈ 1.5e−5 allowed.
 */
export const NORMAL_ABS = 2 ** -16;
