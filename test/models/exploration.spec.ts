import { expect } from 'chai';
import { BanditError, type Backend } from '../../src/index.js';
import { rowArgmax } from '../../src/ops/index.js';
import {
  DEFAULT_PROPENSITY_DRAWS, DecisionStream, createModelId, decideRows, eventIds, explorationPolicy, loadExploration,
  parseEventId, resolveExploration, resolvePropensityDraws, resolveSeed, saveExploration, type Exploration,
} from '../../src/models/exploration.js';
import { backends, describeBackends } from '../support/fixture.js';
import { rng } from '../support/random.js';
import { slotDistribution } from '../support/explore.js';

describeBackends('models/exploration: options, saved form, stream and event ids', () => {
  it('resolves the three kinds, and absent as deterministic', () => {
    expect(resolveExploration('LinUCB', undefined)).to.equal(null);
    expect(resolveExploration('LinUCB', null)).to.equal(null);
    const kinds: Exploration[] = [
      { kind: 'epsilon-greedy', epsilon: 0 }, { kind: 'epsilon-greedy', epsilon: 1 }, { kind: 'epsilon-greedy', epsilon: 0.05 },
      { kind: 'softmax', temperature: 1e-30 }, { kind: 'softmax', temperature: 1e30 }, { kind: 'squarecb', gamma: 50 },
    ];
    for (const e of kinds) expect(resolveExploration('LinUCB', { ...e, note: 'ignored' })).to.deep.equal(e);
    expect(explorationPolicy(null)).to.deep.equal({ kind: 'greedy' });
    expect(explorationPolicy(kinds[2]!)).to.deep.equal(kinds[2]);
  });

  it('refuses bad options with a BanditError naming the field and its range', () => {
    const bad: [unknown, RegExp][] = [
      [{ kind: 'epsilon-greedy', epsilon: 1.5 }, /^LinUCB: option exploration.epsilon must be a number in \[0, 1\], got 1.5$/],
      [{ kind: 'epsilon-greedy', epsilon: -0.1 }, /exploration.epsilon must be a number in \[0, 1\]/],
      [{ kind: 'epsilon-greedy' }, /exploration.epsilon .* got undefined/],
      [{ kind: 'epsilon-greedy', epsilon: '0.1' }, /exploration.epsilon/],
      [{ kind: 'softmax', temperature: 0 }, /exploration.temperature must be a number in \[1e-30, 1e\+30\] \(> 0\), got 0/],
      [{ kind: 'softmax', temperature: -1 }, /exploration.temperature/],
      [{ kind: 'softmax', temperature: Infinity }, /exploration.temperature/],
      [{ kind: 'squarecb', gamma: 0 }, /exploration.gamma must be a number in \[1e-30, 1e\+30\] \(> 0\), got 0/],
      [{ kind: 'squarecb', gamma: NaN }, /exploration.gamma/],
      [{ kind: 'ucb' }, /exploration.kind must be 'epsilon-greedy', 'softmax' or 'squarecb', got "ucb"/],
      [{ epsilon: 0.1 }, /exploration.kind/],
      ['epsilon-greedy', /option exploration must be \{ kind:/],
      [[1], /option exploration must be/],
    ];
    for (const [value, message] of bad) expect(() => resolveExploration('LinUCB', value), String(JSON.stringify(value))).to.throw(BanditError, message);
  });

  it('the saved form round-trips through JSON and is checked on load', () => {
    for (const e of [null, { kind: 'softmax', temperature: 0.25 }, { kind: 'squarecb', gamma: 10 }] as (Exploration | null)[]) {
      const saved = saveExploration(e);
      if (e) expect(saved).to.not.equal(e);
      expect(loadExploration('LinUCB', JSON.parse(JSON.stringify(saved)))).to.deep.equal(e);
    }
    expect(() => loadExploration('LinUCB', { kind: 'softmax', temperature: -2 })).to.throw(BanditError, /^LinUCB.load: option exploration.temperature/);
  });

  it('seed and propensityDraws options', () => {
    expect(resolveSeed('LinTS', 0)).to.equal(0);
    expect(resolveSeed('LinTS', 0xffffffff)).to.equal(0xffffffff);
    const drawn = resolveSeed('LinTS', undefined);
    expect(Number.isInteger(drawn) && drawn >= 0 && drawn <= 0xffffffff).to.equal(true);
    for (const bad of [-1, 1.5, 2 ** 32, '1', NaN]) expect(() => resolveSeed('LinTS', bad)).to.throw(BanditError, /option seed must be an integer in 0 … 2\^32−1/);
    expect(resolvePropensityDraws('LinTS', undefined)).to.equal(DEFAULT_PROPENSITY_DRAWS);
    expect(resolvePropensityDraws('LinTS', 1)).to.equal(1);
    for (const bad of [0, 2 ** 24 + 1, 3.5]) expect(() => resolvePropensityDraws('LinTS', bad)).to.throw(BanditError, /propensityDraws must be an integer in 1 … 16777216/);
  });

  it('the decision stream advances by step, saves as { seed, step } and continues after load', () => {
    const s = new DecisionStream(7);
    expect(s.key()).to.deep.equal({ seed: 7, step: 0 });
    s.advance();
    s.advance();
    const again = DecisionStream.fromJSON('LinTS', JSON.parse(JSON.stringify(s)));
    expect(again.key()).to.deep.equal({ seed: 7, step: 2 });
    expect(() => DecisionStream.fromJSON('LinTS', { seed: 7, step: -1 })).to.throw(BanditError, /LinTS.load: the saved decision stream: key.step/);
    expect(() => new DecisionStream(0, 0xffffffff).advance()).to.throw(BanditError, /2\^32 decision steps/);
  });

  it('event ids are unique over steps and rows, stable across save/load, and parse back', () => {
    const id = createModelId();
    expect(id).to.match(/^[0-9a-f]{16}$/);
    expect(createModelId()).to.not.equal(id);
    const seen = new Set<string>();
    for (let step = 0; step < 50; step++) for (const e of eventIds(id, step, 30)) seen.add(e);
    expect(seen.size).to.equal(50 * 30);
    // A loaded model has the same id and step, so the same ids; 1-23 and 12-3 stay apart.
    expect(eventIds(id, 12, 3)).to.deep.equal([`${id}-12-0`, `${id}-12-1`, `${id}-12-2`]);
    expect(eventIds(id, 1, 24)[23]).to.not.equal(eventIds(id, 12, 4)[3]);
    expect(parseEventId(id, `${id}-12-3`)).to.deep.equal({ step: 12, row: 3 });
    for (const bad of [`other-12-3`, `${id}-12`, `${id}-012-3`, `${id}-1-x`, `${id}-99999999999-0`, 42]) expect(parseEventId(id, bad), String(bad)).to.equal(null);
    expect(() => eventIds('a-b', 0, 1)).to.throw(BanditError, /model id/);
  });
});

async function scoresTensor(backend: Backend, data: Float32Array, rows: number, cols: number) {
  return backend.tensor(data, [rows, cols]);
}

describeBackends('models/exploration: decideRows', function () {
  this.timeout(120_000);

  it('deterministic: the argmax (ties to the lowest arm) with propensity 1, as rowArgmax', async () => {
    const rows = 9, cols = 13;
    const r = rng(3);
    const data = Float32Array.from({ length: rows * cols }, () => Math.floor(r() * 5));
    for (const backend of [backends().cpu, backends().gpu]) {
      const s = await scoresTensor(backend, data, rows, cols);
      const d = await decideRows(backend, s, { exploration: null, key: { seed: 1, step: 0 } });
      const argmax = rowArgmax(backend, s);
      expect(Array.from(d.arms)).to.deep.equal(Array.from(await backend.read(argmax)));
      expect(d.propensities).to.be.instanceOf(Float32Array);
      expect(Array.from(d.propensities)).to.deep.equal(new Array(rows).fill(1));
      expect(d.propensityDraws).to.equal(undefined);
      s.dispose();
      argmax.dispose();
    }
  });

  it('ε-greedy slates under a host mask (K and B×K): eligible distinct arms, the definition’s propensities, the same on cpu and webgpu', async () => {
    const rows = 50, cols = 7, k = 3;
    const r = rng(4);
    const data = Float32Array.from({ length: rows * cols }, () => r());
    const exploration: Exploration = { kind: 'epsilon-greedy', epsilon: 0.4 };
    for (const mask of [Uint8Array.from([1, 0, 1, 1, 0, 1, 1]), Uint8Array.from({ length: rows * cols }, () => (r() < 0.8 ? 1 : 0))]) {
      const perRow = mask.length > cols;
      for (let row = 0; row < rows && perRow; row++) mask.fill(1, row * cols, row * cols + k);
      const results = [];
      for (const backend of [backends().cpu, backends().gpu]) {
        const s = await scoresTensor(backend, data, rows, cols);
        const d = await decideRows(backend, s, { exploration, key: { seed: 8, step: 2 }, k, eligible: mask });
        expect(d.arms.length).to.equal(rows * k);
        for (let row = 0; row < rows; row++) {
          const chosen = new Set<number>();
          const eligible = (a: number): boolean => mask[perRow ? row * cols + a : a] === 1;
          for (let j = 0; j < k; j++) {
            const a = d.arms[row * k + j]!;
            expect(eligible(a), `${backend.kind} row ${row} slot ${j}`).to.equal(true);
            const p = slotDistribution(data.subarray(row * cols, (row + 1) * cols), (b) => eligible(b) && !chosen.has(b), explorationPolicy(exploration));
            expect(d.propensities[row * k + j]).to.be.closeTo(p[a]!, 1e-6);
            chosen.add(a);
          }
        }
        results.push(d.arms);
        s.dispose();
      }
      expect(Array.from(results[1]!)).to.deep.equal(Array.from(results[0]!));
    }
  });

  it('Thompson: a draw a slot, propensities estimated from M draws (positive) and reported with M', async () => {
    const rows = 6, cols = 5, k = 2, draws = 256;
    const r = rng(6);
    const mean = Float32Array.from({ length: rows * cols }, () => r());
    const width2 = Float32Array.from({ length: rows * cols }, () => 0.5 * r());
    for (const backend of [backends().cpu, backends().gpu]) {
      const s = await scoresTensor(backend, mean, rows, cols), w = backend.tensor(width2, [rows, cols]);
      const d = await decideRows(backend, s, { exploration: null, key: { seed: 2, step: 3 }, k, thompson: { width2: w, scale: 0.3, draws } });
      expect(d.propensityDraws).to.equal(draws);
      for (let row = 0; row < rows; row++) {
        expect(d.arms[row * k]).to.not.equal(d.arms[row * k + 1]);
        for (let j = 0; j < k; j++) {
          const p = d.propensities[row * k + j]!;
          expect(p, `${backend.kind} row ${row} slot ${j}`).to.be.greaterThan(0).and.at.most(1);
        }
      }
      // The chosen arms are the argmax of sampleScores' draws: the same key gives the same decisions.
      const again = await decideRows(backend, s, { exploration: null, key: { seed: 2, step: 3 }, k, thompson: { width2: w, scale: 0.3, draws } });
      expect(Array.from(again.arms)).to.deep.equal(Array.from(d.arms));
      s.dispose();
      w.dispose();
    }
  });

  it('continues the same stream after a save/load of { seed, step }', async () => {
    const rows = 20, cols = 6;
    const data = Float32Array.from({ length: rows * cols }, (_, i) => (i % cols) / cols);
    const exploration: Exploration = { kind: 'softmax', temperature: 0.2 };
    for (const backend of [backends().cpu, backends().gpu]) {
      const s = await scoresTensor(backend, data, rows, cols);
      const stream = new DecisionStream(99);
      const decide = async (st: DecisionStream) => {
        const d = await decideRows(backend, s, { exploration, key: st.key() });
        st.advance();
        return Array.from(d.arms);
      };
      await decide(stream);
      const loaded = DecisionStream.fromJSON('test', JSON.parse(JSON.stringify(stream)));
      const next = await decide(stream), nextLoaded = await decide(loaded);
      expect(nextLoaded).to.deep.equal(next);
      expect(await decide(stream)).to.not.deep.equal(next);
      s.dispose();
    }
  });

  it('refuses a row with too few eligible or finite arms, a bad mask or k, with a BanditError; the scores are untouched', async () => {
    const rows = 3, cols = 4;
    const data = Float32Array.from([0.1, 0.2, 0.3, 0.4, NaN, NaN, 1, 2, 5, 6, 7, 8]);
    const exploration: Exploration = { kind: 'squarecb', gamma: 3 };
    for (const backend of [backends().cpu, backends().gpu]) {
      const s = await scoresTensor(backend, data, rows, cols);
      const key = { seed: 0, step: 0 }, caller = 'LinUCB.decide';
      const mask = Uint8Array.from([1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1]);
      await decideRows(backend, s, { exploration, key, caller, eligible: mask }).then(
        () => expect.fail('row 1 has no eligible arm with a finite score'),
        (e: unknown) => {
          expect(e).to.be.instanceOf(BanditError);
          expect((e as Error).message).to.match(/^LinUCB.decide: row 1 has 0 eligible arm\(s\) with a finite score, fewer than k = 1/);
        },
      );
      await decideRows(backend, s, { exploration, key, caller, k: 3 }).then(
        () => expect.fail('row 1 has 2 finite arms'),
        (e: unknown) => expect((e as Error).message).to.match(/row 1 has 2 eligible arm\(s\) with a finite score, fewer than k = 3/),
      );
      await decideRows(backend, s, { exploration, key, caller, eligible: Uint8Array.from([1, 0, 0, 0]), k: 2 }).then(
        () => expect.fail('one eligible arm'),
        (e: unknown) => expect((e as Error).message).to.match(/row 0 has 1 eligible arm\(s\), fewer than k = 2; nothing was applied/),
      );
      for (const [options, message] of [
        [{ eligible: new Uint8Array(5) }, /eligible has 5 values; expected 4 \(every row\) or 3×4 \(a row each\)/],
        [{ eligible: Uint8Array.from([1, 2, 1, 1]) }, /eligible\[1\] = 2; entries must be 0 or 1/],
        [{ k: 5 }, /k must be an integer in 1 … 4/],
        [{ k: 1.5 }, /k must be an integer/],
      ] as const) {
        await decideRows(backend, s, { exploration, key, caller, ...options }).then(
          () => expect.fail(String(message)),
          (e: unknown) => {
            expect(e).to.be.instanceOf(BanditError);
            expect((e as Error).message).to.match(message);
          },
        );
      }
      const after = Array.from(await backend.read(s));
      expect(after.map((v) => (Number.isNaN(v) ? 'NaN' : v))).to.deep.equal(Array.from(Float32Array.from(data), (v) => (Number.isNaN(v) ? 'NaN' : v)));
      s.dispose();
    }
  });
});
