import { expect } from 'chai';
import { ALL_KERNELS } from '../../src/gpu/kernels/index.js';
import { params, uniforms, type UniformLayout } from '../../src/gpu/uniforms.js';
import { BackendError } from '../../src/core/errors.js';
import { layoutMismatches, parseStructs, uniformStructOf, wgslOffsets } from '../support/wgsl.js';

describe('uniform layouts', () => {
  describe('every kernel declares the struct its WGSL binds at @group(0) @binding(0)', () => {
    for (const kernel of ALL_KERNELS) {
      it(`${kernel.name} (${kernel.entryPoint})`, () => {
        expect(kernel.uniforms, `${kernel.name} declares no uniform layout: declare its struct with uniforms() in its family`).to.not.equal(undefined);
        const struct = uniformStructOf(kernel.source, kernel.entryPoint);
        const mismatches = layoutMismatches(struct, kernel.uniforms!);
        expect(mismatches, mismatches.join('; ')).to.deep.equal([]);
      });
    }
  });

  describe('the checker', () => {
    const source = `
      struct Alpha { rows: u32, /// a doc comment
        scale: f32, }
      struct Beta { n: u32, v: vec4<f32> }
      @group(0) @binding(0) var<uniform> pa: Alpha;
      @binding(0) @group(0) var<uniform> pb: Beta;
      @group(0) @binding(1) var<storage, read_write> out: array<f32>;
      fn helper(i: u32) -> f32 { return f32(pb.n) * out[i]; }
      fn deeper(i: u32) -> f32 { return helper(i) + 1.0; }
      @compute @workgroup_size(1) fn first() { out[0] = pa.scale; }
      @compute @workgroup_size(1) fn second() { out[1] = deeper(0u); }
      // fn commented() { pa.rows; }
      @compute @workgroup_size(1) fn neither() { out[2] = 0.0; }
      @compute @workgroup_size(1) fn both() { out[3] = pa.scale + helper(1u); }`;

    it('finds the struct an entry point reaches, directly or through calls', () => {
      expect(uniformStructOf(source, 'first').name).to.equal('Alpha');
      expect(uniformStructOf(source, 'second').name).to.equal('Beta');
    });

    it('refuses an entry point with no uniform or two at binding 0', () => {
      expect(() => uniformStructOf(source, 'neither')).to.throw(/uses no var<uniform>/);
      expect(() => uniformStructOf(source, 'both')).to.throw(/uses pa and pb|uses pb and pa/);
    });

    it('accepts the matching declaration', () => {
      const s = parseStructs(source);
      expect(layoutMismatches(s.get('Alpha')!, uniforms('Alpha', { rows: 'u32', scale: 'f32' }))).to.deep.equal([]);
      expect(layoutMismatches(s.get('Beta')!, uniforms('Beta', { n: 'u32', v: 'vec4f' }))).to.deep.equal([]);
    });

    it('fails a declaration with fields swapped, mistyped, missing or extra, or another name', () => {
      const alpha = parseStructs(source).get('Alpha')!;
      const cases: [UniformLayout, RegExp][] = [
        [uniforms('Alpha', { scale: 'f32', rows: 'u32' }), /field 0: WGSL rows, TS scale/],
        [uniforms('Alpha', { rows: 'u32', scale: 'u32' }), /WGSL type f32, TS u32/],
        [uniforms('Alpha', { rows: 'u32' }), /WGSL scale: f32 has no TS field/],
        [uniforms('Alpha', { rows: 'u32', scale: 'f32', extra: 'u32' }), /TS extra: u32 has no WGSL field/],
        [uniforms('Gamma', { rows: 'u32', scale: 'f32' }), /struct name: WGSL Alpha, TS Gamma/],
      ];
      for (const [layout, message] of cases) {
        const found = layoutMismatches(alpha, layout);
        expect(found.join('; ')).to.match(message);
      }
    });

    it('fails on padding: a wrong offset or size, and a type TS cannot declare', () => {
      const beta = parseStructs(source).get('Beta')!;
      const good = uniforms('Beta', { n: 'u32', v: 'vec4f' });
      expect(good.fields.map((f) => f.offset)).to.deep.equal([0, 16]);
      const shifted: UniformLayout = { ...good, fields: [good.fields[0]!, { ...good.fields[1]!, offset: 4 }] };
      expect(layoutMismatches(beta, shifted).join('; ')).to.match(/WGSL offset 16, TS 4/);
      expect(layoutMismatches(beta, { ...good, size: 20 }).join('; ')).to.match(/size: WGSL 32 bytes, TS 20/);
      const vec3 = parseStructs('struct Beta { n: u32, v: vec3f }').get('Beta')!;
      expect(layoutMismatches(vec3, good).join('; ')).to.match(/WGSL type vec3f, TS vec4f/);
      const aligned = parseStructs('struct Beta { n: u32, @align(16) v: vec4f }').get('Beta')!;
      expect(layoutMismatches(aligned, good).join('; ')).to.match(/attributes @align\(16\)/);
    });

    it('computes WGSL offsets as the library does, for mixed alignments', () => {
      const fields = { a: 'u32', b: 'vec2f', c: 'f32', d: 'vec4u', e: 'i32' } as const;
      const layout = uniforms('Mixed', fields);
      const wgsl = wgslOffsets(parseStructs('struct Mixed { a: u32, b: vec2<f32>, c: f32, d: vec4<u32>, e: i32 }').get('Mixed')!)!;
      expect(layout.fields.map((f) => f.offset)).to.deep.equal([0, 8, 16, 32, 48]);
      expect(wgsl.offsets).to.deep.equal([0, 8, 16, 32, 48]);
      expect([layout.size, wgsl.size]).to.deep.equal([64, 64]);
    });
  });

  describe('packing', () => {
    const P = uniforms('P', { n: 'u32', alpha: 'f32', shift: 'i32', pair: 'vec2u' });

    it('writes each field little-endian at its offset', () => {
      const view = new DataView(P.pack({ n: 7, alpha: 0.5, shift: -3, pair: [1, 0xffffffff] }));
      // pair is a vec2u: aligned to 8, at 16; the struct is 24 bytes, packed into 32.
      expect(P.fields.map((f) => f.offset)).to.deep.equal([0, 4, 8, 16]);
      expect([P.size, view.byteLength]).to.deep.equal([24, 32]);
      expect([view.getUint32(0, true), view.getFloat32(4, true), view.getInt32(8, true)]).to.deep.equal([7, 0.5, -3]);
      expect([view.getUint32(16, true), view.getUint32(20, true)]).to.deep.equal([1, 0xffffffff]);
    });

    it('refuses a value outside its type instead of wrapping it', () => {
      const ok = { n: 1, alpha: 1, shift: 0, pair: [0, 0] };
      for (const bad of [{ n: -1 }, { n: 2 ** 32 }, { n: 1.5 }, { n: Number.NaN }, { shift: 2 ** 31 }, { pair: [1] }, { n: undefined }]) {
        expect(() => P.pack({ ...ok, ...bad } as never), JSON.stringify(bad)).to.throw(BackendError, /uniform P\./);
      }
    });

    it('keeps the positional params() for kernels not yet declared', () => {
      const v = new DataView(params('uif', 3, -2, 0.25));
      expect([v.getUint32(0, true), v.getInt32(4, true), v.getFloat32(8, true)]).to.deep.equal([3, -2, 0.25]);
    });
  });
});
