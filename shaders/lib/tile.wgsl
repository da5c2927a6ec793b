// Register tiles: one invocation takes one matrix M (an arm's A⁻¹, D, L…) and a tile of ROWS rows
// of row vectors x_r (1, 2, 4 or 8), so M streams through registers once a tile rather than once a
// row: reading the matrices (K·d² floats) dominates the traffic of quadForm, ucbScores,
// hybridScores and inverseDrift. Invocations that share a matrix are adjacent, so on a GPU a warp
// reads few matrices (broadcast loads). No workgroup memory, no barriers.
//
// columnBlock4 walks M in column blocks of four: z_r = x_rᵀ M[:, 4cb .. 4cb+3] takes four rows of M
// at a time as full vec4 multiply-adds (no horizontal sums inside), the four products of a row block
// summed before they join z_r; tileDots4 then folds z_r into the quadratic form, dot(z_r, x_r[cb]).
// columnBlock1 is the same walk with scalar loads for any width: the columns past the edge are loaded
// clamped and masked to zero before the dot (maskedTileDots1), so an infinity in the last column cannot
// turn into 0·∞. Plain a·b + c, not fma(): SwiftShader's fma is slow and GPU compilers contract by
// themselves. Rows past the end of the batch are computed on the last row (clamped loads, no branch
// in the inner loop) and not stored.
//
// The kernel defines the loads, by `which` set (a kernel with one set of vectors or of matrices ignores it),
// indices in vec4s (…4) or in elements (…1):
//   fn tileVec4(which: u32, i: u32) -> vec4f    fn tileVec1(which: u32, i: u32) -> f32    row vectors
//   fn tileMat4(which: u32, i: u32) -> vec4f    fn tileMat1(which: u32, i: u32) -> f32    matrices

/// Rows of a tile: 1, 2, 4 or 8 with vec4 loads, 1, 2 or 4 with scalar loads.
override ROWS: u32 = 4;

/// An invocation's matrix (arm) and first row, for `rowTiles` tiles of ROWS rows an arm.
struct ArmTile {
  valid: bool,
  arm: u32,
  i0: u32,
}

fn armTile(g: u32, arms: u32, rowTiles: u32) -> ArmTile {
  let arm = g / rowTiles;
  return ArmTile(arm < arms, arm, (g - arm * rowTiles) * ROWS);
}

/// Offsets of the tile's rows i0 … i0+3 (lo) and i0+4 … i0+7 (hi).
struct TileRows {
  lo: vec4u,
  hi: vec4u,
}

/// Element offsets row·rowStride + base of the rows from i0, clamped to the last of `rows`.
fn tileRows(i0: u32, rows: u32, rowStride: u32, base: u32) -> TileRows {
  let last = rows - 1u;
  return TileRows(clampedLanes(i0, last) * rowStride + vec4u(base), clampedLanes(i0 + 4u, last) * rowStride + vec4u(base));
}

/// The same offsets in vec4s (every row starts on a vec4).
fn inVec4s(r: TileRows) -> TileRows {
  return TileRows(r.lo / vec4u(4u), r.hi / vec4u(4u));
}

/// Eight vec4 accumulators, one a row of the tile. Always initialised explicitly (zeroAcc): a
/// `var w: Acc8;` declared inside a loop was not zeroed again on each iteration on Dawn +
/// SwiftShader (seen here).
struct Acc8 {
  r0: vec4f,
  r1: vec4f,
  r2: vec4f,
  r3: vec4f,
  r4: vec4f,
  r5: vec4f,
  r6: vec4f,
  r7: vec4f,
}

fn zeroAcc() -> Acc8 {
  let z = vec4f(0.0);
  return Acc8(z, z, z, z, z, z, z, z);
}

fn quad4(x: vec4f, ma: vec4f, mb: vec4f, mc: vec4f, md: vec4f) -> vec4f {
  return x.x * ma + x.y * mb + x.z * mc + x.w * md;
}

/// Block cb of x_rᵀ M over M's rows 4·jb0 … 4·jb1 − 1, M from vec4 mBase with mq vec4s a row;
/// x: the tile's rows in vec4s.
fn columnBlock4(vset: u32, mset: u32, x: TileRows, mBase: u32, mq: u32, jb0: u32, jb1: u32, cb: u32) -> Acc8 {
  var s = zeroAcc();
  var mi = mBase + 4u * jb0 * mq + cb;
  for (var jb = jb0; jb < jb1; jb++) {
    let ma = tileMat4(mset, mi);
    let mb = tileMat4(mset, mi + mq);
    let mc = tileMat4(mset, mi + 2u * mq);
    let md = tileMat4(mset, mi + 3u * mq);
    mi += 4u * mq;
    s.r0 += quad4(tileVec4(vset, x.lo.x + jb), ma, mb, mc, md);
    if (ROWS > 1u) {
      s.r1 += quad4(tileVec4(vset, x.lo.y + jb), ma, mb, mc, md);
    }
    if (ROWS > 2u) {
      s.r2 += quad4(tileVec4(vset, x.lo.z + jb), ma, mb, mc, md);
      s.r3 += quad4(tileVec4(vset, x.lo.w + jb), ma, mb, mc, md);
    }
    if (ROWS > 4u) {
      s.r4 += quad4(tileVec4(vset, x.hi.x + jb), ma, mb, mc, md);
      s.r5 += quad4(tileVec4(vset, x.hi.y + jb), ma, mb, mc, md);
      s.r6 += quad4(tileVec4(vset, x.hi.z + jb), ma, mb, mc, md);
      s.r7 += quad4(tileVec4(vset, x.hi.w + jb), ma, mb, mc, md);
    }
  }
  return s;
}

/// M·v for rows 4jb … 4jb+3 of M (from vec4 mi, mq vec4s a row) and the vector at vec4 v, as vec4
/// partial sums: column r of the result adds up to row r's product.
fn rowBlockTimes4(vset: u32, mset: u32, mi: u32, mq: u32, v: u32) -> mat4x4f {
  var w = mat4x4f();
  for (var l = 0u; l < mq; l++) {
    let vl = tileVec4(vset, v + l);
    w[0] += tileMat4(mset, mi + l) * vl;
    w[1] += tileMat4(mset, mi + mq + l) * vl;
    w[2] += tileMat4(mset, mi + 2u * mq + l) * vl;
    w[3] += tileMat4(mset, mi + 3u * mq + l) * vl;
  }
  return w;
}

/// The columns c0 … c0+3 of a width-n walk, clamped (col) and whether each is inside.
struct ColumnQuad {
  col: vec4u,
  inside: vec4<bool>,
}

fn columnQuad(c0: u32, n: u32) -> ColumnQuad {
  let cols = vec4u(c0) + LANES;
  return ColumnQuad(min(cols, vec4u(n - 1u)), cols < vec4u(n));
}

/// Per row of four, the quadratic form's and the mean's dots with the same load of x_r.
struct TileDots {
  q: vec4f,
  mean: vec4f,
}

/// (dot(z_r, x_r[cb]), dot(v, x_r[cb]))_r for four rows of the tile at vec4 offsets o (its lo or
/// hi rows); a kernel without a mean passes v = 0 and ignores .mean (the compiler drops it).
fn tileDots4(vset: u32, o: vec4u, cb: u32, z0: vec4f, z1: vec4f, z2: vec4f, z3: vec4f, v: vec4f) -> TileDots {
  var r = TileDots(vec4f(0.0), vec4f(0.0));
  var x = tileVec4(vset, o.x + cb);
  r.q.x = dot(z0, x);
  r.mean.x = dot(v, x);
  if (ROWS > 1u) {
    x = tileVec4(vset, o.y + cb);
    r.q.y = dot(z1, x);
    r.mean.y = dot(v, x);
  }
  if (ROWS > 2u) {
    x = tileVec4(vset, o.z + cb);
    r.q.z = dot(z2, x);
    r.mean.z = dot(v, x);
    x = tileVec4(vset, o.w + cb);
    r.q.w = dot(z3, x);
    r.mean.w = dot(v, x);
  }
  return r;
}

/// s + x_r[j]·M[j, col] (s − … with sub) over M's rows j0 … j1 − 1 (mRow elements a row, from
/// mBase) for the tile's rows at element offsets x (ROWS ≤ 4); col clamped by the caller.
fn columnBlock1(s0: Acc8, sub: bool, vset: u32, mset: u32, x: vec4u, mBase: u32, mRow: u32, j0: u32, j1: u32, col: vec4u) -> Acc8 {
  var s = s0;
  // Negation is exact: s + (−x)·m is s − x·m to the bit.
  let sign = select(1.0, -1.0, sub);
  for (var j = j0; j < j1; j++) {
    let row = mBase + j * mRow;
    let mj = vec4f(tileMat1(mset, row + col.x), tileMat1(mset, row + col.y), tileMat1(mset, row + col.z), tileMat1(mset, row + col.w));
    s.r0 += (sign * tileVec1(vset, x.x + j)) * mj;
    if (ROWS > 1u) {
      s.r1 += (sign * tileVec1(vset, x.y + j)) * mj;
    }
    if (ROWS > 2u) {
      s.r2 += (sign * tileVec1(vset, x.z + j)) * mj;
      s.r3 += (sign * tileVec1(vset, x.w + j)) * mj;
    }
  }
  return s;
}

/// Elements col of the row at element offset o, zero where not inside.
fn maskedCols1(vset: u32, o: u32, col: vec4u, inside: vec4<bool>) -> vec4f {
  let v = vec4f(tileVec1(vset, o + col.x), tileVec1(vset, o + col.y), tileVec1(vset, o + col.z), tileVec1(vset, o + col.w));
  return select(vec4f(0.0), v, inside);
}

/// tileDots4 with scalar loads: (dot(z_r, x_r[col]), dot(v, x_r[col]))_r with z_r and x_r masked to
/// the columns inside (v must be masked by the caller), rows at element offsets x (ROWS ≤ 4).
fn maskedTileDots1(vset: u32, x: vec4u, col: vec4u, inside: vec4<bool>, z: Acc8, v: vec4f) -> TileDots {
  let zero = vec4f(0.0);
  var r = TileDots(zero, zero);
  var xr = maskedCols1(vset, x.x, col, inside);
  r.q.x = dot(select(zero, z.r0, inside), xr);
  r.mean.x = dot(v, xr);
  if (ROWS > 1u) {
    xr = maskedCols1(vset, x.y, col, inside);
    r.q.y = dot(select(zero, z.r1, inside), xr);
    r.mean.y = dot(v, xr);
  }
  if (ROWS > 2u) {
    xr = maskedCols1(vset, x.z, col, inside);
    r.q.z = dot(select(zero, z.r2, inside), xr);
    r.mean.z = dot(v, xr);
    xr = maskedCols1(vset, x.w, col, inside);
    r.q.w = dot(select(zero, z.r3, inside), xr);
    r.mean.w = dot(v, xr);
  }
  return r;
}
