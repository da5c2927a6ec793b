// What running a model behind BanditWorker costs and what it frees, in Node: the same calls on a
// model on the main thread and on one in a worker_threads thread (serveBandits on a port), cpu
// backend (Dawn gives a worker thread no adapter here unless VK_ICD_FILENAMES is set before Node
// starts: a thread's process.env is its own copy, so the library's own fallback cannot reach the
// driver loader; the report says what the thread got). Calls: decide of one row (K = 100, d = 16:
// the round trip dominates), update of B = 64 rows and scores of B = 64 rows (K = 1000, d = 32: a
// 256 KB result transferred back) and save (K = 1000, d = 32: the float64 state, ~16 MB, copied in
// the worker and transferred). Each timed call is the whole public call, awaited; the first is
// timed apart, then at least 3 until 300 ms (at most 50): median and quartiles. Beside each, the
// main thread's event-loop utilisation over the timed calls (1: the thread was busy all along).
//
//   node build.mjs && node dist/bench/worker.js [--out DIR]
//
// Writes a table to stdout and worker-<date>-node.{json,md} to bench/results (or DIR).
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker, isMainThread, workerData } from 'node:worker_threads';
import { BanditWorker, LinUCB, createBackend, serveBandits, type Endpoint, type RemoteModel } from '../src/index.js';
import {
  dateStamp, fmtMs, lcg, loadAverage, markdownTable, message, resultsDir, runAsEntryPoint, runtimeInfo, stats, textTable,
  timeOnce, timeRepeated, unitRows, writeResults, type Stats,
} from './lib.js';

const REPS = { minReps: 3, maxReps: 50, targetMs: 300 };

interface Row {
  readonly call: string;
  readonly where: 'main thread' | 'worker thread';
  readonly firstMs?: number;
  readonly ms?: Stats;
  readonly reps?: number;
  /** The main thread's event-loop utilisation over the timed calls. */
  readonly mainThreadBusy?: number;
  readonly error?: string;
}

/** The calls of one model size; `model` is the page's LinUCB or its remote twin (both awaited the same way). */
interface Case {
  readonly call: string;
  readonly K: number;
  readonly d: number;
  run(model: RemoteModel<LinUCB>, step: number): Promise<unknown>;
}

const B = 64;
const CASES: Case[] = [
  { call: 'decide, 1 row, K = 100, d = 16', K: 100, d: 16, run: (m) => m.decide(unitRows(1, 16, 1)) },
  {
    call: `update, ${B} rows, K = 1000, d = 32`, K: 1000, d: 32,
    run: (m, step) => m.update(Int32Array.from(lcg(B, step), (v) => Math.min(999, Math.floor(((v + 1) / 2) * 1000))), unitRows(B, 32, step), Float32Array.from(lcg(B, step + 1), (v) => 0.5 + 0.5 * v)),
  },
  { call: `scores, ${B} rows, K = 1000, d = 32`, K: 1000, d: 32, run: (m) => m.scores(unitRows(B, 32, 3)) },
  { call: 'save, K = 1000, d = 32', K: 1000, d: 32, run: (m) => m.save() },
];

async function timed(c: Case, where: Row['where'], model: RemoteModel<LinUCB>): Promise<Row> {
  try {
    let step = 10;
    const run = () => c.run(model, step++);
    const firstMs = await timeOnce(run);
    const before = performance.eventLoopUtilization();
    const samples = await timeRepeated(run, REPS);
    const busy = performance.eventLoopUtilization(before).utilization;
    return { call: c.call, where, firstMs, ms: stats(samples), reps: samples.length, mainThreadBusy: busy };
  } catch (e) {
    return { call: c.call, where, error: message(e) };
  }
}

const cells = (r: Row): string[] => [
  r.call, r.where, r.firstMs === undefined ? '' : fmtMs(r.firstMs), r.ms ? fmtMs(r.ms.median) : r.error ?? '',
  r.ms ? `${fmtMs(r.ms.q1)} – ${fmtMs(r.ms.q3)}` : '', r.reps === undefined ? '' : String(r.reps),
  r.mainThreadBusy === undefined ? '' : r.mainThreadBusy.toFixed(2),
];

/** A worker_threads thread running this file's server, and the page's BanditWorker on it. */
async function thread(kind: 'cpu' | 'webgpu'): Promise<{ bandits: BanditWorker | Error; end(): Promise<void> }> {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL(import.meta.url), { workerData: { bench: 'worker', port: port2 }, transferList: [port2] });
  const bandits = await BanditWorker.start(port1 as unknown as Endpoint, { kind }).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
  return { bandits, end: async () => { port1.close(); await worker.terminate(); } };
}

async function main(argv: readonly string[]): Promise<number> {
  const started = new Date().toISOString();
  const probe = await thread('webgpu');
  const webgpuInThread = probe.bandits instanceof Error ? message(probe.bandits) : probe.bandits.info.summary;
  if (!(probe.bandits instanceof Error)) await probe.bandits.close();
  await probe.end();
  const { bandits, end } = await thread('cpu');
  if (bandits instanceof Error) throw bandits;
  const rows: Row[] = [];
  try {
    const backend = await createBackend({ kind: 'cpu' });
    for (const c of CASES) {
      const options = { arms: c.K, dim: c.d, seed: 1, exploration: { kind: 'softmax', temperature: 0.5 } } as const;
      const local = await LinUCB.create(backend, options);
      const remote = await bandits.create('LinUCB', options);
      for (const [where, model] of [['main thread', local as unknown as RemoteModel<LinUCB>], ['worker thread', remote]] as const) {
        const r = await timed(c, where, model);
        rows.push(r);
        console.log(`${r.call.padEnd(36)} ${r.where.padEnd(14)} ${r.error ?? `median ${fmtMs(r.ms!.median)} ms, main thread busy ${r.mainThreadBusy!.toFixed(2)}`}`);
      }
      local.dispose();
      await remote.dispose();
    }
    await bandits.close();
    backend.dispose();
    const report = { bench: 'worker', started, runtime: await runtimeInfo(), loadAverage: await loadAverage(), webgpuInThread, rows };
    const header = ['call', 'where', 'first ms', 'median ms', 'quartiles', 'samples', 'main thread busy'];
    const md = [
      `# a model behind BanditWorker (worker_threads, cpu backend) against the same model on the main thread — ${started}`, '',
      `load average ${report.loadAverage.join(' ')}; webgpu in a worker thread: ${webgpuInThread}`, '',
      ...markdownTable([header, ...rows.map(cells)], 2), '',
    ].join('\n');
    console.log(`\n${textTable([header, ...rows.map(cells)], 2).join('\n')}`);
    const files = await writeResults(await resultsDir(argv), `worker-${dateStamp(started)}-node`, report, md);
    console.log(`\nwrote ${files.join(', ')}`);
  } finally {
    await end();
  }
  return rows.some((r) => r.error) ? 1 : 0;
}

if (!isMainThread && (workerData as { bench?: string } | null)?.bench === 'worker') {
  serveBandits((workerData as { port: Endpoint }).port);
} else {
  runAsEntryPoint('worker', main);
}
