/**
 * Φ, the standard normal CDF, as the GPU computes it (shaders/explore.wgsl `normalCdf`): erfc by
 * the Chebyshev fit of Numerical Recipes' erfcc, fractional error below 1.2e−7 everywhere (so
 * small probabilities keep their relative accuracy), Φ(x) = erfc(−x/√2)/2.
 *
 * @example
 * normalCdf(0);      // 0.5
 * normalCdf(-10);    // ≈ 7.6e−24
 */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2, t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/**
 * Beyond this many standard deviations Φ is 0 or 1 to f32 (Φ(−14) ≈ 8e−45, below the least f32):
 * the Thompson propensity kernel takes the limit there instead of dividing by a tiny deviation.
 */
export const NORMAL_CDF_RANGE = 14;
