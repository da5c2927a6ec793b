// inverseDrift: drift_k = max_i Σ_j |(A_k A⁻¹_k − I)_ij|, the health of a kept inverse.
// Matrices are K d×d row-major, one after another.
//
// Invocation (arm k, tile of ROWS = 4 rows of A_k): the rows of P = A_k·A⁻¹_k in column blocks of
// four, the register-tile walk of lib/tile.wgsl with A's rows as the row vectors and A⁻¹ as the
// matrix, then the row sums of |P − I|. The tiles of an arm meet in atomicMax on the bits of their
// largest row sum: row sums are ≥ +0 or NaN, and non-negative f32 order as their u32 bits do, NaN
// (either sign) above +∞, so a NaN wins. The output starts at zero (the op clears it).
// Needs lib/grid.wgsl and lib/tile.wgsl.

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

fn tileVec4(which: u32, i: u32) -> vec4f {
  return da4[i];
}

fn tileMat4(which: u32, i: u32) -> vec4f {
  return dn4[i];
}

fn tileVec1(which: u32, i: u32) -> f32 {
  return da1[i];
}

fn tileMat1(which: u32, i: u32) -> f32 {
  return dn1[i];
}

fn rowSumBits(s: vec4f) -> u32 {
  let b = bitcast<vec4u>(s);
  var m = b.x;
  if (ROWS > 1u) {
    m = max(max(m, b.y), max(b.z, b.w));
  }
  return m;
}

@compute @workgroup_size(WG)
fn inverseDriftVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = armTile(invocationIndex(grid, lid), pd.matrices, pd.rowTiles);
  if (!t.valid) {
    return;
  }
  let q = pd.d / 4u;
  let base = t.arm * pd.d * q;
  let rowsOf = clampedLanes(t.i0, pd.d - 1u);
  let a = TileRows(rowsOf * q + vec4u(base), vec4u(0u));
  let one = vec4f(1.0);
  let zero = vec4f(0.0);
  var sums = vec4f(0.0);
  for (var c = 0u; c < q; c++) {
    let p = columnBlock4(0u, 0u, a, base, q, 0u, q, c);
    let cols = vec4u(4u * c) + LANES;
    sums.x += dot(abs(p.r0 - select(zero, one, cols == vec4u(rowsOf.x))), one);
    if (ROWS > 1u) {
      sums.y += dot(abs(p.r1 - select(zero, one, cols == vec4u(rowsOf.y))), one);
      sums.z += dot(abs(p.r2 - select(zero, one, cols == vec4u(rowsOf.z))), one);
      sums.w += dot(abs(p.r3 - select(zero, one, cols == vec4u(rowsOf.w))), one);
    }
  }
  atomicMax(&dout[t.arm], rowSumBits(sums));
}

// Any d: one column of P at a time.
@compute @workgroup_size(WG)
fn inverseDriftScalar(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = armTile(invocationIndex(grid, lid), pd.matrices, pd.rowTiles);
  if (!t.valid) {
    return;
  }
  let d = pd.d;
  let rowsOf = clampedLanes(t.i0, d - 1u);
  let base = t.arm * d * d;
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
  atomicMax(&dout[t.arm], rowSumBits(sums));
}
