import { expect } from 'chai';
import { createBackend, LinUCB, type Backend } from '../../src/index.js';
import { ucbScores } from '../../src/ops/index.js';
import type { WasmBackend } from '../../src/wasm/backend.js';
import { SPLIT_MIN_WORK } from '../../src/wasm/split.js';
import { threadsUnavailable } from '../../src/wasm/threads.js';
import { wasmBackend } from '../support/fixture.js';
import { spd, uniform } from '../support/random.js';

/** The UCB scores of one seeded case (arms of A⁻¹ SPD, a bonus of 0.7) on `b`, with `armOffset` into wider per-arm x and out. */
async function scores(b: Backend, rows: number, arms: number, d: number, perArm: boolean): Promise<Float32Array> {
  const offset = perArm ? 3 : 0, total = arms + offset;
  const x = b.tensor(uniform(rows * (perArm ? total : 1) * d, rows + d), perArm ? [rows, total, d] : [rows, d]);
  const aInv = b.tensor(spd(arms, d, arms + d), [arms, d, d]), theta = b.tensor(uniform(arms * d, 5), [arms, d]);
  const out = b.tensor(new Float32Array(rows * total).fill(-9), [rows, total]);
  ucbScores(b, x, aInv, theta, { alpha: 0.7, perArm, out, armOffset: offset });
  const got = (await b.read(out)) as Float32Array;
  for (const t of [x, aInv, theta, out]) t.dispose();
  return got;
}

describe('wasm backend: two threads', function () {
  this.timeout(120_000);
  let two: WasmBackend;
  before(async () => {
    two = (await createBackend({ kind: 'wasm', threads: 2 })) as WasmBackend;
  });
  after(() => two.dispose());

  it('has a worker where SharedArrayBuffer exists, else one thread and says why', () => {
    const why = threadsUnavailable();
    if (why) {
      expect(two.threads).to.equal(null);
      expect(two.info.summary).to.contain(`1 thread (no second: ${why})`);
    } else {
      expect(two.threads).to.not.equal(null);
      expect(two.info.summary).to.contain('2 threads');
    }
  });

  // Split by arms (more arms than rows) and by rows (a multiple of 4 and not), shared and per-arm x.
  const cases = [
    { rows: 64, arms: 300, d: 32, perArm: false },
    { rows: 200, arms: 3, d: 64, perArm: false },
    { rows: 203, arms: 5, d: 29, perArm: true },
    { rows: 9, arms: 1200, d: 7, perArm: true },
    { rows: 1, arms: 7, d: 9, perArm: false },
  ];
  for (const c of cases) {
    const work = c.rows * c.arms * c.d * c.d;
    it(`UCB scores B=${c.rows} K=${c.arms} d=${c.d}${c.perArm ? ' per arm' : ''}: the one-thread bits, ${work >= SPLIT_MIN_WORK ? 'split' : 'not split (small)'}`, async () => {
      const before = two.threads?.calls ?? 0;
      const [got, want] = [await scores(two, c.rows, c.arms, c.d, c.perArm), await scores(wasmBackend(), c.rows, c.arms, c.d, c.perArm)];
      expect(got.length).to.equal(want.length);
      for (let i = 0; i < got.length; i++) if (!Object.is(got[i], want[i])) expect.fail(`score ${i}: ${got[i]} on two threads, ${want[i]} on one`);
      if (two.threads) expect(two.threads.calls - before).to.equal(work >= SPLIT_MIN_WORK ? 1 : 0);
    });
  }

  it('LinUCB on two threads chooses what it chooses on one, over rounds of select and update', async () => {
    const run = async (b: Backend) => {
      const m = await LinUCB.create(b, { arms: 400, dim: 16, seed: 2 });
      const chosen: number[] = [];
      for (let t = 0; t < 6; t++) {
        const x = uniform(64 * 16, 40 + t);
        const arms = await m.select(x);
        chosen.push(...arms);
        await m.update(arms, x, Float32Array.from(arms, (a) => (a % 3 === 0 ? 1 : 0)));
      }
      m.dispose();
      return chosen;
    };
    expect(await run(two)).to.deep.equal(await run(wasmBackend()));
  });
});
