import type { GemmArgs, MatVecArgs } from '../ops/types.js';

export function gemmF64(_a: GemmArgs): void {
  throw new Error('gemmF64: not implemented yet');
}
export function matVecF64(_a: MatVecArgs): void {
  throw new Error('matVecF64: not implemented yet');
}
