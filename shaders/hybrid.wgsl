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
// The segmented updates read a host-made index `idx` (see segmentIndex in src/ops/rank1.ts):
//   idx[0 .. T)          the touched arms, one a segment
//   idx[T .. 2T+1)       segment starts into the row list (segment t is idx[T+t] .. idx[T+t+1])
//   idx[2T+1 .. 2T+1+U)  rows, grouped by arm, in call order within an arm
// followed by per-op data at an offset given in the uniforms (f32 values stored as their bits).

override WG: u32 = 64;
/// Rows of the batch one hybridScores invocation takes against its arm's matrices (1, 2, 4, or 8
/// with vec4 loads).
override ROWS: u32 = 4;

fn flatIndex(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.x + wid.y * nwg.x) * WG + lid;
}

fn flatGroup(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// By the bits: a compiler may assume NaN-free floats for comparisons and max().
fn isNan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// ---------------------------------------------------------------------------------------------
// hybridScores: out[i, armOffset + a] = θ_aᵀx + βᵀz + α·sqrt(max(xᵀA⁻¹_a x + ‖Lᵀz − D_aᵀx‖², 0)),
// x = x[i, armOffset + a, :], z = z[i, armOffset + a, :].
//
// One invocation computes one arm for a tile of ROWS rows, so A⁻¹_a and D_a stream through
// registers once per tile (they dominate the traffic: K·(d² + dk) floats); L and β are the same
// for every invocation (cache-resident). No workgroup memory, no barriers. Both walks are the
// column-block walk of ucbScores: a block of four output components takes four rows of the
// matrix at a time as full vec4 multiply-adds. L is lower triangular, so zᵀL[:, block] starts at
// the block's own rows. Plain a·b + c, not fma() (slow on SwiftShader; GPU compilers contract).
// Rows past the end of the batch are computed on the last row (clamped loads) and not stored.

struct ScoreParams {
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

@group(0) @binding(0) var<uniform> ps: ScoreParams;
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

struct ScoreTile {
  valid: bool,
  /// Arm within the shard.
  a: u32,
  i0: u32,
  /// Element offsets of x and z for rows i0 … i0+3 and i0+4 … i0+7 (clamped to the last row).
  xo: vec4u,
  xo2: vec4u,
  zo: vec4u,
  zo2: vec4u,
}

fn scoreTile(wid: vec3u, nwg: vec3u, lid: u32) -> ScoreTile {
  var t: ScoreTile;
  let g = flatIndex(wid, nwg, lid);
  t.valid = g < ps.arms * ps.rowTiles;
  t.a = g / ps.rowTiles;
  t.i0 = (g % ps.rowTiles) * ROWS;
  let last = vec4u(ps.rows - 1u);
  let rows = min(vec4u(t.i0) + vec4u(0u, 1u, 2u, 3u), last);
  let rows2 = min(vec4u(t.i0) + vec4u(4u, 5u, 6u, 7u), last);
  let arm = ps.armOffset + t.a;
  t.xo = rows * ps.xRowStride + vec4u(arm * ps.d);
  t.xo2 = rows2 * ps.xRowStride + vec4u(arm * ps.d);
  t.zo = rows * ps.zRowStride + vec4u(arm * ps.k);
  t.zo2 = rows2 * ps.zRowStride + vec4u(arm * ps.k);
  return t;
}

fn hybridScore(mean: f32, q: f32) -> f32 {
  if (isNan(q)) {
    return q;
  }
  return mean + ps.alpha * sqrt(max(q, 0.0));
}

// Rows i0 … i0+ROWS−1 from the tile's rows 0-3 (mean, q) and 4-7 (mean2, q2).
fn storeScores(t: ScoreTile, mean: vec4f, q: vec4f, mean2: vec4f, q2: vec4f) {
  let o = ps.armOffset + t.a;
  for (var r = 0u; r < min(ROWS, 4u); r++) {
    let i = t.i0 + r;
    if (i < ps.rows) {
      sout[i * ps.outCols + o] = hybridScore(mean[r], q[r]);
    }
  }
  for (var r = 4u; r < ROWS; r++) {
    let i = t.i0 + r;
    if (i < ps.rows) {
      sout[i * ps.outCols + o] = hybridScore(mean2[r - 4u], q2[r - 4u]);
    }
  }
}

fn quad4(x: vec4f, ma: vec4f, mb: vec4f, mc: vec4f, md: vec4f) -> vec4f {
  return x.x * ma + x.y * mb + x.z * mc + x.w * md;
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

// s_r += x_r[4jb..4jb+3]ᵀ·(four matrix rows ma…md) for the tile's rows (x: sx4, z: sz4).
fn addX(s: ptr<function, Acc8>, t: ScoreTile, jb: u32, ma: vec4f, mb: vec4f, mc: vec4f, md: vec4f) {
  let xo = t.xo / vec4u(4u);
  let xo2 = t.xo2 / vec4u(4u);
  (*s).r0 += quad4(sx4[xo.x + jb], ma, mb, mc, md);
  if (ROWS > 1u) {
    (*s).r1 += quad4(sx4[xo.y + jb], ma, mb, mc, md);
  }
  if (ROWS > 2u) {
    (*s).r2 += quad4(sx4[xo.z + jb], ma, mb, mc, md);
    (*s).r3 += quad4(sx4[xo.w + jb], ma, mb, mc, md);
  }
  if (ROWS > 4u) {
    (*s).r4 += quad4(sx4[xo2.x + jb], ma, mb, mc, md);
    (*s).r5 += quad4(sx4[xo2.y + jb], ma, mb, mc, md);
    (*s).r6 += quad4(sx4[xo2.z + jb], ma, mb, mc, md);
    (*s).r7 += quad4(sx4[xo2.w + jb], ma, mb, mc, md);
  }
}

fn addZ(s: ptr<function, Acc8>, t: ScoreTile, jb: u32, ma: vec4f, mb: vec4f, mc: vec4f, md: vec4f) {
  let zo = t.zo / vec4u(4u);
  let zo2 = t.zo2 / vec4u(4u);
  (*s).r0 += quad4(sz4[zo.x + jb], ma, mb, mc, md);
  if (ROWS > 1u) {
    (*s).r1 += quad4(sz4[zo.y + jb], ma, mb, mc, md);
  }
  if (ROWS > 2u) {
    (*s).r2 += quad4(sz4[zo.z + jb], ma, mb, mc, md);
    (*s).r3 += quad4(sz4[zo.w + jb], ma, mb, mc, md);
  }
  if (ROWS > 4u) {
    (*s).r4 += quad4(sz4[zo2.x + jb], ma, mb, mc, md);
    (*s).r5 += quad4(sz4[zo2.y + jb], ma, mb, mc, md);
    (*s).r6 += quad4(sz4[zo2.z + jb], ma, mb, mc, md);
    (*s).r7 += quad4(sz4[zo2.w + jb], ma, mb, mc, md);
  }
}

// Block cb (columns 4cb..4cb+3) of xᵀM for the tile's rows, M = A⁻¹_a (xBlockA, mq = d/4 vec4s
// a row) or D_a (xBlockD, mq = k/4), from vec4 `base`.
fn xBlockA(t: ScoreTile, base: u32, mq: u32, cb: u32) -> Acc8 {
  var s = zeroAcc();
  var mi = base + cb;
  for (var jb = 0u; jb < ps.d / 4u; jb++) {
    addX(&s, t, jb, sa4[mi], sa4[mi + mq], sa4[mi + 2u * mq], sa4[mi + 3u * mq]);
    mi += 4u * mq;
  }
  return s;
}

fn xBlockD(t: ScoreTile, base: u32, mq: u32, cb: u32) -> Acc8 {
  var s = zeroAcc();
  var mi = base + cb;
  for (var jb = 0u; jb < ps.d / 4u; jb++) {
    addX(&s, t, jb, sd4[mi], sd4[mi + mq], sd4[mi + 2u * mq], sd4[mi + 3u * mq]);
    mi += 4u * mq;
  }
  return s;
}

// zᵀL[:, block cb], from L's rows 4cb on (the rows above hold zeros).
fn zBlockL(t: ScoreTile, cb: u32) -> Acc8 {
  var s = zeroAcc();
  let kq = ps.k / 4u;
  var li = 4u * cb * kq + cb;
  for (var jb = cb; jb < kq; jb++) {
    addZ(&s, t, jb, sl4[li], sl4[li + kq], sl4[li + 2u * kq], sl4[li + 3u * kq]);
    li += 4u * kq;
  }
  return s;
}

// (dot(a, x_r[4c..4c+3]))_r for the tile's rows 0-3 (o = xo) or 4-7 (o = xo2), x in sx4.
fn xDots(a: vec4f, b: vec4f, c: vec4f, d: vec4f, o: vec4u, cb: u32) -> vec4f {
  let v = o / vec4u(4u);
  var r = vec4f(0.0);
  r.x = dot(a, sx4[v.x + cb]);
  if (ROWS > 1u) {
    r.y = dot(b, sx4[v.y + cb]);
  }
  if (ROWS > 2u) {
    r.z = dot(c, sx4[v.z + cb]);
    r.w = dot(d, sx4[v.w + cb]);
  }
  return r;
}

fn zDots(a: vec4f, o: vec4u, cb: u32) -> vec4f {
  let v = o / vec4u(4u);
  var r = vec4f(0.0);
  r.x = dot(a, sz4[v.x + cb]);
  if (ROWS > 1u) {
    r.y = dot(a, sz4[v.y + cb]);
  }
  if (ROWS > 2u) {
    r.z = dot(a, sz4[v.z + cb]);
    r.w = dot(a, sz4[v.w + cb]);
  }
  return r;
}

fn squares(a: vec4f, b: vec4f, c: vec4f, d: vec4f) -> vec4f {
  return vec4f(dot(a, a), dot(b, b), dot(c, c), dot(d, d));
}

// d % 4 == 0 and k % 4 == 0, ROWS = 1, 2, 4 or 8: every row of A⁻¹, D, L, θ, β, x and z starts
// on a vec4.
@compute @workgroup_size(WG)
fn hybridScoresVec4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let t = scoreTile(wid, nwg, lid);
  if (!t.valid) {
    return;
  }
  let dq = ps.d / 4u;
  let kq = ps.k / 4u;
  var q = vec4f(0.0);
  var q2 = vec4f(0.0);
  var mean = vec4f(0.0);
  var mean2 = vec4f(0.0);
  for (var c = 0u; c < dq; c++) {
    let w = xBlockA(t, t.a * ps.d * dq, dq, c);
    let tc = sth4[t.a * dq + c];
    q += xDots(w.r0, w.r1, w.r2, w.r3, t.xo, c);
    mean += xDots(tc, tc, tc, tc, t.xo, c);
    if (ROWS > 4u) {
      q2 += xDots(w.r4, w.r5, w.r6, w.r7, t.xo2, c);
      mean2 += xDots(tc, tc, tc, tc, t.xo2, c);
    }
  }
  for (var cb = 0u; cb < kq; cb++) {
    let zl = zBlockL(t, cb);
    let xd = xBlockD(t, t.a * ps.d * kq, kq, cb);
    let bc = sb4[cb];
    q += squares(zl.r0 - xd.r0, zl.r1 - xd.r1, zl.r2 - xd.r2, zl.r3 - xd.r3);
    mean += zDots(bc, t.zo, cb);
    if (ROWS > 4u) {
      q2 += squares(zl.r4 - xd.r4, zl.r5 - xd.r5, zl.r6 - xd.r6, zl.r7 - xd.r7);
      mean2 += zDots(bc, t.zo2, cb);
    }
  }
  storeScores(t, mean, q, mean2, q2);
}

// Any d and k: the same walks with scalar loads, four columns at a time; columns past the end
// are loaded clamped and masked to zero before use, so an infinity in the last column cannot
// turn into 0·∞.

fn rowsOf1(o: vec4u, j: u32) -> vec4f {
  return vec4f(sx1[o.x + j], sx1[o.y + j], sx1[o.z + j], sx1[o.w + j]);
}

fn zRowsOf1(o: vec4u, j: u32) -> vec4f {
  return vec4f(sz1[o.x + j], sz1[o.y + j], sz1[o.z + j], sz1[o.w + j]);
}

@compute @workgroup_size(WG)
fn hybridScoresScalar(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                      @builtin(local_invocation_index) lid: u32) {
  let t = scoreTile(wid, nwg, lid);
  if (!t.valid) {
    return;
  }
  let d = ps.d;
  let k = ps.k;
  let zero = vec4f(0.0);
  let aBase = t.a * d * d;
  let dBase = t.a * d * k;
  var q = zero;
  var mean = zero;
  for (var c0 = 0u; c0 < d; c0 += 4u) {
    let cols = vec4u(c0) + vec4u(0u, 1u, 2u, 3u);
    let inside = cols < vec4u(d);
    let col = min(cols, vec4u(d - 1u));
    var w = zeroAcc();
    for (var j = 0u; j < d; j++) {
      let row = aBase + j * d;
      let mj = vec4f(sa1[row + col.x], sa1[row + col.y], sa1[row + col.z], sa1[row + col.w]);
      let xj = rowsOf1(t.xo, j);
      w.r0 += xj.x * mj;
      if (ROWS > 1u) {
        w.r1 += xj.y * mj;
      }
      if (ROWS > 2u) {
        w.r2 += xj.z * mj;
        w.r3 += xj.w * mj;
      }
    }
    let tc = select(zero, vec4f(sth1[t.a * d + col.x], sth1[t.a * d + col.y], sth1[t.a * d + col.z], sth1[t.a * d + col.w]), inside);
    var xv = select(zero, vec4f(sx1[t.xo.x + col.x], sx1[t.xo.x + col.y], sx1[t.xo.x + col.z], sx1[t.xo.x + col.w]), inside);
    q.x += dot(select(zero, w.r0, inside), xv);
    mean.x += dot(tc, xv);
    if (ROWS > 1u) {
      xv = select(zero, vec4f(sx1[t.xo.y + col.x], sx1[t.xo.y + col.y], sx1[t.xo.y + col.z], sx1[t.xo.y + col.w]), inside);
      q.y += dot(select(zero, w.r1, inside), xv);
      mean.y += dot(tc, xv);
    }
    if (ROWS > 2u) {
      xv = select(zero, vec4f(sx1[t.xo.z + col.x], sx1[t.xo.z + col.y], sx1[t.xo.z + col.z], sx1[t.xo.z + col.w]), inside);
      q.z += dot(select(zero, w.r2, inside), xv);
      mean.z += dot(tc, xv);
      xv = select(zero, vec4f(sx1[t.xo.w + col.x], sx1[t.xo.w + col.y], sx1[t.xo.w + col.z], sx1[t.xo.w + col.w]), inside);
      q.w += dot(select(zero, w.r3, inside), xv);
      mean.w += dot(tc, xv);
    }
  }
  for (var c0 = 0u; c0 < k; c0 += 4u) {
    let cols = vec4u(c0) + vec4u(0u, 1u, 2u, 3u);
    let inside = cols < vec4u(k);
    let col = min(cols, vec4u(k - 1u));
    var v = zeroAcc();
    for (var j = c0; j < k; j++) {
      let row = j * k;
      let lj = vec4f(sl1[row + col.x], sl1[row + col.y], sl1[row + col.z], sl1[row + col.w]);
      let zj = zRowsOf1(t.zo, j);
      v.r0 += zj.x * lj;
      if (ROWS > 1u) {
        v.r1 += zj.y * lj;
      }
      if (ROWS > 2u) {
        v.r2 += zj.z * lj;
        v.r3 += zj.w * lj;
      }
    }
    for (var j = 0u; j < d; j++) {
      let row = dBase + j * k;
      let dj = vec4f(sd1[row + col.x], sd1[row + col.y], sd1[row + col.z], sd1[row + col.w]);
      let xj = rowsOf1(t.xo, j);
      v.r0 -= xj.x * dj;
      if (ROWS > 1u) {
        v.r1 -= xj.y * dj;
      }
      if (ROWS > 2u) {
        v.r2 -= xj.z * dj;
        v.r3 -= xj.w * dj;
      }
    }
    let bc = select(zero, vec4f(sb1[col.x], sb1[col.y], sb1[col.z], sb1[col.w]), inside);
    var m = select(zero, v.r0, inside);
    q.x += dot(m, m);
    mean.x += dot(bc, select(zero, vec4f(sz1[t.zo.x + col.x], sz1[t.zo.x + col.y], sz1[t.zo.x + col.z], sz1[t.zo.x + col.w]), inside));
    if (ROWS > 1u) {
      m = select(zero, v.r1, inside);
      q.y += dot(m, m);
      mean.y += dot(bc, select(zero, vec4f(sz1[t.zo.y + col.x], sz1[t.zo.y + col.y], sz1[t.zo.y + col.z], sz1[t.zo.y + col.w]), inside));
    }
    if (ROWS > 2u) {
      m = select(zero, v.r2, inside);
      q.z += dot(m, m);
      mean.z += dot(bc, select(zero, vec4f(sz1[t.zo.z + col.x], sz1[t.zo.z + col.y], sz1[t.zo.z + col.z], sz1[t.zo.z + col.w]), inside));
      m = select(zero, v.r3, inside);
      q.w += dot(m, m);
      mean.w += dot(bc, select(zero, vec4f(sz1[t.zo.w + col.x], sz1[t.zo.w + col.y], sz1[t.zo.w + col.z], sz1[t.zo.w + col.w]), inside));
    }
  }
  storeScores(t, mean, q, zero, zero);
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

struct ArmParams {
  d: u32,
  k: u32,
  segments: u32,
  /// idx offset of the rewards (f32 bits, by row).
  rewardsAt: u32,
}

@group(0) @binding(0) var<uniform> pa: ArmParams;
@group(0) @binding(1) var<storage, read> uidx: array<u32>;
@group(0) @binding(2) var<storage, read> uxz: array<f32>;
@group(0) @binding(3) var<storage, read_write> uainv: array<f32>;
@group(0) @binding(4) var<storage, read_write> uc: array<f32>;
@group(0) @binding(5) var<storage, read_write> uphi: array<f32>;
@group(0) @binding(6) var<storage, read_write> uw: array<f32>;
@group(0) @binding(7) var<storage, read_write> urho: array<f32>;
@group(0) @binding(8) var<storage, read_write> uscratch: array<f32>;

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
fn hybridArmUpdate(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let t = flatGroup(wid, nwg);
  if (t >= pa.segments) {
    return;
  }
  let d = pa.d;
  let k = pa.k;
  let n = d + k + 1u;
  let stride = d + k;
  let arm = uidx[t];
  let aBase = arm * d * d;
  let cBase = arm * d * k;
  let pBase = arm * d;
  let first = uidx[pa.segments + t];
  let end = uidx[pa.segments + t + 1u];
  let rows = 2u * pa.segments + 1u;
  let so = t * 2u * n;

  var xo = uidx[rows + first] * stride;
  for (var j = lid; j < n; j += WG) {
    uscratch[so + j] = jointColumnDot(j, xo, aBase, cBase, pBase);
  }
  storageBarrier();

  for (var s = first; s < end; s++) {
    let cur = so + ((s - first) & 1u) * n;
    let nxt = so + (((s - first) & 1u) ^ 1u) * n;
    let u = uidx[rows + s];
    let more = s + 1u < end;
    let xn = select(xo, uidx[rows + s + 1u] * stride, more);
    var xy = 0.0;
    for (var i = 0u; i < d; i++) {
      xy += uxz[xo + i] * uscratch[cur + i];
    }
    let sc = 1.0 / (1.0 + xy);
    let root = sqrt(sc);
    let r = bitcast<f32>(uidx[pa.rewardsAt + u]);
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
@group(0) @binding(1) var<storage, read> oidx: array<u32>;
@group(0) @binding(2) var<storage, read> ox: array<f32>;
@group(0) @binding(3) var<storage, read> oz: array<f32>;
@group(0) @binding(4) var<storage, read_write> om: array<f32>;

@compute @workgroup_size(WG)
fn scatterOuterAdd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let g = flatGroup(wid, nwg);
  let t = g / po.groupsPerArm;
  let d = po.d;
  let k = po.k;
  let e = (g - t * po.groupsPerArm) * WG + lid;
  if (t >= po.segments || e >= d * k) {
    return;
  }
  let i = e / k;
  let j = e - i * k;
  let at = oidx[t] * d * k + e;
  let rows = 2u * po.segments + 1u;
  let end = oidx[po.segments + t + 1u];
  var m = om[at];
  for (var s = oidx[po.segments + t]; s < end; s++) {
    let u = oidx[rows + s];
    m += ox[u * d + i] * oz[u * k + j];
  }
  om[at] = m;
}
