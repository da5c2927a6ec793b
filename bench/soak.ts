// The soak benchmark: memory over a long run, the target being flat. Two loads, each on the
// webgpu and on the cpu backend:
//   rounds    select + update rounds of one LinUCB through the public API (20,000 by default)
//   backends  create a backend, run one small op, dispose it (500 cycles by default)
// sampled at intervals: RSS, JS heap used (after a full GC when one can be forced), and for webgpu
// the runtime's live GPU buffers, free (pooled) buffers and cached bind groups. A load counts as
// flat when, between the sample after warm-up (the first third of the run: LinUCB's periodic drift
// check and re-factorisation have run by then) and the last, live GPU buffers and bind groups did
// not grow and RSS and heap grew less than FLAT_MB.
//
//   node dist/bench/soak.js              the full run (a few minutes on SwiftShader)
//   node dist/bench/soak.js --quick      2000 rounds, 30 cycles
//   options: --rounds N, --cycles N, --kinds webgpu,cpu, --samples N (per load, default 20),
//   --drift-check-every N, --refactor-every N (LinUCB's intervals, in updates),
//   --out DIR, --name BASE
//
// Output: a table on stdout, bench/results/<base>.json and bench/results/<base>.md.
import { createBackend, LinUCB, type Backend } from '../src/index.js';
import { axpy } from '../src/ops/index.js';
import { WebGpuBackend } from '../src/gpu/backend.js';
import { dateStamp, lcg, markdownTable, numberOption, option, resultsDir, runAsEntryPoint, runtimeInfo, textTable, writeResults } from './lib.js';

/** Growth in RSS or JS heap under this many MB, from warm-up to the end, counts as flat. */
const FLAT_MB = 16;
const ARMS = 50, DIM = 8, BATCH = 4;

type Kind = 'webgpu' | 'cpu';

interface Sample {
  /** Rounds or cycles done. */
  readonly at: number;
  readonly seconds: number;
  readonly rssMB: number;
  readonly heapMB: number;
  /** webgpu: the runtime's live buffers (pool and uniform chunks), free buffers, cached bind groups. */
  readonly gpuBuffers?: number;
  readonly freeBuffers?: number;
  readonly bindGroups?: number;
}

interface LoadResult {
  readonly load: 'rounds' | 'backends';
  readonly kind: Kind;
  readonly count: number;
  readonly samples: readonly Sample[];
  readonly flat: boolean;
  readonly growth: { readonly rssMB: number; readonly heapMB: number; readonly gpuBuffers: number; readonly bindGroups: number };
  readonly error?: string;
}

/** A full GC where the runtime lets one be forced (Node: through V8's flag, set at run time). */
async function gcFunction(): Promise<(() => void) | null> {
  if (typeof process === 'undefined') return null;
  try {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
}

const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;

function sampler(gc: (() => void) | null, started: number) {
  return (at: number, backend: Backend | null): Sample => {
    gc?.();
    const m = process.memoryUsage();
    const base = { at, seconds: Math.round((performance.now() - started) / 100) / 10, rssMB: mb(m.rss), heapMB: mb(m.heapUsed) };
    if (!(backend instanceof WebGpuBackend) || backend.disposed) return base;
    const s = backend.runtime.stats();
    return { ...base, gpuBuffers: s.live + s.uniformChunks, freeBuffers: s.free, bindGroups: s.bindGroups };
  };
}

/** The sample that ends the warm-up: the first at or after a third of the run. */
const warmSample = (samples: readonly Sample[]): Sample => {
  const end = samples[samples.length - 1]!.at;
  return samples.find((s) => s.at >= end / 3) ?? samples[samples.length - 1]!;
};

function verdict(load: LoadResult['load'], kind: Kind, count: number, samples: Sample[], error?: string): LoadResult {
  const warm = warmSample(samples);
  const last = samples[samples.length - 1]!;
  const growth = {
    rssMB: Math.round((last.rssMB - warm.rssMB) * 10) / 10,
    heapMB: Math.round((last.heapMB - warm.heapMB) * 10) / 10,
    gpuBuffers: (last.gpuBuffers ?? 0) - (warm.gpuBuffers ?? 0),
    bindGroups: (last.bindGroups ?? 0) - (warm.bindGroups ?? 0),
  };
  const flat = !error && growth.gpuBuffers <= 0 && growth.bindGroups <= 0 && growth.rssMB < FLAT_MB && growth.heapMB < FLAT_MB;
  return { load, kind, count, samples, flat, growth, ...(error ? { error } : {}) };
}

/** LinUCB's inverse-health intervals (in updates); the defaults unless given. */
interface Health { readonly driftCheckEvery?: number; readonly refactorEvery?: number }

async function soakRounds(kind: Kind, rounds: number, every: number, health: Health, gc: (() => void) | null, log: (s: string) => void): Promise<LoadResult> {
  const samples: Sample[] = [];
  const sample = sampler(gc, performance.now());
  const backend = await createBackend({ kind });
  try {
    const model = await LinUCB.create(backend, { arms: ARMS, dim: DIM, alpha: 1, lambda: 1, ...health });
    // Four input batches reused in turn, so the host side allocates no more than a caller would.
    const contexts = [0, 1, 2, 3].map((i) => lcg(BATCH * DIM, 100 + i));
    const rewards = [0, 1, 2, 3].map((i) => lcg(BATCH, 200 + i));
    samples.push(sample(0, backend));
    for (let r = 1; r <= rounds; r++) {
      const x = contexts[r % 4]!;
      const arms = await model.select(x);
      await model.update(arms, x, rewards[r % 4]!);
      if (r % every === 0 || r === rounds) {
        samples.push(sample(r, backend));
        log(`  ${kind} rounds ${r}: rss ${samples.at(-1)!.rssMB} MB, heap ${samples.at(-1)!.heapMB} MB, gpu buffers ${samples.at(-1)!.gpuBuffers ?? '–'}`);
      }
    }
    model.dispose();
    return verdict('rounds', kind, rounds, samples);
  } catch (e) {
    return verdict('rounds', kind, rounds, samples.length ? samples : [sample(0, null)], String(e));
  } finally {
    backend.dispose();
  }
}

async function soakBackends(kind: Kind, cycles: number, every: number, gc: (() => void) | null, log: (s: string) => void): Promise<LoadResult> {
  const samples: Sample[] = [];
  const sample = sampler(gc, performance.now());
  samples.push(sample(0, null));
  try {
    for (let c = 1; c <= cycles; c++) {
      const backend = await createBackend({ kind });
      const x = backend.tensor([1, 2, 3, 4], [4]), y = backend.zeros([4]);
      axpy(backend, 2, x, y);
      await backend.read(y);
      backend.dispose();
      if (c % every === 0 || c === cycles) {
        samples.push(sample(c, null));
        log(`  ${kind} backends ${c}: rss ${samples.at(-1)!.rssMB} MB, heap ${samples.at(-1)!.heapMB} MB`);
      }
    }
    return verdict('backends', kind, cycles, samples);
  } catch (e) {
    return verdict('backends', kind, cycles, samples, String(e));
  }
}

const cell = (v: number | undefined): string => (v === undefined ? '–' : String(v));

function summaryRows(results: readonly LoadResult[]): string[][] {
  return [
    ['load', 'backend', 'count', 'rss MB (warm → end)', 'heap MB (warm → end)', 'gpu buffers (warm → end)', 'bind groups', 'flat'],
    ...results.map((r) => {
      const warm = warmSample(r.samples), last = r.samples.at(-1)!;
      return [
        r.load, r.kind, String(r.count), `${warm.rssMB} → ${last.rssMB}`, `${warm.heapMB} → ${last.heapMB}`,
        `${cell(warm.gpuBuffers)} → ${cell(last.gpuBuffers)}`, `${cell(warm.bindGroups)} → ${cell(last.bindGroups)}`,
        r.error ? `error: ${r.error.slice(0, 60)}` : r.flat ? 'yes' : 'NO',
      ];
    }),
  ];
}

function renderMarkdown(report: { date: string; quick: boolean; gc: boolean; health: Health; results: readonly LoadResult[] }): string {
  const lines = [
    `# Soak — ${report.date.slice(0, 10)}${report.quick ? ' (--quick)' : ''}`,
    '',
    `LinUCB (K = ${ARMS}, d = ${DIM}, B = ${BATCH}${healthText(report.health)}) select + update rounds, and backends created and disposed. ` +
      `Flat: live GPU buffers and bind groups no higher at the end than after warm-up (a third of the run), RSS and JS heap ` +
      `within ${FLAT_MB} MB. JS heap ${report.gc ? 'after a forced full GC' : 'without a forced GC (none available)'}.`,
    '',
    ...markdownTable(summaryRows(report.results), 3),
  ];
  for (const r of report.results) {
    lines.push('', `## ${r.load}, ${r.kind}`, '');
    lines.push(...markdownTable([
      ['at', 's', 'rss MB', 'heap MB', 'gpu buffers', 'free buffers', 'bind groups'],
      ...r.samples.map((s) => [String(s.at), String(s.seconds), String(s.rssMB), String(s.heapMB), cell(s.gpuBuffers), cell(s.freeBuffers), cell(s.bindGroups)]),
    ], 0));
  }
  return lines.join('\n');
}

const healthText = (h: Health): string =>
  Object.entries(h).map(([k, v]) => `, ${k} ${v}`).join('') || ', default drift checks';

export async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const rounds = numberOption(argv, '--rounds', quick ? 2000 : 20_000);
  const cycles = numberOption(argv, '--cycles', quick ? 30 : 500);
  const points = numberOption(argv, '--samples', 20);
  const kinds = (option(argv, '--kinds') ?? 'webgpu,cpu').split(',') as Kind[];
  // Shorter intervals than the defaults (256, 2048 updates) reach, within a short run, the drift
  // checks and re-factorisations over every count of touched arms that a long default run meets.
  const health: Health = {
    ...(option(argv, '--drift-check-every') ? { driftCheckEvery: numberOption(argv, '--drift-check-every', 256) } : {}),
    ...(option(argv, '--refactor-every') ? { refactorEvery: numberOption(argv, '--refactor-every', 2048) } : {}),
  };
  if (kinds.some((k) => k !== 'webgpu' && k !== 'cpu')) throw new Error(`--kinds takes webgpu and cpu, got ${kinds.join(',')}`);
  const log = (line: string) => console.log(line);
  const gc = await gcFunction();
  const date = new Date().toISOString();
  const results: LoadResult[] = [];
  for (const kind of kinds) results.push(await soakRounds(kind, rounds, Math.max(1, Math.floor(rounds / points)), health, gc, log));
  for (const kind of kinds) results.push(await soakBackends(kind, cycles, Math.max(1, Math.floor(cycles / points)), gc, log));
  const report = { date, quick, gc: gc !== null, rounds, cycles, health, results, runtime: await runtimeInfo() };
  log('');
  for (const line of textTable(summaryRows(results), 3)) log(line);
  const name = option(argv, '--name') ?? `soak-${dateStamp(date)}-node${process.versions.node.split('.')[0]}${quick ? '-quick' : ''}`;
  const files = await writeResults(await resultsDir(argv), name, report, renderMarkdown(report));
  log(`\nresults written to ${files.join(' and ')}`);
  return results.every((r) => r.flat) ? 0 : 1;
}

runAsEntryPoint('soak', main);
