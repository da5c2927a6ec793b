// Device loss through the models: every call pending when the device goes and every later one
// rejects with a BackendError that says so, soon (not a hang), and the last save loads on a new
// backend with the same scores (what is lost: everything since that save).
import { expect } from 'chai';
import { BackendError, LinUCB, NeuralUCB, createBackend } from '../../src/index.js';
import { WebGpuBackend } from '../../src/gpu/backend.js';
import { uniform } from '../support/random.js';

/** How long a rejection may take once the device is destroyed (SwiftShader on two loaded cores). */
const SETTLE_MS = 2000;

type Model = LinUCB | NeuralUCB;

const KINDS = {
  LinUCB: {
    create: (b: WebGpuBackend) => LinUCB.create(b, { arms: 5, dim: 4, seed: 1 }),
    load: (b: WebGpuBackend, bytes: Uint8Array) => LinUCB.load(b, bytes),
    contexts: uniform(3 * 4, 2),
    scores: (m: Model, x: Float32Array) => (m as LinUCB).scores(x),
    update: (m: Model, seed: number) => (m as LinUCB).update(Int32Array.of(0, 2, 4), uniform(12, seed), uniform(3, seed + 1)),
  },
  NeuralUCB: {
    create: (b: WebGpuBackend) => NeuralUCB.create(b, { dim: 4, hidden: [4], trainEvery: 2, batchSize: 4, seed: 1 }),
    load: (b: WebGpuBackend, bytes: Uint8Array) => NeuralUCB.load(b, bytes),
    contexts: uniform(5 * 4, 2),
    scores: (m: Model, x: Float32Array) => (m as NeuralUCB).scores(x, { arms: 5 }),
    update: (m: Model, seed: number) => (m as NeuralUCB).update(Int32Array.of(0, 2, 4), uniform(12, seed), uniform(3, seed + 1)),
  },
} as const;

describe('device loss, through the models', () => {
  for (const [name, kind] of Object.entries(KINDS)) {
    it(`${name}: pending and later calls reject with a BackendError soon; load(newBackend, lastSave) gives the same scores`, async function () {
      this.timeout(60_000);
      const b = (await createBackend({ kind: 'webgpu' })) as WebGpuBackend;
      const fresh = (await createBackend({ kind: 'webgpu' })) as WebGpuBackend;
      try {
        const model = await kind.create(b);
        await kind.update(model, 10);
        const last = await model.save();
        const expected = await kind.scores(model, kind.contexts);
        // Not awaited: queued behind each other when the device goes.
        const pending = [kind.update(model, 20), kind.scores(model, kind.contexts), kind.update(model, 30), model.save()];
        b.device.destroy();
        const t0 = Date.now();
        const settled = await Promise.allSettled(pending);
        const later = await kind.scores(model, kind.contexts).then(() => null, (e: unknown) => e);
        const elapsed = Date.now() - t0;
        // A call already submitted may finish before the loss; the rest must reject, with BackendError.
        const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
        expect(rejected.length, 'pending calls rejected').to.be.greaterThan(0);
        for (const r of rejected) {
          expect(r.reason, String(r.reason)).to.be.instanceOf(BackendError);
          expect(String(r.reason)).to.match(/lost/);
        }
        expect(later).to.be.instanceOf(BackendError);
        expect(String(later)).to.match(/device was lost/);
        expect(elapsed, 'ms to reject every call').to.be.below(SETTLE_MS);
        const again = await kind.load(fresh, last);
        expect(Array.from(await kind.scores(again, kind.contexts))).to.deep.equal(Array.from(expected));
        again.dispose();
        model.dispose();
      } finally {
        b.dispose();
        fresh.dispose();
      }
    });
  }
});
