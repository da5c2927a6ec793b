// Sizes a device cannot hold (issue 11 item 10): a model past the size cap is refused at once,
// before anything is allocated, and an allocation the device fails leaves the backend usable: the
// next valid create on it works and scores as a model that never saw the failure.
import { expect } from 'chai';
import { BackendError, BanditError, EmbeddingMLP, HybridLinUCB, LinUCB, NeuralUCB, createBackend, type Backend } from '../../src/index.js';
import { failingAllocations } from '../support/device-calls.js';
import { backends, gpuBackend } from '../support/fixture.js';
import { uniform } from '../support/random.js';

/** How long a refusal of a huge size may take (it must not allocate or loop over the size). */
const REFUSE_MS = 1000;
const OPTIONS = { arms: 6, dim: 4, alpha: 0.5, seed: 3 };
const X = uniform(2 * OPTIONS.dim, 17);

const HUGE: [string, RegExp, (b: Backend) => Promise<unknown>][] = [
  ['LinUCB arms 1e9', /^LinUCB\.create: 1000000000 arms × dim 4 need [\d.]+ GiB of state, over the 4 GiB .*nothing was allocated/, (b) => LinUCB.create(b, { ...OPTIONS, arms: 1e9 })],
  ['LinUCB per-arm arms 1e9', /^LinUCB\.create: .*nothing was allocated/, (b) => LinUCB.create(b, { ...OPTIONS, arms: 1e9, perArmFeatures: true })],
  // A dim past what the batched factorisation takes is refused on its own, before the size.
  ['LinUCB dim 2³¹', /^LinUCB: dim = 2147483648 is over \d+, the largest the batched factorisation supports/, (b) => LinUCB.create(b, { ...OPTIONS, dim: 2 ** 31 })],
  ['HybridLinUCB arms 1e9', /^HybridLinUCB\.create: .*nothing was allocated/, (b) => HybridLinUCB.create(b, { arms: 1e9, dim: 2, sharedDim: 2 })],
  ['NeuralUCB hidden [1e9]', /^NeuralUCB\.create: .*nothing was allocated/, (b) => NeuralUCB.create(b, { dim: 3, hidden: [1e9] })],
  ['EmbeddingMLP users 1e9', /^EmbeddingMLP\.create: .*nothing was allocated/, (b) => EmbeddingMLP.create(b, { users: 1e9, items: 4, contextDim: 2, hidden: [4], embeddingDim: 2 })],
];

async function scoresOf(b: Backend): Promise<number[]> {
  const m = await LinUCB.create(b, OPTIONS);
  try {
    await m.update(Int32Array.of(1, 4), X, Float32Array.of(1, 0.5));
    return Array.from(await m.scores(X));
  } finally {
    m.dispose();
  }
}

describe('sizes a device cannot hold', () => {
  for (const which of ['cpu', 'gpu'] as const) {
    const kind = which === 'gpu' ? 'webgpu' : 'cpu';
    for (const [what, message, create] of HUGE) {
      it(`${what} (${kind}): refused within ${REFUSE_MS} ms, nothing allocated, the next valid create works`, async () => {
        const b = backends()[which];
        const expected = await scoresOf(b);
        const t0 = Date.now();
        const error = await create(b).then(() => null, (e: unknown) => e);
        const elapsed = Date.now() - t0;
        expect(error, String(error)).to.be.instanceOf(BanditError);
        expect(String((error as Error).message)).to.match(message);
        expect(elapsed, 'ms to refuse').to.be.below(REFUSE_MS);
        expect(await scoresOf(b)).to.deep.equal(expected);
      });
    }
  }

  it('an allocation the device fails (webgpu): create rejects with a BackendError naming the model size, and the next create on that backend works', async function () {
    this.timeout(30_000);
    const expected = await scoresOf(gpuBackend());
    // The first LinUCB A⁻¹ made on this device fails as out of memory (a real one would need the machine's memory).
    let armed = true;
    const device = failingAllocations(gpuBackend().device, (d) => armed && String(d.label).startsWith('LinUCB A⁻¹') && !(armed = false));
    const b = await createBackend({ device });
    try {
      const error = await LinUCB.create(b, OPTIONS).then(() => null, (e: unknown) => e);
      expect(armed, 'the failing allocation was made').to.equal(false);
      expect(error, String(error)).to.be.instanceOf(BackendError);
      expect(String(error)).to.match(/LinUCB\.create: the device could not allocate 6 arms × dim 4.*OutOfMemory/);
      // No stale error: the next calls and creates on the same backend are clean.
      await b.sync();
      expect(await scoresOf(b)).to.deep.equal(expected);
    } finally {
      b.dispose();
    }
  });
});
