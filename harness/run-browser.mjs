// Runs the test bundle (dist/test/suite.js) under mocha in headless Chromium's page, on its WebGPU.
// Usage: node harness/run-browser.mjs [--grep PATTERN]    Exit code: failures + page errors + console errors.
import { format } from 'node:util';
import { launchChromium } from './chromium.mjs';
import { adapterFromLine, printResult } from './results.mjs';
import { serve } from './server.mjs';

const grepAt = process.argv.indexOf('--grep');
const grep = grepAt > 0 ? process.argv[grepAt + 1] : '';
const root = new URL('..', import.meta.url).pathname;

const server = await serve({
  '/dist/': `${root}/${process.env.OUTDIR ?? 'dist'}`, // OUTDIR: a build of one's own (node build.mjs honours it too)
  '/node_modules/mocha/': `${root}/node_modules/mocha`,
  '/harness/': `${root}/harness`,
}, 0, { isolated: true }); // cross-origin isolated: the wasm backend's second thread runs in Chromium too
const chromium = await launchChromium();
let adapter = null;
const pageErrors = [];
const consoleErrors = [];
let result = null;
try {
  const page = await chromium.browser.newPage();
  // Console messages are formatted in order (mocha's reporter logs printf-style: '%s %s', …).
  let consoleChain = Promise.resolve();
  page.on('console', (msg) => {
    consoleChain = consoleChain.then(async () => {
      const values = await Promise.all(msg.args().map((a) => a.jsonValue().catch(() => a.toString())));
      onConsole(msg, values.length ? format(...values) : msg.text());
    });
  });
  const onConsole = (msg, text) => {
    const found = adapterFromLine(text);
    if (found) adapter = found;
    if (msg.type() === 'error') {
      consoleErrors.push(text);
      console.log(`[chromium console.error] ${text}`);
    } else {
      console.log(text);
    }
  };
  page.on('pageerror', (err) => {
    pageErrors.push(String(err?.stack ?? err));
    console.log(`[chromium page error] ${err?.stack ?? err}`);
  });
  page.on('crash', () => pageErrors.push('the page crashed'));
  // The ModelStore's quota test needs a real QuotaExceededError: the origin's storage quota is
  // lowered to 6 MB through the DevTools protocol before the page first touches storage (Chromium
  // keeps the quota it read at first use). IndexedDB compresses, so the suite's big but
  // compressible models still fit; the test tells the page the figure through __harnessQuota.
  const QUOTA = 6_000_000;
  const cdp = await page.createCDPSession();
  await cdp.send('Storage.overrideQuotaForOrigin', { origin: server.url, quotaSize: QUOTA });
  await page.evaluateOnNewDocument((q) => { window.__harnessQuota = q; }, QUOTA);
  const url = `${server.url}/harness/test.html${grep ? `?grep=${encodeURIComponent(grep)}` : ''}`;
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForFunction(() => window.__testResult?.done === true, { timeout: 0, polling: 500 });
  result = await page.evaluate(() => window.__testResult);
  await consoleChain;
} catch (e) {
  pageErrors.push(`harness: ${e?.stack ?? e}`);
} finally {
  await chromium.close();
  await server.close();
}

const failed = [...(result?.failed ?? [])];
for (const e of pageErrors) failed.push({ title: 'page error', error: e });
for (const e of consoleErrors) failed.push({ title: 'console error', error: e });
let failures = (result?.failures ?? 0) + pageErrors.length + consoleErrors.length;
if (!adapter) {
  failures++;
  failed.push({ title: 'WebGPU adapter', error: 'the suite never reported an adapter' });
}
printResult({ runtime: 'chromium', adapter, passes: result?.passes ?? 0, failures, pending: result?.pending ?? 0, failed });
process.exit(Math.min(failures, 255));
