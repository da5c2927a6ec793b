import { expect } from 'chai';
import { compare, dotBound, expectClose, F32_EPS, TOL_EXACT, type Tolerance } from './compare.js';

describe('comparator', () => {
  const tol: Tolerance = { abs: 1e-6, rel: 1e-5 };

  it('passes equal arrays and values inside the tolerance', () => {
    expect(compare([1, 2, 3], [1, 2, 3], TOL_EXACT).ok).to.equal(true);
    expect(compare([1 + 5e-6], [1], tol).ok).to.equal(true);
    expect(compare([5e-7], [0], tol).ok).to.equal(true);
  });

  it('fails values outside the tolerance, and says where', () => {
    const c = compare([1, 2.001, 3], [1, 2, 3], tol);
    expect(c.ok).to.equal(false);
    expect(c.mismatches).to.equal(1);
    expect(c.worst?.index).to.equal(1);
    expect(c.message).to.contain('[1]');
    expect(() => expectClose([0, 1], [0, 2], tol, 'case')).to.throw(/case: 1 of 2/);
  });

  it('NaN equals only NaN', () => {
    expect(compare([NaN], [NaN], TOL_EXACT).ok).to.equal(true);
    expect(compare([NaN], [0], { abs: Infinity, rel: Infinity }).ok).to.equal(false);
    expect(compare([0], [NaN], { abs: Infinity, rel: Infinity }).ok).to.equal(false);
  });

  it('infinities must match exactly', () => {
    expect(compare([Infinity], [Infinity], TOL_EXACT).ok).to.equal(true);
    expect(compare([-Infinity], [Infinity], { abs: Infinity, rel: Infinity }).ok).to.equal(false);
    expect(compare([1e38], [Infinity], { abs: 1e39, rel: 1 }).ok).to.equal(false);
  });

  it('fails on a length mismatch', () => {
    expect(compare([1, 2], [1, 2, 3], tol).ok).to.equal(false);
  });

  it('uses the per-element bound', () => {
    const bound = dotBound([1000], 100);
    expect(bound[0]).to.be.closeTo(1000 * 102 * F32_EPS, 1e-7);
    expect(compare([1 + 0.9 * bound[0]!], [1], TOL_EXACT, bound).ok).to.equal(true);
    expect(compare([1 + 1.1 * bound[0]!], [1], TOL_EXACT, bound).ok).to.equal(false);
  });
});
