// The exploration kernels' cost: sampleArms (each policy, k = 1 and a slate of 3) against rowArgmax
// on the same B×K scores, and thompsonPropensities as a function of M, on the webgpu and cpu
// backends in one process. Each call is the op and a sync (its GPU work done), outputs disposed;
// the first call is timed apart (pipeline compilation), then at least 3 samples until 300 ms,
// median and quartiles per call, short calls several to a sample (GROUP_MS). Wall clock:
// SwiftShader has no timestamp queries. Before timing, each
// sampleArms result is checked (status ok, arms in range, greedy equal to rowArgmax).
//
//   node build.mjs && node dist/bench/explore.js [--quick] [--out DIR]
//   (--quick: B = 1 only, M ≤ 1024)
//
// Writes a table to stdout and explore-<date>-node.{json,md} to bench/results (or DIR).
import { rowArgmax, sampleArms, thompsonPropensities, type SamplingPolicy } from '../src/ops/index.js';
import type { Backend, Tensor } from '../src/index.js';
import {
  acquireBackends, backendInfo, dateStamp, fmtMs, lcg, loadAverage, markdownTable, message, resultsDir, runAsEntryPoint,
  runtimeInfo, stats, textTable, timeOnce, timeRepeated, writeResults, type Stats,
} from './lib.js';

interface Row {
  readonly op: string;
  readonly backend: string;
  readonly shape: Readonly<Record<string, number>>;
  readonly firstMs?: number;
  readonly ms?: Stats;
  readonly reps?: number;
  /** Calls timed together, one sync at the end (see GROUP_MS). */
  readonly callsPerSample?: number;
  readonly error?: string;
  /** Median over rowArgmax's median on the same backend and shape. */
  readonly vsArgmax?: number;
}

const REPS = { minReps: 3, maxReps: 30, targetMs: 300 };
/** A first call over this is not repeated (it is the only sample). */
const SINGLE_CALL_MS = 3000;
/**
 * Calls shorter than this are timed several to a sample, one sync at the end: the 'webgpu'
 * package reports finished work on a ~4 ms tick when it is not done at once, which would
 * otherwise round every short call up to 4 ms.
 */
const GROUP_MS = 20;

async function timeOp(op: () => Tensor[], backend: Backend): Promise<{ firstMs: number; ms: Stats; reps: number; callsPerSample: number }> {
  const run = async (calls: number): Promise<void> => {
    const outs: Tensor[] = [];
    for (let i = 0; i < calls; i++) outs.push(...op());
    await backend.sync();
    for (const t of outs) t.dispose();
  };
  const firstMs = await timeOnce(() => run(1));
  if (firstMs > SINGLE_CALL_MS) return { firstMs, ms: stats([firstMs]), reps: 1, callsPerSample: 1 };
  // Calls a sample from a group of ten.
  const tenMs = await timeOnce(() => run(10));
  const callsPerSample = Math.max(1, Math.min(100, Math.ceil(GROUP_MS / (tenMs / 10))));
  const samples = (await timeRepeated(() => run(callsPerSample), REPS)).map((v) => v / callsPerSample);
  return { firstMs, ms: stats(samples), reps: samples.length, callsPerSample };
}

const POLICIES: readonly { name: string; policy: SamplingPolicy; k: number }[] = [
  { name: 'sampleArms greedy', policy: { kind: 'greedy' }, k: 1 },
  { name: 'sampleArms ε-greedy', policy: { kind: 'epsilon-greedy', epsilon: 0.1 }, k: 1 },
  { name: 'sampleArms softmax', policy: { kind: 'softmax', temperature: 0.1 }, k: 1 },
  { name: 'sampleArms squarecb', policy: { kind: 'squarecb', gamma: 100 }, k: 1 },
  { name: 'sampleArms softmax k=3', policy: { kind: 'softmax', temperature: 0.1 }, k: 3 },
];

/** Checks one sampleArms result before it is timed. */
async function checkSample(backend: Backend, s: Tensor, policy: SamplingPolicy, k: number, rows: number, cols: number): Promise<void> {
  const out = sampleArms(backend, s, { policy, k, key: { seed: 1, step: 0 } });
  const argmax = rowArgmax(backend, s);
  const [arms, status, best] = await Promise.all([backend.read(out.arms), backend.read(out.status), backend.read(argmax)]);
  for (const t of [out.arms, out.propensities, out.status, argmax]) t.dispose();
  if (status.some((v) => v !== 0)) throw new Error('a row reported a nonzero status');
  if (arms.some((a) => a < 0 || a >= cols)) throw new Error('an arm is out of range');
  if (policy.kind === 'greedy' && k === 1 && arms.some((a, r) => a !== best[r])) throw new Error('greedy differs from rowArgmax');
  void rows;
}

async function sampleArmsRows(name: string, backend: Backend, rows: number, cols: number, log: (s: string) => void): Promise<Row[]> {
  const out: Row[] = [];
  const s = backend.tensor(lcg(rows * cols, rows * 7919 + cols), [rows, cols]);
  const shape = { B: rows, K: cols };
  let argmaxMedian: number | undefined;
  try {
    const base = await timeOp(() => [rowArgmax(backend, s)], backend);
    argmaxMedian = base.ms.median;
    out.push({ op: 'rowArgmax', backend: name, shape, ...base });
  } catch (e) {
    out.push({ op: 'rowArgmax', backend: name, shape, error: message(e) });
  }
  for (const { name: op, policy, k } of POLICIES) {
    try {
      await checkSample(backend, s, policy, k, rows, cols);
      let step = 0;
      const t = await timeOp(() => {
        const r = sampleArms(backend, s, { policy, k, key: { seed: 1, step: step++ } });
        return [r.arms, r.propensities, r.status];
      }, backend);
      out.push({ op, backend: name, shape, ...t, ...(argmaxMedian ? { vsArgmax: t.ms.median / argmaxMedian } : {}) });
    } catch (e) {
      out.push({ op, backend: name, shape, error: message(e) });
    }
  }
  s.dispose();
  for (const r of out) log(line(r));
  return out;
}

async function thompsonRows(name: string, backend: Backend, rows: number, cols: number, draws: number, log: (s: string) => void): Promise<Row> {
  const mean = backend.tensor(lcg(rows * cols, 3), [rows, cols]);
  const width2 = backend.tensor(Float32Array.from(lcg(rows * cols, 4), (v) => 1 + v * 0.5), [rows, cols]);
  const chosen = backend.tensor(Int32Array.from({ length: rows }, (_, r) => r % cols), [rows], { dtype: 'i32' });
  const shape = { B: rows, K: cols, M: draws };
  let row: Row;
  try {
    let step = 0;
    const t = await timeOp(() => [thompsonPropensities(backend, mean, width2, 0.5, chosen, { draws, key: { seed: 2, step: step++ } })], backend);
    row = { op: 'thompsonPropensities', backend: name, shape, ...t };
  } catch (e) {
    row = { op: 'thompsonPropensities', backend: name, shape, error: message(e) };
  }
  for (const t of [mean, width2, chosen]) t.dispose();
  log(line(row));
  return row;
}

const shapeText = (s: Readonly<Record<string, number>>): string => Object.entries(s).map(([k, v]) => `${k}=${v}`).join(' ');

function line(r: Row): string {
  if (r.error) return `  ${r.backend.padEnd(7)} ${r.op.padEnd(24)} ${shapeText(r.shape).padEnd(20)} FAILED: ${r.error}`;
  const ms = r.ms!;
  return `  ${r.backend.padEnd(7)} ${r.op.padEnd(24)} ${shapeText(r.shape).padEnd(20)} first ${fmtMs(r.firstMs!).padStart(7)} ms  median ${fmtMs(ms.median).padStart(7)} ms` +
    `  [${fmtMs(ms.q1)} … ${fmtMs(ms.q3)}]${r.vsArgmax ? `  ${r.vsArgmax.toFixed(1)}× rowArgmax` : ''}`;
}

function cells(r: Row): string[] {
  if (r.error) return [r.op, r.backend, shapeText(r.shape), '', 'failed', '', '', r.error];
  const ms = r.ms!;
  return [r.op, r.backend, shapeText(r.shape), fmtMs(r.firstMs!), fmtMs(ms.median), `${fmtMs(ms.q1)} … ${fmtMs(ms.q3)}`, r.vsArgmax ? `${r.vsArgmax.toFixed(1)}×` : '', `${r.reps}×${r.callsPerSample}`];
}

export async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const { gpu, cpu } = await acquireBackends();
  const started = new Date().toISOString();
  const log = (s: string): void => console.log(s);
  const runners: [string, Backend | Error][] = [['webgpu', gpu], ['cpu', cpu]];
  const rows: Row[] = [];
  const skipped: string[] = [];
  for (const B of quick ? [1] : [1, 64]) {
    for (const K of [10, 1000, 10_000]) {
      log(`\nsampleArms vs rowArgmax, B=${B} K=${K}`);
      for (const [name, backend] of runners) {
        if (backend instanceof Error) rows.push({ op: 'sampleArms', backend: name, shape: { B, K }, error: message(backend) });
        else rows.push(...(await sampleArmsRows(name, backend, B, K, log)));
      }
    }
  }
  // Thompson propensities: k·M·K draws a row; shapes over 2²⁴ draws in all are left out (seconds a call here).
  for (const B of quick ? [1] : [1, 64]) {
    for (const K of [10, 1000]) {
      log(`\nthompsonPropensities, B=${B} K=${K}`);
      for (const M of quick ? [64, 256, 1024] : [64, 256, 1024, 4096]) {
        if (B * K * M > 2 ** 24) {
          skipped.push(`thompsonPropensities B=${B} K=${K} M=${M} (${B * K * M} draws)`);
          continue;
        }
        for (const [name, backend] of runners) {
          if (!(backend instanceof Error)) rows.push(await thompsonRows(name, backend, B, K, M, log));
        }
      }
    }
  }
  if (skipped.length) log(`\nleft out: ${skipped.join('; ')}`);
  const report = {
    bench: 'explore', started, runtime: await runtimeInfo(), loadAverage: await loadAverage(),
    backends: { webgpu: backendInfo(gpu), cpu: backendInfo(cpu) }, rows, skipped,
  };
  const header = ['op', 'backend', 'shape', 'first ms', 'median ms', 'quartiles', 'vs rowArgmax', 'samples×calls'];
  const md = [
    `# Exploration kernels — ${started}`, '',
    `webgpu: ${'summary' in report.backends.webgpu ? report.backends.webgpu.summary : report.backends.webgpu.error}; load average ${report.loadAverage.join(' ')}`, '',
    ...markdownTable([header, ...rows.map(cells)], 3), '',
    skipped.length ? `Left out: ${skipped.join('; ')}.` : '',
  ].join('\n');
  console.log(`\n${textTable([header, ...rows.map(cells)], 3).join('\n')}`);
  const files = await writeResults(await resultsDir(argv), `explore-${dateStamp(started)}-node`, report, md);
  console.log(`\nwrote ${files.join(', ')}`);
  if (!(gpu instanceof Error)) gpu.dispose();
  return rows.some((r) => r.error) ? 1 : 0;
}

runAsEntryPoint('explore', main);
