import type { ArgmaxArgs } from '../ops/types.js';

export function rowArgmaxF64(_a: ArgmaxArgs): void {
  throw new Error('rowArgmaxF64: not implemented yet');
}
