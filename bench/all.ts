// `npm run bench`: the head-to-head suite (bench/suite.ts) in Node — the library against plain JS
// and TF.js (cpu, wasm, and webgpu on Dawn, the adapter the library uses) in one run. The same
// suite runs in headless Chromium with `npm run bench:browser` (bench/browser/run.mjs).
//
//   npm run bench                         the full grid, pruned to fit; about 10 minutes here
//   npm run bench -- --quick              a smaller grid and shorter timing
//   node dist/bench/all.js --family linucb --K 1000 --d 32 --B 64 --runners webgpu,tfjs-webgpu
//   node dist/bench/all.js --render bench/results/suite-….json   rewrite a report from its JSON
//   (all options: --help)
//
// The per-family benches with more detail remain: bench/run.ts (ops), bench/linucb.ts,
// bench/neural.ts (npm run bench:ops, bench:linucb, bench:neural).
import { createCpuMeter, dateStamp, tfjsWasmFolder, loadAverage, option, resultsDir, runAsEntryPoint, runtimeInfo } from './lib.js';
import { rerender, writeSuiteResults } from './report.js';
import { USAGE, parseOptions, runSuite } from './suite.js';

/** A GPU from the 'webgpu' package (Dawn) for TF.js; the library's own acquisition has set VK_ICD_FILENAMES where it needed SwiftShader. */
async function nodeGpu(): Promise<GPU> {
  const specifier = 'webgpu';
  const mod = (await import(specifier)) as { create(flags: string[]): GPU; globals: Record<string, unknown> };
  Object.assign(globalThis, mod.globals);
  return mod.create([]);
}

export async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(USAGE);
    return 0;
  }
  const render = option(argv, '--render');
  if (render) {
    for (const f of await rerender(render)) console.log(`wrote ${f}`);
    return 0;
  }
  const options = parseOptions(argv);
  const runtime = { ...(await runtimeInfo()) };
  let tfjs = null;
  if (options.tfjs) {
    try {
      tfjs = { wasmPath: await tfjsWasmFolder(), nodeGpu };
    } catch (e) {
      console.log(`TF.js peers off: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  const report = await runSuite(options, { runtime, tfjs, meter: await createCpuMeter(), loadAverage });
  const name = option(argv, '--name') ?? `suite-${dateStamp(report.date)}-node${process.versions.node.split('.')[0]}${options.quick ? '-quick' : ''}`;
  const files = await writeSuiteResults(await resultsDir(argv), name, report);
  console.log('');
  for (const t of report.targets) {
    console.log(`target ${t.title}: ${t.ratio === undefined ? `not measured (${t.note ?? ''})` : `${t.ratio.toFixed(2)}× (need ≥ ${t.atLeast}×) ${t.pass ? 'PASS' : 'MISS'}`}`);
  }
  console.log(`\n${report.failures} failed, ${report.skipped} skipped, ${report.pruned.length} pruned, ${report.totalSeconds.toFixed(0)} s; wrote ${files.join(', ')}`);
  return report.failures > 0 ? 1 : 0;
}

runAsEntryPoint('all', main);
