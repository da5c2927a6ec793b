/**
 * The statistics of a head-to-head over seeds: Student's t distribution (its CDF through the
 * regularised incomplete beta function, its quantile by bisection), t-intervals of a mean, paired
 * t-tests and Holm's step-down correction for a family of comparisons.
 */
import { BanditError } from '../core/errors.js';

/** ln Γ(x), x > 0 (Lanczos, g = 7, 9 terms: ~15 significant digits). */
function logGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of I_x(a, b) (modified Lentz), converging for x < (a + 1)/(a + b + 2). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    c = 1 + num / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    h *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    c = 1 + num / c;
    d = 1 / (Math.abs(d) < tiny ? tiny : d);
    c = Math.abs(c) < tiny ? tiny : c;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-15) break;
  }
  return h;
}

/**
 * The regularised incomplete beta function I_x(a, b), a, b > 0, x in [0, 1].
 *
 * @example
 * regularizedBeta(0.5, 2, 2);   // 0.5
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (!(a > 0 && b > 0) || !(x >= 0 && x <= 1)) throw new BanditError(`regularizedBeta: needs a, b > 0 and x in [0, 1], got x = ${x}, a = ${a}, b = ${b}`);
  if (x === 0 || x === 1) return x;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/**
 * P(|T| ≥ |t|) for Student's t with `df` degrees of freedom: the two-sided p-value of t.
 *
 * @example
 * studentTTwoSided(2.776, 4);   // ≈ 0.05
 */
export function studentTTwoSided(t: number, df: number): number {
  if (!(df > 0)) throw new BanditError(`studentTTwoSided: df must be > 0, got ${df}`);
  if (Number.isNaN(t)) return NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * The quantile t_p of Student's t with `df` degrees of freedom, p in (0, 1): P(T ≤ t_p) = p.
 *
 * @example
 * studentTQuantile(0.975, 4);   // 2.7764…
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new BanditError(`studentTQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new BanditError(`studentTQuantile: df must be > 0, got ${df}`);
  if (p === 0.5) return 0;
  const tail = 2 * Math.min(p, 1 - p);   // the two-sided p-value of the answer
  let lo = 0, hi = 1;
  while (studentTTwoSided(hi, df) > tail) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-14 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSided(mid, df) > tail) lo = mid;
    else hi = mid;
  }
  const t = (lo + hi) / 2;
  return p > 0.5 ? t : -t;
}

/** A mean with its t-interval. */
export interface MeanInterval {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (n − 1 in the denominator); NaN for n = 1. */
  readonly sd: number;
  /** mean ∓ t_{(1+c)/2, n−1}·sd/√n; NaN for n = 1. */
  readonly lower: number;
  readonly upper: number;
}

function meanAndSd(values: ArrayLike<number>): { n: number; mean: number; sd: number } {
  const n = values.length;
  if (n === 0) throw new BanditError('meanInterval: no values');
  let mean = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i]!)) throw new BanditError(`meanInterval: values[${i}] is ${values[i]}; values must be finite`);
    mean += values[i]! / n;
  }
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  return { n, mean, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : NaN };
}

/**
 * The mean of `values` (independent draws, e.g. one a seed) with its Student-t interval at
 * `confidence` (default 0.95).
 *
 * @example
 * meanInterval([10, 12, 11, 13]);   // { n: 4, mean: 11.5, sd: 1.29, lower: 9.45, upper: 13.55 }
 */
export function meanInterval(values: ArrayLike<number>, confidence = 0.95): MeanInterval {
  if (!(confidence > 0 && confidence < 1)) throw new BanditError(`meanInterval: confidence must be in (0, 1), got ${confidence}`);
  const { n, mean, sd } = meanAndSd(values);
  if (n < 2) return { n, mean, sd, lower: NaN, upper: NaN };
  const half = studentTQuantile((1 + confidence) / 2, n - 1) * (sd / Math.sqrt(n));
  return { n, mean, sd, lower: mean - half, upper: mean + half };
}

/** A paired t-test of a − b. */
export interface PairedTest extends MeanInterval {
  /** t = mean/(sd/√n); ±Infinity when every difference is the same nonzero value, 0 when all are 0. */
  readonly t: number;
  /** Two-sided p-value: 1 when every difference is 0, 0 when they are all the same nonzero value. */
  readonly p: number;
}

/**
 * Student's paired t-test of the differences a_s − b_s (s = 0..n−1, e.g. two policies' regrets
 * on the same seeds), with the t-interval of the mean difference. Needs n ≥ 2.
 *
 * @example
 * pairedTTest([10, 12, 11], [8, 9, 9]);   // mean 2.33, p ≈ 0.02
 */
export function pairedTTest(a: ArrayLike<number>, b: ArrayLike<number>, confidence = 0.95): PairedTest {
  if (a.length !== b.length) throw new BanditError(`pairedTTest: ${a.length} and ${b.length} values; the pairs must match`);
  if (a.length < 2) throw new BanditError(`pairedTTest: needs at least 2 pairs, got ${a.length}`);
  const d = Float64Array.from({ length: a.length }, (_, i) => a[i]! - b[i]!);
  const m = meanInterval(d, confidence);
  if (m.sd === 0) return { ...m, t: m.mean === 0 ? 0 : Math.sign(m.mean) * Infinity, p: m.mean === 0 ? 1 : 0 };
  const t = m.mean / (m.sd / Math.sqrt(m.n));
  return { ...m, t, p: studentTTwoSided(t, m.n - 1) };
}

/**
 * Holm's step-down correction (Holm 1979) of m p-values at family-wise error `alpha`: sorted
 * ascending, p_(i) is rejected while p_(i) ≤ alpha/(m − i) (i from 0); the adjusted p-values are
 * max_{j ≤ i} min(1, (m − j)·p_(j)). Controls the chance of ANY false rejection at alpha, with
 * more power than Bonferroni. Returns, in the input order, the adjusted p and whether rejected.
 *
 * @example
 * holm([0.01, 0.04, 0.03], 0.05);   // adjusted [0.03, 0.06, 0.06]; only the first rejected
 */
export function holm(pValues: readonly number[], alpha = 0.05): { adjusted: number[]; rejected: boolean[] } {
  if (!(alpha > 0 && alpha < 1)) throw new BanditError(`holm: alpha must be in (0, 1), got ${alpha}`);
  const m = pValues.length;
  pValues.forEach((p, i) => {
    if (!(p >= 0 && p <= 1)) throw new BanditError(`holm: pValues[${i}] is ${p}; p-values must be in [0, 1]`);
  });
  const order = pValues.map((_, i) => i).sort((x, y) => pValues[x]! - pValues[y]!);
  const adjusted = new Array<number>(m).fill(1);
  let running = 0;
  order.forEach((idx, rank) => {
    running = Math.max(running, Math.min(1, (m - rank) * pValues[idx]!));
    adjusted[idx] = running;
  });
  return { adjusted, rejected: adjusted.map((p) => p <= alpha) };
}
