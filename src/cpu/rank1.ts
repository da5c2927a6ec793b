import type { Rank1Args } from '../ops/types.js';

export function shermanMorrisonF64(_a: Rank1Args): void {
  throw new Error('shermanMorrisonF64: not implemented yet');
}
export function symRank1F64(_a: Rank1Args): void {
  throw new Error('symRank1F64: not implemented yet');
}
