// Bundles the library and the test suite with esbuild; WGSL files become string modules.
// node build.mjs    Outputs under dist/ (or $OUTDIR).
import { build } from 'esbuild';
import { readdirSync } from 'node:fs';

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
  // The library: one ESM file for Node and browsers ('webgpu' is imported lazily, by Node only).
  build({ ...common, entryPoints: ['src/index.ts'], outfile: `${out}/index.js` }),
  // The test suite: one bundle that runs under mocha in Node and in Chromium's page.
  build({ ...common, entryPoints: ['test/index.ts'], outfile: `${out}/test/suite.js`, platform: 'browser' }),
  // Benchmarks run in Node (and in the page through the harness).
  benches.length && build({ ...common, entryPoints: benches, outdir: `${out}/bench`, platform: 'node', packages: 'external' }),
]);
