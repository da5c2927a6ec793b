// Training: the loss and its gradient for a batch of rows of the MLP of neural.wgsl, the optimiser
// step, and row gathers / scatter-adds for minibatches and embedding tables.
//
// The gradient of a weighted sum over rows, scale·Σ_n e_n ∇θ f(x_n), is formed by running the
// backward pass from δ_L = e_n (neural.wgsl's denseBackward with the residuals as upstream), so
// every δ' already carries its row's weight; each layer's gradient is then the GEMM δ'ᵀ·[h | 1]
// with the N rows as the contraction axis: weightGradPartial sums a chunk of rows a tile
// (split-K), sumRuns adds the chunks in order. No float atomics, no workgroup memory, no
// barriers: every sum has one owner and a fixed order, so results are deterministic.
// Needs lib/grid.wgsl and lib/segments.wgsl.

// ---------------------------------------------------------------------------------------------
// lossResidual: per row e'_n = scale·w_n·e_n and ℓ'_n = scale·w_n·ℓ_n (w_n ≡ 1 unless weighted).

struct LossParams {
  rows: u32,
  logistic: u32,
  scale: f32,
  weighted: u32,
}

@group(0) @binding(0) var<uniform> lp: LossParams;
@group(0) @binding(1) var<storage, read> lossF: array<f32>;
@group(0) @binding(2) var<storage, read> lossY: array<f32>;
@group(0) @binding(3) var<storage, read_write> lossE: array<f32>;
@group(0) @binding(4) var<storage, read_write> lossL: array<f32>;
// Row weights when lp.weighted != 0 (else any buffer: it is not read).
@group(0) @binding(5) var<storage, read> lossW: array<f32>;

// log(1 + t) for t ≥ 0, accurate for small t: log(u)·t/(u − 1) cancels the rounding of u = 1 + t
// (Goldberg 1991).
fn log1pNonNegative(t: f32) -> f32 {
  let u = 1.0 + t;
  if (u == 1.0) {
    return t;
  }
  return log(u) * t / (u - 1.0);
}

// Squared: e = f − y, ℓ = e²/2. Logistic (binary cross-entropy on the logit f): e = σ(f) − y,
// ℓ = max(f, 0) − y·f + log(1 + exp(−|f|)), with σ evaluated on the side where exp cannot overflow.
@compute @workgroup_size(WG)
fn lossResidual(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let n = invocationIndex(grid, lid);
  if (n >= lp.rows) {
    return;
  }
  let f = lossF[n];
  let y = lossY[n];
  var e: f32;
  var l: f32;
  if (lp.logistic != 0u) {
    let z = exp(-abs(f));
    let s = select(z / (1.0 + z), 1.0 / (1.0 + z), f >= 0.0);
    e = s - y;
    l = max(f, 0.0) - y * f + log1pNonNegative(z);
  } else {
    e = f - y;
    l = 0.5 * e * e;
  }
  // w·e before the scale, so a weight of 1 gives the unweighted values bit for bit.
  var w = 1.0;
  if (lp.weighted != 0u) {
    w = lossW[n];
  }
  lossE[n] = lp.scale * (w * e);
  lossL[n] = lp.scale * (w * l);
}

// ---------------------------------------------------------------------------------------------
// weightGradPartial: G[i, j] = Σ_{n in chunk} δ'[n, i]·h[n, j] for a tile of 4 units × 4 columns,
// where column nin is the bias (h ≡ 1). Stored in θ's layout at partial[chunk·pStride + …].

struct GradParams {
  rows: u32,
  nin: u32,
  nout: u32,
  chunkRows: u32,
  chunks: u32,
  unitBlocks: u32,
  colBlocks: u32,
  // δ'[n, i] = gd[dOff + n·dRow + i]; h[n, j] = gh[hOff + n·hRow + j].
  dOff: u32,
  dRow: u32,
  hOff: u32,
  hRow: u32,
  // W_l[i, j] at wOff + i·nin + j, c_l[i] at bOff + i (θ's layout).
  wOff: u32,
  bOff: u32,
  pStride: u32,
}

@group(0) @binding(0) var<uniform> gp: GradParams;
@group(0) @binding(1) var<storage, read> gd: array<f32>;
@group(0) @binding(2) var<storage, read> gh: array<f32>;
@group(0) @binding(3) var<storage, read_write> gOut: array<f32>;

// Invocations next to each other take neighbouring column blocks of one unit block and chunk:
// they read the same δ' and neighbouring h. Units and columns past the edge load a clamped valid
// neighbour (no branch in the loop) and are not stored.
@compute @workgroup_size(WG)
fn weightGradPartial(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  let colBlock = g % gp.colBlocks;
  let rest = g / gp.colBlocks;
  let unitBlock = rest % gp.unitBlocks;
  let chunk = rest / gp.unitBlocks;
  if (chunk >= gp.chunks) {
    return;
  }
  let unit0 = unitBlock * 4u;
  let col0 = colBlock * 4u;
  let units = clampedLanes(unit0, gp.nout - 1u);
  let cols = clampedLanes(col0, gp.nin);
  let isBias = cols == vec4u(gp.nin);
  let hCols = min(cols, vec4u(gp.nin - 1u));
  let first = chunk * gp.chunkRows;
  let last = min(first + gp.chunkRows, gp.rows);
  var acc = mat4x4f();
  for (var n = first; n < last; n++) {
    let dr = vec4u(gp.dOff + n * gp.dRow) + units;
    let d = vec4f(gd[dr.x], gd[dr.y], gd[dr.z], gd[dr.w]);
    let hr = vec4u(gp.hOff + n * gp.hRow) + hCols;
    let h = select(vec4f(gh[hr.x], gh[hr.y], gh[hr.z], gh[hr.w]), vec4f(1.0), isBias);
    acc[0] += d.x * h;
    acc[1] += d.y * h;
    acc[2] += d.z * h;
    acc[3] += d.w * h;
  }
  let base = chunk * gp.pStride;
  for (var u = 0u; u < 4u; u++) {
    let unit = unit0 + u;
    if (unit < gp.nout) {
      for (var k = 0u; k < 4u; k++) {
        let col = col0 + k;
        if (col < gp.nin) {
          gOut[base + gp.wOff + unit * gp.nin + col] = acc[u][k];
        } else if (col == gp.nin) {
          gOut[base + gp.bOff + unit] = acc[u][k];
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// sumRuns: out[oOff + q] = Σ_{k < count(q)} a[q·qStride + k·kStride], k in order, with
// count(q) = min(terms, limit − q·qStride): the chunks of the gradient (qStride 1, kStride p) or
// runs of consecutive row losses (qStride = kStride·terms = run length, limit N).

struct SumParams {
  outputs: u32,
  terms: u32,
  qStride: u32,
  kStride: u32,
  limit: u32,
  oOff: u32,
}

@group(0) @binding(0) var<uniform> sp: SumParams;
@group(0) @binding(1) var<storage, read> sumIn: array<f32>;
@group(0) @binding(2) var<storage, read_write> sumOut: array<f32>;

@compute @workgroup_size(WG)
fn sumRuns(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let q = invocationIndex(grid, lid);
  if (q >= sp.outputs) {
    return;
  }
  let start = q * sp.qStride;
  let count = min(sp.terms, sp.limit - start);
  var s = 0.0;
  for (var k = 0u; k < count; k++) {
    s += sumIn[start + k * sp.kStride];
  }
  sumOut[sp.oOff + q] = s;
}

// ---------------------------------------------------------------------------------------------
// Optimiser steps, one element an invocation: g̃ = g + decay·(θ − anchor) (anchor ≡ 0 without
// ANCHOR); SGD θ −= lr·g̃; Adam (Kingma & Ba 2015, Algorithm 1) m ← β1·m + (1 − β1)·g̃,
// v ← β2·v + (1 − β2)·g̃², θ −= lr·(m·c1)/(sqrt(v·c2) + eps) with c_i = 1/(1 − β_i^t). 1 − β_i
// and c_i come from the host in float64, rounded once (1 − fl(β2) would be off by 1000 ulps).

const ANCHOR: u32 = 1u;

struct StepParams {
  n: u32,
  flags: u32,
  lr: f32,
  decay: f32,
  beta1: f32,
  oneMinusBeta1: f32,
  beta2: f32,
  oneMinusBeta2: f32,
  c1: f32,
  c2: f32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> op: StepParams;
@group(0) @binding(1) var<storage, read> optGrad: array<f32>;
@group(0) @binding(2) var<storage, read> optAnchor: array<f32>;
@group(0) @binding(3) var<storage, read_write> optTheta: array<f32>;
@group(0) @binding(4) var<storage, read_write> optM: array<f32>;
@group(0) @binding(5) var<storage, read_write> optV: array<f32>;

fn regularisedGradient(i: u32, theta: f32) -> f32 {
  var pull = theta;
  if ((op.flags & ANCHOR) != 0u) {
    pull = theta - optAnchor[i];
  }
  return optGrad[i] + op.decay * pull;
}

@compute @workgroup_size(WG)
fn sgdStep(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let i = invocationIndex(grid, lid);
  if (i >= op.n) {
    return;
  }
  let theta = optTheta[i];
  optTheta[i] = theta - op.lr * regularisedGradient(i, theta);
}

@compute @workgroup_size(WG)
fn adamStep(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let i = invocationIndex(grid, lid);
  if (i >= op.n) {
    return;
  }
  let theta = optTheta[i];
  let g = regularisedGradient(i, theta);
  let m = op.beta1 * optM[i] + op.oneMinusBeta1 * g;
  let v = op.beta2 * optV[i] + op.oneMinusBeta2 * (g * g);
  optM[i] = m;
  optV[i] = v;
  optTheta[i] = theta - op.lr * ((m * op.c1) / (sqrt(v * op.c2) + op.eps));
}

// ---------------------------------------------------------------------------------------------
// Row gathers and scatter-adds, one (row, column) an invocation.

struct RowParams {
  // Rows n of the batch, columns a row copied, rows of the table.
  count: u32,
  cols: u32,
  tableRows: u32,
  // Width of the batch's rows and the first column copied there.
  batchCols: u32,
  column: u32,
  // Segments (scatterSegments).
  segments: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> rp: RowParams;
@group(0) @binding(1) var<storage, read> rowTable: array<f32>;
@group(0) @binding(2) var<storage, read> rowIndex: array<i32>;
@group(0) @binding(3) var<storage, read_write> rowBatch: array<f32>;
@group(0) @binding(1) var<storage, read> rowBatchIn: array<f32>;
@group(0) @binding(2) var<storage, read> rowSegments: array<u32>;
@group(0) @binding(3) var<storage, read_write> rowTarget: array<f32>;

fn segmentWord(i: u32) -> u32 {
  return rowSegments[i];
}

// batch[n, column + j] = table[index[n], j]; an index outside the table gives 0.
@compute @workgroup_size(WG)
fn gatherRows(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  let n = g / rp.cols;
  if (n >= rp.count) {
    return;
  }
  let j = g - n * rp.cols;
  let r = rowIndex[n];
  var v = 0.0;
  if (r >= 0 && u32(r) < rp.tableRows) {
    v = rowTable[u32(r) * rp.cols + j];
  }
  rowBatch[n * rp.batchCols + rp.column + j] = v;
}

// The updates grouped by target row (the segment index of lib/segments.wgsl, a segment a target
// row): one invocation a (segment, column) adds its rows in batch order.
@compute @workgroup_size(WG)
fn scatterSegments(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  let s = g / rp.cols;
  if (s >= rp.segments) {
    return;
  }
  let j = g - s * rp.cols;
  let sg = segmentAt(s, rp.segments);
  let at = sg.arm * rp.cols + j;
  var acc = rowTarget[at];
  for (var k = sg.first; k < sg.end; k++) {
    let n = segmentRow(sg, k);
    acc = acc + rp.scale * rowBatchIn[n * rp.batchCols + rp.column + j];
  }
  rowTarget[at] = acc;
}

// Device-resident indices, no grouping available: the first batch row n with a given target row
// owns it and adds every later row with the same index, in order (O(N²) index reads in all; an
// index outside the table is skipped). One invocation a batch row.
@compute @workgroup_size(WG)
fn scatterOwners(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let n = invocationIndex(grid, lid);
  if (n >= rp.count) {
    return;
  }
  let r = rowIndex[n];
  if (r < 0 || u32(r) >= rp.tableRows) {
    return;
  }
  for (var m = 0u; m < n; m++) {
    if (rowIndex[m] == r) {
      return;
    }
  }
  let base = u32(r) * rp.cols;
  for (var m = n; m < rp.count; m++) {
    if (rowIndex[m] == r) {
      let src = m * rp.batchCols + rp.column;
      for (var j = 0u; j < rp.cols; j++) {
        rowTarget[base + j] = rowTarget[base + j] + rp.scale * rowBatchIn[src + j];
      }
    }
  }
}
