// Checks the layering of src/ (ARCHITECTURE.md): every import, type-only ones included, goes to
// the same folder or to a layer above; no import circles anywhere in src/.
// Usage: node harness/check-layers.mjs    Exit code 1 and one line per violation when broken.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { printResult } from './results.mjs';

const root = path.resolve(new URL('..', import.meta.url).pathname);
const src = path.join(root, 'src');

// Layers from the top; folders on one line may not import each other unless `mayImport` says so.
const LAYERS = [
  ['core'],
  ['platform'],
  ['gpu'],
  ['cpu', 'wasm'],
  ['ops', 'backend.ts'],
  ['models'],
  ['linucb', 'neural'],
  ['eval', 'sim'],
  ['store', 'worker'],
  ['cli'],
  ['cli.ts', 'index.ts'],
];
/** Exceptions within a line, and imports a lower layer must not make although the order allows it. */
// wasm serves ops that have no kernel yet through the float64 twins (src/wasm/twin.ts).
const MAY_IMPORT = { sim: ['eval'], wasm: ['cpu'] };
const MUST_NOT = { cpu: ['gpu'], wasm: ['gpu'], ops: ['gpu', 'cpu', 'wasm'] };

const unitOf = (file) => path.relative(src, file).split(path.sep)[0];
const layerOf = new Map(LAYERS.flatMap((units, i) => units.map((u) => [u, i])));

function walk(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

const files = walk(src);
const edges = new Map();
const problems = [];
const SPEC = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const targets = [];
  for (const m of text.matchAll(SPEC)) {
    const spec = m[1] ?? m[2];
    if (!spec.endsWith('.js') && !spec.endsWith('.ts')) continue; // .wgsl text modules
    const target = path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts'));
    if (!target.startsWith(src)) continue;
    targets.push(target);
    const from = unitOf(file), to = unitOf(target);
    if (from === to) continue;
    const lf = layerOf.get(from), lt = layerOf.get(to);
    const where = `${path.relative(root, file)} imports ${path.relative(root, target)}`;
    if (lf === undefined) problems.push(`src/${from} is in no layer (add it to LAYERS and ARCHITECTURE.md): ${where}`);
    else if (lt === undefined) problems.push(`src/${to} is in no layer: ${where}`);
    else if ((MUST_NOT[from] ?? []).includes(to)) problems.push(`${from} must not import ${to}: ${where}`);
    else if (lt > lf || (lt === lf && !(MAY_IMPORT[from] ?? []).includes(to))) {
      problems.push(`${from} (layer ${lf}) may not import ${to} (layer ${lt}): ${where}`);
    }
  }
  edges.set(file, targets);
}

// Circles: depth-first search over the file graph.
const state = new Map();
const stack = [];
function visit(f) {
  state.set(f, 1);
  stack.push(f);
  for (const t of edges.get(f) ?? []) {
    if (state.get(t) === 1) {
      const circle = stack.slice(stack.indexOf(t)).concat(t).map((p) => path.relative(src, p));
      problems.push(`import circle: ${circle.join(' → ')}`);
    } else if (!state.has(t)) visit(t);
  }
  stack.pop();
  state.set(f, 2);
}
for (const f of files) if (!state.has(f)) visit(f);

const unique = [...new Set(problems)];
for (const p of unique) console.log(`  ✗ ${p}`);
console.log(`check-layers: ${files.length} files in src/, ${unique.length ? `${unique.length} problem(s)` : 'layers and no import circles: ok'}`);
// One result for the harness summary: each file is a check.
printResult({
  runtime: 'layers', adapter: 'none needed', passes: files.length, failures: unique.length, pending: 0,
  failed: unique.map((p) => ({ title: 'layers', error: p })),
});
process.exit(unique.length ? 1 : 0);
