import { expect } from 'chai';
import type { Backend } from '../../src/index.js';
import { decodeModel } from '../../src/models/persist.js';
import { backends, describeBackends } from '../support/fixture.js';
import { rng } from '../support/random.js';
import { rejects } from './drive.js';
import { ONLINE_KINDS, learntArrays, online, pickPlayed, type Online, type OnlineKind } from './online-drive.js';

const both = (): Backend[] => [backends().cpu, backends().gpu];
const K = 4;

/** A seeded permutation of 0 … n−1. */
function shuffled(n: number, seed: number): number[] {
  const r = rng(seed), out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Two models alike (same options and seed) with a little learnt state, both having made the same
 * decisions; `b`, the twin that is updated by hand, with `twin` options (e.g. keeping no pending
 * decisions of its own, so none expire into it).
 */
async function twins(kind: OnlineKind, backend: Backend, extra: object = {}, rows = 6, k = 2, twin: object = extra) {
  const a = await online(kind, backend, K, extra), b = await online(kind, backend, K, twin);
  const warm = a.contexts(5, 90), warmArms = Int32Array.of(0, 1, 2, 3, 1);
  for (const m of [a, b]) await m.update(warmArms, m.played(warm, 1, warmArms), [0.1, 0.5, 0.9, 0.2, 0.4]);
  const c = a.contexts(rows, 91);
  const da = await a.decide(c, { k }), db = await b.decide(c, { k });
  expect(Array.from(da.arms), `${kind}: twins decide alike`).to.deep.equal(Array.from(db.arms));
  return { a, b, c, d: da, played: a.played(c, k, da.arms) };
}

async function expectSameLearning(kind: OnlineKind, a: Online, b: Online, probe: ReturnType<Online['contexts']>, what: string): Promise<void> {
  expect(Array.from(await a.scores(probe)), `${what}: scores`).to.deep.equal(Array.from(await b.scores(probe)));
  const mine = learntArrays(kind, await a.save()), theirs = learntArrays(kind, await b.save());
  expect(Object.keys(mine), `${what}: arrays`).to.deep.equal(Object.keys(theirs));
  for (const name of Object.keys(theirs)) expect(mine[name], `${what}: ${name}`).to.deep.equal(theirs[name]);
}

describeBackends('delayed rewards: reward(eventIds, rewards)', function () {
  this.timeout(600_000);

  for (const kind of ONLINE_KINDS) {
    it(`${kind}: rewards in any order and batches, across save/load, equal update with the same rows done at once (scores and saved arrays, both backends)`, async () => {
      for (const backend of both()) {
        const what = `${kind} on ${backend.kind}`;
        let { a, b, c, d, played } = await twins(kind, backend);
        const n = d.arms.length, r = rng(7), rewards = Float32Array.from({ length: n }, () => Math.fround(r()));
        const order = shuffled(n, 3);
        for (const [from, to] of [[0, 5], [5, 9], [9, n]] as const) {
          const rows = order.slice(from, to);
          await a.reward(rows.map((j) => d.eventIds[j]!), rows.map((j) => rewards[j]!));
          await b.update(Int32Array.from(rows, (j) => d.arms[j]!), pickPlayed(played, rows), rows.map((j) => rewards[j]!));
          // The pending decisions live through a reload.
          const reloaded = await a.load(backend, await a.save());
          a.dispose();
          a = reloaded;
        }
        await expectSameLearning(kind, a, b, c, what);
        expect(a.diagnostics().rewards, what).to.deep.equal({ pending: 0, rewarded: n, expired: 0, overflowed: 0, defaulted: 0, dropped: 0 });
        a.dispose();
        b.dispose();
      }
    });

    it(`${kind}: a bad, unknown, foreign, repeated or already rewarded event id, or a bad reward, is a BanditError and nothing is applied`, async () => {
      for (const backend of both()) {
        const what = `${kind} on ${backend.kind}`;
        const { a, b, d } = await twins(kind, backend, {}, 2, 1);
        const other = await b.decide(b.contexts(1, 5));
        await a.reward([d.eventIds[0]!], [1]);
        const before = await a.save();
        const modelId = d.eventIds[0]!.split('-')[0]!;
        const bad: [string, () => Promise<unknown>, RegExp][] = [
          ['not an array', () => a.reward('x' as never, [1]), /eventIds must be an array/],
          ['malformed', () => a.reward(['nope'], [1]), /eventIds\[0\] = "nope" is not an event id of this model/],
          ['another model\'s', () => a.reward([other.eventIds[0]!], [1]), /is not an event id of this model/],
          ['repeated', () => a.reward([d.eventIds[1]!, d.eventIds[1]!], [1, 1]), /eventIds\[1\] = .* repeats eventIds\[0\]/],
          ['already rewarded', () => a.reward([d.eventIds[1]!, d.eventIds[0]!], [1, 1]), /eventIds\[1\] = .* was rewarded already/],
          ['never issued', () => a.reward([`${modelId}-99-0`], [1]), /was never issued/],
          ['rewards of another length', () => a.reward([d.eventIds[1]!], [1, 2]), /1 event ids but 2 rewards/],
          ['a NaN reward', () => a.reward([d.eventIds[1]!], [NaN]), /rewards\[0\].*NaN/],
        ];
        for (const [name, p, pattern] of bad) await rejects(p(), pattern, `${what}: ${name}`);
        expect(Array.from(await a.save()), `${what}: state after bad rewards`).to.deep.equal(Array.from(before));
        // Loaded, the model no longer knows each settled id's fate, but still refuses it.
        const again = await a.load(backend, before);
        await rejects(again.reward([d.eventIds[0]!], [1]), /is no longer pending/, what);
        await again.reward([d.eventIds[1]!], [0]);
        for (const m of [a, b, again]) m.dispose();
      }
    });
  }

  it('rewardWaitTime (an injected clock): an expired id is refused and nothing is applied; the next reward or decide learns expired decisions with defaultReward (= update with it), or drops them (defaultReward null); counts in diagnostics', async () => {
    for (const backend of both()) {
      const what = `on ${backend.kind}`;
      let now = 0;
      const clock = () => now;
      for (const defaultReward of [0, null]) {
        const how = `${what}, defaultReward ${defaultReward}`;
        const { a, b, c, d, played } = await twins('LinUCB', backend, { rewardWaitTime: 1000, ...(defaultReward === null ? {} : { defaultReward }), clock }, 2, 1, { pendingCapacity: 0 });
        now = 600;
        const c2 = a.contexts(1, 92), d2 = await a.decide(c2), p2 = a.played(c2, 1, d2.arms);
        await b.decide(c2);
        now = 1100;
        const before = await a.save();
        await rejects(a.reward([d2.eventIds[0]!, d.eventIds[0]!], [1, 1]), /eventIds\[1\] = .* has expired \(decided 1100 ms ago, rewardWaitTime 1000 ms\); nothing was applied/, how);
        expect(Array.from(await a.save()), `${how}: nothing applied`).to.deep.equal(Array.from(before));
        await a.reward([d2.eventIds[0]!], [1]);
        // One batch: the rewarded row, then the expired ones with the default reward (or none).
        const arms = defaultReward === null ? Int32Array.of(d2.arms[0]!) : Int32Array.of(d2.arms[0]!, d.arms[0]!, d.arms[1]!);
        const rows = defaultReward === null ? p2 : concat(p2 as Float32Array, played as Float32Array);
        await b.update(arms, rows, defaultReward === null ? [1] : [1, 0, 0]);
        await expectSameLearning('LinUCB', a, b, c, how);
        const settled = defaultReward === null ? { defaulted: 0, dropped: 2 } : { defaulted: 2, dropped: 0 };
        expect(a.diagnostics().rewards, how).to.deep.equal({ pending: 0, rewarded: 1, expired: 2, overflowed: 0, ...settled });
        await rejects(a.reward([d.eventIds[1]!], [1]), defaultReward === null ? /expired .* and was dropped/ : /expired .* and was given the default reward/, how);
        // A decide settles what has expired by then.
        const d3 = await a.decide(a.contexts(2, 93));
        await b.decide(a.contexts(2, 93));
        now = 2200;
        await a.decide(a.contexts(1, 94));
        await b.decide(a.contexts(1, 94));
        if (defaultReward !== null) await b.update(d3.arms, a.played(a.contexts(2, 93), 1, d3.arms), [0, 0]);
        await expectSameLearning('LinUCB', a, b, c, `${how}: settled by decide`);
        expect(a.diagnostics().rewards.expired, how).to.equal(4);
        // A reload with a clock of its own: the time goes on from the save.
        const bytes = await a.save();
        const again = await a.load(backend, bytes, { clock: () => 5000 });
        expect(again.diagnostics().rewards.pending, how).to.equal(1);
        const last = decodeModel(bytes, 'LinUCB', [2]);
        const id = `${d.eventIds[0]!.split('-')[0]}-${last.arrays['pending.step']![0]}-0`;
        await rejects(again.reward([id], [1]), /has expired/, how);
        for (const m of [a, b, again]) m.dispose();
        now = 0;
      }
    }
  });

  it('pendingCapacity: the oldest decisions past it are settled as if expired (defaultReward, or dropped) and counted as overflowed; capacity 0 keeps none and saves as before', async () => {
    for (const backend of both()) {
      for (const defaultReward of [0.5, null]) {
        const how = `on ${backend.kind}, defaultReward ${defaultReward}`;
        const extra = { pendingCapacity: 3, ...(defaultReward === null ? {} : { defaultReward }) };
        const { a, b, c, d, played } = await twins('LinUCB', backend, extra, 2, 1, { pendingCapacity: 0 });
        const c2 = a.contexts(2, 95), d2 = await a.decide(c2);
        await b.decide(c2);
        if (defaultReward !== null) await b.update(Int32Array.of(d.arms[0]!), pickPlayed(played, [0]), [defaultReward]);
        await expectSameLearning('LinUCB', a, b, c, how);
        expect(a.diagnostics().rewards, how).to.deep.equal({
          pending: 3, rewarded: 0, expired: 0, overflowed: 1, defaulted: defaultReward === null ? 0 : 1, dropped: defaultReward === null ? 1 : 0,
        });
        await rejects(a.reward([d.eventIds[0]!], [1]), /was pushed out by pendingCapacity \(3\)/, how);
        await a.reward([d.eventIds[1]!, ...d2.eventIds], [1, 0, 1]);
        expect(a.diagnostics().rewards.pending, how).to.equal(0);
        a.dispose();
        b.dispose();
      }
      const none = await online('LinUCB', backend, K, { pendingCapacity: 0 });
      const d = await none.decide(none.contexts(3, 96));
      await rejects(none.reward([d.eventIds[0]!], [1]), /keeps no decisions \(pendingCapacity 0\)/);
      expect(none.diagnostics().rewards.pending).to.equal(0);
      none.dispose();
    }
  });

  it('options: bad pendingCapacity, rewardWaitTime, defaultReward or clock is a BanditError at create', async () => {
    const { cpu } = backends();
    const bad: [object, RegExp][] = [
      [{ pendingCapacity: -1 }, /pendingCapacity must be an integer ≥ 0/],
      [{ pendingCapacity: 1.5 }, /pendingCapacity must be an integer ≥ 0/],
      [{ rewardWaitTime: 0 }, /rewardWaitTime must be a number of milliseconds > 0/],
      [{ rewardWaitTime: NaN }, /rewardWaitTime must be/],
      [{ defaultReward: Infinity }, /defaultReward must be a finite number or null/],
      [{ clock: 5 }, /clock must be a function/],
    ];
    for (const kind of ONLINE_KINDS) for (const [extra, pattern] of bad) await rejects(online(kind, cpu, K, extra), pattern, `${kind} ${JSON.stringify(extra)}`);
  });
});

function concat(...parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
