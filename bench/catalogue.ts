// What a changing catalogue and delayed rewards cost, model-level, LinUCB d = 32: addArms(1) and
// addArms(100) at K ∈ {1000, 10⁴} (the last shard is rebuilt into new tensors with its arms
// copied; the model's default shards hold every arm, so that is the whole state), decide with and
// without decisions kept for their reward (pendingCapacity 0 vs the default 10 000, full; K = 1000), and
// reward of B event ids against update of the same B rows, B = 64, on the webgpu and cpu backends
// in one process. Each timed call is the whole public call, awaited. The first call is timed
// apart, then at least 3 until 300 ms (at most 20): median and quartiles. Wall clock (SwiftShader
// has no timestamp queries). addArms grows the model it times, so its K is the size before each call.
//
//   node build.mjs && node dist/bench/catalogue.js [--quick] [--out DIR]
//   (--quick: K = 1000 only)
//
// Writes a table to stdout and catalogue-<date>-node.{json,md} to bench/results (or DIR).
import { LinUCB, type Backend } from '../src/index.js';
import {
  acquireBackends, backendInfo, dateStamp, fmtMs, lcg, loadAverage, markdownTable, message, resultsDir, runAsEntryPoint,
  runtimeInfo, stats, textTable, timeOnce, timeRepeated, unitRows, writeResults, type Stats,
} from './lib.js';

const D = 32, B = 64;
const REPS = { minReps: 3, maxReps: 20, targetMs: 300 };

interface Row {
  readonly call: string;
  readonly backend: string;
  readonly K: number;
  readonly firstMs?: number;
  readonly ms?: Stats;
  readonly reps?: number;
  readonly error?: string;
}

/** A model with 4 update batches of B rows, so its state is neither flat nor tied. */
async function trained(backend: Backend, K: number, pendingCapacity?: number): Promise<LinUCB> {
  const model = await LinUCB.create(backend, {
    arms: K, dim: D, seed: 1, exploration: { kind: 'epsilon-greedy', epsilon: 0.1 }, ...(pendingCapacity === undefined ? {} : { pendingCapacity }),
  });
  for (let t = 0; t < 4; t++) {
    const arms = Int32Array.from(lcg(B, 200 + t), (v) => Math.min(K - 1, Math.floor(((v + 1) / 2) * K)));
    await model.update(arms, unitRows(B, D, 100 + t), Float32Array.from(lcg(B, 300 + t), (v) => 0.5 + 0.5 * v));
  }
  return model;
}

async function timed(call: string, backend: string, K: number, run: () => Promise<unknown>): Promise<Row> {
  try {
    const firstMs = await timeOnce(run);
    const samples = await timeRepeated(run, REPS);
    return { call, backend, K, firstMs, ms: stats(samples), reps: samples.length };
  } catch (e) {
    return { call, backend, K, error: message(e) };
  }
}

async function cases(name: string, backend: Backend, K: number, log: (s: string) => void): Promise<Row[]> {
  const rows: Row[] = [];
  const push = (r: Row) => {
    rows.push(r);
    log(`${r.call.padEnd(36)} ${r.backend.padEnd(7)} K=${String(K).padEnd(6)} ${r.error ?? `first ${fmtMs(r.firstMs!)}  median ${fmtMs(r.ms!.median)}`}`);
  };
  const x = unitRows(B, D, K);
  for (const n of [1, 100]) {
    const m = await trained(backend, K);
    push(await timed(`addArms(${n})`, name, K, () => m.addArms(n)));
    m.dispose();
  }
  // Filling the store takes 10⁴ scored rows: K = 1000 only (what a decision costs to keep does not depend on K).
  for (const [label, capacity] of K > 1000 ? [] : [['decide, pendingCapacity 0', 0], ['decide, 10 000 pending (default)', undefined]] as const) {
    const m = await trained(backend, K, capacity);
    // Fill the store first: from then on each decide also pushes the oldest B out.
    while (capacity === undefined && m.diagnostics().rewards.pending < 10_000) await m.decide(x);
    push(await timed(label, name, K, () => m.decide(x)));
    m.dispose();
  }
  const m = await trained(backend, K);
  const arms = Int32Array.from(lcg(B, 7), (v) => Math.min(K - 1, Math.floor(((v + 1) / 2) * K)));
  const r = Float32Array.from(lcg(B, 8), (v) => 0.5 + 0.5 * v);
  push(await timed(`update of ${B} rows`, name, K, () => m.update(arms, x, r)));
  // Each reward needs ids not rewarded yet: decide ahead (untimed), then reward a fresh batch each call.
  const batches: string[][] = [];
  for (let i = 0; i < REPS.maxReps + 1; i++) batches.push((await m.decide(x)).eventIds);
  push(await timed(`reward of ${B} event ids`, name, K, () => m.reward(batches.shift()!, r)));
  m.dispose();
  return rows;
}

const cells = (r: Row): string[] => [
  r.call, r.backend, String(r.K), r.firstMs === undefined ? '' : fmtMs(r.firstMs), r.ms ? fmtMs(r.ms.median) : r.error ?? '',
  r.ms ? `${fmtMs(r.ms.q1)} – ${fmtMs(r.ms.q3)}` : '', r.reps === undefined ? '' : String(r.reps),
];

async function main(argv: readonly string[]): Promise<number> {
  const started = new Date().toISOString();
  const quick = argv.includes('--quick');
  const { gpu, cpu } = await acquireBackends();
  const log = (s: string) => console.log(s);
  const rows: Row[] = [];
  for (const [name, backend] of [['webgpu', gpu], ['cpu', cpu]] as const) {
    for (const K of quick ? [1000] : [1000, 10_000]) {
      if (backend instanceof Error) rows.push({ call: 'all', backend: name, K, error: message(backend) });
      else rows.push(...(await cases(name, backend, K, log)));
    }
  }
  const report = {
    bench: 'catalogue', started, runtime: await runtimeInfo(), loadAverage: await loadAverage(),
    backends: { webgpu: backendInfo(gpu), cpu: backendInfo(cpu) }, shape: { d: D, B }, rows,
  };
  const header = ['call', 'backend', 'K', 'first ms', 'median ms', 'quartiles', 'samples'];
  const md = [
    `# catalogue changes and delayed rewards, LinUCB d = ${D}, B = ${B} — ${started}`, '',
    `webgpu: ${'summary' in report.backends.webgpu ? report.backends.webgpu.summary : report.backends.webgpu.error}; load average ${report.loadAverage.join(' ')}`, '',
    ...markdownTable([header, ...rows.map(cells)], 3), '',
  ].join('\n');
  console.log(`\n${textTable([header, ...rows.map(cells)], 3).join('\n')}`);
  const files = await writeResults(await resultsDir(argv), `catalogue-${dateStamp(started)}-node`, report, md);
  console.log(`\nwrote ${files.join(', ')}`);
  if (!(gpu instanceof Error)) gpu.dispose();
  return rows.some((r) => r.error) ? 1 : 0;
}

runAsEntryPoint('catalogue', main);
