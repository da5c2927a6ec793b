import { expect } from 'chai';
import { BanditError } from '../../src/index.js';
import { parseObd } from '../../src/eval/index.js';
import { OBD_ITEMS as items, OBD_MEN as men } from './obd-fixture.js';

function throwsBandit(f: () => unknown, pattern: RegExp): void {
  expect(f).to.throw(BanditError, pattern);
}

describe('eval: OBD parser', () => {
  it('builds one-hot user contexts, segment ids and item features as documented', () => {
    const log = parseObd(men, items);
    expect(log.shape).to.deep.equal({ arms: 3, users: 3, userDim: 2 + 2 + 1 + 1, itemDim: 1 + 2 + 2 + 2, hybridItemDim: 1 + 2 });
    expect(log.length).to.equal(4);
    expect(Array.from(log.actions)).to.deep.equal([2, 0, 1, 2]);
    expect(Array.from(log.rewards)).to.deep.equal([0, 1, 0, 1]);
    expect(Array.from(log.positions)).to.deep.equal([1, 2, 3, 1]);
    expect(Array.from(log.propensities)).to.deep.equal(new Array(4).fill(1 / 3));
    expect(log.timestamps[3]).to.equal('2019-11-24 00:00:04+00:00');
    // Columns: u0 u1 | v0 v1 | w1 | z1 (levels sorted).
    expect(log.userFeatureNames).to.deep.equal(['user_feature_0=u0', 'user_feature_0=u1', 'user_feature_1=v0', 'user_feature_1=v1', 'user_feature_2=w1', 'user_feature_3=z1']);
    expect(Array.from(log.contexts)).to.deep.equal([
      0, 1, 0, 1, 1, 1,
      1, 0, 0, 1, 1, 1,
      0, 1, 1, 0, 1, 1,
      0, 1, 0, 1, 1, 1,
    ]);
    // Segments sorted: 'u0|v1|…' = 0, 'u1|v0|…' = 1, 'u1|v1|…' = 2.
    expect(Array.from(log.users)).to.deep.equal([2, 0, 1, 2]);
    // Items by id (the file lists id 2 before id 1): [f0, aa bb, x y, p q].
    expect(Array.from(log.itemFeatures)).to.deep.equal([
      -0.5, 0, 1, 1, 0, 1, 0,
      0, 0, 1, 0, 1, 0, 1,
      1.25, 1, 0, 0, 1, 1, 0,
    ]);
    expect(Array.from(log.hybridItemFeatures)).to.deep.equal([-0.5, 0, 1, 0, 0, 1, 1.25, 1, 0]);
  });

  it('filters by position and appends log(1 + affinity) on request', () => {
    const top = parseObd(men, items, { position: 1 });
    expect(top.length).to.equal(2);
    expect(Array.from(top.actions)).to.deep.equal([2, 2]);
    // Only the values seen at position 1 get a column: u1, v1, w1, z1.
    expect(top.shape.userDim).to.equal(4);
    const withAffinity = parseObd(men, items, { affinities: true });
    expect(withAffinity.shape.userDim).to.equal(6 + 3);
    const row = (i: number) => Array.from(withAffinity.contexts.subarray(i * 9 + 6, i * 9 + 9));
    expect(row(0)).to.deep.equal([0, Math.fround(Math.log(4)), 0]);
    expect(row(3)).to.deep.equal([0, 0, Math.fround(Math.log(8))]);
  });

  it('refuses malformed files with BanditError naming the line and column', () => {
    throwsBandit(() => parseObd(men.replace(',click,', ',klick,'), items), /no column click/);
    throwsBandit(() => parseObd(men.replace('2,1,0,0.333', '2,1,2,0.333'), items), /line 2, column click/);
    throwsBandit(() => parseObd(men.replace('3,2019-11-24 00:00:04+00:00,2,', '3,2019-11-24 00:00:04+00:00,3,'), items), /line 5, column item_id/);
    throwsBandit(() => parseObd(men, items.replace('2,1,0.0', '2,0,0.0')), /item 0 twice/);
    throwsBandit(() => parseObd(men + '4,short\n', items), /fields/);
    throwsBandit(() => parseObd(men, items, { position: 9 }), /no rows at position 9/);
  });
});
