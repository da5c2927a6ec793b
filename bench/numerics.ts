// The cost of the accurate (float-float) LinUCB state against the build before it, in one run on
// one adapter: LinUCB update (a batch of B rows, drift control off so both do only the update)
// and select (B contexts in, B arms out), and measureDrift (‖I − A·A⁻¹‖∞ of every arm, now
// against the float-float A), on the webgpu backend, for this build and for an older build of the
// library (`--before DIR`, default dist-before/: `OUTDIR=dist-before node build.mjs` in a checkout
// of the old commit). Calls alternate between the two builds so load on the machine hits both.
//
//   node dist/bench/numerics.js [--before DIR] [--K 100] [--d 8,32,64] [--B 1,64] [--reps 15]
//
// Output: a markdown table on stdout (median ms a call, new/old ratio), written into
// docs/numerics.md by hand with the machine it ran on.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as current from '../src/index.js';
import { runAsEntryPoint } from './lib.js';

type Library = Pick<typeof current, 'createBackend' | 'LinUCB'>;
type Model = Awaited<ReturnType<typeof current.LinUCB.create>>;

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

async function main(argv: readonly string[]): Promise<number> {
  const i = argv.indexOf('--before');
  const before = resolve(i >= 0 ? argv[i + 1]! : 'dist-before');
  const old = (await import(pathToFileURL(`${before}/index.js`).href)) as Library;
  const libs: [string, Library][] = [['new', current], ['old', old]];
  const backends = await Promise.all(libs.map(([, l]) => l.createBackend({ kind: 'webgpu' })));
  const [K] = list(argv, 'K', [100]), reps = list(argv, 'reps', [15])[0]!;
  console.log(`adapter: ${backends[0]!.info.summary}; before: ${before}`);
  const rows = ['| K | d | B | op | new ms | old ms | new/old |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const d of list(argv, 'd', [8, 32, 64])) {
    for (const B of list(argv, 'B', [1, 64])) {
      const models: Model[] = [];
      for (const [j, [, l]] of libs.entries()) {
        models.push(await l.LinUCB.create(backends[j] as never, { arms: K!, dim: d, refactorEvery: 0, driftCheckEvery: 0 }) as Model);
      }
      const x = values(B * d, d * 1000 + B), r = values(B, 7), arms = Int32Array.from({ length: B }, (_, q) => (q * 7) % K!);
      const ops: [string, (m: Model) => Promise<unknown>][] = [
        ['update', (m) => m.update(arms, x, r)],
        ['select', (m) => m.select(x)],
        ['measureDrift', (m) => m.measureDrift()],
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
        rows.push(`| ${K} | ${d} | ${B} | ${name} | ${n.toFixed(2)} | ${o.toFixed(2)} | ${(n / o).toFixed(2)} |`);
        console.log(rows[rows.length - 1]);
      }
      for (const m of models) m.dispose();
    }
  }
  console.log(['', ...rows].join('\n'));
  for (const b of backends) b.dispose();
  return 0;
}

runAsEntryPoint('numerics', main);
