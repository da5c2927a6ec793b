// The decision specs drive every model the same way: a model of each kind with a little learnt
// state (the same inputs on both backends), its contexts for B rows, and its decide, select,
// scores, save and load behind one interface.
import { expect } from 'chai';
import {
  BanditError, EmbeddingMLP, HybridLinUCB, LinTS, LinUCB, NeuralTS, NeuralUCB,
  type Backend, type Decision, type DecideOptions, type Exploration, type HybridContexts,
} from '../../src/index.js';
import { rng, uniform } from '../support/random.js';

export type Kind = 'LinUCB' | 'HybridLinUCB' | 'NeuralUCB' | 'EmbeddingMLP' | 'LinTS' | 'NeuralTS';
export const EXPLORING: readonly Kind[] = ['LinUCB', 'HybridLinUCB', 'NeuralUCB', 'EmbeddingMLP'];

/** A model's contexts for B rows, in whatever form its decide takes. */
export type Contexts =
  | { readonly kind: 'linear'; readonly x: Float32Array }
  | { readonly kind: 'hybrid'; readonly c: HybridContexts }
  | { readonly kind: 'neural'; readonly x: Float32Array; readonly arms: number }
  | { readonly kind: 'embedding'; readonly users: Int32Array; readonly x: Float32Array };

export interface Driven {
  readonly kind: Kind;
  /** K. */
  readonly arms: number;
  /** B rows of contexts: each its own (seeded), or all the first one (`same`). */
  contexts(rows: number, seed: number, same?: boolean): Contexts;
  decide(c: Contexts, options?: DecideOptions): Promise<Decision>;
  select(c: Contexts, options?: { eligible?: Uint8Array }): Promise<Int32Array>;
  /**
   * The scores decide samples over (the mean estimates under an exploration, the UCB scores
   * without, the posterior means for Thompson). EmbeddingMLP's are its logits, recovered from
   * the click probabilities its `scores` returns (in float64, from f32 values).
   */
  scores(c: Contexts): Promise<Float64Array>;
  /** One posterior draw a row (Thompson models only). */
  sampledScores?(c: Contexts): Promise<Float32Array>;
  save(): Promise<Uint8Array>;
  load(backend: Backend, bytes: Uint8Array): Promise<Driven>;
  dispose(): void;
}

const K = 5, D = 4, SHARED = 3, USERS = 6, CONTEXT_DIM = 2;

type AnyModel = LinUCB | HybridLinUCB | NeuralUCB | EmbeddingMLP | LinTS | NeuralTS;

function wrap(kind: Kind, model: AnyModel): Driven {
  const contexts = (rows: number, seed: number, same = false): Contexts => {
    const r = rng(seed);
    const row = (n: number) => Float32Array.from({ length: n }, () => Math.fround(2 * r() - 1));
    const tile = (n: number): Float32Array => {
      if (!same) return row(rows * n);
      const one = row(n), out = new Float32Array(rows * n);
      for (let i = 0; i < rows; i++) out.set(one, i * n);
      return out;
    };
    switch (kind) {
      case 'LinUCB':
      case 'LinTS':
        return { kind: 'linear', x: tile(D) };
      case 'HybridLinUCB':
        return { kind: 'hybrid', c: { arm: tile(K * D), shared: tile(K * SHARED) } };
      case 'NeuralUCB':
      case 'NeuralTS':
        return { kind: 'neural', x: tile(K * D), arms: K };
      case 'EmbeddingMLP': {
        const users = Int32Array.from({ length: rows }, (_, i) => (same ? 1 : i % USERS));
        return { kind: 'embedding', users, x: tile(CONTEXT_DIM) };
      }
    }
  };
  const m = model as unknown as {
    decide(...args: unknown[]): Promise<Decision>;
    select(...args: unknown[]): Promise<Int32Array>;
    scores(...args: unknown[]): Promise<Float32Array>;
    save(): Promise<Uint8Array>;
    dispose(): void;
  };
  const args = (c: Contexts, options: object | undefined): unknown[] => {
    switch (c.kind) {
      case 'linear': return [c.x, options];
      case 'hybrid': return [c.c, options];
      // A bad (non-object) options value goes as it is, to be refused.
      case 'neural': return [c.x, options === undefined || (typeof options === 'object' && options !== null) ? { arms: c.arms, ...options } : options];
      case 'embedding': return [c.users, c.x, options];
    }
  };
  return {
    kind, arms: K, contexts,
    decide: (c, options) => m.decide(...args(c, options)),
    select: (c, options) => m.select(...args(c, options)),
    async scores(c) {
      const s = await (c.kind === 'linear' ? m.scores(c.x) : c.kind === 'hybrid' ? m.scores(c.c)
        : c.kind === 'neural' ? m.scores(c.x, { arms: c.arms }) : m.scores(c.users, c.x));
      return kind === 'EmbeddingMLP' ? Float64Array.from(s, (p) => Math.log(p) - Math.log1p(-p)) : Float64Array.from(s);
    },
    ...(model instanceof LinTS || model instanceof NeuralTS
      ? { sampledScores: (c: Contexts) => (model instanceof LinTS ? model.sampledScores((c as { x: Float32Array }).x) : model.sampledScores((c as { x: Float32Array }).x, { arms: K })) }
      : {}),
    save: () => m.save(),
    async load(backend, bytes) {
      const loaders = { LinUCB, HybridLinUCB, NeuralUCB, EmbeddingMLP, LinTS, NeuralTS } as const;
      return wrap(kind, await (loaders[kind] as unknown as { load(b: Backend, x: Uint8Array): Promise<AnyModel> }).load(backend, bytes));
    },
    dispose: () => m.dispose(),
  };
}

/**
 * A model of `kind` with a little learnt state, the same on every backend (f32 inputs): a few
 * batches of updates (or a short fit), so its scores are neither flat nor tied.
 */
export async function makeModel(kind: Kind, backend: Backend, exploration: Exploration | null, seed: number, extra: object = {}): Promise<Driven> {
  const e = exploration ? { exploration } : {};
  const rewards = (n: number, s: number) => uniform(n, s);
  switch (kind) {
    case 'LinUCB':
    case 'LinTS': {
      const model = kind === 'LinUCB'
        ? await LinUCB.create(backend, { arms: K, dim: D, alpha: 0.5, seed, ...e, ...extra })
        : await LinTS.create(backend, { arms: K, dim: D, v: 0.5, seed, ...extra });
      for (let t = 0; t < 4; t++) {
        const arms = Int32Array.from({ length: 10 }, (_, i) => (i * 3 + t) % K);
        await model.update(arms, uniform(10 * D, 100 + t), Float32Array.from(arms, (a, i) => a / K + 0.1 * rewards(10, 200 + t)[i]!));
      }
      return wrap(kind, model);
    }
    case 'HybridLinUCB': {
      const model = await HybridLinUCB.create(backend, { arms: K, dim: D, sharedDim: SHARED, alpha: 0.5, seed, ...e, ...extra });
      for (let t = 0; t < 4; t++) {
        const arms = Int32Array.from({ length: 10 }, (_, i) => (i * 3 + t) % K);
        await model.update(arms, { arm: uniform(10 * D, 300 + t), shared: uniform(10 * SHARED, 400 + t) },
          Float32Array.from(arms, (a, i) => a / K + 0.1 * rewards(10, 500 + t)[i]!));
      }
      return wrap(kind, model);
    }
    case 'NeuralUCB':
    case 'NeuralTS': {
      const common = { dim: D, hidden: [8], trainEvery: 0, seed, ...extra };
      const model = kind === 'NeuralUCB' ? await NeuralUCB.create(backend, { ...common, nu: 0.5, ...e }) : await NeuralTS.create(backend, { ...common, nu: 0.5 });
      const x = uniform(40 * D, 600);
      await model.update(new Int32Array(40), x, Float32Array.from({ length: 40 }, (_, i) => x[i * D]! + 0.5 * x[i * D + 1]!));
      // f ≡ 0 at θ₀ (every mean tied): a few steps make the means differ.
      await model.train(5);
      return wrap(kind, model);
    }
    case 'EmbeddingMLP': {
      const model = await EmbeddingMLP.create(backend, { users: USERS, items: K, contextDim: CONTEXT_DIM, hidden: [8], embeddingDim: 3, batchSize: 50, seed, ...e, ...extra });
      const r = rng(700), n = 200;
      const users = Int32Array.from({ length: n }, () => Math.floor(r() * USERS));
      const items = Int32Array.from({ length: n }, () => Math.floor(r() * K));
      const clicks = Float32Array.from(items, (i, j) => (r() < (i === users[j]! % K ? 0.7 : 0.2) ? 1 : 0));
      await model.fit({ users, items, contexts: uniform(n * CONTEXT_DIM, 701), clicks }, { epochs: 2 });
      return wrap(kind, model);
    }
  }
}

/** Expects `p` to reject with a BanditError whose message matches `pattern`. */
export async function rejects(p: Promise<unknown>, pattern: RegExp, what = ''): Promise<void> {
  let error: unknown = null;
  await p.catch((e) => (error = e));
  expect(error, `${what}: expected a rejection`).to.be.instanceOf(BanditError);
  expect(String((error as Error).message), what).to.match(pattern);
}

/** Rows (of B·k decisions in slates of k) whose arms differ between two decisions. */
export function rowsDiffering(a: Int32Array, b: Int32Array, k: number): number {
  let n = 0;
  for (let r = 0; r < a.length / k; r++) {
    for (let j = 0; j < k; j++) {
      if (a[r * k + j] !== b[r * k + j]) {
        n++;
        break;
      }
    }
  }
  return n;
}
