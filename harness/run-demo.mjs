// The demo page's test (a stage of `npm test`): serves dist/examples, opens the page in headless
// Chromium on its WebGPU with a short run, presses "Market shock now" partway, and checks that the
// run finishes on WebGPU, the charts and figures are drawn, the shock is marked where it was
// pressed, and nothing was logged as an error. Saves a screenshot to report/demo.png.
// Usage: node harness/run-demo.mjs [--steps N]    Exit code: the number of failed checks.
import { mkdirSync } from 'node:fs';
import { format } from 'node:util';
import { launchChromium } from './chromium.mjs';
import { printResult } from './results.mjs';
import { serve } from './server.mjs';

const root = new URL('..', import.meta.url).pathname;
const stepsAt = process.argv.indexOf('--steps');
const STEPS = stepsAt > 0 ? Number(process.argv[stepsAt + 1]) : 400;
const BATCH = 20;
/** Press the shock button once the run is past this step (a round boundary: the shock lands on the next one). */
const PRESS_AFTER = Math.floor(STEPS / 3);
const ALGOS = ['linucb', 'hybrid', 'discounted', 'egreedy', 'squarecb', 'lints', 'neural', 'neuralts', 'embedding', 'random', 'oracle'];
const SCREENSHOT = `${root}report/demo.png`;

const server = await serve({ '/': `${root}/${process.env.OUTDIR ?? 'dist'}/examples` });
const chromium = await launchChromium();
const pageErrors = [];
const consoleErrors = [];
const checks = [];
const check = (title, ok, detail = '') => {
  checks.push({ title, ok: Boolean(ok), detail });
  console.log(`  ${ok ? '✓' : '✗'} ${title}${detail ? ` (${detail})` : ''}`);
};
let demo = null;
try {
  const page = await chromium.browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  let consoleChain = Promise.resolve();
  page.on('console', (msg) => {
    consoleChain = consoleChain.then(async () => {
      const values = await Promise.all(msg.args().map((a) => a.jsonValue().catch(() => a.toString())));
      const text = values.length ? format(...values) : msg.text();
      if (msg.type() === 'error') {
        consoleErrors.push(text);
        console.log(`[chromium console.error] ${text}`);
      } else {
        console.log(`[page] ${text}`);
      }
    });
  });
  page.on('pageerror', (err) => {
    pageErrors.push(String(err?.stack ?? err));
    console.log(`[chromium page error] ${err?.stack ?? err}`);
  });
  page.on('crash', () => pageErrors.push('the page crashed'));
  const query = new URLSearchParams({
    steps: String(STEPS), batch: String(BATCH), seed: '3', algos: ALGOS.join(','), autoshock: '0',
    trainingRows: '2000', epochs: '3', autostart: '1',
  });
  const url = `${server.url}/?${query}`;
  console.log(`demo: ${url}`);
  const started = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  check('the page loads and finds a backend', await page.waitForFunction(() => window.__demo?.backend, { timeout: 120_000 }).then(() => true, () => false));
  demo = await page.evaluate(() => window.__demo);
  console.log(`demo: backend ${demo.backend}`);
  check('it runs on WebGPU (no cpu fallback)', demo.backend?.startsWith('webgpu') && !demo.fallback, demo.fallback ?? demo.backend);

  const reached = await page.waitForFunction((n) => window.__demo.stepsDone >= n || ['done', 'error'].includes(window.__demo.state), { timeout: 600_000, polling: 50 }, PRESS_AFTER)
    .then(() => true, () => false);
  const before = await page.evaluate(() => ({ ...window.__demo }));
  const shockEnabled = await page.$eval('#shock', (b) => !b.disabled);
  check(`the run gets past step ${PRESS_AFTER} with the shock button enabled`, reached && before.state === 'running' && shockEnabled, `state ${before.state}, step ${before.stepsDone}`);
  if (shockEnabled) await page.click('#shock');

  await page.waitForFunction(() => ['done', 'error', 'stopped'].includes(window.__demo.state), { timeout: 600_000, polling: 250 }).catch(() => undefined);
  demo = await page.evaluate(() => ({ ...window.__demo }));
  const seconds = (Date.now() - started) / 1000;
  check(`the run finishes all ${STEPS} steps`, demo.state === 'done' && demo.stepsDone === STEPS, `state ${demo.state}, step ${demo.stepsDone}, ${seconds.toFixed(0)} s${demo.error ? `, error: ${demo.error}` : ''}`);
  check('the shock came where the button was pressed (the next round after the press)',
    demo.shockStep !== null && demo.shockStep >= before.stepsDone && demo.shockStep < STEPS && demo.shockStep % BATCH === 0,
    `pressed at step ${before.stepsDone}, shock at step ${demo.shockStep}`);
  check('every algorithm took part', demo.policies.length === ALGOS.length, demo.policies.join(', '));

  const charts = await page.evaluate(() => ['regret-chart', 'ctr-chart'].map((id) => {
    const el = document.getElementById(id);
    const paths = [...el.querySelectorAll('svg path.series')];
    return { id, series: paths.length, drawn: paths.filter((p) => (p.getAttribute('d') ?? '').split('L').length > 5).length, marker: el.querySelectorAll('.marker').length };
  }));
  for (const c of charts) {
    check(`chart #${c.id} draws a line per algorithm, with the shock marked`, c.series === ALGOS.length && c.drawn === ALGOS.length && c.marker === 1,
      `${c.drawn}/${c.series} lines drawn, ${c.marker} marker`);
  }
  const figures = await page.evaluate(() => [...document.querySelectorAll('#figures tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  const numeric = figures.every((row) => row.slice(1).every((cell) => /^-?\d+(\.\d+)?$/.test(cell)));
  check('the figures table shows every algorithm with numbers', figures.length === ALGOS.length && numeric, figures.map((r) => `${r[0]}: ${r[1]}`).join('; '));
  const final = await page.evaluate(() => [...document.querySelectorAll('#final-table tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent.trim())));
  check('the final table lists every algorithm', final.length === ALGOS.length, `${final.length} rows`);
  const oracle = demo.totalRegret.oracle, random = demo.totalRegret.random;
  check('the oracle has no regret, random some', oracle === 0 && random > 0, `oracle ${oracle}, random ${random?.toFixed(1)}`);

  mkdirSync(`${root}report`, { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  console.log(`demo: screenshot ${SCREENSHOT}`);
  await consoleChain;
} catch (e) {
  pageErrors.push(`harness: ${e?.stack ?? e}`);
} finally {
  await chromium.close();
  await server.close();
}

check('no page errors', pageErrors.length === 0, pageErrors.join(' | ').slice(0, 500));
check('no console errors', consoleErrors.length === 0, consoleErrors.join(' | ').slice(0, 500));
const failed = checks.filter((c) => !c.ok).map((c) => ({ title: `demo: ${c.title}`, error: c.detail || 'failed' }));
printResult({
  runtime: 'demo (chromium)', adapter: demo?.backend ?? null, passes: checks.length - failed.length, failures: failed.length, pending: 0, failed,
});
process.exit(Math.min(failed.length, 255));
