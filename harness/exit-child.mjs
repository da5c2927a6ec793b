// One Node program of a user, in one of the patterns that crashed Node at exit (issue 11 items 7
// and 8); harness/run-exit.mjs runs it many times as a child and wants exit code 0, "done" on
// stdout and nothing on stderr (no driver noise either).
// Usage: node [--expose-gc] harness/exit-child.mjs PATTERN
import { createBackend, LinUCB } from '../dist/index.js';

const pattern = process.argv[2];

async function smallModel(backend) {
  const model = await LinUCB.create(backend, { arms: 4, dim: 3 });
  const x = Float32Array.of(0.1, 0.2, 0.3, -0.1, 0.5, 0.2);
  const arms = await model.select(x);
  await model.update(arms, x, Float32Array.of(1, 0));
  const bytes = await model.save();
  model.dispose();
  return bytes;
}

/** A device of the caller's own from Dawn, whose GPU object goes out of scope here. */
async function callersBackend(passGpu) {
  const specifier = 'webgpu';
  const { create, globals } = await import(specifier);
  Object.assign(globalThis, globals);
  // SwiftShader, as the library's own route here (no GPU device node in this container).
  process.env.VK_ICD_FILENAMES ??= '/usr/lib/chromium/vk_swiftshader_icd.json';
  const gpu = create([]);
  const adapter = await gpu.requestAdapter();
  const device = await adapter.requestDevice();
  return createBackend(passGpu ? { device, gpu } : { device });
}

async function collectGarbage() {
  for (let i = 0; i < 5; i++) {
    globalThis.gc();
    await new Promise((ok) => setTimeout(ok, 10));
  }
}

switch (pattern) {
  case 'await-dispose': {
    const b = await createBackend({ kind: 'webgpu' });
    await Promise.resolve();
    b.dispose();
    break;
  }
  case 'dispose-at-once': {
    const b = await createBackend({ kind: 'webgpu' });
    b.dispose();
    break;
  }
  case 'model-then-dispose': {
    const b = await createBackend({ kind: 'webgpu' });
    await smallModel(b);
    await Promise.resolve();
    b.dispose();
    break;
  }
  case 'two-backends': {
    const a = await createBackend({ kind: 'webgpu' });
    const b = await createBackend({ kind: 'webgpu' });
    await smallModel(b);
    a.dispose();
    await Promise.resolve();
    b.dispose();
    break;
  }
  case 'no-dispose': {
    const b = await createBackend({ kind: 'webgpu' });
    await smallModel(b);
    break;
  }
  case 'dispose-then-gc': {
    const b = await createBackend({ kind: 'webgpu' });
    b.dispose();
    await collectGarbage();
    break;
  }
  case 'callers-device-gc':
  case 'callers-device-gc-unheld': {
    // Item 8: the caller's GPU object is unreachable once callersBackend returns; collect it,
    // then work that polls the instance (mapAsync, error scopes) must still run.
    const b = await callersBackend(pattern === 'callers-device-gc');
    await collectGarbage();
    await smallModel(b);
    await collectGarbage();
    await smallModel(b);
    b.dispose();
    break;
  }
  default:
    throw new Error(`exit-child: unknown pattern ${pattern}`);
}
console.log('done');
