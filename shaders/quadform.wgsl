// Batched quadratic forms: out[i, k] = x_iᵀ M_k x_i (x_{i,k} when each arm has its own vector).
//
// One invocation computes one matrix k for a tile of ROWS rows i (ROWS = 1 or 4, an override), so
// each M_k streams through registers once per tile rather than once per row: reading M dominates
// the memory traffic (K·d² floats against B·d for a shared x). Invocations that share k are
// adjacent, so on a GPU a warp reads one M_k (broadcast loads) and M leaves DRAM about once.
// No workgroup memory and no barriers: the form needs no sharing between invocations, and
// SwiftShader runs barriers slowly.
//
// M is walked in column blocks of four: z = x_iᵀ M[:, l0..l0+3] takes four rows j of M at a time
// as full vec4 multiply-adds (no horizontal sums in the inner loop), then acc += z · x_i[l0..l0+3].
// The four products of a block are summed before they join z, which keeps the rounding depth near
// d/2 + 8 (d + d/4 + 5 in the scalar walk), inside the 2d of the tests' bound.
// (fma() measured no faster on SwiftShader; GPU compilers contract a·b + c themselves.)
//
// Rows past the end of the batch are computed on the last row (clamped loads, no branch in the
// inner loop) and not stored.

override WG: u32 = 64;
override ROWS: u32 = 4;

struct Params {
  rows: u32,
  arms: u32,
  d: u32,
  // Elements from x_i to x_{i+1}: d (shared) or K·d (per arm).
  xRowStride: u32,
  // Elements from x_{i,k} to x_{i,k+1}: 0 (shared) or d (per arm).
  xArmStride: u32,
  rowTiles: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read> m4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read> m1: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

struct Tile {
  valid: bool,
  k: u32,
  i0: u32,
  // Element offsets of x for rows i0 … i0+3 (clamped to the last row).
  xb: vec4u,
}

fn tileOf(wid: vec3u, nwg: vec3u, lid: u32) -> Tile {
  var t: Tile;
  let g = (wid.x + wid.y * nwg.x) * WG + lid;
  t.valid = g < p.arms * p.rowTiles;
  t.k = g / p.rowTiles;
  t.i0 = (g % p.rowTiles) * ROWS;
  let last = p.rows - 1u;
  let arm = t.k * p.xArmStride;
  t.xb = min(vec4u(t.i0) + vec4u(0u, 1u, 2u, 3u), vec4u(last)) * p.xRowStride + arm;
  return t;
}

fn store(t: Tile, acc: vec4f) {
  for (var r = 0u; r < ROWS; r++) {
    let i = t.i0 + r;
    if (i < p.rows) {
      out[i * p.arms + t.k] = acc[r];
    }
  }
}

// d % 4 == 0: every row of M and every x vector starts on a vec4.
@compute @workgroup_size(WG)
fn quadFormVec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let t = tileOf(wid, nwg, lid);
  if (!t.valid) {
    return;
  }
  let q = p.d / 4u;
  let xb = t.xb / vec4u(4u);
  let mBase = t.k * p.d * q;
  var acc = vec4f(0.0);
  for (var c = 0u; c < q; c++) {
    var z0 = vec4f(0.0);
    var z1 = vec4f(0.0);
    var z2 = vec4f(0.0);
    var z3 = vec4f(0.0);
    var mi = mBase + c;
    for (var jb = 0u; jb < q; jb++) {
      let ma = m4[mi];
      let mb = m4[mi + q];
      let mc = m4[mi + 2u * q];
      let md = m4[mi + 3u * q];
      mi += 4u * q;
      let xa = x4[xb.x + jb];
      z0 += xa.x * ma + xa.y * mb + xa.z * mc + xa.w * md;
      if (ROWS > 1u) {
        let xc = x4[xb.y + jb];
        z1 += xc.x * ma + xc.y * mb + xc.z * mc + xc.w * md;
        let xe = x4[xb.z + jb];
        z2 += xe.x * ma + xe.y * mb + xe.z * mc + xe.w * md;
        let xg = x4[xb.w + jb];
        z3 += xg.x * ma + xg.y * mb + xg.z * mc + xg.w * md;
      }
    }
    acc.x += dot(z0, x4[xb.x + c]);
    if (ROWS > 1u) {
      acc.y += dot(z1, x4[xb.y + c]);
      acc.z += dot(z2, x4[xb.z + c]);
      acc.w += dot(z3, x4[xb.w + c]);
    }
  }
  store(t, acc);
}

// Any d: the same walk with scalar loads, one row j at a time; columns past d are loaded clamped
// and masked to zero before the dot, so an infinity in the last column cannot turn into 0·∞.
@compute @workgroup_size(WG)
fn quadFormScalar(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                  @builtin(local_invocation_index) lid: u32) {
  let t = tileOf(wid, nwg, lid);
  if (!t.valid) {
    return;
  }
  let d = p.d;
  let mBase = t.k * d * d;
  let zero = vec4f(0.0);
  var acc = vec4f(0.0);
  for (var l0 = 0u; l0 < d; l0 += 4u) {
    let cols = vec4u(l0) + vec4u(0u, 1u, 2u, 3u);
    let inside = cols < vec4u(d);
    let col = min(cols, vec4u(d - 1u));
    var z0 = zero;
    var z1 = zero;
    var z2 = zero;
    var z3 = zero;
    for (var j = 0u; j < d; j++) {
      let row = mBase + j * d;
      let mj = vec4f(m1[row + col.x], m1[row + col.y], m1[row + col.z], m1[row + col.w]);
      z0 += x1[t.xb.x + j] * mj;
      if (ROWS > 1u) {
        z1 += x1[t.xb.y + j] * mj;
        z2 += x1[t.xb.z + j] * mj;
        z3 += x1[t.xb.w + j] * mj;
      }
    }
    let xa = vec4f(x1[t.xb.x + col.x], x1[t.xb.x + col.y], x1[t.xb.x + col.z], x1[t.xb.x + col.w]);
    acc.x += dot(select(zero, z0, inside), select(zero, xa, inside));
    if (ROWS > 1u) {
      let xc = vec4f(x1[t.xb.y + col.x], x1[t.xb.y + col.y], x1[t.xb.y + col.z], x1[t.xb.y + col.w]);
      let xe = vec4f(x1[t.xb.z + col.x], x1[t.xb.z + col.y], x1[t.xb.z + col.z], x1[t.xb.z + col.w]);
      let xg = vec4f(x1[t.xb.w + col.x], x1[t.xb.w + col.y], x1[t.xb.w + col.z], x1[t.xb.w + col.w]);
      acc.y += dot(select(zero, z1, inside), select(zero, xc, inside));
      acc.z += dot(select(zero, z2, inside), select(zero, xe, inside));
      acc.w += dot(select(zero, z3, inside), select(zero, xg, inside));
    }
  }
  store(t, acc);
}
