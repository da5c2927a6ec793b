// The head-to-head benchmark suite: this library against what a JS developer would use instead,
// measured side by side in one run on one adapter. The same code runs in Node (bench/all.ts,
// `npm run bench`) and in headless Chromium (bench/browser/, `npm run bench:browser`); the results
// have one format (SuiteReport) and one renderer (bench/report.ts).
//
// Families (each over K arms × d × B rows a call, pruned where it does not fit memory or time):
//   gemm      C_k = X·A_k for every arm (X B×d, A_k d×d): LinUCB's bulk product, inputs resident, C read back
//   linucb    LinUCB select (B contexts in → B arms out) and update (a batch of B rows)
//   neural    NeuralUCB select (the library's NeuralUCB model, diagonal Z): forward + every row's
//             gradient + bonus, score f + ν·sqrt(bonus/m), argmax; all peers score with its saved θ and Z
//   jacobian  the per-arm Jacobian in one batched pass against K backward passes (target 3)
//   train     a NeuralUCB train step: mlpLossGradient + optimizerStep (SGD) on a minibatch of B rows (no K)
// Peers: the library on webgpu and on its cpu (float64) backend, plain JS (bench/peers/plain-*),
// TF.js on its cpu, wasm and webgpu backends (bench/peers/tfjs.ts). Each peer's result is checked
// against a float64 reference before it is timed; a peer that disagrees is not timed.
//
// Method: per runner the first call is timed apart (pipeline compilation, JIT, TF.js kernel
// compilation), then ≥ MIN_REPS calls until the target time, median and quartiles; wall clock
// (no timestamp queries on SwiftShader), each call ending when its result is on the host (or, for
// update and the Jacobian, when its GPU work is done). A call predicted (from the runner's rate on
// a measured case) or measured over the cap is not repeated, and cases past the run's budget are
// skipped, each with the reason in the results. The calibration kernels (bench/calibrate.ts) give
// the adapter's best copy bandwidth and FLOP rate in the same run.
import { LinUCB, NeuralUCB, createBackend, type Backend, type BackendInfo, type Tensor } from '../src/index.js';
import { gemm, kPassGradients, mlpForward, mlpLayout, mlpLossGradient, optimizerStep, perArmGradients, scale } from '../src/ops/index.js';
import { decodeModel } from '../src/models/persist.js';
import { calibrateGpu, calibrateJs, type Calibration, type Rate } from './calibrate.js';
import {
  CONTENTION_RETRY, MAX_RETRIES, RETRY_BUDGET_MS, lcg, message, roundSamples, stats, timeOnce, timeQuietest, SyntheticBandit,
  type CpuMeter, type RepPolicy, type RunnerResult,
} from './lib.js';
import { plainBatchedGemm } from './peers/plain-gemm.js';
import { PlainLinUCB } from './peers/plain-linucb.js';
import { PlainMlpTrainer, PlainNeuralUCB, paramCount, type NeuralNet } from './peers/plain-neural.js';
import { TFJS_BACKENDS, TfjsLinUCB, TfjsMlpTrainer, TfjsNeuralUCB, loadTfjs, tfjsBatchedGemm, type NeuralRoute, type TfjsEnv, type TfjsHost } from './peers/tfjs.js';

export const FAMILIES = ['jacobian', 'linucb', 'neural', 'train', 'gemm'] as const;
export type Family = (typeof FAMILIES)[number];

export const FULL_GRID = { K: [10, 100, 1000, 10000], d: [8, 32, 128], B: [1, 64] } as const;
export const QUICK_GRID = { K: [10, 100, 1000], d: [8, 32], B: [1, 64] } as const;

/** NeuralUCB's network: one hidden layer of WIDTH ReLUs (the issue's "width 100"). */
export const WIDTH = 100;
const NU = 0.1;
/** NeuralUCB's λ (Z = λI + Σ g gᵀ/m), the rows of history and the Adam steps behind the benchmarked state. */
const NEURAL_LAMBDA = 1;
const STATE_ROWS = 64;
const STATE_TRAIN_STEPS = 20;
const ALPHA = 0.25;
const LAMBDA = 1;
const SEED = 20240621;
const MIN_REPS = 3;
const MAX_REPS = 60;
/** Each family's share of the run's time budget (of what is left when it starts). */
const BUDGET_SHARES: Readonly<Record<Family, number>> = { jacobian: 0.04, linucb: 0.4, neural: 0.3, train: 0.08, gemm: 0.18 };
/** Alternating rounds of a target's pair, and the most time they may take, ms. */
const PAIR_ROUNDS = 7;
const PAIR_BUDGET_MS = 20_000;
/** A sample shorter than this is several calls timed together, ms. */
const MIN_SAMPLE_MS = 1;
/** Pre-generated inputs a timed case cycles through. */
const POOL = 4;
/**
 * State past this many values (K·d² for LinUCB and GEMM, B·K·max(d, m) rows × width for
 * NeuralUCB) is not run: 2²⁵ f32 values fill SwiftShader's 128 MiB storage binding, the float64
 * peers double it, and every peer holds its own copy.
 */
const MAX_STATE_VALUES = 2 ** 25;
const U32 = 2 ** -24;

/** The issue's targets: ours ≥ `atLeast` × faster than the peer, at that case. */
export const TARGETS = [
  { id: 'linucb-select', family: 'linucb', op: 'select', shape: { K: 1000, d: 32, B: 64 }, ours: 'webgpu', peer: 'tfjs-webgpu', atLeast: 3,
    title: 'LinUCB select vs TF.js WebGPU (K = 1000, d = 32, B = 64)' },
  { id: 'neural-select', family: 'neural', op: 'select', shape: { K: 100, d: 32, B: 1 }, ours: 'webgpu', peer: 'tfjs-webgpu per-arm', atLeast: 5,
    title: 'NeuralUCB select vs TF.js per-arm gradients on WebGPU (K = 100, d = 32, width 100, B = 1)' },
  { id: 'one-pass-jacobian', family: 'jacobian', op: 'jacobian', shape: { K: 100, d: 32 }, ours: 'webgpu one-pass', peer: 'webgpu k-pass', atLeast: 10,
    title: 'one-pass Jacobian vs K backward passes (K = 100, d = 32, width 100)' },
] as const;

// ---- result types (the JSON format; bench/report.ts renders it) ----

export type Limit = 'gpu' | 'js';

export interface SuiteRunner extends RunnerResult {
  /**
   * A runner over the cap is timed once in steady state: its first call where it was already warm
   * (it ran a smaller case of the same op before), else a second call (the first may have been
   * mostly compilation), ms.
   */
  readonly onceMs?: number;
  /** Calls timed together in each sample (short calls; the samples are per call). */
  readonly callsPerSample?: number;
  /** Whose calibrated limits the shares are of: the adapter's ('gpu') or one JS thread's ('js'). */
  readonly limit?: Limit;
  /** Bytes/s over the limit's best copy rate, FLOP/s over its best FMA rate. */
  readonly bwShare?: number;
  readonly flopShare?: number;
}

export interface SuiteCase {
  readonly family: Family;
  readonly op: string;
  readonly name: string;
  readonly shape: Readonly<Record<string, number>>;
  readonly flops: number;
  readonly runners: readonly SuiteRunner[];
  /** At a target's case: the ratio in alternating rounds. */
  readonly paired?: PairedRatio;
}

/** A target's ratio measured in alternating rounds (see Engine.pairTarget). */
export interface PairedRatio {
  readonly ours: string;
  readonly peer: string;
  readonly callsOfOurs: number;
  /** peer ÷ ours of each round. */
  readonly ratios: readonly number[];
  readonly median: number;
}

export interface CheckRecord {
  readonly family: Family;
  readonly shape: Readonly<Record<string, number>>;
  readonly runner: string;
  readonly ok: boolean;
  /** What was compared and how close it came, in words. */
  readonly detail: string;
  readonly maxError?: number;
  readonly bound?: number;
}

export interface SetupRecord {
  readonly family: Family;
  readonly shape: Readonly<Record<string, number>>;
  readonly runner: string;
  /** Creating the state (untimed in the cases), the history fed before the check, the first select (compilation). */
  readonly createMs?: number;
  readonly historyMs?: number;
  readonly firstSelectMs?: number;
  readonly error?: string;
}

export interface TargetResult {
  readonly id: string;
  readonly title: string;
  readonly ours: string;
  readonly peer: string;
  readonly atLeast: number;
  readonly oursMs?: number;
  readonly peerMs?: number;
  /** peer median ÷ ours median. */
  readonly ratio?: number;
  readonly pass?: boolean;
  /** Why there is no ratio (a runner skipped, failed or filtered out). */
  readonly note?: string;
  /** The same ratio against the fastest TF.js runner of the case, for context. */
  readonly bestTfjs?: { readonly runner: string; readonly ratio: number };
}

export interface SuiteReport {
  readonly suite: 'head-to-head';
  readonly formatVersion: 1;
  readonly date: string;
  readonly quick: boolean;
  readonly runtime: Readonly<Record<string, string | number>>;
  readonly webgpu: BackendInfo | { readonly error: string };
  readonly tfjs: { readonly versions?: Readonly<Record<string, string>>; readonly backends?: TfjsEnv['backends']; readonly error?: string };
  readonly calibration: Calibration;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly counting: Readonly<Record<string, string>>;
  readonly setups: readonly SetupRecord[];
  readonly checks: readonly CheckRecord[];
  readonly cases: readonly SuiteCase[];
  /** Shapes not run at all, and why. */
  readonly pruned: readonly { readonly family: Family; readonly shape: Readonly<Record<string, number>>; readonly why: string }[];
  readonly pending: readonly string[];
  readonly targets: readonly TargetResult[];
  readonly failures: number;
  readonly skipped: number;
  readonly totalSeconds: number;
  readonly loadAverage?: { readonly start: readonly number[]; readonly end: readonly number[] };
}

const COUNTING: Record<string, string> = {
  gemmFlops: '2·K·B·d² (C_k = X·A_k for every arm k)',
  gemmBytes: 'K·d²·w (A) + B·d·4 (X) + K·B·d·4 (C, read back): w = 4 for f32 runners, 8 for float64 (cpu, plain-js)',
  selectFlops: 'LinUCB: B·K·(2d² + 4d) (A⁻¹x, xᵀz, θᵀx per arm and row; sqrt and argmax not counted)',
  selectBytes: 'LinUCB: K·d²·w (A⁻¹) + K·d·w (θ) + B·d·4 (contexts in) + B·4 (arms out): the state read once',
  updateFlops: 'LinUCB: B·(6d² + 4d) (A⁻¹x, the rank-1 downdate, θ = A⁻¹b per row; the library also adds xxᵀ to A)',
  updateBytes: 'LinUCB: B·(2d² + 4d)·w: each row reads and writes its arm’s A⁻¹, b and θ once (TF.js rewrites whole state tensors: not counted)',
  neuralFlops: 'NeuralUCB select, N = B·K rows, width m: N·(2dm + 2m) forward + N·(2dm + 4m) bonus (x²·(1/Z_W1)ᵀ, δ² products, h²/Z) + N·4 score; ReLU, argmax not counted',
  neuralBytes: 'NeuralUCB select: N·d·4 (features in) + 2·p·4 (θ and Z) + B·4 (arms out)',
  trainFlops: 'B·(2dm + 2m) forward + B·(2dm + 6m) backward and gradient + 2p for the SGD step',
  trainBytes: 'B·d·4 + B·4 (the minibatch) + 3·p·w (θ read and written, the gradient written): w = 4 for f32 runners, 8 for float64',
  jacobianFlops: 'K·(2dm + 2m) forward + K·(dm + m + m + 1) outer products δ⊗h (one hidden layer)',
  jacobianBytes: 'K·p·4: the Jacobian written once (it stays on the device; calls end with backend.sync())',
  perSecond: 'decisions (select), update rows (update) or Jacobian rows per second: rows / median',
  shares: 'bwShare = (bytes / median) ÷ the best calibrated copy rate; flopShare = (FLOPs / median) ÷ the best calibrated FMA rate; the adapter’s for webgpu runners (ours and TF.js), one JS thread’s for the others (TF.js wasm runs f32 SIMD, so it can pass that line)',
};

// ---- options ----

export interface SuiteOptions {
  readonly families: readonly Family[];
  readonly grid: { readonly K: readonly number[]; readonly d: readonly number[]; readonly B: readonly number[] };
  /** Runner filters: a runner runs if its name equals one, or starts with one and a space or dash. Empty: all. */
  readonly runners: readonly string[];
  readonly quick: boolean;
  /** A call predicted or measured over this is not repeated, ms. */
  readonly capMs: number;
  /** Timed runs a runner: at least MIN_REPS, then until this many ms. */
  readonly targetMs: number;
  /** The cap for the runners the targets compare, at the targets' cases, ms. */
  readonly targetCapMs: number;
  /** Past this many ms since the start, the remaining cases are skipped. */
  readonly budgetMs: number;
  readonly log?: (line: string) => void;
}

/** What differs between Node and a page. */
export interface SuiteHost {
  readonly runtime: Readonly<Record<string, string | number>>;
  /** null: no TF.js peers. */
  readonly tfjs: TfjsHost | null;
  readonly meter: CpuMeter;
  readonly loadAverage?: () => Promise<number[]>;
}

export function keepRunner(filters: readonly string[], name: string): boolean {
  return filters.length === 0 || filters.some((f) => name === f || name.startsWith(`${f} `) || name.startsWith(`${f}-`));
}

// ---- the timing engine ----

/**
 * Measured calls per runner and op, to predict a larger case's single-call time before running it:
 * from the cases of the same runner and op (those with the same d and B if there are, else the
 * same d, else all), an affine fit time = overhead + FLOPs/rate through the smallest and the
 * largest by FLOPs, or with one case, time ∝ sqrt(FLOPs) (see predict).
 */
class RateBook {
  private readonly seen = new Map<string, { flops: number; ms: number; name: string }[]>();
  private static keys(runner: string, op: string, d: number, B: number): string[] {
    return [`${runner}|${op}|${d}|${B}`, `${runner}|${op}|${d}`, `${runner}|${op}`];
  }
  record(runner: string, op: string, d: number, B: number, flops: number, ms: number, name: string): void {
    for (const key of RateBook.keys(runner, op, d, B)) {
      const list = this.seen.get(key) ?? [];
      list.push({ flops, ms, name });
      this.seen.set(key, list);
    }
  }
  /** Whether the runner has run this op before (its pipelines and JIT are warm). */
  has(runner: string, op: string): boolean {
    return this.seen.has(`${runner}|${op}`);
  }
  predict(runner: string, op: string, d: number, B: number, flops: number): { ms: number; from: string } | null {
    for (const key of RateBook.keys(runner, op, d, B)) {
      const list = this.seen.get(key);
      if (!list?.length) continue;
      const lo = list.reduce((a, b) => (b.flops < a.flops ? b : a)), hi = list.reduce((a, b) => (b.flops > a.flops ? b : a));
      if (hi.flops > lo.flops * 1.5 && hi.ms > lo.ms) {
        const perFlop = (hi.ms - lo.ms) / (hi.flops - lo.flops), overhead = Math.max(0, lo.ms - perFlop * lo.flops);
        return { ms: overhead + perFlop * flops, from: `${lo.name} and ${hi.name}` };
      }
      // One case: part of its time is fixed cost, so time ∝ FLOPs would skip cases that run fast;
      // the geometric mean of "all fixed" and "all work" is the guess, and a first call over the
      // cap still stops the runner.
      return { ms: hi.ms * Math.sqrt(Math.max(1, flops / hi.flops)), from: hi.name };
    }
    return null;
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 0)} s`;

/** One runner of one case, ready to time. */
interface Timed {
  readonly runner: string;
  readonly limit: Limit;
  /** Bytes the call moves (see COUNTING). */
  readonly bytes: number;
  /** FLOPs of this runner's call when it is not the case's (the profile's parts). */
  readonly flops?: number;
  /** Rows a call decides or updates, for perSecond; absent for GEMM. */
  readonly rows?: number;
  /** Called before the first call and before the repeated ones (TF.js: make its backend current). */
  readonly before?: () => Promise<void>;
  readonly run: () => Promise<unknown>;
  /** After the first call: compares its result with the reference; throws or returns a failed record to refuse timing. */
  readonly verify?: () => Promise<CheckRecord>;
}

class Engine {
  readonly rates = new RateBook();
  readonly checks: CheckRecord[] = [];
  readonly cases: SuiteCase[] = [];
  private readonly started = performance.now();

  constructor(
    private readonly options: SuiteOptions, private readonly meter: CpuMeter, private readonly calibration: Calibration,
    readonly log: (line: string) => void,
  ) {}

  get elapsedMs(): number {
    return performance.now() - this.started;
  }

  private deadlineMs = Infinity;

  /** The family about to run gets its share of what is left of the budget (what a family leaves unspent goes to the next). */
  startFamily(share: number, sharesLeft: number): void {
    this.deadlineMs = this.elapsedMs + Math.max(0, this.options.budgetMs - this.elapsedMs) * (share / sharesLeft);
  }

  overBudget(): boolean {
    return this.elapsedMs > this.deadlineMs;
  }

  keep(name: string): boolean {
    return keepRunner(this.options.runners, name);
  }

  private limitRates(limit: Limit): { copy: Rate; fma: Rate } | null {
    const c = limit === 'gpu' ? this.calibration.gpu : this.calibration.js;
    return c && 'copy' in c ? c : null;
  }

  /** Times each runner of a case in turn; `runners` entries that are strings are runners that could not be set up (the string says why). */
  async timeCase(
    c: { family: Family; op: string; name: string; shape: Record<string, number>; flops: number },
    runners: readonly (Timed | { runner: string; error: string } | { runner: string; skipped: string })[],
  ): Promise<void> {
    const results: SuiteRunner[] = [];
    this.log(`\n${c.name}`);
    for (const r of runners) {
      let result: SuiteRunner;
      if ('error' in r) result = { runner: r.runner, ok: false, error: r.error };
      else if ('skipped' in r) result = { runner: r.runner, ok: false, skipped: r.skipped };
      else result = await this.timeRunner(c, r);
      results.push(result);
      this.log(describe(result));
    }
    const paired = await this.pairTarget(c, runners, results);
    this.cases.push({ family: c.family, op: c.op, name: c.name, shape: c.shape, flops: c.flops, runners: results, ...(paired ? { paired } : {}) });
  }

  /**
   * At a target's case, once both runners are timed: PAIR_ROUNDS rounds that each time ours (as
   * many calls as take about one of the peer's) and then one call of the peer, back to back, so
   * both see the same load from the rest of the machine; the target's ratio is the median of the
   * rounds' ratios. Only where the rounds fit PAIR_BUDGET_MS.
   */
  private async pairTarget(
    c: { family: Family; op: string; shape: Record<string, number> },
    runners: readonly (Timed | { runner: string; error: string } | { runner: string; skipped: string })[],
    results: readonly SuiteRunner[],
  ): Promise<PairedRatio | undefined> {
    const target = TARGETS.find((g) => g.family === c.family && g.op === c.op && Object.entries(g.shape).every(([k, v]) => c.shape[k] === v));
    if (!target) return undefined;
    const timed = (name: string) => runners.find((r): r is Timed => 'run' in r && r.runner === name);
    const a = timed(target.ours), b = timed(target.peer);
    const aMs = results.find((r) => r.runner === target.ours)?.ms?.median;
    const peer = results.find((r) => r.runner === target.peer);
    const bMs = peer?.ms?.median ?? peer?.onceMs;
    if (!a || !b || aMs === undefined || bMs === undefined || 2 * PAIR_ROUNDS * bMs > PAIR_BUDGET_MS) return undefined;
    try {
      const ratios: number[] = [];
      const calls = Math.max(1, Math.min(50, Math.round(bMs / aMs)));
      for (let round = 0; round < PAIR_ROUNDS; round++) {
        await a.before?.();
        const t = performance.now();
        for (let i = 0; i < calls; i++) await a.run();
        const ours = (performance.now() - t) / calls;
        await b.before?.();
        ratios.push((await timeOnce(b.run)) / ours);
      }
      const s = stats(ratios);
      this.log(`  paired (${PAIR_ROUNDS} rounds, ${calls} call(s) of ${target.ours} to one of ${target.peer}): ratio median ${s.median.toFixed(2)}, range ${s.min.toFixed(2)}–${s.max.toFixed(2)}`);
      return { ours: target.ours, peer: target.peer, callsOfOurs: calls, ratios: ratios.map((r) => Math.round(r * 1000) / 1000), median: s.median };
    } catch (e) {
      this.log(`  paired rounds failed: ${message(e)}`);
      return undefined;
    }
  }

  private async timeRunner(c: { family: Family; op: string; name: string; shape: Record<string, number>; flops: number }, t: Timed): Promise<SuiteRunner> {
    const { runner } = t;
    const d = c.shape['d'] ?? 0, B = c.shape['B'] ?? 0;
    // A target's case runs whatever the budget; the two runners it compares get the (larger) target cap.
    const targetOfCase = TARGETS.find((g) => g.family === c.family && g.op === c.op && Object.entries(g.shape).every(([k, v]) => c.shape[k] === v));
    const isTarget = targetOfCase !== undefined && (targetOfCase.ours === runner || targetOfCase.peer === runner);
    const cap = isTarget ? Math.max(this.options.capMs, this.options.targetCapMs) : this.options.capMs;
    const predicted = this.rates.predict(runner, c.op, d, B, c.flops);
    const estimate = predicted ? { estimateMs: Math.round(predicted.ms * 1000) / 1000 } : {};
    // A target's runners are not skipped on a prediction: only a measured call over the target cap stops them.
    if (predicted && predicted.ms > cap && !isTarget) {
      return { runner, ok: false, ...estimate, skipped: `predicted ${seconds(predicted.ms)} a call (rate of ${predicted.from}), over the ${seconds(cap)} cap` };
    }
    const warm = this.rates.has(runner, c.op);
    if (!targetOfCase && this.overBudget()) {
      return { runner, ok: false, ...estimate, skipped: `this family's share of the run's ${seconds(this.options.budgetMs)} budget was spent before this case` };
    }
    try {
      await t.before?.();
      const firstMs = await timeOnce(t.run);
      if (t.verify) {
        const check = await t.verify();
        this.checks.push(check);
        if (!check.ok) return { runner, ok: false, firstMs, ...estimate, skipped: `refused by the check: ${check.detail}` };
      }
      await t.before?.();
      if (firstMs > this.options.capMs) {
        // A first call may be mostly compilation (TF.js compiles kernels for each new shape, even
        // when the op ran before at other sizes): one more call says what a call costs, unless the
        // op ran before and the first call took over ten caps (then it stands for the call: what
        // it compiled is a small part of it).
        const once = warm && firstMs > 10 * this.options.capMs;
        const onceMs = once ? firstMs : await timeOnce(t.run);
        this.rates.record(runner, c.op, d, B, c.flops, onceMs, c.name);
        if (onceMs > this.options.capMs) {
          return {
            runner, ok: false, firstMs, onceMs, ...estimate,
            skipped: once
              ? `its first call took ${seconds(onceMs)}, over ten times the ${seconds(this.options.capMs)} cap (the op ran before, at other sizes; kernels for new shapes compiled in this call): not repeated`
              : `the first call took ${seconds(firstMs)} and the second ${seconds(onceMs)}, over the ${seconds(this.options.capMs)} cap: not repeated`,
          };
        }
      }
      // Calls shorter than MIN_SAMPLE_MS are timed several to a sample: a page's clock may tick in 5 µs or 100 µs steps.
      const probeMs = predicted && predicted.ms > 10 * MIN_SAMPLE_MS ? Infinity : await timeOnce(t.run);
      const inner = probeMs >= MIN_SAMPLE_MS ? 1 : Math.min(1000, Math.ceil(MIN_SAMPLE_MS / Math.max(probeMs, 0.005)));
      const run = inner === 1 ? t.run : async () => {
        for (let i = 0; i < inner; i++) await t.run();
      };
      const reps: RepPolicy = { minReps: MIN_REPS, maxReps: MAX_REPS, targetMs: this.options.targetMs };
      const quiet = await timeQuietest(run, reps, this.meter);
      const { share, retries } = quiet, samples = quiet.samples.map((v) => v / inner);
      const ms = stats(samples);
      this.rates.record(runner, c.op, d, B, c.flops, ms.median, c.name);
      const limits = this.limitRates(t.limit);
      const gflops = (t.flops ?? c.flops) / (ms.median * 1e6), gbPerSec = t.bytes / (ms.median * 1e6);
      return {
        runner, ok: true, firstMs, ms, reps: samples.length, samples: roundSamples(samples), ...(inner > 1 ? { callsPerSample: inner } : {}),
        ...(share === null ? {} : { contention: Math.round(share * 1000) / 1000 }),
        ...(retries ? { retries } : {}),
        gflops, bytes: t.bytes, gbPerSec,
        ...(t.rows === undefined ? {} : { perSecond: t.rows / (ms.median / 1000) }),
        ...estimate,
        limit: t.limit,
        ...(limits ? { bwShare: gbPerSec / limits.copy.best, flopShare: gflops / limits.fma.best } : {}),
      };
    } catch (e) {
      return { runner, ok: false, error: message(e) };
    }
  }
}

function fmt(ms: number): string {
  return ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms >= 1 ? ms.toFixed(2) : ms.toFixed(3);
}

function describe(r: SuiteRunner): string {
  const head = `  ${r.runner.padEnd(24)}`;
  if (r.skipped) return `${head} skipped: ${r.skipped}`;
  if (!r.ok || !r.ms) return `${head} FAILED: ${r.error ?? ''}`;
  return `${head} first ${fmt(r.firstMs!).padStart(7)} ms  median ${fmt(r.ms.median).padStart(7)} ms  IQR ${fmt(r.ms.q1)}–${fmt(r.ms.q3)}  ×${r.reps}` +
    (r.contention !== undefined ? `  others ${Math.round(r.contention * 100)}%` : '') +
    `  ${(r.gflops ?? 0).toFixed(3)} GFLOP/s  ${(r.gbPerSec ?? 0).toFixed(3)} GB/s`;
}

// ---- shared setup ----

interface Peers {
  readonly gpu: Backend | Error;
  readonly cpu: Backend;
  readonly tfjs: TfjsEnv | null;
  readonly tfjsError?: string;
}

const TFJS_NOT_REQUESTED = 'TF.js peers not requested';

/**
 * TF.js runners of a family: one per TF.js backend (and route); none under --no-tfjs (a TF.js that
 * failed to load still lists them, and each reports why it cannot run).
 */
function tfjsRunners(peers: Peers, suffixes: readonly string[] = ['']): { name: string; backend: (typeof TFJS_BACKENDS)[number]; route: string }[] {
  if (!peers.tfjs && peers.tfjsError === TFJS_NOT_REQUESTED) return [];
  return TFJS_BACKENDS.flatMap((backend) => suffixes.map((route) => ({ name: `tfjs-${backend}${route ? ` ${route}` : ''}`, backend, route })));
}

function tfjsUnavailable(peers: Peers, backend: (typeof TFJS_BACKENDS)[number]): string | null {
  if (!peers.tfjs) return `TF.js not loaded: ${peers.tfjsError ?? 'not requested'}`;
  const b = peers.tfjs.backends[backend];
  return b.ok ? null : `TF.js ${backend} backend unavailable: ${b.error ?? ''}`;
}

/** Values uniform in [-1, 1) scaled by `scale`, rounded to f32. */
const scaled = (n: number, seed: number, scale: number): Float32Array => lcg(n, seed).map((v) => Math.fround(v * scale));

// ---- family: GEMM ----

async function gemmFamily(engine: Engine, peers: Peers, o: SuiteOptions, pruned: SuiteReport['pruned'][number][]): Promise<void> {
  for (const K of o.grid.K) {
    for (const d of o.grid.d) {
      for (const B of o.grid.B) {
        const shape = { K, d, B };
        if (K * d * d > MAX_STATE_VALUES) {
          pruned.push({ family: 'gemm', shape, why: `A holds K·d² = ${K * d * d} values, over ${MAX_STATE_VALUES} (memory)` });
          continue;
        }
        const x = lcg(B * d, SEED + K + d + B), a = lcg(K * d * d, SEED + 7 * K + d);
        const flops = 2 * K * B * d * d;
        const bytes = (w: number) => K * d * d * w + B * d * 4 + K * B * d * 4;
        let reference: Float64Array | null = null;
        const ref = () => (reference ??= plainBatchedGemm(Float64Array.from(x), Float64Array.from(a), new Float64Array(K * B * d), K, B, d));
        // |X|, |A| ≤ 1: each entry of C is a d-term dot product of terms ≤ 1.
        const bound = 1.01 * (d + 2) * U32 * d;
        const verifier = (runner: string, out: () => ArrayLike<number>) => async (): Promise<CheckRecord> => {
          const got = out(), want = ref();
          let maxError = got.length === want.length ? 0 : Infinity;
          for (let i = 0; i < want.length && maxError <= bound; i++) {
            const e = Math.abs(got[i]! - want[i]!);
            maxError = Number.isNaN(e) ? Infinity : Math.max(maxError, e);
          }
          const ok = maxError <= bound;
          return { family: 'gemm', shape, runner, ok, maxError, bound, detail: `C vs float64: max |error| ${maxError.toExponential(2)} (bound ${bound.toExponential(2)})` };
        };
        const made: (() => void)[] = [];
        const runners: Parameters<Engine['timeCase']>[1][number][] = [];
        try {
          for (const [name, b] of [['webgpu', peers.gpu], ['cpu', peers.cpu]] as const) {
            if (!engine.keep(name)) continue;
            if (b instanceof Error) {
              runners.push({ runner: name, error: message(b) });
              continue;
            }
            const tx = b.tensor(x, [B, d]), ta = b.tensor(a, [K, d, d]), tc = b.zeros([K, B, d]);
            made.push(() => [tx, ta, tc].forEach((t) => t.dispose()));
            let last: ArrayLike<number> = [];
            runners.push({
              runner: name, limit: name === 'webgpu' ? 'gpu' : 'js', bytes: bytes(name === 'webgpu' ? 4 : 8),
              run: async () => {
                gemm(b, tx, ta, { c: tc });
                last = await b.read(tc);
              },
              verify: verifier(name, () => last),
            });
          }
          if (engine.keep('plain-js')) {
            const x64 = Float64Array.from(x), a64 = Float64Array.from(a), c64 = new Float64Array(K * B * d);
            runners.push({
              runner: 'plain-js', limit: 'js', bytes: bytes(8),
              run: async () => plainBatchedGemm(x64, a64, c64, K, B, d),
              verify: verifier('plain-js', () => c64),
            });
          }
          for (const { name, backend } of tfjsRunners(peers)) {
            if (!engine.keep(name)) continue;
            const why = tfjsUnavailable(peers, backend);
            if (why) {
              runners.push({ runner: name, error: why });
              continue;
            }
            const env = peers.tfjs!;
            let op: ReturnType<typeof tfjsBatchedGemm> | null = null;
            let last: ArrayLike<number> = [];
            made.push(() => op?.dispose());
            runners.push({
              runner: name, limit: backend === 'webgpu' ? 'gpu' : 'js', bytes: bytes(4),
              before: async () => {
                await env.use(backend);
                op ??= tfjsBatchedGemm(env.tf, x, a, K, B, d);
              },
              run: async () => {
                last = await op!.run();
              },
              verify: verifier(name, () => last),
            });
          }
          await engine.timeCase({ family: 'gemm', op: 'gemm', name: `gemm K=${K} d=${d} B=${B}`, shape, flops }, runners);
        } finally {
          for (const free of made) free();
        }
      }
    }
  }
}

// ---- family: LinUCB ----

interface BanditPeer {
  readonly name: string;
  readonly limit: Limit;
  readonly valueBytes: number;
  readonly before?: () => Promise<void>;
  select(x: Float32Array): Promise<Int32Array>;
  update(arms: Int32Array, x: Float32Array, r: Float32Array): Promise<void>;
  dispose(): void;
}

/** History rows before the check: each arm played about twice, at least 32, at most 1024 (TF.js's webgpu update costs seconds a batch at small K). */
const historyRows = (K: number): number => Math.min(1024, Math.max(32, 2 * K));
const HISTORY_BATCH = 128;
const CHECK_ROUNDS = 2;
const CHECK_ROWS = 16;
const MIN_AGREEMENT = 0.9;
/** A float64 score gap under which two arms count as tied: f32 scores carry ~d·2⁻²⁴ relative error plus Sherman–Morrison drift. */
const nearTie = (d: number): number => 1e-4 * Math.max(1, d / 32);

async function linucbFamily(engine: Engine, peers: Peers, o: SuiteOptions, pruned: SuiteReport['pruned'][number][], setups: SetupRecord[]): Promise<void> {
  for (const K of o.grid.K) {
    for (const d of o.grid.d) {
      if (K * d * d > MAX_STATE_VALUES) {
        pruned.push({ family: 'linucb', shape: { K, d }, why: `A⁻¹ holds K·d² = ${K * d * d} values, over ${MAX_STATE_VALUES} (memory: ${(K * d * d * 4 / 2 ** 20).toFixed(0)} MiB f32, twice that float64, for each peer)` });
        continue;
      }
      if (engine.overBudget() && !TARGETS.some((t) => t.family === 'linucb' && t.shape.K === K && t.shape.d === d)) {
        pruned.push({ family: 'linucb', shape: { K, d }, why: "the family's share of the run budget was spent" });
        continue;
      }
      engine.log(`\nLinUCB K = ${K}, d = ${d}: setting up the peers`);
      const env = new SyntheticBandit(K, d, SEED);
      const live: BanditPeer[] = [];
      const failed = new Map<string, string>();
      const plain = new PlainLinUCB(K, d, { alpha: ALPHA, lambda: LAMBDA });
      const create = async (name: string, make: () => Promise<BanditPeer>): Promise<void> => {
        if (!engine.keep(name)) return;
        const t = performance.now();
        try {
          live.push(await make());
          setups.push({ family: 'linucb', shape: { K, d }, runner: name, createMs: performance.now() - t });
        } catch (e) {
          failed.set(name, message(e));
          setups.push({ family: 'linucb', shape: { K, d }, runner: name, error: message(e) });
        }
      };
      for (const [name, b] of [['webgpu', peers.gpu], ['cpu', peers.cpu]] as const) {
        await create(name, async () => {
          if (b instanceof Error) throw b;
          const model = await LinUCB.create(b, { arms: K, dim: d, alpha: ALPHA, lambda: LAMBDA, refactorEvery: 0, driftCheckEvery: 0 });
          return {
            name, limit: name === 'webgpu' ? 'gpu' : 'js', valueBytes: name === 'webgpu' ? 4 : 8,
            select: (x) => model.select(x), update: (a, x, r) => model.update(a, x, r), dispose: () => model.dispose(),
          };
        });
      }
      await create('plain-js', async () => ({
        name: 'plain-js', limit: 'js', valueBytes: 8,
        select: async (x) => plain.select(x), update: async (a, x, r) => plain.update(a, x, r), dispose: () => undefined,
      }));
      for (const { name, backend } of tfjsRunners(peers)) {
        await create(name, async () => {
          const why = tfjsUnavailable(peers, backend);
          if (why) throw new Error(why);
          const tfenv = peers.tfjs!;
          await tfenv.use(backend);
          const model = new TfjsLinUCB(tfenv.tf, K, d, ALPHA, LAMBDA);
          const before = () => tfenv.use(backend);
          return {
            name, limit: backend === 'webgpu' ? 'gpu' : 'js', valueBytes: 4, before,
            select: async (x) => (await before(), model.select(x)),
            update: async (a, x, r) => (await before(), model.update(a, x, r)),
            dispose: () => model.dispose(),
          };
        });
      }
      try {
        // The same history for every peer (plain-js is the float64 reference and always fed).
        const batches: [Int32Array, Float32Array, Float32Array][] = [];
        for (let done = 0; done < historyRows(K); done += HISTORY_BATCH) {
          const rows = Math.min(HISTORY_BATCH, historyRows(K) - done);
          const arms = env.randomArms(rows), x = env.contexts(rows);
          batches.push([arms, x, env.rewards(arms, x)]);
        }
        if (!live.some((p) => p.name === 'plain-js')) for (const [a, x, r] of batches) plain.update(a, x, r);
        for (const peer of [...live]) {
          const t = performance.now();
          try {
            for (const [a, x, r] of batches) await peer.update(a, x, r);
            const rec = setups.find((s) => s.family === 'linucb' && s.runner === peer.name && s.shape['K'] === K && s.shape['d'] === d);
            if (rec) Object.assign(rec, { historyMs: performance.now() - t });
          } catch (e) {
            failed.set(peer.name, `history update failed: ${message(e)}`);
          }
        }
        await linucbAgreement(engine, env, plain, live, failed, K, d, setups);
        for (const op of ['select', 'update'] as const) {
          for (const B of o.grid.B) {
            const shape = { K, d, B };
            const flops = op === 'select' ? B * K * (2 * d * d + 4 * d) : B * (6 * d * d + 4 * d);
            const bytes = (w: number) => op === 'select' ? K * d * d * w + K * d * w + B * d * 4 + B * 4 : B * (2 * d * d + 4 * d) * w;
            const pool = Array.from({ length: POOL }, () => {
              const arms = env.randomArms(B), x = env.contexts(B);
              return { arms, x, r: env.rewards(arms, x) };
            });
            const runners: Parameters<Engine['timeCase']>[1][number][] = [];
            for (const name of ['webgpu', 'cpu', 'plain-js', ...tfjsRunners(peers).map((r) => r.name)]) {
              if (!engine.keep(name)) continue;
              const why = failed.get(name);
              const peer = live.find((p) => p.name === name);
              if (why || !peer) {
                runners.push(why?.startsWith('refused') ? { runner: name, skipped: why } : { runner: name, error: why ?? 'not created' });
                continue;
              }
              let i = 0;
              runners.push({
                runner: name, limit: peer.limit, bytes: bytes(peer.valueBytes), rows: B,
                ...(peer.before ? { before: peer.before } : {}),
                run: op === 'select'
                  ? () => peer.select(pool[i++ % POOL]!.x)
                  : () => {
                    const { arms, x, r } = pool[i++ % POOL]!;
                    return peer.update(arms, x, r);
                  },
              });
            }
            await engine.timeCase({ family: 'linucb', op, name: `LinUCB ${op} K=${K} d=${d} B=${B}`, shape, flops }, runners);
          }
        }
      } finally {
        for (const p of live) p.dispose();
      }
    }
  }
}

/**
 * Rounds of select on the same contexts by every peer, compared with the float64 plain-JS model;
 * then the same update (the reference's choices) for all. A different choice counts as a near-tie
 * when the float64 scores of the two arms differ by ≤ nearTie(d).
 */
async function linucbAgreement(
  engine: Engine, env: SyntheticBandit, plain: PlainLinUCB, live: BanditPeer[], failed: Map<string, string>, K: number, d: number, setups: SetupRecord[],
): Promise<void> {
  const tally = new Map(live.filter((p) => p.name !== 'plain-js').map((p) => [p.name, { rows: 0, same: 0, ties: 0, worst: 0 }]));
  const firstCall = new Map<string, number>();
  for (let round = 0; round < CHECK_ROUNDS; round++) {
    const x = env.contexts(CHECK_ROWS);
    const want = plain.select(x);
    for (const peer of live) {
      if (peer.name === 'plain-js' || failed.has(peer.name)) continue;
      try {
        const t = performance.now();
        const got = await peer.select(x);
        if (!firstCall.has(peer.name)) firstCall.set(peer.name, performance.now() - t);
        const s = tally.get(peer.name)!;
        for (let i = 0; i < CHECK_ROWS; i++) {
          s.rows++;
          if (got[i] === want[i]) s.same++;
          else {
            const gap = Math.abs(plain.score(want[i]!, x, i) - plain.score(got[i]!, x, i));
            if (gap <= nearTie(d)) s.ties++;
            s.worst = Math.max(s.worst, gap);
          }
        }
      } catch (e) {
        failed.set(peer.name, `select failed in the check: ${message(e)}`);
      }
    }
    const r = env.rewards(want, x);
    for (const peer of live) {
      if (failed.has(peer.name)) continue;
      try {
        await peer.update(want, x, r);
      } catch (e) {
        failed.set(peer.name, `update failed in the check: ${message(e)}`);
      }
    }
    if (!live.some((p) => p.name === 'plain-js')) plain.update(want, x, r);
  }
  for (const [name, s] of tally) {
    const rec = setups.find((st) => st.family === 'linucb' && st.runner === name && st.shape['K'] === K && st.shape['d'] === d);
    if (rec && firstCall.has(name)) Object.assign(rec, { firstSelectMs: firstCall.get(name) });
    if (failed.has(name)) continue;
    const ok = s.rows > 0 && s.same / s.rows >= MIN_AGREEMENT && s.same + s.ties === s.rows;
    const detail = `chose the float64 reference's arm in ${s.same}/${s.rows} rows, ${s.ties} near-ties (gap ≤ ${nearTie(d).toExponential(0)}), worst gap ${s.worst.toExponential(2)}`;
    engine.checks.push({ family: 'linucb', shape: { K, d }, runner: name, ok, detail, maxError: s.worst, bound: nearTie(d) });
    engine.log(`  check ${name}: ${detail}${ok ? '' : '  REFUSED'}`);
    if (!ok) failed.set(name, `refused by the check: ${detail}`);
  }
}

// ---- family: NeuralUCB select ----

/** θ in mlpLayout order: W1 U(±sqrt(6/d)) (He-uniform: about half the ReLUs on), biases U(±0.1), w2 U(±sqrt(6/m)); Z's diagonal 1 + U(0, 9). */
export function makeNet(d: number, width = WIDTH): NeuralNet {
  const { layers, paramCount: p } = mlpLayout(d, [width]);
  const theta = lcg(p, SEED + d);
  for (const l of layers) {
    const s = Math.sqrt(6 / l.in);
    for (let q = l.weightOffset; q < l.biasOffset; q++) theta[q] = Math.fround(theta[q]! * s);
    for (let q = l.biasOffset; q < l.biasOffset + l.out; q++) theta[q] = Math.fround(theta[q]! * 0.1);
  }
  const zDiag = lcg(p, SEED + 2 * d).map((u) => Math.fround(1 + 4.5 * (u + 1)));
  return { dim: d, width, theta, zDiag, nu: NU };
}

/**
 * The NeuralUCB state every peer of a d scores with: the library's model (diagonal Z, width m)
 * after an update of STATE_ROWS rows and STATE_TRAIN_STEPS Adam steps, so that f ≠ 0 and Z is not
 * uniform; saved once, loaded on each backend, and θ and diag(Z) decoded from the saved bytes for
 * the other peers: all score with the same numbers.
 */
async function neuralState(b: Backend, d: number): Promise<{ bytes: Uint8Array; net: NeuralNet }> {
  const model = await NeuralUCB.create(b, { dim: d, hidden: [WIDTH], lambda: NEURAL_LAMBDA, nu: NU, confidence: 'diagonal', trainEvery: 0, seed: SEED });
  try {
    const x = scaled(STATE_ROWS * d, SEED + 9 * d, 1), w = lcg(d, SEED + 11);
    const r = Float32Array.from({ length: STATE_ROWS }, (_, i) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += x[i * d + j]! * w[j]!;
      return Math.cos(3 * s / Math.sqrt(d));
    });
    await model.update(new Int32Array(STATE_ROWS), x, r);
    await model.train(STATE_TRAIN_STEPS);
    const bytes = await model.save();
    const saved = decodeModel(bytes, 'NeuralUCB', [1]);
    const f32 = (a: unknown, name: string): Float32Array => {
      if (!(a instanceof Float32Array || a instanceof Float64Array)) throw new Error(`the saved NeuralUCB has no ${name}`);
      return Float32Array.from(a);
    };
    return { bytes, net: { dim: d, width: WIDTH, theta: f32(saved.arrays['theta'], 'theta'), zDiag: f32(saved.arrays['zDiag'], 'zDiag'), nu: NU } };
  } finally {
    model.dispose();
  }
}

async function neuralFamily(engine: Engine, peers: Peers, o: SuiteOptions, pruned: SuiteReport['pruned'][number][]): Promise<void> {
  const m = WIDTH;
  // d = 32 first: the target's, and the width the other benches use.
  for (const d of [...o.grid.d].sort((a, b) => Number(b === 32) - Number(a === 32))) {
    if (engine.overBudget()) {
      pruned.push({ family: 'neural', shape: { d }, why: "the family's share of the run budget was spent (the target's runners still run at d = 32)" });
      if (!(d === 32 && o.grid.K.includes(100))) continue;
    }
    const p = paramCount(d, m);
    let state: { bytes: Uint8Array; net: NeuralNet };
    try {
      state = await neuralState(peers.gpu instanceof Error ? peers.cpu : peers.gpu, d);
    } catch (e) {
      pruned.push({ family: 'neural', shape: { d }, why: `the model state could not be made: ${message(e)}` });
      continue;
    }
    const net = state.net;
    const plain = new PlainNeuralUCB(net);
    // The library's model per backend and TF.js's per TF.js backend, made once per d.
    const models = new Map<string, NeuralUCB | Error>();
    for (const [name, b] of [['webgpu', peers.gpu], ['cpu', peers.cpu]] as const) {
      if (!engine.keep(name)) continue;
      models.set(name, b instanceof Error ? b : await NeuralUCB.load(b, state.bytes).catch((e: unknown) => new Error(`load failed: ${message(e)}`)));
    }
    const tfModels = new Map<string, TfjsNeuralUCB>();
    try {
      for (const K of o.grid.K) {
        for (const B of o.grid.B) {
          const N = B * K, shape = { K, d, B };
          if (N * Math.max(d, m) > MAX_STATE_VALUES) {
            pruned.push({ family: 'neural', shape, why: `B·K·max(d, m) = ${N * Math.max(d, m)} feature/activation values, over ${MAX_STATE_VALUES} (memory)` });
            continue;
          }
          const flops = N * (2 * d * m + 2 * m) + N * (2 * d * m + 4 * m) + 4 * N;
          const bytes = N * d * 4 + 2 * p * 4 + B * 4;
          const pool = Array.from({ length: POOL }, (_, i) => scaled(N * d, SEED + 100 * i + K + B + d, 1));
          const checkX = pool[0]!;
          let ref: { scores: Float64Array; bounds: Float64Array } | null = null;
          const reference = () => (ref ??= plain.reference(checkX));
          const verify = (runner: string, chosen: () => Int32Array, scores: () => Promise<ArrayLike<number>>) => async (): Promise<CheckRecord> => {
            const { scores: want, bounds } = reference();
            const got = await scores();
            let worst = 0, worstBound = 0, bad = 0;
            for (let i = 0; i < want.length; i++) {
              const e = Math.abs(got[i]! - want[i]!);
              if (!(e <= bounds[i]!)) bad++;
              if (!(e / bounds[i]! <= worst / (worstBound || 1))) {
                worst = e;
                worstBound = bounds[i]!;
              }
            }
            // The choices: each chosen arm's float64 score within the two bounds of the best one's.
            const arms = chosen();
            let wrongArms = 0;
            for (let r = 0; r < B; r++) {
              let best = 0;
              for (let k = 1; k < K; k++) if (want[r * K + k]! > want[r * K + best]!) best = k;
              const c = arms[r]!, gap = want[r * K + best]! - want[r * K + c]!;
              if (!(c >= 0 && c < K && gap <= bounds[r * K + best]! + bounds[r * K + c]!)) wrongArms++;
            }
            const ok = bad === 0 && wrongArms === 0;
            return {
              family: 'neural', shape, runner, ok, maxError: worst, bound: worstBound,
              detail: `scores vs float64: ${bad}/${want.length} outside their bound (worst |error| ${worst.toExponential(2)} vs bound ${worstBound.toExponential(2)}); arms: ${wrongArms}/${B} not the best within the bounds`,
            };
          };
          const runners: Parameters<Engine['timeCase']>[1][number][] = [];
          const made: (() => void)[] = [];
          try {
            for (const [name, model] of models) {
              if (model instanceof Error) {
                runners.push({ runner: name, error: message(model) });
                continue;
              }
              let i = 0, last: Int32Array = new Int32Array(0);
              runners.push({
                runner: name, limit: name === 'webgpu' ? 'gpu' : 'js', bytes, rows: B,
                run: async () => {
                  last = await model.select(pool[i++ % POOL]!, { arms: K });
                },
                // The first call ran on pool[0] = checkX.
                verify: verify(name, () => last, () => model.scores(checkX, { arms: K })),
              });
            }
            if (engine.keep('plain-js')) {
              let i = 0, last: Int32Array = new Int32Array(0);
              runners.push({
                runner: 'plain-js', limit: 'js', bytes, rows: B,
                run: async () => {
                  last = plain.select(pool[i++ % POOL]!, K);
                },
                verify: verify('plain-js', () => last, async () => plain.scores(checkX)),
              });
            }
            for (const { name, backend, route } of tfjsRunners(peers, ['per-arm', 'vectorised'])) {
              if (!engine.keep(name)) continue;
              const why = tfjsUnavailable(peers, backend);
              if (why) {
                runners.push({ runner: name, error: why });
                continue;
              }
              const env = peers.tfjs!;
              const before = async () => {
                await env.use(backend);
                if (!tfModels.has(backend)) tfModels.set(backend, new TfjsNeuralUCB(env.tf, net));
              };
              let i = 0, last: Int32Array = new Int32Array(0);
              runners.push({
                runner: name, limit: backend === 'webgpu' ? 'gpu' : 'js', bytes, rows: B, before,
                run: async () => {
                  last = await tfModels.get(backend)!.select(pool[i++ % POOL]!, K, route as NeuralRoute);
                },
                verify: verify(name, () => last, () => tfModels.get(backend)!.readScores(checkX, route as NeuralRoute)),
              });
            }
            await engine.timeCase({ family: 'neural', op: 'select', name: `NeuralUCB select K=${K} d=${d} B=${B} (width ${m})`, shape, flops }, runners);
          } finally {
            for (const free of made) free();
          }
        }
      }
    } finally {
      for (const model of tfModels.values()) model.dispose();
      for (const model of models.values()) if (!(model instanceof Error)) model.dispose();
    }
  }
}

// ---- family: a NeuralUCB train step ----

/** Step size of the train step (the library's SGD default). */
const TRAIN_LR = 1e-2;
/**
 * A train step's θ against the float64 step, per parameter: 2u·|θ| for θ's own rounding plus
 * lr·TRAIN_TOL·‖g‖∞: an f32 gradient entry is a sum over B rows of products through sums of d + 1
 * and m + 1 terms, ≲ (B + d + m)·2⁻²⁴ ≈ 2e-5 relative to the largest entry here; TRAIN_TOL = 1e-4
 * leaves a margin of about 5.
 */
const TRAIN_TOL = 1e-4;

async function trainFamily(engine: Engine, peers: Peers, o: SuiteOptions): Promise<void> {
  const m = WIDTH;
  for (const d of o.grid.d) {
    const net = makeNet(d), p = paramCount(d, m), shape0 = { dim: d, hidden: [m] };
    for (const B of o.grid.B) {
      const shape = { d, B };
      const x = scaled(B * d, SEED + 13 * d + B, 1), y = lcg(B, SEED + 17 * d + B);
      const flops = B * (2 * d * m + 2 * m) + B * (2 * d * m + 6 * m) + 2 * p;
      const bytes = (w: number) => B * d * 4 + B * 4 + 3 * p * w;
      let ref: { theta: Float64Array; bound: Float64Array } | null = null;
      const reference = () => {
        if (ref) return ref;
        const t = new PlainMlpTrainer(net.theta, d, m, TRAIN_LR);
        t.step(x, y);
        let gMax = 0;
        for (const v of t.grad) gMax = Math.max(gMax, Math.abs(v));
        return (ref = { theta: t.theta, bound: t.theta.map((v) => 2 * U32 * Math.abs(v) + TRAIN_LR * TRAIN_TOL * gMax) });
      };
      const verify = (runner: string, theta: () => Promise<ArrayLike<number>>) => async (): Promise<CheckRecord> => {
        const { theta: want, bound } = reference();
        const got = await theta();
        let bad = 0, worst = 0, worstBound = 0;
        for (let q = 0; q < want.length; q++) {
          const e = Math.abs(got[q]! - want[q]!);
          if (!(e <= bound[q]!)) bad++;
          if (!(e / bound[q]! <= worst / (worstBound || 1))) {
            worst = e;
            worstBound = bound[q]!;
          }
        }
        if (got.length !== want.length) bad = want.length;
        return {
          family: 'train', shape, runner, ok: bad === 0, maxError: worst, bound: worstBound,
          detail: `θ after one step vs float64: ${bad}/${want.length} outside their bound (worst |error| ${worst.toExponential(2)} vs ${worstBound.toExponential(2)})`,
        };
      };
      const runners: Parameters<Engine['timeCase']>[1][number][] = [];
      const made: (() => void)[] = [];
      try {
        for (const [name, b] of [['webgpu', peers.gpu], ['cpu', peers.cpu]] as const) {
          if (!engine.keep(name)) continue;
          if (b instanceof Error) {
            runners.push({ runner: name, error: message(b) });
            continue;
          }
          const theta = b.tensor(net.theta, [p]), tx = b.tensor(x, [B, d]), ty = b.tensor(y, [B]), grad = b.zeros([p]);
          made.push(() => [theta, tx, ty, grad].forEach((t) => t.dispose()));
          runners.push({
            runner: name, limit: name === 'webgpu' ? 'gpu' : 'js', bytes: bytes(name === 'webgpu' ? 4 : 8), rows: B,
            run: () => {
              mlpLossGradient(b, theta, tx, ty, { ...shape0, loss: 'squared', scale: 1 / B, out: grad });
              optimizerStep(b, { params: theta, grad, kind: 'sgd', lr: TRAIN_LR });
              return b.sync();
            },
            verify: verify(name, () => b.read(theta)),
          });
        }
        if (engine.keep('plain-js')) {
          const t = new PlainMlpTrainer(net.theta, d, m, TRAIN_LR);
          runners.push({
            runner: 'plain-js', limit: 'js', bytes: bytes(8), rows: B,
            run: async () => t.step(x, y),
            verify: verify('plain-js', async () => t.theta),
          });
        }
        for (const { name, backend } of tfjsRunners(peers)) {
          if (!engine.keep(name)) continue;
          const why = tfjsUnavailable(peers, backend);
          if (why) {
            runners.push({ runner: name, error: why });
            continue;
          }
          const env = peers.tfjs!;
          let t: TfjsMlpTrainer | null = null;
          made.push(() => t?.dispose());
          runners.push({
            runner: name, limit: backend === 'webgpu' ? 'gpu' : 'js', bytes: bytes(4), rows: B,
            before: async () => {
              await env.use(backend);
              t ??= new TfjsMlpTrainer(env.tf, net.theta, d, m, TRAIN_LR, x, y);
            },
            run: () => t!.step(),
            verify: verify(name, () => t!.theta()),
          });
        }
        await engine.timeCase({ family: 'train', op: 'train', name: `NeuralUCB train step d=${d} B=${B} (width ${m}, SGD)`, shape, flops }, runners);
      } finally {
        for (const free of made) free();
      }
    }
  }
}

// ---- family: one-pass Jacobian vs K passes ----

async function jacobianFamily(engine: Engine, peers: Peers, o: SuiteOptions): Promise<void> {
  const d = 32, m = WIDTH, net = makeNet(d), p = paramCount(d, m);
  const shape0 = { dim: d, hidden: [m] };
  for (const K of [10, 100, 1000].filter((k) => o.grid.K.includes(k) || k === 100)) {
    const shape = { K, d };
    const flops = K * (2 * d * m + 2 * m) + K * (d * m + 2 * m + 1);
    const x = scaled(K * d, SEED + 5 + K, 1);
    const runners: Parameters<Engine['timeCase']>[1][number][] = [];
    const made: Tensor[] = [];
    try {
      const data = (b: Backend) => {
        const t = { theta: b.tensor(net.theta, [p]), x: b.tensor(x, [K, d]), j: b.zeros([K, p]) };
        made.push(t.theta, t.x, t.j);
        return t;
      };
      const gpu = peers.gpu;
      let gd: ReturnType<typeof data> | null = null;
      if (!(gpu instanceof Error)) gd = data(gpu);
      // Both webgpu routes write J over NaN and must agree to the bit (the same arithmetic in the same order).
      const identical = async (): Promise<CheckRecord> => {
        const b = gpu as Backend, g = gd!;
        const written = async (route: typeof perArmGradients) => {
          b.write(g.j, new Float32Array(K * p).fill(Number.NaN));
          route(b, g.theta, g.x, { ...shape0, out: g.j });
          return b.read(g.j);
        };
        const one = await written(perArmGradients);
        const many = await written(kPassGradients);
        let differ = 0;
        for (let i = 0; i < one.length; i++) if (!Object.is(one[i], many[i])) differ++;
        return { family: 'jacobian', shape, runner: 'webgpu k-pass', ok: differ === 0, detail: differ === 0 ? 'one-pass and K-pass J identical to the bit' : `${differ} of ${K * p} entries differ` };
      };
      for (const [name, kPass] of [['webgpu one-pass', false], ['webgpu k-pass', true]] as const) {
        if (!engine.keep(name)) continue;
        if (gpu instanceof Error || !gd) {
          runners.push({ runner: name, error: gpu instanceof Error ? message(gpu) : 'no data' });
          continue;
        }
        const g = gd;
        runners.push({
          runner: name, limit: 'gpu', bytes: K * p * 4, rows: K,
          run: () => {
            (kPass ? kPassGradients : perArmGradients)(gpu, g.theta, g.x, { ...shape0, out: g.j });
            return gpu.sync();
          },
          ...(kPass ? { verify: identical } : {}),
        });
      }
      // The profile of the two: the one-pass split into its forward pass (2 dispatches) and its
      // backward pass with the Jacobian's write (3 dispatches, from the saved h), and what a call
      // with the least GPU work costs (one dispatch on one element, then wait for the queue).
      if (!(gpu instanceof Error) && gd) {
        const g = gd;
        const fwd = mlpForward(gpu, g.theta, g.x, { ...shape0, saveActivations: true });
        made.push(fwd.output, ...fwd.activations);
        const forwardFlops = K * (2 * d * m + 2 * m);
        if (engine.keep('webgpu one-pass: forward')) {
          runners.push({
            runner: 'webgpu one-pass: forward', limit: 'gpu', bytes: K * d * 4 + K * (m + 1) * 4, rows: K, flops: forwardFlops,
            run: () => {
              const f = mlpForward(gpu, g.theta, g.x, { ...shape0, saveActivations: true });
              for (const t of [f.output, ...f.activations]) t.dispose();
              return gpu.sync();
            },
          });
        }
        if (engine.keep('webgpu one-pass: backward+J')) {
          runners.push({
            runner: 'webgpu one-pass: backward+J', limit: 'gpu', bytes: K * p * 4, rows: K, flops: flops - forwardFlops,
            run: () => {
              perArmGradients(gpu, g.theta, g.x, { ...shape0, activations: fwd.activations, out: g.j });
              return gpu.sync();
            },
          });
        }
        if (engine.keep('webgpu 1-element op')) {
          const one = gpu.tensor([1], [1]);
          made.push(one);
          runners.push({
            runner: 'webgpu 1-element op', limit: 'gpu', bytes: 8, rows: K, flops: 1,
            run: () => {
              scale(gpu, 1, one);
              return gpu.sync();
            },
          });
        }
      }
      if (engine.keep('cpu one-pass')) {
        const cd = data(peers.cpu);
        runners.push({
          runner: 'cpu one-pass', limit: 'js', bytes: K * p * 8, rows: K,
          run: () => {
            perArmGradients(peers.cpu, cd.theta, cd.x, { ...shape0, out: cd.j });
            return peers.cpu.sync();
          },
        });
      }
      await engine.timeCase({ family: 'jacobian', op: 'jacobian', name: `Jacobian K=${K} d=${d} (width ${m}, p = ${p})`, shape, flops }, runners);
    } finally {
      for (const t of made) t.dispose();
    }
  }
}

// ---- targets ----

function evaluateTargets(cases: readonly SuiteCase[]): TargetResult[] {
  return TARGETS.map((t) => {
    const base = { id: t.id, title: t.title, ours: t.ours, peer: t.peer, atLeast: t.atLeast };
    const c = cases.find((x) => x.family === t.family && x.op === t.op && Object.entries(t.shape).every(([k, v]) => x.shape[k] === v));
    if (!c) return { ...base, note: 'case not run (filtered out, pruned or over the budget)' };
    const ours = c.runners.find((r) => r.runner === t.ours), peer = c.runners.find((r) => r.runner === t.peer);
    const why = (r: SuiteRunner | undefined, who: string) => !r ? `${who} not run` : r.skipped ? `${who} skipped: ${r.skipped}` : `${who} failed: ${r.error ?? ''}`;
    if (!ours?.ms) return { ...base, note: why(ours, t.ours) };
    // A peer over the cap has one steady-state call measured.
    if (!peer?.ms) {
      const one = peer?.onceMs;
      if (one !== undefined) {
        const ratio = c.paired?.median ?? one / ours.ms.median;
        return {
          ...base, oursMs: ours.ms.median, peerMs: one, ratio, pass: ratio >= t.atLeast,
          note: `${why(peer, t.peer)}; the peer's time is that one call${c.paired ? `; ratio: median of ${c.paired.ratios.length} alternating rounds` : ''}`,
        };
      }
      return { ...base, oursMs: ours.ms.median, note: why(peer, t.peer) };
    }
    const ofMedians = peer.ms.median / ours.ms.median;
    // The Jacobian's profile: each route's time less a call's fixed cost (an empty sync).
    const part = (name: string) => c.runners.find((r) => r.runner === name);
    const fixed = part('webgpu 1-element op')?.ms?.median, fw = part('webgpu one-pass: forward'), bj = part('webgpu one-pass: backward+J');
    const K = c.shape['K'] ?? 1;
    const profile = fixed === undefined || !fw?.ms || !bj?.ms ? '' :
      `; profile: the least GPU work (one dispatch on one element, then wait for it) costs ${fixed.toFixed(2)} ms a call; the one-pass (${ours.ms.median.toFixed(2)} ms) timed in parts: forward pass ` +
      `${fw.ms.median.toFixed(2)} ms (2 dispatches), backward pass with the K×p Jacobian's write ${bj.ms.median.toFixed(2)} ms ` +
      `(3 dispatches; ${(bj.gbPerSec ?? 0).toFixed(2)} GB/s written${bj.bwShare !== undefined ? `, ${(bj.bwShare * 100).toFixed(0)}% of the adapter's copy rate` : ''}); ` +
      `the K-pass costs ${(peer.ms.median / K).toFixed(3)} ms a row, ${(peer.ms.median / K / 5).toFixed(3)} ms a dispatch (5 a row)`;
    const ratio = c.paired?.median ?? ofMedians;
    const tf = c.runners.filter((r) => r.runner.startsWith('tfjs-') && r.ms).sort((a, b) => a.ms!.median - b.ms!.median)[0];
    return {
      ...base, oursMs: ours.ms.median, peerMs: peer.ms.median, ratio, pass: ratio >= t.atLeast,
      ...(c.paired || profile ? {
        note: `${c.paired ? `median of ${c.paired.ratios.length} alternating rounds (${Math.min(...c.paired.ratios).toFixed(1)}–${Math.max(...c.paired.ratios).toFixed(1)}); the ratio of the two medians above: ${ofMedians.toFixed(2)}×` : ''}${profile}`,
      } : {}),
      ...(tf && t.family !== 'jacobian' ? { bestTfjs: { runner: tf.runner, ratio: tf.ms!.median / ours.ms.median } } : {}),
    };
  });
}

// ---- the run ----

/** Runs the suite; never throws for a failing runner or case (they are reported in the result). */
export async function runSuite(options: SuiteOptions, host: SuiteHost): Promise<SuiteReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = performance.now();
  const loadStart = await host.loadAverage?.();
  const gpu: Backend | Error = await createBackend({ kind: 'webgpu' }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  const cpu = await createBackend({ kind: 'cpu' });
  log(`webgpu: ${gpu instanceof Error ? `unavailable (${message(gpu)})` : gpu.info.summary}`);
  let tfjs: TfjsEnv | null = null, tfjsError: string | undefined;
  if (host.tfjs) {
    try {
      tfjs = await loadTfjs(host.tfjs);
      for (const [name, b] of Object.entries(tfjs.backends)) log(`tfjs-${name}: ${b.ok ? `ready ${JSON.stringify(b.info ?? {})}` : `unavailable (${b.error})`}`);
    } catch (e) {
      tfjsError = message(e);
      log(`TF.js: not loaded (${tfjsError})`);
    }
  } else tfjsError = TFJS_NOT_REQUESTED;
  log('calibrating…');
  let gpuCal: Calibration['gpu'];
  if (gpu instanceof Error) gpuCal = { error: message(gpu) };
  else {
    try {
      gpuCal = await calibrateGpu((gpu as Backend & { device: GPUDevice }).device);
    } catch (e) {
      gpuCal = { error: message(e) };
    }
  }
  const calibration: Calibration = { ...(gpuCal ? { gpu: gpuCal } : {}), js: calibrateJs() };
  if (calibration.gpu && 'copy' in calibration.gpu) {
    log(`adapter: copy ${calibration.gpu.copy.best.toFixed(2)} GB/s best, FMA ${calibration.gpu.fma.best.toFixed(2)} GFLOP/s best`);
  }
  log(`js thread: copy ${calibration.js.copy.best.toFixed(2)} GB/s best, FMA ${calibration.js.fma.best.toFixed(2)} GFLOP/s best`);

  const engine = new Engine(options, host.meter, calibration, log);
  const peers: Peers = { gpu, cpu, tfjs, ...(tfjsError ? { tfjsError } : {}) };
  const pruned: SuiteReport['pruned'][number][] = [];
  const setups: SetupRecord[] = [];
  const pending: string[] = [];
  const sharesLeft = () => options.families.slice(done).reduce((n, f) => n + BUDGET_SHARES[f], 0);
  let done = 0;
  for (const family of options.families) {
    engine.startFamily(BUDGET_SHARES[family], sharesLeft());
    done++;
    if (family === 'gemm') await gemmFamily(engine, peers, options, pruned);
    else if (family === 'linucb') await linucbFamily(engine, peers, options, pruned, setups);
    else if (family === 'neural') await neuralFamily(engine, peers, options, pruned);
    else if (family === 'jacobian') await jacobianFamily(engine, peers, options);
    else if (family === 'train') await trainFamily(engine, peers, options);
  }
  if (!(gpu instanceof Error)) gpu.dispose();
  cpu.dispose();
  const all = engine.cases.flatMap((c) => c.runners);
  const loadEnd = await host.loadAverage?.();
  return {
    suite: 'head-to-head',
    formatVersion: 1,
    date: new Date().toISOString(),
    quick: options.quick,
    runtime: host.runtime,
    webgpu: gpu instanceof Error ? { error: message(gpu) } : gpu.info,
    tfjs: tfjs ? { versions: tfjs.versions, backends: tfjs.backends } : { error: tfjsError ?? 'not loaded' },
    calibration,
    settings: {
      families: options.families, grid: options.grid, runners: options.runners, capMs: options.capMs, targetCapMs: options.targetCapMs, targetMs: options.targetMs,
      budgetMs: options.budgetMs, reps: { minReps: MIN_REPS, maxReps: MAX_REPS }, pool: POOL, maxStateValues: MAX_STATE_VALUES,
      linucb: { alpha: ALPHA, lambda: LAMBDA, history: 'min(1024, max(32, 2K)) rows in batches of 128, random arms, unit contexts', check: { rounds: CHECK_ROUNDS, rows: CHECK_ROWS, minAgreement: MIN_AGREEMENT, nearTie: '1e-4·max(1, d/32)' }, library: 'refactorEvery 0, driftCheckEvery 0' },
      neural: {
        width: WIDTH, nu: NU, lambda: NEURAL_LAMBDA, features: 'U(-1, 1)',
        state: `NeuralUCB (confidence 'diagonal', seed ${SEED}) after ${STATE_ROWS} update rows (reward cos(3·xᵀw/√d)) and ${STATE_TRAIN_STEPS} Adam steps, saved and loaded on each backend; θ and diag(Z) decoded for the other peers`,
      },
      train: { lr: TRAIN_LR, optimizer: 'SGD', theta: 'He-uniform weights, biases U(±0.1) (bench makeNet)', targets: 'U(-1, 1)', tolerance: TRAIN_TOL },
      jacobian: { d: 32, width: WIDTH, theta: 'He-uniform weights, biases U(±0.1) (bench makeNet)' },
      contention: { retryAbove: CONTENTION_RETRY, maxRetries: MAX_RETRIES, retryBudgetMs: RETRY_BUDGET_MS },
    },
    counting: COUNTING,
    setups,
    checks: engine.checks,
    cases: engine.cases,
    pruned,
    pending,
    targets: evaluateTargets(engine.cases),
    failures: all.filter((r) => !r.ok && !r.skipped).length,
    skipped: all.filter((r) => r.skipped).length,
    totalSeconds: (performance.now() - started) / 1000,
    ...(loadStart && loadEnd ? { loadAverage: { start: loadStart, end: loadEnd } } : {}),
  };
}

// ---- command line (shared by Node and the page, which passes its URL's query as argv) ----

function list(argv: readonly string[], name: string): string[] | undefined {
  const at = argv.indexOf(name);
  if (at < 0) return undefined;
  return (argv[at + 1] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function numbers(argv: readonly string[], name: string): number[] | undefined {
  const v = list(argv, name);
  if (!v) return undefined;
  const n = v.map(Number);
  if (n.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`${name} takes positive integers, got ${v.join(',')}`);
  return n;
}

function positive(argv: readonly string[], name: string, fallback: number): number {
  const at = argv.indexOf(name);
  if (at < 0) return fallback;
  const n = Number(argv[at + 1]);
  if (!(n > 0)) throw new Error(`${name} takes a positive number, got ${argv[at + 1]}`);
  return n;
}

export const USAGE = `options:
  --quick                 K 10/100/1000, d 8/32, B 1/64, shorter timing (a few minutes)
  --family a,b            ${FAMILIES.join(', ')} (default: all)
  --K 10,100 --d 32 --B 64   the grid (default K ${FULL_GRID.K.join('/')}, d ${FULL_GRID.d.join('/')}, B ${FULL_GRID.B.join('/')})
  --runners a,b           runners to keep: webgpu, cpu, plain-js, tfjs (all TF.js), tfjs-webgpu, 'tfjs-cpu per-arm', …
  --cap-s S               a call predicted or measured over S seconds is not repeated (default 2; 1 with --quick)
  --target-ms T           timed runs a runner: ≥ ${MIN_REPS}, then until T ms (default 250; 150 with --quick)
  --target-cap-s S        the cap for the runners the targets compare, at the targets' cases (default 120)
  --budget-s S            start no case after S seconds, the targets' runners excepted (default 540)
  --no-tfjs               no TF.js peers`;

export function parseOptions(argv: readonly string[]): SuiteOptions & { tfjs: boolean } {
  const quick = argv.includes('--quick');
  const base = quick ? QUICK_GRID : FULL_GRID;
  const families = (list(argv, '--family') ?? [...FAMILIES]) as Family[];
  for (const f of families) if (!FAMILIES.includes(f)) throw new Error(`--family: unknown family '${f}' (${FAMILIES.join(', ')})`);
  return {
    families,
    grid: { K: numbers(argv, '--K') ?? [...base.K], d: numbers(argv, '--d') ?? [...base.d], B: numbers(argv, '--B') ?? [...base.B] },
    runners: list(argv, '--runners') ?? [],
    quick,
    capMs: positive(argv, '--cap-s', quick ? 1 : 2) * 1000,
    targetMs: positive(argv, '--target-ms', quick ? 150 : 250),
    targetCapMs: positive(argv, '--target-cap-s', 120) * 1000,
    budgetMs: positive(argv, '--budget-s', 540) * 1000,
    tfjs: !argv.includes('--no-tfjs'),
  };
}
