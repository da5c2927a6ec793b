// Runs every `ts` block of README.md, so none can go stale: in Node with every createBackend on
// the cpu backend, and in headless Chromium (as written: webgpu) where the block says so.
// A block is preceded by a hidden directive naming where it runs and the code it assumes:
//   <!-- readme-test node,chromium          (or: node | chromium | none (why) | worker-file NAME)
//   const contexts = new Float32Array(64);  (the prelude, joined before the block)
//   -->
// Without one a block runs in Node, and in Chromium too if it mentions webgpu. Blocks import
// 'webgpu-bandits' (and its subpaths) by name; here those resolve to src/.
// Usage: node harness/run-readme.mjs   (needs no build of its own)
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { launchChromium } from './chromium.mjs';
import { printResult } from './results.mjs';
import { serve } from './server.mjs';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, process.env.OUTDIR ?? 'dist', 'readme'); // inside the repo: '#platform' resolves by package.json
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

/** The README's ts blocks with their directives and line numbers. */
export function readmeBlocks(text) {
  const blocks = [];
  const re = /(?:^<!-- readme-test ([^\n]*)\n((?:(?!-->)[\s\S])*?)^-->\n\s*)?^```ts\n([\s\S]*?)^```/gm;
  for (const m of text.matchAll(re)) {
    const line = text.slice(0, m.index).split('\n').length;
    const where = (m[1] ?? '').trim();
    const code = m[3];
    let runtimes;
    let workerFile = null;
    if (where.startsWith('worker-file')) {
      workerFile = where.split(/\s+/)[1];
      runtimes = [];
    } else if (where.startsWith('none')) runtimes = [];
    else if (where) {
      runtimes = where.split(',').map((w) => w.trim());
      const unknown = runtimes.filter((r) => r !== 'node' && r !== 'chromium');
      if (unknown.length) throw new Error(`README.md:${line}: readme-test names ${unknown.join(', ')}; say node, chromium, none (why) or worker-file NAME`);
    }
    else runtimes = /webgpu/.test(code) ? ['node', 'chromium'] : ['node'];
    blocks.push({ line, where, prelude: m[2] ?? '', code, runtimes, workerFile });
  }
  const fences = (text.match(/^```ts$/gm) ?? []).length;
  const directives = (text.match(/^<!-- readme-test /gm) ?? []).length;
  if (fences !== blocks.length || directives !== blocks.filter((b) => b.where).length) {
    throw new Error(`README.md: ${fences} ts blocks and ${directives} readme-test directives, but ${blocks.length} blocks parsed: a directive is malformed`);
  }
  return blocks;
}

const SUBPATHS = { '': 'src/index.ts', '/ops': 'src/ops/index.ts', '/sim': 'src/sim/index.ts', '/eval': 'src/eval/index.ts' };
/** 'webgpu-bandits[/x]' → src/; in Node the root entry is a shim whose createBackend is the cpu backend's. */
const packageByName = (runtime) => ({
  name: 'webgpu-bandits',
  setup(b) {
    b.onResolve({ filter: /^webgpu-bandits(\/(ops|sim|eval))?$/ }, (args) => {
      const sub = args.path.slice('webgpu-bandits'.length);
      if (sub === '' && runtime === 'node') return { path: 'shim', namespace: 'readme-shim' };
      return { path: join(root, SUBPATHS[sub]) };
    });
    b.onLoad({ filter: /.*/, namespace: 'readme-shim' }, () => ({
      resolveDir: root,
      loader: 'ts',
      contents: `export * from './src/index.ts';
import { createBackend as acquire, type CreateBackendOptions } from './src/index.ts';
/** README blocks in Node run on the cpu backend, whatever kind they ask for (a device of their own aside). */
export const createBackend = (options: CreateBackendOptions = {}) => acquire(options.device ? options : { ...options, kind: 'cpu' });
`,
    }));
  },
});

async function bundle(block, runtime, outfile) {
  await build({
    stdin: { contents: `${block.prelude}\n${block.code}`, loader: 'ts', resolveDir: root, sourcefile: `README.md:${block.line}` },
    outfile, bundle: true, format: 'esm', target: 'es2022', platform: runtime === 'node' ? 'node' : 'browser',
    loader: { '.wgsl': 'text', '.wasm': 'binary' }, external: ['#platform', 'webgpu'], plugins: [packageByName(runtime)],
    ignoreAnnotations: true, logLevel: 'silent',
  });
}

const blocks = readmeBlocks(readFileSync(join(root, 'README.md'), 'utf8'));
let passes = 0;
const failed = [];
let adapter = null;
const record = (title, error) => {
  if (error) {
    failed.push({ title, error });
    console.log(`  ✗ ${title}: ${error.split('\n').slice(0, 6).join('\n')}`);
  } else {
    passes++;
    console.log(`  ✔ ${title}`);
  }
};

// Node: each block its own program, in a scratch directory (blocks may write files).
const scratch = mkdtempSync(join(tmpdir(), 'webgpu-bandits-readme-'));
for (const [i, block] of blocks.entries()) {
  if (!block.runtimes.includes('node')) continue;
  const title = `README.md:${block.line} in Node (cpu backend)`;
  const file = join(outDir, `node-${i}.mjs`);
  try {
    await bundle(block, 'node', file);
  } catch (e) {
    record(title, `does not build: ${e.message}`);
    continue;
  }
  const run = spawnSync(process.execPath, [file], { cwd: scratch, encoding: 'utf8', timeout: 300_000 });
  if (run.stdout.trim()) console.log(run.stdout.trim().replace(/^/gm, '      '));
  record(title, run.status === 0 ? (run.stderr.trim() ? `printed on stderr: ${run.stderr}` : null) : `exit ${run.status ?? run.signal}: ${run.stderr}`);
}
rmSync(scratch, { recursive: true, force: true });

// Chromium: worker files first, then every block as a module of one page, in order.
const pageBlocks = [];
for (const [i, block] of blocks.entries()) {
  if (block.workerFile) await bundle(block, 'chromium', join(outDir, block.workerFile));
  else if (block.runtimes.includes('chromium')) {
    const title = `README.md:${block.line} in Chromium`;
    try {
      await bundle(block, 'chromium', join(outDir, `page-${i}.js`));
      pageBlocks.push({ title, url: `/readme/page-${i}.js` });
    } catch (e) {
      record(title, `does not build: ${e.message}`);
    }
  }
}
for (const block of blocks) if (!block.runtimes.length && !block.workerFile) console.log(`  - README.md:${block.line} not run: ${block.where}`);
writeFileSync(join(outDir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>README blocks</title>\n');
if (pageBlocks.length) {
  const server = await serve({ '/readme/': outDir });
  const chromium = await launchChromium();
  try {
    const page = await chromium.browser.newPage();
    let errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
      else console.log(`      ${m.text()}`);
      adapter ??= /webgpu: .* via navigator\.gpu/.exec(m.text())?.[0] ?? null;
    });
    await page.goto(`${server.url}/readme/index.html`, { waitUntil: 'load' });
    for (const { title, url } of pageBlocks) {
      errors = [];
      const error = await page.evaluate(async (u) => import(u).then(() => null, (e) => String(e?.stack ?? e)), url);
      record(title, error ?? (errors.length ? errors.join('; ') : null));
    }
  } finally {
    await chromium.close();
    await server.close();
  }
}
printResult({ runtime: 'readme', adapter: adapter ?? `README blocks: ${blocks.length}`, passes, failures: failed.length, pending: 0, failed });
process.exit(Math.min(failed.length, 255));
