// Batched Cholesky factorisation and SPD inverse of d×d matrices (d ≤ 256), row-major, in place
// in `out`. Only the lower triangle of `a` is read.
//
// Each layout is one entry point for both ops: INVERSE (an override constant, so each op gets
// its own specialised pipeline) goes on from the factor to the inverse.
// Two layouts of the work (src/gpu/kernels/cholesky.ts `factorLayout` picks one):
// - WorkgroupPerMatrix: one workgroup a matrix, invocation i owns row i (WG ≥ d). The matrix stays
//   in global memory (d = 256 is 256 KiB, far over 16 KiB of workgroup memory). The factor takes
//   one storageBarrier a column plus one; the inverse three more. No workgroup memory.
// - InvocationPerMatrix: one invocation a matrix, the same steps run sequentially, no barriers:
//   for large batches of small matrices (LinUCB's K arms), and on CPU adapters where a barrier
//   costs more than the parallelism inside a matrix brings.
//
// Layout of `out` while the inverse is built: L in the lower triangle and diagonal; the columns
// of M = L⁻¹ (strictly below its diagonal) in the upper triangle, M_ij at (j, i), and M_ii = 1/L_ii
// taken from the diagonal. Then X = Mᵀ M overwrites the lower triangle and diagonal a row at a
// time (row i of X needs only the upper triangle and its own diagonal entry), and the lower
// triangle is mirrored into the upper one, so X is exactly symmetric.
// Needs lib/grid.wgsl.

/// spdInverse (true) or cholesky (false).
override INVERSE: bool = false;

struct FactorParams {
  batch: u32,
  d: u32,
  // A quiet NaN's bits: WGSL has no NaN literal and refuses NaN in constant expressions.
  nanBits: u32,
}

@group(0) @binding(0) var<uniform> p: FactorParams;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> status: array<i32>;

const NO_FAILURE: u32 = 0xffffffffu;

// A normal, finite, positive f32, tested on the bits so no fast-math folding can let a NaN
// through. Subnormal pivots are refused too: GPUs may flush them to zero (as src/cpu/cholesky.ts).
fn usablePivot(x: f32) -> bool {
  let bits = bitcast<u32>(x);
  return bits >= 0x00800000u && bits < 0x7f800000u;
}

fn statusOf(failedAt: u32) -> i32 {
  return select(0, i32(failedAt) + 1, failedAt != NO_FAILURE);
}

fn fillRow(row: u32, first: u32, end: u32, value: f32) {
  for (var k = first; k < end; k++) {
    out[row + k] = value;
  }
}

// Column j of M = L⁻¹ by forward substitution, into the upper triangle of row j (M_ij at (j, i)).
// Reads the lower triangle and diagonal (L) and only its own row of the upper triangle.
fn invertColumn(o: u32, j: u32, d: u32) {
  let mjj = 1.0 / out[o + j * d + j];
  for (var i = j + 1u; i < d; i++) {
    let rowI = o + i * d;
    var s = out[rowI + j] * mjj;
    for (var k = j + 1u; k < i; k++) {
      s += out[rowI + k] * out[o + j * d + k];
    }
    out[o + j * d + i] = -s / out[rowI + i];
  }
}

// Row i of X = Mᵀ M (X_ij = Σ_{k ≥ i} M_ki M_kj for j ≤ i) into the lower triangle and diagonal.
// Reads the upper triangle (M) and its own diagonal entry (L_ii), written last.
fn productRow(o: u32, i: u32, d: u32) {
  let rowI = o + i * d;
  let mii = 1.0 / out[rowI + i];
  for (var j = 0u; j < i; j++) {
    let rowJ = o + j * d;
    var s = mii * out[rowJ + i];
    for (var k = i + 1u; k < d; k++) {
      s += out[rowI + k] * out[rowJ + k];
    }
    out[rowI + j] = s;
  }
  var s = mii * mii;
  for (var k = i + 1u; k < d; k++) {
    let mki = out[rowI + k];
    s += mki * mki;
  }
  out[rowI + i] = s;
}

// Copies row i of the lower triangle into column i of the upper one.
fn mirrorRow(o: u32, i: u32, d: u32) {
  for (var j = 0u; j < i; j++) {
    out[o + j * d + i] = out[o + i * d + j];
  }
}

// ---- One workgroup a matrix -------------------------------------------------------------------

// Left-looking column Cholesky, invocation i owning row i. In phase j every invocation reads
// pivot j; invocation i > j finishes L_ij and forms its unnormalised entry of column j + 1,
//   v_i = a_i,j+1 − Σ_{k ≤ j} L_ik L_j+1,k,
// stored in the upper triangle at (j + 1, i) (v_j+1 on the diagonal is the next pivot). L_j+1,j is
// recomputed by each invocation from v_j+1, so the phase reads only what earlier phases wrote and
// one storageBarrier a column suffices. The diagonal holds the pivots until the end, then L_ii.
// Returns the first failing pivot or NO_FAILURE, the same in every invocation.
fn factorColumns(o: u32, i: u32, d: u32) -> u32 {
  if (i < d) {
    out[o + i] = a[o + i * d];
  }
  var failedAt = NO_FAILURE;
  var lii = 0.0;
  for (var j = 0u; j < d; j++) {
    storageBarrier();
    if (failedAt == NO_FAILURE && i < d) {
      let rowJ = o + j * d;
      let pivot = out[rowJ + j];
      if (!usablePivot(pivot)) {
        failedAt = j;
      } else if (i == j) {
        lii = sqrt(pivot);
      } else if (i > j) {
        let s = sqrt(pivot);
        let rowI = o + i * d;
        let lij = out[rowJ + i] / s;
        out[rowI + j] = lij;
        let rowNext = rowJ + d;
        var v = a[rowI + j + 1u];
        for (var k = 0u; k < j; k++) {
          v -= out[rowI + k] * out[rowNext + k];
        }
        v -= lij * (out[rowJ + j + 1u] / s);
        out[rowNext + i] = v;
      }
    }
  }
  // Others may still be reading the last pivot.
  storageBarrier();
  if (failedAt == NO_FAILURE && i < d) {
    out[o + i * d + i] = lii;
  }
  return failedAt;
}

@compute @workgroup_size(WG)
fn factorWorkgroupPerMatrix(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let b = groupIndex(grid);
  if (b >= p.batch) {
    return;
  }
  let d = p.d;
  let o = b * d * d;
  let failedAt = factorColumns(o, lid, d);
  if (INVERSE) {
    let work = failedAt == NO_FAILURE && lid < d;
    storageBarrier();
    if (work) {
      invertColumn(o, lid, d);
    }
    storageBarrier();
    if (work) {
      productRow(o, lid, d);
    }
    storageBarrier();
    if (work) {
      mirrorRow(o, lid, d);
    } else if (lid < d) {
      fillRow(o + lid * d, 0u, d, bitcast<f32>(p.nanBits));
    }
  } else if (lid < d) {
    if (failedAt == NO_FAILURE) {
      fillRow(o + lid * d, lid + 1u, d, 0.0);
    } else {
      fillRow(o + lid * d, 0u, d, bitcast<f32>(p.nanBits));
    }
  }
  if (lid == 0u) {
    status[b] = statusOf(failedAt);
  }
}

// ---- One invocation a matrix ------------------------------------------------------------------

// Cholesky–Banachiewicz (row by row, the same sums in the same order as factorColumns) into the
// lower triangle and diagonal. Returns the first failing pivot or NO_FAILURE.
fn factorRows(o: u32, d: u32) -> u32 {
  for (var i = 0u; i < d; i++) {
    let rowI = o + i * d;
    for (var j = 0u; j <= i; j++) {
      let rowJ = o + j * d;
      var s = a[rowI + j];
      for (var k = 0u; k < j; k++) {
        s -= out[rowI + k] * out[rowJ + k];
      }
      if (j < i) {
        out[rowI + j] = s / out[rowJ + j];
      } else if (usablePivot(s)) {
        out[rowI + i] = sqrt(s);
      } else {
        return i;
      }
    }
  }
  return NO_FAILURE;
}

@compute @workgroup_size(WG)
fn factorInvocationPerMatrix(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let b = invocationIndex(grid, lid);
  if (b >= p.batch) {
    return;
  }
  let d = p.d;
  let o = b * d * d;
  let failedAt = factorRows(o, d);
  if (failedAt != NO_FAILURE) {
    fillRow(o, 0u, d * d, bitcast<f32>(p.nanBits));
  } else if (INVERSE) {
    for (var j = 0u; j < d; j++) {
      invertColumn(o, j, d);
    }
    for (var i = 0u; i < d; i++) {
      productRow(o, i, d);
    }
    for (var i = 0u; i < d; i++) {
      mirrorRow(o, i, d);
    }
  } else {
    for (var i = 0u; i < d; i++) {
      fillRow(o + i * d, i + 1u, d, 0.0);
    }
  }
  status[b] = statusOf(failedAt);
}
