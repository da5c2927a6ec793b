// NaN tests by the bits: WGSL lets a compiler assume floats are never NaN, so comparisons,
// `v != v` and max() cannot be trusted to see one.

fn isNan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}
