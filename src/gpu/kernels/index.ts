import type { KernelDescriptor } from '../runtime.js';
import { KERNELS as argmax } from '../../ops/argmax.js';
import { KERNELS as cholesky } from '../../ops/cholesky.js';
import { KERNELS as elementwise } from '../../ops/elementwise.js';
import { KERNELS as gemm } from '../../ops/gemm.js';
import { KERNELS as hybrid } from '../../ops/hybrid.js';
import { KERNELS as linucb } from '../../ops/linucb.js';
import { KERNELS as neural } from '../../ops/mlp.js';
import { KERNELS as neuralucb } from '../../ops/confidence.js';
import { KERNELS as quadform } from '../../ops/quadform.js';
import { KERNELS as rank1 } from '../../ops/rank1.js';
import { KERNELS as train } from '../../ops/mlp-train.js';

/** The registry of every kernel the library dispatches. */
export const ALL_KERNELS: readonly KernelDescriptor[] = [
  ...elementwise, ...gemm, ...quadform, ...rank1, ...argmax, ...cholesky, ...linucb, ...hybrid, ...neural, ...train, ...neuralucb,
];
