// The programs harness/run-consumer.mjs writes into the fresh consumer project. They import the
// package by its name only, as a user's code would.

/** (a) Node ESM, without the optional `webgpu` package installed. */
export const CONSUMER_NODE = `
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend, LinUCB, BackendError } from 'webgpu-bandits';
import { gemm } from 'webgpu-bandits/ops';
import { EcommerceSimulator } from 'webgpu-bandits/sim';
import { ipsEstimate } from 'webgpu-bandits/eval';

for (const f of [gemm, EcommerceSimulator, ipsEstimate]) if (typeof f !== 'function') throw new Error('a subpath export is missing');
const backend = await createBackend({ kind: 'cpu' });
const model = await LinUCB.create(backend, { arms: 8, dim: 4 });
const contexts = Float32Array.from({ length: 3 * 4 }, (_, i) => Math.sin(i));
const arms = await model.select(contexts);
await model.update(arms, contexts, Float32Array.of(1, 0, 1));
const dir = mkdtempSync(join(tmpdir(), 'consumer-'));
const file = join(dir, 'model.bin');
writeFileSync(file, await model.save());
const again = await LinUCB.load(backend, readFileSync(file));
const a = await model.scores(contexts), b = await again.scores(contexts);
const bytes = readFileSync(file).length;
rmSync(dir, { recursive: true, force: true });

let webgpuError = '', webgpuErrorName = '';
await createBackend({ kind: 'webgpu' }).then(
  (b) => { b.dispose(); webgpuError = 'resolved'; },
  (e) => { webgpuError = e.message; webgpuErrorName = e instanceof BackendError ? 'BackendError' : e.name; },
);
const auto = await createBackend({ kind: 'auto' });
console.log(JSON.stringify({
  sameScores: a.length === 24 && a.every((v, i) => v === b[i]), bytes,
  webgpuError, webgpuErrorName, autoKind: auto.kind, autoReason: auto.info.reason ?? auto.info.fallbackReason ?? '',
}));
`;

/** (b) A strict TypeScript consumer of the root entry's types (type-checked, not run). */
export const CONSUMER_TS_ROOT = `
import { createBackend, LinUCB, NeuralUCB, BanditError, type Backend, type LinUCBOptions } from 'webgpu-bandits';

export async function run(device?: GPUDevice): Promise<number> {
  const backend: Backend = await createBackend(device ? { device } : { kind: 'auto' });
  const options: LinUCBOptions = { arms: 10, dim: 4, alpha: 1 };
  const model = await LinUCB.create(backend, options);
  const chosen: Int32Array = await model.select(new Float32Array(8));
  const scores: Float32Array = await model.scores(new Float32Array(8));
  await model.update(chosen, new Float32Array(8), Float32Array.of(1, 0));
  const bytes: Uint8Array = await model.save();
  const again: LinUCB = await LinUCB.load(backend, bytes);
  const neural: NeuralUCB = await NeuralUCB.create(backend, { dim: 4, hidden: [8] });
  const summary: string = backend.info.summary;
  void [again, neural, summary, BanditError];
  return scores.length;
}
`;

/** (b) The other entries' types too. */
export const CONSUMER_TS_ALL = `
import { createBackend } from 'webgpu-bandits';
import { gemm, type Tensor } from 'webgpu-bandits/ops';
import { EcommerceSimulator, type Policy } from 'webgpu-bandits/sim';
import { ipsEstimate, type EstimatorInput } from 'webgpu-bandits/eval';

export async function run(): Promise<Tensor> {
  const backend = await createBackend({ kind: 'cpu' });
  const t: Tensor = backend.tensor(new Float32Array(4), [2, 2]);
  const policy: Policy | null = null;
  const input: EstimatorInput | null = null;
  void [policy, input, EcommerceSimulator, ipsEstimate];
  return gemm(backend, t, t);
}
`;

const STRICT = {
  target: 'ES2022',
  module: 'nodenext',
  moduleResolution: 'nodenext',
  strict: true,
  noUncheckedIndexedAccess: true,
  exactOptionalPropertyTypes: true,
  verbatimModuleSyntax: true,
  skipLibCheck: false,
  noEmit: true,
};

/**
 * The TypeScript set-ups checked: the root entry with no DOM and no Node types at all (the WebGPU
 * types come with the package), and every entry in a browser project (lib dom) and in a Node
 * project (@types/node): /sim and /eval take an AbortSignal, which either provides.
 */
export const TSCONFIGS = [
  { name: 'root entry, lib ES2022 only, no types', files: ['consumer-root.ts'], lib: ['ES2022'], types: [] },
  { name: 'every entry, lib ES2022 + DOM', files: ['consumer-root.ts', 'consumer-all.ts'], lib: ['ES2022', 'DOM'], types: [] },
  { name: 'every entry, lib ES2022 + @types/node', files: ['consumer-root.ts', 'consumer-all.ts'], lib: ['ES2022'], types: ['node'] },
].map(({ name, files, lib, types }) => ({ name, tsconfig: { compilerOptions: { ...STRICT, lib, types }, files } }));

/** (c) The page: LinUCB on the browser's WebGPU, save and load; the result in window.__consumer. */
export const CONSUMER_PAGE = `
import { createBackend, LinUCB } from 'webgpu-bandits';
const out = { done: false };
window.__consumer = out;
try {
  const backend = await createBackend({ kind: 'webgpu' });
  const model = await LinUCB.create(backend, { arms: 50, dim: 8 });
  const contexts = Float32Array.from({ length: 4 * 8 }, (_, i) => Math.cos(i));
  const arms = await model.select(contexts);
  await model.update(arms, contexts, Float32Array.of(1, 0, 0, 1));
  const bytes = await model.save();
  const again = await LinUCB.load(backend, bytes);
  const a = await model.scores(contexts), b = await again.scores(contexts);
  Object.assign(out, { kind: backend.kind, summary: backend.info.summary, bytes: bytes.length, sameScores: a.every((v, i) => v === b[i]) });
  model.dispose(); again.dispose(); backend.dispose();
} catch (e) {
  out.error = String(e && e.stack || e);
}
out.done = true;
`;

/** (c) Every entry in one browser bundle, to check none of them drags Node in. */
export const CONSUMER_ALL_ENTRIES = `
import * as root from 'webgpu-bandits';
import * as ops from 'webgpu-bandits/ops';
import * as sim from 'webgpu-bandits/sim';
import * as evaluation from 'webgpu-bandits/eval';
window.__entries = [root, ops, sim, evaluation].map((m) => Object.keys(m).length);
`;
