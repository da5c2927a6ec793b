import { mlpLayout } from '../../src/ops/mlp.js';

/** Seeded, reproducible test data (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n values uniform in [-1, 1), rounded to f32 so both backends see the same inputs. */
export function uniform(n: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * r() - 1;
  return out;
}

/** `batch` symmetric positive definite d×d matrices: G Gᵀ/d + shift·I, in f32. */
export function spd(batch: number, d: number, seed: number, shift = 1): Float32Array {
  const g = uniform(batch * d * d, seed);
  const out = new Float32Array(batch * d * d);
  for (let b = 0; b < batch; b++) {
    const o = b * d * d;
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) {
        let s = 0;
        for (let k = 0; k < d; k++) s += g[o + i * d + k]! * g[o + j * d + k]!;
        const v = s / d + (i === j ? shift : 0);
        out[o + i * d + j] = v;
        out[o + j * d + i] = v;
      }
    }
  }
  return out;
}

/** |a| elementwise (a plain loop: Float32Array.from with a mapper is very slow on large arrays). */
export function absArray(a: ArrayLike<number>): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.abs(a[i]!);
  return out;
}

/** An MLP's θ in f32 (mlpLayout order): weights uniform in ±sqrt(3/n_{l−1})·1.5 (variance ~ 2/n, He-like), biases in ±0.5. */
export function mlpTheta(dim: number, hidden: number[], seed: number): Float32Array {
  const { layers, paramCount } = mlpLayout(dim, hidden);
  const th = uniform(paramCount, seed);
  for (const l of layers) {
    const s = 1.5 * Math.sqrt(3 / l.in);
    for (let q = l.weightOffset; q < l.biasOffset; q++) th[q] = Math.fround(th[q]! * s);
    for (let q = l.biasOffset; q < l.biasOffset + l.out; q++) th[q] = Math.fround(th[q]! * 0.5);
  }
  return th;
}
