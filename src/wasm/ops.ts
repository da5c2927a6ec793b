import { decayFactors } from '../core/discount.js';
import type { MlpArgs, OpArgs, OpName, SamplingPolicy } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { WasmHeap, WasmScratch } from './heap.js';
import type { WasmKernels } from './module.js';
import type { WasmThreads } from './threads.js';
import { ptrOf } from './tensor.js';

/** What the native ops run on: the instance's kernels, its heap and the per-call scratch. */
export interface WasmContext {
  readonly k: WasmKernels;
  readonly heap: WasmHeap;
  readonly scratch: WasmScratch;
  /** The second thread, or null. */
  readonly threads: WasmThreads | null;
}

/**
 * A call splits across the two threads from this many multiply-adds (rows·arms·d² for the UCB
 * scores): waking the worker and waiting for it costs some microseconds (tens on a loaded
 * machine), about what one thread does in 2¹⁹ multiply-adds at ~15 GFLOP/s.
 */
export const SPLIT_MIN_WORK = 2 ** 19;

/** Ops with a kernel in wasm/*.c; anything else in the registry is served by the twin adapter (twin.ts). */
export type NativeOps = { readonly [K in OpName]?: (args: OpArgs[K]) => void };

/** The most layers the MLP kernels take (their per-layer offsets live on the C stack); deeper nets go to the twin adapter. */
export const MAX_NATIVE_LAYERS = 64;

const F = 4;
const flag = (b: boolean): number => (b ? 1 : 0);
const ptrOrNull = (t: Tensor | null): number => (t ? ptrOf(t) : 0);

/** Host arrays copied into scratch parts taken by the caller (after the take, so no growth moves them). */
function put(heap: WasmHeap, at: number, data: Int32Array | Float32Array): void {
  if (data instanceof Int32Array) heap.i32.set(data, at >> 2);
  else heap.f32.set(data, at >> 2);
}

/** The distinct arms of `arms` in first-seen order (`arms` itself when it has one: a round's update). */
function distinctArms(arms: Int32Array): Int32Array {
  return arms.length < 2 ? arms : Int32Array.from(new Set(arms));
}

/** An index list: a host Int32Array staged into `at`, or the i32 tensor's own memory. */
function indexPointer(heap: WasmHeap, indices: Tensor | Int32Array, at: number): number {
  if (!(indices instanceof Int32Array)) return ptrOf(indices);
  put(heap, at, indices);
  return at;
}

/** The MLP's layer table (4 i32 a layer) and activation pointers, staged; plus the extra parts asked for. */
function stageNet(c: WasmContext, a: MlpArgs, extra: readonly number[]): { layers: number; acts: number; parts: number[] } {
  const L = a.layers.length;
  const [layers, acts, ...parts] = c.scratch.take([L * 4 * F, Math.max(L - 1, 1) * F, ...extra]);
  const table = new Int32Array(L * 4);
  a.layers.forEach((l, i) => table.set([l.in, l.out, l.weightOffset, l.biasOffset], i * 4));
  put(c.heap, layers!, table);
  put(c.heap, acts!, Int32Array.from(a.activations, ptrOf));
  return { layers: layers!, acts: acts!, parts };
}

const unitsOf = (a: MlpArgs): number => a.layers.reduce((s, l) => s + l.out, 0);

const POLICY_CODES: Record<SamplingPolicy['kind'], number> = { greedy: 0, 'epsilon-greedy': 1, softmax: 2, squarecb: 3 };
function policyParameter(p: SamplingPolicy): number {
  switch (p.kind) {
    case 'greedy': return 0;
    case 'epsilon-greedy': return p.epsilon;
    case 'softmax': return p.temperature;
    case 'squarecb': return p.gamma;
  }
}

/** The op table of the kernels in wasm/*.c over one instance. */
export function nativeOps(c: WasmContext): NativeOps {
  const { k, heap, scratch } = c;
  return {
    gemm: (g) => k.gemm(ptrOf(g.a), ptrOf(g.b), ptrOf(g.c), g.batch, g.m, g.n, g.k, flag(g.transA), flag(g.transB), g.alpha, g.beta,
      g.strideA, g.strideB, g.strideC),
    matVec: (g) => {
      const [s] = scratch.take([(g.trans ? g.cols : g.rows) * F]);
      k.mat_vec(ptrOf(g.a), ptrOf(g.x), ptrOf(g.y), g.batch, g.rows, g.cols, flag(g.trans), g.alpha, g.beta, g.strideA, g.strideX, g.strideY, s!);
    },
    quadForm: (a) => k.quad_form(ptrOf(a.x), ptrOf(a.m), ptrOf(a.out), a.rows, a.arms, a.d, flag(a.perArm)),
    ucbScores: (a) => {
      const args = [ptrOf(a.x), ptrOf(a.aInv), ptrOf(a.theta), ptrOf(a.out), a.rows, a.arms, a.d, flag(a.perArm), a.xArms, a.outCols, a.armOffset, a.alpha];
      if (!c.threads || a.rows * a.arms * a.d * a.d < SPLIT_MIN_WORK) {
        k.ucb_scores(...(args as Parameters<WasmKernels['ucb_scores']>));
        return;
      }
      // Chunks of the rows (a multiple of 4: the kernel takes rows four at a time) where there are
      // more rows than arms, else of the arms; every score is the same code on the same values.
      const d = a.d;
      c.threads.split('ucb_scores', args, a.rows >= a.arms
        ? { total: a.rows, multiple: 4, count: 4, shifts: [[0, (a.perArm ? a.xArms : 1) * d * F], [3, a.outCols * F]] }
        : { total: a.arms, multiple: 1, count: 5, shifts: [[1, d * d * F], [2, d * F], [10, 1]] });
    },
    shermanMorrison: (a) => {
      const [arms, v] = scratch.take([a.count * F, a.d * F]);
      put(heap, arms!, a.arms);
      k.sherman_morrison(ptrOf(a.mats), ptrOf(a.x), arms!, a.count, a.d, v!);
    },
    symRank1: (a) => {
      const [arms] = scratch.take([a.count * F]);
      put(heap, arms!, a.arms);
      k.sym_rank1(ptrOf(a.mats), ptrOf(a.x), arms!, a.count, a.d, a.alpha);
    },
    rowArgmax: (a) => k.row_argmax(ptrOf(a.s), ptrOf(a.out), a.rows, a.cols),
    cholesky: (a) => k.cholesky(ptrOf(a.a), ptrOf(a.out), ptrOf(a.status), a.batch, a.d),
    spdInverse: (a) => {
      const [s] = scratch.take([2 * a.d * a.d * F]);
      k.spd_inverse(ptrOf(a.a), ptrOf(a.out), ptrOf(a.status), a.batch, a.d, s!);
    },
    axpy: (a) => k.axpy(a.alpha, ptrOf(a.x), ptrOf(a.y), a.n),
    scale: (a) => k.scale(a.alpha, ptrOf(a.x), a.n),
    scatterAddScaled: (a) => {
      const [arms, w] = scratch.take([a.count * F, a.count * F]);
      put(heap, arms!, a.arms);
      put(heap, w!, a.weights);
      k.scatter_add_scaled(ptrOf(a.b), ptrOf(a.x), arms!, w!, a.count, a.d);
    },
    gatherMatVec: (a) => {
      const distinct = distinctArms(a.arms);
      const [arms] = scratch.take([distinct.length * F]);
      put(heap, arms!, distinct);
      k.gather_mat_vec(ptrOf(a.m), ptrOf(a.v), ptrOf(a.out), arms!, distinct.length, a.d);
    },
    discountedUpdate: (a) => {
      // The factors in float64 as the twin forms them, rounded once (as the WebGPU uniforms are).
      const pre = new Float32Array(2 * a.count), post = new Float32Array(2 * a.matrices);
      const last = new Int32Array(a.matrices).fill(-1);
      for (let u = 0; u < a.count; u++) {
        const arm = a.arms[u]!;
        if (arm < 0) continue;
        pre.set(decayFactors(a.gamma, a.lambda, u - last[arm]!), 2 * u);
        last[arm] = u;
      }
      for (let m = 0; m < a.matrices; m++) post.set(decayFactors(a.gamma, a.lambda, a.count - 1 - last[m]!), 2 * m);
      const [arms, rewards, preAt, postAt] = scratch.take([a.count * F, a.count * F, pre.length * F, post.length * F]);
      put(heap, arms!, a.arms);
      put(heap, rewards!, a.rewards);
      put(heap, preAt!, pre);
      put(heap, postAt!, post);
      k.discounted_update(ptrOf(a.a), ptrOf(a.b), ptrOf(a.x), arms!, rewards!, preAt!, postAt!, a.count, a.d, a.matrices);
    },
    inverseDrift: (a) => {
      const [p] = scratch.take([a.d * F]);
      k.inverse_drift(ptrOf(a.a), ptrOf(a.aInv), ptrOf(a.out), a.matrices, a.d, p!);
    },
    accumulateOuter: (a) => {
      const [arms, w] = scratch.take([a.count * F, a.count * F]);
      put(heap, arms!, a.arms);
      put(heap, w!, a.weights);
      k.accumulate_outer(ptrOf(a.hi), ptrOf(a.lo), ptrOf(a.x), ptrOrNull(a.z), arms!, w!, a.count, a.d, a.width, flag(a.outer));
    },
    addAccurate: (a) => k.add_accurate(ptrOf(a.hi), ptrOf(a.lo), ptrOf(a.c), a.n),
    accurateResidual: (a) =>
      k.accurate_residual(ptrOf(a.aHi), ptrOf(a.aLo), ptrOf(a.aInv), ptrOrNull(a.aInvLo), ptrOrNull(a.r), ptrOf(a.norms), a.matrices, a.d),
    refineSolve: (a) => {
      const distinct = distinctArms(a.arms);
      const [arms, s] = scratch.take([distinct.length * F, 2 * a.d * 8]);
      put(heap, arms!, distinct);
      k.refine_solve(ptrOf(a.aHi), ptrOf(a.aLo), ptrOf(a.bHi), ptrOf(a.bLo), ptrOf(a.aInv), ptrOf(a.theta), arms!, distinct.length, a.d,
        a.cols, a.iterations, flag(a.restart), s!);
    },
    hybridScores: (a) => {
      const [v] = scratch.take([a.k * F]);
      k.hybrid_scores(ptrOf(a.x), ptrOf(a.z), ptrOf(a.aInv), ptrOf(a.theta), ptrOf(a.dMat), ptrOf(a.l), ptrOf(a.beta), ptrOf(a.out),
        a.rows, a.arms, a.d, a.k, a.xArms, a.outCols, a.armOffset, a.alpha, v!);
    },
    hybridArmUpdate: (a) => {
      const [arms, rewards, s] = scratch.take([a.count * F, a.count * F, (a.d + a.k) * F]);
      put(heap, arms!, a.arms);
      put(heap, rewards!, a.rewards);
      k.hybrid_arm_update(ptrOf(a.aInv), ptrOf(a.c), ptrOf(a.phi), ptrOf(a.xz), arms!, rewards!, ptrOf(a.w), ptrOf(a.rho), a.count, a.d, a.k, s!);
    },
    scatterOuterAdd: (a) => {
      const [arms] = scratch.take([a.count * F]);
      put(heap, arms!, a.arms);
      k.scatter_outer_add(ptrOf(a.m), ptrOf(a.x), ptrOf(a.z), arms!, a.count, a.d, a.k);
    },
    mlpForward: (a) => {
      const net = stageNet(c, a, []);
      k.mlp_forward(ptrOf(a.params), ptrOf(a.x), net.layers, a.layers.length, net.acts, a.rows, ptrOf(a.out));
    },
    mlpJacobian: (a) => {
      const net = stageNet(c, a, [(a.rows + unitsOf(a)) * F]);
      k.mlp_jacobian(ptrOf(a.params), ptrOf(a.x), net.layers, a.layers.length, net.acts, a.rows, ptrOf(a.out), a.paramCount, flag(a.forward), net.parts[0]!);
    },
    // The same kernel: each row's forward pass before its backward pass gives the same values
    // (what the K-pass variant is on WebGPU, a cost comparison, does not exist here).
    mlpKPassJacobian: (a) => {
      const net = stageNet(c, a, [(a.rows + unitsOf(a)) * F]);
      k.mlp_jacobian(ptrOf(a.params), ptrOf(a.x), net.layers, a.layers.length, net.acts, a.rows, ptrOf(a.out), a.paramCount, flag(a.forward), net.parts[0]!);
    },
    mlpDiagonalBonus: (a) => {
      const widest = Math.max(...a.layers.map((l) => l.in));
      const net = stageNet(c, a, [a.paramCount * F, (a.rows + unitsOf(a)) * F, widest * F]);
      const [zinv, s, hsq] = net.parts;
      k.reciprocal(ptrOf(a.z), zinv!, a.paramCount);
      k.mlp_diagonal_bonus(ptrOf(a.params), ptrOf(a.x), net.layers, a.layers.length, net.acts, a.rows, zinv!, ptrOf(a.out), flag(a.forward), s!, hsq!);
    },
    mlpLossGradient: (a) => {
      const inputs = a.layers.reduce((s, l) => s + l.in, 0);
      const net = stageNet(c, a, [(inputs + unitsOf(a)) * F]);
      k.mlp_loss_gradient(ptrOf(a.params), ptrOf(a.x), net.layers, a.layers.length, a.rows, a.paramCount, ptrOf(a.targets),
        flag(a.loss === 'logistic'), a.scale, ptrOf(a.grad), ptrOrNull(a.lossOut), ptrOrNull(a.inputGrad), ptrOrNull(a.weights), net.parts[0]!);
    },
    optimizerStep: (a) => {
      const c1 = 1 / (1 - a.beta1 ** a.step), c2 = 1 / (1 - a.beta2 ** a.step);
      k.optimizer_step(ptrOf(a.params), ptrOf(a.grad), ptrOrNull(a.m), ptrOrNull(a.v), ptrOrNull(a.anchor), flag(a.kind === 'adam'), a.n,
        a.lr, a.beta1, 1 - a.beta1, a.beta2, 1 - a.beta2, a.eps, c1, c2, a.decay);
    },
    gatherRows: (a) => {
      const [at] = scratch.take([a.indices instanceof Int32Array ? a.count * F : 0]);
      k.gather_rows(ptrOf(a.src), indexPointer(heap, a.indices, at!), ptrOf(a.out), a.count, a.cols, a.srcRows, a.outCols, a.column);
    },
    scatterAddRows: (a) => {
      const [at] = scratch.take([a.indices instanceof Int32Array ? a.count * F : 0]);
      k.scatter_add_rows(ptrOf(a.rows), indexPointer(heap, a.indices, at!), ptrOf(a.target), a.count, a.cols, a.targetRows, a.rowCols, a.column, a.scale);
    },
    confidenceScores: (a) => k.confidence_scores(ptrOf(a.mean), ptrOf(a.width2), ptrOf(a.out), a.rows, a.scale),
    accumulateSquares: (a) => k.accumulate_squares(ptrOf(a.z), ptrOf(a.jac), a.rows, a.cols, a.scale),
    sampleArms: (a) => {
      const [w, cand, taken] = scratch.take([a.cols * 8, a.cols * F, a.cols]);
      k.sample_arms(ptrOf(a.scores), ptrOrNull(a.eligible), a.eligibleStride, ptrOf(a.arms), ptrOf(a.propensities), ptrOf(a.status),
        a.rows, a.cols, a.k, a.slotStride, POLICY_CODES[a.policy.kind], policyParameter(a.policy), a.seed, a.step, w!, cand!, taken!);
    },
    sampleScores: (a) => k.sample_scores(ptrOf(a.mean), ptrOf(a.width2), ptrOf(a.out), a.rows, a.cols, a.draws, a.scale, a.seed, a.step),
    thompsonPropensities: (a) => k.thompson_propensities(ptrOf(a.mean), ptrOf(a.width2), ptrOrNull(a.eligible), a.eligibleStride, ptrOf(a.chosen),
      ptrOf(a.out), a.rows, a.cols, a.k, a.draws, a.scale, a.seed, a.step),
    posteriorDraws: (a) => {
      const [z] = scratch.take([Math.ceil(a.d / 4) * 4 * 8]);
      k.posterior_draws(ptrOf(a.theta), ptrOf(a.factor), ptrOf(a.out), a.arms, a.d, a.draws, a.scale, a.seed, a.step, z!);
    },
  };
}
