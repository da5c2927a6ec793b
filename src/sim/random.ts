/**
 * The simulator's own seeded randomness (no Math.random, the same numbers in Node and browsers):
 * a sequential generator for building a world, and a counter-based hash for the per-step draws,
 * so any step's user and clicks can be computed without replaying the steps before it.
 */
import { Random } from '../core/random.js';

/** murmur3's 32-bit finaliser: a bijection that spreads every input bit over the output. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A uniform number in (0, 1) fixed by (seed, stream, a, b): the same four integers give the same
 * number, whatever was drawn before. `stream` keeps draws of different purposes apart.
 */
export function hashUniform(seed: number, stream: number, a: number, b: number): number {
  let h = fmix32((seed ^ 0x243f6a88) >>> 0);
  h = fmix32(((h ^ stream) + 0x9e3779b9) >>> 0);
  h = fmix32(((h ^ a) + 0x7f4a7c15) >>> 0);
  h = fmix32(((h ^ b) + 0x6a09e667) >>> 0);
  return (h + 0.5) / 4294967296;
}

/**
 * The streams of the simulator's counter-based draws (`hashUniform`'s `stream`): one purpose
 * each, so no draw shares its numbers with a draw of another purpose.
 *
 * @example
 * const u = hashUniform(seed, STREAM.click, step, item);   // the click luck of item at step
 */
export const STREAM = Object.freeze({ user: 1, click: 2, logUser: 3, logAction: 4, logClick: 5, stock: 6, delay: 7 });

/**
 * The sequential generator that builds a simulated world (latent vectors, projections,
 * categories) and drives the random policy: the library's seeded xoshiro128** (src/random.ts)
 * with the vector helpers the simulator needs.
 */
export class SimRandom extends Random {
  /** A vector of `n` standard normals. */
  normals(n: number): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal();
    return out;
  }

  /** A uniformly random unit vector of dimension `n`. */
  unitVector(n: number): Float64Array {
    for (;;) {
      const v = this.normals(n);
      let norm = 0;
      for (let i = 0; i < n; i++) norm += v[i]! * v[i]!;
      norm = Math.sqrt(norm);
      if (norm > 1e-12) {
        for (let i = 0; i < n; i++) v[i]! /= norm;
        return v;
      }
    }
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  }
}
