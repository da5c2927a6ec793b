/**
 * Cross-fitting of a reward model over K folds of a log, as Open Bandit Pipeline's
 * `RegressionModel.fit_predict(n_folds=…)` (`obp/ope/regression_model.py`) does it: the rows are
 * shuffled and cut into folds (scikit-learn's `KFold(shuffle=True)` layout), and each fold's rows
 * are predicted by a model fitted on the other folds only, so no row's estimate comes from a model
 * that saw that row (Chernozhukov et al. 2018; Narita, Yasui, Yata 2020). With positions, one model
 * is fitted per position on that position's training rows (OBP's `len_list` models) and predicts
 * the test rows at its position.
 */
import { Random } from '../core/random.js';
import { BanditError } from '../core/errors.js';

/**
 * A reward model that cross-fitting fits once on some rows of a log and asks for the rows it did
 * not see. One is made per fold (and per position); `fit` is called once, then `predict`.
 *
 * @example
 * const learner: RewardLearner = {
 *   fit: async (rows) => { mean = rows.reduce((s, i) => s + log.rewards[i]!, 0) / rows.length; },
 *   predict: async (rows) => new Float64Array(rows.length * k).fill(mean),
 *   dispose: () => {},
 * };
 */
export interface RewardLearner {
  /** Fits the model on these row indices of the log (its training rows). */
  fit(rows: Int32Array): Promise<void>;
  /** q̂(x_i, a) for every arm a of each row i in `rows`: rows.length × K, row-major. */
  predict(rows: Int32Array): Promise<Float64Array>;
  dispose(): void;
}

/** Options of `crossFit`. */
export interface CrossFitOptions {
  /**
   * Folds (OBP's `n_folds`), an integer in 1..n. Default 3 (OBP's OBD example). 1 fits one model on
   * every row and predicts those same rows: no cross-fitting (OBP's default, n_folds = 1).
   */
  readonly folds?: number;
  /** Seed of the shuffle that assigns rows to folds (OBP's `random_state`). Default 0. */
  readonly seed?: number;
  /**
   * The position (slot) of each row, integers ≥ 0: one model per position a fold, fitted on that
   * position's training rows only (OBP's `position` with `len_list` models). Default: one position.
   */
  readonly positions?: ArrayLike<number>;
  /** Called after each model is fitted and has predicted, with models done and in all. */
  readonly onModel?: (done: number, total: number) => void;
}

/** What `crossFit` returns. */
export interface CrossFitResult {
  /** q̂(x_i, a), n×K row-major: row i from the model of its fold (and position). */
  readonly estimatedRewards: Float64Array;
  /** The fold of each row (0..folds−1): row i was predicted by the model fitted without fold[i]. */
  readonly fold: Int32Array;
  readonly folds: number;
}

/**
 * The fold of each of n rows: a seeded Fisher–Yates permutation cut into `folds` consecutive
 * pieces, the first n mod folds of them one row longer (scikit-learn's KFold sizes).
 *
 * @example
 * foldAssignment(10, 3, 0);   // Int32Array(10), 4 rows in fold 0, 3 in folds 1 and 2
 */
export function foldAssignment(n: number, folds: number, seed: number): Int32Array {
  if (!(Number.isInteger(n) && n >= 1)) throw new BanditError(`foldAssignment: n must be a positive integer, got ${String(n)}`);
  if (!(Number.isInteger(folds) && folds >= 1 && folds <= n)) {
    throw new BanditError(`foldAssignment: folds must be an integer in 1..${n} (the rows), got ${String(folds)}`);
  }
  if (!(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) throw new BanditError(`foldAssignment: seed must be an integer in 0..2^32−1, got ${String(seed)}`);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  const random = new Random(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = random.int(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  const fold = new Int32Array(n);
  const base = Math.floor(n / folds), longer = n % folds;
  let at = 0;
  for (let f = 0; f < folds; f++) {
    const size = base + (f < longer ? 1 : 0);
    for (let j = 0; j < size; j++) fold[order[at + j]!] = f;
    at += size;
  }
  return fold;
}

function positionsOf(positions: ArrayLike<number> | undefined, n: number): Int32Array {
  if (positions === undefined) return new Int32Array(n);
  if (positions.length !== n) throw new BanditError(`crossFit: positions holds ${positions.length} values, expected one a row (${n})`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const p = positions[i]!;
    if (!(Number.isInteger(p) && p >= 0 && p < 1024)) throw new BanditError(`crossFit: positions[${i}] is ${String(p)}; positions must be integers in 0..1023`);
    out[i] = p;
  }
  return out;
}

/**
 * Cross-fitted reward estimates of an n-row log over K arms: for every fold f (and position p),
 * a fresh learner from `makeLearner` is fitted on the rows outside f (at p) and predicts the rows
 * in f (at p). Every learner is disposed, also on failure. Throws a BanditError when a fold leaves
 * a position without training rows (OBP: "No training data at position"), or when a learner
 * predicts the wrong number of values or a non-finite one.
 *
 * @example
 * const { estimatedRewards, fold } = await crossFit(log.length, log.shape.arms, () => ridgeRewardLearner(backend, log), { folds: 3, seed: 1 });
 */
export async function crossFit(
  n: number, k: number, makeLearner: () => Promise<RewardLearner> | RewardLearner, options: CrossFitOptions = {},
): Promise<CrossFitResult> {
  if (!(Number.isInteger(k) && k >= 1)) throw new BanditError(`crossFit: K (arms) must be a positive integer, got ${String(k)}`);
  if (typeof makeLearner !== 'function') throw new BanditError('crossFit: makeLearner must be a function returning a RewardLearner');
  const folds = options.folds ?? 3;
  const fold = foldAssignment(n, folds, options.seed ?? 0);
  const position = positionsOf(options.positions, n);
  let positionCount = 1;   // a loop, not Math.max(...position): spreading 10⁶ values overflows the stack
  for (let i = 0; i < n; i++) positionCount = Math.max(positionCount, position[i]! + 1);
  const estimatedRewards = new Float64Array(n * k);
  const jobs: { train: Int32Array; test: Int32Array; f: number; p: number }[] = [];
  for (let f = 0; f < folds; f++) {
    for (let p = 0; p < positionCount; p++) {
      const train: number[] = [], test: number[] = [];
      for (let i = 0; i < n; i++) {
        if (position[i] !== p) continue;
        // One fold: the model is fitted on every row and predicts them (no cross-fitting).
        if (folds === 1 || fold[i] !== f) train.push(i);
        if (fold[i] === f) test.push(i);
      }
      if (test.length === 0) continue;
      if (train.length === 0) throw new BanditError(`crossFit: fold ${f} leaves no training rows at position ${p} (use fewer folds)`);
      jobs.push({ train: Int32Array.from(train), test: Int32Array.from(test), f, p });
    }
  }
  for (const [done, job] of jobs.entries()) {
    const learner = await makeLearner();
    try {
      await learner.fit(job.train);
      const q = await learner.predict(job.test);
      if (!(q instanceof Float64Array) || q.length !== job.test.length * k) {
        throw new BanditError(`crossFit: the learner of fold ${job.f}, position ${job.p} predicted ${q?.length} values for ${job.test.length} rows × ${k} arms`);
      }
      job.test.forEach((i, j) => {
        for (let a = 0; a < k; a++) {
          const v = q[j * k + a]!;
          if (!Number.isFinite(v)) throw new BanditError(`crossFit: the learner of fold ${job.f} predicted ${v} for row ${i}, arm ${a}`);
          estimatedRewards[i * k + a] = v;
        }
      });
    } finally {
      learner.dispose();
    }
    options.onModel?.(done + 1, jobs.length);
  }
  return { estimatedRewards, fold, folds };
}
