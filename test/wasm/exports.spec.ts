import { expect } from 'chai';
import { kernelExportNames } from '../../src/wasm/module.js';
import { WASM_CALLS } from '../support/wasm-calls.js';

// Last in test/index.ts: the op and model specs before it, run on the suite's wasm backend, must
// have called every function the module exports (what test/gpu/shaders.spec.ts is for the WGSL).
// Run with a --grep that keeps the "[wasm]" suites (e.g. '\[wasm\]'), or the whole suite.
describe('wasm kernels [wasm]', () => {
  it('every function export of the module was called by the op and model specs', async () => {
    const names = await kernelExportNames();
    expect(names.length).to.be.greaterThan(20);
    expect([...WASM_CALLS.keys()].sort()).to.deep.equal([...names].sort());
    const never = names.filter((n) => !WASM_CALLS.get(n));
    expect(never, 'exports no spec called').to.deep.equal([]);
  });
});
