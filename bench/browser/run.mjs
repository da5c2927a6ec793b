// `npm run bench:browser`: the head-to-head suite (bench/suite.ts) in headless Chromium through
// the harness (harness/chromium.mjs: Debian's Chromium, WebGPU on, SwiftShader where there is no
// GPU). Bundles bench/browser/page.ts for the browser, serves it from 127.0.0.1 (a secure context,
// so navigator.gpu exists), runs it, collects the report through puppeteer and writes it with the
// Node side's writer (bench/report.ts): bench/results/suite-<date>-chromium.json, .md, charts, latest.md.
//
//   npm run bench:browser -- --quick            the same options as `npm run bench` (see --help there)
//   OUTDIR=dist-x node bench/browser/run.mjs    use a build in another folder (node build.mjs first)
//   --no-isolation                              serve without COOP/COEP (TF.js wasm then runs one thread)
//
// The page is served cross-origin isolated (COOP + COEP headers) by default, as a site that wants
// TF.js's multi-threaded wasm backend would be; the harness's own server sends no such headers,
// hence the small server here.
import { build } from 'esbuild';
import { mkdirSync, copyFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { launchChromium } from '../../harness/chromium.mjs';

const root = resolve(new URL('../..', import.meta.url).pathname);
const outdir = resolve(root, process.env.OUTDIR ?? 'dist');
const args = process.argv.slice(2);
const isolation = !args.includes('--no-isolation');
const argv = args.filter((a) => a !== '--no-isolation');
const outAt = argv.indexOf('--out');
const resultsDir = outAt >= 0 ? argv[outAt + 1] : join(root, 'bench', 'results');
const nameAt = argv.indexOf('--name');

const pageDir = join(outdir, 'bench-page');
mkdirSync(pageDir, { recursive: true });
await build({
  entryPoints: [join(root, 'bench/browser/page.ts')],
  outfile: join(pageDir, 'page.js'),
  bundle: true, format: 'esm', target: 'es2022', platform: 'browser', sourcemap: 'linked', logLevel: 'warning',
  loader: { '.wgsl': 'text' },
  // lib.ts reads /proc and os only in Node, through dynamic imports that fail in the page.
  external: ['node:*', 'webgpu'],
});
copyFileSync(join(root, 'bench/browser/page.html'), join(pageDir, 'index.html'));
const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json', '.wasm': 'application/wasm' };
const mounts = [['/bench/', pageDir], ['/wasm/', wasmDir]];
const server = createServer((req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const mount = mounts.find(([prefix]) => path.startsWith(prefix));
  const file = mount && normalize(join(mount[1], path.slice(mount[0].length)));
  const headers = { 'cache-control': 'no-store' };
  if (isolation) Object.assign(headers, { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
  try {
    if (!file || !file.startsWith(mount[1])) throw new Error('not found');
    const body = readFileSync(file);
    res.writeHead(200, { ...headers, 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404, headers);
    res.end('not found');
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/bench/index.html?argv=${encodeURIComponent(JSON.stringify(argv.filter((_, i) => i !== outAt && i !== outAt + 1 || outAt < 0)))}`;

// The machine's load while the page ran (the page cannot read /proc).
const os = await import('node:os');
const loadStart = os.loadavg().map((v) => Math.round(v * 100) / 100);
const chromium = await launchChromium();
let code = 0;
try {
  const page = await chromium.browser.newPage();
  page.on('console', (msg) => console.log(msg.text()));
  page.on('pageerror', (err) => console.log(`[chromium page error] ${err?.stack ?? err}`));
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__benchResult?.done === true, { timeout: 0, polling: 1000 });
  const result = await page.evaluate(() => window.__benchResult);
  if (result.error || !result.report) throw new Error(`the page's run failed: ${result.error ?? 'no report'}`);
  const report = JSON.parse(result.report);
  report.loadAverage = { start: loadStart, end: os.loadavg().map((v) => Math.round(v * 100) / 100) };
  report.runtime = { ...report.runtime, chromium: await chromium.browser.version(), isolation: isolation ? 'COOP+COEP' : 'none' };
  const { writeSuiteResults } = await import(join(outdir, 'bench', 'report.js'));
  const stamp = report.date.slice(0, 19).replace(/:/g, '-');
  const name = nameAt >= 0 ? argv[nameAt + 1] : `suite-${stamp}-chromium${report.quick ? '-quick' : ''}`;
  const files = await writeSuiteResults(resultsDir, name, report);
  console.log('');
  for (const t of report.targets) {
    console.log(`target ${t.title}: ${t.ratio === undefined ? `not measured (${t.note ?? ''})` : `${t.ratio.toFixed(2)}× (need ≥ ${t.atLeast}×) ${t.pass ? 'PASS' : 'MISS'}`}`);
  }
  console.log(`\n${report.failures} failed, ${report.skipped} skipped, ${report.pruned.length} pruned, ${report.totalSeconds.toFixed(0)} s; wrote ${files.join(', ')}`);
  code = report.failures > 0 ? 1 : 0;
} catch (e) {
  console.error(e);
  code = 2;
} finally {
  await chromium.close();
  server.close();
}
process.exit(code);
