// Row argmax of a B×K matrix: the lowest index of the largest entry, NaN never winning, -1 for a
// row of NaN only.
//
// Entries are compared as integers: orderKey maps f32 bits to a u32 that grows with the value
// (-0 and +0 share one key, NaN gets NO_CANDIDATE). WGSL lets an implementation assume floats are
// never NaN or infinite, so float comparisons cannot be trusted to skip NaN or order ±Inf, and
// SwiftShader may flush subnormals; the integer order is exact everywhere.
//
// rowArgmaxSerial: one invocation scans a whole row (short rows, or many rows).
// rowArgmaxSlices + rowArgmaxCombine: long rows, below.
// Needs lib/grid.wgsl.

struct ArgmaxParams {
  rows: u32,
  cols: u32,
  // Candidates a row for the two-pass kernels.
  slices: u32,
}

@group(0) @binding(0) var<uniform> p: ArgmaxParams;
// The f32 scores, read as their bits.
@group(0) @binding(1) var<storage, read> s: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;

// Below the key of every non-NaN value (the least is -Inf's, 0x007fffff).
const NO_CANDIDATE: u32 = 0u;
const NO_INDEX: u32 = 0xffffffffu;

fn orderKey(bits: u32) -> u32 {
  let magnitude = bits & 0x7fffffffu;
  if (magnitude > 0x7f800000u) {
    return NO_CANDIDATE;
  }
  if (magnitude == 0u) {
    return 0x80000000u;
  }
  if (bits != magnitude) {
    return ~bits;
  }
  return bits | 0x80000000u;
}

fn result(key: u32, index: u32) -> i32 {
  return select(i32(index), -1, key == NO_CANDIDATE);
}

@compute @workgroup_size(WG)
fn rowArgmaxSerial(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let row = invocationIndex(grid, lid);
  if (row >= p.rows) {
    return;
  }
  let base = row * p.cols;
  var bestKey = NO_CANDIDATE;
  var best = NO_INDEX;
  for (var j = 0u; j < p.cols; j++) {
    let key = orderKey(s[base + j]);
    // Strictly greater: an equal value later in the row keeps the earlier index.
    let better = key > bestKey;
    bestKey = select(bestKey, key, better);
    best = select(best, j, better);
  }
  out[row] = result(bestKey, best);
}

// Long rows: two dispatches and no barriers. A workgroup a row with a barrier tree cost SwiftShader
// some 40 µs a workgroup (B=256, K=10: 12 ms against 0.35 ms serial); these two passes matched or
// beat it at every measured shape, and on a GPU they cost one more dispatch.
// Pass 1: invocation (row, slice) scans entries slice, slice + S, slice + 2S, …, so neighbouring
// invocations read neighbouring entries, and writes its best (key, index).
// Pass 2: one invocation a row folds the S candidates in slice order, ties to the lower index
// (slice order is not index order).
@group(0) @binding(2) var<storage, read_write> candidatesOut: array<vec2u>;
@group(0) @binding(1) var<storage, read> candidates: array<vec2u>;

@compute @workgroup_size(WG)
fn rowArgmaxSlices(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  if (g >= p.rows * p.slices) {
    return;
  }
  let row = g / p.slices;
  let base = row * p.cols;
  var bestKey = NO_CANDIDATE;
  var best = NO_INDEX;
  for (var j = g % p.slices; j < p.cols; j += p.slices) {
    let key = orderKey(s[base + j]);
    let better = key > bestKey;
    bestKey = select(bestKey, key, better);
    best = select(best, j, better);
  }
  candidatesOut[g] = vec2u(bestKey, best);
}

@compute @workgroup_size(WG)
fn rowArgmaxCombine(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let row = invocationIndex(grid, lid);
  if (row >= p.rows) {
    return;
  }
  var bestKey = NO_CANDIDATE;
  var best = NO_INDEX;
  for (var c = row * p.slices; c < (row + 1u) * p.slices; c++) {
    let candidate = candidates[c];
    let better = candidate.x > bestKey || (candidate.x == bestKey && candidate.y < best);
    bestKey = select(bestKey, candidate.x, better);
    best = select(best, candidate.y, better);
  }
  out[row] = result(bestKey, best);
}
