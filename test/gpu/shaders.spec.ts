import { expect } from 'chai';
import { ALL_KERNELS } from '../../src/gpu/kernels/index.js';
import { gpuBackend } from '../support/fixture.js';

describe('shaders', () => {
  it('the registry lists every kernel family', () => {
    const names = ALL_KERNELS.map((k) => k.name);
    expect(new Set(names).size, 'kernel names are unique').to.equal(names.length);
    expect(names.length).to.be.greaterThan(0);
  });

  for (const kernel of ALL_KERNELS) {
    it(`${kernel.name} (${kernel.entryPoint}) compiles without errors and builds its pipeline`, async () => {
      const { device, runtime } = gpuBackend();
      const module = device.createShaderModule({ label: kernel.name, code: kernel.source });
      const info = await module.getCompilationInfo();
      const errors = info.messages.filter((m) => m.type === 'error');
      expect(errors.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`)).to.deep.equal([]);
      device.pushErrorScope('validation');
      runtime.pipeline(kernel);
      const error = await device.popErrorScope();
      expect(error?.message ?? null).to.equal(null);
    });
  }
});
