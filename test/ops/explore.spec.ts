import { expect } from 'chai';
import randomSource from '../../shaders/lib/random.wgsl';
import { BanditError, type Backend, type Tensor } from '../../src/index.js';
import {
  cholesky, decodeSampleStatus, posteriorDraws, sampleArms, sampleScores, thompsonPropensities, type SamplingPolicy,
} from '../../src/ops/index.js';
import { MAX_NORMAL, RANDOM_STREAMS, normalsFromBlock, philox4x32, uniformFromBits } from '../../src/core/philox.js';
import { SAMPLE_ARMS_SIZES, sampleArmsLayout, sampleArmsWorkgroup, thompsonGroups } from '../../src/gpu/kernels/explore.js';
import { F32_EPS } from '../support/compare.js';
import { backends, describeBackends, f32Backend, gpuBackend } from '../support/fixture.js';
import { rng, spd } from '../support/random.js';
import {
  PROPENSITY_ABS, NORMAL_ABS, deviationSigmas, eligibleAt, normalCdf, propensityRelBound, runSampleArms, slotDistribution,
  LOGIT_FLOOR, type SampleCase, type Sampled,
} from '../support/explore.js';

const MAX = 0xffffffff;
/**
 * Random123's known answers for Philox4x32-10 (its kat_vectors file, as copied into
 * DEShawResearch/fs123, core123/ut/ut_philox.cpp): counter, key → block.
 */
const PHILOX_KAT = [
  { counter: [0, 0, 0, 0], key: [0, 0], block: [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
  { counter: [MAX, MAX, MAX, MAX], key: [MAX, MAX], block: [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd] },
  {
    counter: [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], key: [0xa4093822, 0x299f31d0],
    block: [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1],
  },
];

/** Runs shaders/lib/random.wgsl itself on the GPU: per case its block, the four uniforms and the four normals. */
async function gpuGenerator(cases: readonly { counter: readonly number[]; key: readonly number[] }[]) {
  const { device } = gpuBackend();
  const code = `${randomSource}
@group(0) @binding(0) var<storage, read> inputs: array<vec4u>;
@group(0) @binding(1) var<storage, read_write> outputs: array<vec4u>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  if (g.x >= arrayLength(&inputs) / 2u) { return; }
  let b = philox4x32(inputs[2u * g.x], inputs[2u * g.x + 1u].xy);
  outputs[3u * g.x] = b;
  outputs[3u * g.x + 1u] = bitcast<vec4u>(vec4f(uniformFromBits(b.x), uniformFromBits(b.y), uniformFromBits(b.z), uniformFromBits(b.w)));
  outputs[3u * g.x + 2u] = bitcast<vec4u>(normalsFromBlock(b));
}`;
  const n = cases.length;
  const input = new Uint32Array(n * 8);
  cases.forEach((c, i) => {
    input.set(c.counter, i * 8);
    input.set(c.key, i * 8 + 4);
  });
  const inBuf = device.createBuffer({ size: input.byteLength, usage: GPUBufferUsage.STORAGE, mappedAtCreation: true });
  new Uint32Array(inBuf.getMappedRange()).set(input);
  inBuf.unmap();
  const outBytes = n * 48;
  const outBuf = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  const staging = device.createBuffer({ size: outBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    const group = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: inBuf } }, { binding: 1, resource: { buffer: outBuf } }],
    });
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    enc.copyBufferToBuffer(outBuf, 0, staging, 0, outBytes);
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const words = new Uint32Array(staging.getMappedRange().slice(0));
    const blocks = new Uint32Array(n * 4), uniforms = new Float32Array(n * 4), normals = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      blocks.set(words.subarray(i * 12, i * 12 + 4), i * 4);
      uniforms.set(new Float32Array(words.buffer, (i * 12 + 4) * 4, 4), i * 4);
      normals.set(new Float32Array(words.buffer, (i * 12 + 8) * 4, 4), i * 4);
    }
    return { blocks, uniforms, normals };
  } finally {
    for (const b of [inBuf, outBuf, staging]) b.destroy();
  }
}

const hex = (a: ArrayLike<number>): string => Array.from(a, (v) => (v >>> 0).toString(16).padStart(8, '0')).join(' ');

describeBackends('explore: the Philox4x32-10 generator', function () {
  this.timeout(60_000);

  it("the host twin gives Random123's known answers", () => {
    for (const { counter, key, block } of PHILOX_KAT) expect(hex(philox4x32(counter, key))).to.equal(hex(block));
  });

  it("the WGSL generator gives Random123's known answers and the twin's bits and uniforms for 65536 counters", async () => {
    const r = rng(14);
    const word = (): number => Math.floor(r() * 2 ** 32) >>> 0;
    const random = Array.from({ length: 65536 }, () => ({ counter: [word(), word(), word(), word()], key: [word(), word()] }));
    const cases = [...PHILOX_KAT, ...random];
    const got = await gpuGenerator(cases);
    PHILOX_KAT.forEach(({ block }, i) => expect(hex(got.blocks.subarray(i * 4, i * 4 + 4))).to.equal(hex(block)));
    let wrongBits = 0, wrongUniforms = 0;
    cases.forEach((c, i) => {
      const want = philox4x32(c.counter, c.key);
      for (let l = 0; l < 4; l++) {
        if (got.blocks[i * 4 + l] !== want[l]) wrongBits++;
        // Exact: 24 bits times 2⁻²⁴ is an f32.
        if (got.uniforms[i * 4 + l] !== uniformFromBits(want[l]!)) wrongUniforms++;
      }
    });
    expect(wrongBits, 'blocks that differ from the twin').to.equal(0);
    expect(wrongUniforms, 'uniforms that differ from the twin').to.equal(0);
  });

  it('normals agree with the float64 Box–Muller within the bound derived for the WGSL, and are standard normal', async () => {
    const r = rng(15);
    const cases = Array.from({ length: 65536 }, (_, i) => ({ counter: [i, 7, Math.floor(r() * 2 ** 32), 0], key: [123, RANDOM_STREAMS.sampleScores] }));
    const got = await gpuGenerator(cases);
    let worst = 0, sum = 0, sumSq = 0;
    const z = new Float64Array(4);
    cases.forEach((c, i) => {
      normalsFromBlock(philox4x32(c.counter, c.key), z);
      for (let l = 0; l < 4; l++) {
        worst = Math.max(worst, Math.abs(got.normals[i * 4 + l]! - z[l]!));
        expect(Math.abs(z[l]!)).to.be.at.most(MAX_NORMAL);
        sum += z[l]!;
        sumSq += z[l]! ** 2;
      }
    });
    console.log(`      largest |normal_gpu − normal_f64| over ${cases.length * 4}: ${worst.toExponential(2)} (bound ${NORMAL_ABS.toExponential(2)})`);
    expect(worst).to.be.at.most(NORMAL_ABS);
    // Sample mean (sd 1/√N) and variance (sd √(2/N)) of N = 262144 normals, within 4σ.
    const n = cases.length * 4, mean = sum / n, variance = sumSq / n - mean * mean;
    expect(Math.abs(mean)).to.be.below(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).to.be.below(4 * Math.sqrt(2 / n));
  });
});

// ---------------------------------------------------------------------------------------------

/** Scores from a few levels (ties), with NaN and ±Inf where `specials`, and ±1e30 where `extremes`. */
function scoreRows(rows: number, cols: number, seed: number, specials: boolean, extremes: boolean): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) {
    const u = r();
    out[i] = specials && u < 0.03 ? NaN : specials && u < 0.04 ? (u < 0.035 ? Infinity : -Infinity)
      : extremes && u < 0.2 ? (u < 0.12 ? 1e30 : -1e30)
      : u < 0.5 ? Math.floor(r() * 4) / 4 : 2 * r() - 1;
  }
  return out;
}

/** The largest |logit| above the floor a softmax row can have, for the f32 bound. */
function maxLogit(policy: SamplingPolicy, s: ArrayLike<number>): number {
  if (policy.kind !== 'softmax') return 0;
  let m = -Infinity, worst = 0;
  for (let a = 0; a < s.length; a++) if (Number.isFinite(s[a]!)) m = Math.max(m, s[a]!);
  for (let a = 0; a < s.length; a++) {
    const l = (s[a]! - m) / policy.temperature;
    if (l >= -LOGIT_FLOOR) worst = Math.max(worst, -l);
  }
  return worst;
}

interface Checked {
  /** Per row, the probability bound that this backend and another f32/f64 one choose differently. */
  readonly mismatchBound: Float64Array;
}

/**
 * Holds every row of a sampleArms result to the definition: the status, distinct eligible
 * finite arms, and each slot's propensity equal to the definition's probability of the chosen arm
 * given the backend's own earlier slots (f32: propensityRelBound; float64: 1e−12 relative; and
 * PROPENSITY_ABS absolute). One score matrix for every slot.
 */
function checkDefinition(got: Sampled, scores: Float32Array, c: SampleCase, f32: boolean, what: string): Checked {
  const { rows, cols, policy } = c, k = c.k ?? 1;
  const mismatchBound = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const eligible = (a: number): boolean => eligibleAt(c.eligible, cols, r, a);
    let nEligible = 0, nFinite = 0;
    for (let a = 0; a < cols; a++) {
      if (!eligible(a)) continue;
      nEligible++;
      if (Number.isFinite(scores[r * cols + a]!)) nFinite++;
    }
    const status = decodeSampleStatus(got.status[r]!);
    const where = `${what} row ${r}`;
    if (nEligible < k) {
      expect(status, where).to.deep.equal({ kind: 'too-few-eligible', available: nEligible });
    } else if (nFinite < k) {
      expect(status, where).to.deep.equal({ kind: 'too-few-finite', available: nFinite });
    } else {
      expect(status.kind, where).to.equal('ok');
    }
    if (status.kind !== 'ok') {
      expect(Array.from(got.arms.subarray(r * k, r * k + k)), where).to.deep.equal(new Array(k).fill(-1));
      expect(Array.from(got.propensities.subarray(r * k, r * k + k)), where).to.deep.equal(new Array(k).fill(0));
      continue;
    }
    const chosen = new Set<number>();
    for (let j = 0; j < k; j++) {
      const s = scores.subarray(r * cols, r * cols + cols);
      const dist = slotDistribution(s, (a) => eligible(a) && !chosen.has(a), policy);
      const a = got.arms[r * k + j]!, p = got.propensities[r * k + j]!;
      const slot = `${where} slot ${j}: arm ${a}`;
      expect(a, slot).to.be.within(0, cols - 1);
      expect(dist[a]!, `${slot} has probability 0 by the definition`).to.be.greaterThan(0);
      const rel = f32 ? propensityRelBound(policy, cols, maxLogit(policy, s)) : 1e-12;
      const allowed = PROPENSITY_ABS + rel * dist[a]!;
      if (!(Math.abs(p - dist[a]!) <= allowed)) {
        throw new Error(`${slot} propensity ${p}, definition ${dist[a]} (allowed ±${allowed.toExponential(2)})`);
      }
      // Each CDF boundary can move by rel·W, and u lies on a 2⁻²⁴ grid.
      if (policy.kind !== 'greedy') mismatchBound[r] = mismatchBound[r]! + cols * (2 * propensityRelBound(policy, cols, maxLogit(policy, s)) + F32_EPS);
      chosen.add(a);
    }
  }
  return { mismatchBound };
}

/**
 * Where row r's slots first differ between the f32 result and the float64 one, the uniform of
 * that slot must lie within `band` of the exact CDF interval of the f32 result's arm (given the
 * common earlier slots): the only way the two may differ is a boundary moved by f32 rounding.
 * Returns how far outside that interval the uniform lay, relative to the band (≤ 1 explains it).
 */
function mismatchDistance(f32: Sampled, f64: Sampled, scores: Float32Array, c: SampleCase, r: number): number {
  const { cols, policy } = c, k = c.k ?? 1;
  let j = 0;
  while (j < k && f32.arms[r * k + j] === f64.arms[r * k + j]) j++;
  if (j === k) return 0;
  const before = new Set(Array.from(f32.arms.subarray(r * k, r * k + j)));
  const s = scores.subarray(r * cols, r * cols + cols);
  const p = slotDistribution(s, (a) => eligibleAt(c.eligible, cols, r, a) && !before.has(a), policy);
  const u = uniformFromBits(philox4x32([c.key.step, r, j, 0], [c.key.seed, RANDOM_STREAMS.sampleArms])[0]!);
  const chosen = f32.arms[r * k + j]!;
  let lo = 0;
  for (let a = 0; a < chosen; a++) lo += p[a]!;
  const hi = lo + p[chosen]!;
  const band = propensityRelBound(policy, cols, maxLogit(policy, s)) + F32_EPS;
  return Math.max(lo - u, u - hi, 0) / band;
}

/** Rows whose arms differ between two results. */
function rowsDiffering(x: Sampled, y: Sampled, rows: number, k: number): number {
  let n = 0;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < k; j++) {
      if (x.arms[r * k + j] !== y.arms[r * k + j]) {
        n++;
        break;
      }
    }
  }
  return n;
}

const POLICIES: readonly SamplingPolicy[] = [
  { kind: 'greedy' },
  { kind: 'epsilon-greedy', epsilon: 0.1 },
  { kind: 'epsilon-greedy', epsilon: 0 },
  { kind: 'epsilon-greedy', epsilon: 1 },
  { kind: 'softmax', temperature: 0.5 },
  { kind: 'softmax', temperature: 1e-30 },
  { kind: 'softmax', temperature: 1e30 },
  { kind: 'squarecb', gamma: 10 },
  { kind: 'squarecb', gamma: 1e-30 },
  { kind: 'squarecb', gamma: 1e30 },
];
const describePolicy = (p: SamplingPolicy): string => (p.kind === 'greedy' ? 'greedy' : `${p.kind} ${Object.values(p)[1]}`);

/** A mask for case i: none, one for every row, or a row each (about 70% eligible). */
function maskFor(i: number, rows: number, cols: number, seed: number): Int32Array | undefined {
  if (i % 3 === 0) return undefined;
  const r = rng(seed);
  return Int32Array.from({ length: i % 3 === 1 ? cols : rows * cols }, () => (r() < 0.7 ? 1 : 0));
}

describeBackends('explore: sampleArms', function () {
  this.timeout(600_000);

  const shapes: [number, number][] = [
    [1, 1], [1, 7], [5, 13], [4, 33], [3, 100], [2, 200], [2, 300], [2, 1000], [1, 10000], [64, 10], [9, 300], [8, 2049],
  ];

  it('the shapes reach both layouts on this adapter and every workgroup size, each compiled', () => {
    const cpuAdapter = gpuBackend().runtime.fallbackAdapter;
    const layouts = shapes.map(([B, K]) => sampleArmsLayout(B, K, cpuAdapter));
    expect(new Set(layouts)).to.deep.equal(new Set(['invocation', 'workgroup']));
    expect(shapes.map(([, K]) => sampleArmsWorkgroup(K))).to.deep.equal([1, 1, 1, 2, 4, 8, 16, 32, 64, 1, 16, 64]);
    expect(sampleArmsLayout(9, 300, true)).to.equal('invocation');
    expect(sampleArmsLayout(9, 300, false)).to.equal('workgroup');
    for (const K of [1, 32, 33, 2048, 2049, 1e6]) expect(SAMPLE_ARMS_SIZES).to.include(sampleArmsWorkgroup(K));
  });

  it('every policy matches its definition on both backends, over shapes, slates, masks, ties, NaN, ±Inf and ±1e30', async () => {
    const { gpu, cpu } = backends();
    let cases = 0, decisions = 0, differing = 0, expected = 0, expectedShort = 0, decisionsShort = 0;
    let seed = 100;
    for (const [rows, cols] of shapes) {
      const ks = [...new Set([1, Math.min(3, cols), cols <= 33 ? cols : 1])];
      for (const policy of POLICIES) {
        for (const k of ks) {
          seed++;
          const scores = scoreRows(rows, cols, seed, seed % 2 === 0, seed % 5 === 0);
          const eligible = maskFor(seed, rows, cols, seed + 7);
          const c: SampleCase = { rows, cols, policy, k, key: { seed: seed * 31, step: seed }, ...(eligible ? { eligible } : {}) };
          const what = `${describePolicy(policy)} B=${rows} K=${cols} k=${k}${eligible ? ` mask ${eligible.length}` : ''}`;
          const onGpu = await runSampleArms(gpu, scores, c), onCpu = await runSampleArms(cpu, scores, c);
          const bound = checkDefinition(onGpu, scores, c, true, `webgpu ${what}`).mismatchBound;
          checkDefinition(onCpu, scores, c, false, `cpu ${what}`);
          expect(Array.from(onGpu.status), `${what} status`).to.deep.equal(Array.from(onCpu.status));
          differing += rowsDiffering(onGpu, onCpu, rows, k);
          for (let r = 0; r < rows; r++) {
            const d = mismatchDistance(onGpu, onCpu, scores, c, r);
            if (d > 1) throw new Error(`${what} row ${r}: cpu and webgpu differ although the uniform is ${d.toFixed(1)} bands from the boundary`);
          }
          expected += bound.reduce((x, y) => x + y, 0);
          decisions += rows;
          if (cols <= 100) {
            expectedShort += bound.reduce((x, y) => x + y, 0);
            decisionsShort += rows;
          }
          cases++;
        }
      }
    }
    const allowed = Math.ceil(expected + 4 * Math.sqrt(expected));
    // The worst-case rounding of a K-term CDF grows like K², so the long rows dominate the bound;
    // every mismatch was also checked above to lie within its boundary's band.
    console.log(`      ${cases} cases, ${decisions} rows: ${differing} differ between cpu and webgpu, each within a boundary's rounding band ` +
      `(worst-case expectation ${expected.toFixed(1)}, bound ${allowed}; rows of K ≤ 100: ${(expectedShort / decisionsShort).toExponential(1)} a row)`);
    expect(differing).to.be.at.most(allowed);
  });

  /** Each row repeated `rows` times; every chosen arm's propensity must be the hand-written value. */
  const HAND: readonly { row: number[]; policy: SamplingPolicy; p: (number | null)[]; why: string }[] = [
    { row: [1, 3, 3, 2], policy: { kind: 'epsilon-greedy', epsilon: 0.2 }, p: [0.05, 0.85, 0.05, 0.05], why: 'ε-greedy, the tie to the lower arm' },
    { row: [Math.log(1), Math.log(2), Math.log(4)], policy: { kind: 'softmax', temperature: 1 }, p: [1 / 7, 2 / 7, 4 / 7], why: 'softmax' },
    { row: [0, 0, 0], policy: { kind: 'softmax', temperature: 1e-30 }, p: [1 / 3, 1 / 3, 1 / 3], why: 'softmax of ties at T = 1e-30' },
    { row: [1e30, -1e30, 1e30], policy: { kind: 'softmax', temperature: 1 }, p: [0.5, 0, 0.5], why: 'softmax at ±1e30' },
    { row: [1e30, -1e30], policy: { kind: 'softmax', temperature: 1e30 }, p: [1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(2))], why: 'softmax at T = 1e30' },
    { row: [1, 0, 0.5], policy: { kind: 'squarecb', gamma: 2 }, p: [0.55, 0.2, 0.25], why: 'SquareCB' },
    { row: [2, 2, 2, 2, 2], policy: { kind: 'squarecb', gamma: 100 }, p: [0.2, 0.2, 0.2, 0.2, 0.2], why: 'SquareCB of ties' },
    { row: [1e30, -1e30], policy: { kind: 'squarecb', gamma: 1 }, p: [1 - 1 / (2 + 2 ** 100), 1 / (2 + 2 ** 100)], why: 'SquareCB gap at the cap' },
    { row: [NaN, 1, NaN, 0], policy: { kind: 'epsilon-greedy', epsilon: 0.5 }, p: [null, 0.75, null, 0.25], why: 'NaN arms are never chosen' },
    { row: [Infinity, 1, -Infinity], policy: { kind: 'squarecb', gamma: 1 }, p: [null, 1, null], why: '±Inf arms are never chosen' },
    { row: [5], policy: { kind: 'softmax', temperature: 1e-30 }, p: [1], why: 'K = 1' },
    { row: [0.3, 0.1], policy: { kind: 'epsilon-greedy', epsilon: 1 }, p: [0.5, 0.5], why: 'ε = 1' },
    { row: [0.3, 0.1], policy: { kind: 'epsilon-greedy', epsilon: 0 }, p: [1, null], why: 'ε = 0' },
  ];

  it('gives the hand-written probabilities on both backends', async () => {
    const rows = 400;
    for (const backend of [backends().cpu, backends().gpu]) {
      for (const { row, policy, p, why } of HAND) {
        const scores = new Float32Array(rows * row.length);
        for (let r = 0; r < rows; r++) scores.set(row, r * row.length);
        const got = await runSampleArms(backend, scores, { rows, cols: row.length, policy, key: { seed: 3, step: 1 } });
        const seen = new Set<number>();
        for (let r = 0; r < rows; r++) {
          const a = got.arms[r]!, want = p[a];
          expect(want, `${backend.kind} ${why}: arm ${a} chosen`).to.not.equal(null);
          expect(got.propensities[r]!, `${backend.kind} ${why}: arm ${a}`).to.be.closeTo(want!, 4e-7 * want! + 1e-36);
          seen.add(a);
        }
        // Every arm of probability ≥ 0.05 shows up in 400 rows (a miss has probability ≤ 0.95⁴⁰⁰).
        p.forEach((want, a) => {
          if (want !== null && want >= 0.05) expect(seen.has(a), `${backend.kind} ${why}: arm ${a} never chosen`).to.equal(true);
        });
      }
    }
  });

  it('reports too few eligible or finite arms in the status, and leaves those rows empty', async () => {
    const row = [0.5, NaN, 0.1, NaN];
    const cases: { eligible: number[]; k: number; kind: string; available: number }[] = [
      { eligible: [0, 0, 0, 0], k: 1, kind: 'too-few-eligible', available: 0 },
      { eligible: [1, 0, 1, 0], k: 3, kind: 'too-few-eligible', available: 2 },
      { eligible: [1, 1, 0, 1], k: 2, kind: 'too-few-finite', available: 1 },
      { eligible: [0, 1, 0, 1], k: 1, kind: 'too-few-finite', available: 0 },
      { eligible: [1, 1, 1, 1], k: 2, kind: 'ok', available: 0 },
    ];
    for (const backend of [backends().cpu, backends().gpu]) {
      for (const c of cases) {
        const got = await runSampleArms(backend, Float32Array.from(row), {
          rows: 1, cols: 4, k: c.k, policy: { kind: 'softmax', temperature: 1 }, key: { seed: 1, step: 2 }, eligible: Int32Array.from(c.eligible),
        });
        const what = `${backend.kind} mask ${c.eligible.join('')} k=${c.k}`;
        expect(decodeSampleStatus(got.status[0]!), what).to.deep.equal({ kind: c.kind, available: c.available });
        if (c.kind === 'ok') expect(Array.from(got.arms).sort(), what).to.deep.equal([0, 2]);
        else expect(Array.from(got.arms), what).to.deep.equal(new Array(c.k).fill(-1));
      }
    }
  });

  it('the same key gives the same decisions; another step, seed or row gives others', async () => {
    const { gpu, cpu } = backends();
    const rows = 256, cols = 9;
    const scores = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let a = 0; a < cols; a++) scores[r * cols + a] = a / cols;
    const run = (b: Backend, seed: number, step: number) =>
      runSampleArms(b, scores, { rows, cols, k: 2, policy: { kind: 'softmax', temperature: 0.3 }, key: { seed, step } });
    const a = await run(gpu, 5, 9), again = await run(gpu, 5, 9), onCpu = await run(cpu, 5, 9);
    expect(Array.from(again.arms)).to.deep.equal(Array.from(a.arms));
    expect(Array.from(again.propensities)).to.deep.equal(Array.from(a.propensities));
    // 256 rows of 9 arms, softmax weights all within e⁻³: the cpu-gpu bound is far below one row.
    expect(rowsDiffering(a, onCpu, rows, 2)).to.equal(0);
    expect(rowsDiffering(a, await run(gpu, 5, 10), rows, 2)).to.be.greaterThan(rows / 2);
    expect(rowsDiffering(a, await run(gpu, 6, 9), rows, 2)).to.be.greaterThan(rows / 2);
    // Identical rows draw independent uniforms.
    expect(new Set(Array.from({ length: rows }, (_, r) => `${a.arms[2 * r]},${a.arms[2 * r + 1]}`)).size).to.be.greaterThan(20);
  });

  it('perSlotScores: slot j applies the policy to score matrix j, without the arms of earlier slots', async () => {
    // Slot 0 prefers arm 2; slot 1's own matrix prefers arm 2 too, so it must take its runner-up, arm 0.
    const slot0 = [0.1, 0.2, 0.9, 0.3], slot1 = [0.8, 0.1, 0.95, 0.4];
    for (const backend of [backends().cpu, backends().gpu]) {
      const got = await runSampleArms(backend, Float32Array.from([...slot0, ...slot1]), {
        rows: 1, cols: 4, k: 2, policy: { kind: 'greedy' }, key: { seed: 0, step: 0 }, perSlotScores: true,
      });
      expect(Array.from(got.arms), backend.kind).to.deep.equal([2, 0]);
      expect(Array.from(got.propensities), backend.kind).to.deep.equal([1, 1]);
    }
  });

  it('calibration: over 10⁴ decisions of one context each arm is chosen within 4σ of its propensity, slots given the earlier ones', async () => {
    // Odd K, a tie for the best, a NaN and an ineligible arm.
    const row = [0.3, 1.0, -0.2, 1.0, 0.7, 0.1, NaN], cols = row.length, rows = 10_000, k = 2;
    const eligible = Int32Array.from([1, 1, 1, 1, 1, 0, 1]);
    const scores = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) scores.set(row, r * cols);
    const policies: SamplingPolicy[] = [
      { kind: 'epsilon-greedy', epsilon: 0.3 }, { kind: 'softmax', temperature: 0.5 }, { kind: 'squarecb', gamma: 5 },
    ];
    for (const backend of [backends().cpu, backends().gpu]) {
      for (const policy of policies) {
        const got = await runSampleArms(backend, scores, { rows, cols, k, policy, eligible, key: { seed: 77, step: 3 } });
        const what = `${backend.kind} ${describePolicy(policy)}`;
        // Group the rows by the slots before: slot 0 one group, slot 1 a group per slot-0 arm.
        const groups = new Map<string, { n: number; hits: number[]; reported: (number | null)[] }>();
        for (let r = 0; r < rows; r++) {
          for (let j = 0; j < k; j++) {
            const key = j === 0 ? 'slot 0' : `slot 1 after ${got.arms[r * k]}`;
            let g = groups.get(key);
            if (!g) groups.set(key, (g = { n: 0, hits: new Array(cols).fill(0), reported: new Array(cols).fill(null) }));
            const a = got.arms[r * k + j]!, p = got.propensities[r * k + j]!;
            g.n++;
            g.hits[a] = g.hits[a]! + 1;
            // Every row of a group reports one probability per arm.
            if (g.reported[a] === null) g.reported[a] = p;
            else expect(p, `${what} ${key} arm ${a}`).to.equal(g.reported[a]);
          }
        }
        expect(groups.size, what).to.be.greaterThan(3);
        for (const [key, g] of groups) {
          const before = key === 'slot 0' ? -1 : Number(key.split(' ').pop());
          const exact = slotDistribution(row, (a) => eligible[a] === 1 && a !== before, policy);
          for (let a = 0; a < cols; a++) {
            const p = g.reported[a] ?? exact[a]!;
            if (exact[a] === 0) expect(g.hits[a], `${what} ${key}: arm ${a} has probability 0`).to.equal(0);
            expect(deviationSigmas(g.hits[a]!, g.n, p), `${what} ${key}: arm ${a} ${g.hits[a]}/${g.n} vs ${p}`).to.be.at.most(4);
          }
        }
        // The check can fail: slot 0's most likely arm, its propensity claimed 10% higher.
        const g0 = groups.get('slot 0')!;
        const top = g0.hits.indexOf(Math.max(...g0.hits));
        expect(deviationSigmas(g0.hits[top]!, g0.n, g0.reported[top]! * 1.1)).to.be.greaterThan(4);
      }
    }
  });

  it('eligibility: ineligible arms never chosen over 10⁴ decisions; all-but-one eligible; rows with none get the status', async () => {
    const rows = 10_000, cols = 11;
    const r = rng(5);
    const mask = Int32Array.from({ length: rows * cols }, () => (r() < 0.4 ? 1 : 0));
    // Rows 17 and 9000: all but arm 4; row 33: no arm.
    for (const row of [17, 9000]) mask.fill(0, row * cols, (row + 1) * cols).set([1], row * cols + 4);
    mask.fill(0, 33 * cols, 34 * cols);
    const scores = Float32Array.from({ length: rows * cols }, () => r());
    for (const backend of [backends().cpu, backends().gpu]) {
      for (const policy of [{ kind: 'softmax', temperature: 1e30 }, { kind: 'epsilon-greedy', epsilon: 1 }] as SamplingPolicy[]) {
        const got = await runSampleArms(backend, scores, { rows, cols, policy, eligible: mask, key: { seed: 2, step: 8 } });
        const what = `${backend.kind} ${describePolicy(policy)}`;
        let ineligible = 0, failed = 0;
        for (let row = 0; row < rows; row++) {
          const a = got.arms[row]!;
          if (got.status[row] !== 0) {
            failed++;
            continue;
          }
          if (mask[row * cols + a] === 0) ineligible++;
        }
        expect(ineligible, `${what}: ineligible arms chosen`).to.equal(0);
        for (const row of [17, 9000]) expect([got.arms[row], got.propensities[row]], what).to.deep.equal([4, 1]);
        expect(decodeSampleStatus(got.status[33]!), what).to.deep.equal({ kind: 'too-few-eligible', available: 0 });
        const empty = Array.from({ length: rows }, (_, row) => mask.subarray(row * cols, (row + 1) * cols).every((v) => v === 0)).filter(Boolean).length;
        expect(failed, what).to.equal(empty);
      }
    }
  });

  it('rows past 65535 workgroups (a 2-D grid): sampleArms and thompsonPropensities reach the last row', async () => {
    const rows = 70_001, cols = 3;
    const scores = Float32Array.from({ length: rows * cols }, (_, i) => (i % cols === 2 ? 1 : 0));
    const c: SampleCase = { rows, cols, policy: { kind: 'epsilon-greedy', epsilon: 0.3 }, key: { seed: 4, step: 4 } };
    const { gpu } = backends();
    const got = await runSampleArms(gpu, scores, c);
    checkDefinition(got, scores, c, true, 'webgpu 70001 rows');
    const [m, w] = [gpu.tensor(scores, [rows, cols]), gpu.tensor(new Float32Array(rows * cols), [rows, cols])];
    const chosen = gpu.tensor(new Int32Array(rows).fill(2), [rows], { dtype: 'i32' });
    // Zero widths: the draws are the means, so arm 2 wins every draw of every row.
    const p = thompsonPropensities(gpu, m, w, 1, chosen, { draws: 3, key: c.key });
    expect((await gpu.read(p)).every((v) => v === 1)).to.equal(true);
    for (const t of [m, w, chosen, p]) t.dispose();
  });

  it('a slate of every arm (k = K = 2000) is a permutation on both backends', async () => {
    const cols = 2000;
    const scores = Float32Array.from({ length: cols }, (_, a) => Math.sin(a) * 0.01);
    for (const backend of [backends().cpu, backends().gpu]) {
      const c: SampleCase = { rows: 1, cols, k: cols, policy: { kind: 'softmax', temperature: 0.002 }, key: { seed: 9, step: 9 } };
      const got = await runSampleArms(backend, scores, c);
      expect(new Set(got.arms).size, backend.kind).to.equal(cols);
      checkDefinition(got, scores, c, backend.kind !== 'cpu', backend.kind);
      // The last slot has one arm left.
      expect(got.propensities[cols - 1], backend.kind).to.equal(1);
    }
  });

  it('refuses bad arguments with a BanditError', () => {
    const { gpu } = backends();
    const s = gpu.tensor(new Float32Array(6), [2, 3]);
    const key = { seed: 1, step: 0 };
    const maskI32 = gpu.tensor([1, 1, 0], [3], { dtype: 'i32' }), maskF32 = gpu.tensor([1, 1, 0], [3]), maskWrong = gpu.tensor([1, 1], [2], { dtype: 'i32' });
    const bad: [() => unknown, RegExp][] = [
      [() => sampleArms(gpu, s, { key, policy: { kind: 'epsilon-greedy', epsilon: 1.5 } }), /policy.epsilon must be a number in \[0, 1\]/],
      [() => sampleArms(gpu, s, { key, policy: { kind: 'epsilon-greedy', epsilon: NaN } }), /policy.epsilon/],
      [() => sampleArms(gpu, s, { key, policy: { kind: 'softmax', temperature: 0 } }), /policy.temperature must be a number in 1e-30 … 1e\+30/],
      [() => sampleArms(gpu, s, { key, policy: { kind: 'squarecb', gamma: -1 } }), /policy.gamma/],
      [() => sampleArms(gpu, s, { key, policy: { kind: 'ucb' } as unknown as SamplingPolicy }), /policy must be/],
      [() => sampleArms(gpu, s, { key, k: 4 }), /k must be an integer in 1 … 3/],
      [() => sampleArms(gpu, s, { key, k: 0 }), /k must be/],
      [() => sampleArms(gpu, s, { key: { seed: -1, step: 0 } }), /key.seed must be an integer in 0 … 2\^32−1/],
      [() => sampleArms(gpu, s, { key: { seed: 0, step: 2 ** 32 } }), /key.step/],
      [() => sampleArms(gpu, s, { key, eligible: maskF32 }), /eligible must be i32/],
      [() => sampleArms(gpu, s, { key, eligible: maskWrong }), /eligible must be \[3\] .* or \[2, 3\]/],
      [() => sampleArms(gpu, maskI32, { key }), /scores must be f32/],
      [() => sampleArms(gpu, s, { key, perSlotScores: true }), /k×B×K/],
      [() => sampleArms(gpu, s, undefined as unknown as { key: typeof key }), /options/],
    ];
    for (const [call, message] of bad) expect(call).to.throw(BanditError, message);
    expect(() => sampleArms(gpu, s, { key, eligible: maskI32, k: 2 })).to.not.throw();
    for (const t of [s, maskI32, maskF32, maskWrong]) t.dispose();
  });
});

// ---------------------------------------------------------------------------------------------

/** P(arm a is the argmax) of independent N(μ_b, σ_b²) over the arms not excluded, by the trapezoid rule on ∫ φ_a Π Φ_b. */
function argmaxProbabilities(mu: readonly number[], sd: readonly number[], exclude: ReadonlySet<number> = new Set()): number[] {
  const arms = mu.map((_, a) => a).filter((a) => !exclude.has(a));
  const lo = Math.min(...arms.map((a) => mu[a]! - 12 * sd[a]!)), hi = Math.max(...arms.map((a) => mu[a]! + 12 * sd[a]!));
  const steps = 40_000, h = (hi - lo) / steps;
  return mu.map((_, a) => {
    if (exclude.has(a)) return 0;
    let sum = 0;
    for (let i = 0; i <= steps; i++) {
      const x = lo + i * h, z = (x - mu[a]!) / sd[a]!;
      let f = Math.exp(-0.5 * z * z) / (sd[a]! * Math.sqrt(2 * Math.PI));
      for (const b of arms) if (b !== a) f *= normalCdf((x - mu[b]!) / sd[b]!);
      sum += (i === 0 || i === steps ? 0.5 : 1) * f;
    }
    return sum * h;
  });
}

async function readAll(backend: Backend, ...ts: Tensor[]): Promise<Float64Array[]> {
  const out = await Promise.all(ts.map((t) => backend.read(t)));
  return out.map((v) => Float64Array.from(v));
}

describeBackends('explore: Thompson sampling ops', function () {
  this.timeout(300_000);

  it('sampleScores is mean + scale·sd·ξ with ξ from (seed, step, row, arm, draw) on both backends; NaN where an input is not finite', async () => {
    const rows = 3, cols = 5, scale = 0.7, key = { seed: 41, step: 12 };
    const r = rng(8);
    const mean = Float32Array.from({ length: rows * cols }, () => 2 * r() - 1);
    const width2 = Float32Array.from({ length: rows * cols }, () => r() * 2 - 0.3);
    mean[3] = NaN;
    width2[7] = Infinity;
    for (const draws of [1, 6]) {
      for (const backend of [backends().cpu, backends().gpu]) {
        const m = backend.tensor(mean, [rows, cols]), w = backend.tensor(width2, [rows, cols]);
        const out = sampleScores(backend, m, w, scale, key, { draws });
        expect(out.shape).to.deep.equal(draws === 1 ? [rows, cols] : [draws, rows, cols]);
        const [got] = await readAll(backend, out);
        const z = new Float64Array(4);
        for (let d = 0; d < draws; d++) {
          for (let i = 0; i < rows * cols; i++) {
            const row = Math.floor(i / cols), arm = i % cols, v = got![d * rows * cols + i]!;
            const where = `${backend.kind} draw ${d} row ${row} arm ${arm}`;
            if (i === 3 || i === 7) {
              expect(Number.isNaN(v), where).to.equal(true);
              continue;
            }
            normalsFromBlock(philox4x32([key.step, row, arm, d >>> 2], [key.seed, RANDOM_STREAMS.sampleScores]), z);
            const sd = scale * Math.sqrt(Math.max(width2[i]!, 0)), want = mean[i]! + sd * z[d & 3]!;
            // The twin computes the same float64 expression; the GPU within its normals' bound.
            const allowed = backend.kind === 'cpu' ? 0 : sd * NORMAL_ABS + 4 * F32_EPS * (Math.abs(mean[i]!) + Math.abs(sd * z[d & 3]!));
            expect(Math.abs(v - want), where).to.be.at.most(allowed);
            if (width2[i]! <= 0) expect(v, `${where}: width2 ≤ 0 draws the mean`).to.equal(mean[i]);
          }
        }
        for (const t of [m, w, out]) t.dispose();
      }
    }
  });

  it('thompsonPropensities for K = 2 is Φ(Δμ/σ) within 4σ of M = 8192 draws (exactly where the other arm is certain), and the two arms\' estimates sum to 1', async () => {
    // (μ0, μ1, width2_0, width2_1); scale 0.8. P(arm 0) = Φ((μ0 − μ1)/(0.8·sqrt(w0 + w1))).
    const cases = [[0, 0, 1, 1], [0.5, 0, 1, 1], [1, 0, 0.25, 1], [-1, 0.3, 2, 0.5], [0, 3, 1, 1], [0.2, 0, 0, 1], [0, 0, 0, 0], [-0.1, 0, 0, 0]];
    const rows = cases.length, scale = 0.8, draws = 8192, key = { seed: 5, step: 77 };
    const mean = Float32Array.from(cases.flatMap((c) => [c[0]!, c[1]!])), width2 = Float32Array.from(cases.flatMap((c) => [c[2]!, c[3]!]));
    for (const backend of [backends().cpu, backends().gpu]) {
      const m = backend.tensor(mean, [rows, 2]), w = backend.tensor(width2, [rows, 2]);
      const estimates: Float64Array[] = [];
      for (const arm of [0, 1]) {
        const chosen = backend.tensor(new Int32Array(rows).fill(arm), [rows], { dtype: 'i32' });
        const p = thompsonPropensities(backend, m, w, scale, chosen, { draws, key });
        expect(p.shape).to.deep.equal([rows]);
        estimates.push((await readAll(backend, p))[0]!);
        chosen.dispose();
        p.dispose();
      }
      cases.forEach(([mu0, mu1, w0, w1], r) => {
        const sd = scale * Math.sqrt(w0! + w1!);
        const exact = sd === 0 ? (mu0! >= mu1! ? 1 : 0) : normalCdf((mu0! - mu1!) / sd);
        const p0 = estimates[0]![r]!, where = `${backend.kind} row ${r}: P(arm 0) ${p0} vs exact ${exact}`;
        // Monte-Carlo: 4 standard errors of the counting estimate (the Rao–Blackwellised one's
        // variance is at most that), plus Φ's 1.2e-7 and f32 sums.
        const slack = 4 * Math.sqrt((exact * (1 - exact)) / draws) + 2e-6;
        expect(Math.abs(p0 - exact), where).to.be.at.most(slack);
        // Arm 1 certain (w1 = 0), arm 0 not: every draw's conditional probability is the same Φ.
        if (w1 === 0 && w0! > 0) expect(Math.abs(p0 - exact), `${where}: no Monte-Carlo error`).to.be.at.most(2e-6);
        // Two estimates of complementary probabilities, each within its slack.
        expect(Math.abs(p0 + estimates[1]![r]! - 1), where).to.be.at.most(2 * slack);
      });
      m.dispose();
      w.dispose();
    }
  });

  it('matches the twin for slates and masks over several workgroups a row; K = 1 is 1; invalid, ineligible and repeated chosen arms get 0', async () => {
    const { gpu, cpu } = backends();
    const rows = 4, cols = 6, k = 2, draws = 1001, scale = 1.3, key = { seed: 9, step: 4 };
    // 251 blocks of four draws (the last one partial) over 4 workgroups a row.
    expect([thompsonGroups(draws), thompsonGroups(1), thompsonGroups(256), thompsonGroups(257), thompsonGroups(2 ** 24)]).to.deep.equal([4, 1, 1, 2, 64]);
    const r = rng(31);
    const mean = Float32Array.from({ length: rows * cols }, () => r() - 0.5);
    const width2 = Float32Array.from({ length: rows * cols }, () => 0.2 + r());
    const eligible = Int32Array.from({ length: rows * cols }, (_, i) => (i === 5 || i === 13 ? 0 : 1));
    // Row 0 valid (its arm 5 is ineligible); row 1 repeats its arm in slot 1; row 2 chose its
    // ineligible arm 1 in slot 0 (slot 1 is still valid); row 3 is out of range.
    const chosen = Int32Array.from([2, 4, 0, 0, 1, 3, -1, 9]);
    const results: Float64Array[] = [];
    for (const backend of [cpu, gpu]) {
      const [m, w] = [backend.tensor(mean, [rows, cols]), backend.tensor(width2, [rows, cols])];
      const e = backend.tensor(eligible, [rows, cols], { dtype: 'i32' }), c = backend.tensor(chosen, [rows, k], { dtype: 'i32' });
      const p = thompsonPropensities(backend, m, w, scale, c, { draws, key, eligible: e });
      results.push((await readAll(backend, p))[0]!);
      for (const t of [m, w, e, c, p]) t.dispose();
    }
    const [onCpu, onGpu] = results as [Float64Array, Float64Array];
    for (const backend of [onCpu, onGpu]) {
      expect([3, 4, 6, 7].map((i) => backend[i])).to.deep.equal([0, 0, 0, 0]);
      for (const i of [0, 1, 2, 5]) expect(backend[i]).to.be.greaterThan(0);
    }
    // The GPU's draws are within NORMAL_ABS·sd of the twin's (and f32 roundings of mean + sd·z):
    // a competitor's largest draw moves by at most δ, so each conditional Φ((μ_c − m)/σ_c) by at
    // most φ(0)·δ/σ_c, plus Φ's f32 evaluation (exp's 3 + 2|x| ULP on ≤ 100, 1e−5 relative) and the
    // f32 sum of M terms.
    const sdMax = scale * Math.sqrt(1.2), sdMin = scale * Math.sqrt(0.2);
    const delta = 2 * NORMAL_ABS * sdMax + 8 * F32_EPS * (0.5 + MAX_NORMAL * sdMax);
    const allowed = 0.4 * (delta / sdMin) + 1e-5 + draws * F32_EPS;
    for (let i = 0; i < rows * k; i++) expect(Math.abs(onGpu[i]! - onCpu[i]!), `entry ${i}`).to.be.at.most(allowed);
    // K = 1.
    for (const backend of [cpu, gpu]) {
      const one = [backend.tensor([0.3], [1, 1]), backend.tensor([1], [1, 1]), backend.tensor([0], [1], { dtype: 'i32' })] as const;
      const p = thompsonPropensities(backend, one[0], one[1], 1, one[2], { draws: 5, key });
      expect(Array.from(await backend.read(p))).to.deep.equal([1]);
      for (const t of [...one, p]) t.dispose();
    }
  });

  it('M far below K: every chosen arm gets a positive estimate (a share of M draws would give 0 to most), and the estimates are unbiased', async () => {
    // 200 equal arms: each is the argmax with p = 1/200; M = 16 draws a row. A share of 16 draws
    // is 0 for a chosen arm with probability (1 − p)^16 ≈ 92%; the conditional mean never is.
    const rows = 400, cols = 200, draws = 16, scale = 1, key = { seed: 77, step: 5 }, p = 1 / cols;
    const mean = new Float32Array(rows * cols), width2 = new Float32Array(rows * cols).fill(1);
    for (const backend of [backends().cpu, backends().gpu]) {
      const m = backend.tensor(mean, [rows, cols]), w = backend.tensor(width2, [rows, cols]);
      const sampled = sampleScores(backend, m, w, scale, key);
      const picked = sampleArms(backend, sampled, { key });
      const estimate = thompsonPropensities(backend, m, w, scale, picked.arms, { draws, key });
      const est = (await readAll(backend, estimate))[0]!;
      for (let r = 0; r < rows; r++) expect(est[r]!, `${backend.kind} row ${r}`).to.be.greaterThan(0);
      // Fresh draws, independent of the choice: the mean of the rows' estimates has standard
      // error at most sqrt(p(1 − p)/(rows·M)).
      const meanEstimate = est.reduce((a, b) => a + b, 0) / rows;
      expect(Math.abs(meanEstimate - p), `${backend.kind}: mean ${meanEstimate} vs ${p}`).to.be.at.most(4 * Math.sqrt((p * (1 - p)) / (rows * draws)));
      for (const t of [m, w, sampled, picked.arms, picked.propensities, picked.status, estimate]) t.dispose();
    }
  });

  it('the per-slot Thompson sampler chooses at the exact probabilities, the estimates are unbiased, and cpu and webgpu agree (10⁴ decisions, k = 2)', async () => {
    const mu = [0.1, 0.3, 0.25, -0.2], w2 = [1, 0.5, 0.8, 2], scale = 0.5, cols = 4, rows = 10_000, k = 2, draws = 64;
    const sd = w2.map((v) => scale * Math.sqrt(v));
    const key = { seed: 1234, step: 56 };
    const mean = new Float32Array(rows * cols), width2 = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      mean.set(mu, r * cols);
      width2.set(w2, r * cols);
    }
    const exact0 = argmaxProbabilities(mu, sd);
    const exact1 = mu.map((_, c) => argmaxProbabilities(mu, sd, new Set([c])));
    const decisions: Int32Array[] = [];
    for (const backend of [backends().cpu, backends().gpu]) {
      const m = backend.tensor(mean, [rows, cols]), w = backend.tensor(width2, [rows, cols]);
      const sampled = sampleScores(backend, m, w, scale, key, { draws: k });
      const picked = sampleArms(backend, sampled, { key, k, perSlotScores: true });
      const estimate = thompsonPropensities(backend, m, w, scale, picked.arms, { draws, key });
      const [arms, est] = [(await backend.read(picked.arms)) as Int32Array, (await readAll(backend, estimate))[0]!];
      const what = backend.kind;
      // Per group (slot 0; slot 1 after each slot-0 arm): frequency and mean estimate per arm.
      const check = (name: string, rowsIn: number[], slot: number, exact: number[]): void => {
        for (let a = 0; a < cols; a++) {
          const hits = rowsIn.filter((row) => arms[row * k + slot] === a);
          expect(deviationSigmas(hits.length, rowsIn.length, exact[a]!), `${what} ${name} arm ${a}: ${hits.length}/${rowsIn.length} vs ${exact[a]}`).to.be.at.most(4);
          if (hits.length < 50) continue;
          // The mean of n independent estimates of M draws each: standard error sqrt(p(1 − p)/(nM)).
          const meanEstimate = hits.reduce((s, row) => s + est[row * k + slot]!, 0) / hits.length;
          const se = Math.sqrt((exact[a]! * (1 - exact[a]!)) / (hits.length * draws));
          expect(Math.abs(meanEstimate - exact[a]!), `${what} ${name} arm ${a}: mean estimate ${meanEstimate} vs ${exact[a]}`).to.be.at.most(4 * se + 1e-6);
        }
      };
      const all = Array.from({ length: rows }, (_, row) => row);
      check('slot 0', all, 0, exact0);
      for (let c = 0; c < cols; c++) check(`slot 1 after ${c}`, all.filter((row) => arms[row * k] === c), 1, exact1[c]!);
      decisions.push(arms);
      for (const t of [m, w, sampled, picked.arms, picked.propensities, picked.status, estimate]) t.dispose();
    }
    // Same seed, same decisions, except where two arms' samples lie within the normals' bound:
    // δ = 2·NORMAL_ABS·max sd (+ rounding), P(a pair within δ) ≤ 2δ·φ(0)/σ_diff, K − 1 pairs a slot.
    const sdMax = Math.max(...sd), sdMin = Math.min(...sd);
    const delta = 2 * NORMAL_ABS * sdMax + 8 * F32_EPS * (0.5 + MAX_NORMAL * sdMax);
    const expected = rows * k * (cols - 1) * (2 * delta * 0.4) / (Math.SQRT2 * sdMin);
    const differing = rowsDiffering({ arms: decisions[0]! } as Sampled, { arms: decisions[1]! } as Sampled, rows, k);
    console.log(`      Thompson decisions: ${differing} of ${rows} rows differ between cpu and webgpu (bound ${Math.ceil(expected + 4 * Math.sqrt(expected))})`);
    expect(differing).to.be.at.most(Math.ceil(expected + 4 * Math.sqrt(expected)));
  });

  it('refuses bad arguments with a BanditError', () => {
    const { gpu } = backends();
    const m = gpu.tensor(new Float32Array(6), [2, 3]), w = gpu.tensor(new Float32Array(6), [2, 3]), w1 = gpu.tensor(new Float32Array(3), [3]);
    const c = gpu.tensor([0, 1], [2], { dtype: 'i32' }), cWrong = gpu.tensor([0, 1, 2], [3], { dtype: 'i32' });
    const key = { seed: 0, step: 0 };
    const bad: [() => unknown, RegExp][] = [
      [() => sampleScores(gpu, m, w1, 1, key), /width2 must have mean's shape \[2, 3\]/],
      [() => sampleScores(gpu, m, w, NaN, key), /scale must be finite/],
      [() => sampleScores(gpu, m, w, 1, { seed: 0.5, step: 0 }), /key.seed/],
      [() => sampleScores(gpu, m, w, 1, key, { draws: 0 }), /draws must be an integer/],
      [() => thompsonPropensities(gpu, m, w, 1, cWrong, { draws: 10, key }), /chosen must be \[2\] or \[2, k\]/],
      [() => thompsonPropensities(gpu, m, w, 1, m, { draws: 10, key }), /chosen must be i32/],
      [() => thompsonPropensities(gpu, m, w, 1, c, { draws: 2 ** 24 + 1, key }), /draws must be an integer in 1 … 16777216/],
      [() => thompsonPropensities(gpu, m, w, 1, c, { draws: 10, key, eligible: c }), /eligible must be \[3\]/],
    ];
    for (const [call, message] of bad) expect(call).to.throw(BanditError, message);
    for (const t of [m, w, w1, c, cWrong]) t.dispose();
  });
});

/** The float64 Cholesky factor of each d×d matrix. */
function choleskyHost(a: ArrayLike<number>, batch: number, d: number): Float64Array {
  const l = new Float64Array(batch * d * d);
  for (let b = 0; b < batch; b++) {
    const o = b * d * d;
    for (let j = 0; j < d; j++) {
      let s = a[o + j * d + j]!;
      for (let q = 0; q < j; q++) s -= l[o + j * d + q]! ** 2;
      l[o + j * d + j] = Math.sqrt(s);
      for (let i = j + 1; i < d; i++) {
        let t = a[o + i * d + j]!;
        for (let q = 0; q < j; q++) t -= l[o + i * d + q]! * l[o + j * d + q]!;
        l[o + i * d + j] = t / l[o + j * d + j]!;
      }
    }
  }
  return l;
}

describeBackends('explore: posteriorDraws', function () {
  this.timeout(300_000);

  it('sample mean and covariance of 20000 draws are θ and v²A⁻¹ within 4σ (factor from the library’s cholesky)', async () => {
    const arms = 2, d = 3, n = 20_000, v = 0.7, key = { seed: 3, step: 1 };
    const aInv = spd(arms, d, 61, 0.5);
    const theta = Float32Array.from({ length: arms * d }, (_, i) => Math.sin(i + 1));
    for (const backend of [backends().cpu, backends().gpu]) {
      const th = backend.tensor(theta, [arms, d]), inv = backend.tensor(aInv, [arms, d, d]);
      const { result: l, status } = cholesky(backend, inv);
      const out = posteriorDraws(backend, th, l, v, key, n);
      expect(out.shape).to.deep.equal([n, arms, d]);
      const [x] = await readAll(backend, out);
      expect(Array.from(await backend.read(status))).to.deep.equal([0, 0]);
      for (let a = 0; a < arms; a++) {
        const meanHat = new Float64Array(d), cov = new Float64Array(d * d);
        for (let s = 0; s < n; s++) for (let i = 0; i < d; i++) meanHat[i] = meanHat[i]! + x![(s * arms + a) * d + i]! / n;
        for (let s = 0; s < n; s++) {
          for (let i = 0; i < d; i++) {
            for (let j = 0; j < d; j++) cov[i * d + j] = cov[i * d + j]! + ((x![(s * arms + a) * d + i]! - meanHat[i]!) * (x![(s * arms + a) * d + j]! - meanHat[j]!)) / (n - 1);
          }
        }
        const sigma = (i: number, j: number): number => v * v * aInv[(a * d + i) * d + j]!;
        for (let i = 0; i < d; i++) {
          const where = `${backend.kind} arm ${a} component ${i}`;
          // Sample mean: standard error sqrt(Σ_ii/n).
          expect(Math.abs(meanHat[i]! - theta[a * d + i]!), `${where} mean`).to.be.at.most(4 * Math.sqrt(sigma(i, i) / n));
          // Sample covariance of Gaussian draws: variance (Σ_ii Σ_jj + Σ_ij²)/n.
          for (let j = 0; j < d; j++) {
            const se = Math.sqrt((sigma(i, i) * sigma(j, j) + sigma(i, j) ** 2) / n);
            expect(Math.abs(cov[i * d + j]! - sigma(i, j)), `${where},${j} covariance`).to.be.at.most(4 * se);
          }
        }
      }
      for (const t of [th, inv, l, status, out]) t.dispose();
    }
  });

  it('matches the twin elementwise (K = 3, d = 5 and K = 1, d = 1) and reads only the lower triangle', async () => {
    const { gpu, cpu } = backends();
    for (const [arms, d, draws] of [[3, 5, 7], [1, 1, 3]] as const) {
      const l = choleskyHost(spd(arms, d, 5 + d), arms, d);
      // Garbage above the diagonal must not matter.
      const lWithJunk = Float32Array.from(l, (x, i) => (i % d > Math.floor(i / d) % d ? 99 : x));
      const theta = Float32Array.from({ length: arms * d }, (_, i) => i - 2);
      const scale = -0.6, key = { seed: 77, step: 5 };
      const [onGpu, onCpu] = (await Promise.all([gpu, cpu].map(async (b) => {
        const th = b.tensor(theta, [arms, d]), f = b.tensor(lWithJunk, [arms, d, d]);
        const out = posteriorDraws(b, th, f, scale, key, draws);
        const [x] = await readAll(b, out);
        for (const t of [th, f, out]) t.dispose();
        return x!;
      }))) as [Float64Array, Float64Array];
      const z = new Float64Array(4);
      for (let n = 0; n < draws; n++) {
        for (let a = 0; a < arms; a++) {
          for (let i = 0; i < d; i++) {
            let want = 0, absSum = 0, absL = 0;
            for (let j = 0; j <= i; j++) {
              normalsFromBlock(philox4x32([key.step, a, n, j >>> 2], [key.seed, RANDOM_STREAMS.posteriorDraws]), z);
              const lij = Math.fround(l[(a * d + i) * d + j]!);
              want += lij * z[j & 3]!;
              absSum += Math.abs(lij * z[j & 3]!);
              absL += Math.abs(lij);
            }
            want = theta[a * d + i]! + scale * want;
            const idx = (n * arms + a) * d + i, where = `K=${arms} d=${d} draw ${n} arm ${a} component ${i}`;
            expect(Math.abs(onCpu[idx]! - want), `cpu ${where}`).to.be.at.most(1e-12 * (1 + absSum));
            const allowed = Math.abs(scale) * absL * NORMAL_ABS + (d + 3) * F32_EPS * (Math.abs(theta[a * d + i]!) + Math.abs(scale) * absSum);
            expect(Math.abs(onGpu[idx]! - onCpu[idx]!), `webgpu ${where}`).to.be.at.most(allowed);
          }
        }
      }
    }
  });

  it('refuses bad arguments with a BanditError', () => {
    const { gpu } = backends();
    const th = gpu.tensor(new Float32Array(6), [2, 3]), f = gpu.tensor(new Float32Array(18), [2, 3, 3]), fWrong = gpu.tensor(new Float32Array(9), [1, 3, 3]);
    const key = { seed: 0, step: 0 };
    expect(() => posteriorDraws(gpu, th, fWrong, 1, key, 1)).to.throw(BanditError, /factor must be 2×3×3/);
    expect(() => posteriorDraws(gpu, th, f, Infinity, key, 1)).to.throw(BanditError, /scale must be finite/);
    expect(() => posteriorDraws(gpu, th, f, 1, key, 0)).to.throw(BanditError, /draws must be an integer/);
    expect(() => posteriorDraws(gpu, th, f, 1, { seed: 1, step: -1 }, 1)).to.throw(BanditError, /key.step/);
    for (const t of [th, f, fWrong]) t.dispose();
  });
});
