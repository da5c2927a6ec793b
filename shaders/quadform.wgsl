// Batched quadratic forms: out[i, k] = x_iᵀ M_k x_i (x_{i,k} when each arm has its own vector).
//
// One invocation computes one matrix k for a tile of ROWS rows i (ROWS = 1 or 4), the register-tile
// walk of lib/tile.wgsl: M_k streams through registers once a tile rather than once a row (reading
// M dominates the memory traffic: K·d² floats against B·d for a shared x). The four products of a
// block are summed before they join z, which keeps the rounding depth near d/2 + 8 (d + d/4 + 5 in
// the scalar walk), inside the 2d of the tests' bound.
// (fma() measured no faster on SwiftShader; GPU compilers contract a·b + c themselves.)
// Needs lib/grid.wgsl and lib/tile.wgsl.

struct QuadFormParams {
  rows: u32,
  arms: u32,
  d: u32,
  /// Elements from x_i to x_{i+1}: d (shared) or K·d (per arm).
  xRowStride: u32,
  /// Elements from x_{i,k} to x_{i,k+1}: 0 (shared) or d (per arm).
  xArmStride: u32,
  rowTiles: u32,
}

@group(0) @binding(0) var<uniform> p: QuadFormParams;
@group(0) @binding(1) var<storage, read> x4: array<vec4f>;
@group(0) @binding(2) var<storage, read> m4: array<vec4f>;
@group(0) @binding(1) var<storage, read> x1: array<f32>;
@group(0) @binding(2) var<storage, read> m1: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn tileVec4(which: u32, i: u32) -> vec4f {
  return x4[i];
}

fn tileMat4(which: u32, i: u32) -> vec4f {
  return m4[i];
}

fn tileVec1(which: u32, i: u32) -> f32 {
  return x1[i];
}

fn tileMat1(which: u32, i: u32) -> f32 {
  return m1[i];
}

fn store(t: ArmTile, acc: vec4f) {
  for (var r = 0u; r < ROWS; r++) {
    let i = t.i0 + r;
    if (i < p.rows) {
      out[i * p.arms + t.arm] = acc[r];
    }
  }
}

// d % 4 == 0: every row of M and every x vector starts on a vec4.
@compute @workgroup_size(WG)
fn quadFormVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = armTile(invocationIndex(grid, lid), p.arms, p.rowTiles);
  if (!t.valid) {
    return;
  }
  let q = p.d / 4u;
  let x = inVec4s(tileRows(t.i0, p.rows, p.xRowStride, t.arm * p.xArmStride));
  let mBase = t.arm * p.d * q;
  var acc = vec4f(0.0);
  for (var c = 0u; c < q; c++) {
    let z = columnBlock4(0u, 0u, x, mBase, q, 0u, q, c);
    acc += tileDots4(0u, x.lo, c, z.r0, z.r1, z.r2, z.r3, vec4f(0.0)).q;
  }
  store(t, acc);
}

// Any d: the same walk with scalar loads, one row j at a time.
@compute @workgroup_size(WG)
fn quadFormScalar(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = armTile(invocationIndex(grid, lid), p.arms, p.rowTiles);
  if (!t.valid) {
    return;
  }
  let d = p.d;
  let x = tileRows(t.i0, p.rows, p.xRowStride, t.arm * p.xArmStride).lo;
  var acc = vec4f(0.0);
  for (var l0 = 0u; l0 < d; l0 += 4u) {
    let c = columnQuad(l0, d);
    let z = columnBlock1(zeroAcc(), false, 0u, 0u, x, t.arm * d * d, d, 0u, d, c.col);
    acc += maskedTileDots1(0u, x, c.col, c.inside, z, vec4f(0.0)).q;
  }
  store(t, acc);
}
