// What a decision costs against a plain select, model-level: LinUCB select (the deterministic UCB
// argmax, the baseline), LinUCB with ε-greedy and softmax exploration (select and decide), and
// LinTS (select, and decide with its propensities estimated from M ∈ {64, 256, 1024} posterior
// draws), at K ∈ {10, 1000, 10⁴}, d = 32, B ∈ {1, 64}, on the webgpu and cpu backends in one
// process. Each model has had 4 update batches of 64 rows first (scores neither flat nor tied).
// A call is the whole public call: upload, scoring, sampling and the readback of B arms (and
// propensities), awaited. The first call is timed apart (pipeline compilation), then at least 3
// calls until 300 ms (at most 20), median and quartiles. Wall clock: SwiftShader has no
// timestamp queries. Before timing, each call's result is checked (arms in range, propensities in
// (0, 1] — [0, 1] for Thompson estimates, whose zeros are counted: the share-of-M-draws estimate of
// 2026-12-02 was 0 for most rows at K ≥ 1000, the Rao–Blackwellised one should be 0 for none — a
// deterministic decide equal to select). Shapes whose Thompson propensities take over
// 2²⁴ draws a call (B·K·M) are left out and listed (seconds a call on this machine).
//
//   node build.mjs && node dist/bench/decide.js [--quick] [--out DIR]
//   (--quick: K ≤ 1000, M ∈ {64, 256})
//
// Writes a table to stdout and decide-<date>-node.{json,md} to bench/results (or DIR).
import { LinTS, LinUCB, type Backend, type Exploration } from '../src/index.js';
import {
  acquireBackends, backendInfo, dateStamp, fmtMs, lcg, loadAverage, markdownTable, message, resultsDir, runAsEntryPoint,
  runtimeInfo, stats, textTable, timeOnce, timeRepeated, unitRows, writeResults, type Stats,
} from './lib.js';

interface Row {
  readonly model: string;
  readonly call: 'select' | 'decide';
  readonly backend: string;
  readonly shape: Readonly<Record<string, number>>;
  readonly firstMs?: number;
  readonly ms?: Stats;
  readonly reps?: number;
  readonly error?: string;
  /** Median over LinUCB select's median on the same backend and shape. */
  readonly vsSelect?: number;
  /** Thompson decide: the share of the checked call's rows whose estimated propensity was 0. */
  readonly zeroEstimates?: number;
}

const D = 32;
const REPS = { minReps: 3, maxReps: 20, targetMs: 300 };
/** A first call over this is not repeated (it is the only sample). */
const SINGLE_CALL_MS = 3000;
/** Most Thompson propensity draws (B·K·M) a timed call may take. */
const MAX_DRAWS = 2 ** 24;

type Model = LinUCB | LinTS;

/** A model after 4 update batches of 64 random rows on a synthetic bandit (the same data on every backend). */
async function trained(make: () => Promise<Model>, K: number): Promise<Model> {
  const model = await make();
  for (let t = 0; t < 4; t++) {
    const x = unitRows(64, D, 100 + t);
    const arms = Int32Array.from(lcg(64, 200 + t), (v) => Math.min(K - 1, Math.floor(((v + 1) / 2) * K)));
    const rewards = Float32Array.from(lcg(64, 300 + t), (v) => 0.5 + 0.5 * v);
    await model.update(arms, x, rewards);
  }
  return model;
}

/** Checks one call's result before it is timed; for a Thompson decide, returns the share of zero estimates. */
async function check(model: Model, call: 'select' | 'decide', x: Float32Array, rows: number, K: number, deterministic: boolean): Promise<number | undefined> {
  if (call === 'select') {
    const arms = await model.select(x);
    if (arms.length !== rows || arms.some((a) => a < 0 || a >= K)) throw new Error('select: an arm is out of range');
    return undefined;
  }
  const d = await model.decide(x);
  const estimated = d.propensityDraws !== undefined;
  if (d.arms.some((a) => a < 0 || a >= K)) throw new Error('decide: an arm is out of range');
  if (d.propensities.some((p) => !((estimated ? p >= 0 : p > 0) && p <= 1))) throw new Error(`decide: a propensity outside ${estimated ? '[0, 1]' : '(0, 1]'}`);
  if (d.eventIds.length !== rows) throw new Error('decide: not one event id a row');
  if (deterministic && (await model.select(x)).some((a, i) => a !== d.arms[i])) throw new Error('decide differs from select');
  return estimated ? d.propensities.filter((p) => p === 0).length / rows : undefined;
}

async function timeCall(model: Model, call: 'select' | 'decide', x: Float32Array): Promise<{ firstMs: number; ms: Stats; reps: number }> {
  const run = () => (call === 'select' ? model.select(x) : model.decide(x));
  const firstMs = await timeOnce(run);
  if (firstMs > SINGLE_CALL_MS) return { firstMs, ms: stats([firstMs]), reps: 1 };
  const samples = await timeRepeated(run, REPS);
  return { firstMs, ms: stats(samples), reps: samples.length };
}

interface Variant {
  readonly model: string;
  readonly call: 'select' | 'decide';
  readonly make: (backend: Backend, K: number) => Promise<Model>;
  readonly draws?: number;
  readonly deterministic?: boolean;
}

function variants(quick: boolean): Variant[] {
  const linucb = (exploration?: Exploration) => (b: Backend, K: number) =>
    LinUCB.create(b, { arms: K, dim: D, alpha: 1, seed: 1, ...(exploration ? { exploration } : {}) });
  const out: Variant[] = [{ model: 'LinUCB', call: 'select', make: linucb(), deterministic: true }];
  for (const [name, e] of [['LinUCB ε-greedy 0.05', { kind: 'epsilon-greedy', epsilon: 0.05 }], ['LinUCB softmax 0.1', { kind: 'softmax', temperature: 0.1 }]] as const) {
    out.push({ model: name, call: 'select', make: linucb(e) }, { model: name, call: 'decide', make: linucb(e) });
  }
  out.push({ model: 'LinTS', call: 'select', make: (b, K) => LinTS.create(b, { arms: K, dim: D, v: 0.5, seed: 1 }) });
  for (const M of quick ? [64, 256] : [64, 256, 1024]) {
    out.push({ model: `LinTS M=${M}`, call: 'decide', draws: M, make: (b, K) => LinTS.create(b, { arms: K, dim: D, v: 0.5, seed: 1, propensityDraws: M }) });
  }
  return out;
}

const shapeText = (s: Readonly<Record<string, number>>): string => Object.entries(s).map(([k, v]) => `${k}=${v}`).join(' ');

function line(r: Row): string {
  const what = `  ${r.backend.padEnd(7)} ${`${r.model} ${r.call}`.padEnd(28)} ${shapeText(r.shape).padEnd(18)}`;
  if (r.error) return `${what} FAILED: ${r.error}`;
  const ms = r.ms!;
  return `${what} first ${fmtMs(r.firstMs!).padStart(7)} ms  median ${fmtMs(ms.median).padStart(7)} ms  [${fmtMs(ms.q1)} … ${fmtMs(ms.q3)}]` +
    `${r.vsSelect ? `  ${r.vsSelect.toFixed(2)}× select` : ''}${r.zeroEstimates !== undefined ? `  zero estimates ${(100 * r.zeroEstimates).toFixed(0)}%` : ''}`;
}

function cells(r: Row): string[] {
  if (r.error) return [r.model, r.call, r.backend, shapeText(r.shape), '', 'failed', '', '', '', r.error];
  const ms = r.ms!;
  return [r.model, r.call, r.backend, shapeText(r.shape), fmtMs(r.firstMs!), fmtMs(ms.median), `${fmtMs(ms.q1)} … ${fmtMs(ms.q3)}`,
    r.vsSelect ? `${r.vsSelect.toFixed(2)}×` : '', r.zeroEstimates !== undefined ? `${(100 * r.zeroEstimates).toFixed(0)}%` : '', String(r.reps)];
}

export async function main(argv: readonly string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const { gpu, cpu } = await acquireBackends();
  const started = new Date().toISOString();
  const log = (s: string): void => console.log(s);
  const rows: Row[] = [], skipped: string[] = [];
  for (const [name, backend] of [['webgpu', gpu], ['cpu', cpu]] as const) {
    for (const K of quick ? [10, 1000] : [10, 1000, 10_000]) {
      for (const B of [1, 64]) {
        const shape = { K, d: D, B };
        log(`\n${name} K=${K} d=${D} B=${B}`);
        if (backend instanceof Error) {
          rows.push({ model: 'all', call: 'select', backend: name, shape, error: message(backend) });
          continue;
        }
        const x = unitRows(B, D, K + B);
        let baseline: number | undefined;
        for (const v of variants(quick)) {
          const s = v.draws ? { ...shape, M: v.draws } : shape;
          if (v.draws && B * K * v.draws > MAX_DRAWS) {
            skipped.push(`${name} ${v.model} decide ${shapeText(s)} (${B * K * v.draws} draws)`);
            continue;
          }
          let row: Row;
          let model: Model | null = null;
          try {
            model = await trained(() => v.make(backend, K), K);
            const zeros = await check(model, v.call, x, B, K, v.deterministic ?? false);
            const t = await timeCall(model, v.call, x);
            if (v.model === 'LinUCB') baseline = t.ms.median;
            row = {
              model: v.model, call: v.call, backend: name, shape: s, ...t,
              ...(baseline && v.model !== 'LinUCB' ? { vsSelect: t.ms.median / baseline } : {}), ...(zeros !== undefined ? { zeroEstimates: zeros } : {}),
            };
          } catch (e) {
            row = { model: v.model, call: v.call, backend: name, shape: s, error: message(e) };
          } finally {
            model?.dispose();
          }
          rows.push(row);
          log(line(row));
        }
      }
    }
  }
  if (skipped.length) log(`\nleft out: ${skipped.join('; ')}`);
  const report = {
    bench: 'decide', started, runtime: await runtimeInfo(), loadAverage: await loadAverage(),
    backends: { webgpu: backendInfo(gpu), cpu: backendInfo(cpu) }, rows, skipped,
  };
  const header = ['model', 'call', 'backend', 'shape', 'first ms', 'median ms', 'quartiles', 'vs LinUCB select', 'zero estimates', 'samples'];
  const md = [
    `# decide against select — ${started}`, '',
    `webgpu: ${'summary' in report.backends.webgpu ? report.backends.webgpu.summary : report.backends.webgpu.error}; load average ${report.loadAverage.join(' ')}`, '',
    ...markdownTable([header, ...rows.map(cells)], 4), '',
    skipped.length ? `Left out: ${skipped.join('; ')}.` : '',
  ].join('\n');
  console.log(`\n${textTable([header, ...rows.map(cells)], 4).join('\n')}`);
  const files = await writeResults(await resultsDir(argv), `decide-${dateStamp(started)}-node`, report, md);
  console.log(`\nwrote ${files.join(', ')}`);
  if (!(gpu instanceof Error)) gpu.dispose();
  return rows.some((r) => r.error) ? 1 : 0;
}

runAsEntryPoint('decide', main);
