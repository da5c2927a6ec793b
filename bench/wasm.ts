// The wasm backend's targets (issue 17), every peer in the same process and the same run, medians:
//
//   1. LinUCB select, K = 1000, d = 32, B = 64: wasm against TF.js's wasm backend, and against
//      the f32 SIMD multiply-add rate of these cores (wasm/calibrate.c's calibrate_fma, timed here).
//   2. One LinUCB round (select + update), K = 7, d = 9, B = 1: wasm and cpu, µs a round.
//   3. LinUCB update, K = 10⁴, d = 64, B = 256, and NeuralUCB select (forward, every arm's
//      gradient folded into the diagonal bonus, argmax) at K = 1000, d = 32, width 100 (p = (32 + 1)·100 + 100 + 1 = 3401):
//      wasm against the float64 cpu backend.
//   4. With --stream: NeuralUCB over a 3000-round stream, 7 arms, 63-dim per-arm features (a
//      9-feature, 7-class problem in the disjoint encoding), width 100, default training, on
//      `auto`, wasm and cpu: seconds and regret.
//
//   node dist/bench/wasm.js [--stream [--seeds 1]] [--rounds 3000] [--only select,round,update,neural] [--out DIR]
//
// Writes bench/results/wasm-<date>.json and .md.
import { createBackend, LinUCB, NeuralUCB, type Backend } from '../src/index.js';
import { Random } from '../src/sim/index.js';
import type { WasmBackend } from '../src/wasm/backend.js';
import { instantiateKernels } from '../src/wasm/module.js';
import { loadTfjs } from './peers/tfjs.js';
import {
  dateStamp, fmtMs, lcg, loadAverage, markdownTable, numberOption, option, resultsDir, runAsEntryPoint, runtimeInfo,
  stats, tfjsWasmFolder, timeRepeated, unitRows, writeResults, type Stats,
} from './lib.js';

interface Timed {
  readonly runner: string;
  readonly ms: Stats;
  readonly samples: number;
}

interface Target {
  readonly name: string;
  readonly measured: string;
  readonly target: string;
  readonly met: boolean;
}

const CALIBRATE_ITERS = 1_000_000;

/** One timed call of calibrate_fma: 64·CALIBRATE_ITERS f32 FLOPs (a runner of `alternate`). */
async function calibrationRunner(): Promise<() => Promise<number>> {
  const k = await instantiateKernels();
  return async () => k.calibrate_fma(CALIBRATE_ITERS, 0.9999999, 1e-7);
}

const calibratedGflops = (t: Timed): number => (64 * CALIBRATE_ITERS) / (t.ms.median * 1e6);

/** f32 GFLOP/s of calibrate_fma, the median of `rounds` timings. */
async function calibrateFma(rounds: number): Promise<{ gflops: number; ms: Stats }> {
  const [t] = await alternate([['calibrate_fma', await calibrationRunner()]], rounds, 50);
  return { gflops: calibratedGflops(t!), ms: t!.ms };
}

/** Times the runners in alternating sets (`rounds` of each, after one warm-up call each), so all see the same load. */
async function alternate(runs: readonly (readonly [string, () => Promise<unknown>])[], rounds: number, targetMs: number): Promise<Timed[]> {
  const all = runs.map(() => [] as number[]);
  // Warm-up: V8 runs wasm in its baseline tier first and optimises hot functions after a while.
  for (const [, run] of runs) for (let i = 0; i < 3; i++) await run();
  for (let r = 0; r < rounds; r++) {
    for (const [i, [, run]] of runs.entries()) all[i]!.push(...(await timeRepeated(run, { minReps: 3, maxReps: 50, targetMs })));
  }
  return runs.map(([runner], i) => ({ runner, ms: stats(all[i]!), samples: all[i]!.length }));
}

/** A LinUCB with `history` rows of seeded play, so A⁻¹ is not the identity. */
async function trainedLinUCB(backend: Backend, arms: number, dim: number, history: number): Promise<LinUCB> {
  const m = await LinUCB.create(backend, { arms, dim, alpha: 1 });
  const batch = 256;
  for (let at = 0; at < history; at += batch) {
    const x = unitRows(batch, dim, 7 + at), r = lcg(batch, 11 + at);
    await m.update(Int32Array.from({ length: batch }, (_, i) => (at + i * 7919) % arms), x, r);
  }
  return m;
}

/** A 7-class problem on 9 features: class means on the unit sphere, unit Gaussian noise × 0.35. */
function stream(rounds: number, seed: number): { x: Float32Array; labels: Int32Array } {
  const random = new Random(seed), classes = 7, features = 9;
  const means = unitRows(classes, features, seed + 1);
  const x = new Float32Array(rounds * features), labels = new Int32Array(rounds);
  for (let t = 0; t < rounds; t++) {
    const c = random.int(classes);
    labels[t] = c;
    for (let j = 0; j < features; j++) x[t * features + j] = means[c * features + j]! + 0.35 * random.normal();
  }
  return { x, labels };
}

/** NeuralUCB on the stream in the disjoint encoding (arm a's vector: the 9 features in block a of 63). */
async function playStream(backend: Backend, rounds: number, seed: number): Promise<{ seconds: number; regret: number; summary: string }> {
  const { x, labels } = stream(rounds, 5 + 10 * seed);
  const K = 7, f = 9, dim = K * f;
  const model = await NeuralUCB.create(backend, { dim, hidden: [100], seed: 3 + seed });
  const started = performance.now();
  let regret = 0;
  const arms = new Float32Array(K * dim);
  for (let t = 0; t < rounds; t++) {
    arms.fill(0);
    for (let a = 0; a < K; a++) arms.set(x.subarray(t * f, t * f + f), a * dim + a * f);
    const [a] = await model.select(arms, { arms: K });
    const reward = a === labels[t] ? 1 : 0;
    regret += 1 - reward;
    await model.update(Int32Array.of(a!), arms.subarray(a! * dim, (a! + 1) * dim), Float32Array.of(reward));
  }
  const seconds = (performance.now() - started) / 1000;
  model.dispose();
  return { seconds, regret, summary: backend.info.summary };
}

const ratio = (slow: Timed, fast: Timed): number => slow.ms.median / fast.ms.median;

async function main(argv: readonly string[]): Promise<number> {
  const only = (option(argv, '--only') ?? 'select,round,update,neural').split(',');
  const rounds = numberOption(argv, '--rounds', 3000);
  const started = new Date().toISOString();
  const loadStart = await loadAverage();
  const wasm = await createBackend({ kind: 'wasm' }), cpu = await createBackend({ kind: 'cpu' });
  const cases: Record<string, unknown>[] = [];
  const targets: Target[] = [];
  const lines: string[] = [];
  const log = (s: string) => {
    console.log(s);
    lines.push(s);
  };
  const calibration = await calibrateFma(7);
  log(`calibrate_fma (wasm f32x4 mul+add, one thread): ${calibration.gflops.toFixed(2)} GFLOP/s`);

  const wasm2 = (await createBackend({ kind: 'wasm', threads: 2 })) as WasmBackend;
  /** Two threads against one, measured in the same rounds. */
  const twoThreads = (name: string, timed: readonly Timed[]): void => {
    const one = timed.find((r) => r.runner === 'wasm')!, two = timed.find((r) => r.runner === 'wasm 2 threads')!;
    targets.push({ name: `${name}, 2 threads vs 1`, measured: `${ratio(one, two).toFixed(2)}×`, target: '> 1× (both cores)', met: ratio(one, two) > 1 });
  };
  if (only.includes('select')) {
    const K = 1000, d = 32, B = 64, flops = 2 * d * d * K * B;
    const tfEnv = await loadTfjs({ wasmPath: await tfjsWasmFolder() });
    const ours = await trainedLinUCB(wasm, K, d, 4096), twin = await trainedLinUCB(cpu, K, d, 4096), ours2 = await trainedLinUCB(wasm2, K, d, 4096);
    const x = unitRows(B, d, 99);
    const [a, b] = [await ours.select(x), await twin.select(x)];
    const agree = a.filter((v, i) => v === b[i]).length;
    await tfEnv.use('wasm');
    const peer = new (await import('./peers/tfjs.js')).TfjsLinUCB(tfEnv.tf, K, d, 1, 1);
    // The calibration in the same alternation: its rate is measured under the load the select sees.
    const timed = await alternate([['wasm', () => ours.select(x)], ['tfjs-wasm', () => peer.select(x)], ['cpu', () => twin.select(x)],
      ['calibrate_fma', await calibrationRunner()], ['wasm 2 threads', () => ours2.select(x)]], 7, 300);
    const [w, t, c, cal, w2] = timed as [Timed, Timed, Timed, Timed, Timed];
    const stolen = wasm2.threads ? `${wasm2.threads.calls} split calls, chunks run by the calling thread ${wasm2.threads.chunksHere}, by the worker ${wasm2.threads.chunksThere}` : wasm2.info.summary;
    const gflops = flops / (w.ms.median * 1e6), peak = calibratedGflops(cal);
    log(`select K=${K} d=${d} B=${B}: ${timed.map((r) => `${r.runner} ${fmtMs(r.ms.median)}`).join(', ')}; wasm ${gflops.toFixed(2)} GFLOP/s ` +
      `(${(100 * gflops / peak).toFixed(0)} % of calibrate_fma's ${peak.toFixed(2)} in the same rounds); choices equal to cpu's in ${agree}/${B}; 2 threads: ${stolen}; tfjs-wasm threads: ${JSON.stringify(tfEnv.backends.wasm.info ?? {})}`);
    cases.push({ name: 'linucb select', shape: { K, d, B }, flops, runners: timed, wasmGflops: gflops, choicesEqualToCpu: agree, tfjsWasm: tfEnv.backends.wasm });
    targets.push({ name: 'select K=1000 d=32 B=64 vs TF.js wasm', measured: `${ratio(t, w).toFixed(2)}×`, target: '≥ 3×', met: ratio(t, w) >= 3 });
    targets.push({ name: 'select K=1000 d=32 B=64 vs calibrate_fma', measured: `${(100 * gflops / peak).toFixed(0)} %`, target: '≥ 25 %', met: gflops >= 0.25 * peak });
    targets.push({ name: 'select K=1000 d=32 B=64 vs cpu (float64)', measured: `${ratio(c, w).toFixed(2)}×`, target: '(context)', met: true });
    targets.push({ name: 'select K=1000 d=32 B=64, 2 threads vs 1', measured: `${ratio(w, w2).toFixed(2)}×`, target: '> 1× (both cores)', met: ratio(w, w2) > 1 });
    ours.dispose(); twin.dispose(); peer.dispose(); ours2.dispose();
  }

  if (only.includes('round')) {
    const K = 7, d = 9, n = 200;
    const timed: Timed[] = [];
    for (const backend of [wasm, cpu]) {
      const m = await trainedLinUCB(backend, K, d, 256);
      const x = unitRows(n, d, 5), r = lcg(n, 6);
      const block = async () => {
        for (let i = 0; i < n; i++) {
          const xi = x.subarray(i * d, i * d + d);
          const [a] = await m.select(xi);
          await m.update(Int32Array.of(a!), xi, r.subarray(i, i + 1));
        }
      };
      const samples = (await alternate([[backend.kind, block]], 9, 100)).map((s) => s)[0]!;
      timed.push({ runner: backend.kind, ms: { ...samples.ms, median: samples.ms.median / n, q1: samples.ms.q1 / n, q3: samples.ms.q3 / n, min: samples.ms.min / n, max: samples.ms.max / n }, samples: samples.samples });
      m.dispose();
    }
    log(`round K=${K} d=${d} B=1 (select + update): ${timed.map((r) => `${r.runner} ${(r.ms.median * 1000).toFixed(1)} µs`).join(', ')}`);
    cases.push({ name: 'linucb round', shape: { K, d, B: 1 }, runners: timed });
    targets.push({ name: 'one round K=7 d=9 B=1', measured: `${(timed[0]!.ms.median * 1000).toFixed(1)} µs`, target: '≤ 10 µs', met: timed[0]!.ms.median <= 0.01 });
  }

  if (only.includes('update')) {
    const K = 10_000, d = 64, B = 256;
    const models = [await LinUCB.create(wasm, { arms: K, dim: d }), await LinUCB.create(cpu, { arms: K, dim: d }), await LinUCB.create(wasm2, { arms: K, dim: d })];
    const calls = [0, 0, 0];
    const run = (i: number) => () => {
      const at = calls[i]!++, m = models[i]!;
      return m.update(Int32Array.from({ length: B }, (_, j) => (at * 131 + j * 37) % K), unitRows(B, d, at), lcg(B, at + 1));
    };
    const timed = await alternate([['wasm', run(0)], ['cpu', run(1)], ['wasm 2 threads', run(2)]], 5, 300);
    twoThreads('update K=1e4 d=64 B=256', timed);
    log(`update K=${K} d=${d} B=${B}: ${timed.map((r) => `${r.runner} ${fmtMs(r.ms.median)}`).join(', ')}`);
    cases.push({ name: 'linucb update', shape: { K, d, B }, runners: timed });
    targets.push({ name: 'update K=1e4 d=64 B=256 vs cpu', measured: `${ratio(timed[1]!, timed[0]!).toFixed(2)}×`, target: '≥ 3×', met: ratio(timed[1]!, timed[0]!) >= 3 });
    for (const m of models) m.dispose();
  }

  if (only.includes('neural')) {
    const K = 1000, d = 32;
    const models = [wasm, cpu, wasm2].map((b) => NeuralUCB.create(b, { dim: d, hidden: [100], seed: 1 }));
    const x = lcg(K * d, 12);
    const names = ['wasm', 'cpu', 'wasm 2 threads'];
    const timed = await alternate(await Promise.all(models.map(async (m, i) => { const model = await m; return [names[i]!, () => model.select(x, { arms: K })] as const; })), 5, 300);
    twoThreads('Jacobian + diagonal bonus K=1000 p=3401', timed);
    log(`NeuralUCB select (Jacobian + diagonal bonus) K=${K} d=${d} width 100 (p = ${3401}): ${timed.map((r) => `${r.runner} ${fmtMs(r.ms.median)}`).join(', ')}`);
    cases.push({ name: 'neural select', shape: { K, d, p: 3401 }, runners: timed });
    targets.push({ name: 'Jacobian + diagonal bonus K=1000 p=3401 vs cpu', measured: `${ratio(timed[1]!, timed[0]!).toFixed(2)}×`, target: '≥ 3×', met: ratio(timed[1]!, timed[0]!) >= 3 });
    for (const m of models) (await m).dispose();
  }

  if (argv.includes('--stream')) {
    const auto = await createBackend({ kind: 'auto' });
    // Seed 0 on auto (timed), then every seed on wasm and cpu: f32 and float64 runs part ways
    // after the first rounding that flips a choice, so regret is compared over seeds.
    const seeds = numberOption(argv, '--seeds', 1);
    const runs: { backend: string; seed: number; seconds: number; regret: number; summary: string }[] = [];
    const plan: (readonly [string, Backend, number])[] = [['auto', auto, 0]];
    for (let seed = 0; seed < seeds; seed++) plan.push(['wasm', wasm, seed], ['cpu', cpu, seed]);
    for (const [name, backend, seed] of plan) {
      const r = await playStream(backend, rounds, seed);
      runs.push({ backend: name, seed, ...r });
      log(`NeuralUCB stream ${rounds} rounds K=7 dim 63 width 100, seed ${seed}, on ${name} (${r.summary}): ${r.seconds.toFixed(1)} s, regret ${r.regret}`);
    }
    cases.push({ name: 'neural stream', shape: { rounds, K: 7, dim: 63, width: 100 }, runs });
    const a = runs[0]!, of = (name: string) => runs.filter((r) => r.backend === name).map((r) => r.regret);
    const mean = (v: number[]) => v.reduce((p, q) => p + q, 0) / v.length;
    const [rw, rc] = [of('wasm'), of('cpu')];
    targets.push({
      name: `NeuralUCB ${rounds} rounds on auto (${a.summary.split(':')[0]})`,
      measured: `${a.seconds.toFixed(1)} s; regret over ${seeds} seed(s): wasm ${rw.join(', ')} (mean ${mean(rw).toFixed(0)}), cpu ${rc.join(', ')} (mean ${mean(rc).toFixed(0)})`,
      target: '≤ 30 s, regret as cpu', met: a.seconds <= 30 && mean(rw) <= 1.05 * mean(rc),
    });
    auto.dispose();
  }

  const md = [
    `# wasm backend targets (${started.slice(0, 16)} UTC)`, '',
    `Backends: ${wasm.info.summary}; ${cpu.info.summary}. calibrate_fma at the start: ${calibration.gflops.toFixed(2)} GFLOP/s (one thread, f32x4 mul+add; the select's yardstick is the rate measured in its own rounds, in the log).`, '',
    ...markdownTable([['target', 'measured', 'goal', 'met'], ...targets.map((t) => [t.name, t.measured, t.target, t.met ? 'yes' : 'NO'])], 1), '',
    'Log:', '', ...lines.map((l) => `- ${l}`),
  ].join('\n');
  const files = await writeResults(await resultsDir(argv), `wasm-${dateStamp(started)}`, {
    bench: 'wasm', started, runtime: await runtimeInfo(), loadAverage: { start: loadStart, end: await loadAverage() },
    backends: { wasm: wasm.info, cpu: cpu.info }, calibration, targets, cases,
  }, md);
  console.log(md);
  console.log(`wrote ${files.join(', ')}`);
  wasm.dispose(); cpu.dispose(); wasm2.dispose();
  return 0;
}

runAsEntryPoint('wasm', main);
