import { decayFactors } from '../core/discount.js';
import type { MlpArgs, OpArgs, OpName, SamplingPolicy } from '../core/op-args.js';
import type { Tensor } from '../core/tensor.js';
import type { WasmHeap, WasmScratch } from './heap.js';
import type { WasmKernelName, WasmKernels } from './module.js';
import { armRuns, reorder, runSplit, splits } from './split.js';
import type { SplitPlan, WasmThreads } from './threads.js';
import { ptrOf } from './tensor.js';

/** What the native ops run on: the instance's kernels, its heap and the per-call scratch. */
export interface WasmContext {
  readonly k: WasmKernels;
  readonly heap: WasmHeap;
  readonly scratch: WasmScratch;
  /** The second thread, or null. */
  readonly threads: WasmThreads | null;
}

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
/** Multiply-adds of one row's forward pass. */
const weightsOf = (a: MlpArgs): number => a.layers.reduce((s, l) => s + l.in * l.out, 0);

/** A batch of `batch` entries of `bytes` each (one per shifted argument) split by entries: `count` is the batch argument. */
function byBatch(batch: number, count: number, shifts: readonly (readonly [index: number, bytes: number])[], perThread?: SplitPlan['perThread']): SplitPlan {
  return { total: batch, multiple: 1, count, shifts, ...(perThread ? { perThread } : {}) };
}

/** Where an arm update's staged pointers sit among its kernel's arguments. */
interface ArmSlots {
  readonly arms: number;
  readonly count: number;
  /** The row tensors' arguments (as `rows` lists them). */
  readonly rows: readonly number[];
  /** The per-row host arrays' arguments (as `values` lists them). */
  readonly values: readonly number[];
  /** A temporary of each thread's own. */
  readonly temp?: number;
}

/**
 * An update kernel over a list of rows (row u: matrix arms[u], row u of each of `rows` — a tensor of
 * `width` values a row, or null — and value u of each of `values`), updates of one arm in their order.
 * Stages the arms and values and runs the kernel on one thread, or over both cut at arm boundaries
 * (armRuns): the rows regrouped so each arm's rows are one run (the row tensors copied in that order
 * where they must move), so every matrix sees the same updates in the same order as on one thread.
 * `temp`: bytes of a temporary each thread needs.
 */
function armUpdate<N extends WasmKernelName>(c: WasmContext, name: N, arms: Int32Array, rows: readonly (readonly [Tensor | null, number])[],
  values: readonly Float32Array[], temp: number, work: number, slots: ArmSlots, args: (p: number[]) => Parameters<WasmKernels[N]>): void {
  const count = arms.length;
  const runs = splits(c.threads, work) ? armRuns(arms) : null, order = runs?.order ?? null;
  const parts = c.scratch.take([count * F, ...values.map(() => count * F), ...rows.map(([t, w]) => (order && t ? count * w * F : 0)), 2 * temp]);
  put(c.heap, parts[0]!, reorder(arms, order));
  values.forEach((v, i) => put(c.heap, parts[1 + i]!, reorder(v, order)));
  const rowPtrs = rows.map(([t, w], i) => {
    if (!t) return 0;
    if (!order) return ptrOf(t);
    const f = c.heap.f32, src = ptrOf(t) >> 2, dst = parts[1 + values.length + i]!;
    order.forEach((u, r) => f.copyWithin((dst >> 2) + r * w, src + u * w, src + (u + 1) * w));
    return dst;
  });
  const staged = [parts[0]!, ...values.map((_, i) => parts[1 + i]!), ...rowPtrs, parts[parts.length - 1]!];
  runSplit(c.k, c.threads, name, args(staged), work, () => runs && {
    total: count, multiple: 1, count: slots.count, starts: runs.starts,
    shifts: [[slots.arms, F], ...slots.values.map((i) => [i, F] as const), ...slots.rows.map((i, r) => [i, rows[r]![0] ? rows[r]![1] * F : 0] as const)],
    ...(slots.temp !== undefined ? { perThread: [[slots.temp, temp]] as const } : {}),
  });
}

const POLICY_CODES: Record<SamplingPolicy['kind'], number> = { greedy: 0, 'epsilon-greedy': 1, softmax: 2, squarecb: 3 };
function policyParameter(p: SamplingPolicy): number {
  switch (p.kind) {
    case 'greedy': return 0;
    case 'epsilon-greedy': return p.epsilon;
    case 'softmax': return p.temperature;
    case 'squarecb': return p.gamma;
  }
}

/** The MLP kernels' rows (from, count: arguments 5 and 6) cut into chunks. */
const byRows = (rows: number): SplitPlan => ({ total: rows, multiple: 1, count: 6, shifts: [[5, 1]] });

/** The op table of the kernels in wasm/*.c over one instance. */
export function nativeOps(c: WasmContext): NativeOps {
  const { k, heap, scratch } = c;
  const jacobian = (a: OpArgs['mlpJacobian']): void => {
    const deltas = unitsOf(a) * F;
    const net = stageNet(c, a, [a.rows * F, 2 * deltas]);
    const [fout, d] = net.parts;
    runSplit(k, c.threads, 'mlp_jacobian', [ptrOf(a.params), ptrOf(a.x), net.layers, a.layers.length, net.acts, 0, a.rows, ptrOf(a.out),
      a.paramCount, flag(a.forward), fout!, d!], a.rows * (a.paramCount + 2 * weightsOf(a)), () => ({ ...byRows(a.rows), perThread: [[11, deltas]] }));
  };
  return {
    // By batch entries, or (one entry, A not transposed: op(A)'s row i is A's) by rows of C.
    gemm: (g) => runSplit(k, c.threads, 'gemm', [ptrOf(g.a), ptrOf(g.b), ptrOf(g.c), g.batch, g.m, g.n, g.k, flag(g.transA), flag(g.transB),
      g.alpha, g.beta, g.strideA, g.strideB, g.strideC], g.batch * g.m * g.n * g.k, () => (g.batch > 1
      ? byBatch(g.batch, 3, [[0, g.strideA * F], [1, g.strideB * F], [2, g.strideC * F]])
      : g.transA ? null : { total: g.m, multiple: 1, count: 4, shifts: [[0, g.k * F], [2, g.n * F]] })),
    matVec: (g) => {
      const out = (g.trans ? g.cols : g.rows) * F;
      const [s] = scratch.take([2 * out]);
      runSplit(k, c.threads, 'mat_vec', [ptrOf(g.a), ptrOf(g.x), ptrOf(g.y), g.batch, g.rows, g.cols, flag(g.trans), g.alpha, g.beta, g.strideA,
        g.strideX, g.strideY, s!], g.batch * g.rows * g.cols, () => (g.batch > 1
        ? byBatch(g.batch, 3, [[0, g.strideA * F], [1, g.strideX * F], [2, g.strideY * F]], [[12, out]])
        : g.trans ? null : { total: g.rows, multiple: 1, count: 4, shifts: [[0, g.cols * F], [2, F]], perThread: [[12, out]] }));
    },
    quadForm: (a) => k.quad_form(ptrOf(a.x), ptrOf(a.m), ptrOf(a.out), a.rows, a.arms, a.d, flag(a.perArm)),
    // Chunks of the rows (a multiple of 4: the kernel takes rows four at a time) where there are
    // more rows than arms, else of the arms; every score is the same code on the same values.
    ucbScores: (a) => runSplit(k, c.threads, 'ucb_scores', [ptrOf(a.x), ptrOf(a.aInv), ptrOf(a.theta), ptrOf(a.out), a.rows, a.arms, a.d,
      flag(a.perArm), a.xArms, a.outCols, a.armOffset, a.alpha], a.rows * a.arms * a.d * a.d, () => (a.rows >= a.arms
      ? { total: a.rows, multiple: 4, count: 4, shifts: [[0, (a.perArm ? a.xArms : 1) * a.d * F], [3, a.outCols * F]] }
      : { total: a.arms, multiple: 1, count: 5, shifts: [[1, a.d * a.d * F], [2, a.d * F], [10, 1]] })),
    shermanMorrison: (a) => armUpdate(c, 'sherman_morrison', a.arms, [[a.x, a.d]], [], a.d * F, 2 * a.count * a.d * a.d,
      { arms: 2, count: 3, rows: [1], values: [], temp: 5 }, ([arms, x, v]) => [ptrOf(a.mats), x!, arms!, a.count, a.d, v!]),
    symRank1: (a) => armUpdate(c, 'sym_rank1', a.arms, [[a.x, a.d]], [], 0, a.count * a.d * a.d,
      { arms: 2, count: 3, rows: [1], values: [] }, ([arms, x]) => [ptrOf(a.mats), x!, arms!, a.count, a.d, a.alpha]),
    rowArgmax: (a) => k.row_argmax(ptrOf(a.s), ptrOf(a.out), a.rows, a.cols),
    cholesky: (a) => runSplit(k, c.threads, 'cholesky', [ptrOf(a.a), ptrOf(a.out), ptrOf(a.status), a.batch, a.d], (a.batch * a.d ** 3) / 3,
      () => byBatch(a.batch, 3, [[0, a.d * a.d * F], [1, a.d * a.d * F], [2, F]])),
    spdInverse: (a) => {
      const temp = 2 * a.d * a.d * F;
      const [s] = scratch.take([2 * temp]);
      runSplit(k, c.threads, 'spd_inverse', [ptrOf(a.a), ptrOf(a.out), ptrOf(a.status), a.batch, a.d, s!], a.batch * a.d ** 3,
        () => byBatch(a.batch, 3, [[0, a.d * a.d * F], [1, a.d * a.d * F], [2, F]], [[5, temp]]));
    },
    axpy: (a) => k.axpy(a.alpha, ptrOf(a.x), ptrOf(a.y), a.n),
    scale: (a) => k.scale(a.alpha, ptrOf(a.x), a.n),
    scatterAddScaled: (a) => armUpdate(c, 'scatter_add_scaled', a.arms, [[a.x, a.d]], [a.weights], 0, a.count * a.d,
      { arms: 2, count: 4, rows: [1], values: [3] }, ([arms, w, x]) => [ptrOf(a.b), x!, arms!, w!, a.count, a.d]),
    gatherMatVec: (a) => {
      const distinct = distinctArms(a.arms);
      const [arms] = scratch.take([distinct.length * F]);
      put(heap, arms!, distinct);
      runSplit(k, c.threads, 'gather_mat_vec', [ptrOf(a.m), ptrOf(a.v), ptrOf(a.out), arms!, distinct.length, a.d], distinct.length * a.d * a.d,
        () => byBatch(distinct.length, 4, [[3, F]]));
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
      const [p] = scratch.take([2 * a.d * F]);
      runSplit(k, c.threads, 'inverse_drift', [ptrOf(a.a), ptrOf(a.aInv), ptrOf(a.out), a.matrices, a.d, p!], a.matrices * a.d ** 3,
        () => byBatch(a.matrices, 3, [[0, a.d * a.d * F], [1, a.d * a.d * F], [2, F]], [[5, a.d * F]]));
    },
    accumulateOuter: (a) => armUpdate(c, 'accumulate_outer', a.arms, [[a.x, a.d], [a.z, a.width]], [a.weights], 0,
      4 * a.count * a.d * (a.outer ? a.width : 1), { arms: 4, count: 6, rows: [2, 3], values: [5] },
      ([arms, w, x, z]) => [ptrOf(a.hi), ptrOf(a.lo), x!, z!, arms!, w!, a.count, a.d, a.width, flag(a.outer)]),
    addAccurate: (a) => k.add_accurate(ptrOf(a.hi), ptrOf(a.lo), ptrOf(a.c), a.n),
    accurateResidual: (a) => {
      const m = a.d * a.d * F;
      runSplit(k, c.threads, 'accurate_residual', [ptrOf(a.aHi), ptrOf(a.aLo), ptrOf(a.aInv), ptrOrNull(a.aInvLo), ptrOrNull(a.r), ptrOf(a.norms),
        a.matrices, a.d], 2 * a.matrices * a.d ** 3,
      () => byBatch(a.matrices, 6, [[0, m], [1, m], [2, m], [3, a.aInvLo ? m : 0], [4, a.r ? m : 0], [5, 2 * F]]));
    },
    refineSolve: (a) => {
      const distinct = distinctArms(a.arms), temp = 2 * a.d * 8;
      const [arms, s] = scratch.take([distinct.length * F, 2 * temp]);
      put(heap, arms!, distinct);
      runSplit(k, c.threads, 'refine_solve', [ptrOf(a.aHi), ptrOf(a.aLo), ptrOf(a.bHi), ptrOf(a.bLo), ptrOf(a.aInv), ptrOf(a.theta), arms!,
        distinct.length, a.d, a.cols, a.iterations, flag(a.restart), s!], 4 * distinct.length * a.cols * a.iterations * a.d * a.d,
      () => byBatch(distinct.length, 7, [[6, F]], [[12, temp]]));
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
    // The MLP kernels take the first row (argument 5) and the rows (6): split by rows, each row the
    // same code on the same values (its forward pass, then its backward pass); deltas and h² are each thread's own.
    mlpForward: (a) => {
      const net = stageNet(c, a, []);
      runSplit(k, c.threads, 'mlp_forward', [ptrOf(a.params), ptrOf(a.x), net.layers, a.layers.length, net.acts, 0, a.rows, ptrOf(a.out)],
        a.rows * weightsOf(a), () => byRows(a.rows));
    },
    mlpJacobian: (a) => jacobian(a),
    // The same kernel: each row's forward pass before its backward pass gives the same values
    // (what the K-pass variant is on WebGPU, a cost comparison, does not exist here).
    mlpKPassJacobian: (a) => jacobian(a),
    mlpDiagonalBonus: (a) => {
      const widest = Math.max(...a.layers.map((l) => l.in)), deltas = unitsOf(a) * F;
      const net = stageNet(c, a, [a.paramCount * F, a.rows * F, 2 * deltas, 2 * widest * F]);
      const [zinv, fout, d, hsq] = net.parts;
      k.reciprocal(ptrOf(a.z), zinv!, a.paramCount);
      runSplit(k, c.threads, 'mlp_diagonal_bonus', [ptrOf(a.params), ptrOf(a.x), net.layers, a.layers.length, net.acts, 0, a.rows, zinv!,
        ptrOf(a.out), flag(a.forward), fout!, d!, hsq!], 2 * a.rows * weightsOf(a), () => ({ ...byRows(a.rows), perThread: [[11, deltas], [12, widest * F]] }));
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
