// The fuzz suite: bad calls over every public method, bad options, calls after dispose, ≥ 300
// mutated saves a model (byte flips, truncations, header edits, forged values with the checksum
// recomputed) and non-awaited calls with reused input buffers, on both backends: each case must
// end in a BanditError that names the model call with the state (save bytes) unchanged, or, for
// a save edit that is still plausible, in a usable model. A budget of the cases (about 30 s a
// runtime); bench/fuzz.ts runs them all.
import { expect } from 'chai';
import { backends } from '../support/fixture.js';
import { CLASSES, GOOD, count, emptyTally, freshLike, fuzzSubject, type Budget, type CaseResult } from './engine.js';
import { SUBJECTS } from './subjects.js';

/** Per subject and backend: every bad call and option, 300 save mutations (bench/fuzz.ts: more, other seeds). */
const BUDGET: Record<'cpu' | 'gpu', Budget> = {
  cpu: { calls: Infinity, options: Infinity, saves: 300, concurrency: true, disposed: true, huge: true },
  gpu: { calls: Infinity, options: Infinity, saves: 300, concurrency: true, disposed: true, huge: true },
};

const broken = (results: readonly CaseResult[]): string[] =>
  results.filter((r) => !GOOD.has(r.outcome)).map((r) => `${r.outcome}: ${r.subject} ${r.cls} ${r.what}: ${r.detail}`);

describe('fuzz: nothing a caller sends can poison a model', () => {
  for (const which of ['cpu', 'gpu'] as const) {
    for (const name of SUBJECTS) {
      it(`${name} (${which === 'gpu' ? 'webgpu' : 'cpu'}): every case refused with the state unchanged, or a valid accept`, async function () {
        this.timeout(180_000);
        const backend = backends()[which];
        const results = await fuzzSubject(name, backend, BUDGET[which], 11, freshLike(backend));
        const tally = count(emptyTally(), results);
        // Every class ran (the suite cannot pass by running nothing).
        for (const c of CLASSES) expect(Object.values(tally[c]).reduce((a, b) => a + b, 0), `${c} cases`).to.be.greaterThan(0);
        expect(results.filter((r) => r.cls === 'saves').length).to.be.at.least(300);
        expect(broken(results).slice(0, 20), `${broken(results).length} cases broke the contract`).to.deep.equal([]);
      });
    }
  }
});
