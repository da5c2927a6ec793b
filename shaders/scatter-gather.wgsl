// The per-arm vectors of LinUCB's update: b_k += Σ w_u·x_u over the batch rows of arm k
// (scatterAddScaled, rows in order) and θ_k = A⁻¹_k b_k for the touched arms (gatherMatVec).
// Matrices are K d×d row-major, one after another; vectors K×d. One invocation an output element
// or four: nothing is shared, no barriers.
// Needs lib/grid.wgsl, lib/segments.wgsl and lib/tile.wgsl.

// ---------------------------------------------------------------------------------------------
// scatterAddScaled: b[arm] += w_u·x_u, invocation (segment t, element e); `idx` is the segment
// index, then the weights by row u (f32 bits) at idx[weightsAt + u].

struct ScatterParams {
  d: u32,
  segments: u32,
  /// idx offset of the weights.
  weightsAt: u32,
}

@group(0) @binding(0) var<uniform> ps: ScatterParams;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> sx: array<f32>;
@group(0) @binding(3) var<storage, read_write> sb: array<f32>;

fn segmentWord(i: u32) -> u32 {
  return idx[i];
}

@compute @workgroup_size(WG)
fn scatterAddScaled(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let d = ps.d;
  let te = itemOf(invocationIndex(grid, lid), d);
  if (te.x >= ps.segments) {
    return;
  }
  let sg = segmentAt(te.x, ps.segments);
  let k = sg.arm * d + te.y;
  var b = sb[k];
  for (var s = sg.first; s < sg.end; s++) {
    let u = segmentRow(sg, s);
    b += bitcast<f32>(idx[ps.weightsAt + u]) * sx[u * d + te.y];
  }
  sb[k] = b;
}

// ---------------------------------------------------------------------------------------------
// gatherMatVec: out_k = M_k v_k for the listed arms idx[0 .. count).

struct MvParams {
  d: u32,
  count: u32,
}

@group(0) @binding(0) var<uniform> pm: MvParams;
@group(0) @binding(2) var<storage, read> gm1: array<f32>;
@group(0) @binding(3) var<storage, read> gv1: array<f32>;
@group(0) @binding(4) var<storage, read_write> gout1: array<f32>;
@group(0) @binding(2) var<storage, read> gm4: array<vec4f>;
@group(0) @binding(3) var<storage, read> gv4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> gout4: array<vec4f>;

fn tileVec4(which: u32, i: u32) -> vec4f {
  return gv4[i];
}

fn tileMat4(which: u32, i: u32) -> vec4f {
  return gm4[i];
}

fn tileVec1(which: u32, i: u32) -> f32 {
  return gv1[i];
}

fn tileMat1(which: u32, i: u32) -> f32 {
  return gm1[i];
}

// Invocation (arm, row r): a dot of M_k's row r with v_k.
@compute @workgroup_size(WG)
fn gatherMatVec(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let d = pm.d;
  let tr = itemOf(invocationIndex(grid, lid), d);
  if (tr.x >= pm.count) {
    return;
  }
  let k = idx[tr.x];
  let r = tr.y;
  let row = (k * d + r) * d;
  let v = k * d;
  var acc = 0.0;
  for (var l = 0u; l < d; l++) {
    acc += gm1[row + l] * gv1[v + l];
  }
  gout1[k * d + r] = acc;
}

// d % 4 == 0: invocation (arm, rows 4rq..4rq+3), one vec4 of v serving four rows.
@compute @workgroup_size(WG)
fn gatherMatVecVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let q = pm.d / 4u;
  let tr = itemOf(invocationIndex(grid, lid), q);
  if (tr.x >= pm.count) {
    return;
  }
  let k = idx[tr.x];
  let w = rowBlockTimes4(0u, 0u, (k * pm.d + 4u * tr.y) * q, q, k * q);
  let one = vec4f(1.0);
  gout4[k * q + tr.y] = vec4f(dot(w[0], one), dot(w[1], one), dot(w[2], one), dot(w[3], one));
}
