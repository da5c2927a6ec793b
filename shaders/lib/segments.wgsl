// The host-made index of a batch of per-arm updates grouped by arm (segmentIndex in
// src/core/segments.ts), T segments over U rows:
//   [0 .. T)          the touched arms (or rows of a table), one a segment
//   [T .. 2T+1)       segment starts into the row list (segment t is entries first .. end)
//   [2T+1 .. 2T+1+U)  rows of the batch, grouped by arm, in call order within an arm
// followed in some kernels by per-op data at offsets their uniforms give.
// Updates of one arm run in order, in one invocation (or workgroup); different arms in parallel.
//
// The kernel defines the load:  fn segmentWord(i: u32) -> u32   word i of the index.

struct Segment {
  arm: u32,
  first: u32,
  end: u32,
  /// Where the row list starts.
  rows: u32,
}

/// Segment t of an index of `count` segments.
fn segmentAt(t: u32, count: u32) -> Segment {
  return Segment(segmentWord(t), segmentWord(count + t), segmentWord(count + t + 1u), 2u * count + 1u);
}

/// The batch row of entry s of the row list.
fn segmentRow(sg: Segment, s: u32) -> u32 {
  return segmentWord(sg.rows + s);
}
