// LinUCB select scores: out[i, outBase + k] = θ_kᵀx + α·sqrt(max(q, 0)), q = xᵀA⁻¹_k x.
// Matrices are K d×d row-major, one after another; vectors K×d.
//
// One invocation computes one arm k for a tile of ROWS rows (the register-tile walk of
// lib/tile.wgsl), so each A⁻¹_k streams through registers once a tile: reading A⁻¹ (K·d² floats)
// dominates the traffic. ucbScoresVec4 walks A⁻¹ in column blocks of four, θ_kᵀx riding along on
// the x[c..c+3] loads. ucbScoresVec4Row (B = 1, one row a tile) walks A⁻¹ by rows instead, four
// rows at a time: the same loads per multiply-add, and on a GPU each invocation streams its own
// matrix contiguously (whole cache lines used) rather than down a column band.
// Rounding depth of q ≤ d + d/4 + 3 (≤ 2d + 4, the tests' bound); of θᵀx ≤ d + 4.
// Needs lib/grid.wgsl, lib/nan.wgsl, lib/tile.wgsl and lib/score.wgsl.

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

fn tileVec4(which: u32, i: u32) -> vec4f {
  return ux4[i];
}

fn tileMat4(which: u32, i: u32) -> vec4f {
  return um4[i];
}

fn tileVec1(which: u32, i: u32) -> f32 {
  return ux1[i];
}

fn tileMat1(which: u32, i: u32) -> f32 {
  return um1[i];
}

fn storeScore(i: u32, col: u32, value: f32) {
  uout[i * pu.outCols + col] = value;
}

fn ucbTile(grid: Grid, lid: u32) -> ArmTile {
  return armTile(invocationIndex(grid, lid), pu.arms, pu.rowTiles);
}

fn ucbRows(t: ArmTile) -> TileRows {
  return tileRows(t.i0, pu.rows, pu.xRowStride, pu.xBase + t.arm * pu.xArmStride);
}

// d % 4 == 0, ROWS = 2, 4 or 8: every row of A⁻¹, θ and x starts on a vec4.
@compute @workgroup_size(WG)
fn ucbScoresVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = ucbTile(grid, lid);
  if (!t.valid) {
    return;
  }
  let q = pu.d / 4u;
  let x = inVec4s(ucbRows(t));
  let mBase = t.arm * pu.d * q;
  var acc = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var th = vec4f(0.0);
  var th2 = vec4f(0.0);
  for (var c = 0u; c < q; c++) {
    let z = columnBlock4(0u, 0u, x, mBase, q, 0u, q, c);
    let tc = ut4[t.arm * q + c];
    let lo = tileDots4(0u, x.lo, c, z.r0, z.r1, z.r2, z.r3, tc);
    acc += lo.q;
    th += lo.mean;
    if (ROWS > 4u) {
      let hi = tileDots4(0u, x.hi, c, z.r4, z.r5, z.r6, z.r7, tc);
      acc2 += hi.q;
      th2 += hi.mean;
    }
  }
  storeScoreTile(t.i0, pu.rows, pu.outBase + t.arm, pu.alpha, th, acc, th2, acc2);
}

// One row a tile (ROWS = 1), d % 4 == 0: A⁻¹ by rows, four at a time. w_r = A⁻¹[j+r, :]·x as
// vec4 partial sums, folded as Σ_r x_{j+r}·w_r into a vec4 whose components add up to q.
@compute @workgroup_size(WG)
fn ucbScoresVec4Row(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = ucbTile(grid, lid);
  if (!t.valid) {
    return;
  }
  let q = pu.d / 4u;
  let xb = inVec4s(ucbRows(t)).lo.x;
  let mBase = t.arm * pu.d * q;
  let tBase = t.arm * q;
  var acc = vec4f(0.0);
  var th = vec4f(0.0);
  for (var jb = 0u; jb < q; jb++) {
    let w = rowBlockTimes4(0u, 0u, mBase + 4u * jb * q, q, xb);
    let xj = ux4[xb + jb];
    acc += xj.x * w[0] + xj.y * w[1] + xj.z * w[2] + xj.w * w[3];
    th += ut4[tBase + jb] * xj;
  }
  let one = vec4f(1.0);
  storeScore(t.i0, pu.outBase + t.arm, ucbScore(dot(th, one), dot(acc, one), pu.alpha));
}

// Any d: the column-block walk with scalar loads (ROWS = 1, 2 or 4).
@compute @workgroup_size(WG)
fn ucbScoresScalar(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = ucbTile(grid, lid);
  if (!t.valid) {
    return;
  }
  let d = pu.d;
  let x = ucbRows(t).lo;
  let tBase = t.arm * d;
  let zero = vec4f(0.0);
  var acc = zero;
  var th = zero;
  for (var l0 = 0u; l0 < d; l0 += 4u) {
    let c = columnQuad(l0, d);
    let z = columnBlock1(zeroAcc(), false, 0u, 0u, x, t.arm * d * d, d, 0u, d, c.col);
    let tc = select(zero, vec4f(ut1[tBase + c.col.x], ut1[tBase + c.col.y], ut1[tBase + c.col.z], ut1[tBase + c.col.w]), c.inside);
    let dots = maskedTileDots1(0u, x, c.col, c.inside, z, tc);
    acc += dots.q;
    th += dots.mean;
  }
  storeScoreTile(t.i0, pu.rows, pu.outBase + t.arm, pu.alpha, th, acc, zero, zero);
}
