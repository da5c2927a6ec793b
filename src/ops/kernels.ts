import type { KernelDescriptor } from '../gpu/runtime.js';
import { KERNELS as argmax } from './argmax.js';
import { KERNELS as cholesky } from './cholesky.js';
import { KERNELS as elementwise } from './elementwise.js';
import { KERNELS as gemm } from './gemm.js';
import { KERNELS as hybrid } from './hybrid.js';
import { KERNELS as linucb } from './linucb.js';
import { KERNELS as neural } from './neural.js';
import { KERNELS as neuralucb } from './neuralucb.js';
import { KERNELS as quadform } from './quadform.js';
import { KERNELS as rank1 } from './rank1.js';
import { KERNELS as train } from './train.js';

/** The registry of every kernel the library dispatches. */
export const ALL_KERNELS: readonly KernelDescriptor[] = [
  ...elementwise, ...gemm, ...quadform, ...rank1, ...argmax, ...cholesky, ...linucb, ...hybrid, ...neural, ...train, ...neuralucb,
];
