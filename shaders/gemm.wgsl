// Batched GEMM  C_b ← α·op(A_b)·op(B_b) + β·C_b  and batched matrix–vector  y_b ← α·op(A_b)·x_b + β·y_b.
//
// Register tiling without workgroup memory or barriers: each invocation owns an 8×8 tile of C
// (4 outputs of y), keeps it in four mat4x4f accumulators and streams op(A) and op(B) through
// registers. On SwiftShader a workgroup runs on one CPU thread with invocations as SIMD lanes,
// where barriers cost far more than the reloads they save; on a GPU the reloads of one workgroup
// mostly hit in L1.
//
// Two kinds of entry point:
//  - `*Vec4`: vec4 loads and stores, for the aligned case (the caller checks the alignment);
//    transposes are pipeline constants, so each combination is its own specialised pipeline.
//  - `*Scalar`: scalar loads at any size and stride; transposes are uniform strides.
// Indices past the edge are clamped to the last valid row/column (a valid load) and their results
// not stored, so no load is ever out of bounds.
//
// Workgroup index is flat (`wid.x + wid.y·nwg.x`, the runtime splits big grids over y). Two maps
// from it to tiles (`p.blocked`):
//  - flat: consecutive invocations take consecutive tiles of consecutive matrices, so a batch of
//    small matrices (10000 × 8×8) fills every lane;
//  - blocked: a workgroup covers a (WG >> bnLog2) × (1 << bnLog2) block of tiles of one matrix,
//    so the rows of A and columns of B it reads are shared by its invocations (cache reuse).
// α = 0 reads neither A nor B and β = 0 does not read C (BLAS semantics: NaN there does not leak).
// Needs lib/grid.wgsl.
override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct GemmParams {
  batch: u32,
  m: u32,
  n: u32,
  k: u32,
  strideA: u32,
  strideB: u32,
  strideC: u32,
  alpha: f32,
  beta: f32,
  tilesM: u32,
  tilesN: u32,
  blocked: u32,
  bnLog2: u32,
  blocksN: u32,
  blocksPerMatrix: u32,
  // op(A)[i, l] = A[i·aRow + l·aCol], op(B)[l, j] = B[l·bRow + j·bCol] (scalar path only).
  aRow: u32,
  aCol: u32,
  bRow: u32,
  bCol: u32,
}

@group(0) @binding(0) var<uniform> p: GemmParams;
@group(0) @binding(1) var<storage, read> aVec: array<vec4f>;
@group(0) @binding(2) var<storage, read> bVec: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> cVec: array<vec4f>;
@group(0) @binding(1) var<storage, read> aF: array<f32>;
@group(0) @binding(2) var<storage, read> bF: array<f32>;
@group(0) @binding(3) var<storage, read_write> cF: array<f32>;

struct Tile {
  batch: u32,
  row: u32, // tile row index (in tiles)
  col: u32, // tile column index
  valid: bool,
}

fn gemmTile(grid: Grid, lid: u32) -> Tile {
  let g = groupIndex(grid);
  var t: Tile;
  if (p.blocked == 0u) {
    let perMatrix = p.tilesM * p.tilesN;
    let flat = g * WG + lid;
    t.batch = flat / perMatrix;
    let r = flat - t.batch * perMatrix;
    t.row = r / p.tilesN;
    t.col = r - t.row * p.tilesN;
    t.valid = t.batch < p.batch;
  } else {
    t.batch = g / p.blocksPerMatrix;
    let r = g - t.batch * p.blocksPerMatrix;
    let br = r / p.blocksN;
    let bc = r - br * p.blocksN;
    t.row = (br << (firstTrailingBit(WG) - p.bnLog2)) + (lid >> p.bnLog2);
    t.col = (bc << p.bnLog2) + (lid & ((1u << p.bnLog2) - 1u));
    t.valid = t.batch < p.batch && t.row < p.tilesM && t.col < p.tilesN;
  }
  return t;
}

// An 8×8 tile of C as 2×2 blocks of 4×4: b00 rows row..row+3, columns col..col+3; b01 the next
// four columns; b10, b11 the next four rows.
struct Tile8 {
  b00: mat4x4f,
  b01: mat4x4f,
  b10: mat4x4f,
  b11: mat4x4f,
}

// Block b (2I + J) of the tile: its rows and columns start at 8·t.row + 4I and 8·t.col + 4J.
fn blockOrigin(t: Tile, b: u32) -> vec2u {
  return vec2u(t.row * 8u + (b / 2u) * 4u, t.col * 8u + (b % 2u) * 4u);
}

// Vec4 path, an 8×8 tile of C an invocation (2×2 blocks of 4×4): n % 4 == 0, k % 4 == 0, and
// m % 4 == 0 when TRANS_A (the host checks). Per step of 4 along k, a_I holds rows I·4.. of
// op(A) (a_I[i] = op(A)[row + 4I + i, l..l+4]), b_J rows of op(B) (b_J[q] = op(B)[l + q, col + 4J..]);
// then C_IJ[i] += Σ_q a_I[i][q]·b_J[q], i.e. acc_IJ += b_J·a_I. Rows and column blocks past the
// edge load a valid clamped neighbour and are not stored.
fn productVec4(t: Tile, row: u32, col: u32) -> Tile8 {
  var acc = Tile8(mat4x4f(), mat4x4f(), mat4x4f(), mat4x4f());
  if (p.alpha == 0.0) {
    return acc;
  }
  let offA = t.batch * p.strideA;
  let offB = t.batch * p.strideB;
  let ks = p.k >> 2u;
  // In vec4 units. TRANS_A: A is k×m, block I starts at column min(row + 4I, m - 4) of row 0;
  // else row r of A starts at r·k, rows clamped to m - 1.
  var ar: array<u32, 8>;
  if (TRANS_A) {
    ar[0] = (offA + min(row, p.m - 4u)) >> 2u;
    ar[1] = (offA + min(row + 4u, p.m - 4u)) >> 2u;
  } else {
    for (var i = 0u; i < 8u; i++) {
      ar[i] = (offA + min(row + i, p.m - 1u) * p.k) >> 2u;
    }
  }
  let aStep = select(ks, p.m >> 2u, TRANS_A);
  let c0 = min(col, p.n - 4u);
  let c1 = min(col + 4u, p.n - 4u);
  // TRANS_B: B is n×k, rows c.. of B; else row l of B, columns c...
  let b0 = select((offB + c0) >> 2u, (offB + c0 * p.k) >> 2u, TRANS_B);
  let b1 = select((offB + c1) >> 2u, (offB + c1 * p.k) >> 2u, TRANS_B);
  let bStep = select(p.n >> 2u, ks, TRANS_B);
  let ar0 = ar[0]; let ar1 = ar[1]; let ar2 = ar[2]; let ar3 = ar[3];
  let ar4 = ar[4]; let ar5 = ar[5]; let ar6 = ar[6]; let ar7 = ar[7];
  for (var lq = 0u; lq < ks; lq++) {
    var a0: mat4x4f;
    var a1: mat4x4f;
    if (TRANS_A) {
      let at0 = ar0 + lq * p.m;
      let at1 = ar1 + lq * p.m;
      a0 = transpose(mat4x4f(aVec[at0], aVec[at0 + aStep], aVec[at0 + 2u * aStep], aVec[at0 + 3u * aStep]));
      a1 = transpose(mat4x4f(aVec[at1], aVec[at1 + aStep], aVec[at1 + 2u * aStep], aVec[at1 + 3u * aStep]));
    } else {
      a0 = mat4x4f(aVec[ar0 + lq], aVec[ar1 + lq], aVec[ar2 + lq], aVec[ar3 + lq]);
      a1 = mat4x4f(aVec[ar4 + lq], aVec[ar5 + lq], aVec[ar6 + lq], aVec[ar7 + lq]);
    }
    var bm0: mat4x4f;
    var bm1: mat4x4f;
    if (TRANS_B) {
      let bt0 = b0 + lq;
      let bt1 = b1 + lq;
      bm0 = transpose(mat4x4f(bVec[bt0], bVec[bt0 + bStep], bVec[bt0 + 2u * bStep], bVec[bt0 + 3u * bStep]));
      bm1 = transpose(mat4x4f(bVec[bt1], bVec[bt1 + bStep], bVec[bt1 + 2u * bStep], bVec[bt1 + 3u * bStep]));
    } else {
      let bt0 = b0 + lq * p.n;
      let bt1 = b1 + lq * p.n;
      bm0 = mat4x4f(bVec[bt0], bVec[bt0 + bStep], bVec[bt0 + 2u * bStep], bVec[bt0 + 3u * bStep]);
      bm1 = mat4x4f(bVec[bt1], bVec[bt1 + bStep], bVec[bt1 + 2u * bStep], bVec[bt1 + 3u * bStep]);
    }
    acc.b00 += bm0 * a0;
    acc.b01 += bm1 * a0;
    acc.b10 += bm0 * a1;
    acc.b11 += bm1 * a1;
  }
  return acc;
}

// Scalar path: any sizes, strides and transposes, an 8×8 tile an invocation as on the vec4 path
// (1.6× the 4×4 tile's GFLOP/s per CPU-second on SwiftShader). Per step along k: a column
// segment of op(A) (av0: rows 0–3, av1: rows 4–7) and a row segment of op(B) (bv0, bv1), then
// the outer products. Rows and columns past the edge load clamped neighbours, are not stored.
fn productScalar(t: Tile, row: u32, col: u32) -> Tile8 {
  var acc = Tile8(mat4x4f(), mat4x4f(), mat4x4f(), mat4x4f());
  if (p.alpha == 0.0) {
    return acc;
  }
  let lastRow = p.m - 1u;
  let lastCol = p.n - 1u;
  let offA = t.batch * p.strideA;
  let offB = t.batch * p.strideB;
  var ra: array<u32, 8>;
  var cb: array<u32, 8>;
  for (var i = 0u; i < 8u; i++) {
    ra[i] = offA + min(row + i, lastRow) * p.aRow;
    cb[i] = offB + min(col + i, lastCol) * p.bCol;
  }
  let a0 = ra[0]; let a1 = ra[1]; let a2 = ra[2]; let a3 = ra[3];
  let a4 = ra[4]; let a5 = ra[5]; let a6 = ra[6]; let a7 = ra[7];
  let b0 = cb[0]; let b1 = cb[1]; let b2 = cb[2]; let b3 = cb[3];
  let b4 = cb[4]; let b5 = cb[5]; let b6 = cb[6]; let b7 = cb[7];
  for (var l = 0u; l < p.k; l++) {
    let la = l * p.aCol;
    let lb = l * p.bRow;
    let av0 = vec4f(aF[a0 + la], aF[a1 + la], aF[a2 + la], aF[a3 + la]);
    let av1 = vec4f(aF[a4 + la], aF[a5 + la], aF[a6 + la], aF[a7 + la]);
    let bv0 = vec4f(bF[b0 + lb], bF[b1 + lb], bF[b2 + lb], bF[b3 + lb]);
    let bv1 = vec4f(bF[b4 + lb], bF[b5 + lb], bF[b6 + lb], bF[b7 + lb]);
    acc.b00 += mat4x4f(bv0 * av0.x, bv0 * av0.y, bv0 * av0.z, bv0 * av0.w);
    acc.b01 += mat4x4f(bv1 * av0.x, bv1 * av0.y, bv1 * av0.z, bv1 * av0.w);
    acc.b10 += mat4x4f(bv0 * av1.x, bv0 * av1.y, bv0 * av1.z, bv0 * av1.w);
    acc.b11 += mat4x4f(bv1 * av1.x, bv1 * av1.y, bv1 * av1.z, bv1 * av1.w);
  }
  return acc;
}

// The tile scaled and merged into C, a 4×4 block at a time (block[i] is row i of the block):
// vec4 stores, so a block's columns are all inside or all outside.
fn storeTileVec4(t: Tile, tile: Tile8) {
  var blocks = array<mat4x4f, 4>(tile.b00, tile.b01, tile.b10, tile.b11);
  for (var b = 0u; b < 4u; b++) {
    let at = blockOrigin(t, b);
    if (at.y >= p.n) {
      continue;
    }
    let base = t.batch * p.strideC + at.x * p.n + at.y;
    for (var i = 0u; i < 4u; i++) {
      if (at.x + i < p.m) {
        let e = (base + i * p.n) >> 2u;
        var v = p.alpha * blocks[b][i];
        if (p.beta != 0.0) {
          v = fma(vec4f(p.beta), cVec[e], v);
        }
        cVec[e] = v;
      }
    }
  }
}

// The same with scalar stores of the elements inside C.
fn storeTileScalar(t: Tile, tile: Tile8) {
  var blocks = array<mat4x4f, 4>(tile.b00, tile.b01, tile.b10, tile.b11);
  for (var e = 0u; e < 64u; e++) {
    let b = e / 16u;
    let i = (e / 4u) % 4u;
    let j = e % 4u;
    let at = blockOrigin(t, b) + vec2u(i, j);
    if (at.x < p.m && at.y < p.n) {
      let c = t.batch * p.strideC + at.x * p.n + at.y;
      var v = p.alpha * blocks[b][i][j];
      if (p.beta != 0.0) {
        v = fma(p.beta, cF[c], v);
      }
      cF[c] = v;
    }
  }
}

@compute @workgroup_size(WG)
fn gemmVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = gemmTile(grid, lid);
  if (t.valid) {
    storeTileVec4(t, productVec4(t, t.row * 8u, t.col * 8u));
  }
}

@compute @workgroup_size(WG)
fn gemmScalar(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = gemmTile(grid, lid);
  if (t.valid) {
    storeTileScalar(t, productScalar(t, t.row * 8u, t.col * 8u));
  }
}

// ---- matrix–vector ----

struct MatVecParams {
  batch: u32,
  rows: u32,
  cols: u32,
  strideA: u32,
  strideX: u32,
  strideY: u32,
  alpha: f32,
  beta: f32,
  outLen: u32,
  groupsPerVector: u32, // ceil(outLen / 4)
}

@group(0) @binding(0) var<uniform> q: MatVecParams;
@group(0) @binding(1) var<storage, read> mA: array<f32>;
@group(0) @binding(2) var<storage, read> mx: array<f32>;
@group(0) @binding(3) var<storage, read_write> my: array<f32>;
@group(0) @binding(1) var<storage, read> mAVec: array<vec4f>;
@group(0) @binding(2) var<storage, read> mxVec: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> myVec: array<vec4f>;

struct Quad {
  batch: u32,
  first: u32, // first of the 4 outputs
  valid: bool,
}

fn matVecQuad(grid: Grid, lid: u32) -> Quad {
  let flat = invocationIndex(grid, lid);
  var o: Quad;
  o.batch = flat / q.groupsPerVector;
  o.first = (flat - o.batch * q.groupsPerVector) * 4u;
  o.valid = o.batch < q.batch;
  return o;
}

fn storeQuadScalar(o: Quad, acc: vec4f) {
  let base = o.batch * q.strideY + o.first;
  for (var i = 0u; i < 4u; i++) {
    if (o.first + i < q.outLen) {
      var v = q.alpha * acc[i];
      if (q.beta != 0.0) {
        v = fma(q.beta, my[base + i], v);
      }
      my[base + i] = v;
    }
  }
}

// y = A·x with cols % 4 == 0 (strides multiples of 4): four rows, each a vec4 dot per step.
fn rowsTimesVec4(o: Quad) -> vec4f {
  var acc = vec4f();
  if (q.alpha == 0.0) {
    return acc;
  }
  let last = q.rows - 1u;
  let offA = o.batch * q.strideA;
  let step = q.cols >> 2u;
  let a0 = (offA + min(o.first, last) * q.cols) >> 2u;
  let a1 = (offA + min(o.first + 1u, last) * q.cols) >> 2u;
  let a2 = (offA + min(o.first + 2u, last) * q.cols) >> 2u;
  let a3 = (offA + min(o.first + 3u, last) * q.cols) >> 2u;
  let x0 = (o.batch * q.strideX) >> 2u;
  for (var j = 0u; j < step; j++) {
    let xv = mxVec[x0 + j];
    acc += vec4f(dot(mAVec[a0 + j], xv), dot(mAVec[a1 + j], xv), dot(mAVec[a2 + j], xv), dot(mAVec[a3 + j], xv));
  }
  return acc;
}

// y = Aᵀ·x with cols % 4 == 0: four adjacent columns, one vec4 of a row of A per step.
fn colsTimesVec4(o: Quad) -> vec4f {
  var acc = vec4f();
  if (q.alpha == 0.0) {
    return acc;
  }
  let step = q.cols >> 2u;
  var at = (o.batch * q.strideA + o.first) >> 2u;
  let x0 = o.batch * q.strideX;
  for (var i = 0u; i < q.rows; i++) {
    acc = fma(vec4f(mx[x0 + i]), mAVec[at], acc);
    at += step;
  }
  return acc;
}

// Any sizes; op(A) = Aᵀ when TRANS_A: op(A)[i, j] = A[i·opRow + j·opCol].
fn opTimesScalar(o: Quad) -> vec4f {
  var acc = vec4f();
  if (q.alpha == 0.0) {
    return acc;
  }
  let opRow = select(q.cols, 1u, TRANS_A);
  let opCol = select(1u, q.cols, TRANS_A);
  let inLen = select(q.cols, q.rows, TRANS_A);
  let last = q.outLen - 1u;
  let offA = o.batch * q.strideA;
  let a0 = offA + min(o.first, last) * opRow;
  let a1 = offA + min(o.first + 1u, last) * opRow;
  let a2 = offA + min(o.first + 2u, last) * opRow;
  let a3 = offA + min(o.first + 3u, last) * opRow;
  let x0 = o.batch * q.strideX;
  for (var j = 0u; j < inLen; j++) {
    let aj = j * opCol;
    acc = fma(vec4f(mA[a0 + aj], mA[a1 + aj], mA[a2 + aj], mA[a3 + aj]), vec4f(mx[x0 + j]), acc);
  }
  return acc;
}

// The four outputs of an aligned quad (outLen % 4 == 0) as one vec4 store.
fn storeQuadVec4(o: Quad, acc: vec4f) {
  let yt = (o.batch * q.strideY + o.first) >> 2u;
  var v = q.alpha * acc;
  if (q.beta != 0.0) {
    v = fma(vec4f(q.beta), myVec[yt], v);
  }
  myVec[yt] = v;
}

@compute @workgroup_size(WG)
fn matVecRowsVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let o = matVecQuad(grid, lid);
  if (o.valid) {
    storeQuadScalar(o, rowsTimesVec4(o));
  }
}

@compute @workgroup_size(WG)
fn matVecColsVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let o = matVecQuad(grid, lid);
  if (o.valid) {
    storeQuadVec4(o, colsTimesVec4(o));
  }
}

@compute @workgroup_size(WG)
fn matVecScalar(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let o = matVecQuad(grid, lid);
  if (o.valid) {
    storeQuadScalar(o, opTimesScalar(o));
  }
}
