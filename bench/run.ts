// The ops benchmark: each case on the webgpu backend, the cpu (float64) backend and a plain-JS
// loop, in the same process. The first run of each is timed apart (pipeline compilation, JIT
// warm-up); then `reps` runs, each ending in `backend.sync()` so queued GPU work is inside the
// timing (wall clock: SwiftShader has no timestamp queries). Results are checked against the
// plain-JS answer before timing; a runner that throws or disagrees is reported as failed and the
// others go on.
//
//   node build.mjs && node dist/bench/run.js [--quick] [--out DIR]
//   (--quick: 3 repetitions of smaller shapes, a smoke run; default: 10 repetitions)
//
// Writes a table to stdout and JSON to bench/results/<date>-<runtime>.json (or DIR). Timing,
// statistics and output are shared with the other benches (bench/lib.ts); `npm run bench` runs
// them all (bench/all.ts).
import { gemm, matVec, quadForm } from '../src/ops/index.js';
import { type Backend, type BackendInfo, type Tensor } from '../src/index.js';
import {
  F32_EPS, acquireBackends, backendInfo, dateStamp, fixedReps, lcg, message, resultsDir, runAsEntryPoint, runtimeInfo,
  stats, textTable, timeOnce, timeRepeated, writeResults, type CaseResult, type RunnerResult,
} from './lib.js';

/** One runner of a case: `setup` (untimed) returns `run` (timed) and `result` (read after warm-up). */
interface Runner {
  readonly name: string;
  setup(): Promise<{ run: () => Promise<void>; result: () => Promise<ArrayLike<number>>; dispose: () => void }>;
}

interface BenchCase {
  readonly name: string;
  readonly op: string;
  readonly shape: Readonly<Record<string, number>>;
  readonly flops: number;
  /** The plain-JS reference answer, and the absolute error allowed against it. */
  readonly reference: () => { values: ArrayLike<number>; bound: number };
  readonly runners: readonly Runner[];
}

async function runCase(c: BenchCase, reps: number, log: (line: string) => void): Promise<CaseResult> {
  log(`\n${c.name}`);
  let reference: { values: ArrayLike<number>; bound: number } | null = null;
  const results: RunnerResult[] = [];
  for (const runner of c.runners) {
    let dispose = (): void => undefined;
    try {
      const r = await runner.setup();
      dispose = r.dispose;
      const firstMs = await timeOnce(r.run);
      reference ??= c.reference();
      const got = await r.result();
      let maxError = got.length === reference.values.length ? 0 : Infinity;
      for (let i = 0; i < got.length && maxError <= reference.bound; i++) {
        const e = Math.abs(got[i]! - reference.values[i]!);
        maxError = Number.isNaN(e) ? Infinity : Math.max(maxError, e);
      }
      const check = { maxError, bound: reference.bound };
      if (!(maxError <= reference.bound)) {
        throw new Error(`result differs from plain JS: max |error| ${maxError} > bound ${reference.bound}`);
      }
      const samples = await timeRepeated(r.run, fixedReps(reps));
      const ms = stats(samples);
      const gflops = c.flops / (ms.median * 1e6);
      results.push({ runner: runner.name, ok: true, firstMs, ms, samples, reps, gflops, check });
      log(
        `  ${runner.name.padEnd(8)} first ${firstMs.toFixed(1).padStart(8)} ms   median ${ms.median.toFixed(2).padStart(9)} ms` +
          `   [${ms.min.toFixed(2)} … ${ms.max.toFixed(2)}]   ${gflops.toFixed(3).padStart(7)} GFLOP/s`,
      );
    } catch (e) {
      results.push({ runner: runner.name, ok: false, error: message(e) });
      log(`  ${runner.name.padEnd(8)} FAILED: ${message(e)}`);
    } finally {
      try {
        dispose();
      } catch {
        // A failed setup may leave nothing to dispose.
      }
    }
  }
  return { name: c.name, op: c.op, shape: c.shape, flops: c.flops, runners: results };
}

/** A runner on a backend: `make` creates the tensors and returns the op to time and its output. */
function backendRunner(name: string, backend: Backend | Error, make: (b: Backend) => { op: () => void; out: Tensor; owned: Tensor[] }): Runner {
  return {
    name,
    async setup() {
      if (backend instanceof Error) throw backend;
      const { op, out, owned } = make(backend);
      return {
        run: async () => {
          op();
          await backend.sync();
        },
        result: () => backend.read(out),
        dispose: () => owned.forEach((t) => t.dispose()),
      };
    },
  };
}

function jsRunner(name: string, run: () => ArrayLike<number>): Runner {
  return {
    name,
    async setup() {
      let last: ArrayLike<number> = [];
      return {
        run: async () => {
          last = run();
        },
        result: async () => last,
        dispose: () => undefined,
      };
    },
  };
}

// ---- plain-JS peers, written the way a careful user would: typed arrays, cache-friendly order ----

/** C (m×n) = A (m×k) · B (k×n), batched, i-l-j order over Float32Array. */
function jsGemm(a: Float32Array, b: Float32Array, c: Float32Array, batch: number, m: number, n: number, k: number): Float32Array {
  for (let t = 0; t < batch; t++) {
    const oa = t * m * k, ob = t * k * n, oc = t * m * n;
    c.fill(0, oc, oc + m * n);
    for (let i = 0; i < m; i++) {
      const ci = oc + i * n;
      for (let l = 0; l < k; l++) {
        const ail = a[oa + i * k + l]!, bl = ob + l * n;
        for (let j = 0; j < n; j++) c[ci + j]! += ail * b[bl + j]!;
      }
    }
  }
  return c;
}

function jsMatVec(a: Float32Array, x: Float32Array, y: Float32Array, batch: number, rows: number, cols: number): Float32Array {
  for (let t = 0; t < batch; t++) {
    const oa = t * rows * cols, ox = t * cols;
    for (let i = 0; i < rows; i++) {
      let s = 0;
      const ai = oa + i * cols;
      for (let j = 0; j < cols; j++) s += a[ai + j]! * x[ox + j]!;
      y[t * rows + i] = s;
    }
  }
  return y;
}

/** out[i, k] = x_iᵀ M_k x_i. */
function jsQuadForm(x: Float32Array, mats: Float32Array, out: Float32Array, rows: number, arms: number, d: number): Float32Array {
  for (let i = 0; i < rows; i++) {
    const xi = i * d;
    for (let k = 0; k < arms; k++) {
      const mk = k * d * d;
      let s = 0;
      for (let r = 0; r < d; r++) {
        let z = 0;
        const mr = mk + r * d;
        for (let j = 0; j < d; j++) z += mats[mr + j]! * x[xi + j]!;
        s += z * x[xi + r]!;
      }
      out[i * arms + k] = s;
    }
  }
  return out;
}

// ---- the cases ----

/** Error allowed for a sum of `terms` products each at most `scale` in size, in f32 (γ_terms·terms·scale). */
const sumBound = (terms: number, scale: number): number => 2 * terms * F32_EPS * terms * scale;

function gemmCase(gpu: Backend | Error, cpu: Backend, batch: number, m: number, n: number, k: number): BenchCase {
  const a = lcg(batch * m * k, 1), b = lcg(batch * k * n, 2);
  const shapeA = batch === 1 ? [m, k] : [batch, m, k], shapeB = batch === 1 ? [k, n] : [batch, k, n];
  const shapeC = batch === 1 ? [m, n] : [batch, m, n];
  const make = (be: Backend) => {
    const ta = be.tensor(a, shapeA), tb = be.tensor(b, shapeB), tc = be.zeros(shapeC);
    return { op: () => void gemm(be, ta, tb, { c: tc }), out: tc, owned: [ta, tb, tc] };
  };
  const out = new Float32Array(batch * m * n);
  return {
    op: 'gemm',
    name: batch === 1 ? `gemm ${m}×${n}×${k}` : `gemm batch ${batch} × ${m}×${n}×${k}`,
    shape: { batch, m, n, k },
    flops: 2 * batch * m * n * k,
    reference: () => ({ values: jsGemm(a, b, new Float32Array(batch * m * n), batch, m, n, k), bound: sumBound(k, 1) }),
    runners: [
      backendRunner('webgpu', gpu, make),
      backendRunner('cpu', cpu, make),
      jsRunner('js-f32', () => jsGemm(a, b, out, batch, m, n, k)),
    ],
  };
}

function matVecCase(gpu: Backend | Error, cpu: Backend, batch: number, rows: number, cols: number): BenchCase {
  const a = lcg(batch * rows * cols, 3), x = lcg(batch * cols, 4);
  const make = (be: Backend) => {
    const ta = be.tensor(a, [batch, rows, cols]), tx = be.tensor(x, [batch, cols]), ty = be.zeros([batch, rows]);
    return { op: () => void matVec(be, ta, tx, { y: ty }), out: ty, owned: [ta, tx, ty] };
  };
  const out = new Float32Array(batch * rows);
  return {
    op: 'matVec',
    name: `matVec batch ${batch} × ${rows}×${cols}`,
    shape: { batch, rows, cols },
    flops: 2 * batch * rows * cols,
    reference: () => ({ values: jsMatVec(a, x, new Float32Array(batch * rows), batch, rows, cols), bound: sumBound(cols, 1) }),
    runners: [
      backendRunner('webgpu', gpu, make),
      backendRunner('cpu', cpu, make),
      jsRunner('js-f32', () => jsMatVec(a, x, out, batch, rows, cols)),
    ],
  };
}

function quadFormCase(gpu: Backend | Error, cpu: Backend, rows: number, arms: number, d: number): BenchCase {
  const x = lcg(rows * d, 5), mats = lcg(arms * d * d, 6);
  const make = (be: Backend) => {
    const tx = be.tensor(x, [rows, d]), tm = be.tensor(mats, [arms, d, d]), to = be.zeros([rows, arms]);
    return { op: () => void quadForm(be, tx, tm, { out: to }), out: to, owned: [tx, tm, to] };
  };
  const out = new Float32Array(rows * arms);
  return {
    op: 'quadForm',
    name: `quadForm ${rows} contexts × ${arms} arms, d = ${d}`,
    shape: { rows, arms, d },
    flops: rows * arms * (2 * d * d + 2 * d),
    reference: () => ({ values: jsQuadForm(x, mats, new Float32Array(rows * arms), rows, arms, d), bound: sumBound(d * d + d, 1) }),
    runners: [
      backendRunner('webgpu', gpu, make),
      backendRunner('cpu', cpu, make),
      jsRunner('js-f32', () => jsQuadForm(x, mats, out, rows, arms, d)),
    ],
  };
}

export interface BenchOptions {
  readonly quick?: boolean;
  readonly log?: (line: string) => void;
}

export interface BenchReport {
  readonly date: string;
  readonly quick: boolean;
  readonly reps: number;
  readonly webgpu: BackendInfo | { readonly error: string };
  readonly cpu: BackendInfo;
  readonly cases: readonly CaseResult[];
  readonly failures: number;
}

/** Runs every case; never throws for a failing case (it is reported in the result). */
export async function runBenchmarks(options: BenchOptions = {}): Promise<BenchReport> {
  const quick = options.quick ?? false;
  const log = options.log ?? ((line: string) => console.log(line));
  const reps = quick ? 3 : 10;
  const { gpu, cpu } = await acquireBackends();
  log(`webgpu: ${gpu instanceof Error ? `unavailable (${message(gpu)})` : gpu.info.summary}`);
  log(`reps: ${reps} after one warm-up run${quick ? ' (--quick)' : ''}`);
  // --quick: a smoke run, smaller shapes (their numbers are not comparable with a full run's).
  const cases = quick
    ? [
        () => gemmCase(gpu, cpu, 1, 256, 256, 256),
        () => gemmCase(gpu, cpu, 1000, 8, 8, 8),
        () => matVecCase(gpu, cpu, 1000, 64, 64),
        () => quadFormCase(gpu, cpu, 16, 1000, 32),
      ]
    : [
        () => gemmCase(gpu, cpu, 1, 512, 512, 512),
        // LinUCB shapes: 10000 arms of d = 8 (A·A), θ_k = A_k⁻¹ b_k at d = 64.
        () => gemmCase(gpu, cpu, 10000, 8, 8, 8),
        () => matVecCase(gpu, cpu, 10000, 64, 64),
        () => quadFormCase(gpu, cpu, 64, 1000, 32),
      ];
  const results: CaseResult[] = [];
  for (const make of cases) results.push(await runCase(make(), reps, log));
  if (!(gpu instanceof Error)) gpu.dispose();
  cpu.dispose();
  const failures = results.reduce((n, c) => n + c.runners.filter((r) => !r.ok).length, 0);
  return {
    date: new Date().toISOString(),
    quick,
    reps,
    webgpu: backendInfo(gpu),
    cpu: cpu.info,
    cases: results,
    failures,
  };
}

function printTable(report: BenchReport, log: (line: string) => void): void {
  const rows = [['case', 'runner', 'first ms', 'median ms', 'IQR ms', 'min–max ms', 'GFLOP/s']];
  for (const c of report.cases) {
    for (const r of c.runners) {
      rows.push(
        r.ok && r.ms
          ? [c.name, r.runner, r.firstMs!.toFixed(1), r.ms.median.toFixed(2), `${r.ms.q1.toFixed(2)}–${r.ms.q3.toFixed(2)}`,
             `${r.ms.min.toFixed(2)}–${r.ms.max.toFixed(2)}`, r.gflops!.toFixed(3)]
          : [c.name, r.runner, 'FAILED', '', '', '', (r.error ?? '').slice(0, 80)],
      );
    }
  }
  log('');
  for (const line of textTable(rows, 2)) log(line);
}

/** The ops suite from the command line (`--quick`, `--out DIR`); returns the exit code (1 if a runner failed). */
export async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const report = await runBenchmarks({ quick });
  const log = (line: string) => console.log(line);
  printTable(report, log);
  const runtime = `node${process.versions.node.split('.')[0]}`;
  const full = { ...report, runtime: await runtimeInfo() };
  const [file] = await writeResults(await resultsDir(argv), `${dateStamp(report.date)}-${runtime}`, full);
  log(`\n${report.failures} failed runner(s); results written to ${file}`);
  return report.failures > 0 ? 1 : 0;
}

runAsEntryPoint('run', main);
