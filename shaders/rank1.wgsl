// Batched symmetric rank-1 updates of K d×d matrices (row-major, one after another in `m`), the
// U updates grouped by arm in the segment index `idx` (lib/segments.wgsl). Updates of one arm run
// in order; different arms run in parallel. The *Vec4 entry points need d % 4 == 0 (rows of M and
// x then start on a vec4).
// Needs lib/grid.wgsl and lib/segments.wgsl.

struct Rank1Params {
  d: u32,
  /// touched arms (segments)
  segments: u32,
  /// symRank1: workgroups per arm
  groupsPerArm: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> p: Rank1Params;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read_write> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(2) var<storage, read> x4: array<vec4f>;
@group(0) @binding(3) var<storage, read_write> m4: array<vec4f>;
@group(0) @binding(4) var<storage, read_write> scratch4: array<vec4f>;

fn segmentWord(i: u32) -> u32 {
  return idx[i];
}

// Sherman–Morrison, one workgroup an arm. Invocation c owns the columns j ≡ c (mod WG): loads are
// coalesced and no invocation reads an element of M another one wrote, so the only shared data is
// v = M x, double-buffered in `scratch` (2·d floats a segment) so one barrier an update suffices.
// M is symmetric, so column j dotted with x is (M x)_j. Both (i, j) and (j, i) subtract the same
// (v_i·v_j)·s, so a symmetric M stays exactly symmetric. The sweep that applies update s also
// computes update s+1's M x from the column it just wrote: one pass over M an update.
// v lives in storage, not workgroup memory: no limit on d, and on SwiftShader a workgroup-memory v
// was no faster sized to d, 3× slower as a fixed 8 KiB array (which also took ~1 s to compile).
@compute @workgroup_size(WG)
fn shermanMorrison(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = groupIndex(grid);
  if (t >= p.segments) {
    return;
  }
  let d = p.d;
  let sg = segmentAt(t, p.segments);
  let base = sg.arm * d * d;
  let first = sg.first;
  let end = sg.end;
  let vo = t * 2u * d;

  var xo = segmentRow(sg, first) * d;
  for (var j = lid; j < d; j += WG) {
    var acc = 0.0;
    for (var i = 0u; i < d; i++) {
      acc = fma(m[base + i * d + j], x[xo + i], acc);
    }
    scratch[vo + j] = acc;
  }
  storageBarrier();

  for (var s = first; s < end; s++) {
    let cur = vo + ((s - first) & 1u) * d;
    var xv = 0.0;
    for (var i = 0u; i < d; i++) {
      xv = fma(x[xo + i], scratch[cur + i], xv);
    }
    let sc = 1.0 / (1.0 + xv);
    if (s + 1u < end) {
      let nxt = vo + (((s - first) & 1u) ^ 1u) * d;
      let xn = segmentRow(sg, s + 1u) * d;
      for (var j = lid; j < d; j += WG) {
        let vj = scratch[cur + j];
        var acc = 0.0;
        for (var i = 0u; i < d; i++) {
          let k = base + i * d + j;
          let mij = m[k] - (scratch[cur + i] * vj) * sc;
          m[k] = mij;
          acc = fma(mij, x[xn + i], acc);
        }
        scratch[nxt + j] = acc;
      }
      xo = xn;
      storageBarrier();
    } else {
      for (var j = lid; j < d; j += WG) {
        let vj = scratch[cur + j];
        for (var i = 0u; i < d; i++) {
          let k = base + i * d + j;
          m[k] = m[k] - (scratch[cur + i] * vj) * sc;
        }
      }
    }
  }
}

// The same with invocation c owning column quads q ≡ c (mod WG) (vec4 loads of M) and rows taken
// four at a time (vec4 loads of x and v).
@compute @workgroup_size(WG)
fn shermanMorrisonVec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = groupIndex(grid);
  if (t >= p.segments) {
    return;
  }
  let q = p.d / 4u;
  let sg = segmentAt(t, p.segments);
  let base = sg.arm * p.d * q;
  let first = sg.first;
  let end = sg.end;
  let vo = t * 2u * q;

  var xo = segmentRow(sg, first) * q;
  for (var j = lid; j < q; j += WG) {
    var acc = vec4f(0.0);
    for (var i = 0u; i < q; i++) {
      let xi = x4[xo + i];
      let k = base + 4u * i * q + j;
      acc = fma(m4[k], vec4f(xi.x), acc);
      acc = fma(m4[k + q], vec4f(xi.y), acc);
      acc = fma(m4[k + 2u * q], vec4f(xi.z), acc);
      acc = fma(m4[k + 3u * q], vec4f(xi.w), acc);
    }
    scratch4[vo + j] = acc;
  }
  storageBarrier();

  for (var s = first; s < end; s++) {
    let cur = vo + ((s - first) & 1u) * q;
    var xv = 0.0;
    for (var i = 0u; i < q; i++) {
      xv += dot(x4[xo + i], scratch4[cur + i]);
    }
    let sc = 1.0 / (1.0 + xv);
    if (s + 1u < end) {
      let nxt = vo + (((s - first) & 1u) ^ 1u) * q;
      let xn = segmentRow(sg, s + 1u) * q;
      for (var j = lid; j < q; j += WG) {
        let vj = scratch4[cur + j];
        var acc = vec4f(0.0);
        for (var i = 0u; i < q; i++) {
          let vi = scratch4[cur + i];
          let xi = x4[xn + i];
          let k = base + 4u * i * q + j;
          let r0 = m4[k] - (vi.x * vj) * sc;
          let r1 = m4[k + q] - (vi.y * vj) * sc;
          let r2 = m4[k + 2u * q] - (vi.z * vj) * sc;
          let r3 = m4[k + 3u * q] - (vi.w * vj) * sc;
          m4[k] = r0;
          m4[k + q] = r1;
          m4[k + 2u * q] = r2;
          m4[k + 3u * q] = r3;
          acc = fma(r0, vec4f(xi.x), acc);
          acc = fma(r1, vec4f(xi.y), acc);
          acc = fma(r2, vec4f(xi.z), acc);
          acc = fma(r3, vec4f(xi.w), acc);
        }
        scratch4[nxt + j] = acc;
      }
      xo = xn;
      storageBarrier();
    } else {
      for (var j = lid; j < q; j += WG) {
        let vj = scratch4[cur + j];
        for (var i = 0u; i < q; i++) {
          let vi = scratch4[cur + i];
          let k = base + 4u * i * q + j;
          m4[k] = m4[k] - (vi.x * vj) * sc;
          m4[k + q] = m4[k + q] - (vi.y * vj) * sc;
          m4[k + 2u * q] = m4[k + 2u * q] - (vi.z * vj) * sc;
          m4[k + 3u * q] = m4[k + 3u * q] - (vi.w * vj) * sc;
        }
      }
    }
  }
}

// M += α·x xᵀ shares nothing: one element an invocation, each walking its arm's segment in order;
// α·(x_i·x_j) keeps M symmetric. groupsPerArm workgroups cover one arm's d² elements.
@compute @workgroup_size(WG)
fn symRank1(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = groupIndex(grid);
  let t = g / p.groupsPerArm;
  let d = p.d;
  let e = (g - t * p.groupsPerArm) * WG + lid;
  if (t >= p.segments || e >= d * d) {
    return;
  }
  let i = e / d;
  let j = e - i * d;
  let sg = segmentAt(t, p.segments);
  let k = sg.arm * d * d + e;
  var mij = m[k];
  for (var s = sg.first; s < sg.end; s++) {
    let xo = segmentRow(sg, s) * d;
    mij = fma(p.alpha, x[xo + i] * x[xo + j], mij);
  }
  m[k] = mij;
}

// The same, a 4×4 block an invocation (rows 4r..4r+3, column quad j): one vec4 of x_i and one of
// x_j an update serve 16 elements.
@compute @workgroup_size(WG)
fn symRank1Vec4(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = groupIndex(grid);
  let t = g / p.groupsPerArm;
  let q = p.d / 4u;
  let e = (g - t * p.groupsPerArm) * WG + lid;
  if (t >= p.segments || e >= q * q) {
    return;
  }
  let r = e / q;
  let j = e - r * q;
  let sg = segmentAt(t, p.segments);
  let k = sg.arm * p.d * q + 4u * r * q + j;
  var m0 = m4[k];
  var m1 = m4[k + q];
  var m2 = m4[k + 2u * q];
  var m3 = m4[k + 3u * q];
  for (var s = sg.first; s < sg.end; s++) {
    let xo = segmentRow(sg, s) * q;
    let xi = x4[xo + r];
    let xj = x4[xo + j];
    m0 = fma(vec4f(p.alpha), xi.x * xj, m0);
    m1 = fma(vec4f(p.alpha), xi.y * xj, m1);
    m2 = fma(vec4f(p.alpha), xi.z * xj, m2);
    m3 = fma(vec4f(p.alpha), xi.w * xj, m3);
  }
  m4[k] = m0;
  m4[k + q] = m1;
  m4[k + 2u * q] = m2;
  m4[k + 3u * q] = m3;
}
