import type { FactorArgs } from '../ops/types.js';

export function choleskyF64(_a: FactorArgs): void {
  throw new Error('choleskyF64: not implemented yet');
}
export function spdInverseF64(_a: FactorArgs): void {
  throw new Error('spdInverseF64: not implemented yet');
}
