/**
 * Stock-outs of the simulator: each item alternates in-stock and out-of-stock stretches of
 * geometric lengths, drawn from a stream of its own, so they are a function of the seed.
 */
import { hashUniform, STREAM } from './random.js';
import type { ResolvedSimulatorOptions } from './simulator-options.js';

/** A geometric length ≥ 1 with the given mean (≥ 1), from a uniform u in (0, 1). */
const geometricLength = (mean: number, u: number): number => (mean <= 1 ? 1 : 1 + Math.floor(Math.log(u) / Math.log(1 - 1 / mean)));

/**
 * Item `item`'s out-of-stock stretches from step `from` to the end of the run, as [start, end)
 * pairs, ascending (alternating with in-stock ones, in stock first); empty without stock-outs.
 *
 * @example
 * const stretches = stockStretches(sim.options, 3, 0);   // Int32Array [s0, e0, s1, e1, …]
 */
export function stockStretches(o: Pick<ResolvedSimulatorOptions, 'seed' | 'steps' | 'stockOuts'>, item: number, from: number): Int32Array {
  const so = o.stockOuts;
  if (!so || so.share === 0) return new Int32Array(0);
  const inMean = (so.meanLength * (1 - so.share)) / so.share;
  const out: number[] = [];
  let t = from, j = 0;
  const draw = () => hashUniform(o.seed, STREAM.stock, item, j++);
  while (t < o.steps) {
    t += geometricLength(inMean, draw());
    const end = t + geometricLength(so.meanLength, draw());
    if (t < o.steps) out.push(t, Math.min(end, o.steps));
    t = end;
  }
  return Int32Array.from(out);
}

/** Whether `step` falls in one of the stretches (a binary search over their starts). */
export function outOfStockAt(stretches: Int32Array, step: number): boolean {
  let lo = 0, hi = stretches.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (stretches[2 * mid]! <= step) lo = mid + 1;
    else hi = mid;
  }
  return lo > 0 && step < stretches[2 * lo - 1]!;
}
