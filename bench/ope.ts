// Off-policy estimators on a large log (host float64, src/eval): every estimator, the DR
// bootstrap and all seven bootstraps on shared resamples on n rows × K actions, each timed as the median of `--reps` calls (the first call,
// with the JIT's warm-up, reported apart). The log is synthetic: uniform logging over K, a
// softmax target per row, a random reward model, clicks at 30 %.
//
//   node dist/bench/ope.js [--rows 1000000] [--K 10] [--reps 3] [--samples 100,1000] [--out DIR]
//
// Writes bench/results/ope-<date>.json and .md.
import {
  bootstrapInterval, bootstrapIntervals, dmEstimate, drEstimate, drosEstimate, ipsEstimate, sndrEstimate, snipsEstimate, switchDrEstimate,
  type EstimatorInput,
} from '../src/eval/index.js';
import { Random } from '../src/core/random.js';
import { dateStamp, fmtMs, loadAverage, markdownTable, numberOption, option, resultsDir, runAsEntryPoint, runtimeInfo, stats, writeResults } from './lib.js';

/** n rows over K actions; Float64Array columns (what a caller holding float64 data passes). */
function syntheticLog(n: number, k: number, seed: number): EstimatorInput {
  const random = new Random(seed);
  const targetDistribution = new Float64Array(n * k), estimatedRewards = new Float64Array(n * k);
  const actions = new Int32Array(n), rewards = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let a = 0; a < k; a++) total += (targetDistribution[i * k + a] = Math.exp(2 * random.uniform()));
    for (let a = 0; a < k; a++) {
      targetDistribution[i * k + a]! /= total;
      estimatedRewards[i * k + a] = random.uniform();
    }
    actions[i] = random.int(k);
    rewards[i] = random.uniform() < 0.3 ? 1 : 0;
  }
  return { rewards, actions, propensities: new Float64Array(n).fill(1 / k), targetDistribution, estimatedRewards };
}

interface Timing {
  readonly name: string;
  readonly firstMs: number;
  readonly medianMs: number;
  readonly samplesMs: number[];
  readonly value: number;
}

function time(name: string, reps: number, run: () => number): Timing {
  let value = NaN;
  const once = () => {
    const t0 = performance.now();
    value = run();
    return performance.now() - t0;
  };
  const firstMs = once();
  const samplesMs = Array.from({ length: reps }, once);
  return { name, firstMs, medianMs: reps > 0 ? stats(samplesMs).median : firstMs, samplesMs, value };
}

async function main(argv: readonly string[]): Promise<number> {
  const rows = numberOption(argv, '--rows', 1_000_000);
  const k = numberOption(argv, '--K', 10);
  const reps = numberOption(argv, '--reps', 3);
  const sampleCounts = (option(argv, '--samples') ?? '100,1000').split(',').map(Number);
  if (sampleCounts.some((s) => !(Number.isInteger(s) && s >= 2))) throw new Error('--samples takes a list of integers ≥ 2');

  const loadBefore = await loadAverage();
  const t0 = performance.now();
  const input = syntheticLog(rows, k, 1);
  const buildMs = performance.now() - t0;
  console.log(`log: ${rows} rows × K = ${k} built in ${fmtMs(buildMs)} ms`);

  const timings: Timing[] = [
    time('DM', reps, () => dmEstimate(input)),
    time('IPS', reps, () => ipsEstimate(input)),
    time('IPS clipped (maxWeight 5)', reps, () => ipsEstimate(input, { maxWeight: 5 })),
    time('SNIPS', reps, () => snipsEstimate(input)),
    time('DR', reps, () => drEstimate(input)),
    time('SNDR', reps, () => sndrEstimate(input)),
    time('Switch-DR (τ 5)', reps, () => switchDrEstimate(input, { tau: 5 })),
    time('DRos (λ 10)', reps, () => drosEstimate(input, { lambda: 10 })),
  ];
  for (const s of sampleCounts) {
    // One call each: the resampling dominates (samples × n draws), the warm-up does not matter.
    timings.push(time(`DR bootstrap, ${s} resamples`, 0, () => bootstrapInterval(input, { estimator: 'dr', samples: s, seed: 1 }).upper));
    // The seven on shared resamples (what `replay` reports per target): one index stream for all.
    timings.push(time(`all 7 bootstraps at once (bootstrapIntervals), ${s} resamples`, 0,
      () => bootstrapIntervals(input, { samples: s, seed: 1, tau: 5, lambda: 10 }).dr!.upper));
  }
  const table = [
    ['estimator', 'first call (ms)', `median of ${reps} (ms)`, 'value'],
    ...timings.map((t) => [t.name, fmtMs(t.firstMs), t.samplesMs.length ? fmtMs(t.medianMs) : '—', t.value.toFixed(5)]),
  ];
  const started = new Date().toISOString();
  const runtime = await runtimeInfo();
  // The machine is shared: the 1-minute load average before and after says how much of it the run had.
  const load = { before: loadBefore[0], after: (await loadAverage())[0] };
  const md = [
    `# Off-policy estimators on ${rows} rows × K = ${k} (${started.slice(0, 10)})`, '',
    `Host float64, Float64Array columns; every call validates the whole n×K input, then one pass over the rows. ` +
      `Runtime: ${Object.entries(runtime).map(([key, v]) => `${key} ${v}`).join(', ')}; load average ${load.before?.toFixed(2)} before, ${load.after?.toFixed(2)} after. The bootstrap rows are one call each (the value column: the upper bound).`, '',
    ...markdownTable(table, 1),
  ].join('\n');
  const files = await writeResults(await resultsDir(argv), `ope-${dateStamp(started)}`, { bench: 'ope', started, runtime, load, rows, k, reps, buildMs, timings }, md);
  console.log(md);
  console.log(`wrote ${files.join(', ')}`);
  return 0;
}

runAsEntryPoint('ope', main);
