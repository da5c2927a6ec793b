// The NeuralUCB kernel-layer benchmark: the per-row gradients of a small MLP (d = 32, hidden [100],
// p = 3401 parameters) for K rows (arms), in one batched pass (`perArmGradients`) against the
// K-pass baseline a per-arm autograd loop amounts to (`kPassGradients`: a forward and a backward
// pass a row), and the matrix-free diagonal bonus (`diagonalBonus`, running its own forward pass,
// and given the activations `mlpForward` saved), on the webgpu backend; the one-pass Jacobian on
// the cpu backend (the float64 twin) as a further peer. One process, the same θ, x and Z for all.
//
//   npm run bench:neural                 K ∈ {10, 100, 1000}: 15 s here on a quiet machine, about a minute under load
//   node dist/bench/neural.js --quick    the same cases, shorter timing, under 30 s
//   options: --K 10,100 (rows), --target-ms T (timed runs a case, default 1000; 200 with --quick),
//   --cap-s S (a runner whose first call takes over S seconds is not repeated, default 10),
//   --out DIR, --name BASE; --render FILE.json writes FILE.md again from a results file.
//
// Method. Per K the data are the first K rows of one seeded set. Each runner's first call is timed
// apart (the webgpu ones compile their pipelines at K = 10). Then, before any repeated timing, the
// results are checked: the shared Jacobian `out` is filled with NaN, the one-pass and then (after
// filling it again) the K-pass Jacobian are written into it and read back, and must be identical
// to the bit; the float64 twin's Jacobian and the bonus against Σ_q J²/Z of the read-back one-pass
// J are reported too. Then calls are repeated (at least minReps, until the target time) and
// summarised by median and quartiles. Each timed call ends with a wait on its GPU work: the
// Jacobian runs with `backend.sync()` (a model keeps J on the device; reading K×p floats back would
// be timed instead), the bonus runs with a read of the K bonuses (what a model scores with). As in
// the other benches the share of the CPU others used while a runner was timed is recorded, and a
// runner timed under load is timed again (the quietest set kept). Wall clock: SwiftShader has no
// timestamp queries.
//
// Output: a table on stdout (K-pass ÷ one-pass per K; the issue's target is ≥ 10× at K = 100),
// bench/results/neural-<date>-node<N>.json (everything, samples included) and the same as .md.
import { diagonalBonus, kPassGradients, mlpForward, mlpLayout, perArmGradients, type MlpLayer } from '../src/ops/index.js';
import { type Backend, type Tensor } from '../src/index.js';
import {
  F32_EPS, acquireBackends, backendInfo, createCpuMeter, dateStamp, lcg, loadAverage, markdownTable, message, option, resultsDir,
  roundSamples, runAsEntryPoint, runtimeInfo, stats, textTable, timeOnce, writeResults,
  CONTENTION_RETRY, MAX_RETRIES, RETRY_BUDGET_MS, fmtContention, fmtMs, fmtSi, numberOption, renderFromJson, timeQuietest,
  type CaseResult, type RepPolicy, type RunnerResult,
} from './lib.js';

const DIM = 32;
const HIDDEN: readonly number[] = [100];
const SEED = 20240611;
/** The K-pass ÷ one-pass speed-up the issue asks for at K = TARGET_K. */
const TARGET_SPEEDUP = 10;
const TARGET_K = 100;
/** Dispatches of one Jacobian pass (forward L, backward L − 1, Jacobian blocks L; L = layers): a call of the one-pass, a row of the K-pass. */
const DISPATCHES = 3 * (HIDDEN.length + 1) - 1;
type Op = 'jacobian' | 'bonus' | 'bonusSaved';

// ---- data: one seeded set, the first K rows of x for each K ----

/** θ laid out by mlpLayout: weights uniform in ±sqrt(6/n_in) (He-uniform, so about half the ReLUs are on), biases in ±0.1. */
function makeTheta(layers: readonly MlpLayer[], p: number): Float32Array {
  const theta = lcg(p, SEED);
  for (const l of layers) {
    const scale = Math.sqrt(6 / l.in);
    for (let q = l.weightOffset; q < l.biasOffset; q++) theta[q] = Math.fround(theta[q]! * scale);
    for (let q = l.biasOffset; q < l.biasOffset + l.out; q++) theta[q] = Math.fround(theta[q]! * 0.1);
  }
  return theta;
}

/** Z's diagonal, λ = 1 plus a spread over a decade: NeuralUCB's Z = λI + Σ g gᵀ/m keeps it ≥ λ. */
const makeZ = (p: number): Float32Array => lcg(p, SEED + 2).map((u) => Math.fround(1 + 4.5 * (u + 1)));

// ---- what a case costs (per row; see COUNTING) ----

const forwardFlops = (layers: readonly MlpLayer[]) => layers.reduce((s, l) => s + 2 * l.in * l.out, 0);
const backwardFlops = (layers: readonly MlpLayer[]) => layers.slice(1).reduce((s, l) => s + 2 * l.in * l.out, 0);
const jacobianFlops = (layers: readonly MlpLayer[]) => forwardFlops(layers) + backwardFlops(layers) + layers.reduce((s, l) => s + l.in * l.out, 0);
const bonusOnlyFlops = (layers: readonly MlpLayer[]) => layers.reduce((s, l) => s + 2 * l.in * l.out + l.in + 2 * l.out, 0);
const flopsPerRow = (op: Op, layers: readonly MlpLayer[]): number =>
  op === 'jacobian' ? jacobianFlops(layers) : bonusOnlyFlops(layers) + backwardFlops(layers) + (op === 'bonus' ? forwardFlops(layers) : 0);

const COUNTING = {
  jacobianFlops: 'K·(Σ_l 2·n_{l−1}·n_l (forward) + Σ_{l≥2} 2·n_{l−1}·n_l (backward, Wᵀδ) + Σ_l n_{l−1}·n_l (δ⊗h)); ReLU, bias and copies not counted; the same for one-pass and K-pass',
  jacobianBytes: 'K·p·w: the Jacobian written once, w = 4 on webgpu (f32), 8 on cpu (float64); reads of θ and x not counted',
  bonusFlops: 'jacobian forward + backward, plus K·Σ_l (2·n_{l−1}·n_l + n_{l−1} + 2·n_l) for Σ δ²·(h²·1/Z); bonusSaved: without the forward pass',
  perSecond: 'rows (arms) per second: K / median time',
  end: 'Jacobian calls end with backend.sync() (J stays on the device); bonus calls end with a read of the K bonuses',
};

// ---- runners ----

/** The tensors of one K on one backend. */
interface Data {
  readonly theta: Tensor; readonly x: Tensor; readonly z: Tensor;
  /** The Jacobian both one-pass and K-pass write into, K×p. */
  readonly jOut: Tensor;
  readonly bonusOut: Tensor;
  /** h_1 of mlpForward(saveActivations) on θ and x, and its output. */
  readonly saved: readonly Tensor[];
}

function upload(backend: Backend, host: { theta: Float32Array; x: Float32Array; z: Float32Array }, K: number, p: number): Data {
  const made: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => (made.push(t), t);
  try {
    const theta = keep(backend.tensor(host.theta, [p], { label: 'bench θ' }));
    const x = keep(backend.tensor(host.x.subarray(0, K * DIM), [K, DIM], { label: 'bench x' }));
    const z = keep(backend.tensor(host.z, [p], { label: 'bench Z diagonal' }));
    const jOut = keep(backend.zeros([K, p], { label: 'bench J' }));
    const bonusOut = keep(backend.zeros([K], { label: 'bench bonus' }));
    const fwd = mlpForward(backend, theta, x, { dim: DIM, hidden: HIDDEN, saveActivations: true });
    made.push(fwd.output, ...fwd.activations);
    return { theta, x, z, jOut, bonusOut, saved: fwd.activations };
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}

function disposeData(d: Data): void {
  for (const t of [d.theta, d.x, d.z, d.jOut, d.bonusOut, ...d.saved]) t.dispose();
}

interface Runner {
  readonly name: string;
  readonly op: Op;
  readonly backend: 'webgpu' | 'cpu';
  /** Bytes of a value on this backend (f32 or float64). */
  readonly valueBytes: number;
  run(b: Backend, d: Data): Promise<unknown>;
}

const shape = { dim: DIM, hidden: HIDDEN };
const RUNNERS: readonly Runner[] = [
  {
    name: 'webgpu one-pass', op: 'jacobian', backend: 'webgpu', valueBytes: 4,
    run: (b, d) => (perArmGradients(b, d.theta, d.x, { ...shape, out: d.jOut }), b.sync()),
  },
  {
    name: 'webgpu k-pass', op: 'jacobian', backend: 'webgpu', valueBytes: 4,
    run: (b, d) => (kPassGradients(b, d.theta, d.x, { ...shape, out: d.jOut }), b.sync()),
  },
  {
    name: 'cpu one-pass', op: 'jacobian', backend: 'cpu', valueBytes: 8,
    run: (b, d) => (perArmGradients(b, d.theta, d.x, { ...shape, out: d.jOut }), b.sync()),
  },
  {
    name: 'webgpu', op: 'bonus', backend: 'webgpu', valueBytes: 4,
    run: (b, d) => b.read(diagonalBonus(b, d.theta, d.x, d.z, { ...shape, out: d.bonusOut })),
  },
  {
    name: 'webgpu', op: 'bonusSaved', backend: 'webgpu', valueBytes: 4,
    run: (b, d) => b.read(diagonalBonus(b, d.theta, d.x, d.z, { ...shape, activations: d.saved, out: d.bonusOut })),
  },
];

// ---- checks ----

export interface CheckResult {
  readonly K: number;
  /** One-pass vs K-pass Jacobian on webgpu, bit for bit (each written over NaN). */
  readonly kPassIdentical?: boolean;
  readonly kPassDiffering?: number;
  readonly kPassMaxDiff?: number;
  /** max |J_f32 − J_f64| over max |J_f64|: information (a ReLU at its kink can flip a whole row's block). */
  readonly cpuMaxDiff?: number;
  readonly cpuMaxAbs?: number;
  /** max relative |bonus − Σ_q J²/Z| of the read-back one-pass J, and the bound it is held to. */
  readonly bonusMaxRelError?: number;
  readonly bonusBound?: number;
  /** The bonus given saved activations equals the one running its own forward pass, bit for bit. */
  readonly bonusSavedIdentical?: boolean;
  readonly ok: boolean;
  readonly error?: string;
}

async function written(b: Backend, d: Data, run: () => unknown): Promise<Float64Array> {
  b.write(d.jOut, new Float32Array(d.jOut.size).fill(Number.NaN));
  run();
  return Float64Array.from(await b.read(d.jOut));
}

async function check(K: number, gpu: Backend | Error, cpu: Backend, gd: Data | null, cd: Data | null, p: number): Promise<CheckResult> {
  if (gpu instanceof Error || !gd) return { K, ok: false, error: 'no webgpu backend' };
  try {
    const one = await written(gpu, gd, () => perArmGradients(gpu, gd.theta, gd.x, { ...shape, out: gd.jOut }));
    const many = await written(gpu, gd, () => kPassGradients(gpu, gd.theta, gd.x, { ...shape, out: gd.jOut }));
    let differing = 0, maxDiff = 0;
    for (let i = 0; i < one.length; i++) {
      // Object.is: NaN (an element left unwritten) matches nothing, and −0 ≠ +0 to the bit.
      if (!Object.is(one[i], many[i])) {
        differing++;
        maxDiff = Math.max(maxDiff, Number.isNaN(one[i]! - many[i]!) ? Infinity : Math.abs(one[i]! - many[i]!));
      }
    }
    let cpuMaxDiff: number | undefined, cpuMaxAbs: number | undefined;
    if (cd) {
      perArmGradients(cpu, cd.theta, cd.x, { ...shape, out: cd.jOut });
      const twin = await cpu.read(cd.jOut);
      cpuMaxDiff = 0;
      cpuMaxAbs = 0;
      for (let i = 0; i < twin.length; i++) {
        cpuMaxDiff = Math.max(cpuMaxDiff, Math.abs(twin[i]! - one[i]!));
        cpuMaxAbs = Math.max(cpuMaxAbs, Math.abs(twin[i]!));
      }
    }
    // Σ_q J²/Z in float64 from the f32 J: the bonus sums p positive terms, each a few roundings
    // deep, so any summation order stays within (p + 8)·u of the sum (relative).
    const z = Float64Array.from(await gpu.read(gd.z));
    const bonus = Float64Array.from(await gpu.read(diagonalBonus(gpu, gd.theta, gd.x, gd.z, { ...shape, out: gd.bonusOut })));
    const bonusSaved = Float64Array.from(await gpu.read(diagonalBonus(gpu, gd.theta, gd.x, gd.z, { ...shape, activations: gd.saved, out: gd.bonusOut })));
    const bonusBound = (p + 8) * F32_EPS;
    let bonusMaxRelError = 0, bonusSavedIdentical = true;
    for (let n = 0; n < K; n++) {
      let s = 0;
      for (let q = 0; q < p; q++) s += one[n * p + q]! ** 2 / z[q]!;
      const e = Math.abs(bonus[n]! - s) / s;
      bonusMaxRelError = Math.max(bonusMaxRelError, Number.isNaN(e) ? Infinity : e);
      if (!Object.is(bonus[n], bonusSaved[n])) bonusSavedIdentical = false;
    }
    return {
      K, kPassIdentical: differing === 0, kPassDiffering: differing, kPassMaxDiff: maxDiff,
      ...(cpuMaxDiff === undefined ? {} : { cpuMaxDiff, cpuMaxAbs: cpuMaxAbs! }),
      bonusMaxRelError, bonusBound, bonusSavedIdentical,
      ok: differing === 0 && bonusMaxRelError <= bonusBound && bonusSavedIdentical,
    };
  } catch (e) {
    return { K, ok: false, error: message(e) };
  }
}

// ---- timing ----

export interface NeuralBenchOptions {
  readonly K: readonly number[];
  readonly reps: RepPolicy;
  /** A runner whose first call takes longer than this is not repeated, ms. */
  readonly capMs: number;
  readonly quick: boolean;
  readonly log?: (line: string) => void;
}

export interface NeuralReport {
  readonly suite: 'neural';
  readonly formatVersion: 1;
  readonly date: string;
  readonly quick: boolean;
  readonly backends: Readonly<Record<string, unknown>>;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly counting: Readonly<Record<string, string>>;
  readonly checks: readonly CheckResult[];
  readonly cases: readonly CaseResult[];
  readonly failures: number;
  readonly skipped: number;
  readonly totalSeconds: number;
  readonly loadAverage: { readonly start: readonly number[]; readonly end: readonly number[] };
}

/** Runs every K; never throws for a failing runner (it is reported in the result). */
export async function runNeuralBench(options: NeuralBenchOptions): Promise<NeuralReport> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = performance.now();
  const loadAtStart = await loadAverage();
  const { gpu, cpu } = await acquireBackends();
  log(`webgpu: ${gpu instanceof Error ? `unavailable (${message(gpu)})` : gpu.info.summary}`);
  const { layers, paramCount: p } = mlpLayout(DIM, HIDDEN);
  const maxK = Math.max(...options.K);
  const host = { theta: makeTheta(layers, p), x: lcg(maxK * DIM, SEED + 1), z: makeZ(p) };
  const meter = await createCpuMeter();
  const checks: CheckResult[] = [];
  const cases: CaseResult[] = [];

  for (const K of options.K) {
    log(`\nK = ${K}, d = ${DIM}, hidden [${HIDDEN.join(', ')}], p = ${p}`);
    let gd: Data | null = null, cd: Data | null = null;
    const setupError = new Map<'webgpu' | 'cpu', string>();
    if (gpu instanceof Error) setupError.set('webgpu', message(gpu));
    else {
      try {
        gd = upload(gpu, host, K, p);
      } catch (e) {
        setupError.set('webgpu', `setup failed: ${message(e)}`);
      }
    }
    try {
      cd = upload(cpu, host, K, p);
    } catch (e) {
      setupError.set('cpu', `setup failed: ${message(e)}`);
    }
    try {
      const backendOf = (r: Runner) => (r.backend === 'webgpu' ? gpu : cpu);
      const dataOf = (r: Runner) => (r.backend === 'webgpu' ? gd : cd);
      // The first calls before the check, so that they time pipeline compilation and not the check's.
      const first = new Map<Runner, number | string>();
      for (const r of RUNNERS) {
        const b = backendOf(r), d = dataOf(r);
        if (b instanceof Error || !d) continue;
        first.set(r, await timeOnce(() => r.run(b, d)).catch((e: unknown) => message(e)));
      }
      const c = await check(K, gpu, cpu, gd, cd, p);
      checks.push(c);
      log(c.error ? `  check FAILED: ${c.error}` :
        `  check: one-pass vs k-pass ${c.kPassIdentical ? 'identical' : `DIFFER in ${c.kPassDiffering} of ${K * p} (max ${c.kPassMaxDiff})`}` +
        (c.cpuMaxDiff === undefined ? '' : `; f32 vs float64 twin max |Δ| ${c.cpuMaxDiff.toExponential(2)} (max |J| ${c.cpuMaxAbs!.toFixed(2)})`) +
        `; bonus vs Σ J²/Z rel. ${c.bonusMaxRelError!.toExponential(2)} (bound ${c.bonusBound!.toExponential(2)})` +
        `; bonus with saved h ${c.bonusSavedIdentical ? 'identical' : 'DIFFERS'}`);

      const results = new Map<Op, RunnerResult[]>();
      for (const r of RUNNERS) {
        const list = results.get(r.op) ?? [];
        results.set(r.op, list);
        const b = backendOf(r), d = dataOf(r), f = first.get(r);
        let res: RunnerResult;
        if (b instanceof Error || !d) res = { runner: r.name, ok: false, error: setupError.get(r.backend) ?? 'no backend' };
        else if (typeof f === 'string') res = { runner: r.name, ok: false, error: f };
        else if (f! > options.capMs) res = { runner: r.name, ok: false, firstMs: f!, skipped: `first call took ${(f! / 1000).toFixed(1)} s, over the ${(options.capMs / 1000).toFixed(1)} s cap: not repeated` };
        else {
          try {
            const { samples, share, retries } = await timeQuietest(() => r.run(b, d), options.reps, meter);
            const ms = stats(samples);
            const flops = K * flopsPerRow(r.op, layers);
            const bytes = r.op === 'jacobian' ? K * p * r.valueBytes : undefined;
            res = {
              runner: r.name, ok: true, firstMs: f!, ms, reps: samples.length, samples: roundSamples(samples),
              ...(share === null ? {} : { contention: Math.round(share * 1000) / 1000 }), ...(retries ? { retries } : {}),
              gflops: flops / (ms.median * 1e6), perSecond: K / (ms.median / 1000),
              ...(bytes === undefined ? {} : { bytes, gbPerSec: bytes / (ms.median * 1e6) }),
              ...(r.name === 'webgpu k-pass' && c.kPassIdentical !== undefined ? { check: { maxError: c.kPassMaxDiff!, bound: 0 } } : {}),
            };
          } catch (e) {
            res = { runner: r.name, ok: false, firstMs: f!, error: message(e) };
          }
        }
        list.push(res);
        log(describe(`${r.op} K=${K}`, res));
      }
      for (const [op, runners] of results) {
        cases.push({ name: `${op} K=${K}`, op, shape: { K, d: DIM, hidden: HIDDEN[0]!, p }, flops: K * flopsPerRow(op, layers), runners });
      }
    } finally {
      if (gd) disposeData(gd);
      if (cd) disposeData(cd);
    }
  }
  if (!(gpu instanceof Error)) gpu.dispose();
  cpu.dispose();
  const all = cases.flatMap((c) => c.runners);
  return {
    suite: 'neural',
    formatVersion: 1,
    date: new Date().toISOString(),
    quick: options.quick,
    backends: { webgpu: backendInfo(gpu), cpu: cpu.info },
    settings: {
      K: options.K, dim: DIM, hidden: HIDDEN, paramCount: p, seed: SEED, reps: options.reps, capMs: options.capMs,
      data: 'θ: weights U(±sqrt(6/n_in)), biases U(±0.1); x: U(-1, 1), the first K rows of one set; Z diagonal: 1 + U(0, 9) (32-bit LCG, bench/lib.ts)',
      reuse: 'one J (K×p) and one bonus (K) out tensor per backend, reused by every run; activations for bonusSaved from one untimed mlpForward',
      target: { speedup: TARGET_SPEEDUP, atK: TARGET_K },
      contention: { retryAbove: CONTENTION_RETRY, maxRetries: MAX_RETRIES, retryBudgetMs: RETRY_BUDGET_MS },
    },
    counting: COUNTING,
    checks,
    cases,
    failures: all.filter((r) => !r.ok && !r.skipped).length + checks.filter((c) => !c.ok).length,
    skipped: all.filter((r) => r.skipped).length,
    totalSeconds: (performance.now() - started) / 1000,
    loadAverage: { start: loadAtStart, end: await loadAverage() },
  };
}

// ---- reporting ----

function describe(name: string, r: RunnerResult): string {
  const head = `  ${name.padEnd(20)} ${r.runner.padEnd(16)}`;
  if (r.skipped) return `${head} skipped: ${r.skipped}`;
  if (!r.ok || !r.ms) return `${head} FAILED: ${r.error ?? ''}`;
  return `${head} first ${fmtMs(r.firstMs!).padStart(7)} ms  median ${fmtMs(r.ms.median).padStart(7)} ms  ` +
    `IQR ${fmtMs(r.ms.q1)}–${fmtMs(r.ms.q3)}  ×${r.reps}` + (r.contention !== undefined ? `  others ${fmtContention(r)}` : '');
}

const find = (report: NeuralReport, op: Op, K: number, runner: string): RunnerResult | undefined =>
  report.cases.find((c) => c.op === op && c.shape['K'] === K)?.runners.find((r) => r.runner === runner);

const cell = (r: RunnerResult | undefined): string =>
  !r ? '' : r.ok && r.ms ? `${fmtMs(r.ms.median)} (${fmtMs(r.ms.q1)}–${fmtMs(r.ms.q3)})` : r.skipped ? 'skipped' : 'failed';

/** K-pass ÷ one-pass from the medians, or undefined. */
function speedup(report: NeuralReport, K: number): number | undefined {
  const one = find(report, 'jacobian', K, 'webgpu one-pass'), many = find(report, 'jacobian', K, 'webgpu k-pass');
  return one?.ms && many?.ms ? many.ms.median / one.ms.median : undefined;
}

/** One row per K: medians (and IQR), ms. */
function summaryRows(report: NeuralReport): string[][] {
  const Ks = report.settings['K'] as number[];
  const rows = [[
    'K', 'one-pass ms', 'K-pass ms', 'speed-up (K-pass ÷ one-pass)', 'identical', 'bonus ms', 'bonus (saved h) ms', 'cpu one-pass ms', 'cpu ÷ webgpu one-pass',
  ]];
  for (const K of Ks) {
    const s = speedup(report, K);
    const chk = report.checks.find((c) => c.K === K);
    const one = find(report, 'jacobian', K, 'webgpu one-pass'), cpuOne = find(report, 'jacobian', K, 'cpu one-pass');
    rows.push([
      String(K), cell(one), cell(find(report, 'jacobian', K, 'webgpu k-pass')),
      s === undefined ? '' : `${s.toFixed(1)}×`,
      chk?.kPassIdentical === undefined ? 'not checked' : chk.kPassIdentical ? 'yes' : `NO (${chk.kPassDiffering} differ)`,
      cell(find(report, 'bonus', K, 'webgpu')), cell(find(report, 'bonusSaved', K, 'webgpu')), cell(cpuOne),
      one?.ms && cpuOne?.ms ? `${(cpuOne.ms.median / one.ms.median).toFixed(2)}×` : '',
    ]);
  }
  return rows;
}

function targetLine(report: NeuralReport): string {
  const s = speedup(report, TARGET_K);
  if (s === undefined) return `target (K-pass ÷ one-pass ≥ ${TARGET_SPEEDUP}× at K = ${TARGET_K}): not measured`;
  return `target (K-pass ÷ one-pass ≥ ${TARGET_SPEEDUP}× at K = ${TARGET_K}): ${s.toFixed(1)}×, ${s >= TARGET_SPEEDUP ? 'met' : 'NOT met'}`;
}

function detailRows(report: NeuralReport): string[][] {
  const rows = [['op', 'K', 'runner', 'first ms', 'median ms', 'IQR ms', 'min–max ms', 'reps', 'others CPU', 'rows/s', 'GFLOP/s', 'GB/s', 'note']];
  for (const c of report.cases) {
    for (const r of c.runners) {
      const head = [c.op ?? '', String(c.shape['K']), r.runner];
      if (!r.ok || !r.ms) {
        rows.push([...head, r.firstMs === undefined ? '' : fmtMs(r.firstMs), '', '', '', '', '', '', '', '', r.skipped ? `skipped: ${r.skipped}` : `FAILED: ${r.error ?? ''}`]);
        continue;
      }
      rows.push([
        ...head, fmtMs(r.firstMs!), fmtMs(r.ms.median), `${fmtMs(r.ms.q1)}–${fmtMs(r.ms.q3)}`, `${fmtMs(r.ms.min)}–${fmtMs(r.ms.max)}`,
        String(r.reps), fmtContention(r), fmtSi(r.perSecond!), r.gflops!.toFixed(2), r.gbPerSec === undefined ? '' : r.gbPerSec.toFixed(3), '',
      ]);
    }
  }
  return rows;
}

function checkRows(report: NeuralReport): string[][] {
  return [
    ['K', 'one-pass vs K-pass', 'f32 vs float64 twin: max |ΔJ| (max |J|)', 'bonus vs Σ J²/Z: max rel. error (bound)', 'bonus with saved h', 'verdict'],
    ...report.checks.map((c) => c.error ? [String(c.K), '', '', '', '', `error: ${c.error}`] : [
      String(c.K),
      c.kPassIdentical ? 'identical (bit for bit)' : `${c.kPassDiffering} differ, max ${c.kPassMaxDiff}`,
      c.cpuMaxDiff === undefined ? '' : `${c.cpuMaxDiff.toExponential(2)} (${c.cpuMaxAbs!.toFixed(2)})`,
      `${c.bonusMaxRelError!.toExponential(2)} (${c.bonusBound!.toExponential(2)})`,
      c.bonusSavedIdentical ? 'identical' : 'differs', c.ok ? 'ok' : 'FAILED',
    ]),
  ];
}

/** The markdown page of a report (as written to JSON, runtime included). */
export function renderMarkdown(report: NeuralReport & { readonly runtime: Record<string, string | number> }): string {
  const runtime = report.runtime;
  const gpu = report.backends['webgpu'] as { summary?: string; error?: string };
  const s = report.settings as { reps: RepPolicy; capMs: number; hidden: number[]; dim: number; paramCount: number; data: string; reuse: string };
  return [
    `# NeuralUCB kernel-layer benchmark — ${report.date.slice(0, 10)}${report.quick ? ' (--quick)' : ''}`,
    '',
    `- adapter: ${gpu.summary ?? `webgpu unavailable (${gpu.error})`}`,
    `- runtime: Node ${runtime['version']} on ${runtime['platform']}/${runtime['arch']}, ${runtime['cpus']} CPUs (${runtime['cpuModel']})`,
    `- network: d = ${s.dim}, hidden [${s.hidden.join(', ')}], p = ${s.paramCount} parameters; ${s.data}`,
    `- runners in one process on the same data: \`perArmGradients\` (one pass for all K rows) and \`kPassGradients\` (a forward and backward pass a row) on webgpu (f32), \`perArmGradients\` on cpu (float64 twin), \`diagonalBonus\` on webgpu running its own forward pass and given the activations of \`mlpForward\`; ${s.reuse}`,
    `- method: first call timed apart (pipeline compilation at K = ${(report.settings['K'] as number[])[0]}); results checked before repeated timing; then ≥ ${s.reps.minReps} calls until ${s.reps.targetMs} ms (≤ ${s.reps.maxReps}); median and quartiles; wall clock; Jacobian calls end with \`backend.sync()\`, bonus calls with a read of the K bonuses`,
    `- others CPU: the share of the machine's CPU time other processes used while a runner was timed; above ${CONTENTION_RETRY * 100}% it was timed again (at most ${MAX_RETRIES} more sets, while a set took under ${RETRY_BUDGET_MS / 1000} s) and the quietest set kept`,
    `- ${report.failures} failed, ${report.skipped} skipped; ${report.totalSeconds.toFixed(0)} s in all; load average ${report.loadAverage.start.join(' ')} at the start, ${report.loadAverage.end.join(' ')} at the end`,
    '',
    '## Per K: median (IQR) ms a call',
    '',
    ...markdownTable(summaryRows(report), 1),
    '',
    targetLine(report),
    '',
    `The K-pass runs ${DISPATCHES}K dispatches a call and the one-pass ${DISPATCHES}, so the two react differently to other load on the machine: compare speed-ups between runs only where "others CPU" (below) was low in both.`,
    '',
    '## Checks (before timing)',
    '',
    ...markdownTable(checkRows(report), 1),
    '',
    '## Every runner',
    '',
    ...markdownTable(detailRows(report), 3),
    '',
    '## What is counted',
    '',
    ...Object.entries(report.counting).map(([k, v]) => `- ${k}: ${v}`),
    '',
  ].join('\n');
}

/** The NeuralUCB bench from the command line (see the top of this file); returns the exit code (1 if a runner or check failed). */
export async function main(argv: readonly string[]): Promise<number> {
  const render = option(argv, '--render');
  if (render) {
    await renderFromJson(render, renderMarkdown);
    return 0;
  }
  const quick = argv.includes('--quick');
  const kList = option(argv, '--K');
  const K = kList ? kList.split(',').map(Number) : [10, 100, 1000];
  if (K.some((k) => !Number.isInteger(k) || k < 1)) throw new Error(`--K takes positive integers, got ${kList}`);
  const targetMs = numberOption(argv, '--target-ms', quick ? 200 : 1000);
  const reps: RepPolicy = { minReps: quick ? 3 : 5, maxReps: 200, targetMs };
  const log = (line: string) => console.log(line);
  const report = await runNeuralBench({ K, reps, capMs: numberOption(argv, '--cap-s', 10) * 1000, quick, log });
  log('');
  log('median (IQR) ms a call');
  for (const line of textTable(summaryRows(report), 1)) log(line);
  log(targetLine(report));
  const runtime = await runtimeInfo();
  const name = option(argv, '--name') ?? `neural-${dateStamp(report.date)}-node${process.versions.node.split('.')[0]}${quick ? '-quick' : ''}`;
  const full = { ...report, runtime };
  const files = await writeResults(await resultsDir(argv), name, full, renderMarkdown(full));
  log(`\n${report.failures} failed, ${report.skipped} skipped, ${report.totalSeconds.toFixed(0)} s; results written to ${files.join(' and ')}`);
  return report.failures > 0 ? 1 : 0;
}

runAsEntryPoint('neural', main);
