// Bundles the library and the test suite with esbuild; WGSL files become string modules.
// node build.mjs    Outputs under dist/ (or $OUTDIR).
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';

const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  loader: { '.wgsl': 'text' },
  sourcemap: 'linked',
  logLevel: 'warning',
  platform: 'neutral',
  mainFields: ['module', 'main'],
};

const out = process.env.OUTDIR ?? 'dist';
const benches = readdirSync('bench').filter((f) => f.endsWith('.ts')).map((f) => `bench/${f}`);

await Promise.all([
  // The library's entry points, ESM for Node and browsers ('webgpu' is imported lazily, by Node
  // only); code they share goes into chunks, so importing two entries loads it once.
  build({
    ...common,
    entryPoints: { index: 'src/index.ts', ops: 'src/ops/index.ts', sim: 'src/sim/index.ts', eval: 'src/eval/index.ts' },
    outdir: out,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
  }),
  // The test suite: one bundle that runs under mocha in Node and in Chromium's page.
  build({ ...common, entryPoints: ['test/index.ts'], outfile: `${out}/test/suite.js`, platform: 'browser' }),
  // Benchmarks run in Node (and in the page through the harness).
  benches.length && build({ ...common, entryPoints: benches, outdir: `${out}/bench`, platform: 'node', packages: 'external' }),
  // The command line (`webgpu-bandits`, `npm start`): Node, with its shebang.
  build({ ...common, entryPoints: ['src/cli.ts'], outfile: `${out}/cli.js`, platform: 'node', packages: 'external', banner: { js: '#!/usr/bin/env node' } }),
  // The demo page's script (examples/index.html is copied beside it).
  build({ ...common, entryPoints: ['examples/demo.ts'], outfile: `${out}/examples/demo.js`, platform: 'browser' }),
]);
mkdirSync(`${out}/examples`, { recursive: true });
copyFileSync('examples/index.html', `${out}/examples/index.html`);
