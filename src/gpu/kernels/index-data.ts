/**
 * A per-op index for the GPU: `index` (a segment index, see core/segments.ts) followed by room for
 * `extra` more words of per-op data; f32 values go in as their bits through `bits`.
 *
 * @example
 * const { data, bits } = withRoom(index, weights.length);
 * bits.set(weights, index.length);      // the shader reads bitcast<f32>(idx[weightsAt + u])
 */
export function withRoom(index: Uint32Array, extra: number): { data: Uint32Array; bits: Float32Array } {
  const data = new Uint32Array(index.length + extra);
  data.set(index);
  return { data, bits: new Float32Array(data.buffer) };
}
