import grid from '../../shaders/lib/grid.wgsl';
import nan from '../../shaders/lib/nan.wgsl';
import segments from '../../shaders/lib/segments.wgsl';
import tile from '../../shaders/lib/tile.wgsl';
import score from '../../shaders/lib/score.wgsl';
import random from '../../shaders/lib/random.wgsl';
import ff from '../../shaders/lib/ff.wgsl';

/** A file of the shared WGSL library (shaders/lib/) and the files it calls into. */
export interface WgslLibrary {
  readonly file: string;
  readonly code: string;
  readonly needs: readonly WgslLibrary[];
}

const library = (file: string, code: string, needs: readonly WgslLibrary[] = []): WgslLibrary => ({ file, code, needs });

/** `override WG`, the entry points' `Grid` and the flat indices over 2-D grids (invocationIndex, groupIndex), LANES, clampedLanes. */
export const GRID = library('grid.wgsl', grid);
/** isNan by the bits. */
export const NAN = library('nan.wgsl', nan);
/** The segment index of grouped per-arm updates (the kernel defines `segmentWord`). */
export const SEGMENTS = library('segments.wgsl', segments);
/** Register tiles of rows against one matrix (the kernel defines the tile loads). */
export const TILE = library('tile.wgsl', tile, [GRID]);
/** Philox4x32-10 keyed by (seed, stream, step, row, arm, draw), its uniforms and Box–Muller normals. */
export const RANDOM = library('random.wgsl', random);
/** Float-float (double-f32) arithmetic: error-free sums and products, ff add and scale. */
export const FF = library('ff.wgsl', ff);
/** The UCB score of a tile and its store (the kernel defines `storeScore`). */
export const SCORE = library('score.wgsl', score, [NAN, TILE]);

/**
 * A kernel's WGSL source: its own file followed by the library files it uses, each once and after
 * the files it needs. WGSL declarations may come in any order, so joining is enough; the kernel's
 * own code comes first, so compiler messages keep its file's line numbers.
 *
 * @example
 * import source from '../../../shaders/quadform.wgsl';
 * const code = wgsl(source, GRID, TILE);
 */
export function wgsl(source: string, ...libraries: WgslLibrary[]): string {
  const order: WgslLibrary[] = [];
  const visit = (l: WgslLibrary): void => {
    if (order.includes(l)) return;
    l.needs.forEach(visit);
    order.push(l);
  };
  libraries.forEach(visit);
  return [source, ...order.map((l) => `// ---- shaders/lib/${l.file} ----\n${l.code}`)].join('\n');
}
