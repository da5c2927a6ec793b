// The accurate accumulators of per-arm ridge state and what is computed from them
// (docs/numerics.md): A = λI + Σ w·x xᵀ and b = Σ r·x kept as float-float (hi and lo f32 arrays,
// lib/ff.wgsl), the residual of a kept f32 inverse against that accurate A, and iterative
// refinement of θ = A⁻¹b (b one column or several: C = A⁻¹B). Matrices are K d×d (or d×c)
// row-major, vectors K×d, one arm after another.
// Needs lib/grid.wgsl, lib/segments.wgsl and lib/ff.wgsl.

struct AccumulateParams {
  d: u32,
  /// elements of a row of M: d (x xᵀ), c (x zᵀ) or 1 (the vector form)
  width: u32,
  /// 1: M_k += w·x zᵀ (z = x for x xᵀ); 0: v_k += w·x
  outer: u32,
  /// values of a row of z (d when z is x)
  zStride: u32,
  segments: u32,
  groupsPerArm: u32,
  /// where the U row weights (f32 bits) start in the index
  weightsAt: u32,
}

struct ResidualParams {
  d: u32,
  matrices: u32,
  /// 1: write R (else only its norms)
  writeR: u32,
  /// 1: X is float-float, rinv + rinvlo (else rinv alone)
  xLo: u32,
}

struct AddParams {
  n: u32,
}

struct SolveParams {
  d: u32,
  count: u32,
  iterations: u32,
  /// 1: start from θ = 0 (the first step is then θ = A⁻¹b)
  restart: u32,
  /// columns of b and θ (1: vectors)
  cols: u32,
}

@group(0) @binding(0) var<uniform> pa: AccumulateParams;
@group(0) @binding(1) var<storage, read> aidx: array<u32>;
@group(0) @binding(2) var<storage, read> ax: array<f32>;
@group(0) @binding(3) var<storage, read> az: array<f32>;
@group(0) @binding(4) var<storage, read_write> ahi: array<f32>;
@group(0) @binding(5) var<storage, read_write> alo: array<f32>;

fn segmentWord(i: u32) -> u32 {
  return aidx[i];
}

// Every element of every touched arm, four consecutive ones an invocation (vec4 lanes; past the
// arm's n elements a lane repeats the last and is not stored), walking its arm's rows in order:
// the exact product (twoProd) times the row's weight, added in float-float. x_i·x_j and x_j·x_i
// are the same operations, so a symmetric M (z bound to x) stays exactly symmetric.
@compute @workgroup_size(WG)
fn accumulateOuter(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = groupIndex(grid);
  let t = g / pa.groupsPerArm;
  let w = pa.width;
  let n = pa.d * w;
  let e0 = 4u * ((g - t * pa.groupsPerArm) * WG + lid);
  if (t >= pa.segments || e0 >= n) {
    return;
  }
  let es = clampedLanes(e0, n - 1u);
  let i = es / vec4u(w);
  let j = es - i * vec4u(w);
  let sg = segmentAt(t, pa.segments);
  let k = vec4u(sg.arm * n) + es;
  var hi = vec4f(ahi[k.x], ahi[k.y], ahi[k.z], ahi[k.w]);
  var lo = vec4f(alo[k.x], alo[k.y], alo[k.z], alo[k.w]);
  for (var s = sg.first; s < sg.end; s++) {
    let u = segmentRow(sg, s);
    let xo = u * pa.d;
    let weight = bitcast<f32>(aidx[pa.weightsAt + u]);
    let xi = vec4f(ax[xo + i.x], ax[xo + i.y], ax[xo + i.z], ax[xo + i.w]);
    var term: array<vec4f, 2>;
    if (pa.outer == 0u) {
      term = twoProd4(vec4f(weight), xi);
    } else {
      let zo = u * pa.zStride;
      let xj = vec4f(az[zo + j.x], az[zo + j.y], az[zo + j.z], az[zo + j.w]);
      term = twoProd4(xi, xj);
      if (weight != 1.0) {
        // (p + e)·w: p·w exactly, e·w rounded (it is below ulp(p·w)).
        let pw = twoProd4(term[0], vec4f(weight));
        term = fastTwoSum4(pw[0], pw[1] + term[1] * weight);
      }
    }
    let r = ffAdd4(hi, lo, term[0], term[1]);
    hi = r[0];
    lo = r[1];
  }
  for (var q = 0u; q < 4u; q++) {
    if (e0 + q < n) {
      ahi[k[q]] = hi[q];
      alo[k[q]] = lo[q];
    }
  }
}

@group(0) @binding(0) var<uniform> pr: ResidualParams;
@group(0) @binding(1) var<storage, read> rhi: array<f32>;
@group(0) @binding(2) var<storage, read> rlo: array<f32>;
@group(0) @binding(3) var<storage, read> rinv: array<f32>;
@group(0) @binding(4) var<storage, read> rinvlo: array<f32>;
@group(0) @binding(5) var<storage, read_write> rout: array<f32>;
@group(0) @binding(6) var<storage, read_write> rnorm: array<atomic<u32>>;

// R = I − A·X with A float-float, a compensated dot product (dot2Add) an element, one row of one
// arm an invocation (X float-float too with xLo: A·X_lo, below u·|A|·|X|, joins the correction
// in plain f32); the
// row's Σ_j |R_ij| and Σ_j Σ_l |A_il X_lj| meet the arm's other rows in atomicMax on their bits
// (non-negative f32 order as their u32 bits do, NaN above +∞), at norms[2k] and norms[2k + 1].
@compute @workgroup_size(WG)
fn accurateResidual(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let d = pr.d;
  let ai = itemOf(invocationIndex(grid, lid), d);
  if (ai.x >= pr.matrices) {
    return;
  }
  let base = ai.x * d * d;
  let row = base + ai.y * d;
  var rowAbs = 0.0;
  var rowMag = 0.0;
  // Four columns j … j+3 at a time (vec4 arithmetic; past d the lanes read column d−1 and are dropped).
  for (var j = 0u; j < d; j += 4u) {
    let cols = vec4u(j) + LANES;
    let live = cols < vec4u(d);
    let cl = min(cols, vec4u(d - 1u));
    var sum = select(vec4f(0.0), vec4f(-1.0), cols == vec4u(ai.y));
    var corr = vec4f(0.0);
    var mag = vec4f(0.0);
    for (var l = 0u; l < d; l++) {
      let xr = base + l * d;
      let x = vec4f(rinv[xr + cl.x], rinv[xr + cl.y], rinv[xr + cl.z], rinv[xr + cl.w]);
      let ail = rhi[row + l];
      let t = dot2Add4(sum, corr, ail, rlo[row + l], x);
      sum = t[0];
      corr = t[1];
      if (pr.xLo != 0u) {
        corr += ail * vec4f(rinvlo[xr + cl.x], rinvlo[xr + cl.y], rinvlo[xr + cl.z], rinvlo[xr + cl.w]);
      }
      mag += abs(ail * x);
    }
    let r = -(sum + corr);
    for (var q = 0u; q < 4u; q++) {
      if (live[q]) {
        if (pr.writeR != 0u) {
          rout[row + cols[q]] = r[q];
        }
        rowAbs += abs(r[q]);
        rowMag += mag[q];
      }
    }
  }
  atomicMax(&rnorm[2u * ai.x], bitcast<u32>(rowAbs));
  atomicMax(&rnorm[2u * ai.x + 1u], bitcast<u32>(rowMag));
}

@group(0) @binding(0) var<uniform> pd: AddParams;
@group(0) @binding(1) var<storage, read> dc: array<f32>;
@group(0) @binding(2) var<storage, read_write> dhi: array<f32>;
@group(0) @binding(3) var<storage, read_write> dlo: array<f32>;

// (hi, lo) ← hi + lo + c in float-float, renormalised (|lo| ≤ ulp(hi)/2), one element an invocation.
@compute @workgroup_size(WG)
fn addAccurate(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let e = invocationIndex(grid, lid);
  if (e >= pd.n) {
    return;
  }
  let s = twoSum(dhi[e], dc[e]);
  let r = fastTwoSum(s.x, s.y + dlo[e]);
  dhi[e] = r.x;
  dlo[e] = r.y;
}

@group(0) @binding(0) var<uniform> ps: SolveParams;
@group(0) @binding(1) var<storage, read> sarms: array<u32>;
@group(0) @binding(2) var<storage, read> shi: array<f32>;
@group(0) @binding(3) var<storage, read> slo: array<f32>;
@group(0) @binding(4) var<storage, read> sbhi: array<f32>;
@group(0) @binding(5) var<storage, read> sblo: array<f32>;
@group(0) @binding(6) var<storage, read> sinv: array<f32>;
@group(0) @binding(7) var<storage, read_write> stheta: array<f32>;

/// The residual of the arm being refined (d ≤ 256, the factorisation limit).
var<workgroup> sres: array<f32, 256>;

// Iterative refinement of θ_k = A_k⁻¹ b_k, one workgroup a listed arm, each of the `cols` columns
// of b and θ (element (i, c) at (k·d + i)·cols + c) in turn: r = b − A θ as a compensated dot
// product (rounded to f32 once), then θ += X r with the kept inverse X, `iterations` times. It
// converges while ‖I − X A‖ < 1; each step shrinks θ's error by about that factor.
@compute @workgroup_size(WG)
fn refineSolve(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let t = groupIndex(grid);
  if (t >= ps.count) {
    return;
  }
  let d = ps.d;
  let cols = ps.cols;
  let k = sarms[t];
  let base = k * d * d;
  let v = k * d;
  if (ps.restart != 0u) {
    for (var i = lid; i < d * cols; i += WG) {
      stheta[v * cols + i] = 0.0;
    }
  }
  storageBarrier();
  for (var c = 0u; c < cols; c++) {
    for (var it = 0u; it < ps.iterations; it++) {
      for (var i = lid; i < d; i += WG) {
        let row = base + i * d;
        let e = (v + i) * cols + c;
        var acc = vec2f(sbhi[e], sblo[e]);
        for (var l = 0u; l < d; l++) {
          acc = dot2Add(acc, -shi[row + l], -slo[row + l], stheta[(v + l) * cols + c]);
        }
        sres[i] = acc.x + acc.y;
      }
      workgroupBarrier();
      for (var i = lid; i < d; i += WG) {
        let row = base + i * d;
        var s = 0.0;
        for (var j = 0u; j < d; j++) {
          s = fma(sinv[row + j], sres[j], s);
        }
        stheta[(v + i) * cols + c] += s;
      }
      storageBarrier();
      workgroupBarrier();
    }
  }
}
