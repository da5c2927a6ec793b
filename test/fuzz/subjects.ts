// The models the fuzz suite drives: every kind the library has (LinUCB shared, per-arm and
// discounted, LinTS, HybridLinUCB, NeuralUCB with diagonal and full confidence, NeuralTS,
// EmbeddingMLP), small, with a little learnt state and one decision waiting for its reward, and
// for each public method a valid call to mutate.
import { EmbeddingMLP, HybridLinUCB, LinTS, LinUCB, NeuralTS, NeuralUCB, type Backend } from '../../src/index.js';
import { rng } from '../support/random.js';

export type SubjectName =
  | 'LinUCB' | 'LinUCB per-arm' | 'LinUCB discounted' | 'LinTS' | 'HybridLinUCB'
  | 'NeuralUCB diag' | 'NeuralUCB full' | 'NeuralTS' | 'EmbeddingMLP';

export const SUBJECTS: readonly SubjectName[] = [
  'LinUCB', 'LinUCB per-arm', 'LinUCB discounted', 'LinTS', 'HybridLinUCB',
  'NeuralUCB diag', 'NeuralUCB full', 'NeuralTS', 'EmbeddingMLP',
];

/** A model seen through its public methods only, by name. */
export interface AnyModel {
  save(): Promise<Uint8Array>;
  dispose(): void;
  readonly disposed: boolean;
  [method: string]: unknown;
}

interface ModelClass {
  create(backend: Backend, options: object): Promise<AnyModel>;
  load(backend: Backend, bytes: Uint8Array, overrides?: object): Promise<AnyModel>;
}

/** A valid call of one public method: its arguments, made fresh each time. */
export interface MethodCall {
  readonly method: string;
  readonly args: () => unknown[];
}

export interface Subject {
  readonly name: SubjectName;
  /** The class name messages begin with. */
  readonly model: string;
  readonly cls: ModelClass;
  /** The options `create` is fuzzed around (valid). */
  readonly options: Readonly<Record<string, unknown>>;
  /** The neural models: arms are labels of each call's features (any index ≥ 0), the seed any integer. */
  readonly anyArmIndex: boolean;
  /** What `load` is given again (the clock, which saves leave out). */
  readonly overrides: Readonly<Record<string, unknown>>;
  /** A model with learnt state and one decision pending (event ids in `pending`). */
  make(backend: Backend): Promise<{ model: AnyModel; pending: string[] }>;
  /** Valid calls of every public method that changes or reads state (given the pending event ids). */
  calls(pending: readonly string[]): MethodCall[];
  /** A valid update (the usability probe of a loaded save) and a valid scores call. */
  probe(model: AnyModel): Promise<Float32Array>;
}

/** A clock that stands still, so two models that decide at different times save the same bytes. */
export const CLOCK = (): number => 1000;
const TIMED = { clock: CLOCK };

export const K = 4, D = 3, SHARED = 2, USERS = 3, CDIM = 2, B = 2;

const floats = (n: number, seed: number): Float32Array => {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => Math.fround(2 * r() - 1));
};
const arms = (n: number, seed: number, k = K): Int32Array => Int32Array.from({ length: n }, (_, i) => (i * 3 + seed) % k);

const call = (m: AnyModel, method: string, ...args: unknown[]): Promise<unknown> => (m[method] as (...a: unknown[]) => Promise<unknown>).apply(m, args);

function linear(name: SubjectName, cls: ModelClass, model: string, options: Record<string, unknown>, perArm: boolean): Subject {
  const ctx = (rows: number, seed: number) => floats(rows * (perArm ? K * D : D), seed);
  const log = () => ({ arms: arms(3, 1), contexts: floats(3 * D, 7), rewards: floats(3, 8), propensities: Float32Array.of(0.5, 0.25, 1) });
  const own: MethodCall[] = [
    { method: 'select', args: () => [ctx(B, 11), { eligible: Uint8Array.of(1, 1, 0, 1) }] },
    { method: 'scores', args: () => [ctx(B, 12)] },
    { method: 'decide', args: () => [ctx(B, 13), { k: 2 }] },
    { method: 'update', args: () => [arms(B, 2), ctx(B, 14), floats(B, 15), { weights: Float32Array.of(1, 0.5) }] },
    { method: 'warmStart', args: () => [log(), { weighting: 'ips', clip: 10.5 }] },
    { method: 'addArms', args: () => [1] },
    { method: 'retireArms', args: () => [Int32Array.of(1)] },
    ...(cls === (LinTS as unknown) ? [{ method: 'sampledScores', args: () => [ctx(B, 16)] }] : []),
  ];
  return {
    name, model, cls, options, overrides: TIMED, anyArmIndex: false,
    async make(backend) {
      const m = await cls.create(backend, options);
      for (let t = 0; t < 3; t++) await call(m, 'update', arms(5, t), ctx(5, 20 + t), floats(5, 30 + t));
      const d = (await call(m, 'decide', ctx(B, 40))) as { eventIds: string[] };
      return { model: m, pending: d.eventIds };
    },
    calls: (pending) => [...own, { method: 'reward', args: () => [pending.slice(), Float32Array.from(pending, () => 0.5)] }],
    async probe(m) {
      await call(m, 'update', arms(B, 3), ctx(B, 50), floats(B, 51));
      return (await call(m, 'scores', ctx(B, 52))) as Float32Array;
    },
  };
}

function hybrid(): Subject {
  const ctx = (rows: number, seed: number) => ({ arm: floats(rows * K * D, seed), shared: floats(rows * K * SHARED, seed + 1) });
  const options = { arms: K, dim: D, sharedDim: SHARED, alpha: 0.5, seed: 5, ...TIMED };
  const cls = HybridLinUCB as unknown as ModelClass;
  const own: MethodCall[] = [
    { method: 'select', args: () => [ctx(B, 11)] },
    { method: 'scores', args: () => [ctx(B, 12)] },
    { method: 'decide', args: () => [ctx(B, 13), { k: 2 }] },
    { method: 'update', args: () => [arms(B, 2), ctx(B, 14), floats(B, 15)] },
    { method: 'warmStart', args: () => [{ arms: arms(3, 1), contexts: ctx(3, 7), rewards: floats(3, 8), propensities: Float32Array.of(0.5, 0.25, 1) }, { clip: 10.5 }] },
    { method: 'addArms', args: () => [1] },
    { method: 'retireArms', args: () => [Int32Array.of(1)] },
  ];
  return {
    name: 'HybridLinUCB', model: 'HybridLinUCB', cls, options, overrides: TIMED, anyArmIndex: false,
    async make(backend) {
      const m = await cls.create(backend, options);
      for (let t = 0; t < 3; t++) await call(m, 'update', arms(5, t), ctx(5, 20 + t), floats(5, 30 + t));
      const d = (await call(m, 'decide', ctx(B, 40))) as { eventIds: string[] };
      return { model: m, pending: d.eventIds };
    },
    calls: (pending) => [...own, { method: 'reward', args: () => [pending.slice(), Float32Array.from(pending, () => 0.5)] }],
    async probe(m) {
      await call(m, 'update', arms(B, 3), ctx(B, 50), floats(B, 51));
      return (await call(m, 'scores', ctx(B, 52))) as Float32Array;
    },
  };
}

function neural(name: SubjectName, cls: ModelClass, model: string, options: Record<string, unknown>): Subject {
  const own: MethodCall[] = [
    { method: 'select', args: () => [floats(B * K * D, 11), { arms: K }] },
    { method: 'scores', args: () => [floats(B * K * D, 12), { arms: K }] },
    { method: 'decide', args: () => [floats(B * K * D, 13), { arms: K }] },
    { method: 'update', args: () => [arms(B, 2), floats(B * D, 14), floats(B, 15), { weights: Float32Array.of(1, 2) }] },
    { method: 'train', args: () => [2] },
    { method: 'warmStart', args: () => [{ arms: arms(3, 1), contexts: floats(3 * D, 7), rewards: floats(3, 8), propensities: Float32Array.of(0.5, 0.25, 1) }, { clip: 10.5, trainSteps: 1 }] },
    ...(model === 'NeuralTS' ? [{ method: 'sampledScores', args: () => [floats(B * K * D, 16), { arms: K }] }] : []),
  ];
  return {
    name, model, cls, options, overrides: TIMED, anyArmIndex: true,
    async make(backend) {
      const m = await cls.create(backend, options);
      await call(m, 'update', arms(8, 0), floats(8 * D, 20), floats(8, 21));
      await call(m, 'train', 2);
      const d = (await call(m, 'decide', floats(B * K * D, 40), { arms: K })) as { eventIds: string[] };
      return { model: m, pending: d.eventIds };
    },
    calls: (pending) => [...own, { method: 'reward', args: () => [pending.slice(), Float32Array.from(pending, () => 0.5)] }],
    async probe(m) {
      await call(m, 'update', arms(B, 3), floats(B * D, 50), floats(B, 51));
      await call(m, 'train', 1);
      return (await call(m, 'scores', floats(B * K * D, 52), { arms: K })) as Float32Array;
    },
  };
}

function embedding(): Subject {
  const options = { users: USERS, items: K, contextDim: CDIM, hidden: [4], embeddingDim: 2, batchSize: 4, seed: 5 };
  const cls = EmbeddingMLP as unknown as ModelClass;
  const users = (n: number) => Int32Array.from({ length: n }, (_, i) => i % USERS);
  const fitLog = () => ({ users: users(4), items: arms(4, 1), contexts: floats(4 * CDIM, 9), clicks: Float32Array.of(1, 0, 0, 1) });
  const calls: MethodCall[] = [
    { method: 'fit', args: () => [fitLog(), { epochs: 1 }] },
    { method: 'warmStart', args: () => [{ users: users(3), arms: arms(3, 1), contexts: floats(3 * CDIM, 7), rewards: Float32Array.of(1, 0, 1), propensities: Float32Array.of(0.5, 0.25, 1) }, { clip: 10.5, epochs: 1 }] },
    { method: 'gradients', args: () => [fitLog()] },
    { method: 'predict', args: () => [users(B), arms(B, 2), floats(B * CDIM, 12)] },
    { method: 'scores', args: () => [users(B), floats(B * CDIM, 13)] },
    { method: 'select', args: () => [users(B), floats(B * CDIM, 14)] },
    { method: 'decide', args: () => [users(B), floats(B * CDIM, 15), { k: 2 }] },
    { method: 'addUsers', args: () => [1] },
    { method: 'addItems', args: () => [1] },
    { method: 'retireItems', args: () => [Int32Array.of(1)] },
  ];
  return {
    name: 'EmbeddingMLP', model: 'EmbeddingMLP', cls, options, overrides: {}, anyArmIndex: false,
    async make(backend) {
      const m = await cls.create(backend, options);
      await call(m, 'fit', { users: users(8), items: arms(8, 0), contexts: floats(8 * CDIM, 20), clicks: Float32Array.from({ length: 8 }, (_, i) => i % 2) }, { epochs: 1 });
      // A decision, so the save holds the model id (two loads of it then decide alike).
      await call(m, 'decide', users(B), floats(B * CDIM, 40));
      return { model: m, pending: [] };
    },
    calls: () => calls,
    async probe(m) {
      await call(m, 'fit', fitLog(), { epochs: 1 });
      return (await call(m, 'scores', users(B), floats(B * CDIM, 52))) as Float32Array;
    },
  };
}

const NEURAL = { dim: D, hidden: [4], trainEvery: 0, batchSize: 4, seed: 5, ...TIMED };

export function subject(name: SubjectName): Subject {
  const linUCB = LinUCB as unknown as ModelClass;
  switch (name) {
    case 'LinUCB': return linear(name, linUCB, 'LinUCB', { arms: K, dim: D, alpha: 0.5, seed: 5, ...TIMED }, false);
    case 'LinUCB per-arm': return linear(name, linUCB, 'LinUCB', { arms: K, dim: D, alpha: 0.5, perArmFeatures: true, seed: 5, ...TIMED }, true);
    case 'LinUCB discounted': return linear(name, linUCB, 'LinUCB', { arms: K, dim: D, alpha: 0.5, forgetting: { gamma: 0.9 }, seed: 5, ...TIMED }, false);
    case 'LinTS': return linear(name, LinTS as unknown as ModelClass, 'LinTS', { arms: K, dim: D, v: 0.5, seed: 5, ...TIMED }, false);
    case 'HybridLinUCB': return hybrid();
    case 'NeuralUCB diag': return neural(name, NeuralUCB as unknown as ModelClass, 'NeuralUCB', { ...NEURAL, nu: 0.5, confidence: 'diagonal' });
    case 'NeuralUCB full': return neural(name, NeuralUCB as unknown as ModelClass, 'NeuralUCB', { ...NEURAL, nu: 0.5, confidence: 'full' });
    case 'NeuralTS': return neural(name, NeuralTS as unknown as ModelClass, 'NeuralTS', { ...NEURAL, nu: 0.5 });
    case 'EmbeddingMLP': return embedding();
  }
}

export { call };
