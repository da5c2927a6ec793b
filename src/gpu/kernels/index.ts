import type { KernelDescriptor } from '../kernel.js';
import type { GpuOpTable } from './family.js';
import { family as elementwise } from './elementwise.js';
import { family as gemm } from './gemm.js';
import { family as quadform } from './quadform.js';
import { family as rank1 } from './rank1.js';
import { family as argmax } from './argmax.js';
import { family as cholesky } from './cholesky.js';
import { family as ucb } from './ucb.js';
import { family as scatterGather } from './scatter-gather.js';
import { family as discounted } from './discounted.js';
import { family as drift } from './drift.js';
import { family as hybrid } from './hybrid.js';
import { family as mlp } from './mlp.js';
import { family as mlpTrain } from './mlp-train.js';
import { family as confidence } from './confidence.js';
import { family as explore } from './explore.js';
import { family as accurate } from './accurate.js';

/** Every kernel family, one a shaders/*.wgsl file (the shared shaders/lib/ joined in by each). */
export const FAMILIES = [
  elementwise, gemm, quadform, rank1, argmax, cholesky, ucb, scatterGather, discounted, drift, hybrid, mlp, mlpTrain, confidence, explore, accurate,
] as const;

/**
 * The WebGPU op table: every op of the registry (core/op-args.ts), from its family. The type says
 * it is complete: an op declared in the registry and implemented by no family fails to compile.
 */
export const GPU_OPS = {
  ...elementwise.ops, ...gemm.ops, ...quadform.ops, ...rank1.ops, ...argmax.ops, ...cholesky.ops, ...ucb.ops, ...scatterGather.ops,
  ...discounted.ops, ...drift.ops, ...hybrid.ops, ...mlp.ops, ...mlpTrain.ops, ...confidence.ops, ...explore.ops, ...accurate.ops,
} satisfies GpuOpTable;

/** The registry of every kernel the library dispatches, for the shader-compilation test. */
export const ALL_KERNELS: readonly KernelDescriptor[] = FAMILIES.flatMap((f) => f.kernels);
