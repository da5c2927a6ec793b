import { expect } from 'chai';
import { BanditError } from '../../src/index.js';
import { axpy, scale } from '../../src/ops/index.js';
import { F32_EPS, expectClose, type Tolerance } from '../support/compare.js';
import { backends, maxTestBindingBytes, describeBackends } from '../support/fixture.js';
import { uniform } from '../support/random.js';

/** One rounding of α·x + y (two without fma): 2u relative to |α·x| + |y|. */
const TOL_AXPY: Tolerance = { abs: 0, rel: 0 };
function axpyBound(alpha: number, x: Float32Array, y: Float32Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = 2 * F32_EPS * (Math.abs(alpha * x[i]!) + Math.abs(y[i]!)) + 1e-45;
  return out;
}
function scaleBound(alpha: number, x: Float32Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = F32_EPS * Math.abs(alpha * x[i]!) + 1e-45;
  return out;
}

describeBackends('axpy / scale', function () {
  this.timeout(120_000);
  // The largest binding (33.5M f32 on 128 MiB) also needs more than 65535 workgroups: a 2-D grid.
  const sizes = (maxElems: number) => [1, 255, 256, 257, 4099, maxElems];

  for (const which of ['small', 'limit'] as const) {
    it(`match the float64 twin over sizes (${which === 'small' ? 'odd and round' : 'past 65535 workgroups and the largest binding'})`, async () => {
      const { gpu, cpu } = backends();
      const maxElems = Math.floor(maxTestBindingBytes() / 4);
      const all = sizes(maxElems);
      const list = which === 'small' ? all.slice(0, 5) : all.slice(5);
      for (const n of list) {
        for (const alpha of which === 'small' ? [0, -1.5, 2.25] : [0.5]) {
          const x = uniform(n, n), y = uniform(n, n + 1);
          const gx = gpu.tensor(x, [n]), gy = gpu.tensor(y, [n]);
          const cx = cpu.tensor(x, [n]), cy = cpu.tensor(y, [n]);
          axpy(gpu, alpha, gx, gy);
          axpy(cpu, alpha, cx, cy);
          expectClose(await gpu.read(gy), await cpu.read(cy), TOL_AXPY, `axpy n=${n} α=${alpha}`, axpyBound(alpha, x, y));
          scale(gpu, alpha, gx);
          scale(cpu, alpha, cx);
          expectClose(await gpu.read(gx), await cpu.read(cx), TOL_AXPY, `scale n=${n} α=${alpha}`, scaleBound(alpha, x));
          for (const t of [gx, gy, cx, cy]) t.dispose();
        }
      }
    });
  }

  it('refuses mismatched sizes, aliasing and non-finite α, leaving y unchanged', async () => {
    const { gpu } = backends();
    const x = gpu.tensor([1, 2], [2]), y = gpu.tensor([3, 4, 5], [3]);
    expect(() => axpy(gpu, 1, x, y)).to.throw(BanditError, /x has 2 elements, y has 3/);
    expect(() => axpy(gpu, NaN, y, y)).to.throw(BanditError);
    expect(() => scale(gpu, Infinity, y)).to.throw(BanditError, /alpha must be finite/);
    expect(Array.from(await gpu.read(y))).to.deep.equal([3, 4, 5]);
    x.dispose();
    y.dispose();
  });
});
