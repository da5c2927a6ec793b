import { BanditError } from '../core/errors.js';
import { isFiniteF32, isNumberArray } from '../core/check.js';

// Weighted updates (per-row importance weights) and warm start from logged decisions: the checks,
// the rows a weight of 0 removes, the √w scaling of the linear models and the IPS weights of a log.

/**
 * Options of a model's `update`.
 *
 * @example
 * await model.update(arms, contexts, rewards, { weights: Float32Array.of(1, 0.5, 2) });
 */
export interface UpdateOptions {
  /**
   * One importance weight a row (finite, ≥ 0): row i counts w_i times (linear models A += w·xxᵀ,
   * b += w·r·x; neural models a weighted loss and Z += w·g gᵀ/m). A row of weight 0 is not applied
   * at all; weights of 1 are the plain update bit for bit. Default: every row 1.
   */
  readonly weights?: Float32Array | Float64Array | ArrayLike<number>;
}

/**
 * The `weights` of an update's options for `rows` rows, checked (BanditError naming the row),
 * as float64; null when absent.
 *
 * @example
 * const w = updateWeights('LinUCB.update', options, arms.length);
 */
export function updateWeights(op: string, options: unknown, rows: number): Float64Array | null {
  if (options === undefined) return null;
  if (typeof options !== 'object' || options === null) throw new BanditError(`${op}: options must be an object, got ${String(options)}`);
  const w = (options as UpdateOptions).weights;
  if (w === undefined) return null;
  if (!isNumberArray(w)) throw new BanditError(`${op}: weights must be a Float32Array (or an array of numbers)`);
  if (w.length !== rows) throw new BanditError(`${op}: ${rows} rows but ${w.length} weights`);
  const out = new Float64Array(rows);
  for (let i = 0; i < rows; i++) {
    const v = w[i]!;
    if (!isFiniteF32(v) || v < 0) throw new BanditError(`${op}: weights[${i}] is ${String(v)}; weights must be finite and ≥ 0`);
    out[i] = v;
  }
  return out;
}

/** Checked rows to learn from, with their weights (null: every row 1). */
export interface WeightedRows {
  readonly arms: Int32Array;
  /** rows × width played contexts. */
  readonly contexts: Float32Array;
  readonly rewards: Float32Array;
  readonly weights: Float64Array | null;
}

/**
 * The rows whose weight is > 0 (a row of weight 0 is not applied at all), with weights null when
 * every one left is 1 (so the plain path runs, bit for bit).
 *
 * @example
 * const kept = withoutZeroWeights({ arms, contexts: played, rewards, weights }, dim);
 */
export function withoutZeroWeights(rows: WeightedRows, width: number): WeightedRows {
  const w = rows.weights;
  if (!w) return rows;
  const keep: number[] = [];
  let ones = true;
  w.forEach((v, i) => {
    if (v > 0) keep.push(i);
    if (v > 0 && v !== 1) ones = false;
  });
  const weights = ones ? null : Float64Array.from(keep, (i) => w[i]!);
  if (keep.length === w.length) return { ...rows, weights };
  const contexts = new Float32Array(keep.length * width);
  keep.forEach((i, j) => contexts.set(rows.contexts.subarray(i * width, (i + 1) * width), j * width));
  return { arms: Int32Array.from(keep, (i) => rows.arms[i]!), contexts, rewards: Float32Array.from(keep, (i) => rows.rewards[i]!), weights };
}

/**
 * The linear models' weighted rows: x and r both scaled by √w (in float64, rounded once to f32),
 * so a rank-1 update with (√w·x, √w·r) adds w·xxᵀ to A and w·r·x to b.
 *
 * @example
 * const { contexts, rewards } = sqrtWeighted(kept, dim);
 */
export function sqrtWeighted(rows: WeightedRows, width: number): { contexts: Float32Array; rewards: Float32Array } {
  const w = rows.weights;
  if (!w) return rows;
  const s = Float64Array.from(w, Math.sqrt);
  return {
    contexts: Float32Array.from(rows.contexts, (v, q) => v * s[Math.floor(q / width)]!),
    rewards: Float32Array.from(rows.rewards, (v, i) => v * s[i]!),
  };
}

/**
 * A logged dataset to warm-start a model from: what decide and reward logged (the arms played,
 * their contexts in the form the model's update takes, the rewards, and the probabilities the
 * logging policy played them with).
 *
 * @example
 * await model.warmStart({ arms: log.arms, contexts: log.contexts, rewards: log.rewards, propensities: log.propensities });
 */
export interface LoggedDecisions<C, A = Int32Array> {
  readonly arms: A;
  readonly contexts: C;
  readonly rewards: Float32Array | ArrayLike<number>;
  /** P(logged arm | context) under the logging policy, in (0, 1] (0 only with a finite clip). */
  readonly propensities: Float32Array | ArrayLike<number>;
}

/**
 * Options of `warmStart`.
 *
 * @example
 * await model.warmStart(log, { weighting: 'ips', clip: 20 });
 */
export interface WarmStartOptions {
  /**
   * 'ips' (default): row i weighs min(1/p_i, clip), rescaled so the weights of each arm (linear
   * models) or of the whole log (neural models) sum to their number of rows — the contexts are
   * reweighted to what the arm would see under every context, while the confidence widths keep
   * the log's sample size. 'none': every row 1 (a plain update with the log).
   */
  readonly weighting?: 'ips' | 'none';
  /** Largest importance weight 1/p kept (> 0; Infinity: none). Default Infinity. */
  readonly clip?: number;
}

/**
 * Options of NeuralUCB's and NeuralTS's `warmStart`.
 *
 * @example
 * await model.warmStart(log, { clip: 20, trainSteps: 500 });
 */
export interface NeuralWarmStartOptions extends WarmStartOptions {
  /**
   * Optimiser steps after the update, on the history (an integer ≥ 0). Default: as many as
   * updating the log's rows one at a time would have taken, trainSteps·(⌈rows/trainEvery⌉ − 1)
   * beyond the run the update itself makes (0 when trainEvery is 0). One submit.
   */
  readonly trainSteps?: number;
}

/**
 * The row weights of a warm start: null for 'none', else the clipped inverse propensities
 * normalised per arm (`perArm`) or over the whole log (see WarmStartOptions). Bad input is a
 * BanditError naming the row.
 *
 * @example
 * const w = warmStartWeights('LinUCB.warmStart', log, { clip: 50 }, true);
 */
export function warmStartWeights(op: string, log: unknown, options: unknown, perArm: boolean): Float64Array | null {
  if (!log || typeof log !== 'object') throw new BanditError(`${op}: the log must be { arms, contexts, rewards, propensities }`);
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw new BanditError(`${op}: options must be an object, got ${String(options)}`);
  const o = (options ?? {}) as WarmStartOptions;
  const weighting = o.weighting === undefined ? 'ips' : o.weighting;
  if (weighting !== 'ips' && weighting !== 'none') throw new BanditError(`${op}: weighting must be 'ips' or 'none', got ${String(weighting)}`);
  const clip = o.clip === undefined ? Infinity : o.clip;
  if (typeof clip !== 'number' || Number.isNaN(clip) || !(clip > 0)) throw new BanditError(`${op}: clip must be a number > 0 (or Infinity), got ${String(clip)}`);
  const { arms, propensities } = log as LoggedDecisions<unknown, unknown>;
  const n = (arms as { length?: unknown } | null)?.length;
  if (typeof n !== 'number') throw new BanditError(`${op}: log.arms must be an Int32Array (or item ids)`);
  if (!isNumberArray(propensities)) throw new BanditError(`${op}: log.propensities must be a Float32Array (or an array of numbers)`);
  if (propensities.length !== n) throw new BanditError(`${op}: ${n} logged arms but ${propensities.length} propensities`);
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = propensities[i]!;
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new BanditError(`${op}: propensities[${i}] is ${String(p)}; propensities are probabilities in (0, 1]`);
    if (p === 0 && weighting === 'ips' && clip === Infinity) {
      throw new BanditError(`${op}: propensities[${i}] is 0: its importance weight 1/p is infinite (give clip to cap it, or weighting: 'none')`);
    }
    w[i] = p === 0 ? clip : Math.min(1 / p, clip);
  }
  if (weighting === 'none') return null;
  const keys = arms as ArrayLike<unknown>;
  const sums = new Map<unknown, { total: number; count: number }>();
  for (let i = 0; i < n; i++) {
    const key = perArm ? keys[i] : 0;
    const s = sums.get(key) ?? { total: 0, count: 0 };
    s.total += w[i]!;
    s.count++;
    sums.set(key, s);
  }
  for (let i = 0; i < n; i++) {
    const s = sums.get(perArm ? keys[i] : 0)!;
    w[i] = (w[i]! * s.count) / s.total;
  }
  return w;
}
