// The library against an earlier build of itself, in one process and one run: LinUCB select and
// update (K = 1000, d = 32, B = 64 over 4 shards; K = 7, d = 9, B = 1) and NeuralUCB select and
// train(10) (K = 10, d = 32, B = 64, width 100), on webgpu and cpu. The two builds alternate
// round by round (A B A B …), so a load that comes and goes hits both alike; the result is the
// ratio of medians, after / before (below 1: faster now). Only the API both builds share is used.
//
//   node build.mjs && OUTDIR=dist-before node build.mjs   # the second in a checkout of the old commit
//   node dist/bench/before-after.js [--before dist-before] [--rounds 15] [--out DIR]
//
// Writes a table to stdout and before-after-<date>-node.{json,md} to bench/results (or DIR).
import * as after from '../src/index.js';
import {
  dateStamp, fmtMs, loadAverage, markdownTable, option, resultsDir, runAsEntryPoint, runtimeInfo, stats, textTable,
  timeOnce, unitRows, writeResults, type Stats,
} from './lib.js';

/** What the bench calls on a build: the root entry of either library. */
interface Library {
  createBackend(o: { kind: 'webgpu' | 'cpu' }): Promise<{ dispose(): void; info?: unknown }>;
  LinUCB: { create(b: unknown, o: object): Promise<Model> };
  NeuralUCB: { create(b: unknown, o: object): Promise<Model & { train(steps?: number): Promise<unknown> }> };
}

interface Model {
  select(x: Float32Array, o?: object): Promise<Int32Array>;
  update(arms: Int32Array, x: Float32Array, r: Float32Array): Promise<void>;
  dispose(): void;
}

interface Case {
  readonly name: string;
  readonly shape: string;
  /** A ready model and the call to time on it. */
  setup(lib: Library, backend: unknown): Promise<{ call: () => Promise<unknown>; dispose: () => void }>;
}

const arms = (n: number, K: number, seed: number): Int32Array => Int32Array.from({ length: n }, (_, i) => (i * 7 + seed) % K);
const rewards = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => (i % 3) / 2);

function linucb(K: number, d: number, B: number, shards: number, call: 'select' | 'update'): Case {
  return {
    name: `LinUCB ${call}`, shape: `K=${K} d=${d} B=${B}${shards > 1 ? ` ${shards} shards` : ''}`,
    async setup(lib, backend) {
      const model = await lib.LinUCB.create(backend, { arms: K, dim: d, alpha: 1, armsPerShard: Math.ceil(K / shards) });
      const x = unitRows(B, d, 3), a = arms(B, K, 1), r = rewards(B);
      for (let t = 0; t < 4; t++) await model.update(arms(64, K, t), unitRows(64, d, 10 + t), rewards(64));
      return { call: call === 'select' ? () => model.select(x) : () => model.update(a, x, r), dispose: () => model.dispose() };
    },
  };
}

function neural(K: number, d: number, B: number, call: 'select' | 'train'): Case {
  return {
    name: call === 'select' ? 'NeuralUCB select' : 'NeuralUCB train(10)', shape: `K=${K} d=${d} B=${B} width 100`,
    async setup(lib, backend) {
      const model = await lib.NeuralUCB.create(backend, { dim: d, seed: 1, trainEvery: 1_000_000 });
      const x = unitRows(B * K, d, 4);
      for (let t = 0; t < 2; t++) await model.update(arms(B, K, t), unitRows(B, d, 20 + t), rewards(B));   // the played arms' features
      return {
        call: call === 'select' ? () => model.select(x, { arms: K }) : () => model.train(10),
        dispose: () => model.dispose(),
      };
    },
  };
}

const CASES: readonly Case[] = [
  linucb(1000, 32, 64, 4, 'select'), linucb(1000, 32, 64, 4, 'update'), linucb(7, 9, 1, 1, 'select'), linucb(7, 9, 1, 1, 'update'),
  neural(10, 32, 64, 'select'), neural(10, 32, 64, 'train'),
];

interface Row {
  readonly name: string; readonly shape: string; readonly backend: string;
  readonly before?: Stats; readonly after?: Stats; readonly ratio?: number; readonly error?: string;
}

/** Times each case on both builds, alternating a call of one with a call of the other. */
async function runCase(c: Case, kind: 'webgpu' | 'cpu', libs: readonly [Library, Library], rounds: number): Promise<Row> {
  const backends = await Promise.all(libs.map((lib) => lib.createBackend({ kind })));
  try {
    const ready = [await c.setup(libs[0], backends[0]), await c.setup(libs[1], backends[1])];
    const samples: number[][] = [[], []];
    for (const r of ready) await r.call();   // first calls (pipelines, JIT) apart
    for (let i = 0; i < rounds; i++) for (const j of i % 2 ? [1, 0] : [0, 1]) samples[j]!.push(await timeOnce(ready[j]!.call));
    for (const r of ready) r.dispose();
    const [before, after] = samples.map(stats) as [Stats, Stats];
    return { name: c.name, shape: c.shape, backend: kind, before, after, ratio: after.median / before.median };
  } catch (e) {
    return { name: c.name, shape: c.shape, backend: kind, error: e instanceof Error ? e.message : String(e) };
  } finally {
    for (const b of backends) b.dispose();
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const beforeDir = option(argv, '--before') ?? 'dist-before';
  const rounds = Number(option(argv, '--rounds') ?? 15);
  const { pathToFileURL } = await import('node:url');
  const { resolve } = await import('node:path');
  const before = (await import(pathToFileURL(resolve(beforeDir, 'index.js')).href)) as Library;
  const libs = [before, after as unknown as Library] as const;
  const startedAt = new Date().toISOString();
  const loadStart = await loadAverage();
  const rows: Row[] = [];
  for (const kind of ['webgpu', 'cpu'] as const) {
    for (const c of CASES) {
      const row = await runCase(c, kind, libs, rounds);
      rows.push(row);
      console.log(row.error ? `${row.name} ${row.shape} ${kind}: ${row.error}`
        : `${row.name.padEnd(20)} ${row.shape.padEnd(28)} ${kind.padEnd(7)} before ${fmtMs(row.before!.median)} ms  after ${fmtMs(row.after!.median)} ms  ratio ${row.ratio!.toFixed(2)}`);
    }
  }
  const table = [['call', 'shape', 'backend', 'before median ms', 'after median ms', 'after / before'],
    ...rows.map((r) => [r.name, r.shape, r.backend, r.before ? fmtMs(r.before.median) : r.error ?? '', r.after ? fmtMs(r.after.median) : '', r.ratio?.toFixed(2) ?? ''])];
  console.log(textTable(table, 3).join('\n'));   // the same rows, aligned
  const loadEnd = await loadAverage();
  const md = [`# this build against ${beforeDir} — ${startedAt}`, '',
    `${rounds} alternating rounds a case after one untimed call each; medians; load average ${loadStart.join(' ')} → ${loadEnd.join(' ')}.`, '',
    ...markdownTable(table, 3), ''].join('\n');
  const written = await writeResults(await resultsDir(argv), `before-after-${dateStamp(startedAt)}-node`,
    { startedAt, before: beforeDir, rounds, runtime: await runtimeInfo(), load: [loadStart, loadEnd], rows }, md);
  console.log(`wrote ${written.join(', ')}`);
  return rows.some((r) => r.error) ? 1 : 0;
}

runAsEntryPoint('before-after', main);
