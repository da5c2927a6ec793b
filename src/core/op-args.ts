import type { Tensor } from './tensor.js';

// Normalised arguments of each op, checked by the public functions in src/ops before they reach
// a backend. Strides are in elements; a stride of 0 broadcasts one matrix over the batch.

export interface GemmArgs {
  readonly a: Tensor; readonly b: Tensor; readonly c: Tensor;
  readonly batch: number; readonly m: number; readonly n: number; readonly k: number;
  readonly transA: boolean; readonly transB: boolean;
  readonly alpha: number; readonly beta: number;
  readonly strideA: number; readonly strideB: number; readonly strideC: number;
}

export interface MatVecArgs {
  /** A is stored rows × cols; y = α·op(A)·x + β·y with op(A) = Aᵀ when trans. */
  readonly a: Tensor; readonly x: Tensor; readonly y: Tensor;
  readonly batch: number; readonly rows: number; readonly cols: number;
  readonly trans: boolean; readonly alpha: number; readonly beta: number;
  readonly strideA: number; readonly strideX: number; readonly strideY: number;
}

export interface QuadFormArgs {
  /** x: B×d (shared) or B×K×d (perArm); m: K×d×d; out: B×K with out[i,k] = xᵀ M_k x. */
  readonly x: Tensor; readonly m: Tensor; readonly out: Tensor;
  readonly rows: number; readonly arms: number; readonly d: number; readonly perArm: boolean;
}

export interface Rank1Args {
  /** mats: K×d×d; x: U×d; arms: U arm indices in 0..K-1, applied in order within an arm. */
  readonly mats: Tensor; readonly x: Tensor; readonly arms: Int32Array;
  readonly count: number; readonly d: number; readonly matrices: number;
  /** For `symRank1Update`: M_k += alpha·x xᵀ. */
  readonly alpha: number;
}

export interface ArgmaxArgs {
  readonly s: Tensor; readonly out: Tensor; readonly rows: number; readonly cols: number;
}

export interface FactorArgs {
  /** a: batch×d×d symmetric positive definite; out: batch×d×d; status: batch i32. */
  readonly a: Tensor; readonly out: Tensor; readonly status: Tensor;
  readonly batch: number; readonly d: number;
}

export interface UcbScoresArgs {
  /**
   * x: B×d (shared) or B×Ktotal×d (perArm); aInv: K×d×d; theta: K×d; out: B×outCols. Writes
   * out[i, armOffset + k] = θ_kᵀx + α·sqrt(max(xᵀA⁻¹_k x, 0)) (NaN where the form is NaN).
   */
  readonly x: Tensor; readonly aInv: Tensor; readonly theta: Tensor; readonly out: Tensor;
  readonly rows: number; readonly arms: number; readonly d: number; readonly perArm: boolean;
  /** Arms of x's middle axis (perArm only; else 0). */
  readonly xArms: number;
  readonly outCols: number; readonly armOffset: number; readonly alpha: number;
}

export interface ScatterAddArgs {
  /** b: K×d; x: U×d; b[arms[u]] += weights[u]·x_u for u in order. */
  readonly b: Tensor; readonly x: Tensor; readonly arms: Int32Array; readonly weights: Float32Array;
  readonly count: number; readonly d: number; readonly vectors: number;
}

export interface GatherMatVecArgs {
  /** m: K×d×d; v, out: K×d; out_k = M_k v_k for each distinct k of `arms`. */
  readonly m: Tensor; readonly v: Tensor; readonly out: Tensor; readonly arms: Int32Array;
  readonly d: number; readonly matrices: number;
}

export interface DiscountedUpdateArgs {
  /** a: K×d×d; b: K×d; x: U×d; rows are consecutive steps (see discountedUpdate). */
  readonly a: Tensor; readonly b: Tensor; readonly x: Tensor;
  readonly arms: Int32Array; readonly rewards: Float32Array;
  readonly count: number; readonly d: number; readonly matrices: number;
  readonly gamma: number; readonly lambda: number;
}

export interface DriftArgs {
  /** a, aInv: K×d×d; out: K, out_k = ‖A_k·A⁻¹_k − I‖∞. */
  readonly a: Tensor; readonly aInv: Tensor; readonly out: Tensor;
  readonly matrices: number; readonly d: number;
}

export interface AccumulateArgs {
  /**
   * hi, lo: K×d×d (`width` d, z null), K×d×c (z: U×c, `width` c) or K×d (`width` 1, z null), one
   * float-float value hi + lo an element; x: U×d; weights: U. For u in order, k = arms[u]:
   * M_k += w_u·x_u x_uᵀ, M_k += w_u·x_u z_uᵀ or v_k += w_u·x_u (`outer` false; said apart from
   * a d×1 or 1×1 matrix, whose width is 1 too).
   */
  readonly hi: Tensor; readonly lo: Tensor; readonly x: Tensor; readonly z: Tensor | null; readonly arms: Int32Array; readonly weights: Float32Array;
  readonly count: number; readonly d: number; readonly width: number; readonly outer: boolean; readonly matrices: number;
}

export interface ResidualArgs {
  /**
   * aHi, aLo: K×d×d float-float A; aInv: K×d×d (X), aInvLo: its lo part or null (X f32);
   * r: K×d×d ← I − A·X, or null (only the norms); norms: K×2, norms[k] = [‖R_k‖∞, ‖ |A_k|·|X_k| ‖∞]
   * (zeros before the op).
   */
  readonly aHi: Tensor; readonly aLo: Tensor; readonly aInv: Tensor; readonly aInvLo: Tensor | null; readonly r: Tensor | null; readonly norms: Tensor;
  readonly matrices: number; readonly d: number;
}

export interface AddAccurateArgs {
  /** hi, lo: n values, float-float; c: n values. (hi, lo) ← hi + lo + c, renormalised. */
  readonly hi: Tensor; readonly lo: Tensor; readonly c: Tensor; readonly n: number;
}

export interface RefineSolveArgs {
  /**
   * aHi, aLo: K×d×d and bHi, bLo: K×d (cols 1) or K×d×cols float-float; aInv: K×d×d; theta: the
   * shape of bHi. For each (distinct) k of `arms`, each column: θ_k ← 0 when `restart`, then
   * `iterations` times θ_k += X_k (b_k − A_k θ_k).
   */
  readonly aHi: Tensor; readonly aLo: Tensor; readonly bHi: Tensor; readonly bLo: Tensor;
  readonly aInv: Tensor; readonly theta: Tensor; readonly arms: Int32Array;
  readonly d: number; readonly cols: number; readonly matrices: number; readonly iterations: number; readonly restart: boolean;
}

export interface HybridScoresArgs {
  /**
   * x: B×Ktotal×d and z: B×Ktotal×k (each row's per-arm and shared features of every arm);
   * aInv: K×d×d; theta: K×d; dMat: K×d×k; l: k×k lower triangular (zeros above the diagonal)
   * with A0⁻¹ = L Lᵀ; beta: k; out: B×outCols. Writes out[i, armOffset + a] =
   * θ_aᵀx + βᵀz + α·sqrt(max(xᵀA⁻¹_a x + ‖Lᵀz − D_aᵀx‖², 0)) (NaN where the form is NaN).
   */
  readonly x: Tensor; readonly z: Tensor; readonly aInv: Tensor; readonly theta: Tensor; readonly dMat: Tensor;
  readonly l: Tensor; readonly beta: Tensor; readonly out: Tensor;
  readonly rows: number; readonly arms: number; readonly d: number; readonly k: number;
  /** Arms of x's and z's middle axis. */
  readonly xArms: number;
  readonly outCols: number; readonly armOffset: number; readonly alpha: number;
}

export interface HybridArmUpdateArgs {
  /**
   * aInv: K×d×d, c: K×d×k, phi: K×d (A⁻¹, A⁻¹B, A⁻¹b of each arm); xz: U×(d+k), rows [x | z];
   * arms: U indices; rewards: U; w: U×k, rho: U (written by row). See hybridArmUpdate.
   */
  readonly aInv: Tensor; readonly c: Tensor; readonly phi: Tensor; readonly xz: Tensor;
  readonly arms: Int32Array; readonly rewards: Float32Array; readonly w: Tensor; readonly rho: Tensor;
  readonly count: number; readonly d: number; readonly k: number; readonly matrices: number;
}

export interface OuterAddArgs {
  /** m: K×d×k; x: U×d; z: U×k; m[arms[u]] += x_u z_uᵀ in order. */
  readonly m: Tensor; readonly x: Tensor; readonly z: Tensor; readonly arms: Int32Array;
  readonly count: number; readonly d: number; readonly k: number; readonly matrices: number;
}

export interface MlpLayer {
  /** Inputs n_{l−1} and units n_l of layer l; W_l at θ[weightOffset …] (n_l × n_{l−1}, row-major), c_l at θ[biasOffset …]. */
  readonly in: number; readonly out: number; readonly weightOffset: number; readonly biasOffset: number;
}

export interface MlpArgs {
  /**
   * params: θ, paramCount values laid out by `layers` (see mlpLayout); x: rows×dim;
   * activations: h_1 … h_{L−1}, each rows×n_l (written by mlpForward; read by the others
   * unless `forward`, which recomputes them first).
   */
  readonly params: Tensor; readonly x: Tensor; readonly rows: number;
  readonly layers: readonly MlpLayer[]; readonly paramCount: number;
  readonly activations: readonly Tensor[];
}

export interface MlpForwardArgs extends MlpArgs {
  /** rows outputs f(x_n; θ). */
  readonly out: Tensor;
}

export interface MlpGradientArgs extends MlpArgs {
  /** rows×paramCount (mlpJacobian, mlpKPassJacobian) or rows (mlpDiagonalBonus). */
  readonly out: Tensor;
  /** Run the forward pass into `activations` first (false: they hold this x and θ already). */
  readonly forward: boolean;
}

export interface MlpBonusArgs extends MlpGradientArgs {
  /** The diagonal of Z, paramCount values > 0. */
  readonly z: Tensor;
}

export interface ConfidenceArgs {
  /** out[n] = mean[n] + scale·sqrt(max(width2[n], 0)) for n < rows. */
  readonly mean: Tensor; readonly width2: Tensor; readonly out: Tensor; readonly rows: number; readonly scale: number;
}

export interface SquaresArgs {
  /** z[q] += scale·Σ_n jac[n, q]² for q < cols, rows n in order. */
  readonly z: Tensor; readonly jac: Tensor; readonly rows: number; readonly cols: number; readonly scale: number;
}

export interface MlpLossArgs extends MlpArgs {
  /**
   * targets: rows values y_n; grad: paramCount values ← scale·Σ_n e_n ∇θ f(x_n) with e_n = f − y
   * (squared) or σ(f) − y (logistic); lossOut (one value) ← scale·Σ_n ℓ_n; inputGrad (rows×dim)
   * ← scale·e_n ∇x f(x_n). activations are scratch (always recomputed). weights (rows values,
   * or null for 1): row n's e_n and ℓ_n are multiplied by w_n first (w_n·e_n, then the scale).
   */
  readonly targets: Tensor; readonly loss: 'squared' | 'logistic'; readonly scale: number;
  readonly grad: Tensor; readonly lossOut: Tensor | null; readonly inputGrad: Tensor | null;
  readonly weights: Tensor | null;
}

export interface OptimizerArgs {
  /**
   * θ ← θ − lr·update(g̃), g̃ = grad + decay·(θ − anchor) (anchor ≡ 0 when null); update = g̃ (sgd)
   * or Adam's m̂/(sqrt(v̂) + eps) with m, v updated in place. Every tensor n values.
   */
  readonly params: Tensor; readonly grad: Tensor; readonly m: Tensor | null; readonly v: Tensor | null;
  readonly anchor: Tensor | null; readonly kind: 'sgd' | 'adam'; readonly n: number;
  readonly lr: number; readonly beta1: number; readonly beta2: number; readonly eps: number;
  readonly step: number; readonly decay: number;
}

export interface GatherRowsArgs {
  /**
   * src: srcRows×cols; indices: count row numbers (a host Int32Array, checked, or an i32 tensor:
   * out-of-range entries give a row of zeros); out[n, column + j] = src[indices[n], j], out rows
   * outCols wide.
   */
  readonly src: Tensor; readonly indices: Tensor | Int32Array; readonly out: Tensor;
  readonly count: number; readonly cols: number; readonly srcRows: number;
  readonly outCols: number; readonly column: number;
}

export interface ScatterRowsArgs {
  /**
   * rows: count×rowCols; target: targetRows×cols; target[indices[n], j] += scale·rows[n, column + j]
   * for n in order (an i32 tensor's out-of-range entries are skipped).
   */
  readonly rows: Tensor; readonly indices: Tensor | Int32Array; readonly target: Tensor;
  readonly count: number; readonly cols: number; readonly targetRows: number;
  readonly rowCols: number; readonly column: number; readonly scale: number;
}

export interface AxpyArgs {
  readonly alpha: number; readonly x: Tensor; readonly y: Tensor; readonly n: number;
}

/** How sampleArms picks among a row's candidate arms (see src/ops/explore.ts). */
export type SamplingPolicy =
  | { readonly kind: 'greedy' }
  | { readonly kind: 'epsilon-greedy'; readonly epsilon: number }
  | { readonly kind: 'softmax'; readonly temperature: number }
  | { readonly kind: 'squarecb'; readonly gamma: number };

export interface SampleArmsArgs {
  /**
   * scores: B×K, or k×B×K with one matrix a slot (slotStride = B·K, else 0); eligible: i32, K
   * values for every row (eligibleStride 0) or B×K (eligibleStride K), nonzero = eligible, or
   * null (every arm); arms (i32), propensities: B×k; status (i32): B. See sampleArms.
   */
  readonly scores: Tensor; readonly eligible: Tensor | null; readonly eligibleStride: number;
  readonly arms: Tensor; readonly propensities: Tensor; readonly status: Tensor;
  readonly rows: number; readonly cols: number; readonly k: number; readonly slotStride: number;
  readonly policy: SamplingPolicy; readonly seed: number; readonly step: number;
}

export interface SampleScoresArgs {
  /** mean, width2: B×K; out: draws×B×K, out[m, r, a] = mean + scale·sqrt(max(width2, 0))·ξ(seed, step, r, a, m). */
  readonly mean: Tensor; readonly width2: Tensor; readonly out: Tensor;
  readonly rows: number; readonly cols: number; readonly draws: number; readonly scale: number;
  readonly seed: number; readonly step: number;
}

export interface ThompsonPropensitiesArgs {
  /** mean, width2: B×K; eligible as in SampleArmsArgs; chosen (i32), out: B×k; draws: M. */
  readonly mean: Tensor; readonly width2: Tensor; readonly eligible: Tensor | null; readonly eligibleStride: number;
  readonly chosen: Tensor; readonly out: Tensor;
  readonly rows: number; readonly cols: number; readonly k: number; readonly draws: number; readonly scale: number;
  readonly seed: number; readonly step: number;
}

export interface PosteriorDrawsArgs {
  /** theta: K×d; factor: K×d×d lower triangular (only j ≤ i read); out: draws×K×d, θ + scale·L z. */
  readonly theta: Tensor; readonly factor: Tensor; readonly out: Tensor;
  readonly arms: number; readonly d: number; readonly draws: number; readonly scale: number;
  readonly seed: number; readonly step: number;
}

/**
 * The registry of ops: every batched op's name and its normalised arguments, declared here once.
 * Each backend provides the whole table (`OpImpls`, or `GpuOpTable` for WebGPU), so an op added
 * here fails to compile until every backend implements it; the public, validated function goes
 * in src/ops/<family>.ts.
 */
export interface OpArgs {
  readonly gemm: GemmArgs;
  readonly matVec: MatVecArgs;
  readonly quadForm: QuadFormArgs;
  readonly shermanMorrison: Rank1Args;
  readonly symRank1: Rank1Args;
  readonly rowArgmax: ArgmaxArgs;
  readonly cholesky: FactorArgs;
  readonly spdInverse: FactorArgs;
  readonly axpy: AxpyArgs;
  readonly scale: AxpyArgs;
  readonly ucbScores: UcbScoresArgs;
  readonly scatterAddScaled: ScatterAddArgs;
  readonly gatherMatVec: GatherMatVecArgs;
  readonly discountedUpdate: DiscountedUpdateArgs;
  readonly inverseDrift: DriftArgs;
  readonly accumulateOuter: AccumulateArgs;
  readonly accurateResidual: ResidualArgs;
  readonly addAccurate: AddAccurateArgs;
  readonly refineSolve: RefineSolveArgs;
  readonly hybridScores: HybridScoresArgs;
  readonly hybridArmUpdate: HybridArmUpdateArgs;
  readonly scatterOuterAdd: OuterAddArgs;
  readonly mlpForward: MlpForwardArgs;
  readonly mlpJacobian: MlpGradientArgs;
  readonly mlpKPassJacobian: MlpGradientArgs;
  readonly mlpDiagonalBonus: MlpBonusArgs;
  readonly mlpLossGradient: MlpLossArgs;
  readonly optimizerStep: OptimizerArgs;
  readonly gatherRows: GatherRowsArgs;
  readonly scatterAddRows: ScatterRowsArgs;
  readonly confidenceScores: ConfidenceArgs;
  readonly accumulateSquares: SquaresArgs;
  readonly sampleArms: SampleArmsArgs;
  readonly sampleScores: SampleScoresArgs;
  readonly thompsonPropensities: ThompsonPropensitiesArgs;
  readonly posteriorDraws: PosteriorDrawsArgs;
}

/** The name of an op in the registry. */
export type OpName = keyof OpArgs;

/** One implementation per backend of every op. Not public: call the functions in ops. */
export type OpImpls = { readonly [K in OpName]: (args: OpArgs[K]) => void };
