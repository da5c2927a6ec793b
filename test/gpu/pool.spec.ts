import { expect } from 'chai';
import { BindGroupCache } from '../../src/gpu/bind-groups.js';
import { BufferPool, DEFAULT_POOL_BOUNDS, sizeClass, type PoolBounds } from '../../src/gpu/pool.js';

// The pool and the bind-group cache are plain bookkeeping over GPU objects: tested here with
// stand-ins that record what was made and destroyed.

interface FakeBuffer { label: string; readonly size: number; readonly usage: number; destroyed: boolean; destroy(): void }

function fakePool(bounds: Partial<PoolBounds> = {}, max = 2 ** 28) {
  const made: FakeBuffer[] = [];
  const forgotten: FakeBuffer[] = [];
  const pool = new BufferPool(
    (size, usage, label) => {
      const b: FakeBuffer = { label, size, usage, destroyed: false, destroy() { this.destroyed = true; } };
      made.push(b);
      return b as unknown as GPUBuffer;
    },
    (b) => forgotten.push(b as unknown as FakeBuffer),
    max,
    { ...DEFAULT_POOL_BOUNDS, ...bounds },
  );
  const take = (bytes: number, usage = 1, label = 'x') => pool.acquire(bytes, usage, label).buffer as unknown as FakeBuffer;
  const give = (b: FakeBuffer, encoded = false) => pool.release(b as unknown as GPUBuffer, encoded);
  return { pool, made, forgotten, take, give };
}

describe('buffer pool', () => {
  it('normalises sizes into classes at most a quarter over the request, exact past the limit', () => {
    expect(sizeClass(1, 2 ** 28)).to.equal(256);
    expect(sizeClass(256, 2 ** 28)).to.equal(256);
    expect(sizeClass(257, 2 ** 28)).to.equal(320);
    expect(sizeClass(1000, 2 ** 28)).to.equal(1024);
    expect(sizeClass(4_096_000, 2 ** 28)).to.equal(63 * 65536);
    for (let bytes = 1; bytes < 2 ** 22; bytes = Math.ceil(bytes * 1.37) + 3) {
      const c = sizeClass(bytes, 2 ** 28);
      expect(c % 16, `${bytes}`).to.equal(0);
      expect(c).to.be.at.least(bytes);
      if (bytes > 256) expect(c / bytes, `${bytes}`).to.be.at.most(1.25);
    }
    // A class over the binding limit would not bind: the request itself, rounded to 16.
    expect(sizeClass(1000, 1000)).to.equal(1008);
  });

  it('reuses a released buffer of the same class and usage, and no other', () => {
    const { take, give, made } = fakePool();
    const a = take(1000, 1);
    give(a);
    expect(take(1000, 2)).to.not.equal(a); // other usage
    expect(take(5000, 1)).to.not.equal(a); // other class
    expect(take(900, 1)).to.equal(a); // same class (1024)
    expect(made.length).to.equal(3);
  });

  it('keeps a buffer the open step still uses until its submit', () => {
    const { pool, take, give } = fakePool();
    const a = take(1000);
    give(a, true);
    expect(pool.stats().pending).to.equal(1);
    const b = take(1000);
    expect(b).to.not.equal(a);
    pool.afterSubmit();
    expect(pool.stats().pending).to.equal(0);
    expect(take(1000)).to.equal(a);
  });

  it('hands buffers back into the roles they had, whatever the release order', () => {
    const { pool, take, give } = fakePool();
    const round = (releaseOrder: (l: FakeBuffer[]) => FakeBuffer[]) => {
      const got = [take(300, 1, 'x'), take(300, 1, 'index'), take(300, 1, 'v'), take(300, 1, 'weights')];
      for (const b of releaseOrder(got)) give(b, true);
      pool.afterSubmit();
      return got;
    };
    const first = round((l) => l);
    const second = round((l) => [l[2]!, l[0]!, l[3]!, l[1]!]);
    const third = round((l) => [...l].reverse());
    expect(second).to.deep.equal(first);
    expect(third).to.deep.equal(first);
  });

  it("drops a buffer's bind groups when it is handed out under another label, and only then", () => {
    const { take, give, forgotten } = fakePool();
    const a = take(300, 1, 'index');
    give(a);
    expect(take(300, 1, 'index')).to.equal(a);
    expect(forgotten).to.deep.equal([]); // same role: its groups are found again
    give(a);
    expect(take(300, 1, 'weights')).to.equal(a);
    expect(forgotten).to.deep.equal([a]); // another role: groups of the old one would never come again
    expect(a.label).to.equal('weights');
    expect(a.destroyed).to.equal(false);
  });

  it('bounds the free lists: per class, in total bytes (oldest first), and by idleness', () => {
    const small = fakePool({ maxFreePerBucket: 2, bucketBytes: 0 });
    const bs = [small.take(4096), small.take(4096), small.take(4096)];
    bs.forEach((b) => small.give(b));
    expect(small.pool.stats().free).to.equal(2);
    expect(bs[0]!.destroyed).to.equal(true);
    expect(small.forgotten).to.deep.equal([bs[0]]);

    const total = fakePool({ maxFreeBytes: 3 * 65536 });
    const big = [total.take(65536), total.take(65536), total.take(65536), total.take(65536)];
    big.forEach((b) => total.give(b));
    expect(total.pool.stats().freeBytes).to.be.at.most(3 * 65536);
    expect(big.map((b) => b.destroyed)).to.deep.equal([true, false, false, false]);

    const idle = fakePool({ idleSubmits: 40, idleTrimBytes: 65536 });
    const [large, tiny] = [idle.take(65536), idle.take(256)];
    idle.give(large);
    idle.give(tiny);
    for (let i = 0; i < 64; i++) idle.pool.afterSubmit();
    expect([large.destroyed, tiny.destroyed]).to.deep.equal([true, false]);
  });

  it('never hands out a failed allocation again, and destroys all it made on destroyAll', () => {
    const { pool, take, give, made } = fakePool();
    const a = take(1000);
    pool.markFailed(a as unknown as GPUBuffer);
    give(a);
    expect(a.destroyed).to.equal(true);
    expect(take(1000)).to.not.equal(a);
    take(70000);
    pool.destroyAll();
    expect(made.every((b) => b.destroyed)).to.equal(true);
    expect(pool.stats()).to.include({ live: 0, liveBytes: 0, free: 0, freeBytes: 0, inUse: 0 });
  });
});

describe('bind group cache', () => {
  const buf = (n: number) => ({ n }) as unknown as GPUBuffer;
  const group = (n: number) => ({ n }) as unknown as GPUBindGroup;

  it('drops every group of a destroyed buffer and leaves no stale key in the index', () => {
    const c = new BindGroupCache();
    const [a, b, x] = [buf(1), buf(2), buf(3)];
    c.set('k1', group(1), [a, x]);
    c.set('k2', group(2), [b, x]);
    c.set('k3', group(3), [a, b]);
    expect([c.size, c.indexedKeys]).to.deep.equal([3, 6]);
    c.forgetBuffer(a);
    expect(c.get('k1')).to.equal(undefined);
    expect(c.get('k3')).to.equal(undefined);
    expect(c.get('k2')).to.not.equal(undefined);
    // Only k2's two entries remain: x and b no longer list k1 or k3.
    expect([c.size, c.indexedBuffers, c.indexedKeys]).to.deep.equal([1, 2, 2]);
  });

  it('keeps at most `max` groups, dropping the least recently used', () => {
    const c = new BindGroupCache(2);
    c.set('a', group(1), [buf(1)]);
    c.set('b', group(2), [buf(2)]);
    c.get('a');
    c.set('c', group(3), [buf(3)]);
    expect([c.get('a') !== undefined, c.get('b') !== undefined, c.get('c') !== undefined]).to.deep.equal([true, false, true]);
    expect([c.size, c.indexedKeys]).to.deep.equal([2, 2]);
  });
});
