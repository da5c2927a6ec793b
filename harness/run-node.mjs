// Runs the test bundle (dist/test/suite.js) under mocha in Node, on Dawn's WebGPU (the 'webgpu' package).
// Usage: node harness/run-node.mjs [--grep PATTERN]    Exit code: the number of failures.
import Mocha from 'mocha';
import { adapterFromLine, printResult } from './results.mjs';

const grepAt = process.argv.indexOf('--grep');
const mocha = new Mocha({ timeout: 300_000, reporter: 'spec', color: false });
if (grepAt > 0) mocha.grep(process.argv[grepAt + 1]);
mocha.addFile(new URL(`../${process.env.OUTDIR ?? 'dist'}/test/suite.js`, import.meta.url).pathname); // OUTDIR: a build of one's own

let adapter = null;
const log = console.log.bind(console);
console.log = (...args) => {
  const found = adapterFromLine(args.map(String).join(' '));
  if (found) adapter = found;
  log(...args);
};

await mocha.loadFilesAsync();
const runner = mocha.run();
let passes = 0, failures = 0, pending = 0;
const failed = [];
runner.on('pass', () => passes++);
runner.on('pending', () => pending++);
runner.on('fail', (test, err) => {
  failures++;
  failed.push({ title: test.fullTitle(), error: String(err?.message ?? err) });
});
runner.on('end', () => {
  if (!adapter) {
    failures++;
    failed.push({ title: 'WebGPU adapter', error: 'the suite never reported an adapter' });
  }
  printResult({ runtime: 'node (Dawn)', adapter, passes, failures, pending, failed });
  // Dawn's instance can keep the event loop alive; the results are out, so leave.
  process.exit(Math.min(failures, 255));
});
