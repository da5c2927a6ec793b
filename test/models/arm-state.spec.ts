import { expect } from 'chai';
import { BanditError, type Backend } from '../../src/index.js';
import { ArmShards, identities, type Shard } from '../../src/models/arm-shards.js';
import { InverseHealth } from '../../src/models/inverse-health.js';
import { readTogether } from '../../src/models/readback.js';
import { expectClose, type Tolerance } from '../support/compare.js';
import { cpuBackend, describeBackends, f32Backend } from '../support/fixture.js';
import { inverseSpd } from '../support/reference.js';
import { spd } from '../support/random.js';
import { countingReads } from './counting.js';

/** Re-factorised f32 inverses of well-conditioned 3×3 matrices against their float64 inverses. */
const TOL_F32_INVERSE: Tolerance = { abs: 1e-5, rel: 1e-4 };
/** The backend's ‖A·A⁻¹ − I‖∞ against the same sum in float64 over the f32 values: a d-term dot product's rounding. */
const TOL_DRIFT: Tolerance = { abs: 1e-6, rel: 1e-3 };

const KINDS = ['webgpu', 'cpu'] as const;
const backendOf = (kind: (typeof KINDS)[number]): Backend => (kind === 'webgpu' ? f32Backend() : cpuBackend());

/** Distinct values an arm (f32-exact), so a misplaced arm shows. */
const distinct = (arms: number, width: number, base: number) => Float32Array.from({ length: arms * width }, (_, i) => base + i / 4);

function makeState(b: Backend, arms: number, perShard: number) {
  return ArmShards.create(b, 'Test', { arms, perShard }, {
    m: { shape: [2, 2], identity: 3, label: 'M' },
    v: { shape: [3], label: 'v' },
  });
}

describeBackends('models: per-arm state over shards', function () {
  this.timeout(60_000);

  for (const kind of KINDS) {
    it(`${kind}: starts every field at its initial value, and concatenates and writes back across shards`, async () => {
      const b = backendOf(kind);
      const state = makeState(b, 5, 2);
      try {
        expect(state.sizes()).to.deep.equal([2, 2, 1]);
        expect(state.arms).to.equal(5);
        expect(Array.from(await state.read('m'))).to.deep.equal(Array.from(identities(5, 2, 3, false)));
        expect(Array.from(await state.read('v'))).to.deep.equal(new Array(15).fill(0));
        const m = distinct(5, 4, 100), v = distinct(5, 3, -7);
        state.write('m', m);
        state.write('v', v);
        expect(Array.from(await state.read('m'))).to.deep.equal(Array.from(m));
        expect(Array.from(await state.read('v'))).to.deep.equal(Array.from(v));
        // Shard 1 holds arms 2 and 3: its own tensor has exactly their values.
        expect(Array.from(await b.read(state.shards[1]!.t.v))).to.deep.equal(Array.from(v.subarray(6, 12)));
        expect(() => state.write('v', v.subarray(1))).to.throw(BanditError, /needs 15 values, got 14/);
      } finally {
        state.dispose();
      }
    });

    it(`${kind}: splits a batch by shard, in batch order, and gathers / scatters arms`, async () => {
      const b = backendOf(kind);
      const state = makeState(b, 5, 2);
      try {
        const v = distinct(5, 3, 1);
        state.write('v', v);
        const split = state.split(Int32Array.of(4, 0, 3, 0, 1));
        expect(split.map((g) => [g.shard.offset, Array.from(g.rows), Array.from(g.local)])).to.deep.equal([
          [0, [1, 3, 4], [0, 0, 1]], [2, [2], [1]], [4, [0], [0]],
        ]);
        const [s0, s1] = state.shards as [Shard<'m' | 'v'>, Shard<'m' | 'v'>];
        expect(state.local(s1, new Set([0, 2, 3]))).to.equal(null);
        expect(Array.from(state.local(s1, new Set([4, 3, 0]))!)).to.deep.equal([1]);
        expect(Array.from(state.local(s0, new Set([3]))!)).to.deep.equal([]);
        expect(state.local(s0, null)).to.equal(null);
        // Gather arms 1 and 0 (in that order) of shard 0, then scatter them back swapped.
        const packed = state.gather(s0, 'v', [1, 0]);
        expect(Array.from(await b.read(packed))).to.deep.equal([...v.subarray(3, 6), ...v.subarray(0, 3)]);
        state.scatter(packed, s0, 'v', [0, 1]);
        // Only packed row 1 into arm 2 (shard 1, local 0).
        state.scatter(packed, s1, 'v', [0], [1]);
        packed.dispose();
        const after = await state.read('v');
        expect(Array.from(after)).to.deep.equal([...v.subarray(3, 6), ...v.subarray(0, 3), ...v.subarray(0, 3), ...v.subarray(9, 15)]);
      } finally {
        state.dispose();
      }
    });

    it(`${kind}: one shard gets the whole batch in order (repeated arms too), and an empty batch no group`, () => {
      const b = backendOf(kind);
      const state = makeState(b, 5, 5);
      try {
        const arms = Int32Array.of(4, 0, 3, 0, 1);
        const split = state.split(arms);
        expect(split.map((g) => [g.shard.offset, Array.from(g.rows), Array.from(g.local)])).to.deep.equal([[0, [0, 1, 2, 3, 4], [4, 0, 3, 0, 1]]]);
        expect(split[0]!.shard).to.equal(state.shards[0]);
        expect(state.split(new Int32Array(0))).to.deep.equal([]);
        // Grown past one shard, the batch is grouped again.
        state.grow(1);
        expect(state.split(Int32Array.of(5, 0)).map((g) => [g.shard.offset, Array.from(g.rows), Array.from(g.local)])).to.deep.equal([[0, [1], [0]], [5, [0], [0]]]);
      } finally {
        state.dispose();
      }
    });

    it(`${kind}: grows by n arms across shard boundaries; every old arm stays bit for bit, new arms start at the prior`, async () => {
      const b = backendOf(kind);
      const state = makeState(b, 1, 3);
      try {
        const m = distinct(1, 4, 0.5), v = distinct(1, 3, 9);
        state.write('m', m);
        state.write('v', v);
        let oldM = Array.from(await state.read('m')), oldV = Array.from(await state.read('v'));
        for (const [n, sizes] of [[1, [2]], [0, [2]], [5, [3, 3, 1]], [2, [3, 3, 3]], [4, [3, 3, 3, 3, 1]]] as [number, number[]][]) {
          const before = state.arms;
          state.grow(n);
          expect(state.sizes(), `after grow(${n})`).to.deep.equal(sizes);
          const newM = Array.from(await state.read('m')), newV = Array.from(await state.read('v'));
          expect(newM.slice(0, before * 4), `old arms' M after grow(${n})`).to.deep.equal(oldM);
          expect(newV.slice(0, before * 3), `old arms' v after grow(${n})`).to.deep.equal(oldV);
          expect(newM.slice(before * 4), `new arms' M`).to.deep.equal(Array.from(identities(n, 2, 3, false)));
          expect(newV.slice(before * 3), `new arms' v`).to.deep.equal(new Array(n * 3).fill(0));
          // Mark the new arms too, so the next growth has them to keep.
          state.write('v', Float32Array.from(newV, (x, i) => (i >= before * 3 ? 1000 + i : x)));
          oldM = newM;
          oldV = Array.from(await state.read('v'));
        }
        expect(() => state.grow(-1)).to.throw(BanditError, /integer ≥ 0/);
      } finally {
        state.dispose();
      }
    });

    it(`${kind}: reads several tensors back in one readback, split as they went in`, async () => {
      const { backend, reads } = countingReads(backendOf(kind));
      const ts = [backend.tensor([1, 2], [2]), backend.tensor([3], [1]), backend.tensor([4, 5, 6], [3])];
      try {
        const values = await readTogether(backend, ts);
        expect(values.map((v) => Array.from(v))).to.deep.equal([[1, 2], [3], [4, 5, 6]]);
        expect(reads()).to.equal(1);
        const i32 = backend.zeros([2], { dtype: 'i32' });
        let error: unknown = null;
        await readTogether(backend, [ts[0]!, i32]).catch((e) => (error = e));
        expect(error).to.be.instanceOf(BanditError);
        i32.dispose();
      } finally {
        for (const t of ts) t.dispose();
      }
    });
  }
});

describeBackends('models: inverse health', function () {
  this.timeout(60_000);
  const d = 3, arms = 6;

  /** SPD A for every arm, and A⁻¹ exact but for arms 1 and 4 (perturbed: they drift). */
  function inverses(): { a: Float32Array; aInv: Float32Array; exact: Float64Array } {
    const a = spd(arms, d, 5, 1);
    const exact = new Float64Array(arms * d * d), aInv = new Float32Array(arms * d * d);
    for (let k = 0; k < arms; k++) {
      const inv = inverseSpd(a.subarray(k * d * d, (k + 1) * d * d), d);
      exact.set(inv, k * d * d);
      aInv.set(inv, k * d * d);
      if (k === 1 || k === 4) aInv[k * d * d] = aInv[k * d * d]! + 0.05;
    }
    return { a, aInv, exact };
  }

  /** ‖A·A⁻¹ − I‖∞ of arm k in float64 over the values held. */
  function drift(a: ArrayLike<number>, aInv: ArrayLike<number>, k: number): number {
    let worst = 0;
    for (let i = 0; i < d; i++) {
      let row = 0;
      for (let j = 0; j < d; j++) {
        let s = 0;
        for (let l = 0; l < d; l++) s += a[k * d * d + i * d + l]! * aInv[k * d * d + l * d + j]!;
        row += Math.abs(s - (i === j ? 1 : 0));
      }
      worst = Math.max(worst, row);
    }
    return worst;
  }

  for (const kind of KINDS) {
    it(`${kind}: checks only the touched arms of all shards in one readback, and re-factorises those past the bound in another`, async () => {
      const { backend, reads } = countingReads(backendOf(kind));
      const state = ArmShards.create(backend, 'Test', { arms, perShard: 2 }, {
        a: { shape: [d, d], identity: 1, label: 'A' }, aLo: { shape: [d, d], label: 'A (lo)' }, aInv: { shape: [d, d], identity: 1, label: 'A⁻¹' },
      });
      const derived: [number, number[] | null][] = [];
      const health = new InverseHealth(backend, state, { refactorEvery: 0, driftCheckEvery: 0, driftBound: 1e-3 }, (s, local) => {
        derived.push([s.offset, local && Array.from(local)]);
      });
      try {
        const { a, aInv, exact } = inverses();
        state.write('a', a);
        state.write('aInv', aInv);
        // Arms 1, 3 (shards 0, 1) and 4, 5 (all of shard 2).
        health.touch(Int32Array.of(3, 1, 5, 4));
        await health.check('touched');
        expect(reads(), 'one readback for the drifts of three shards, one for the statuses').to.equal(2);
        const c = health.counters();
        expectClose([c.lastDrift!], [Math.max(...[1, 3, 4, 5].map((k) => drift(a, aInv, k)))], TOL_DRIFT, 'the largest touched drift');
        expect(c.driftChecks).to.equal(1);
        expect(c.refactorizations).to.equal(1);
        // Arms 1 and 4 drifted: each went back to its own place, with what follows from it.
        expect(derived).to.deep.equal([[0, [1]], [4, [0]]]);
        const after = await state.read('aInv');
        for (const k of [1, 4]) {
          expectClose(after.subarray(k * d * d, (k + 1) * d * d), exact.subarray(k * d * d, (k + 1) * d * d), TOL_F32_INVERSE, `A⁻¹ of arm ${k}`);
        }
        for (const k of [0, 2, 3, 5]) {
          expect(Array.from(after.subarray(k * d * d, (k + 1) * d * d)), `arm ${k} untouched`).to.deep.equal(Array.from(aInv.subarray(k * d * d, (k + 1) * d * d)));
        }
        // Nothing touched since: a check measures nothing and reads nothing back.
        const readsBefore = reads();
        await health.check('touched');
        expect(reads() - readsBefore).to.equal(0);
        expect(health.counters().lastDrift).to.equal(c.lastDrift);
      } finally {
        state.dispose();
      }
    });

    it(`${kind}: an arm whose A is not positive definite keeps its inverse and is counted; the others are rebuilt`, async () => {
      const b = backendOf(kind);
      const state = ArmShards.create(b, 'Test', { arms, perShard: 4 }, {
        a: { shape: [d, d], identity: 1, label: 'A' }, aLo: { shape: [d, d], label: 'A (lo)' }, aInv: { shape: [d, d], identity: 1, label: 'A⁻¹' },
      });
      const health = new InverseHealth(b, state, { refactorEvery: 0, driftCheckEvery: 0, driftBound: 1e-3 }, () => undefined);
      try {
        const { a, aInv, exact } = inverses();
        a.fill(0, 2 * d * d, 3 * d * d);
        a[2 * d * d] = -1;
        state.write('a', a);
        state.write('aInv', aInv);
        await health.refactor(new Set([2, 4]));
        const c = health.counters();
        expect(c.failedRefactorizations).to.equal(1);
        const after = await state.read('aInv');
        expect(Array.from(after.subarray(2 * d * d, 3 * d * d)), 'arm 2 keeps its inverse').to.deep.equal(Array.from(aInv.subarray(2 * d * d, 3 * d * d)));
        expectClose(after.subarray(4 * d * d, 5 * d * d), exact.subarray(4 * d * d, 5 * d * d), TOL_F32_INVERSE, 'A⁻¹ of arm 4');
      } finally {
        state.dispose();
      }
    });
  }
});
