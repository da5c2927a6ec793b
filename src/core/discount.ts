/**
 * g decay steps at once: [γ^g, (1 − γ^g)·λ] in float64. 1 − γ^g goes through expm1/log1p so it
 * keeps its relative accuracy when γ is near 1; +0 (not −0) at γ = 1.
 */
export function decayFactors(gamma: number, lambda: number, g: number): [number, number] {
  return [Math.pow(gamma, g), (0 - Math.expm1(g * Math.log1p(gamma - 1))) * lambda];
}
