// Compiles the wasm kernels (wasm/*.c, clang's wasm32 target and lld), then bundles the library
// and the test suite with esbuild; WGSL files become string modules, the .wasm a byte array
// (inlined as base64, so a browser app needs no extra file).
// node build.mjs    Outputs under dist/ (or $OUTDIR); wasm/kernels.wasm beside its sources.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';

// -msimd128: 128-bit SIMD; -mbulk-memory: memory.fill/copy for the loops clang turns into
// memset/memcpy (there is no libc: -nostdlib). The stack (1 MiB) holds the kernels' small
// temporaries; the heap above __heap_base is managed from JS (src/wasm/heap.ts).
const WASM_SOURCES = readdirSync('wasm').filter((f) => f.endsWith('.c')).map((f) => `wasm/${f}`);
const CLANG = process.env.CLANG ?? 'clang';
const WASM_FLAGS = [
  '--target=wasm32', '-O3', '-msimd128', '-mbulk-memory', '-nostdlib', '-std=c11',
  '-Wall', '-Wextra', '-Werror', '-Wno-unused-parameter',
  '-Wl,--no-entry', '-Wl,--export=__heap_base', '-Wl,-z,stack-size=1048576', '-Wl,--max-memory=4294967296',
];
// kernels-mt.wasm: the same sources over an imported shared memory (-matomics, --shared-memory),
// for the second thread (src/wasm/threads.ts); __stack_pointer is exported so each thread's
// instance gets a stack of its own (a mutable global: -mmutable-globals).
try {
  execFileSync(CLANG, [...WASM_FLAGS, '-o', 'wasm/kernels.wasm', ...WASM_SOURCES], { stdio: 'inherit' });
  execFileSync(CLANG, [...WASM_FLAGS, '-matomics', '-mmutable-globals', '-Wl,--shared-memory', '-Wl,--import-memory',
    '-Wl,--export=__stack_pointer', '-o', 'wasm/kernels-mt.wasm', ...WASM_SOURCES], { stdio: 'inherit' });
} catch (e) {
  console.error(`build.mjs: compiling wasm/*.c failed (${e.message}); it needs clang with the wasm32 target and lld (Debian: apt-get install clang lld)`);
  process.exit(1);
}

const common = {
  bundle: true,
  format: 'esm',
  target: 'es2022',
  loader: { '.wgsl': 'text', '.wasm': 'binary' },
  sourcemap: 'linked',
  logLevel: 'warning',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  // Resolved at run time through package.json "imports": Node gets src/platform/node.ts (the only
  // module that imports `webgpu` and `node:*`), every other runtime the stub beside it.
  external: ['#platform'],
};

const out = process.env.OUTDIR ?? 'dist';
// package.json says "sideEffects": false for consumers' bundlers; the suite, benches, CLI and demo
// are programs whose imports run for their effects, so their builds ignore that promise.
const program = { ...common, ignoreAnnotations: true };
// Chunk names carry content hashes and declarations follow the sources: what an earlier build left
// there would end up in the package (tsc writes dist/types again after this script).
for (const stale of ['chunks', 'types', 'platform']) rmSync(`${out}/${stale}`, { recursive: true, force: true });
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
  // '#platform' for each runtime (see package.json "imports").
  build({ ...common, entryPoints: ['src/platform/node.ts'], outfile: `${out}/platform/node.js`, platform: 'node' }),
  build({ ...common, entryPoints: ['src/platform/browser.ts'], outfile: `${out}/platform/browser.js` }),
  // The test suite: one bundle that runs under mocha in Node and in Chromium's page.
  build({ ...program, entryPoints: ['test/index.ts'], outfile: `${out}/test/suite.js`, platform: 'browser' }),
  // The module worker of test/package/worker.spec.ts (Chromium starts it beside the suite).
  build({ ...program, entryPoints: ['test/package/bandit-worker.ts'], outfile: `${out}/test/bandit-worker.js`, platform: 'browser' }),
  // Benchmarks run in Node (and in the page through the harness).
  benches.length && build({ ...program, entryPoints: benches, outdir: `${out}/bench`, platform: 'node', packages: 'external' }),
  // The command line (`webgpu-bandits`, `npm start`): Node, with its shebang.
  build({ ...program, entryPoints: ['src/cli.ts'], outfile: `${out}/cli.js`, platform: 'node', packages: 'external', banner: { js: '#!/usr/bin/env node' } }),
  // The demo page's script (examples/index.html is copied beside it).
  build({ ...program, entryPoints: ['examples/demo.ts'], outfile: `${out}/examples/demo.js`, platform: 'browser' }),
]);
mkdirSync(`${out}/examples`, { recursive: true });
copyFileSync('examples/index.html', `${out}/examples/index.html`);
