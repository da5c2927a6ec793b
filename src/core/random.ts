/**
 * A seeded pseudo-random generator whose whole state can be saved and restored, so a model that
 * samples (initial weights, training minibatches) continues exactly after save/load.
 * xoshiro128** (Blackman & Vigna), seeded through splitmix32; 2^128 − 1 period.
 *
 * @example
 * const r = new Random(42);
 * const u = r.uniform(), g = r.normal(), i = r.int(10);
 * const again = Random.fromState(r.state());   // the same sequence from here on
 */
export class Random {
  private readonly s: Uint32Array;

  constructor(seed: number) {
    this.s = new Uint32Array(4);
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      // splitmix32: spreads any seed (even 0) over the whole state.
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** A generator that continues from a saved `state()`. */
  static fromState(state: ArrayLike<number>): Random {
    if (state.length !== 4) throw new RangeError(`Random.fromState: the state has 4 words, got ${state.length}`);
    const r = new Random(0);
    r.s.set(Array.from(state, (v) => v >>> 0));
    if (r.s.every((v) => v === 0)) throw new RangeError('Random.fromState: an all-zero state is not a valid state');
    return r;
  }

  /** A copy of the state (4 unsigned 32-bit words). */
  state(): Uint32Array {
    return this.s.slice();
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1), 53 random bits. */
  uniform(): number {
    const hi = this.nextU32() >>> 5, lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform integer in 0 … n−1 (n ≥ 1), without modulo bias. */
  int(n: number): number {
    if (!(n >= 1 && n <= 2 ** 32)) throw new RangeError(`Random.int: n must be in 1 … 2^32, got ${n}`);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let v: number;
    do v = this.nextU32(); while (v >= limit);
    return v % n;
  }

  /** A standard normal draw (Box–Muller; uses two uniforms, keeps no spare, so the state is all there is). */
  normal(): number {
    const u = 1 - this.uniform(); // (0, 1]: log stays finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.uniform());
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
