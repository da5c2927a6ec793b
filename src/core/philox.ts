import { BanditError } from './errors.js';

/**
 * Counter-based randomness, the host twin of shaders/lib/random.wgsl: Philox4x32-10 (Salmon,
 * Moraes, Dror & Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011; the Random123
 * library). A block of four 32-bit words is a pure function of a 4-word counter and a 2-word key,
 * computed here with exact integer arithmetic, so the cpu and webgpu backends draw the same bits.
 *
 * The library keys every draw by (seed, stream) and counts (step, row, arm or slot, draw block):
 * a model that saves its seed and step continues the same stream after load.
 */

/**
 * What a random op is keyed by: the model's seed and the decision step, each a u32.
 *
 * @example
 * const key: RandomKey = { seed: 42, step: model.step };   // one step per decision call
 * sampleArms(backend, scores, { policy, key });
 */
export interface RandomKey {
  /** 0 … 2³²−1. */
  readonly seed: number;
  /** 0 … 2³²−1: one step per decision call; the op adds row, arm or slot, and draw. */
  readonly step: number;
}

/**
 * The second key word of each op, so that two ops never share a number even for equal
 * (seed, step, row, arm): sampleArms' uniforms, sampleScores' and thompsonPropensities' normals
 * and posteriorDraws' normals are independent streams. Matches STREAM_* in shaders/explore.wgsl.
 */
export const RANDOM_STREAMS = {
  sampleArms: 1,
  sampleScores: 2,
  thompsonPropensities: 3,
  posteriorDraws: 4,
} as const;

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** 2⁻²⁴: the spacing of the uniforms. */
export const UNIFORM_STEP = 2 ** -24;

/**
 * The high word of the 64-bit product a·b of two u32, from 16-bit halves (as the WGSL does).
 *
 * @example
 * mulHi32(0xffffffff, 0xffffffff);   // 0xfffffffe
 */
export function mulHi32(a: number, b: number): number {
  const a0 = a & 0xffff, a1 = a >>> 16, b0 = b & 0xffff, b1 = b >>> 16;
  const p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (p11 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * One Philox4x32-10 block: four u32 words for a counter (4 words) and key (2 words).
 *
 * @example
 * // Random123's known answer for the zero counter and key:
 * philox4x32([0, 0, 0, 0], [0, 0]);   // Uint32Array [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]
 */
export function philox4x32(counter: ArrayLike<number>, key: ArrayLike<number>, out = new Uint32Array(4)): Uint32Array {
  let c0 = counter[0]! >>> 0, c1 = counter[1]! >>> 0, c2 = counter[2]! >>> 0, c3 = counter[3]! >>> 0;
  let k0 = key[0]! >>> 0, k1 = key[1]! >>> 0;
  for (let r = 0; r < 10; r++) {
    if (r > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulHi32(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulHi32(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0, n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/**
 * A uniform in [0, 1) on the 2⁻²⁴ grid from a word's top 24 bits: exact in f32, so the GPU's
 * value is the same number.
 *
 * @example
 * uniformFromBits(0xffffffff);   // 1 − 2⁻²⁴
 */
export function uniformFromBits(bits: number): number {
  return (bits >>> 8) * UNIFORM_STEP;
}

/**
 * Four standard normals from one block by Box–Muller, in float64: words (0, 1) and (2, 3) each
 * give r = sqrt(−2 ln u₁), u₁ = (top 24 bits + 1)·2⁻²⁴ in (0, 1], and the angle π(2u₂ − 1) in
 * [−π, π); the normals are r·cos, r·sin of each pair. The GPU computes the same formula in f32,
 * with ln, cos and sin built from correctly rounded +, −, × (shaders/lib/random.wgsl; WGSL's own
 * are allowed, and on SwiftShader have, errors near 1e−3). The two agree within 2⁻¹⁶ (derived;
 * 4.5e−7 measured on SwiftShader over 262144 normals): sampled scores differ by that times their
 * standard deviation, which changes a decision only where two arms' Thompson samples lie that
 * close — a Thompson argmax can then differ between cpu and webgpu (test/ops/explore.spec.ts
 * bounds how often), and a Thompson propensity estimate by a draw or two in M.
 *
 * @example
 * const z = normalsFromBlock(philox4x32([step, row, arm, 0], [seed, RANDOM_STREAMS.sampleScores]));
 */
export function normalsFromBlock(block: ArrayLike<number>, out = new Float64Array(4)): Float64Array {
  for (let pair = 0; pair < 2; pair++) {
    const u1 = ((block[2 * pair]! >>> 8) + 1) * UNIFORM_STEP;
    const angle = ((block[2 * pair + 1]! >>> 8) * 2 * UNIFORM_STEP - 1) * Math.PI;
    const r = Math.sqrt(-2 * Math.log(u1));
    out[2 * pair] = r * Math.cos(angle);
    out[2 * pair + 1] = r * Math.sin(angle);
  }
  return out;
}

/** The largest normal Box–Muller can give here: sqrt(−2 ln 2⁻²⁴) ≈ 5.77. */
export const MAX_NORMAL = Math.sqrt(-2 * Math.log(UNIFORM_STEP));

/**
 * Throws a BanditError unless seed and step are integers in 0 … 2³²−1; returns the key.
 *
 * @example
 * const key = checkRandomKey('sampleArms', options.key);
 */
export function checkRandomKey(op: string, key: unknown): RandomKey {
  if (typeof key !== 'object' || key === null) throw new BanditError(`${op}: key must be { seed, step }, got ${String(key)}`);
  const { seed, step } = key as Record<string, unknown>;
  for (const [name, v] of [['seed', seed], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      throw new BanditError(`${op}: key.${name} must be an integer in 0 … 2^32−1, got ${String(v)}`);
    }
  }
  return { seed: seed as number, step: step as number };
}
