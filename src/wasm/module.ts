import kernelBytes from '../../wasm/kernels.wasm';
import { BackendError } from '../core/errors.js';

/**
 * The exports of wasm/*.c (built by build.mjs with clang's wasm32 target and lld, inlined in the
 * bundle): every pointer is a byte offset into `memory`, every count an i32, every f32 parameter
 * rounded as a GPU uniform is. The doc of each is beside its C source.
 */
export interface WasmKernels {
  readonly memory: WebAssembly.Memory;
  readonly __heap_base: WebAssembly.Global;
  gemm(a: number, b: number, c: number, batch: number, m: number, n: number, k: number, transA: number, transB: number,
    alpha: number, beta: number, strideA: number, strideB: number, strideC: number): void;
  mat_vec(a: number, x: number, y: number, batch: number, rows: number, cols: number, trans: number, alpha: number, beta: number,
    strideA: number, strideX: number, strideY: number, scratch: number): void;
  axpy(alpha: number, x: number, y: number, n: number): void;
  scale(alpha: number, x: number, n: number): void;
  quad_form(x: number, m: number, out: number, rows: number, arms: number, d: number, perArm: number): void;
  ucb_scores(x: number, m: number, theta: number, out: number, rows: number, arms: number, d: number, perArm: number,
    xArms: number, outCols: number, armOffset: number, alpha: number): void;
  sherman_morrison(mats: number, x: number, arms: number, count: number, d: number, v: number): void;
  sym_rank1(mats: number, x: number, arms: number, count: number, d: number, alpha: number): void;
  row_argmax(s: number, out: number, rows: number, cols: number): void;
  cholesky(a: number, l: number, status: number, batch: number, d: number): void;
  spd_inverse(a: number, x: number, status: number, batch: number, d: number, scratch: number): void;
  scatter_add_scaled(b: number, x: number, arms: number, w: number, count: number, d: number): void;
  gather_mat_vec(m: number, v: number, out: number, arms: number, count: number, d: number): void;
  discounted_update(a: number, b: number, x: number, arms: number, rewards: number, pre: number, post: number,
    count: number, d: number, matrices: number): void;
  inverse_drift(a: number, n: number, out: number, matrices: number, d: number, p: number): void;
  accumulate_outer(hi: number, lo: number, x: number, z: number, arms: number, weights: number, count: number, d: number, width: number,
    outer: number): void;
  add_accurate(hi: number, lo: number, c: number, n: number): void;
  accurate_residual(aHi: number, aLo: number, x: number, xLo: number, r: number, norms: number, matrices: number, d: number): void;
  refine_solve(aHi: number, aLo: number, bHi: number, bLo: number, x: number, theta: number, arms: number, count: number, d: number,
    cols: number, iterations: number, restart: number, scratch: number): void;
  hybrid_scores(x: number, z: number, m: number, theta: number, dMat: number, l: number, beta: number, out: number,
    rows: number, arms: number, d: number, k: number, xArms: number, outCols: number, armOffset: number, alpha: number, v: number): void;
  hybrid_arm_update(m: number, c: number, phi: number, xz: number, arms: number, rewards: number, w: number, rho: number,
    count: number, d: number, k: number, scratch: number): void;
  scatter_outer_add(m: number, x: number, z: number, arms: number, count: number, d: number, k: number): void;
  mlp_forward(theta: number, x: number, layers: number, L: number, acts: number, from: number, rows: number, out: number): void;
  mlp_jacobian(theta: number, x: number, layers: number, L: number, acts: number, from: number, rows: number, jac: number, p: number,
    forward: number, fout: number, deltas: number): void;
  reciprocal(z: number, zinv: number, p: number): void;
  mlp_diagonal_bonus(theta: number, x: number, layers: number, L: number, acts: number, from: number, rows: number, zinv: number,
    out: number, forward: number, fout: number, deltas: number, hsq: number): void;
  mlp_loss_gradient(theta: number, x: number, layers: number, L: number, rows: number, p: number, targets: number, logistic: number,
    scale: number, grad: number, lossOut: number, inputGrad: number, weights: number, scratch: number): void;
  optimizer_step(theta: number, g: number, m: number, v: number, anchor: number, adam: number, n: number, lr: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, eps: number, c1: number, c2: number, decay: number): void;
  gather_rows(src: number, idx: number, out: number, count: number, cols: number, srcRows: number, outCols: number, column: number): void;
  scatter_add_rows(rows: number, idx: number, target: number, count: number, cols: number, targetRows: number, rowCols: number,
    column: number, scale: number): void;
  confidence_scores(mean: number, w2: number, out: number, rows: number, scale: number): void;
  accumulate_squares(z: number, jac: number, rows: number, cols: number, scale: number): void;
  sample_arms(scores: number, eligible: number, eligibleStride: number, arms: number, props: number, status: number, rows: number,
    cols: number, k: number, slotStride: number, policy: number, param: number, seed: number, step: number,
    w: number, cand: number, taken: number): void;
  sample_scores(mean: number, w2: number, out: number, rows: number, cols: number, draws: number, scale: number, seed: number, step: number): void;
  thompson_propensities(mean: number, w2: number, eligible: number, eligibleStride: number, chosen: number, out: number,
    rows: number, cols: number, k: number, draws: number, scale: number, seed: number, step: number): void;
  posterior_draws(theta: number, l: number, out: number, arms: number, d: number, draws: number, scale: number,
    seed: number, step: number, z: number): void;
  /** 64·iters f32 FLOPs of independent SIMD multiply-add chains (the bench's calibration; wasm/calibrate.c). */
  calibrate_fma(iters: number, a: number, b: number): number;
}

/** The names of the kernels' function exports (what the export test walks). */
export type WasmKernelName = Exclude<keyof WasmKernels, 'memory' | '__heap_base'>;

/** The host's float64 Math functions the kernels import (see wasm/kernels.h). */
export const MATH_IMPORTS = { exp: Math.exp, log: Math.log, log1p: Math.log1p, cos: Math.cos, sin: Math.sin };

let compiled: Promise<WebAssembly.Module> | null = null;

/** The kernel module, compiled once per process (or page) from the bytes inlined in the bundle. */
export function kernelModule(): Promise<WebAssembly.Module> {
  compiled ??= WebAssembly.compile(kernelBytes as Uint8Array<ArrayBuffer>).catch((e: unknown) => {
    compiled = null;
    throw new BackendError(`wasm: this runtime cannot compile the kernels (WebAssembly with 128-bit SIMD is required): ${e instanceof Error ? e.message : String(e)}`);
  });
  return compiled;
}

/** A fresh instance, with its own memory: one per backend. */
export async function instantiateKernels(): Promise<WasmKernels> {
  if (typeof WebAssembly === 'undefined') throw new BackendError('wasm: this runtime has no WebAssembly');
  const instance = await WebAssembly.instantiate(await kernelModule(), { math: MATH_IMPORTS });
  return instance.exports as unknown as WasmKernels;
}

/** The names of the module's function exports, as the module itself lists them. */
export async function kernelExportNames(): Promise<string[]> {
  return WebAssembly.Module.exports(await kernelModule()).filter((e) => e.kind === 'function').map((e) => e.name);
}
