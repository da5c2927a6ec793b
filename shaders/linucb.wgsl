// LinUCB kernels: select scores, the per-arm updates of b, θ and the discounted state, and the
// drift of the kept inverse. Matrices are K d×d row-major, one after another; vectors K×d.
// No workgroup memory and no barriers anywhere: every output element (or tile) depends on no
// other invocation, and SwiftShader runs barriers slowly.
//
// The batched updates read a host-made index `idx` (see segmentIndex in src/ops/rank1.ts):
//   idx[0 .. T)          the touched arms, one a segment
//   idx[T .. 2T+1)       segment starts into the row list (segment t is idx[T+t] .. idx[T+t+1])
//   idx[2T+1 .. 2T+1+U)  rows of x, grouped by arm, in call order within an arm
// followed by per-op data at offsets given in the uniforms (f32 values stored as their bits).

override WG: u32 = 64;
/// Rows of x one ucbScores invocation takes against its A⁻¹_k (1, 2, 4, or 8 with vec4 loads); rows
/// of A an inverseDrift invocation takes (1 or 4; the host uses 4).
override ROWS: u32 = 4;

fn flatIndex(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

// By the bits: a compiler may assume NaN-free floats for comparisons and max().
fn isNan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// ---------------------------------------------------------------------------------------------
// ucbScores: out[i, outBase + k] = θ_kᵀx + α·sqrt(max(q, 0)), q = xᵀA⁻¹_k x.
//
// One invocation computes one arm k for a tile of ROWS rows, so each A⁻¹_k streams through
// registers once per tile: reading A⁻¹ (K·d² floats) dominates the traffic. Invocations of one k
// are adjacent, so on a GPU a warp reads few matrices (broadcast loads).
// ucbScoresVec4 walks A⁻¹ in column blocks of four: z = xᵀA⁻¹[:, c..c+3] takes four rows of A⁻¹
// at a time as full vec4 multiply-adds (no horizontal sums inside), then q += z·x[c..c+3]; θ_kᵀx
// rides along on the x[c..c+3] loads. ucbScoresVec4Row (B = 1, one row a tile) walks A⁻¹ by rows
// instead, four rows at a time: the same loads per multiply-add, and on a GPU each invocation
// streams its own matrix contiguously (whole cache lines used) rather than down a column band.
// Plain a·b + c, not fma(): SwiftShader's fma is slow and GPU compilers contract by themselves.
// Rounding depth of q ≤ d + d/4 + 3 (≤ 2d + 4, the tests' bound); of θᵀx ≤ d + 4.
// Rows past the end of the batch are computed on the last row (clamped loads) and not stored.

struct UcbParams {
  rows: u32,
  arms: u32,
  d: u32,
  /// Elements from x_i to x_{i+1}: d (shared) or Ktotal·d (per arm).
  xRowStride: u32,
  /// Elements from x_{i,k} to x_{i,k+1}: 0 (shared) or d (per arm).
  xArmStride: u32,
  /// Element offset of arm 0 of this shard in row 0: armOffset·d (per arm) or 0.
  xBase: u32,
  outCols: u32,
  /// Column of out of this shard's arm 0 (armOffset).
  outBase: u32,
  rowTiles: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> pu: UcbParams;
@group(0) @binding(1) var<storage, read> ux4: array<vec4f>;
@group(0) @binding(2) var<storage, read> um4: array<vec4f>;
@group(0) @binding(3) var<storage, read> ut4: array<vec4f>;
@group(0) @binding(1) var<storage, read> ux1: array<f32>;
@group(0) @binding(2) var<storage, read> um1: array<f32>;
@group(0) @binding(3) var<storage, read> ut1: array<f32>;
@group(0) @binding(4) var<storage, read_write> uout: array<f32>;

struct UcbTile {
  valid: bool,
  k: u32,
  i0: u32,
  // Element offsets of x for rows i0 … i0+3 and i0+4 … i0+7 (clamped to the last row).
  xb: vec4u,
  xc: vec4u,
}

fn ucbTile(wid: vec3u, nwg: vec3u, lid: u32) -> UcbTile {
  var t: UcbTile;
  let g = flatIndex(wid, nwg, lid);
  t.valid = g < pu.arms * pu.rowTiles;
  t.k = g / pu.rowTiles;
  t.i0 = (g % pu.rowTiles) * ROWS;
  let last = vec4u(pu.rows - 1u);
  let arm = vec4u(pu.xBase + t.k * pu.xArmStride);
  t.xb = min(vec4u(t.i0) + vec4u(0u, 1u, 2u, 3u), last) * pu.xRowStride + arm;
  t.xc = min(vec4u(t.i0) + vec4u(4u, 5u, 6u, 7u), last) * pu.xRowStride + arm;
  return t;
}

fn ucbScore(theta: f32, q: f32) -> f32 {
  if (isNan(q)) {
    return q;
  }
  return theta + pu.alpha * sqrt(max(q, 0.0));
}

// Rows i0 … i0+ROWS−1 from θᵀx and q of the tile's rows 0-3 (theta, q) and 4-7 (theta2, q2).
fn ucbStore(t: UcbTile, theta: vec4f, q: vec4f, theta2: vec4f, q2: vec4f) {
  let o = pu.outBase + t.k;
  for (var r = 0u; r < min(ROWS, 4u); r++) {
    let i = t.i0 + r;
    if (i < pu.rows) {
      uout[i * pu.outCols + o] = ucbScore(theta[r], q[r]);
    }
  }
  for (var r = 4u; r < ROWS; r++) {
    let i = t.i0 + r;
    if (i < pu.rows) {
      uout[i * pu.outCols + o] = ucbScore(theta2[r - 4u], q2[r - 4u]);
    }
  }
}

fn quad4(x: vec4f, ma: vec4f, mb: vec4f, mc: vec4f, md: vec4f) -> vec4f {
  return x.x * ma + x.y * mb + x.z * mc + x.w * md;
}

// d % 4 == 0, ROWS = 2, 4 or 8: every row of A⁻¹, θ and x starts on a vec4.
@compute @workgroup_size(WG)
fn ucbScoresVec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                 @builtin(local_invocation_index) lid: u32) {
  let t = ucbTile(wid, nwg, lid);
  if (!t.valid) {
    return;
  }
  let q = pu.d / 4u;
  let xb = t.xb / vec4u(4u);
  let xc = t.xc / vec4u(4u);
  let mBase = t.k * pu.d * q;
  let tBase = t.k * q;
  var acc = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var th = vec4f(0.0);
  var th2 = vec4f(0.0);
  for (var c = 0u; c < q; c++) {
    var z0 = vec4f(0.0);
    var z1 = vec4f(0.0);
    var z2 = vec4f(0.0);
    var z3 = vec4f(0.0);
    var z4 = vec4f(0.0);
    var z5 = vec4f(0.0);
    var z6 = vec4f(0.0);
    var z7 = vec4f(0.0);
    var mi = mBase + c;
    for (var jb = 0u; jb < q; jb++) {
      let ma = um4[mi];
      let mb = um4[mi + q];
      let mc = um4[mi + 2u * q];
      let md = um4[mi + 3u * q];
      mi += 4u * q;
      z0 += quad4(ux4[xb.x + jb], ma, mb, mc, md);
      z1 += quad4(ux4[xb.y + jb], ma, mb, mc, md);
      if (ROWS > 2u) {
        z2 += quad4(ux4[xb.z + jb], ma, mb, mc, md);
        z3 += quad4(ux4[xb.w + jb], ma, mb, mc, md);
      }
      if (ROWS > 4u) {
        z4 += quad4(ux4[xc.x + jb], ma, mb, mc, md);
        z5 += quad4(ux4[xc.y + jb], ma, mb, mc, md);
        z6 += quad4(ux4[xc.z + jb], ma, mb, mc, md);
        z7 += quad4(ux4[xc.w + jb], ma, mb, mc, md);
      }
    }
    let tc = ut4[tBase + c];
    var xv = ux4[xb.x + c];
    acc.x += dot(z0, xv);
    th.x += dot(tc, xv);
    xv = ux4[xb.y + c];
    acc.y += dot(z1, xv);
    th.y += dot(tc, xv);
    if (ROWS > 2u) {
      xv = ux4[xb.z + c];
      acc.z += dot(z2, xv);
      th.z += dot(tc, xv);
      xv = ux4[xb.w + c];
      acc.w += dot(z3, xv);
      th.w += dot(tc, xv);
    }
    if (ROWS > 4u) {
      xv = ux4[xc.x + c];
      acc2.x += dot(z4, xv);
      th2.x += dot(tc, xv);
      xv = ux4[xc.y + c];
      acc2.y += dot(z5, xv);
      th2.y += dot(tc, xv);
      xv = ux4[xc.z + c];
      acc2.z += dot(z6, xv);
      th2.z += dot(tc, xv);
      xv = ux4[xc.w + c];
      acc2.w += dot(z7, xv);
      th2.w += dot(tc, xv);
    }
  }
  ucbStore(t, th, acc, th2, acc2);
}

// One row a tile (ROWS = 1), d % 4 == 0: A⁻¹ by rows, four at a time. w_r = A⁻¹[j+r, :]·x as
// vec4 partial sums, folded as Σ_r x_{j+r}·w_r into a vec4 whose components add up to q.
@compute @workgroup_size(WG)
fn ucbScoresVec4Row(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let t = ucbTile(wid, nwg, lid);
  if (!t.valid) {
    return;
  }
  let q = pu.d / 4u;
  let xb = t.xb.x / 4u;
  let mBase = t.k * pu.d * q;
  let tBase = t.k * q;
  var acc = vec4f(0.0);
  var th = vec4f(0.0);
  for (var jb = 0u; jb < q; jb++) {
    var w0 = vec4f(0.0);
    var w1 = vec4f(0.0);
    var w2 = vec4f(0.0);
    var w3 = vec4f(0.0);
    let mi = mBase + 4u * jb * q;
    for (var lb = 0u; lb < q; lb++) {
      let xl = ux4[xb + lb];
      w0 += um4[mi + lb] * xl;
      w1 += um4[mi + q + lb] * xl;
      w2 += um4[mi + 2u * q + lb] * xl;
      w3 += um4[mi + 3u * q + lb] * xl;
    }
    let xj = ux4[xb + jb];
    acc += xj.x * w0 + xj.y * w1 + xj.z * w2 + xj.w * w3;
    th += ut4[tBase + jb] * xj;
  }
  let one = vec4f(1.0);
  uout[t.i0 * pu.outCols + pu.outBase + t.k] = ucbScore(dot(th, one), dot(acc, one));
}

// Any d: the column-block walk with scalar loads; columns past d are loaded clamped and masked
// to zero before the dot, so an infinity in the last column cannot turn into 0·∞.
@compute @workgroup_size(WG)
fn ucbScoresScalar(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let t = ucbTile(wid, nwg, lid);
  if (!t.valid) {
    return;
  }
  let d = pu.d;
  let mBase = t.k * d * d;
  let tBase = t.k * d;
  let zero = vec4f(0.0);
  var acc = zero;
  var th = zero;
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
      let mj = vec4f(um1[row + col.x], um1[row + col.y], um1[row + col.z], um1[row + col.w]);
      z0 += ux1[t.xb.x + j] * mj;
      if (ROWS > 1u) {
        z1 += ux1[t.xb.y + j] * mj;
      }
      if (ROWS > 2u) {
        z2 += ux1[t.xb.z + j] * mj;
        z3 += ux1[t.xb.w + j] * mj;
      }
    }
    let tc = select(zero, vec4f(ut1[tBase + col.x], ut1[tBase + col.y], ut1[tBase + col.z], ut1[tBase + col.w]), inside);
    let xa = select(zero, vec4f(ux1[t.xb.x + col.x], ux1[t.xb.x + col.y], ux1[t.xb.x + col.z], ux1[t.xb.x + col.w]), inside);
    acc.x += dot(select(zero, z0, inside), xa);
    th.x += dot(tc, xa);
    if (ROWS > 1u) {
      let xc = select(zero, vec4f(ux1[t.xb.y + col.x], ux1[t.xb.y + col.y], ux1[t.xb.y + col.z], ux1[t.xb.y + col.w]), inside);
      acc.y += dot(select(zero, z1, inside), xc);
      th.y += dot(tc, xc);
    }
    if (ROWS > 2u) {
      let xe = select(zero, vec4f(ux1[t.xb.z + col.x], ux1[t.xb.z + col.y], ux1[t.xb.z + col.z], ux1[t.xb.z + col.w]), inside);
      let xg = select(zero, vec4f(ux1[t.xb.w + col.x], ux1[t.xb.w + col.y], ux1[t.xb.w + col.z], ux1[t.xb.w + col.w]), inside);
      acc.z += dot(select(zero, z2, inside), xe);
      th.z += dot(tc, xe);
      acc.w += dot(select(zero, z3, inside), xg);
      th.w += dot(tc, xg);
    }
  }
  ucbStore(t, th, acc, zero, zero);
}

// ---------------------------------------------------------------------------------------------
// Segment walks: one invocation an output element, each walking its arm's updates in order.

struct SegParams {
  d: u32,
  /// Touched arms T.
  segments: u32,
  /// Rows U.
  count: u32,
  /// Arms K in the state tensors.
  matrices: u32,
  /// Offsets into idx of per-op data (see each entry point).
  off0: u32,
  off1: u32,
  off2: u32,
  off3: u32,
  /// discounted: γ^U and (1 − γ^U)·λ, for arms this batch does not play.
  fAll: f32,
  cAll: f32,
}

@group(0) @binding(0) var<uniform> ps: SegParams;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> sx1: array<f32>;
@group(0) @binding(2) var<storage, read> sx4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> sb1: array<f32>;
@group(0) @binding(3) var<storage, read_write> sa4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> sbb: array<f32>;

// b[arm] += w_u·x_u, invocation (segment t, element e); weights (by row u) at idx[off0 + u].
@compute @workgroup_size(WG)
fn scatterAddScaled(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let g = flatIndex(wid, nwg, lid);
  let d = ps.d;
  let t = g / d;
  if (t >= ps.segments) {
    return;
  }
  let e = g - t * d;
  let k = idx[t] * d + e;
  let rows = 2u * ps.segments + 1u;
  let end = idx[ps.segments + t + 1u];
  var b = sb1[k];
  for (var s = idx[ps.segments + t]; s < end; s++) {
    let u = idx[rows + s];
    b += bitcast<f32>(idx[ps.off0 + u]) * sx1[u * d + e];
  }
  sb1[k] = b;
}

// Discounted LinUCB, one invocation an element of A (here) or b (discountedB). Every step decays
// every arm, A ← γA + (1−γ)λI, b ← γb, then the step's arm adds x xᵀ and r·x. g decays compose to
// A ← γ^g A + (1−γ^g)λI, so an element needs only its arm's plays: decay by the gap before each
// play, add, and after the last play decay by the gap to the end of the batch.
// idx[off0 + k]: segment of arm k (0xffffffff: not played, decays by fAll, cAll);
// idx[off1 + s + t] / idx[off2 + s + t]: γ^g and (1−γ^g)λ before row-list entry s of segment t
// (s = end: after its last play); idx[off3 + u]: reward of row u. Factors come from the host
// (float64, rounded once to f32): pow() in a shader loses accuracy at large g.
fn discountedElement(a0: f32, k: u32, diag: bool, i: u32, j: u32) -> f32 {
  var a = a0;
  let t = idx[ps.off0 + k];
  if (t == 0xffffffffu) {
    return ps.fAll * a + select(0.0, ps.cAll, diag);
  }
  let d = ps.d;
  let rows = 2u * ps.segments + 1u;
  let end = idx[ps.segments + t + 1u];
  for (var s = idx[ps.segments + t]; s < end; s++) {
    let u = idx[rows + s];
    a = bitcast<f32>(idx[ps.off1 + s + t]) * a + select(0.0, bitcast<f32>(idx[ps.off2 + s + t]), diag);
    a += sx1[u * d + i] * sx1[u * d + j];
  }
  return bitcast<f32>(idx[ps.off1 + end + t]) * a + select(0.0, bitcast<f32>(idx[ps.off2 + end + t]), diag);
}

@compute @workgroup_size(WG)
fn discountedA(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let g = flatIndex(wid, nwg, lid);
  let d = ps.d;
  let dd = d * d;
  let k = g / dd;
  if (k >= ps.matrices) {
    return;
  }
  let e = g - k * dd;
  let i = e / d;
  let j = e - i * d;
  sb1[g] = discountedElement(sb1[g], k, i == j, i, j);
}

// d % 4 == 0: four elements A[i, 4jq..4jq+3] an invocation.
@compute @workgroup_size(WG)
fn discountedAVec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let g = flatIndex(wid, nwg, lid);
  let q = ps.d / 4u;
  let per = ps.d * q;
  let k = g / per;
  if (k >= ps.matrices) {
    return;
  }
  let e = g - k * per;
  let i = e / q;
  let jq = e - i * q;
  let diag = (vec4u(4u * jq) + vec4u(0u, 1u, 2u, 3u)) == vec4u(i);
  var a = sa4[g];
  let t = idx[ps.off0 + k];
  if (t == 0xffffffffu) {
    sa4[g] = ps.fAll * a + select(vec4f(0.0), vec4f(ps.cAll), diag);
    return;
  }
  let rows = 2u * ps.segments + 1u;
  let end = idx[ps.segments + t + 1u];
  for (var s = idx[ps.segments + t]; s < end; s++) {
    let xo = idx[rows + s] * q;
    a = bitcast<f32>(idx[ps.off1 + s + t]) * a + select(vec4f(0.0), vec4f(bitcast<f32>(idx[ps.off2 + s + t])), diag);
    a += sx4[xo + i / 4u][i % 4u] * sx4[xo + jq];
  }
  sa4[g] = bitcast<f32>(idx[ps.off1 + end + t]) * a + select(vec4f(0.0), vec4f(bitcast<f32>(idx[ps.off2 + end + t])), diag);
}

@compute @workgroup_size(WG)
fn discountedB(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let g = flatIndex(wid, nwg, lid);
  let d = ps.d;
  let k = g / d;
  if (k >= ps.matrices) {
    return;
  }
  let i = g - k * d;
  var b = sbb[g];
  let t = idx[ps.off0 + k];
  if (t == 0xffffffffu) {
    sbb[g] = ps.fAll * b;
    return;
  }
  let rows = 2u * ps.segments + 1u;
  let end = idx[ps.segments + t + 1u];
  for (var s = idx[ps.segments + t]; s < end; s++) {
    let u = idx[rows + s];
    b = bitcast<f32>(idx[ps.off1 + s + t]) * b;
    b += bitcast<f32>(idx[ps.off3 + u]) * sx1[u * d + i];
  }
  sbb[g] = bitcast<f32>(idx[ps.off1 + end + t]) * b;
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

// Invocation (arm, row r): a dot of M_k's row r with v_k.
@compute @workgroup_size(WG)
fn gatherMatVec(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                @builtin(local_invocation_index) lid: u32) {
  let g = flatIndex(wid, nwg, lid);
  let d = pm.d;
  let t = g / d;
  if (t >= pm.count) {
    return;
  }
  let r = g - t * d;
  let k = idx[t];
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
fn gatherMatVecVec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let g = flatIndex(wid, nwg, lid);
  let q = pm.d / 4u;
  let t = g / q;
  if (t >= pm.count) {
    return;
  }
  let rq = g - t * q;
  let k = idx[t];
  let row = (k * pm.d + 4u * rq) * q;
  let v = k * q;
  var a0 = vec4f(0.0);
  var a1 = vec4f(0.0);
  var a2 = vec4f(0.0);
  var a3 = vec4f(0.0);
  for (var l = 0u; l < q; l++) {
    let vl = gv4[v + l];
    a0 += gm4[row + l] * vl;
    a1 += gm4[row + q + l] * vl;
    a2 += gm4[row + 2u * q + l] * vl;
    a3 += gm4[row + 3u * q + l] * vl;
  }
  let one = vec4f(1.0);
  gout4[k * q + rq] = vec4f(dot(a0, one), dot(a1, one), dot(a2, one), dot(a3, one));
}

// ---------------------------------------------------------------------------------------------
// inverseDrift: drift_k = max_i Σ_j |(A_k A⁻¹_k − I)_ij|.
// Invocation (arm k, tile of ROWS rows of A_k): the rows of P = A_k·A⁻¹_k in column blocks of
// four, A⁻¹ read by rows (vec4) as in the ucbScores walk, then the row sums of |P − I|. The tiles
// of an arm meet in atomicMax on the bits of their largest row sum: row sums are ≥ +0 or NaN, and
// non-negative f32 order as their u32 bits do, NaN (either sign) above +∞, so a NaN wins. The
// output starts at zero (a new buffer).

struct DriftParams {
  d: u32,
  matrices: u32,
  rowTiles: u32,
}

@group(0) @binding(0) var<uniform> pd: DriftParams;
@group(0) @binding(1) var<storage, read> da1: array<f32>;
@group(0) @binding(2) var<storage, read> dn1: array<f32>;
@group(0) @binding(1) var<storage, read> da4: array<vec4f>;
@group(0) @binding(2) var<storage, read> dn4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> dout: array<atomic<u32>>;

fn rowSumBits(s: vec4f) -> u32 {
  let b = bitcast<vec4u>(s);
  var m = b.x;
  if (ROWS > 1u) {
    m = max(max(m, b.y), max(b.z, b.w));
  }
  return m;
}

@compute @workgroup_size(WG)
fn inverseDriftVec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let g = flatIndex(wid, nwg, lid);
  let k = g / pd.rowTiles;
  if (k >= pd.matrices) {
    return;
  }
  let q = pd.d / 4u;
  let i0 = (g - k * pd.rowTiles) * ROWS;
  let rowsOf = min(vec4u(i0) + vec4u(0u, 1u, 2u, 3u), vec4u(pd.d - 1u));
  let base = k * pd.d * q;
  let ab = rowsOf * q + vec4u(base);
  var sums = vec4f(0.0);
  for (var c = 0u; c < q; c++) {
    var p0 = vec4f(0.0);
    var p1 = vec4f(0.0);
    var p2 = vec4f(0.0);
    var p3 = vec4f(0.0);
    var ni = base + c;
    for (var lb = 0u; lb < q; lb++) {
      let na = dn4[ni];
      let nb = dn4[ni + q];
      let nc = dn4[ni + 2u * q];
      let nd = dn4[ni + 3u * q];
      ni += 4u * q;
      let a0 = da4[ab.x + lb];
      p0 += a0.x * na + a0.y * nb + a0.z * nc + a0.w * nd;
      if (ROWS > 1u) {
        let a1 = da4[ab.y + lb];
        p1 += a1.x * na + a1.y * nb + a1.z * nc + a1.w * nd;
        let a2 = da4[ab.z + lb];
        p2 += a2.x * na + a2.y * nb + a2.z * nc + a2.w * nd;
        let a3 = da4[ab.w + lb];
        p3 += a3.x * na + a3.y * nb + a3.z * nc + a3.w * nd;
      }
    }
    let cols = vec4u(4u * c) + vec4u(0u, 1u, 2u, 3u);
    let one = vec4f(1.0);
    let zero = vec4f(0.0);
    sums.x += dot(abs(p0 - select(zero, one, cols == vec4u(rowsOf.x))), one);
    if (ROWS > 1u) {
      sums.y += dot(abs(p1 - select(zero, one, cols == vec4u(rowsOf.y))), one);
      sums.z += dot(abs(p2 - select(zero, one, cols == vec4u(rowsOf.z))), one);
      sums.w += dot(abs(p3 - select(zero, one, cols == vec4u(rowsOf.w))), one);
    }
  }
  atomicMax(&dout[k], rowSumBits(sums));
}

// Any d: one column of P at a time.
@compute @workgroup_size(WG)
fn inverseDriftScalar(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let g = flatIndex(wid, nwg, lid);
  let k = g / pd.rowTiles;
  if (k >= pd.matrices) {
    return;
  }
  let d = pd.d;
  let i0 = (g - k * pd.rowTiles) * ROWS;
  let rowsOf = min(vec4u(i0) + vec4u(0u, 1u, 2u, 3u), vec4u(d - 1u));
  let base = k * d * d;
  let ab = rowsOf * d + vec4u(base);
  var sums = vec4f(0.0);
  for (var j = 0u; j < d; j++) {
    var p = vec4f(0.0);
    for (var l = 0u; l < d; l++) {
      let n = dn1[base + l * d + j];
      p.x += da1[ab.x + l] * n;
      if (ROWS > 1u) {
        p.y += da1[ab.y + l] * n;
        p.z += da1[ab.z + l] * n;
        p.w += da1[ab.w + l] * n;
      }
    }
    sums += abs(p - select(vec4f(0.0), vec4f(1.0), vec4u(j) == rowsOf));
  }
  atomicMax(&dout[k], rowSumBits(sums));
}

