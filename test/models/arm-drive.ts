// The catalogue, delayed-reward and warm-start specs drive the three models with per-arm state
// (LinUCB, LinTS, HybridLinUCB) the same way: contexts whose every arm's features depend on
// (row, arm) only — so the old arms' features stay the same when arms are added — the per-arm
// arrays of a save, and the played rows of a decision.
import { HybridLinUCB, LinTS, LinUCB, type Backend, type HybridContexts } from '../../src/index.js';
import { decodeModel } from '../../src/models/persist.js';
import { rng } from '../support/random.js';

export type ArmKind = 'LinUCB' | 'LinTS' | 'HybridLinUCB';
export const ARM_KINDS: readonly ArmKind[] = ['LinUCB', 'LinTS', 'HybridLinUCB'];
export type ArmModel = LinUCB | LinTS | HybridLinUCB;
export type ArmContexts = Float32Array | HybridContexts;

export const D = 3, SHARED = 2;

/** The per-arm arrays of each kind's save, with their values an arm. */
export const PER_ARM: Readonly<Record<ArmKind, readonly (readonly [string, number])[]>> = {
  LinUCB: [['a', D * D], ['aInv', D * D], ['b', D], ['theta', D], ['plays', 1]],
  LinTS: [['a', D * D], ['aInv', D * D], ['b', D], ['theta', D], ['plays', 1]],
  HybridLinUCB: [['a', D * D], ['aInv', D * D], ['B', D * SHARED], ['C', D * SHARED], ['b', D], ['phi', D], ['plays', 1]],
};

/** A model of `kind` (dim D, and sharedDim SHARED for the hybrid) with `extra` options. */
export async function armModel(kind: ArmKind, backend: Backend, extra: object): Promise<ArmModel> {
  const base = { dim: D, seed: 7, ...extra } as { arms?: number; dim: number };
  switch (kind) {
    case 'LinUCB': return LinUCB.create(backend, { alpha: 0.5, ...base });
    case 'LinTS': return LinTS.create(backend, { v: 0.5, ...base });
    case 'HybridLinUCB': return HybridLinUCB.create(backend, { alpha: 0.5, sharedDim: SHARED, ...base });
  }
}

/** Loads a save of `kind`. */
export function loadArmModel(kind: ArmKind, backend: Backend, bytes: Uint8Array, overrides: { clock?: () => number } = {}): Promise<ArmModel> {
  switch (kind) {
    case 'LinUCB': return LinUCB.load(backend, bytes, overrides);
    case 'LinTS': return LinTS.load(backend, bytes, overrides);
    case 'HybridLinUCB': return HybridLinUCB.load(backend, bytes, overrides);
  }
}

/** f32 features of (seed, row, arm, part): the same whatever the number of arms. */
function feature(seed: number, row: number, arm: number, width: number): Float32Array {
  const r = rng(seed * 7919 + row * 104729 + arm * 1299709 + width);
  return Float32Array.from({ length: width }, () => Math.fround(2 * r() - 1));
}

/**
 * `rows` rows of contexts for K arms: LinUCB and LinTS one shared context a row (B×D), the hybrid
 * per-arm x (B×K×D) and z (B×K×SHARED), each arm's vectors a function of (seed, row, arm).
 */
export function armContexts(kind: ArmKind, K: number, rows: number, seed: number): ArmContexts {
  if (kind !== 'HybridLinUCB') {
    const x = new Float32Array(rows * D);
    for (let r = 0; r < rows; r++) x.set(feature(seed, r, -1, D), r * D);
    return x;
  }
  const arm = new Float32Array(rows * K * D), shared = new Float32Array(rows * K * SHARED);
  for (let r = 0; r < rows; r++) {
    for (let a = 0; a < K; a++) {
      arm.set(feature(seed, r, a, D), (r * K + a) * D);
      shared.set(feature(seed, r, a, SHARED), (r * K + a) * SHARED);
    }
  }
  return { arm, shared };
}

/** The played rows of `contexts` (K arms) for decisions `arms` of `rows` rows, slates of k: the form update takes. */
export function playedOf(kind: ArmKind, contexts: ArmContexts, K: number, k: number, arms: Int32Array): ArmContexts {
  if (!(contexts instanceof Float32Array)) {
    const pick = (v: ArrayLike<number>, w: number) => {
      const out = new Float32Array(arms.length * w);
      arms.forEach((a, j) => {
        for (let q = 0; q < w; q++) out[j * w + q] = v[(Math.floor(j / k) * K + a) * w + q]!;
      });
      return out;
    };
    return { arm: pick(contexts.arm, D), shared: pick(contexts.shared, SHARED) };
  }
  const out = new Float32Array(arms.length * D);
  arms.forEach((_, j) => out.set(contexts.subarray(Math.floor(j / k) * D, (Math.floor(j / k) + 1) * D), j * D));
  return out;
}

/** Rows `rows` of played contexts (the update form), in that order. */
export function rowsOf(contexts: ArmContexts, rows: readonly number[]): ArmContexts {
  const pick = (v: Float32Array, w: number) => {
    const out = new Float32Array(rows.length * w);
    rows.forEach((r, j) => out.set(v.subarray(r * w, (r + 1) * w), j * w));
    return out;
  };
  return contexts instanceof Float32Array ? pick(contexts, D) : { arm: pick(contexts.arm as Float32Array, D), shared: pick(contexts.shared as Float32Array, SHARED) };
}

/** The model's calls with the contexts of its kind (the models take different context types). */
export const call = {
  scores: (m: ArmModel, c: ArmContexts) => (m as { scores(c: ArmContexts): Promise<Float32Array> }).scores(c),
  select: (m: ArmModel, c: ArmContexts, o?: object) => (m as { select(c: ArmContexts, o?: object): Promise<Int32Array> }).select(c, o),
  decide: (m: ArmModel, c: ArmContexts, o?: object) => (m as LinUCB).decide(c as Float32Array, o),
  update: (m: ArmModel, arms: Int32Array | readonly string[], c: ArmContexts, r: ArrayLike<number>, o?: object) =>
    (m as LinUCB).update(arms, c as Float32Array, r, o),
};

/** The per-arm arrays of a save, by name (float64 copies), and the format version. */
export function savedArrays(kind: ArmKind, bytes: Uint8Array): { version: number; arrays: Record<string, Float64Array>; meta: Record<string, unknown> } {
  const saved = decodeModel(bytes, kind, [1, 2]);
  const arrays: Record<string, Float64Array> = {};
  for (const [name, values] of Object.entries(saved.arrays)) arrays[name] = Float64Array.from(values);
  return { version: saved.modelVersion, arrays, meta: saved.meta };
}

/** A few update batches over arms 0 … K−1 (arm `best` rewarded most), so the state is neither flat nor tied. */
export async function teach(kind: ArmKind, m: ArmModel, K: number, seed: number, best = -1): Promise<void> {
  for (let t = 0; t < 3; t++) {
    const arms = Int32Array.from({ length: 8 }, (_, i) => (i + t) % K);
    const c = playedOf(kind, armContexts(kind, K, 8, seed + t), K, 1, arms);
    const r = rng(seed * 31 + t);
    await call.update(m, arms, c, Float32Array.from(arms, (a) => (a === best ? 1 : 0.2 * r())));
  }
}
