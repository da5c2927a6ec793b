// Discounted LinUCB's update, one invocation an element of A (discountedA, discountedAVec4: four
// elements) or of b (discountedB). Every step decays every arm, A ← γA + (1−γ)λI, b ← γb, then the
// step's arm adds x xᵀ and r·x. g decays compose to A ← γ^g A + (1−γ^g)λI, so an element needs only
// its arm's plays: decay by the gap before each play, add, and after the last play decay by the
// gap to the end of the batch. Matrices are K d×d row-major, one after another; vectors K×d.
//
// `idx` is the segment index (lib/segments.wgsl) followed by
//   idx[segmentOfAt + k]              segment of arm k (0xffffffff: not played, decays by fAll, cAll)
//   idx[factorAt + s + t], idx[offsetAt + s + t]
//                                     γ^g and (1−γ^g)λ before row-list entry s of segment t
//                                     (s = end: after its last play)
//   idx[rewardsAt + u]                reward of row u
// (f32 values as their bits). Factors come from the host (float64, rounded once to f32): pow() in
// a shader loses accuracy at large g.
// Needs lib/grid.wgsl and lib/segments.wgsl.

const NOT_PLAYED: u32 = 0xffffffffu;

struct DiscountParams {
  d: u32,
  /// Touched arms T.
  segments: u32,
  /// Arms K in the state tensors.
  matrices: u32,
  segmentOfAt: u32,
  factorAt: u32,
  offsetAt: u32,
  rewardsAt: u32,
  /// γ^U and (1 − γ^U)·λ, for arms this batch does not play.
  fAll: f32,
  cAll: f32,
}

@group(0) @binding(0) var<uniform> ps: DiscountParams;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> sx1: array<f32>;
@group(0) @binding(2) var<storage, read> sx4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> sa1: array<f32>;
@group(0) @binding(3) var<storage, read_write> sa4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> sb: array<f32>;

fn segmentWord(i: u32) -> u32 {
  return idx[i];
}

fn factorOf(s: u32, t: u32) -> f32 {
  return bitcast<f32>(idx[ps.factorAt + s + t]);
}

fn offsetOf(s: u32, t: u32) -> f32 {
  return bitcast<f32>(idx[ps.offsetAt + s + t]);
}

fn discountedElement(a0: f32, k: u32, diag: bool, i: u32, j: u32) -> f32 {
  var a = a0;
  let t = idx[ps.segmentOfAt + k];
  if (t == NOT_PLAYED) {
    return ps.fAll * a + select(0.0, ps.cAll, diag);
  }
  let d = ps.d;
  let sg = segmentAt(t, ps.segments);
  for (var s = sg.first; s < sg.end; s++) {
    let u = segmentRow(sg, s);
    a = factorOf(s, t) * a + select(0.0, offsetOf(s, t), diag);
    a += sx1[u * d + i] * sx1[u * d + j];
  }
  return factorOf(sg.end, t) * a + select(0.0, offsetOf(sg.end, t), diag);
}

@compute @workgroup_size(WG)
fn discountedA(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  let d = ps.d;
  let dd = d * d;
  let k = g / dd;
  if (k >= ps.matrices) {
    return;
  }
  let e = g - k * dd;
  let i = e / d;
  let j = e - i * d;
  sa1[g] = discountedElement(sa1[g], k, i == j, i, j);
}

// d % 4 == 0: four elements A[i, 4jq..4jq+3] an invocation.
@compute @workgroup_size(WG)
fn discountedAVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  let q = ps.d / 4u;
  let per = ps.d * q;
  let k = g / per;
  if (k >= ps.matrices) {
    return;
  }
  let e = g - k * per;
  let i = e / q;
  let jq = e - i * q;
  let diag = (vec4u(4u * jq) + LANES) == vec4u(i);
  var a = sa4[g];
  let t = idx[ps.segmentOfAt + k];
  if (t == NOT_PLAYED) {
    sa4[g] = ps.fAll * a + select(vec4f(0.0), vec4f(ps.cAll), diag);
    return;
  }
  let sg = segmentAt(t, ps.segments);
  for (var s = sg.first; s < sg.end; s++) {
    let xo = segmentRow(sg, s) * q;
    a = factorOf(s, t) * a + select(vec4f(0.0), vec4f(offsetOf(s, t)), diag);
    a += sx4[xo + i / 4u][i % 4u] * sx4[xo + jq];
  }
  sa4[g] = factorOf(sg.end, t) * a + select(vec4f(0.0), vec4f(offsetOf(sg.end, t)), diag);
}

@compute @workgroup_size(WG)
fn discountedB(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  let d = ps.d;
  let k = g / d;
  if (k >= ps.matrices) {
    return;
  }
  let i = g - k * d;
  var b = sb[g];
  let t = idx[ps.segmentOfAt + k];
  if (t == NOT_PLAYED) {
    sb[g] = ps.fAll * b;
    return;
  }
  let sg = segmentAt(t, ps.segments);
  for (var s = sg.first; s < sg.end; s++) {
    let u = segmentRow(sg, s);
    b = factorOf(s, t) * b;
    b += bitcast<f32>(idx[ps.rewardsAt + u]) * sx1[u * d + i];
  }
  sb[g] = factorOf(sg.end, t) * b;
}
