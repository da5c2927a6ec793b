// Builds the API reference (docs/api/) from the JSDoc with TypeDoc, warnings counted as failures.
// TypeDoc needs the TypeScript 5 compiler API, so it lives in tools/typedoc with its own lockfile
// (`npm run docs:install`, which .ci/run does).
// Usage: node harness/run-docs.mjs
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { printResult } from './results.mjs';

const root = new URL('..', import.meta.url).pathname;
const typedoc = `${root}tools/typedoc/node_modules/typedoc/bin/typedoc`;
const failed = [];
if (!existsSync(typedoc)) {
  failed.push({ title: 'TypeDoc', error: 'tools/typedoc is not installed: run `npm run docs:install` (npm ci in tools/typedoc)' });
} else {
  const run = spawnSync(process.execPath, [typedoc, '--options', 'typedoc.json'], { cwd: root, encoding: 'utf8' });
  const out = `${run.stdout}${run.stderr}`;
  process.stdout.write(out);
  if (run.status !== 0 || /\[warning\]|\[error\]/.test(out)) failed.push({ title: 'TypeDoc, no warnings', error: out.trim().split('\n').slice(-10).join('\n') });
}
const passes = failed.length ? 0 : 1;
if (passes) console.log('  ✔ docs/api built from the JSDoc with no warnings');
printResult({ runtime: 'docs', adapter: 'TypeDoc (no GPU needed)', passes, failures: failed.length, pending: 0, failed });
process.exit(failed.length);
