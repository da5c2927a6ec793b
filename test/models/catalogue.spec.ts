import { expect } from 'chai';
import { EmbeddingMLP, LinUCB, type Backend, type Exploration } from '../../src/index.js';
import { decodeModel } from '../../src/models/persist.js';
import { backends, describeBackends } from '../support/fixture.js';
import { rng, uniform } from '../support/random.js';
import { rejects } from './drive.js';
import {
  ARM_KINDS, D, PER_ARM, armContexts, armModel, call, loadArmModel, playedOf, savedArrays, teach, type ArmKind, type ArmModel,
} from './arm-drive.js';

const both = (): Backend[] => [backends().cpu, backends().gpu];

/** Columns `cols` of B×K scores, row-major, as a plain array. */
function columns(s: Float32Array, K: number, cols: readonly number[]): number[] {
  const out: number[] = [];
  for (let r = 0; r < s.length / K; r++) for (const c of cols) out.push(s[r * K + c]!);
  return out;
}

/** Arms [from, to) of a per-arm array of `width` values an arm. */
const armsOf = (a: Float64Array, width: number, from: number, to: number): number[] => Array.from(a.subarray(from * width, to * width));

describeBackends('a catalogue that changes: addArms, retireArms, item ids', function () {
  this.timeout(600_000);

  for (const kind of ARM_KINDS) {
    it(`${kind}: grows from 1 arm past shard boundaries (armsPerShard 3); old arms' saved arrays and scores bit for bit, new arms at the prior, the save keeps the size`, async () => {
      for (const backend of both()) {
        const what = `${kind} on ${backend.kind}`;
        const m = await armModel(kind, backend, { arms: 1, armsPerShard: 3 });
        await teach(kind, m, 1, 11);
        const fresh = await armModel(kind, backend, { arms: 1 });
        const prior = savedArrays(kind, await fresh.save()).arrays;
        const freshScores = await call.scores(fresh, armContexts(kind, 1, 4, 5));
        fresh.dispose();
        let K = 1;
        for (const [add, shards] of [[1, [2]], [4, [3, 3]], [3, [3, 3, 3]]] as const) {
          const before = savedArrays(kind, await m.save()).arrays;
          const scoresBefore = await call.scores(m, armContexts(kind, K, 4, 5));
          const slots = await m.addArms(add);
          expect(Array.from(slots), `${what}: new slots`).to.deep.equal(Array.from({ length: add }, (_, j) => K + j));
          const grown = K + add;
          expect(m.options.arms, what).to.equal(grown);
          expect(m.diagnostics().shards, `${what}: shards after +${add}`).to.deep.equal(shards);
          const after = savedArrays(kind, await m.save());
          expect(after.version, `${what}: a grown model without retired arms or pending decisions saves format 1`).to.equal(1);
          for (const [name, width] of PER_ARM[kind]) {
            expect(armsOf(after.arrays[name]!, width, 0, K), `${what}: old arms' ${name} after +${add}`).to.deep.equal(armsOf(before[name]!, width, 0, K));
            for (let a = K; a < grown; a++) expect(armsOf(after.arrays[name]!, width, a, a + 1), `${what}: new arm ${a}'s ${name}`).to.deep.equal(armsOf(prior[name]!, width, 0, 1));
          }
          const s = await call.scores(m, armContexts(kind, grown, 4, 5));
          const old = Array.from({ length: K }, (_, a) => a);
          expect(columns(s, grown, old), `${what}: old arms' scores after +${add}`).to.deep.equal(columns(scoresBefore, K, old));
          // LinUCB and LinTS score every arm on the same context: a new arm scores as a fresh model's arm.
          if (kind !== 'HybridLinUCB') for (let a = K; a < grown; a++) expect(columns(s, grown, [a]), `${what}: new arm ${a}'s scores`).to.deep.equal(columns(freshScores, 1, [0]));
          const again = await loadArmModel(kind, backend, await m.save());
          expect(again.options.arms, `${what}: loaded size`).to.equal(grown);
          expect(Array.from(await call.scores(again, armContexts(kind, grown, 4, 5))), `${what}: loaded scores`).to.deep.equal(Array.from(s));
          again.dispose();
          K = grown;
        }
        // The grown model learns on old and new arms alike.
        await teach(kind, m, K, 12, K - 1);
        expect(m.diagnostics().plays[K - 1], what).to.be.greaterThan(0);
        m.dispose();
      }
    });

    it(`${kind}: a retired arm is never chosen over 10⁴ decisions (select, decide, slates, every exploration), propensities over the live arms; the last live arm only; none is a BanditError`, async () => {
      const policies: (Exploration | null)[] = kind === 'LinTS' ? [null]
        : [null, { kind: 'epsilon-greedy', epsilon: 0.4 }, { kind: 'softmax', temperature: 0.05 }, { kind: 'squarecb', gamma: 5 }];
      const K = 5, retired = [2, 4];
      for (const backend of both()) {
        for (const exploration of policies) {
          const what = `${kind} ${exploration?.kind ?? 'without exploration'} on ${backend.kind}`;
          const m = await armModel(kind, backend, { arms: K, ...(exploration ? { exploration } : {}) });
          // Arm 2 is the best by far: without retirement the greedy choice.
          await teach(kind, m, K, 21, 2);
          await m.retireArms(Int32Array.from(retired));
          expect(Array.from(m.retiredArms), what).to.deep.equal(retired);
          const counts = new Int32Array(K);
          let total = 0;
          for (let t = 0; t < 5; t++) {
            const c = armContexts(kind, K, 1000, 100 + t);
            const d = await call.decide(m, c, t % 2 === 0 ? {} : { k: 2 });
            const chosen = await call.select(m, c, t === 4 ? { eligible: Uint8Array.of(1, 1, 1, 0, 1) } : undefined);
            for (const a of [...d.arms, ...chosen]) counts[a]!++;
            total += d.arms.length + chosen.length;
            if (exploration?.kind === 'epsilon-greedy' && t % 2 === 0) {
              // ε-greedy's non-greedy arms have probability ε/L, L the live arms.
              const share = 0.4 / (K - retired.length);
              const low = Array.from(d.propensities).filter((p) => p < 0.5);
              expect(low.length, what).to.be.greaterThan(0);
              for (const p of low) expect(Math.abs(p - share), `${what}: propensity ${p} of a non-greedy arm, ε/L = ${share}`).to.be.at.most(1e-6);
            }
          }
          expect(total, `${what}: decisions made`).to.be.at.least(10_000);
          expect(counts[2]! + counts[4]!, `${what}: decisions of retired arms (of ${total})`).to.equal(0);
          await m.retireArms(Int32Array.of(0, 1));
          const last = await call.decide(m, armContexts(kind, K, 50, 9));
          expect(new Set(last.arms), `${what}: all but one retired`).to.deep.equal(new Set([3]));
          expect(Array.from(new Set(last.propensities)), what).to.deep.equal([1]);
          const bytes = await m.save();
          await m.retireArms(Int32Array.of(3));
          const before = await m.save();
          await rejects(call.decide(m, armContexts(kind, K, 2, 9)), /none to choose from/, `${what}: none live`);
          await rejects(call.select(m, armContexts(kind, K, 2, 9)), /none to choose from/, `${what}: none live`);
          expect(Array.from(await m.save()), `${what}: a refused decide changes nothing`).to.deep.equal(Array.from(before));
          const loaded = await loadArmModel(kind, backend, bytes);
          expect(Array.from(loaded.retiredArms), `${what}: retired arms survive save/load`).to.deep.equal([0, 1, 2, 4]);
          expect(savedArrays(kind, bytes).version, what).to.equal(2);
          loaded.dispose();
          m.dispose();
        }
      }
    });

    it(`${kind}: addArms(n, { reuseRetired: true }) takes the retired slots first, reset to the prior with their plays and pending decisions; without it they stay retired`, async () => {
      for (const backend of both()) {
        const what = `${kind} on ${backend.kind}`;
        const m = await armModel(kind, backend, { arms: 4 });
        await teach(kind, m, 4, 31);
        // Six decisions waiting for their reward, all of arms 1 and 2.
        const d = await call.decide(m, armContexts(kind, 4, 6, 3), { eligible: Uint8Array.of(0, 1, 1, 0) });
        await m.retireArms(Int32Array.of(2, 1));
        // A retired arm still learns from the rewards of decisions made before.
        const playsBefore = m.diagnostics().plays[d.arms[0]!]!;
        await m.reward([d.eventIds[0]!], [1]);
        expect(m.diagnostics().plays[d.arms[0]!], `${what}: a retired arm's reward`).to.equal(playsBefore + 1);
        expect(Array.from(await m.addArms(1)), `${what}: without reuse`).to.deep.equal([4]);
        expect(Array.from(m.retiredArms), what).to.deep.equal([1, 2]);
        const before = savedArrays(kind, await m.save()).arrays;
        expect(Array.from(await m.addArms(3, { reuseRetired: true })), `${what}: reuse, then grow`).to.deep.equal([1, 2, 5]);
        expect(Array.from(m.retiredArms), what).to.deep.equal([]);
        const after = savedArrays(kind, await m.save()).arrays;
        const fresh = savedArrays(kind, await (await armModel(kind, backend, { arms: 6 })).save()).arrays;
        for (const [name, width] of PER_ARM[kind]) {
          for (const a of [1, 2, 5]) expect(armsOf(after[name]!, width, a, a + 1), `${what}: arm ${a}'s ${name} at the prior`).to.deep.equal(armsOf(fresh[name]!, width, a, a + 1));
          for (const a of [0, 3, 4]) expect(armsOf(after[name]!, width, a, a + 1), `${what}: arm ${a}'s ${name} untouched`).to.deep.equal(armsOf(before[name]!, width, a, a + 1));
        }
        expect(m.diagnostics().plays[1], `${what}: a reused slot's plays`).to.equal(0);
        const counts = m.diagnostics().rewards;
        expect([counts.rewarded, counts.dropped, counts.pending], `${what}: the reused slots' pending decisions are dropped`).to.deep.equal([1, 5, 0]);
        await rejects(m.reward([d.eventIds[1]!], [1]), /was dropped \(its arm was retired and the slot reused\)/, what);
        m.dispose();
      }
    });

    it(`${kind}: item ids — create with itemIds, decide returns them, update/retireArms/eligibleOf/armsOf take them, addArms(ids); ids and retired arms survive save/load`, async () => {
      for (const backend of both()) {
        const what = `${kind} on ${backend.kind}`;
        const m = await armModel(kind, backend, { itemIds: ['sku-a', 'sku-b', 'sku-c'] });
        expect(m.options.arms, what).to.equal(3);
        expect(m.itemIds, what).to.deep.equal(['sku-a', 'sku-b', 'sku-c']);
        // An update by ids equals one by indices.
        const twin = await armModel(kind, backend, { arms: 3 });
        const c = armContexts(kind, 3, 4, 41);
        const arms = Int32Array.of(2, 0, 2, 1);
        const played = playedOf(kind, c, 3, 1, arms);
        await call.update(m, ['sku-c', 'sku-a', 'sku-c', 'sku-b'], played, [1, 0, 0.5, 0.2]);
        await call.update(twin, arms, played, [1, 0, 0.5, 0.2]);
        const mine = savedArrays(kind, await m.save()), theirs = savedArrays(kind, await twin.save());
        for (const [name] of PER_ARM[kind]) expect(Array.from(mine.arrays[name]!), `${what}: ${name}, ids vs indices`).to.deep.equal(Array.from(theirs.arrays[name]!));
        expect(mine.version, what).to.equal(2);
        expect(Array.from(await m.addArms(['sku-d', 'sku-e'])), what).to.deep.equal([3, 4]);
        expect(Array.from(m.armsOf(['sku-e', 'sku-a'])), what).to.deep.equal([4, 0]);
        await m.retireArms(['sku-a', 'sku-d']);
        expect(Array.from(m.retiredArms), what).to.deep.equal([0, 3]);
        expect(Array.from(m.eligibleOf(['sku-b', 'sku-e'])), what).to.deep.equal([0, 1, 0, 0, 1]);
        const d = await call.decide(m, armContexts(kind, 5, 20, 42), { eligible: m.eligibleOf(['sku-b', 'sku-e']), k: 2 });
        expect(d.itemIds, what).to.deep.equal(Array.from(d.arms, (a) => m.itemIds![a]));
        expect(new Set(d.itemIds), what).to.deep.equal(new Set(['sku-b', 'sku-e']));
        const again = await loadArmModel(kind, backend, await m.save());
        expect(again.itemIds, `${what}: ids after load`).to.deep.equal(['sku-a', 'sku-b', 'sku-c', 'sku-d', 'sku-e']);
        expect(Array.from(again.retiredArms), `${what}: retired after load`).to.deep.equal([0, 3]);
        // A retired slot reused under a new id gives its old id up; an item may come back under its old id.
        expect(Array.from(await again.addArms(['sku-a', 'sku-f'], { reuseRetired: true })), what).to.deep.equal([0, 3]);
        expect(again.itemIds, what).to.deep.equal(['sku-a', 'sku-b', 'sku-c', 'sku-f', 'sku-e']);
        const before = await again.save();
        const bad: [string, () => Promise<unknown>, RegExp][] = [
          ['unknown id in update', () => call.update(again, ['sku-b', 'nope'], playedOf(kind, c, 3, 1, Int32Array.of(0, 1)), [1, 1]), /arms\[1\] = "nope" is not an item id/],
          ['unknown id in retireArms', () => again.retireArms(['zzz']), /"zzz" is not an item id/],
          ['a count on a model with ids', () => again.addArms(2), /pass the new arms' ids/],
          ['an id in use', () => again.addArms(['sku-b']), /"sku-b" is already arm 1/],
          ['a repeated new id', () => again.addArms(['n1', 'n1']), /ids\[1\] = "n1" repeats ids\[0\]/],
          ['an empty id', () => again.addArms(['']), /item ids are non-empty strings/],
          ['an id twice in retireArms', () => again.retireArms(['sku-b', 'sku-b']), /repeats arms\[0\]/],
        ];
        for (const [name, p, pattern] of bad) await rejects(p(), pattern, `${what}: ${name}`);
        expect(() => again.armsOf(['x']), what).to.throw(/"x" is not an item id/);
        expect(Array.from(await again.save()), `${what}: state after bad calls`).to.deep.equal(Array.from(before));
        for (const x of [m, twin, again]) x.dispose();
        await rejects(armModel(kind, backend, { arms: 2, itemIds: ['a'] }), /arms = 2 but itemIds holds 1 ids/, what);
        await rejects(armModel(kind, backend, { itemIds: ['a', 'a'] }), /itemIds\[1\] = "a" repeats itemIds\[0\]/, what);
      }
    });

    it(`${kind}: bad addArms and retireArms input is a BanditError and leaves save() bytes unchanged`, async () => {
      for (const backend of both()) {
        const what = `${kind} on ${backend.kind}`;
        const m = await armModel(kind, backend, { arms: 4 });
        await teach(kind, m, 4, 51);
        await m.retireArms(Int32Array.of(1));
        await call.decide(m, armContexts(kind, 4, 3, 52));
        const before = await m.save();
        const bad: [string, () => Promise<unknown>, RegExp][] = [
          ['negative n', () => m.addArms(-1), /integer ≥ 0, got -1/],
          ['non-integer n', () => m.addArms(1.5), /integer ≥ 0, got 1.5/],
          ['NaN n', () => m.addArms(NaN), /integer ≥ 0, got NaN/],
          ['ids on a model without', () => m.addArms(['x']), /created without itemIds/],
          ['bad options', () => m.addArms(1, 'yes' as never), /options must be an object/],
          ['bad reuseRetired', () => m.addArms(1, { reuseRetired: 1 as never }), /reuseRetired must be true or false/],
          ['retire out of range', () => m.retireArms(Int32Array.of(4)), /arms\[0\] = 4 is out of range 0..3/],
          ['retire negative', () => m.retireArms(Int32Array.of(-1)), /arms\[0\] = -1 is out of range/],
          ['retire twice', () => m.retireArms(Int32Array.of(1)), /arm 1 is retired already/],
          ['retire twice in a batch', () => m.retireArms(Int32Array.of(2, 2)), /arms\[1\] = 2 repeats arms\[0\]/],
          ['retire ids on a model without', () => m.retireArms(['a']), /created without itemIds/],
          ['retire a plain array', () => m.retireArms([0] as never), /must be an Int32Array/],
          ['wrong mask length', () => call.decide(m, armContexts(kind, 4, 2, 53), { eligible: new Uint8Array(3) }), /eligible has 3 values; expected 4/],
          ['only retired eligible', () => call.select(m, armContexts(kind, 4, 2, 53), { eligible: Uint8Array.of(0, 1, 0, 0) }), /0 eligible arm\(s\) \(retired arms are never eligible\)/],
          ['update out of range', () => call.update(m, Int32Array.of(4), playedOf(kind, armContexts(kind, 4, 1, 54), 4, 1, Int32Array.of(0)), [1]), /arms\[0\] = 4 is out of range 0..3/],
        ];
        for (const [name, p, pattern] of bad) await rejects(p(), pattern, `${what}: ${name}`);
        expect(Array.from(await m.save()), `${what}: state after bad calls`).to.deep.equal(Array.from(before));
        m.dispose();
      }
    });
  }

  it('EmbeddingMLP: addItems/addUsers start at the mean of the live rows (moments 0), every old row bit for bit; retired items are never served over 10⁴ decisions; sizes and retired items survive save/load', async () => {
    for (const backend of both()) {
      const what = `EmbeddingMLP on ${backend.kind}`;
      const e = 3, m = await EmbeddingMLP.create(backend, { users: 4, items: 5, contextDim: 2, hidden: [6], embeddingDim: e, seed: 3, exploration: { kind: 'epsilon-greedy', epsilon: 0.3 } });
      const r = rng(5), n = 120;
      const users = Int32Array.from({ length: n }, () => Math.floor(r() * 4)), items = Int32Array.from({ length: n }, () => Math.floor(r() * 5));
      await m.fit({ users, items, contexts: uniform(2 * n, 6), clicks: Float32Array.from(items, (i) => (i === 2 ? 1 : 0)) }, { epochs: 2 });
      const arrays = async () => decodeModel(await m.save(), 'EmbeddingMLP', [1, 2]).arrays;
      const before = await arrays();
      await m.retireItems(Int32Array.of(2));
      expect(Array.from(await m.addItems(2)), what).to.deep.equal([5, 6]);
      expect(Array.from(await m.addUsers(3)), what).to.deep.equal([4, 5, 6]);
      expect([m.options.users, m.options.items], what).to.deep.equal([7, 7]);
      const after = await arrays();
      for (const [table, rows, live] of [['userEmbeddings', 4, [0, 1, 2, 3]], ['itemEmbeddings', 5, [0, 1, 3, 4]]] as const) {
        for (const part of ['value', 'm', 'v']) {
          const name = `${table}.${part}`;
          expect(Array.from(after[name]!.subarray(0, rows * e)), `${what}: old rows of ${name}`).to.deep.equal(Array.from(before[name]!));
        }
        const old = before[`${table}.value`]!;
        const mean = Array.from({ length: e }, (_, q) => (live as readonly number[]).reduce((s: number, i: number) => s + old[i * e + q]!, 0) / live.length);
        const added = Array.from(after[`${table}.value`]!.subarray(rows * e));
        added.forEach((v, j) => expect(Math.abs(v - mean[j % e]!), `${what}: new ${table} row value ${j}`).to.be.at.most(backend.kind === 'cpu' ? 1e-15 : 1e-7));
        for (const part of ['m', 'v']) expect(Array.from(after[`${table}.${part}`]!.subarray(rows * e)).every((v) => v === 0), `${what}: new rows' ${part}`).to.equal(true);
      }
      expect(Array.from(after['theta.value']!), `${what}: θ`).to.deep.equal(Array.from(before['theta.value']!));
      const seen = new Int32Array(7);
      for (let t = 0; t < 5; t++) {
        const u = Int32Array.from({ length: 1000 }, (_, i) => i % 7);
        const d = await m.decide(u, uniform(2000, 60 + t), t % 2 ? { k: 3 } : {});
        const s = await m.select(u, uniform(2000, 70 + t));
        for (const a of [...d.arms, ...s]) seen[a]!++;
      }
      expect(seen[2], `${what}: a retired item served`).to.equal(0);
      expect(seen[5]! + seen[6]!, `${what}: new items are served`).to.be.greaterThan(0);
      const bytes = await m.save();
      expect(decodeModel(bytes, 'EmbeddingMLP', [1, 2]).modelVersion, what).to.equal(2);
      const again = await EmbeddingMLP.load(backend, bytes);
      expect([again.options.users, again.options.items, Array.from(again.diagnostics().retired)], what).to.deep.equal([7, 7, [2]]);
      expect(Array.from(await again.scores(Int32Array.of(6), uniform(2, 80))), what).to.deep.equal(Array.from(await m.scores(Int32Array.of(6), uniform(2, 80))));
      expect(Array.from(await again.addItems(1, { reuseRetired: true })), `${what}: reuse`).to.deep.equal([2]);
      const before2 = await again.save();
      const bad: [string, () => Promise<unknown>, RegExp][] = [
        ['negative users', () => again.addUsers(-2), /integer ≥ 0, got -2/],
        ['fractional items', () => again.addItems(0.5), /integer ≥ 0, got 0.5/],
        ['retire out of range', () => again.retireItems(Int32Array.of(7)), /out of range 0..6/],
        ['retire twice', () => again.retireItems(Int32Array.of(3, 3)), /repeats/],
        ['retire a plain array', () => again.retireItems([1] as never), /must be an Int32Array/],
        ['a user out of range', () => again.select(Int32Array.of(7), uniform(2, 1)), /users\[0\] = 7 is out of range 0..6/],
        ['wrong mask length', () => again.decide(Int32Array.of(0), uniform(2, 1), { eligible: new Uint8Array(5) }), /eligible has 5 values; expected 7/],
      ];
      for (const [name, p, pattern] of bad) await rejects(p(), pattern, `${what}: ${name}`);
      expect(Array.from(await again.save()), `${what}: state after bad calls`).to.deep.equal(Array.from(before2));
      m.dispose();
      again.dispose();
    }
  });

  it('a model of every kind that never changed its catalogue nor decided saves format 1, as before; LinUCB created with arms 1 and default shards grows into one shard', async () => {
    const { cpu } = backends();
    for (const kind of ARM_KINDS) {
      const m: ArmModel = await armModel(kind, cpu, { arms: 2 });
      await teach(kind, m, 2, 61);
      expect(savedArrays(kind as ArmKind, await m.save()).version, kind).to.equal(1);
      m.dispose();
    }
    const one = await LinUCB.create(cpu, { arms: 1, dim: D });
    await one.addArms(99);
    expect(one.diagnostics().shards).to.deep.equal([100]);
    one.dispose();
  });
});
