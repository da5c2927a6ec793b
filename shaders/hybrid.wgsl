// Hybrid LinUCB kernels (Li et al. 2010, Algorithm 2): the select scores of every (row, arm) pair,
// the in-order update of each played arm's inverses, and the scatter of x zᵀ into B.
//
// Notation: per arm a, A_a (d×d), B_a (d×k), b_a (d); shared A0 (k×k), b0 (k). The model keeps
//   A⁻¹_a, C_a = A⁻¹_a B_a, φ_a = A⁻¹_a b_a            (updated here, row by row)
//   β = A0⁻¹b0, L lower triangular with A0⁻¹ = L Lᵀ,
//   θ_a = φ_a − C_a β, D_a = C_a L                       (refreshed for every arm after each batch)
// and Algorithm 2's score, with u = C_aᵀx and v = z − u, is
//   p = zᵀβ + xᵀθ_a + α·sqrt(xᵀA⁻¹_a x + vᵀA0⁻¹v),   vᵀA0⁻¹v = ‖Lᵀv‖² = ‖Lᵀz − D_aᵀx‖²
// (expand vᵀA0⁻¹v: zᵀA0⁻¹z − 2zᵀA0⁻¹B_aᵀA⁻¹_a x + xᵀA⁻¹_a B_a A0⁻¹ B_aᵀA⁻¹_a x), so a score needs
// no per-pair k-vector: each block of four components of Lᵀz − Dᵀx is squared as soon as it is made.
//
// The segmented updates read the segment index `idx` (lib/segments.wgsl), followed by per-op data
// at an offset given in the uniforms (f32 values stored as their bits).
// Needs lib/grid.wgsl, lib/nan.wgsl, lib/tile.wgsl, lib/score.wgsl and lib/segments.wgsl.

// ---------------------------------------------------------------------------------------------
// hybridScores: out[i, armOffset + a] = θ_aᵀx + βᵀz + α·sqrt(max(xᵀA⁻¹_a x + ‖Lᵀz − D_aᵀx‖², 0)),
// x = x[i, armOffset + a, :], z = z[i, armOffset + a, :].
//
// One invocation computes one arm for a tile of ROWS rows (the register-tile walk of
// lib/tile.wgsl), so A⁻¹_a and D_a stream through registers once a tile (they dominate the
// traffic: K·(d² + dk) floats); L and β are the same for every invocation (cache-resident). Both
// walks go in column blocks: a block of four output components takes four rows of the matrix at a
// time. L is lower triangular, so zᵀL[:, block] starts at the block's own rows.

struct HybridScoreParams {
  rows: u32,
  arms: u32,
  d: u32,
  k: u32,
  /// Elements from x_i to x_{i+1} (Ktotal·d) and from z_i to z_{i+1} (Ktotal·k).
  xRowStride: u32,
  zRowStride: u32,
  /// This shard's first arm: in x's and z's arm axis and in out's columns.
  armOffset: u32,
  outCols: u32,
  rowTiles: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> ps: HybridScoreParams;
@group(0) @binding(1) var<storage, read> sx4: array<vec4f>;
@group(0) @binding(2) var<storage, read> sz4: array<vec4f>;
@group(0) @binding(3) var<storage, read> sa4: array<vec4f>;
@group(0) @binding(4) var<storage, read> sd4: array<vec4f>;
@group(0) @binding(5) var<storage, read> sth4: array<vec4f>;
@group(0) @binding(6) var<storage, read> sl4: array<vec4f>;
@group(0) @binding(7) var<storage, read> sb4: array<vec4f>;
@group(0) @binding(1) var<storage, read> sx1: array<f32>;
@group(0) @binding(2) var<storage, read> sz1: array<f32>;
@group(0) @binding(3) var<storage, read> sa1: array<f32>;
@group(0) @binding(4) var<storage, read> sd1: array<f32>;
@group(0) @binding(5) var<storage, read> sth1: array<f32>;
@group(0) @binding(6) var<storage, read> sl1: array<f32>;
@group(0) @binding(7) var<storage, read> sb1: array<f32>;
@group(0) @binding(8) var<storage, read_write> sout: array<f32>;

// The tile's vector and matrix sets (lib/tile.wgsl).
const X: u32 = 0u;
const Z: u32 = 1u;
const A_INV: u32 = 0u;
const D_MAT: u32 = 1u;
const L_MAT: u32 = 2u;

fn tileVec4(which: u32, i: u32) -> vec4f {
  if (which == Z) {
    return sz4[i];
  }
  return sx4[i];
}

fn tileMat4(which: u32, i: u32) -> vec4f {
  if (which == L_MAT) {
    return sl4[i];
  }
  if (which == D_MAT) {
    return sd4[i];
  }
  return sa4[i];
}

fn tileVec1(which: u32, i: u32) -> f32 {
  if (which == Z) {
    return sz1[i];
  }
  return sx1[i];
}

fn tileMat1(which: u32, i: u32) -> f32 {
  if (which == L_MAT) {
    return sl1[i];
  }
  if (which == D_MAT) {
    return sd1[i];
  }
  return sa1[i];
}

fn storeScore(i: u32, col: u32, value: f32) {
  sout[i * ps.outCols + col] = value;
}

/// Element offsets of the tile's rows of x and of z.
struct ScoreRows {
  x: TileRows,
  z: TileRows,
}

fn scoreRows(t: ArmTile) -> ScoreRows {
  let arm = ps.armOffset + t.arm;
  return ScoreRows(tileRows(t.i0, ps.rows, ps.xRowStride, arm * ps.d), tileRows(t.i0, ps.rows, ps.zRowStride, arm * ps.k));
}

fn squares(a: vec4f, b: vec4f, c: vec4f, d: vec4f) -> vec4f {
  return vec4f(dot(a, a), dot(b, b), dot(c, c), dot(d, d));
}

// d % 4 == 0 and k % 4 == 0, ROWS = 1, 2, 4 or 8: every row of A⁻¹, D, L, θ, β, x and z starts
// on a vec4.
@compute @workgroup_size(WG)
fn hybridScoresVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = armTile(invocationIndex(grid, lid), ps.arms, ps.rowTiles);
  if (!t.valid) {
    return;
  }
  let r = scoreRows(t);
  let x = inVec4s(r.x);
  let z = inVec4s(r.z);
  let dq = ps.d / 4u;
  let kq = ps.k / 4u;
  let zero = vec4f(0.0);
  var q = zero;
  var q2 = zero;
  var mean = zero;
  var mean2 = zero;
  for (var c = 0u; c < dq; c++) {
    let w = columnBlock4(X, A_INV, x, t.arm * ps.d * dq, dq, 0u, dq, c);
    let tc = sth4[t.arm * dq + c];
    let lo = tileDots4(X, x.lo, c, w.r0, w.r1, w.r2, w.r3, tc);
    q += lo.q;
    mean += lo.mean;
    if (ROWS > 4u) {
      let hi = tileDots4(X, x.hi, c, w.r4, w.r5, w.r6, w.r7, tc);
      q2 += hi.q;
      mean2 += hi.mean;
    }
  }
  for (var cb = 0u; cb < kq; cb++) {
    let zl = columnBlock4(Z, L_MAT, z, 0u, kq, cb, kq, cb);
    let xd = columnBlock4(X, D_MAT, x, t.arm * ps.d * kq, kq, 0u, dq, cb);
    let bc = sb4[cb];
    q += squares(zl.r0 - xd.r0, zl.r1 - xd.r1, zl.r2 - xd.r2, zl.r3 - xd.r3);
    mean += tileDots4(Z, z.lo, cb, zero, zero, zero, zero, bc).mean;
    if (ROWS > 4u) {
      q2 += squares(zl.r4 - xd.r4, zl.r5 - xd.r5, zl.r6 - xd.r6, zl.r7 - xd.r7);
      mean2 += tileDots4(Z, z.hi, cb, zero, zero, zero, zero, bc).mean;
    }
  }
  storeScoreTile(t.i0, ps.rows, ps.armOffset + t.arm, ps.alpha, mean, q, mean2, q2);
}

// Any d and k (ROWS = 1, 2 or 4): the same walks with scalar loads, four columns at a time.
@compute @workgroup_size(WG)
fn hybridScoresScalar(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = armTile(invocationIndex(grid, lid), ps.arms, ps.rowTiles);
  if (!t.valid) {
    return;
  }
  let r = scoreRows(t);
  let x = r.x.lo;
  let z = r.z.lo;
  let d = ps.d;
  let k = ps.k;
  let zero = vec4f(0.0);
  var q = zero;
  var mean = zero;
  for (var c0 = 0u; c0 < d; c0 += 4u) {
    let c = columnQuad(c0, d);
    let w = columnBlock1(zeroAcc(), false, X, A_INV, x, t.arm * d * d, d, 0u, d, c.col);
    let o = t.arm * d;
    let tc = select(zero, vec4f(sth1[o + c.col.x], sth1[o + c.col.y], sth1[o + c.col.z], sth1[o + c.col.w]), c.inside);
    let dots = maskedTileDots1(X, x, c.col, c.inside, w, tc);
    q += dots.q;
    mean += dots.mean;
  }
  for (var c0 = 0u; c0 < k; c0 += 4u) {
    let c = columnQuad(c0, k);
    let zl = columnBlock1(zeroAcc(), false, Z, L_MAT, z, 0u, k, c0, k, c.col);
    let v = columnBlock1(zl, true, X, D_MAT, x, t.arm * d * k, k, 0u, d, c.col);
    let bc = select(zero, vec4f(sb1[c.col.x], sb1[c.col.y], sb1[c.col.z], sb1[c.col.w]), c.inside);
    q += squares(select(zero, v.r0, c.inside), select(zero, v.r1, c.inside), select(zero, v.r2, c.inside), select(zero, v.r3, c.inside));
    mean += maskedTileDots1(Z, z, c.col, c.inside, zeroAcc(), bc).mean;
  }
  storeScoreTile(t.i0, ps.rows, ps.armOffset + t.arm, ps.alpha, mean, q, zero, zero);
}

// ---------------------------------------------------------------------------------------------
// hybridArmUpdate: Algorithm 2's update of one observation (x, z, r) of arm a, on the inverses.
// With ℓ = xᵀ[A⁻¹ | C | φ] (so ℓ[0..d) = A⁻¹x = y, u = ℓ[d..d+k) = Cᵀx, e = ℓ[d+k] = φᵀx) and
// s = 1/(1 + xᵀy), Sherman–Morrison on A + xxᵀ together with B + xzᵀ and b + r·x gives
//   A⁻¹ ← A⁻¹ − s·y yᵀ,   C ← C + s·y (z − u)ᵀ,   φ ← φ + s·y (r − e),
// and Algorithm 2's two steps on A0 and b0 (add B_aᵀA⁻¹_a B_a and B_aᵀA⁻¹_a b_a of the old state,
// subtract those of the new one, add zzᵀ and r·z) come to the Schur-complement update
//   A0 += w wᵀ,  b0 += w ρ,   w = √s·(z − u),  ρ = √s·(r − e),
// which this kernel writes out by row (the host adds WᵀW and Wᵀρ with gemm / matVec). The sum is
// of positive semi-definite terms, so A0 ⪰ λI holds in floating point too, where the algorithm's
// add-then-subtract of two growing k×k matrices would cancel.
//
// One workgroup an arm walks the arm's rows in order. Invocation c owns the columns j ≡ c (mod WG)
// of the joint d×(d+k+1) block [A⁻¹ | C | φ]: no invocation reads an element another one wrote,
// so the only shared data is ℓ, double-buffered in `scratch` (2·(d+k+1) floats a segment) so one
// barrier a row suffices. As in shermanMorrison (src/ops/rank1.ts), the sweep that applies row s
// also computes row s+1's ℓ from the column it just wrote, and A⁻¹ subtracts (y_i·y_j)·s at
// (i, j) and (j, i) alike, so a symmetric A⁻¹ stays exactly symmetric.

struct ArmUpdateParams {
  d: u32,
  k: u32,
  segments: u32,
  /// idx offset of the rewards (f32 bits, by row).
  rewardsAt: u32,
}

@group(0) @binding(0) var<uniform> pa: ArmUpdateParams;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> uxz: array<f32>;
@group(0) @binding(3) var<storage, read_write> uainv: array<f32>;
@group(0) @binding(4) var<storage, read_write> uc: array<f32>;
@group(0) @binding(5) var<storage, read_write> uphi: array<f32>;
@group(0) @binding(6) var<storage, read_write> uw: array<f32>;
@group(0) @binding(7) var<storage, read_write> urho: array<f32>;
@group(0) @binding(8) var<storage, read_write> uscratch: array<f32>;

fn segmentWord(i: u32) -> u32 {
  return idx[i];
}

// Column j of [A⁻¹ | C | φ] dotted with the row of xz at xo (its first d values are x).
fn jointColumnDot(j: u32, xo: u32, aBase: u32, cBase: u32, pBase: u32) -> f32 {
  let d = pa.d;
  var acc = 0.0;
  if (j < d) {
    for (var i = 0u; i < d; i++) {
      acc += uainv[aBase + i * d + j] * uxz[xo + i];
    }
  } else if (j < d + pa.k) {
    for (var i = 0u; i < d; i++) {
      acc += uc[cBase + i * pa.k + j - d] * uxz[xo + i];
    }
  } else {
    for (var i = 0u; i < d; i++) {
      acc += uphi[pBase + i] * uxz[xo + i];
    }
  }
  return acc;
}

@compute @workgroup_size(WG)
fn hybridArmUpdate(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = groupIndex(grid);
  if (t >= pa.segments) {
    return;
  }
  let d = pa.d;
  let k = pa.k;
  let n = d + k + 1u;
  let stride = d + k;
  let sg = segmentAt(t, pa.segments);
  let aBase = sg.arm * d * d;
  let cBase = sg.arm * d * k;
  let pBase = sg.arm * d;
  let first = sg.first;
  let end = sg.end;
  let so = t * 2u * n;

  var xo = segmentRow(sg, first) * stride;
  for (var j = lid; j < n; j += WG) {
    uscratch[so + j] = jointColumnDot(j, xo, aBase, cBase, pBase);
  }
  storageBarrier();

  for (var s = first; s < end; s++) {
    let cur = so + ((s - first) & 1u) * n;
    let nxt = so + (((s - first) & 1u) ^ 1u) * n;
    let u = segmentRow(sg, s);
    let more = s + 1u < end;
    let xn = select(xo, segmentRow(sg, min(s + 1u, end - 1u)) * stride, more);
    var xy = 0.0;
    for (var i = 0u; i < d; i++) {
      xy += uxz[xo + i] * uscratch[cur + i];
    }
    let sc = 1.0 / (1.0 + xy);
    let root = sqrt(sc);
    let r = bitcast<f32>(idx[pa.rewardsAt + u]);
    for (var j = lid; j < n; j += WG) {
      let lj = uscratch[cur + j];
      var acc = 0.0;
      if (j < d) {
        for (var i = 0u; i < d; i++) {
          let e = aBase + i * d + j;
          let v = uainv[e] - (uscratch[cur + i] * lj) * sc;
          uainv[e] = v;
          acc += v * uxz[xn + i];
        }
      } else if (j < d + k) {
        let jj = j - d;
        let resid = uxz[xo + j] - lj;
        let delta = resid * sc;
        for (var i = 0u; i < d; i++) {
          let e = cBase + i * k + jj;
          let v = uc[e] + uscratch[cur + i] * delta;
          uc[e] = v;
          acc += v * uxz[xn + i];
        }
        uw[u * k + jj] = resid * root;
      } else {
        let resid = r - lj;
        let delta = resid * sc;
        for (var i = 0u; i < d; i++) {
          let v = uphi[pBase + i] + uscratch[cur + i] * delta;
          uphi[pBase + i] = v;
          acc += v * uxz[xn + i];
        }
        urho[u] = resid * root;
      }
      if (more) {
        uscratch[nxt + j] = acc;
      }
    }
    xo = xn;
    if (more) {
      storageBarrier();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// scatterOuterAdd: M_a += x zᵀ (M: K d×k) for every row in order, one invocation an element of a
// touched arm's M walking the arm's rows (nothing shared, no barriers).

struct OuterParams {
  d: u32,
  k: u32,
  segments: u32,
  groupsPerArm: u32,
}

@group(0) @binding(0) var<uniform> po: OuterParams;
@group(0) @binding(2) var<storage, read> ox: array<f32>;
@group(0) @binding(3) var<storage, read> oz: array<f32>;
@group(0) @binding(4) var<storage, read_write> om: array<f32>;

@compute @workgroup_size(WG)
fn scatterOuterAdd(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = groupIndex(grid);
  let t = g / po.groupsPerArm;
  let d = po.d;
  let k = po.k;
  let e = (g - t * po.groupsPerArm) * WG + lid;
  if (t >= po.segments || e >= d * k) {
    return;
  }
  let i = e / k;
  let j = e - i * k;
  let sg = segmentAt(t, po.segments);
  let at = sg.arm * d * k + e;
  var m = om[at];
  for (var s = sg.first; s < sg.end; s++) {
    let u = segmentRow(sg, s);
    m += ox[u * d + i] * oz[u * k + j];
  }
  om[at] = m;
}
