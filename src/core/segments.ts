/**
 * The updates grouped by arm, stably: `[arms of the T segments | T+1 segment starts | rows of x]`
 * (the layout the shader reads), arms in order of first appearance.
 */
export function segmentIndex(arms: Int32Array, matrices: number): { index: Uint32Array; segments: number } {
  const count = arms.length;
  const segmentOf = new Int32Array(matrices).fill(-1);
  const touched: number[] = [];
  const sizes: number[] = [];
  for (let u = 0; u < count; u++) {
    const k = arms[u]!;
    if (k < 0) continue; // a row that touches none of these matrices (discountedUpdate's steps of other shards)
    let s = segmentOf[k]!;
    if (s < 0) {
      s = segmentOf[k] = touched.length;
      touched.push(k);
      sizes.push(0);
    }
    sizes[s]!++;
  }
  const segments = touched.length;
  const index = new Uint32Array(2 * segments + 1 + count);
  const rows = 2 * segments + 1;
  let start = 0;
  for (let s = 0; s < segments; s++) {
    index[s] = touched[s]!;
    index[segments + s] = start;
    start += sizes[s]!;
  }
  index[2 * segments] = start;
  const next = index.slice(segments, 2 * segments);
  for (let u = 0; u < count; u++) if (arms[u]! >= 0) index[rows + next[segmentOf[arms[u]!]!]!++] = u;
  return { index, segments };
}
