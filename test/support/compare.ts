/**
 * Comparing kernel output with its float64 twin. An element passes when both are NaN, both are
 * the same infinity, or |actual − expected| ≤ max(abs, rel·|expected|, bound[i]) where `bound`
 * is an optional per-element error bound derived for the op (see `dotBound`).
 */

export interface Tolerance {
  /** Absolute slack, for results near zero. */
  readonly abs: number;
  /** Relative slack, in units of |expected|. */
  readonly rel: number;
}

/** f32 unit roundoff, 2⁻²⁴. */
export const F32_EPS = 2 ** -24;

/** Elementwise f32 ops (one rounding): half an ulp plus the rounding of the input to f32. */
export const TOL_ELEMENTWISE: Tolerance = { abs: 0, rel: 4 * F32_EPS };
/** Bitwise results (argmax indices, copies). */
export const TOL_EXACT: Tolerance = { abs: 0, rel: 0 };

export interface Comparison {
  readonly ok: boolean;
  readonly mismatches: number;
  /** Index of the worst element, its values and its error / allowed ratio. */
  readonly worst: { index: number; actual: number; expected: number; ratio: number } | null;
  readonly message: string;
}

type Numbers = ArrayLike<number>;

export function compare(actual: Numbers, expected: Numbers, tol: Tolerance, bound?: Numbers): Comparison {
  if (actual.length !== expected.length) {
    return { ok: false, mismatches: Math.max(actual.length, expected.length), worst: null,
      message: `length ${actual.length} ≠ expected ${expected.length}` };
  }
  let mismatches = 0;
  let worst: Comparison['worst'] = null;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!, e = expected[i]!;
    let ratio: number;
    if (Number.isNaN(e) || Number.isNaN(a)) ratio = Number.isNaN(e) && Number.isNaN(a) ? 0 : Infinity;
    else if (!Number.isFinite(e) || !Number.isFinite(a)) ratio = a === e ? 0 : Infinity;
    else {
      const allowed = Math.max(tol.abs, tol.rel * Math.abs(e), bound ? bound[i]! : 0);
      const err = Math.abs(a - e);
      ratio = err === 0 ? 0 : allowed === 0 ? Infinity : err / allowed;
    }
    if (ratio > 1) mismatches++;
    if (worst === null || ratio > worst.ratio) worst = { index: i, actual: a, expected: e, ratio };
  }
  const ok = mismatches === 0;
  const w = worst;
  const message = ok
    ? `all ${actual.length} within tolerance (worst ${w ? w.ratio.toFixed(3) : 0} of allowed)`
    : `${mismatches} of ${actual.length} outside tolerance; worst at [${w!.index}]: got ${w!.actual}, expected ${w!.expected} (${w!.ratio.toPrecision(3)}× allowed)`;
  return { ok, mismatches, worst, message };
}

/** Throws with a useful message unless `actual` matches `expected` (see `compare`). */
export function expectClose(actual: Numbers, expected: Numbers, tol: Tolerance, what: string, bound?: Numbers): Comparison {
  const c = compare(actual, expected, tol, bound);
  if (!c.ok) throw new Error(`${what}: ${c.message}`);
  return c;
}

/**
 * Forward error bound of an f32 dot product of length n, with f32 inputs, accumulated in any order:
 * |fl(xᵀy) − xᵀy| ≤ γ_n·|x|ᵀ|y|, γ_n = n·u/(1 − n·u); the caller passes |x|ᵀ|y| (the same op on
 * absolute values, from the float64 twin). `extra` counts further roundings (α, β, fma).
 */
export function dotBound(absProduct: Numbers, n: number, extra = 2): Float64Array {
  const m = n + extra;
  const gamma = (m * F32_EPS) / (1 - m * F32_EPS);
  const out = new Float64Array(absProduct.length);
  for (let i = 0; i < out.length; i++) out[i] = gamma * absProduct[i]! + 1e-37;
  return out;
}
