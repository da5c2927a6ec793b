// NeuralUCB's MLP f(x;θ) = W_L σ(… σ(W_1 x + c_1) …) + c_L (ReLU σ, scalar output), batched over
// all N = B·K rows: forward, backward of the scalar output, the per-row gradients (the N×p
// Jacobian) and the matrix-free diagonal confidence Σ_q J_nq² / Z_q. θ is one flat f32 array:
// per layer l the weights W_l (n_l × n_{l−1}, row-major), then the bias c_l (see mlpLayout).
//
// Every batched pass is one dispatch a layer, whatever N: the K-pass problem (a backward pass an
// arm) becomes a forward and a backward dispatch a layer plus one dispatch a layer that writes J
// (or, for the bonus, a GEMM-shaped one that never forms J).
//
// The GEMM-shaped kernels (denseForward, denseBackward, bonusPartial) compute a register tile
// acc[u][r] = Σ_k A[row r, k]·W(unit u, k) of 4 units × 4 rows (scalar loads, any alignment:
// tileProduct) or × ROWS = 8 rows (vec4 loads when the widths and offsets are multiples of 4:
// tileProductVec4), then apply their epilogue (bias + ReLU, ReLU mask, δ²-weighted sum). No
// workgroup memory and no barriers: SwiftShader runs a workgroup as SIMD lanes on one CPU
// thread, where barriers cost far more than the reloads they would save; on a GPU, invocations
// next to each other share one unit block (W loads broadcast) and read neighbouring rows. Rows
// and units past the edge load a clamped valid neighbour and are not stored, so the inner loop
// has no branch.
//
// ReLU: h = z for z > 0, else 0 (NaN passes, where the hardware keeps NaN); σ'(z) = 1 for z > 0,
// else 0, read from h (h > 0 exactly when z > 0), so σ'(0) = 0 and no pre-activation is stored.
// Needs lib/grid.wgsl.

// Rows of a tile in the vec4 kernels: 4 or 8 (two 4-row halves sharing the W loads).
override ROWS: u32 = 4;

struct MlpParams {
  rows: u32,
  // Length of each dot product and number of outputs (units) a row.
  nin: u32,
  nout: u32,
  rowTiles: u32,
  // Unit blocks of 4 (dense kernels), column groups a row (jacobian), slots a row (reduce).
  blocks: u32,
  // A[n, k] = a[aOff + n·aRow + k].
  aOff: u32,
  aRow: u32,
  // W(u, k) = w[wOff + u·wUnit + k·wIn]; bias (forward) or 1/Z of the bias (bonus) at w[bOff + u].
  wOff: u32,
  wUnit: u32,
  wIn: u32,
  bOff: u32,
  // Output element (n, u) at oOff + n·oRow + u (the slot instead of u in bonusPartial).
  oOff: u32,
  oRow: u32,
  // Mask h (backward) or δ (bonus, jacobian) at m[mOff + n·mRow + u].
  mOff: u32,
  mRow: u32,
  flags: u32,
}

// A ≡ 1 with nin = 1: the output layer's δ_L = 1 fed to the last hidden layer's backward.
const UNIT_INPUT: u32 = 1u;
const RELU: u32 = 2u;
// δ ≡ 1: the output layer in bonusPartial and jacobian.
const UNIT_DELTA: u32 = 4u;

@group(0) @binding(0) var<uniform> p: MlpParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> w: array<f32>;
@group(0) @binding(1) var<storage, read> a4: array<vec4f>;
@group(0) @binding(2) var<storage, read> w4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> o3: array<f32>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> o4: array<f32>;
@group(0) @binding(2) var<storage, read_write> o2: array<f32>;

struct Tile {
  valid: bool,
  row0: u32,
  unit0: u32,
  block: u32,
}

fn tileOf(grid: Grid, lid: u32, rows: u32) -> Tile {
  var t: Tile;
  let g = invocationIndex(grid, lid);
  t.valid = g < p.blocks * p.rowTiles;
  t.block = g / p.rowTiles;
  t.row0 = (g - t.block * p.rowTiles) * rows;
  t.unit0 = t.block * 4u;
  return t;
}

// Element offsets of A's rows row0 … row0+3 (clamped to the last row).
fn rowOffsets(t: Tile) -> vec4u {
  return clampedLanes(t.row0, p.rows - 1u) * p.aRow + vec4u(p.aOff);
}

// Element offsets of W(u, 0) for units unit0 … unit0+3 (clamped to the last unit).
fn unitOffsets(t: Tile) -> vec4u {
  return clampedLanes(t.unit0, p.nout - 1u) * p.wUnit + vec4u(p.wOff);
}

// acc[u][r] = Σ_k A[row0 + r, k]^(2 if square) · W(unit0 + u, k), k in order; any alignment.
fn tileProduct(t: Tile, square: bool) -> mat4x4f {
  let wu = unitOffsets(t);
  if ((p.flags & UNIT_INPUT) != 0u) {
    return mat4x4f(vec4f(w[wu.x]), vec4f(w[wu.y]), vec4f(w[wu.z]), vec4f(w[wu.w]));
  }
  let ar = rowOffsets(t);
  var acc = mat4x4f();
  for (var k = 0u; k < p.nin; k++) {
    var av = vec4f(a[ar.x + k], a[ar.y + k], a[ar.z + k], a[ar.w + k]);
    if (square) {
      av = av * av;
    }
    let wk = wu + vec4u(k * p.wIn);
    acc[0] += w[wk.x] * av;
    acc[1] += w[wk.y] * av;
    acc[2] += w[wk.z] * av;
    acc[3] += w[wk.w] * av;
  }
  return acc;
}

// tileProduct with vec4 loads, four steps of k at a time (aOff, aRow, wOff, nin multiples of 4),
// for ROWS = 4 or 8 rows (lo: rows row0…row0+3, hi: the next four, sharing the W loads): with
// at = transpose(A tile) (at[q][r] = A[row r, k + q]) and wt[u][q] = W(u, k + q), acc[u] +=
// at·wt[u], i.e. sixteen vec4 multiply-adds a half and no horizontal sums.
// wIn == 1: W(u, k..k+3) is one vec4 a unit (W rows: forward, bonus); else (transposed W,
// backward: wUnit == 1, wIn and nout multiples of 4) W(unit0..unit0+3, k + q) is one vec4 a q.
struct Acc {
  lo: mat4x4f,
  hi: mat4x4f,
}

fn upper(t: Tile) -> Tile {
  var h = t;
  h.row0 = t.row0 + 4u;
  return h;
}

fn tileProductVec4(t: Tile, square: bool) -> Acc {
  let ar = rowOffsets(t) / vec4u(4u);
  let ar2 = rowOffsets(upper(t)) / vec4u(4u);
  let wu = unitOffsets(t) / vec4u(4u);
  let byRow = p.wIn == 1u;
  let wq = p.wIn / 4u;
  var acc: Acc;
  let steps = p.nin / 4u;
  for (var s = 0u; s < steps; s++) {
    var wt: mat4x4f;
    if (byRow) {
      wt = mat4x4f(w4[wu.x + s], w4[wu.y + s], w4[wu.z + s], w4[wu.w + s]);
    } else {
      let k = wu.x + s * p.wIn;
      wt = transpose(mat4x4f(w4[k], w4[k + wq], w4[k + 2u * wq], w4[k + 3u * wq]));
    }
    var at = transpose(mat4x4f(a4[ar.x + s], a4[ar.y + s], a4[ar.z + s], a4[ar.w + s]));
    if (square) {
      at = mat4x4f(at[0] * at[0], at[1] * at[1], at[2] * at[2], at[3] * at[3]);
    }
    acc.lo[0] += at * wt[0];
    acc.lo[1] += at * wt[1];
    acc.lo[2] += at * wt[2];
    acc.lo[3] += at * wt[3];
    if (ROWS == 8u) {
      var bt = transpose(mat4x4f(a4[ar2.x + s], a4[ar2.y + s], a4[ar2.z + s], a4[ar2.w + s]));
      if (square) {
        bt = mat4x4f(bt[0] * bt[0], bt[1] * bt[1], bt[2] * bt[2], bt[3] * bt[3]);
      }
      acc.hi[0] += bt * wt[0];
      acc.hi[1] += bt * wt[1];
      acc.hi[2] += bt * wt[2];
      acc.hi[3] += bt * wt[3];
    }
  }
  return acc;
}

// Four units' bias (or 1/Z of the bias), clamped like the units: scalar and vec4-bound versions.
fn biasOf(t: Tile) -> vec4f {
  let b = clampedLanes(t.unit0, p.nout - 1u) + vec4u(p.bOff);
  return vec4f(w[b.x], w[b.y], w[b.z], w[b.w]);
}

fn biasOfVec4(t: Tile) -> vec4f {
  let b = clampedLanes(t.unit0, p.nout - 1u) + vec4u(p.bOff);
  return vec4f(w4[b.x / 4u][b.x % 4u], w4[b.y / 4u][b.y % 4u], w4[b.z / 4u][b.z % 4u], w4[b.w / 4u][b.w % 4u]);
}

fn storeForward(t: Tile, acc: mat4x4f, bias: vec4f) {
  let relu = (p.flags & RELU) != 0u;
  for (var u = 0u; u < 4u; u++) {
    let unit = t.unit0 + u;
    if (unit < p.nout) {
      let col = acc[u] + vec4f(bias[u]);
      for (var r = 0u; r < 4u; r++) {
        let row = t.row0 + r;
        if (row < p.rows) {
          var z = col[r];
          if (relu && z <= 0.0) {
            z = 0.0;
          }
          o3[p.oOff + row * p.oRow + unit] = z;
        }
      }
    }
  }
}

fn storeBackward(t: Tile, acc: mat4x4f) {
  for (var u = 0u; u < 4u; u++) {
    let unit = t.unit0 + u;
    if (unit < p.nout) {
      for (var r = 0u; r < 4u; r++) {
        let row = t.row0 + r;
        if (row < p.rows) {
          let h = m[p.mOff + row * p.mRow + unit];
          o4[p.oOff + row * p.oRow + unit] = select(0.0, acc[u][r], h > 0.0);
        }
      }
    }
  }
}

fn storeBonus(t: Tile, acc: mat4x4f, zc: vec4f) {
  let unitDelta = (p.flags & UNIT_DELTA) != 0u;
  var total = vec4f(0.0);
  let dr = clampedLanes(t.row0, p.rows - 1u) * p.mRow + vec4u(p.mOff);
  for (var u = 0u; u < 4u; u++) {
    let unit = t.unit0 + u;
    if (unit < p.nout) {
      var d = vec4f(1.0);
      if (!unitDelta) {
        d = vec4f(m[dr.x + unit], m[dr.y + unit], m[dr.z + unit], m[dr.w + unit]);
      }
      total += d * d * (acc[u] + vec4f(zc[u]));
    }
  }
  for (var r = 0u; r < 4u; r++) {
    let row = t.row0 + r;
    if (row < p.rows) {
      o4[row * p.oRow + p.oOff + t.block] = total[r];
    }
  }
}

// One layer of the forward pass: out[n, u] = σ(Σ_k W_l[u, k]·h[n, k] + c_l[u]) (σ = identity
// for the output layer).
@compute @workgroup_size(WG)
fn denseForward(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = tileOf(grid, lid, 4u);
  if (t.valid) {
    storeForward(t, tileProduct(t, false), biasOf(t));
  }
}

@compute @workgroup_size(WG)
fn denseForwardVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = tileOf(grid, lid, ROWS);
  if (t.valid) {
    let acc = tileProductVec4(t, false);
    let bias = biasOfVec4(t);
    storeForward(t, acc.lo, bias);
    if (ROWS == 8u) {
      storeForward(upper(t), acc.hi, bias);
    }
  }
}

// One step of backprop: δ_l[n, i] = (Σ_k W_{l+1}[k, i]·δ_{l+1}[n, k])·σ'(z_l[n, i]), with
// W(u, k) = W_{l+1}[k, u] (wUnit = 1, wIn = n_l) and the mask from h_l in m.
@compute @workgroup_size(WG)
fn denseBackward(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = tileOf(grid, lid, 4u);
  if (t.valid) {
    storeBackward(t, tileProduct(t, false));
  }
}

@compute @workgroup_size(WG)
fn denseBackwardVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = tileOf(grid, lid, ROWS);
  if (t.valid) {
    let acc = tileProductVec4(t, false);
    storeBackward(t, acc.lo);
    if (ROWS == 8u) {
      storeBackward(upper(t), acc.hi);
    }
  }
}

// Layer l's share of the diagonal bonus for one unit block: for each row n,
//   Σ_{u in block} δ_l[n, u]²·(Σ_k h_{l−1}[n, k]²/Z_W[u, k] + 1/Z_c[u]),
// with w = 1/Z. Stored in slot oOff + block of row n; bonusReduce adds the slots.
@compute @workgroup_size(WG)
fn bonusPartial(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = tileOf(grid, lid, 4u);
  if (t.valid) {
    storeBonus(t, tileProduct(t, true), biasOf(t));
  }
}

@compute @workgroup_size(WG)
fn bonusPartialVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = tileOf(grid, lid, ROWS);
  if (t.valid) {
    let acc = tileProductVec4(t, true);
    let zc = biasOfVec4(t);
    storeBonus(t, acc.lo, zc);
    if (ROWS == 8u) {
      storeBonus(upper(t), acc.hi, zc);
    }
  }
}

// out[n] = Σ_s partial[n·blocks + s], s in order.
@compute @workgroup_size(WG)
fn bonusReduce(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let n = invocationIndex(grid, lid);
  if (n >= p.rows) {
    return;
  }
  var s = 0.0;
  let base = n * p.blocks;
  for (var k = 0u; k < p.blocks; k++) {
    s += a[base + k];
  }
  o2[n] = s;
}

// o2[q] = 1 / Z[q] for the q < rows entries of the diagonal.
@compute @workgroup_size(WG)
fn reciprocal(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let q = invocationIndex(grid, lid);
  if (q < p.rows) {
    o2[q] = 1.0 / a[q];
  }
}

// Layer l's block of the Jacobian: J[n, wOff + i·nin + j] = δ_l[n, i]·h_{l−1}[n, j] and the bias
// block J[n, bOff + i] = δ_l[n, i]. Row n has `blocks` = ceil(nin/4) + 1 column groups: group
// g < blocks − 1 is columns 4g … 4g+3 of every unit's weight row, the last group the bias column
// (h ≡ 1). An invocation owns one (row, group) and walks the units four at a time, sixteen
// stores a step with no inner branch: columns and units past the edge are clamped, so the same
// invocation rewrites a valid element with the same value. SwiftShader pays a large fixed cost an
// invocation and a loop iteration, so each does much work; on a GPU, neighbouring invocations
// (groups of one row) write neighbouring 16-byte runs and read the same δ.
@compute @workgroup_size(WG)
fn jacobian(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  let n = g / p.blocks;
  if (n >= p.rows) {
    return;
  }
  let group = g - n * p.blocks;
  let out = p.oOff + n * p.oRow;
  var base: u32;
  var unitStride: u32;
  var cols: vec4u;
  var h: vec4f;
  if (group + 1u < p.blocks) {
    cols = clampedLanes(group * 4u, p.nin - 1u);
    let ar = p.aOff + n * p.aRow;
    h = vec4f(a[ar + cols.x], a[ar + cols.y], a[ar + cols.z], a[ar + cols.w]);
    base = out + p.wOff;
    unitStride = p.nin;
  } else {
    cols = vec4u(0u);
    h = vec4f(1.0);
    base = out + p.bOff;
    unitStride = 1u;
  }
  let unitDelta = (p.flags & UNIT_DELTA) != 0u;
  let dRow = p.mOff + n * p.mRow;
  let lastUnit = p.nout - 1u;
  for (var i0 = 0u; i0 < p.nout; i0 += 4u) {
    let units = clampedLanes(i0, lastUnit);
    var d = vec4f(1.0);
    if (!unitDelta) {
      d = vec4f(w[dRow + units.x], w[dRow + units.y], w[dRow + units.z], w[dRow + units.w]);
    }
    let at = vec4u(base) + units * unitStride;
    let v0 = d.x * h;
    let v1 = d.y * h;
    let v2 = d.z * h;
    let v3 = d.w * h;
    o3[at.x + cols.x] = v0.x;
    o3[at.x + cols.y] = v0.y;
    o3[at.x + cols.z] = v0.z;
    o3[at.x + cols.w] = v0.w;
    o3[at.y + cols.x] = v1.x;
    o3[at.y + cols.y] = v1.y;
    o3[at.y + cols.z] = v1.z;
    o3[at.y + cols.w] = v1.w;
    o3[at.z + cols.x] = v2.x;
    o3[at.z + cols.y] = v2.y;
    o3[at.z + cols.z] = v2.z;
    o3[at.z + cols.w] = v2.w;
    o3[at.w + cols.x] = v3.x;
    o3[at.w + cols.y] = v3.y;
    o3[at.w + cols.z] = v3.z;
    o3[at.w + cols.w] = v3.w;
  }
}
