import { BanditError } from '../core/errors.js';
import { checkRandomKey, type RandomKey } from '../core/philox.js';
import { isFiniteF32 } from '../core/check.js';
import { readTogether } from './readback.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';
import {
  MAX_PROPENSITY_DRAWS, POLICY_PARAMETER_RANGE, decodeSampleStatus, sampleArms, sampleScores, thompsonPropensities,
  type SampledArms, type SamplingPolicy,
} from '../ops/explore.js';

// What every model shares to decide with randomised exploration: the `exploration` option and
// its saved form, the seeded decision stream, event ids, and decideRows (scores in, arms and
// propensities out, nothing B×K read back).

/**
 * A model's randomised exploration, applied to its scores (UCB models) or mean estimates:
 * `epsilon-greedy` (ε in [0, 1]), `softmax` (temperature T in [1e−30, 1e30]) or `squarecb`
 * (Foster & Rakhlin 2020 inverse-gap weighting, γ in [1e−30, 1e30]). Absent: deterministic.
 *
 * @example
 * const model = await LinUCB.create(backend, { arms: 10, dim: 8, exploration: { kind: 'squarecb', gamma: 50 }, seed: 1 });
 */
export type Exploration =
  | { readonly kind: 'epsilon-greedy'; readonly epsilon: number }
  | { readonly kind: 'softmax'; readonly temperature: number }
  | { readonly kind: 'squarecb'; readonly gamma: number };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a model's `exploration` option; `undefined` or `null` is deterministic (null). Bad
 * input is a BanditError naming the field and its range.
 *
 * @example
 * resolveExploration('LinUCB', { kind: 'epsilon-greedy', epsilon: 0.05 });   // { kind: 'epsilon-greedy', epsilon: 0.05 }
 * resolveExploration('LinUCB', { kind: 'softmax', temperature: 0 });         // throws: exploration.temperature must be …
 */
export function resolveExploration(model: string, value: unknown): Exploration | null {
  if (value === undefined || value === null) return null;
  const kinds = "'epsilon-greedy', 'softmax' or 'squarecb'";
  if (!isObject(value)) throw new BanditError(`${model}: option exploration must be { kind: ${kinds}, … }, got ${String(value)}`);
  const field = (name: string, lo: number, hi: number, range: string): number => {
    const v = value[name];
    if (!isFiniteF32(v) || v < lo || v > hi) {
      throw new BanditError(`${model}: option exploration.${name} must be a number in ${range}, got ${String(v)}`);
    }
    return v;
  };
  const { min, max } = POLICY_PARAMETER_RANGE;
  switch (value.kind) {
    case 'epsilon-greedy':
      return { kind: 'epsilon-greedy', epsilon: field('epsilon', 0, 1, '[0, 1]') };
    case 'softmax':
      return { kind: 'softmax', temperature: field('temperature', min, max, `[${min}, ${max}] (> 0)`) };
    case 'squarecb':
      return { kind: 'squarecb', gamma: field('gamma', min, max, `[${min}, ${max}] (> 0)`) };
    default:
      throw new BanditError(`${model}: option exploration.kind must be ${kinds}, got ${JSON.stringify(value.kind)}`);
  }
}

/**
 * The sampleArms policy of an exploration (greedy when null).
 *
 * @example
 * const policy = explorationPolicy(resolveExploration('LinUCB', options.exploration));
 */
export function explorationPolicy(exploration: Exploration | null): SamplingPolicy {
  return exploration ?? { kind: 'greedy' };
}

/** An exploration as it is saved in a model's options (plain JSON; null for deterministic). */
export type SavedExploration = { readonly kind: string; readonly [field: string]: number | string } | null;

/**
 * The saved form of an exploration: a fresh plain object, so the model's option object is not shared.
 *
 * @example
 * meta.options.exploration = saveExploration(this.exploration);
 */
export function saveExploration(exploration: Exploration | null): SavedExploration {
  return exploration === null ? null : { ...exploration };
}

/**
 * The exploration of a saved model, checked as at create (a corrupt or hand-edited file is a BanditError).
 *
 * @example
 * const exploration = loadExploration('LinUCB', saved.options.exploration);
 */
export function loadExploration(model: string, saved: unknown): Exploration | null {
  return resolveExploration(`${model}.load`, saved);
}

/**
 * Checks a model's `seed` option (an integer in 0 … 2³²−1); absent, an unpredictable one (saved
 * with the model, so load continues it).
 *
 * @example
 * const stream = new DecisionStream(resolveSeed('LinTS', options.seed));
 */
export function resolveSeed(model: string, value: unknown): number {
  if (value === undefined) {
    const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
    return c?.getRandomValues ? c.getRandomValues(new Uint32Array(1))[0]! : Math.floor(Math.random() * 2 ** 32);
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new BanditError(`${model}: option seed must be an integer in 0 … 2^32−1, got ${String(value)}`);
  }
  return value;
}

/**
 * A model's seeded decision stream: the random ops are keyed by (seed, step), and the step
 * advances once per decision call, so saving { seed, step } and loading it continues the same
 * draws exactly (nothing else is kept: the generator is counter-based).
 *
 * @example
 * const stream = new DecisionStream(seed);
 * const d = await decideRows(backend, scores, { exploration, key: stream.key() });
 * stream.advance();                                    // only once the decision is returned
 * meta.counters.stream = stream.toJSON();              // { seed, step }
 */
export class DecisionStream {
  readonly seed: number;
  private current: number;

  constructor(seed: number, step = 0) {
    checkRandomKey('DecisionStream', { seed, step });
    this.seed = seed;
    this.current = step;
  }

  get step(): number {
    return this.current;
  }

  /** The key of the next decision call. */
  key(): RandomKey {
    return { seed: this.seed, step: this.current };
  }

  /** Moves to the next step (after a decision call succeeded; a refused call leaves the stream as it was). */
  advance(): void {
    if (this.current === 0xffffffff) throw new BanditError('DecisionStream: 2^32 decision steps used; the stream would repeat');
    this.current++;
  }

  toJSON(): { seed: number; step: number } {
    return { seed: this.seed, step: this.current };
  }

  /** A stream from its saved form, checked. */
  static fromJSON(model: string, saved: unknown): DecisionStream {
    const key = checkRandomKey(`${model}.load: the saved decision stream`, saved);
    return new DecisionStream(key.seed, key.step);
  }
}

/** Model ids in event ids: letters, digits and '_' (no '-', so an event id splits unambiguously). */
const MODEL_ID = /^[A-Za-z0-9_]{1,64}$/;

/**
 * A new model id (16 hex digits from the platform's random source), saved with the model so
 * its event ids stay unique and stable across save/load.
 *
 * @example
 * const modelId = createModelId();   // e.g. '3f9a0c17b2e4d866'
 */
export function createModelId(): string {
  const words = new Uint32Array(2);
  const c = (globalThis as { crypto?: { getRandomValues?: (a: Uint32Array) => Uint32Array } }).crypto;
  if (c?.getRandomValues) c.getRandomValues(words);
  else for (let i = 0; i < 2; i++) words[i] = Math.floor(Math.random() * 2 ** 32);
  return Array.from(words, (w) => w.toString(16).padStart(8, '0')).join('');
}

/**
 * The event ids of one decision call: `${modelId}-${step}-${row}` for each row, unique per model
 * (one step per call) and the same after save/load.
 *
 * @example
 * const ids = eventIds(modelId, stream.step, rows);   // ['3f9a…-12-0', '3f9a…-12-1', …]
 */
export function eventIds(modelId: string, step: number, rows: number): string[] {
  if (!MODEL_ID.test(modelId)) throw new BanditError(`eventIds: a model id is 1 to 64 letters, digits or '_', got ${JSON.stringify(modelId)}`);
  return Array.from({ length: rows }, (_, row) => `${modelId}-${step}-${row}`);
}

/**
 * The step and row of one of this model's event ids, or null for a malformed id or another model's.
 *
 * @example
 * parseEventId(modelId, `${modelId}-12-3`);   // { step: 12, row: 3 }
 */
export function parseEventId(modelId: string, id: unknown): { step: number; row: number } | null {
  if (typeof id !== 'string') return null;
  const m = /^([A-Za-z0-9_]+)-(0|[1-9]\d{0,9})-(0|[1-9]\d{0,9})$/.exec(id);
  if (!m || m[1] !== modelId) return null;
  const step = Number(m[2]), row = Number(m[3]);
  return step <= 0xffffffff ? { step, row } : null;
}

/** The default number of posterior draws a Thompson propensity is estimated from (standard error ≤ 0.5/√M ≈ 0.016). */
export const DEFAULT_PROPENSITY_DRAWS = 1024;

/**
 * Checks a Thompson model's `propensityDraws` option (M, 1 … 2²⁴; default DEFAULT_PROPENSITY_DRAWS).
 *
 * @example
 * const draws = resolvePropensityDraws('LinTS', options.propensityDraws);   // 1024 when absent
 */
export function resolvePropensityDraws(model: string, value: unknown): number {
  if (value === undefined) return DEFAULT_PROPENSITY_DRAWS;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_PROPENSITY_DRAWS) {
    throw new BanditError(`${model}: option propensityDraws must be an integer in 1 … ${MAX_PROPENSITY_DRAWS}, got ${String(value)}`);
  }
  return value;
}

/** Thompson sampling of scores N(mean, scale²·width2) instead of an exploration policy. */
export interface ThompsonScores {
  /** B×K squared widths (x_aᵀA_a⁻¹x_a, or g_aᵀZ⁻¹g_a); the scores passed to decideRows are the means. */
  readonly width2: Tensor;
  /** v (LinTS) or ν/√m (NeuralTS). */
  readonly scale: number;
  /** M, the posterior draws a propensity is estimated from. */
  readonly draws: number;
}

export interface DecideRowsOptions {
  /** Null: deterministic (greedy, propensity 1). Ignored with `thompson`. */
  readonly exploration: Exploration | null;
  /** The model's stream key for this call. */
  readonly key: RandomKey;
  /** Slate size, 1 … K (default 1). */
  readonly k?: number;
  /** 0/1 per arm: K values for every row or B×K; or an i32 tensor [K] or [B, K]. Default every arm. */
  readonly eligible?: Uint8Array | Tensor;
  readonly thompson?: ThompsonScores;
  /**
   * Whether the propensities are wanted (default true). `select` passes false: a Thompson model
   * then skips the M extra draws, and nothing but the arms (and the status) is read back.
   */
  readonly propensities?: boolean;
  /** What messages call the caller, e.g. 'LinUCB.decide'. */
  readonly caller?: string;
}

/** One decision call's result: B×k arms and the probability of each given the slots before it. */
export interface RowDecisions {
  readonly arms: Int32Array;
  /** Empty when `propensities: false` was asked. */
  readonly propensities: Float32Array;
  /** M, where the propensities are Thompson estimates. */
  readonly propensityDraws?: number;
}

/** The eligibility mask as a tensor the ops take (made here from a host mask, or the caller's). */
function eligibleTensor(backend: Backend, caller: string, eligible: Uint8Array | Tensor | undefined, rows: number, cols: number): { tensor?: Tensor; made: boolean } {
  if (eligible === undefined) return { made: false };
  if (!(eligible instanceof Uint8Array)) return { tensor: eligible, made: false };
  if (eligible.length !== cols && eligible.length !== rows * cols) {
    throw new BanditError(`${caller}: eligible has ${eligible.length} values; expected ${cols} (every row) or ${rows}×${cols} (a row each)`);
  }
  for (let i = 0; i < eligible.length; i++) {
    if (eligible[i]! > 1) throw new BanditError(`${caller}: eligible[${i}] = ${eligible[i]}; entries must be 0 or 1`);
  }
  const shape = eligible.length === cols ? [cols] : [rows, cols];
  return { tensor: backend.tensor(eligible, shape, { dtype: 'i32', label: `${caller} eligible` }), made: true };
}

/**
 * Decides B rows from a B×K score tensor on the backend: sampleArms under the exploration (or,
 * for Thompson, sampleScores with a draw per slot, a greedy pick of each, and
 * thompsonPropensities), then reads back only the arms with the status (one readback) and the
 * propensities (a second). A row with fewer than k eligible arms (or fewer than k with finite
 * scores) is a BanditError that names it; the caller has applied nothing yet and advances its
 * stream only on success.
 *
 * @example
 * const { arms, propensities } = await decideRows(backend, scores, {
 *   exploration: { kind: 'epsilon-greedy', epsilon: 0.05 }, key: stream.key(), k: 3, eligible, caller: 'LinUCB.decide',
 * });
 */
export async function decideRows(backend: Backend, scores: Tensor, options: DecideRowsOptions): Promise<RowDecisions> {
  const caller = options.caller ?? 'decide';
  if (scores.shape.length !== 2) throw new BanditError(`${caller}: scores must be B×K, got [${scores.shape.join(', ')}]`);
  const rows = scores.shape[0]!, cols = scores.shape[1]!;
  const k = options.k ?? 1;
  if (!Number.isInteger(k) || k < 1 || k > cols) throw new BanditError(`${caller}: k must be an integer in 1 … ${cols} (the arms), got ${String(k)}`);
  const wanted = options.propensities ?? true;
  const mask = eligibleTensor(backend, caller, options.eligible, rows, cols);
  const temporaries: Tensor[] = mask.made ? [mask.tensor!] : [];
  const eligible = mask.tensor ? { eligible: mask.tensor } : {};
  try {
    const t = options.thompson;
    let sampled: SampledArms, propensities: Tensor | null = null;
    if (t) {
      const draws = sampleScores(backend, scores, t.width2, t.scale, options.key, { draws: k });
      temporaries.push(draws);
      sampled = sampleArms(backend, draws, { key: options.key, k, ...eligible, ...(k > 1 ? { perSlotScores: true } : {}) });
      temporaries.push(sampled.arms, sampled.propensities, sampled.status);
      if (wanted) {
        propensities = thompsonPropensities(backend, scores, t.width2, t.scale, sampled.arms, { draws: t.draws, key: options.key, ...eligible });
        temporaries.push(propensities);
      }
    } else {
      sampled = sampleArms(backend, scores, { policy: explorationPolicy(options.exploration), key: options.key, k, ...eligible });
      temporaries.push(sampled.arms, sampled.propensities, sampled.status);
      if (wanted) propensities = sampled.propensities;
    }
    // Arms and status share a dtype: one readback for both; the propensities (f32) are the second.
    const [together, p] = await Promise.all([
      readTogether(backend, [sampled.arms, sampled.status]),
      propensities ? backend.read(propensities) : Promise.resolve(new Float32Array(0)),
    ]);
    const [arms, status] = together as [Int32Array, Int32Array];
    for (let r = 0; r < rows; r++) {
      if (status[r] === 0) continue;
      const s = decodeSampleStatus(status[r]!);
      throw new BanditError(s.kind === 'too-few-eligible'
        ? `${caller}: row ${r} has ${s.available} eligible arm(s), fewer than k = ${k}; nothing was applied`
        : `${caller}: row ${r} has ${s.available} eligible arm(s) with a finite score, fewer than k = ${k} (NaN or ±Inf scores are never chosen); nothing was applied`);
    }
    return {
      arms: Int32Array.from(arms),
      propensities: p instanceof Float32Array ? p : Float32Array.from(p),
      ...(t && wanted ? { propensityDraws: t.draws } : {}),
    };
  } finally {
    for (const x of temporaries) x.dispose();
  }
}
