import { BanditError } from '../core/errors.js';
import { asMatrices, asVectors, checkFiniteNumber, checkTensor, isFiniteF32 } from '../core/check.js';
import { checkRandomKey, type RandomKey } from '../core/philox.js';
import type { SamplingPolicy } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

export type { RandomKey, SamplingPolicy };

/** The temperature and γ a policy may take: wide enough for any use, and f32-normal after halving. */
export const POLICY_PARAMETER_RANGE = { min: 1e-30, max: 1e30 } as const;
/** The most posterior draws thompsonPropensities takes. */
export const MAX_PROPENSITY_DRAWS = 2 ** 24;

/**
 * What a sampleArms row's status means: `ok`, or why the row could not be sampled —
 * `too-few-eligible` (the mask leaves fewer than k arms) or `too-few-finite` (enough eligible
 * arms, but fewer than k of them have a finite score: NaN and ±Inf scores are never chosen).
 * `available` counts the arms that were usable (eligible, resp. eligible with a finite score; 0 for ok).
 */
export interface SampleStatus {
  readonly kind: 'ok' | 'too-few-eligible' | 'too-few-finite';
  readonly available: number;
}

/**
 * Decodes one entry of sampleArms' `status` tensor (low two bits the code, the count above).
 *
 * @example
 * const status = await backend.read(sampled.status);
 * const s = decodeSampleStatus(status[0]!);    // { kind: 'too-few-eligible', available: 2 }
 */
export function decodeSampleStatus(code: number): SampleStatus {
  const kind = code === 0 ? 'ok' : (code & 3) === 1 ? 'too-few-eligible' : 'too-few-finite';
  return { kind, available: kind === 'ok' ? 0 : code >>> 2 };
}

/**
 * Throws a BanditError unless the policy is one of the four with its parameter in range; returns
 * a copy with only the policy's fields.
 *
 * @example
 * checkSamplingPolicy('sampleArms', { kind: 'softmax', temperature: 0 });   // throws: policy.temperature must be …
 */
export function checkSamplingPolicy(op: string, policy: unknown): SamplingPolicy {
  const p = policy as Record<string, unknown> | null;
  const range = `${POLICY_PARAMETER_RANGE.min} … ${POLICY_PARAMETER_RANGE.max}`;
  const inRange = (name: string, v: unknown, lo: number, hi: number, what: string): number => {
    if (!isFiniteF32(v) || v < lo || v > hi) {
      throw new BanditError(`${op}: policy.${name} must be ${what}, got ${String(v)}`);
    }
    return v;
  };
  switch (typeof p === 'object' && p !== null ? p.kind : undefined) {
    case 'greedy':
      return { kind: 'greedy' };
    case 'epsilon-greedy':
      return { kind: 'epsilon-greedy', epsilon: inRange('epsilon', p!.epsilon, 0, 1, 'a number in [0, 1]') };
    case 'softmax':
      return { kind: 'softmax', temperature: inRange('temperature', p!.temperature, POLICY_PARAMETER_RANGE.min, POLICY_PARAMETER_RANGE.max, `a number in ${range}`) };
    case 'squarecb':
      return { kind: 'squarecb', gamma: inRange('gamma', p!.gamma, POLICY_PARAMETER_RANGE.min, POLICY_PARAMETER_RANGE.max, `a number in ${range}`) };
    default:
      throw new BanditError(`${op}: policy must be { kind: 'greedy' | 'epsilon-greedy' | 'softmax' | 'squarecb', … }, got ${JSON.stringify(policy)}`);
  }
}

/** Checks an eligibility mask for B rows of K arms; returns its row stride (0: one row for all). */
function eligibleStride(backend: Backend, op: string, eligible: Tensor | undefined, rows: number, cols: number): number {
  if (eligible === undefined) return 0;
  checkTensor(backend, eligible, 'eligible', op, 'i32');
  const s = eligible.shape;
  if (s.length === 1 && s[0] === cols) return 0;
  if (s.length === 2 && s[0] === rows && s[1] === cols) return cols;
  throw new BanditError(`${op}: eligible must be [${cols}] (every row) or [${rows}, ${cols}] (a row each), got [${s.join(', ')}]`);
}

export interface SampleArmsOptions {
  /** Default greedy. */
  readonly policy?: SamplingPolicy;
  /** Seed and step: row r's slot j draws the uniform of (seed, step, r, j). */
  readonly key: RandomKey;
  /** Slate size: distinct arms a row, 1 … K (default 1). */
  readonly k?: number;
  /** i32, [K] for every row or [B, K]; nonzero = eligible. Default every arm. */
  readonly eligible?: Tensor;
  /** Scores are k×B×K: slot j applies the policy to matrix j (e.g. one Thompson draw a slot). */
  readonly perSlotScores?: boolean;
}

/** What sampleArms writes: B×k arms (i32) and their propensities (f32), and a status per row (i32, see decodeSampleStatus). */
export interface SampledArms {
  readonly arms: Tensor;
  readonly propensities: Tensor;
  readonly status: Tensor;
}

/**
 * Samples k distinct arms a row from B×K scores under a policy, with the probability of each pick.
 *
 * A row's candidates are its eligible arms whose score is finite (a NaN or ±Inf score is never
 * chosen and has probability 0). Slot j applies the policy to the candidates not chosen by slots
 * 0 … j−1 (n of them, `best` the one of largest score, lowest arm on ties):
 * - `greedy`: best, probability 1;
 * - `epsilon-greedy`: p_a = ε/n + (1 − ε)·[a = best];
 * - `softmax`: p_a ∝ exp((s_a − s_best)/T) (log-sum-exp form: no overflow at any T in range; a
 *   logit under −87 counts as probability 0);
 * - `squarecb` (Foster & Rakhlin 2020, scores as mean estimates): p_a = 1/(n + γ·(s_best − s_a))
 *   for a ≠ best (γ·gap capped at 2¹⁰⁰), the rest on best.
 * The arm is drawn by inverse CDF (arms in order) with the uniform of (seed, step, row, j), and
 * `propensities[row, j]` is its probability given the slots before it, P(slot j = a | slots < j):
 * the product over slots is the slate's probability, and each factor is what position-wise IPS
 * divides by. It is the weight the sampler used over the total it walked, computed in the same
 * pass. A row with fewer than k eligible arms, or fewer than k with finite scores, gets arms −1,
 * propensities 0 and a nonzero status; nothing else of that row is written. Nothing B×K is read back.
 *
 * @example
 * const { arms, propensities, status } = sampleArms(backend, scores, {
 *   policy: { kind: 'epsilon-greedy', epsilon: 0.1 }, key: { seed: 7, step: 0 }, k: 3, eligible,
 * });
 * console.log(await backend.read(arms), await backend.read(propensities));
 */
export function sampleArms(backend: Backend, scores: Tensor, options: SampleArmsOptions): SampledArms {
  const op = 'sampleArms';
  checkTensor(backend, scores, 'scores', op);
  if (typeof options !== 'object' || options === null) throw new BanditError(`${op}: options { key, … } are required`);
  const key = checkRandomKey(op, options.key);
  const policy = checkSamplingPolicy(op, options.policy ?? { kind: 'greedy' });
  const k = options.k ?? 1;
  const perSlot = options.perSlotScores === true;
  const shape = scores.shape;
  if (perSlot ? shape.length !== 3 : shape.length !== 2) {
    throw new BanditError(`${op}: scores must be ${perSlot ? 'k×B×K (perSlotScores)' : 'B×K'}, got [${shape.join(', ')}]`);
  }
  const rows = shape[shape.length - 2]!, cols = shape[shape.length - 1]!;
  if (!Number.isInteger(k) || k < 1 || k > cols) throw new BanditError(`${op}: k must be an integer in 1 … ${cols} (the arms), got ${k}`);
  if (perSlot && shape[0] !== k) throw new BanditError(`${op}: perSlotScores needs ${k} score matrices (one a slot), got ${shape[0]}`);
  const stride = eligibleStride(backend, op, options.eligible, rows, cols);
  const arms = backend.zeros([rows, k], { dtype: 'i32', label: `${op} arms` });
  const propensities = backend.zeros([rows, k], { label: `${op} propensities` });
  const status = backend.zeros([rows], { dtype: 'i32', label: `${op} status` });
  backend.ops.sampleArms({
    scores, eligible: options.eligible ?? null, eligibleStride: stride, arms, propensities, status,
    rows, cols, k, slotStride: perSlot ? rows * cols : 0, policy, seed: key.seed, step: key.step,
  });
  return { arms, propensities, status };
}

/** mean and width2 as B×K (rank 1 is one row), the same shape. */
function scoreRows(backend: Backend, op: string, mean: Tensor, width2: Tensor): { rows: number; cols: number } {
  checkTensor(backend, mean, 'mean', op);
  checkTensor(backend, width2, 'width2', op);
  const { batch: rows, len: cols } = asVectors(mean, 'mean', op);
  if (width2.shape.length !== mean.shape.length || width2.shape.some((v, i) => v !== mean.shape[i])) {
    throw new BanditError(`${op}: width2 must have mean's shape [${mean.shape.join(', ')}], got [${width2.shape.join(', ')}]`);
  }
  return { rows, cols };
}

function positiveCount(op: string, name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) {
    throw new BanditError(`${op}: ${name} must be an integer in 1 … ${max}, got ${String(v)}`);
  }
  return v;
}

/**
 * Thompson samples of B×K scores: out = mean + scale·sqrt(max(width2, 0))·ξ, ξ ~ N(0, 1) from
 * (seed, step, row, arm, draw), NaN where mean or width2 is not finite. For a row's context this
 * is exact LinTS (x_aᵀθ̃_a with θ̃_a ~ N(θ_a, v²A_a⁻¹) is N(θ_aᵀx, v²·x_aᵀA_a⁻¹x_a): mean θ_aᵀx,
 * width2 x_aᵀA_a⁻¹x_a, scale v) and NeuralTS (N(f(x_a), ν²·g_aᵀZ⁻¹g_a/m): scale ν/√m).
 * `draws` > 1 gives draws×B×K independent samples (one a slate slot: sampleArms' perSlotScores).
 *
 * @example
 * const sampled = sampleScores(backend, mean, width2, v, { seed, step });
 * const { arms } = sampleArms(backend, sampled, { key: { seed, step } });   // greedy on the sample
 */
export function sampleScores(backend: Backend, mean: Tensor, width2: Tensor, scale: number, key: RandomKey, options: { draws?: number } = {}): Tensor {
  const op = 'sampleScores';
  const { rows, cols } = scoreRows(backend, op, mean, width2);
  checkFiniteNumber(op, 'scale', scale);
  const k = checkRandomKey(op, key);
  const draws = positiveCount(op, 'draws', options.draws ?? 1, 2 ** 30);
  const out = backend.zeros(draws === 1 ? mean.shape : [draws, rows, cols], { label: `${op} out` });
  backend.ops.sampleScores({ mean, width2, out, rows, cols, draws, scale, seed: k.seed, step: k.step });
  return out;
}

export interface ThompsonPropensityOptions {
  /** M, the posterior draws per row (1 … 2²⁴). */
  readonly draws: number;
  readonly key: RandomKey;
  /** The mask the arms were chosen under: i32, [K] or [B, K]. */
  readonly eligible?: Tensor;
}

/**
 * Estimated Thompson propensities: for each row and slot j, P(chosen[row, j] is the argmax of the
 * posterior draws mean + scale·sqrt(width2)·ξ over the eligible arms not chosen by slots before j,
 * lower arm on ties) — P(slot j = a | slots < j) for a sampler that takes slot j from its own
 * posterior draw, as sampleScores(…, { draws: k }) with sampleArms' perSlotScores does — by the
 * Rao–Blackwellised mean over M fresh joint draws of the OTHER arms (a stream independent of
 * sampleScores') of P(a's own draw beats their largest) = Φ((μ_a − max_b r̃_b)/σ_a). The arms'
 * draws are independent, so it is unbiased, its variance is at most the counting estimate's
 * p(1 − p)/M, and it is positive wherever σ_a > 0 (0 only where Φ underflows f32, more than 14
 * deviations; σ_a = 0 counts wins). Φ is erfc's Chebyshev fit (src/core/normal.ts, 1.2e−7
 * relative). On webgpu a row's draws are spread over up to 64 workgroups (blocks of four draws an
 * invocation), each summing its part, and the parts are added in order, so the result does not
 * depend on timing. An invalid, ineligible or repeated chosen arm gets 0. Cost: k·M·K draws a row.
 *
 * @example
 * const p = thompsonPropensities(backend, mean, width2, v, arms, { draws: 1024, key: { seed, step } });
 */
export function thompsonPropensities(
  backend: Backend, mean: Tensor, width2: Tensor, scale: number, chosen: Tensor, options: ThompsonPropensityOptions,
): Tensor {
  const op = 'thompsonPropensities';
  const { rows, cols } = scoreRows(backend, op, mean, width2);
  checkFiniteNumber(op, 'scale', scale);
  checkTensor(backend, chosen, 'chosen', op, 'i32');
  if (typeof options !== 'object' || options === null) throw new BanditError(`${op}: options { draws, key } are required`);
  const key = checkRandomKey(op, options.key);
  const draws = positiveCount(op, 'draws', options.draws, MAX_PROPENSITY_DRAWS);
  const c = chosen.shape;
  if (!((c.length === 1 && c[0] === rows) || (c.length === 2 && c[0] === rows))) {
    throw new BanditError(`${op}: chosen must be [${rows}] or [${rows}, k], got [${c.join(', ')}]`);
  }
  const k = c.length === 2 ? c[1]! : 1;
  const stride = eligibleStride(backend, op, options.eligible, rows, cols);
  const out = backend.zeros(c, { label: `${op} out` });
  backend.ops.thompsonPropensities({
    mean, width2, eligible: options.eligible ?? null, eligibleStride: stride, chosen, out,
    rows, cols, k, draws, scale, seed: key.seed, step: key.step,
  });
  return out;
}

/**
 * Posterior draws θ̃ = θ + scale·L z for every arm: theta K×d, factor K×d×d lower triangular
 * with A⁻¹ = L Lᵀ (e.g. `cholesky` of A⁻¹; only j ≤ i is read), z ~ N(0, I) from
 * (seed, step, arm, draw); out draws×K×d. With scale v these are LinTS's θ̃_a ~ N(θ_a, v²A_a⁻¹).
 *
 * @example
 * const { result: l } = cholesky(backend, aInv);
 * const thetaTilde = posteriorDraws(backend, theta, l, v, { seed, step }, 1);   // 1×K×d
 */
export function posteriorDraws(backend: Backend, theta: Tensor, factor: Tensor, scale: number, key: RandomKey, draws: number): Tensor {
  const op = 'posteriorDraws';
  checkTensor(backend, theta, 'theta', op);
  checkTensor(backend, factor, 'factor', op);
  checkFiniteNumber(op, 'scale', scale);
  const k = checkRandomKey(op, key);
  const n = positiveCount(op, 'draws', draws, 2 ** 30);
  const { batch: arms, len: d } = asVectors(theta, 'theta', op);
  const f = asMatrices(factor, 'factor', op);
  if (f.batch !== arms || f.rows !== d || f.cols !== d) {
    throw new BanditError(`${op}: factor must be ${arms}×${d}×${d} (one d×d factor an arm of theta), got [${factor.shape.join(', ')}]`);
  }
  const out = backend.zeros([n, arms, d], { label: `${op} out` });
  backend.ops.posteriorDraws({ theta, factor, out, arms, d, draws: n, scale, seed: k.seed, step: k.step });
  return out;
}
