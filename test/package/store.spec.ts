// ModelStore: saved models in IndexedDB, with a model of tens of MB and a real quota error
// (Chromium's quota for the test origin lowered through the harness). In Node, where there is no
// IndexedDB, open() says so and points to files.
import { expect } from 'chai';
import { BanditError, LinUCB, ModelStore, NeuralUCB, ModelStoreError, createBackend, type Backend } from '../../src/index.js';
import { RUNTIME } from '../support/fixture.js';
import { uniform } from '../support/random.js';

/** The storage quota harness/run-browser.mjs gave the test origin (bytes), before the page loaded. */
const harnessQuota = (globalThis as { __harnessQuota?: number }).__harnessQuota;

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => expect.fail('resolved where a rejection was expected'),
    (e: Error) => e,
  );
}

describe('package: ModelStore', function () {
  if (RUNTIME === 'node') {
    it('open() in Node rejects with a ModelStoreError that points to files', async function () {
      const e = await rejection(ModelStore.open());
      expect(e).to.be.instanceOf(ModelStoreError);
      expect((e as ModelStoreError).reason).to.equal('unavailable');
      expect(e.message).to.match(/IndexedDB is not available/).and.match(/readFileSync/);
    });
    return;
  }

  const name = `webgpu-bandits-test-${Date.now()}`;
  let store: ModelStore;
  let backend: Backend;
  before(async () => {
    backend = await createBackend({ kind: 'cpu' });
    store = await ModelStore.open({ name });
  });
  after(async () => {
    store?.close();
    backend?.dispose();
    await new Promise<void>((ok) => {
      const r = indexedDB.deleteDatabase(name);
      r.onsuccess = r.onerror = r.onblocked = () => ok();
    });
  });

  it('puts, lists, gets and deletes a LinUCB model of tens of MB', async function () {
    this.timeout(300_000);
    // 400 arms × d = 64 on the cpu backend: A and A⁻¹ in float64 are 26 MB.
    const arms = 400, dim = 64;
    const model = await LinUCB.create(backend, { arms, dim });
    const contexts = uniform(2 * dim, 7);
    await model.update(Int32Array.of(3, 250), contexts, Float32Array.of(1, 0.5));
    const bytes = await model.save();
    expect(bytes.byteLength).to.be.greaterThan(20e6);
    const info = await store.put('big', bytes);
    expect(info).to.include({ key: 'big', model: 'LinUCB', byteLength: bytes.byteLength });
    expect(info.modelVersion).to.be.a('number');
    const kept = bytes.slice();
    bytes.fill(0, 0, 4096); // the store copied at put: the caller's array is its own again

    const listed = await store.list();
    expect(listed.map((m) => m.key)).to.deep.equal(['big']);
    expect(listed[0]).to.deep.equal(info);
    expect(await store.info('big')).to.deep.equal(info);

    const back = await store.get('big');
    expect(back).to.be.instanceOf(Uint8Array);
    expect(back!.byteLength).to.equal(kept.byteLength);
    let differ = 0;
    for (let i = 0; i < kept.length; i++) if (back![i] !== kept[i]) differ++;
    expect(differ, 'bytes that differ after the round trip').to.equal(0);
    const again = await LinUCB.load(backend, back!);
    expect(Array.from(await again.scores(contexts))).to.deep.equal(Array.from(await model.scores(contexts)));
    again.dispose();
    model.dispose();

    expect(await store.delete('big')).to.equal(true);
    expect(await store.get('big')).to.equal(undefined);
    expect(await store.list()).to.deep.equal([]);
    expect(await store.delete('big')).to.equal(false);
  });

  it('a put over the quota is a ModelStoreError saying so, and changes nothing', async function () {
    this.timeout(300_000);
    if (!harnessQuota) throw new Error('the harness set no storage quota (harness/run-browser.mjs, __harnessQuota)');
    const small = await LinUCB.create(backend, { arms: 4, dim: 3 });
    await store.put('small', await small.save());
    small.dispose();
    // IndexedDB compresses what it stores, so the big model must be incompressible: NeuralUCB's
    // random initial weights (θ and θ₀, 520k float64 each: 8.3 MB) against the harness's 6 MB.
    const big = await NeuralUCB.create(backend, { dim: 64, hidden: [8000], seed: 3 });
    const bytes = await big.save();
    big.dispose();
    expect(bytes.byteLength).to.be.greaterThan(harnessQuota);
    const e = await rejection(store.put('big', bytes));
    expect(e).to.be.instanceOf(ModelStoreError);
    expect((e as ModelStoreError).reason).to.equal('quota');
    expect(e.message).to.match(/ModelStore\.put\("big"\): the browser refused to store \d+\.\d MB: the storage quota is exceeded/);
    expect(e.message).to.match(/Nothing was changed/);
    expect((await store.list()).map((m) => m.key)).to.deep.equal(['small']);
    expect(await store.delete('small')).to.equal(true);
  });

  it('refuses bytes that are not a saved model, and bad keys, with a BanditError', async function () {
    const e1 = await rejection(store.put('x', new Uint8Array(64)));
    expect(e1).to.be.instanceOf(BanditError);
    expect(e1.message).to.match(/ModelStore\.put\("x"\): bytes: not a webgpu-bandits model/);
    const e2 = await rejection(store.get(''));
    expect(e2).to.be.instanceOf(BanditError);
    expect(e2.message).to.match(/key must be a non-empty string/);
    const e3 = await rejection(store.put(7 as unknown as string, new Uint8Array(64)));
    expect(e3.message).to.match(/key must be a non-empty string, got 7/);
    expect(await store.list()).to.deep.equal([]);
  });
});
