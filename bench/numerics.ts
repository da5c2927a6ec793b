// The cost of the accurate (float-float) LinUCB and HybridLinUCB state against the build before it,
// in one run on one adapter: update (a batch of B rows, drift control off so both do only the
// update) and select (B contexts in, B arms out), and measureDrift (‖I − A·A⁻¹‖∞ of every arm, now
// against the float-float A), on the webgpu backend, for this build and for an older build of the
// library (`--before DIR`, default dist-before/: `OUTDIR=dist-before node build.mjs` in a checkout
// of the old commit). Calls alternate between the two builds so load on the machine hits both.
// HybridLinUCB runs with sharedDim `--k` (default 8). NeuralUCB with `confidence: 'full'` (dim 8,
// hidden [16]: p = 161 parameters, one shared Z) times update without a drift check, select of K
// arms, and update with a check that always repairs (driftBound 1e-12): the repair's cost.
//
//   node dist/bench/numerics.js [--before DIR] [--K 100] [--d 8,32,64] [--B 1,64] [--k 8] [--reps 15]
//   node dist/bench/numerics.js --repeat 100000      (the long variant of the suite's Hybrid repeat test)
//
// `--repeat N`: HybridLinUCB (K = 10, d = 8, k = 4) with one (x, z) played N times on arm 0 in
// calls of 1 000 rows, webgpu against cpu: the share of 200 probe rows where both choose the same
// arm, the worst score difference, and the re-factorisations (this build only).
//
// Output: a markdown table on stdout (median ms a call, new/old ratio), written into
// docs/numerics.md and bench/results/numerics-<date>.md by hand with the machine it ran on.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '../src/index.js';
import { runAsEntryPoint } from './lib.js';

type Library = Pick<typeof current, 'createBackend' | 'LinUCB' | 'HybridLinUCB' | 'NeuralUCB'>;
/** What the bench calls of either model: contexts are LinUCB's B×d rows or Hybrid's { arm, shared }. */
interface Model {
  update(arms: Int32Array, contexts: never, rewards: Float32Array): Promise<void>;
  select(contexts: never): Promise<Int32Array>;
  measureDrift?(): Promise<number>;
  dispose(): void;
}

const list = (argv: readonly string[], name: string, fallback: number[]): number[] => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1]!.split(',').map(Number) : fallback;
};

/** Seeded uniform values in ±1 (mulberry32), the same for both builds. */
function values(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = 2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1;
  }
  return out;
}

const median = (xs: number[]): number => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)]!;

/** `--repeat N`: the Hybrid repeat probe of test/models/numerics.spec.ts at N plays (this build). */
async function repeatProbe(n: number): Promise<number> {
  const K = 10, d = 8, k = 4, batch = 1000, probes = 200;
  const x = values(d, 1), z = values(k, 2), xs = new Float32Array(batch * d), zs = new Float32Array(batch * k);
  for (let i = 0; i < batch; i++) {
    xs.set(x, i * d);
    zs.set(z, i * k);
  }
  const probe = { arm: values(probes * K * d, 3), shared: values(probes * K * k, 4) };
  const out: { chosen: Int32Array; scores: Float32Array; summary: string }[] = [];
  for (const kind of ['webgpu', 'cpu'] as const) {
    const backend = await current.createBackend({ kind });
    const model = await current.HybridLinUCB.create(backend, { arms: K, dim: d, sharedDim: k, alpha: 1, seed: 1 });
    const t0 = performance.now();
    for (let done = 0; done < n; done += batch) {
      const m = Math.min(batch, n - done);
      await model.update(new Int32Array(m), { arm: xs.subarray(0, m * d), shared: zs.subarray(0, m * k) }, new Float32Array(m).fill(0.5));
    }
    const g = model.diagnostics();
    out.push({
      chosen: await model.select(probe), scores: await model.scores(probe),
      summary: `${kind}: ${((performance.now() - t0) / 1000).toFixed(1)} s, ${g.refactorizations} re-factorisations (${g.failedRefactorizations} failed), lastDrift ${g.lastDrift?.toExponential(2)}`,
    });
    model.dispose();
    backend.dispose();
  }
  const [g, c] = out as [typeof out[0], typeof out[0]];
  let same = 0, worst = 0;
  for (let row = 0; row < probes; row++) {
    if (g.chosen[row] === c.chosen[row]) same++;
    const scale = Math.max(...Array.from(c.scores.subarray(row * K, (row + 1) * K), Math.abs));
    for (let a = 0; a < K; a++) worst = Math.max(worst, Math.abs(g.scores[row * K + a]! - c.scores[row * K + a]!) / scale);
  }
  console.log(`HybridLinUCB, one (x, z) played ${n} times on arm 0: ${g.summary}; ${c.summary}`);
  console.log(`same arm on ${((100 * same) / probes).toFixed(1)} % of ${probes} rows; worst score difference ${worst.toExponential(2)} of the row's largest`);
  return 0;
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--repeat')) return repeatProbe(list(argv, 'repeat', [100_000])[0]!);
  const i = argv.indexOf('--before');
  const before = resolve(i >= 0 ? argv[i + 1]! : 'dist-before');
  const old = (await import(pathToFileURL(`${before}/index.js`).href)) as Library;
  const libs: [string, Library][] = [['new', current], ['old', old]];
  const backends = await Promise.all(libs.map(([, l]) => l.createBackend({ kind: 'webgpu' })));
  const [K] = list(argv, 'K', [100]), reps = list(argv, 'reps', [15])[0]!, k = list(argv, 'k', [8])[0]!;
  console.log(`adapter: ${backends[0]!.info.summary}; before: ${before}`);
  const rows = ['| model | K | d | B | op | new ms | old ms | new/old |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  const cases = [
    ...(['LinUCB', 'HybridLinUCB'] as const).flatMap((name) => list(argv, 'd', [8, 32, 64]).flatMap((d) => list(argv, 'B', [1, 64]).map((B) => [name, d, B] as const))),
    ...list(argv, 'B', [1, 64]).map((B) => ['NeuralUCB', 8, B] as const),
  ];
  for (const [model, d, B] of cases) {
    const models: Model[][] = [];
    const options = { arms: K!, dim: d, refactorEvery: 0, driftCheckEvery: 0 };
    const neural = { dim: d, hidden: [16], confidence: 'full', trainEvery: 0, seed: 1 } as const;
    for (const [j, [, l]] of libs.entries()) {
      const backend = backends[j] as never;
      const made = model === 'LinUCB' ? [await l.LinUCB.create(backend, options)]
        : model === 'HybridLinUCB' ? [await l.HybridLinUCB.create(backend, { ...options, sharedDim: k })]
        : [await l.NeuralUCB.create(backend, { ...neural, driftCheckEvery: 0 }), await l.NeuralUCB.create(backend, { ...neural, driftCheckEvery: B, driftBound: 1e-12 })];
      models.push(made as unknown as Model[]);
    }
    const r = values(B, 7), arms = Int32Array.from({ length: B }, (_, q) => (q * 7) % K!);
    // LinUCB: B×d rows; Hybrid: B×K×d and B×K×k (the update takes the played arms' rows of them);
    // NeuralUCB: B played arms' features to learn from, K arms' features to select among.
    const x = model === 'LinUCB' ? values(B * d, d * 1000 + B)
      : model === 'HybridLinUCB' ? { arm: values(B * K! * d, d * 1000 + B), shared: values(B * K! * k, d * 1000 + B + 1) } : values(B * d, d * 1000 + B);
    const choices = model === 'NeuralUCB' ? values(K! * d, 5) : x;
    const ops: [string, (m: Model[]) => Promise<unknown>][] = [
      ['update', (m) => m[0]!.update(arms, x as never, r)],
      ['select', (m) => m[0]!.select(choices as never)],
      model === 'NeuralUCB' ? ['update + repair', (m) => m[1]!.update(arms, x as never, r)] : ['measureDrift', (m) => m[0]!.measureDrift!()],
    ];
    for (const [name, call] of ops) {
      const times: number[][] = [[], []];
      for (const m of models) await call(m); // compile and warm
      for (let rep = 0; rep < reps; rep++) {
        for (const [j, m] of models.entries()) {
          const t0 = performance.now();
          await call(m);
          times[j]!.push(performance.now() - t0);
        }
      }
      const [n, o] = times.map(median) as [number, number];
      rows.push(`| ${model} | ${K} | ${d} | ${B} | ${name} | ${n.toFixed(2)} | ${o.toFixed(2)} | ${(n / o).toFixed(2)} |`);
      console.log(rows[rows.length - 1]);
    }
    for (const m of models.flat()) m.dispose();
  }
  console.log(['', ...rows].join('\n'));
  for (const b of backends) b.dispose();
  return 0;
}

runAsEntryPoint('numerics', main);
