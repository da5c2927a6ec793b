import type {
  PosteriorDrawsArgs, SampleArmsArgs, SampleScoresArgs, SamplingPolicy, ThompsonPropensitiesArgs,
} from '../core/op-args.js';
import { RANDOM_STREAMS, normalsFromBlock, philox4x32, uniformFromBits } from '../core/philox.js';
import { NORMAL_CDF_RANGE, normalCdf } from '../core/normal.js';
import { f64, i32 } from './tensor.js';

// Float64 twins of shaders/explore.wgsl: the same definitions (candidates, tie rules, caps and
// floors, the inverse CDF walk, the Philox counters), in float64 and in arm order.

/** A softmax logit under −LOGIT_FLOOR gives weight 0 (e⁻⁸⁷ ≈ 1.6e−38, the last normal f32 weights). */
export const LOGIT_FLOOR = 87;
/** SquareCB's γ·gap is capped at 2¹⁰⁰, so 1/(n + γ·gap) stays a normal f32 (≥ 7.9e−31 for n ≤ 2²⁹). */
export const GAP_CAP = 2 ** 100;

/** Status of a sampleArms row: code in the low 2 bits, the number of usable arms above. */
export const STATUS_TOO_FEW_ELIGIBLE = 1;
export const STATUS_TOO_FEW_FINITE = 2;

function squareCbGap(gamma: number, m: number, s: number): number {
  return Math.min(gamma * (m - s), GAP_CAP);
}

/**
 * The unnormalised probabilities of one slot over `candidates` (arms in order), `best` the
 * candidate of the largest score (lowest arm on ties), m its score, written into `w`.
 */
function slotWeights(policy: SamplingPolicy, s: Float64Array, base: number, candidates: readonly number[], best: number, w: Float64Array): void {
  const n = candidates.length, m = s[base + best]!;
  switch (policy.kind) {
    case 'greedy':
      for (const a of candidates) w[a] = a === best ? 1 : 0;
      return;
    case 'epsilon-greedy':
      for (const a of candidates) w[a] = policy.epsilon / n + (a === best ? 1 - policy.epsilon : 0);
      return;
    case 'softmax':
      for (const a of candidates) {
        const logit = (s[base + a]! - m) / policy.temperature;
        w[a] = logit < -LOGIT_FLOOR ? 0 : Math.exp(logit);
      }
      return;
    case 'squarecb': {
      // p_best = 1 − Σ_{a≠best} 1/(n + q_a) = (1 + Σ_{a≠best} q_a/(n + q_a))/n, without cancellation.
      let rest = 0;
      for (const a of candidates) {
        if (a === best) continue;
        const q = squareCbGap(policy.gamma, m, s[base + a]!);
        w[a] = 1 / (n + q);
        rest += q / (n + q);
      }
      w[best] = (1 + rest) / n;
      return;
    }
  }
}

/**
 * The whole distribution sampleArmsF64 draws a row's first slot from (no eligibility mask, nothing
 * chosen before): the same weights (`slotWeights`), normalised over the arms with a finite score,
 * 0 for the others; rows×cols, row-major. A row with no finite score is all NaN. Off-policy
 * evaluation needs π(a|x) of every arm, where a decision returns only the chosen arm's.
 *
 * @example
 * const pi = slotDistributionF64({ kind: 'epsilon-greedy', epsilon: 0.1 }, scores, rows, arms);   // rows×arms, rows sum to 1
 */
export function slotDistributionF64(policy: SamplingPolicy, scores: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const s = Float64Array.from(scores), out = new Float64Array(rows * cols), w = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols, candidates: number[] = [];
    let best = -1;
    for (let a = 0; a < cols; a++) {
      const v = s[base + a]!;
      if (!Number.isFinite(v)) continue;
      candidates.push(a);
      if (best < 0 || v > s[base + best]!) best = a;
    }
    if (best < 0) {
      out.fill(NaN, base, base + cols);
      continue;
    }
    w.fill(0);
    slotWeights(policy, s, base, candidates, best, w);
    let total = 0;
    for (const a of candidates) total += w[a]!;
    for (const a of candidates) out[base + a] = w[a]! / total;
  }
  return out;
}

/** Per row and slot: the policy over the eligible, finite, not yet chosen arms, drawn by inverse CDF. */
export function sampleArmsF64(args: SampleArmsArgs): void {
  const { rows, cols, k, slotStride, eligibleStride, policy, seed, step } = args;
  const s = f64(args.scores), arms = i32(args.arms), props = f64(args.propensities), status = i32(args.status);
  const eligible = args.eligible ? i32(args.eligible) : null;
  const taken = new Uint8Array(cols), w = new Float64Array(cols), block = new Uint32Array(4);
  for (let r = 0; r < rows; r++) {
    taken.fill(0);
    const out = r * k;
    for (let j = 0; j < k; j++) {
      const base = j * slotStride + r * cols;
      let nEligible = 0, best = -1;
      const candidates: number[] = [];
      for (let a = 0; a < cols; a++) {
        if ((eligible && eligible[r * eligibleStride + a] === 0) || taken[a]) continue;
        nEligible++;
        const v = s[base + a]!;
        if (!Number.isFinite(v)) continue;
        candidates.push(a);
        if (best < 0 || v > s[base + best]!) best = a;
      }
      if (j === 0) {
        const code = nEligible < k ? STATUS_TOO_FEW_ELIGIBLE : candidates.length < k ? STATUS_TOO_FEW_FINITE : 0;
        status[r] = code === 0 ? 0 : code | ((code === STATUS_TOO_FEW_ELIGIBLE ? nEligible : candidates.length) << 2);
        if (code !== 0) {
          arms.fill(-1, out, out + k);
          props.fill(0, out, out + k);
          break;
        }
      }
      if (policy.kind === 'greedy') {
        taken[best] = 1;
        arms[out + j] = best;
        props[out + j] = 1;
        continue;
      }
      slotWeights(policy, s, base, candidates, best, w);
      let total = 0;
      for (const a of candidates) total += w[a]!;
      const target = uniformFromBits(philox4x32([step, r, j, 0], [seed, RANDOM_STREAMS.sampleArms], block)[0]!) * total;
      let acc = 0, found = -1;
      for (const a of candidates) {
        if (w[a]! > 0) {
          acc += w[a]!;
          found = a;
          if (acc > target) break;
        }
      }
      taken[found] = 1;
      arms[out + j] = found;
      props[out + j] = w[found]! / total;
    }
  }
}

/** The standard deviation of draw i, or −1 where mean or width2 is not finite (the draw is NaN). */
function drawScale(mean: Float64Array, width2: Float64Array, scale: number, i: number): number {
  if (!Number.isFinite(mean[i]!) || !Number.isFinite(width2[i]!)) return -1;
  return scale * Math.sqrt(Math.max(width2[i]!, 0));
}

/** out[m, r, a] = mean + scale·sqrt(max(width2, 0))·ξ with ξ from (step, r, a, block m/4), NaN where an input is not finite. */
export function sampleScoresF64({ mean, width2, out, rows, cols, draws, scale, seed, step }: SampleScoresArgs): void {
  const mu = f64(mean), w2 = f64(width2), o = f64(out);
  const block = new Uint32Array(4), z = new Float64Array(4);
  for (let m = 0; m < draws; m++) {
    for (let r = 0; r < rows; r++) {
      for (let a = 0; a < cols; a++) {
        const i = r * cols + a, sd = drawScale(mu, w2, scale, i);
        if (sd < 0) {
          o[m * rows * cols + i] = NaN;
          continue;
        }
        normalsFromBlock(philox4x32([step, r, a, m >>> 2], [seed, RANDOM_STREAMS.sampleScores], block), z);
        o[m * rows * cols + i] = mu[i]! + sd * z[m & 3]!;
      }
    }
  }
}

/**
 * P(a | a's draw beats the others') given the others' draws: Φ((μ_c − m)/σ_c) for the largest
 * other draw m (none: 1); for σ_c = 0 the indicator that μ_c wins, lower arm on ties. Beyond
 * NORMAL_CDF_RANGE deviations the limit 0 or 1 (no division by a tiny σ_c).
 */
export function conditionalWin(meanC: number, sdC: number, c: number, best: number, bestArm: number): number {
  if (bestArm < 0) return 1;
  if (sdC === 0) return meanC > best || (meanC === best && c < bestArm) ? 1 : 0;
  const gap = meanC - best;
  if (gap > NORMAL_CDF_RANGE * sdC) return 1;
  if (gap < -NORMAL_CDF_RANGE * sdC) return 0;
  return normalCdf(gap / sdC);
}

/**
 * Per row and slot: the Rao–Blackwellised Thompson propensity of the slot's arm c over M fresh
 * joint draws of the other eligible arms not chosen before: (1/M)·Σ_m P(c wins | the others' draw m)
 * (conditionalWin). The arms' draws are independent, so this is unbiased for P(c is the argmax)
 * and never 0 where σ_c > 0 and c can win.
 */
export function thompsonPropensitiesF64(args: ThompsonPropensitiesArgs): void {
  const { rows, cols, k, draws, scale, seed, step, eligibleStride } = args;
  const mu = f64(args.mean), w2 = f64(args.width2), chosen = i32(args.chosen), o = f64(args.out);
  const eligible = args.eligible ? i32(args.eligible) : null;
  const block = new Uint32Array(4), z = new Float64Array(4);
  const key = [seed, RANDOM_STREAMS.thompsonPropensities];
  const best = new Float64Array(4), bestArm = new Int32Array(4);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    const isEligible = (a: number): boolean => !eligible || eligible[r * eligibleStride + a] !== 0;
    for (let j = 0; j < k; j++) {
      const before = Array.from(chosen.subarray(r * k, r * k + j));
      const c = chosen[r * k + j]!;
      const valid = c >= 0 && c < cols && isEligible(c) && !before.includes(c) && drawScale(mu, w2, scale, base + c) >= 0;
      let total = 0;
      if (valid) {
        const meanC = mu[base + c]!, sdC = drawScale(mu, w2, scale, base + c);
        for (let q = 0; q * 4 < draws; q++) {
          best.fill(0);
          bestArm.fill(-1);
          for (let a = 0; a < cols; a++) {
            if (a === c || !isEligible(a) || before.includes(a)) continue;
            const sd = drawScale(mu, w2, scale, base + a);
            if (sd < 0) continue;
            normalsFromBlock(philox4x32([step, r, a, q], key, block), z);
            for (let l = 0; l < 4; l++) {
              const ra = mu[base + a]! + sd * z[l]!;
              // Arms in order: a later arm takes the lead only by a strictly larger draw.
              if (Number.isFinite(ra) && (bestArm[l]! < 0 || ra > best[l]!)) {
                best[l] = ra;
                bestArm[l] = a;
              }
            }
          }
          for (let l = 0; l < 4 && q * 4 + l < draws; l++) total += conditionalWin(meanC, sdC, c, best[l]!, bestArm[l]!);
        }
      }
      o[r * k + j] = total / draws;
    }
  }
}

/** out[n, a, i] = θ_a,i + scale·Σ_{j≤i} L_a,ij z_j, z from (step, a, n, block j/4). */
export function posteriorDrawsF64({ theta, factor, out, arms, d, draws, scale, seed, step }: PosteriorDrawsArgs): void {
  const th = f64(theta), l = f64(factor), o = f64(out);
  const block = new Uint32Array(4), z = new Float64Array(Math.ceil(d / 4) * 4), four = new Float64Array(4);
  for (let n = 0; n < draws; n++) {
    for (let a = 0; a < arms; a++) {
      for (let q = 0; q * 4 < d; q++) {
        normalsFromBlock(philox4x32([step, a, n, q], [seed, RANDOM_STREAMS.posteriorDraws], block), four);
        z.set(four, q * 4);
      }
      for (let i = 0; i < d; i++) {
        let acc = 0;
        for (let j = 0; j <= i; j++) acc += l[(a * d + i) * d + j]! * z[j]!;
        o[(n * arms + a) * d + i] = th[a * d + i]! + scale * acc;
      }
    }
  }
}
