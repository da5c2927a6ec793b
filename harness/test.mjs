// `npm test`: checks the layering of src/ (harness/check-layers.mjs), runs the one suite in Node (Dawn) and in headless Chromium, then the stages that are
// not mocha suites: the demo page (headless Chromium), Node exiting after webgpu backends (child
// processes), the package as a consumer gets it (pack, install, Node, TypeScript, a browser
// bundle), every ts block of the README and the API reference (TypeDoc, no warnings). It prints, per stage, the adapter used and the
// pass/fail counts. Exit code 0 only when every stage ran with an adapter and passed. With --grep only the two suites run, unless --only
// names another stage.
// Usage: node harness/test.mjs [--grep PATTERN] [--only layers|node|chromium|demo|exit|consumer|readme|docs]
import { spawn } from 'node:child_process';
import { parseResult } from './results.mjs';

const args = process.argv.slice(2);
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? args.splice(onlyAt, 2)[1] : null;
const SUITES = ['node (Dawn)', 'chromium'];
const runners = [
  ['layers (imports of src/)', 'harness/check-layers.mjs'],
  ['node (Dawn)', 'harness/run-node.mjs'],
  ['chromium', 'harness/run-browser.mjs'],
  ['demo (chromium)', 'harness/run-demo.mjs'],
  ['exit (node child processes)', 'harness/run-exit.mjs'],
  ['consumer (packed tarball)', 'harness/run-consumer.mjs'],
  ['readme (every ts block)', 'harness/run-readme.mjs'],
  ['docs (TypeDoc)', 'harness/run-docs.mjs'],
].filter(([name]) => (only ? name.startsWith(only) : SUITES.includes(name) || !args.includes('--grep')));

function run(script) {
  return new Promise((done) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    // Dawn and the Vulkan loader print driver notes on stderr; keep them, they are not failures.
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('close', (code) => done({ code, result: parseResult(out) }));
  });
}

const rows = [];
for (const [name, script] of runners) {
  const started = Date.now();
  console.log(`\n=== ${name}: ${script} ===`);
  const { code, result } = await run(script);
  rows.push({ name, code, result, seconds: (Date.now() - started) / 1000 });
}

console.log('\n=== webgpu-bandits test summary ===');
let passed = 0, failed = 0;
for (const { name, code, result, seconds } of rows) {
  const p = result?.passes ?? 0;
  const f = result ? result.failures : Math.max(1, code ?? 1);
  passed += p;
  failed += f;
  console.log(`${name}: adapter: ${result?.adapter ?? 'NONE'}`);
  console.log(`${name}: ${p} passed, ${f} failed${result?.pending ? `, ${result.pending} pending` : ''} (${seconds.toFixed(0)} s)`);
  for (const x of result?.failed ?? []) console.log(`  ✗ ${x.title}: ${x.error.split('\n')[0]}`);
  if (!result) console.log(`  ✗ the runner exited with code ${code} before reporting`);
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
