// The machine's limits, measured in the same run as the cases: the adapter's best copy bandwidth
// and FLOP rate (bench/calibrate.wgsl on the webgpu backend's own device), and the same two for
// JavaScript on this thread (what plain-JS peers and TF.js's cpu backend can reach at most). A
// case's bytes and FLOPs over its median time, divided by these, say how close it comes.
//
// GPU timing is wall clock around submit → onSubmittedWorkDone (SwiftShader has no timestamp
// queries), so each sample repeats the dispatch until it takes at least SAMPLE_MS: per-submit
// overhead then costs little of the rate.
import source from './calibrate.wgsl';
import { stats, type Stats } from './lib.js';

/** A measured rate: the best sample (the limit) and the median, per second; `unit` is 'GB/s' or 'GFLOP/s'. */
export interface Rate {
  readonly unit: 'GB/s' | 'GFLOP/s';
  readonly best: number;
  readonly median: number;
  readonly samples: number;
  /** What one sample did. */
  readonly detail: string;
}

export interface Calibration {
  readonly gpu?: { readonly copy: Rate; readonly fma: Rate; readonly ms: number } | { readonly error: string };
  readonly js: { readonly copy: Rate; readonly fma: Rate; readonly ms: number };
}

const SAMPLE_MS = 25;
const SAMPLES = 7;
const WG = 256;
/** 32 MiB each way: past every CPU cache here, and under the 128 MiB storage binding of SwiftShader. */
const COPY_BYTES = 32 * 1024 * 1024;
/** Invocations of the FMA kernel: enough workgroups to fill any GPU's cores. */
const FMA_WORKGROUPS = 4096;
/** vec4s an invocation of streamCopy copies (the shader's ROUNDS): 32 MiB is then 512 workgroups of 256. */
const COPY_ROUNDS = 16;

const rate = (unit: Rate['unit'], perSample: number, ms: readonly number[], detail: string): Rate => {
  const s: Stats = stats(ms);
  return { unit, best: perSample / (s.min * 1e6), median: perSample / (s.median * 1e6), samples: ms.length, detail };
};

/** The adapter's copy bandwidth and FLOP rate. */
export async function calibrateGpu(device: GPUDevice): Promise<{ copy: Rate; fma: Rate; ms: number }> {
  const started = performance.now();
  const module = device.createShaderModule({ label: 'bench calibration', code: source });
  const pipeline = (entryPoint: string, constants: Record<string, number>) => device.createComputePipeline({
    label: `bench ${entryPoint}`, layout: 'auto', compute: { module, entryPoint, constants: { WG, ...constants } },
  });
  const copyPipeline = pipeline('streamCopy', { ROUNDS: COPY_ROUNDS }), fmaPipeline = pipeline('fmaChains', {});
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC;
  const fmaInvocations = FMA_WORKGROUPS * WG;
  const src = device.createBuffer({ label: 'bench calibration src', size: COPY_BYTES, usage: storage });
  const dst = device.createBuffer({ label: 'bench calibration dst', size: Math.max(COPY_BYTES, fmaInvocations * 16), usage: storage });
  const copyUniform = device.createBuffer({ label: 'bench calibration copy params', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const fmaUniform = device.createBuffer({ label: 'bench calibration fma params', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const writeParams = (buffer: GPUBuffer, n4: number, iters: number) => {
    const bytes = new ArrayBuffer(16), view = new DataView(bytes);
    view.setUint32(0, n4, true);
    view.setUint32(4, iters, true);
    view.setFloat32(8, 0.999, true);
    view.setFloat32(12, 1e-3, true);
    device.queue.writeBuffer(buffer, 0, bytes);
  };
  try {
    const n4 = COPY_BYTES / 16;
    const copyWorkgroups = Math.ceil(n4 / (WG * COPY_ROUNDS));
    writeParams(copyUniform, n4, 0);
    const copyGroup = device.createBindGroup({
      layout: copyPipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: copyUniform } }, { binding: 1, resource: { buffer: src } }, { binding: 2, resource: { buffer: dst, size: COPY_BYTES } }],
    });
    const fmaGroup = device.createBindGroup({
      layout: fmaPipeline.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: fmaUniform } }, { binding: 2, resource: { buffer: dst } }],
    });
    const run = async (pipe: GPUComputePipeline, group: GPUBindGroup, workgroups: number, repeats: number): Promise<number> => {
      const encoder = device.createCommandEncoder({ label: 'bench calibration' });
      for (let r = 0; r < repeats; r++) {
        const pass = encoder.beginComputePass();
        pass.setPipeline(pipe);
        pass.setBindGroup(0, group);
        pass.dispatchWorkgroups(workgroups);
        pass.end();
      }
      const t = performance.now();
      device.queue.submit([encoder.finish()]);
      await device.queue.onSubmittedWorkDone();
      return performance.now() - t;
    };
    // Doubles the repeats until one sample takes SAMPLE_MS, then takes SAMPLES samples.
    const measure = async (pipe: GPUComputePipeline, group: GPUBindGroup, workgroups: number): Promise<{ repeats: number; ms: number[] }> => {
      await run(pipe, group, workgroups, 1);
      let repeats = 1;
      while ((await run(pipe, group, workgroups, repeats)) < SAMPLE_MS && repeats < 4096) repeats *= 2;
      const ms: number[] = [];
      for (let i = 0; i < SAMPLES; i++) ms.push(await run(pipe, group, workgroups, repeats));
      return { repeats, ms };
    };
    const copy = await measure(copyPipeline, copyGroup, copyWorkgroups);
    // The FMA kernel's length grows with `iters` too: fewer, longer dispatches where the adapter is slow.
    let iters = 16;
    writeParams(fmaUniform, fmaInvocations, iters);
    while (iters < 4096 && (await run(fmaPipeline, fmaGroup, FMA_WORKGROUPS, 1)) < SAMPLE_MS / 4) {
      iters *= 2;
      writeParams(fmaUniform, fmaInvocations, iters);
    }
    const fma = await measure(fmaPipeline, fmaGroup, FMA_WORKGROUPS);
    const fmaFlops = fmaInvocations * iters * 8 * 4 * 2;
    return {
      copy: rate('GB/s', 2 * COPY_BYTES * copy.repeats, copy.ms,
        `streamCopy of ${COPY_BYTES / 2 ** 20} MiB (read + write counted), ${copy.repeats} dispatches a submit, ${copyWorkgroups} workgroups of ${WG} × ${COPY_ROUNDS} vec4s`),
      fma: rate('GFLOP/s', fmaFlops * fma.repeats, fma.ms,
        `fmaChains: ${fmaInvocations} invocations × ${iters} rounds × 8 vec4 fma (64 FLOPs a round), ${fma.repeats} dispatches a submit`),
      ms: performance.now() - started,
    };
  } finally {
    for (const b of [src, dst, copyUniform, fmaUniform]) b.destroy();
  }
}

/** One JS thread's copy bandwidth (TypedArray.set) and float64 FLOP rate (8 independent multiply-add chains). */
export function calibrateJs(): { copy: Rate; fma: Rate; ms: number } {
  const started = performance.now();
  const n = COPY_BYTES / 8;
  const a = new Float64Array(n).fill(1), b = new Float64Array(n);
  const copyMs: number[] = [];
  b.set(a);
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    b.set(a);
    copyMs.push(performance.now() - t);
  }
  const chains = (iters: number, m: number, c: number): number => {
    let a0 = 0.1, a1 = 0.2, a2 = 0.3, a3 = 0.4, a4 = 0.5, a5 = 0.6, a6 = 0.7, a7 = 0.8;
    for (let i = 0; i < iters; i++) {
      a0 = a0 * m + c; a1 = a1 * m + c; a2 = a2 * m + c; a3 = a3 * m + c;
      a4 = a4 * m + c; a5 = a5 * m + c; a6 = a6 * m + c; a7 = a7 * m + c;
    }
    return a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7;
  };
  let iters = 1 << 16, sink = 0;
  for (;;) {
    const t = performance.now();
    sink += chains(iters, 0.999, 1e-3);
    if (performance.now() - t >= SAMPLE_MS || iters >= 1 << 28) break;
    iters *= 2;
  }
  const fmaMs: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    const t = performance.now();
    sink += chains(iters, 0.999, 1e-3);
    fmaMs.push(performance.now() - t);
  }
  if (!Number.isFinite(sink)) throw new Error('calibrateJs: the chains overflowed');
  return {
    copy: rate('GB/s', 2 * COPY_BYTES, copyMs, `Float64Array.set of ${COPY_BYTES / 2 ** 20} MiB (read + write counted)`),
    fma: rate('GFLOP/s', iters * 16, fmaMs, `${iters} rounds of 8 float64 multiply-add chains (16 FLOPs a round), one thread`),
    ms: performance.now() - started,
  };
}
