// The package as a web app or a Node program gets it: `npm pack`, the tarball installed into a
// fresh project (without the optional `webgpu`), then
//   (a) Node ESM: LinUCB on cpu, saved to a file, loaded back with readFileSync; `kind: 'webgpu'`
//       rejects saying `npm install webgpu`, and `auto` falls back to cpu saying why;
//   (b) a strict TypeScript consumer type-checked against the shipped declarations (nodenext);
//   (c) a page bundled by esbuild for the browser: no `webgpu` or `node:` import in it, its size
//       (min+gzip), and run in headless Chromium on WebGPU.
// Usage: node harness/run-consumer.mjs   (after `npm run build`: the declarations come from tsc)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { launchChromium } from './chromium.mjs';
import { printResult } from './results.mjs';
import { serve } from './server.mjs';
import { CONSUMER_NODE, CONSUMER_PAGE, CONSUMER_TS_ROOT, CONSUMER_TS_ALL, CONSUMER_ALL_ENTRIES, TSCONFIGS } from './consumer-files.mjs';

const root = new URL('..', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'webgpu-bandits-consumer-'));
const app = join(work, 'app');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let passes = 0;
const failed = [];
let adapter = null;

function check(title, fn) {
  return Promise.resolve()
    .then(fn)
    .then(
      (note) => {
        passes++;
        console.log(`  ✔ ${title}${note ? `: ${note}` : ''}`);
      },
      (e) => {
        failed.push({ title, error: String(e?.stack ?? e) });
        console.log(`  ✗ ${title}: ${e?.message ?? e}`);
      },
    );
}
const sh = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
const du = (dir) => Number(sh('du', ['-sb', dir]).split('\t')[0]);

let tarball = null;
try {
  await check('npm pack: the complete package', () => {
    if (!existsSync(join(root, 'dist/types/src/index.d.ts'))) throw new Error('dist/types is missing: run `npm run build` (tsc writes the declarations) first');
    // The build already ran (npm test builds first); prepack would run it again.
    const [info] = JSON.parse(sh(npm, ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root));
    tarball = join(work, info.filename);
    const files = info.files.map((f) => f.path);
    const want = [
      'package.json', 'README.md', 'LICENSE', 'docs/API.md',
      'dist/index.js', 'dist/ops.js', 'dist/sim.js', 'dist/eval.js', 'dist/platform/node.js', 'dist/platform/browser.js',
      'dist/types/src/index.d.ts', 'dist/types/src/ops/index.d.ts', 'dist/types/src/sim/index.d.ts', 'dist/types/src/eval/index.d.ts',
    ];
    const missing = want.filter((f) => !files.includes(f));
    if (missing.length) throw new Error(`the tarball lacks ${missing.join(', ')}`);
    if (!files.some((f) => f.startsWith('dist/chunks/'))) throw new Error('the tarball has no dist/chunks/');
    const stray = files.filter((f) => /\.wgsl$|^src\/|^test\/|^bench\/|^harness\/|^dist\/test\/|^dist\/bench\/|^dist\/types\/(test|bench|harness|examples)\//.test(f));
    if (stray.length) throw new Error(`the tarball holds files a consumer never loads: ${stray.slice(0, 5).join(', ')}`);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    if (pkg.private) throw new Error('package.json is private');
    if (pkg.sideEffects !== false) throw new Error('package.json lacks "sideEffects": false');
    if (pkg.dependencies?.webgpu || !pkg.peerDependenciesMeta?.webgpu?.optional) throw new Error('webgpu must be an optional peer dependency');
    return `${info.filename}: ${files.length} files, ${kb(info.size)} packed, ${kb(info.unpackedSize)} unpacked`;
  });

  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  await check('npm install <tarball> into a fresh project, without the optional webgpu', () => {
    if (!tarball) throw new Error('no tarball');
    sh(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', tarball], app);
    if (existsSync(join(app, 'node_modules/webgpu'))) throw new Error('the optional peer webgpu (Dawn) was installed');
    return `node_modules weighs ${kb(du(join(app, 'node_modules')))}: ${sh('ls', [join(app, 'node_modules')]).trim().split('\n').join(', ')}`;
  });

  writeFileSync(join(app, 'consumer.mjs'), CONSUMER_NODE);
  await check('(a) Node ESM: LinUCB on cpu, saved to a file and loaded back with readFileSync', () => {
    const run = spawnSync(process.execPath, ['consumer.mjs'], { cwd: app, encoding: 'utf8' });
    if (run.status !== 0) throw new Error(`exit code ${run.status}: ${run.stderr}`);
    const out = { ...JSON.parse(run.stdout.trim().split('\n').pop()), stderr: run.stderr.trim() };
    if (!out.sameScores) throw new Error(`the loaded model scores differently: ${JSON.stringify(out)}`);
    if (!/npm install webgpu/.test(out.webgpuError) || out.webgpuErrorName !== 'BackendError') throw new Error(`kind 'webgpu' without the package: ${out.webgpuErrorName}: ${out.webgpuError}`);
    if (out.autoKind !== 'wasm' || !/webgpu/.test(out.autoReason)) throw new Error(`auto without the package: ${out.autoKind}, ${out.autoReason}`);
    if (out.stderr) throw new Error(`the program printed on stderr: ${out.stderr}`);
    return `${out.bytes} bytes saved and loaded; auto: "${out.autoReason}"`;
  });

  await check('(a) the webgpu-bandits command runs from the installed package', () => {
    const run = spawnSync(process.execPath, ['node_modules/.bin/webgpu-bandits', 'simulate', '--help'], { cwd: app, encoding: 'utf8' });
    if (run.status !== 0 || !/Usage: webgpu-bandits simulate/.test(run.stdout)) throw new Error(`exit ${run.status}: ${run.stdout.slice(0, 200)}${run.stderr}`);
    return 'npx webgpu-bandits simulate --help';
  });

  writeFileSync(join(app, 'consumer-root.ts'), CONSUMER_TS_ROOT);
  writeFileSync(join(app, 'consumer-all.ts'), CONSUMER_TS_ALL);
  // @types/node for the Node set-up: the repo's own version, from npm's cache when it has it.
  const typesNode = JSON.parse(readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8')).version;
  sh(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock', '--no-save', `@types/node@${typesNode}`], app);
  for (const { name, tsconfig } of TSCONFIGS) {
    await check(`(b) a strict TypeScript consumer type-checks against the shipped declarations: ${name}`, () => {
      writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      try {
        sh(process.execPath, [tsc, '-p', 'tsconfig.json'], app);
      } catch (e) {
        throw new Error(`tsc: ${e.stdout || e.stderr || e.message}`);
      }
      return 'strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, module nodenext, no skipLibCheck';
    });
  }

  mkdirSync(join(app, 'web'));
  writeFileSync(join(app, 'page.js'), CONSUMER_PAGE);
  writeFileSync(join(app, 'all-entries.js'), CONSUMER_ALL_ENTRIES);
  writeFileSync(join(app, 'web/index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="./page.js"></script>\n');
  await check('(c) esbuild bundles for the browser hold no webgpu or node: import', async () => {
    const notes = [];
    for (const [entry, name] of [['page.js', 'LinUCB page'], ['all-entries.js', 'every entry']]) {
      const result = await build({
        absWorkingDir: app, entryPoints: [entry], outdir: 'web', bundle: true, minify: true, format: 'esm',
        platform: 'browser', metafile: true, write: true, logLevel: 'silent',
      });
      const code = readFileSync(join(app, 'web', entry), 'utf8');
      const imports = [...code.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["'](webgpu|node:[^"']*)["']/g)].map((m) => m[1]);
      if (imports.length) throw new Error(`${name}: imports ${[...new Set(imports)].join(', ')}`);
      if (/["']node:/.test(code)) throw new Error(`${name}: the bundle names a node: module`);
      const inputs = Object.keys(result.metafile.inputs);
      const nodeOnly = inputs.filter((f) => /platform\/node\.js$|node_modules\/webgpu\//.test(f));
      if (nodeOnly.length) throw new Error(`${name}: bundled ${nodeOnly.join(', ')}`);
      notes.push(`${name} ${kb(code.length)} min, ${kb(gzipSync(code).length)} min+gzip`);
    }
    return notes.join('; ');
  });

  await check('(c) the bundled page runs LinUCB in headless Chromium on WebGPU', async () => {
    const server = await serve({ '/': join(app, 'web') });
    const chromium = await launchChromium();
    const errors = [];
    try {
      const page = await chromium.browser.newPage();
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
      await page.goto(`${server.url}/index.html`, { waitUntil: 'load' });
      await page.waitForFunction(() => window.__consumer?.done === true, { timeout: 120_000, polling: 200 });
      const out = await page.evaluate(() => window.__consumer);
      if (out.error) throw new Error(out.error);
      if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
      if (out.kind !== 'webgpu' || !out.sameScores) throw new Error(JSON.stringify(out));
      adapter = out.summary;
      return `${out.summary}; ${out.bytes} bytes saved and loaded`;
    } finally {
      await chromium.close();
      await server.close();
    }
  });
} finally {
  rmSync(work, { recursive: true, force: true });
}
printResult({ runtime: 'consumer', adapter, passes, failures: failed.length, pending: 0, failed });
process.exit(Math.min(failed.length, 255));
