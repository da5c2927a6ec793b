// The delayed-reward and warm-start specs drive the five models that learn online (LinUCB,
// LinTS, HybridLinUCB, NeuralUCB, NeuralTS) through one interface: contexts for K arms, decide,
// the played rows of decisions (the form update takes), update, reward, scores, save and load.
import { NeuralTS, NeuralUCB, type Backend, type Decision } from '../../src/index.js';
import { decodeModel } from '../../src/models/persist.js';
import { rng } from '../support/random.js';
import { ARM_KINDS, D, armContexts, armModel, call, loadArmModel, playedOf, rowsOf, type ArmContexts, type ArmKind } from './arm-drive.js';

export type OnlineKind = ArmKind | 'NeuralUCB' | 'NeuralTS';
export const ONLINE_KINDS: readonly OnlineKind[] = [...ARM_KINDS, 'NeuralUCB', 'NeuralTS'];

/** Contexts of either family: the linear models' (see arm-drive), or B×K×D arm features. */
export type Contexts = ArmContexts;

type Neural = NeuralUCB | NeuralTS;

export interface Online {
  readonly kind: OnlineKind;
  readonly K: number;
  /** `rows` rows of contexts for the K arms. */
  contexts(rows: number, seed: number): Contexts;
  decide(c: Contexts, options?: object): Promise<Decision>;
  /** The played rows of decisions of `c` (slates of k), in the form update takes. */
  played(c: Contexts, k: number, arms: Int32Array): Contexts;
  update(arms: Int32Array, played: Contexts, rewards: ArrayLike<number>, options?: object): Promise<void>;
  reward(ids: readonly string[], rewards: ArrayLike<number>): Promise<void>;
  warmStart(log: { arms: Int32Array; contexts: Contexts; rewards: ArrayLike<number>; propensities: ArrayLike<number> }, options?: object): Promise<void>;
  scores(c: Contexts): Promise<Float32Array>;
  save(): Promise<Uint8Array>;
  load(backend: Backend, bytes: Uint8Array, overrides?: { clock?: () => number }): Promise<Online>;
  diagnostics(): { rewards: { pending: number; rewarded: number; expired: number; overflowed: number; defaulted: number; dropped: number }; plays?: Int32Array };
  readonly raw: unknown;
  dispose(): void;
}

const NEURAL_DIM = D, HIDDEN = [6];

function neuralFeatures(K: number, rows: number, seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: rows * K * NEURAL_DIM }, () => Math.fround(2 * r() - 1));
}

function wrapNeural(kind: 'NeuralUCB' | 'NeuralTS', m: Neural, K: number): Online {
  return {
    kind, K, raw: m,
    contexts: (rows, seed) => neuralFeatures(K, rows, seed),
    decide: (c, o) => m.decide(c as Float32Array, { arms: K, ...o }),
    played: (c, k, arms) => {
      const x = c as Float32Array, out = new Float32Array(arms.length * NEURAL_DIM);
      arms.forEach((a, j) => out.set(x.subarray((Math.floor(j / k) * K + a) * NEURAL_DIM, (Math.floor(j / k) * K + a + 1) * NEURAL_DIM), j * NEURAL_DIM));
      return out;
    },
    update: (arms, played, r, o) => m.update(arms, played as Float32Array, r, o),
    reward: (ids, r) => m.reward(ids, r),
    warmStart: (log, o) => m.warmStart(log as never, o),
    scores: (c) => m.scores(c as Float32Array, { arms: K }),
    save: () => m.save(),
    async load(backend, bytes, overrides = {}) {
      return wrapNeural(kind, kind === 'NeuralUCB' ? await NeuralUCB.load(backend, bytes, overrides) : await NeuralTS.load(backend, bytes, overrides), K);
    },
    diagnostics: () => m.diagnostics(),
    dispose: () => m.dispose(),
  };
}

function wrapArm(kind: ArmKind, m: Awaited<ReturnType<typeof armModel>>, K: number): Online {
  return {
    kind, K, raw: m,
    contexts: (rows, seed) => armContexts(kind, K, rows, seed),
    decide: (c, o) => call.decide(m, c, o),
    played: (c, k, arms) => playedOf(kind, c, K, k, arms),
    update: (arms, played, r, o) => call.update(m, arms, played, r, o),
    reward: (ids, r) => m.reward(ids, r),
    warmStart: (log, o) => m.warmStart(log as never, o),
    scores: (c) => call.scores(m, c),
    save: () => m.save(),
    async load(backend, bytes, overrides = {}) {
      return wrapArm(kind, await loadArmModel(kind, backend, bytes, overrides), K);
    },
    diagnostics: () => m.diagnostics(),
    dispose: () => m.dispose(),
  };
}

/** A model of `kind` with K arms (neural: K a call) and `extra` options, untrained. */
export async function online(kind: OnlineKind, backend: Backend, K: number, extra: object = {}): Promise<Online> {
  if (kind === 'NeuralUCB' || kind === 'NeuralTS') {
    const o = { dim: NEURAL_DIM, hidden: HIDDEN, seed: 5, nu: 0.5, ...extra };
    return wrapNeural(kind, kind === 'NeuralUCB' ? await NeuralUCB.create(backend, o) : await NeuralTS.create(backend, o), K);
  }
  return wrapArm(kind, await armModel(kind, backend, { arms: K, ...extra }), K);
}

/** Rows `rows` of played contexts, in that order. */
export function pickPlayed(c: Contexts, rows: readonly number[]): Contexts {
  return rowsOf(c, rows);
}

/** Every array of a save except the pending decisions' (a twin that updated keeps its decisions pending), as plain arrays. */
export function learntArrays(kind: OnlineKind, bytes: Uint8Array): Record<string, number[]> {
  const saved = decodeModel(bytes, kind, [1, 2]);
  const out: Record<string, number[]> = {};
  for (const [name, values] of Object.entries(saved.arrays)) if (!name.startsWith('pending.')) out[name] = Array.from(values);
  return out;
}

/**
 * A save as comparable data: its version, meta (without the random model id of the event ids,
 * which alike models differ in) and every array, as plain values.
 */
export function comparableSave(kind: string, bytes: Uint8Array): unknown {
  const saved = decodeModel(bytes, kind, [1, 2]);
  const meta = JSON.parse(JSON.stringify(saved.meta)) as { counters?: { decisions?: { modelId?: string } } };
  delete meta.counters?.decisions?.modelId;
  return { version: saved.modelVersion, meta, arrays: Object.fromEntries(Object.entries(saved.arrays).map(([k, v]) => [k, [v.constructor.name, ...Array.from(v)]])) };
}
