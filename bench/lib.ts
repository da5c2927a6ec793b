// What every benchmark of the suite shares: seeded data, timing (first run apart, then repeated
// runs), robust statistics, the result records, text and markdown tables, and writing results.
// Node-only pieces (fs, os) are imported lazily, so a bench module also loads in a page.
import { createBackend, type Backend, type BackendInfo } from '../src/index.js';

export const F32_EPS = 2 ** -24;

/** Distribution of repeated timings, ms. q1/q3 are the quartiles (linear interpolation). */
export interface Stats {
  readonly median: number; readonly min: number; readonly max: number; readonly q1: number; readonly q3: number;
}

/** One runner (peer) of a case. Fields past `ok` are filled as far as the run got. */
export interface RunnerResult {
  readonly runner: string;
  readonly ok: boolean;
  readonly error?: string;
  /** Why the runner was not timed (over the time cap, disagreed with the reference, …); `ok` is false. */
  readonly skipped?: string;
  /** The first run (pipeline compilation, JIT warm-up), ms. */
  readonly firstMs?: number;
  /** Steady-state runs, ms. */
  readonly ms?: Stats;
  readonly samples?: readonly number[];
  readonly reps?: number;
  /** FLOP rate from the median. */
  readonly gflops?: number;
  /** Decisions (rows) per second from the median. */
  readonly perSecond?: number;
  /** Bytes the op moves once per call (see the report's `counting`), and that over the median. */
  readonly bytes?: number;
  readonly gbPerSec?: number;
  /** The single-run time predicted before running, ms (from FLOPs and a measured rate). */
  readonly estimateMs?: number;
  /** Share of the machine's CPU time other processes used while this runner was timed (0…1). */
  readonly contention?: number;
  /** Times the case was run again because others loaded the machine; the least loaded run is kept. */
  readonly retries?: number;
  /** Largest |this − reference| and the bound it was held to. */
  readonly check?: { readonly maxError: number; readonly bound: number };
}

export interface CaseResult {
  readonly name: string;
  /** What is timed (e.g. 'gemm', 'select', 'update'); absent in suites with one kind of case. */
  readonly op?: string;
  readonly shape: Readonly<Record<string, number>>;
  readonly flops: number;
  readonly runners: readonly RunnerResult[];
}

/**
 * How many timed runs: at least `minReps`, then more until `targetMs` of timed runs have passed,
 * at most `maxReps`. A fixed count is `{ minReps: n, maxReps: n, targetMs: 0 }`.
 */
export interface RepPolicy {
  readonly minReps: number;
  readonly maxReps: number;
  readonly targetMs: number;
}

export const fixedReps = (reps: number): RepPolicy => ({ minReps: reps, maxReps: reps, targetMs: 0 });

/** `n` values uniform in [-1, 1), from a 32-bit LCG: the same data in every runtime. */
export function lcg(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32) * 2 - 1;
  }
  return out;
}

/** `rows` unit vectors of length d (f32). */
export function unitRows(rows: number, d: number, seed: number): Float32Array {
  const x = lcg(rows * d, seed);
  for (let i = 0; i < rows; i++) {
    let n = 0;
    for (let j = 0; j < d; j++) n += x[i * d + j]! ** 2;
    n = Math.sqrt(n) || 1;
    for (let j = 0; j < d; j++) x[i * d + j]! /= n;
  }
  return x;
}

/** A synthetic disjoint linear bandit, reproducible from (K, d, seed): rewards θ*_aᵀx + U(-0.1, 0.1). */
export class SyntheticBandit {
  private readonly theta: Float32Array;
  private seed: number;
  constructor(readonly K: number, readonly d: number, seed: number) {
    this.theta = unitRows(K, d, seed ^ (K * 7919 + d));
    this.seed = seed + K * 31 + d;
  }
  private next(): number {
    return (this.seed = (this.seed + 0x9e3779b9) >>> 0);
  }
  contexts(rows: number): Float32Array {
    return unitRows(rows, this.d, this.next());
  }
  randomArms(rows: number): Int32Array {
    const u = lcg(rows, this.next());
    return Int32Array.from(u, (v) => Math.min(this.K - 1, Math.floor(((v + 1) / 2) * this.K)));
  }
  rewards(arms: Int32Array, x: Float32Array): Float32Array {
    const noise = lcg(arms.length, this.next()), d = this.d;
    return Float32Array.from(arms, (a, i) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += this.theta[a * d + j]! * x[i * d + j]!;
      return s + 0.1 * noise[i]!;
    });
  }
}
export function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => {
    const pos = q * (s.length - 1), lo = Math.floor(pos), hi = Math.ceil(pos);
    return s[lo]! + (s[hi]! - s[lo]!) * (pos - lo);
  };
  return { median: at(0.5), min: s[0]!, max: s[s.length - 1]!, q1: at(0.25), q3: at(0.75) };
}

export const message = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

/** Times one call of `run`, ms. */
export async function timeOnce(run: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await run();
  return performance.now() - t;
}

/** Timed steady-state runs of `run` (the caller has done the warm-up), per `policy`. */
export async function timeRepeated(run: () => Promise<unknown>, policy: RepPolicy): Promise<number[]> {
  const samples: number[] = [];
  let total = 0;
  while (samples.length < policy.minReps || (total < policy.targetMs && samples.length < policy.maxReps)) {
    const ms = await timeOnce(run);
    samples.push(ms);
    total += ms;
  }
  return samples;
}

/**
 * On a shared machine: a case timed while other processes used more than CONTENTION_RETRY of the
 * CPU is timed again (at most MAX_RETRIES more sets, only while a set takes under RETRY_BUDGET_MS)
 * and the quietest set kept.
 */
export const CONTENTION_RETRY = 0.2;
export const MAX_RETRIES = 2;
export const RETRY_BUDGET_MS = 3000;

/** Repeated runs (after the first) under the contention rule above; `share` is the others' CPU share of the kept set. */
export async function timeQuietest(
  run: () => Promise<unknown>, reps: RepPolicy, meter: CpuMeter,
): Promise<{ samples: number[]; share: number | null; retries: number }> {
  let best: { samples: number[]; share: number | null } | null = null;
  let retries = 0;
  for (;;) {
    meter.start();
    const samples = await timeRepeated(run, reps);
    const share = meter.share();
    if (!best || (share ?? 0) < (best.share ?? 0)) best = { samples, share };
    const spent = samples.reduce((a, b) => a + b, 0);
    if (share === null || share <= CONTENTION_RETRY || spent > RETRY_BUDGET_MS || retries === MAX_RETRIES) break;
    retries++;
  }
  return { ...best, retries };
}

/** Samples rounded to 0.1 µs, to keep the JSON small without losing what a timer resolves. */
export const roundSamples = (samples: readonly number[]): number[] => samples.map((v) => Math.round(v * 1e4) / 1e4);

/** The webgpu backend, or the error that says why there is none (the other runners go on), and the cpu backend. */
export async function acquireBackends(): Promise<{ gpu: Backend | Error; cpu: Backend }> {
  const gpu: Backend | Error = await createBackend({ kind: 'webgpu' }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  const cpu = await createBackend({ kind: 'cpu' });
  return { gpu, cpu };
}

export const backendInfo = (b: Backend | Error): BackendInfo | { readonly error: string } =>
  b instanceof Error ? { error: message(b) } : b.info;

/** Rows of cells as aligned text: the first `left` columns left-aligned, the rest right-aligned. */
export function textTable(rows: readonly (readonly string[])[], left: number): string[] {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i < left ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd());
}

/** Rows of cells (the first is the header) as a GitHub markdown table; `left` columns left-aligned. */
export function markdownTable(rows: readonly (readonly string[])[], left: number): string[] {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const [head, ...body] = rows;
  return [
    `| ${head!.map(esc).join(' | ')} |`,
    `| ${head!.map((_, i) => (i < left ? '---' : '---:')).join(' | ')} |`,
    ...body.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
}

/** The JS runtime the suite ran in (Node here). */
export async function runtimeInfo(): Promise<Record<string, string | number>> {
  const os = await import('node:os');
  return {
    name: 'node', version: process.version, platform: process.platform, arch: process.arch,
    cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown',
  };
}

/**
 * The 1, 5 and 15 minute load averages: on a shared machine a load above the core count means
 * other processes competed for the cores during the run (timings then carry scheduler delays).
 */
export async function loadAverage(): Promise<number[]> {
  const os = await import('node:os');
  return os.loadavg().map((v) => Math.round(v * 100) / 100);
}

/**
 * Measures how much of the machine's CPU other processes used over an interval (Linux /proc):
 * on a shared machine a timing taken while others ran carries their load. `share()` is the
 * fraction of all cores' time, since `start()`, spent by other processes (steal time included),
 * or null where /proc is not readable.
 */
export interface CpuMeter {
  start(): void;
  share(): number | null;
}

export async function createCpuMeter(): Promise<CpuMeter> {
  let read: ((file: string) => string) | null = null;
  try {
    const fs = await import('node:fs');
    read = (file) => fs.readFileSync(file, 'utf8');
    read('/proc/stat');
    read('/proc/self/stat');
  } catch {
    read = null;
  }
  // Ticks: every core's busy and total time, and this process's user + system time.
  const sample = (): { busy: number; total: number; self: number } | null => {
    if (!read) return null;
    try {
      const cpu = read('/proc/stat').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu;
      const busy = user + nice + system + irq + softirq + steal;
      const own = read('/proc/self/stat');
      const fields = own.slice(own.lastIndexOf(')') + 2).split(' ');
      return { busy, total: busy + idle + iowait, self: Number(fields[11]) + Number(fields[12]) };
    } catch {
      return null;
    }
  };
  let from = sample();
  return {
    start() {
      from = sample();
    },
    share() {
      const to = sample();
      // Under 20 ticks (0.1 s on 2 cores at 100 Hz) the share is mostly rounding.
      if (!from || !to || to.total - from.total < 20) return null;
      const others = to.busy - from.busy - (to.self - from.self);
      return Math.min(1, Math.max(0, others / (to.total - from.total)));
    },
  };
}

/** `--name value` from argv, or undefined. */
export function option(argv: readonly string[], name: string): string | undefined {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
}

/** The results folder: `--out DIR`, else bench/results. */
export async function resultsDir(argv: readonly string[]): Promise<string> {
  const path = await import('node:path');
  return option(argv, '--out') ?? path.join('bench', 'results');
}

/** Where tfjs-backend-wasm's .wasm files are, from Node's module resolution (Node only). */
export async function tfjsWasmFolder(): Promise<string> {
  const { createRequire } = await import('node:module');
  const path = await import('node:path');
  return `${path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'))}${path.sep}`;
}

/** A file-name stamp of an ISO date: 2025-01-31T12-00-00. */
export const dateStamp = (iso: string): string => iso.slice(0, 19).replace(/:/g, '-');

/** JSON indented for reading, but arrays of numbers (the samples) on one line each. */
export function compactJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s*(-?[\d.e+-]+(?:,\s*-?[\d.e+-]+)*)\s*\]/g, (_, list: string) => `[${list.split(/,\s*/).join(', ')}]`);
}

/** Writes `<dir>/<base>.json` (and `<base>.md` when given) and returns the paths written. */
export async function writeResults(dir: string, base: string, json: unknown, markdown?: string): Promise<string[]> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  fs.mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, `${base}.json`)];
  fs.writeFileSync(files[0]!, `${compactJson(json)}\n`);
  if (markdown !== undefined) {
    files.push(path.join(dir, `${base}.md`));
    fs.writeFileSync(files[1]!, markdown.endsWith('\n') ? markdown : `${markdown}\n`);
  }
  return files;
}

/**
 * Whether Node was started with the script `name` (bench/<name>.ts, built to dist/bench/<name>.js).
 * By name, not by `import.meta.url`: a bundle that imports several benches (bench/all.ts) gives
 * them all its own URL. False in a page.
 */
export function isEntryPoint(name: string): boolean {
  if (typeof process === 'undefined' || typeof process.versions?.node !== 'string' || typeof window !== 'undefined') return false;
  const script = process.argv[1] ?? '';
  return script.replace(/^.*[\\/]/, '').replace(/\.(c|m)?(js|ts)$/, '') === name;
}

/** Runs `main(argv)` when `name` is the entry point and exits with its code (Dawn can keep the event loop alive). */
export function runAsEntryPoint(name: string, main: (argv: readonly string[]) => Promise<number>): void {
  if (!isEntryPoint(name)) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e);
      process.exit(2);
    },
  );
}

/** Milliseconds with three significant-ish digits. */
export function fmtMs(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
}

/** A count with an SI suffix (k, M, G, T). */
export function fmtSi(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const units = ['', 'k', 'M', 'G', 'T'];
  let u = 0;
  while (Math.abs(v) >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${units[u]}`;
}

/** Others' CPU share while a runner was timed, and how many sets it took. */
export const fmtContention = (r: RunnerResult): string =>
  r.contention === undefined ? '' : `${Math.round(r.contention * 100)}%${r.retries ? ` (${r.retries + 1} sets)` : ''}`;

/** A positive number option of the command line, or `fallback`. */
export function numberOption(argv: readonly string[], name: string, fallback: number): number {
  const v = option(argv, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} takes a positive number, got ${v}`);
  return n;
}

/** `--render results.json`: rewrites the markdown page beside a results JSON (after a change to its layout). */
export async function renderFromJson(path: string, render: (report: never) => string): Promise<void> {
  const fs = await import('node:fs');
  const md = path.replace(/\.json$/, '.md');
  const page = render(JSON.parse(fs.readFileSync(path, 'utf8')) as never);
  fs.writeFileSync(md, page.endsWith('\n') ? page : `${page}\n`);
  console.log(`wrote ${md}`);
}
