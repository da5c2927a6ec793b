import type { QuadFormArgs } from '../ops/types.js';

export function quadFormF64(_a: QuadFormArgs): void {
  throw new Error('quadFormF64: not implemented yet');
}
