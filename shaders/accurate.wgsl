// The accurate accumulators of per-arm ridge state and what is computed from them
// (docs/numerics.md): A = λI + Σ w·x xᵀ and b = Σ r·x kept as float-float (hi and lo f32 arrays,
// lib/ff.wgsl), the residual of a kept f32 inverse against that accurate A, and iterative
// refinement of θ = A⁻¹b. Matrices are K d×d row-major, vectors K×d, one arm after another.
// Needs lib/grid.wgsl, lib/segments.wgsl and lib/ff.wgsl.

struct AccumulateParams {
  d: u32,
  /// d: M_k += w·x xᵀ (d×d an arm); 1: v_k += w·x (d an arm)
  width: u32,
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
}

struct SolveParams {
  d: u32,
  count: u32,
  iterations: u32,
  /// 1: start from θ = 0 (the first step is then θ = A⁻¹b)
  restart: u32,
}

@group(0) @binding(0) var<uniform> pa: AccumulateParams;
@group(0) @binding(1) var<storage, read> aidx: array<u32>;
@group(0) @binding(2) var<storage, read> ax: array<f32>;
@group(0) @binding(3) var<storage, read_write> ahi: array<f32>;
@group(0) @binding(4) var<storage, read_write> alo: array<f32>;

fn segmentWord(i: u32) -> u32 {
  return aidx[i];
}

// Every element of every touched arm, one an invocation, walking its arm's rows in order: the
// exact product (twoProd) times the row's weight, added in float-float. x_i·x_j and x_j·x_i are
// the same operations, so a symmetric M stays exactly symmetric.
@compute @workgroup_size(WG)
fn accumulateOuter(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                   @builtin(local_invocation_index) lid: u32) {
  let g = flatGroup(wid, nwg);
  let t = g / pa.groupsPerArm;
  let w = pa.width;
  let n = pa.d * w;
  let e = (g - t * pa.groupsPerArm) * WG + lid;
  if (t >= pa.segments || e >= n) {
    return;
  }
  let i = e / w;
  let j = e - i * w;
  let sg = segmentAt(t, pa.segments);
  let k = sg.arm * n + e;
  var acc = vec2f(ahi[k], alo[k]);
  for (var s = sg.first; s < sg.end; s++) {
    let u = segmentRow(sg, s);
    let xo = u * pa.d;
    let weight = bitcast<f32>(aidx[pa.weightsAt + u]);
    var term: vec2f;
    if (w == 1u) {
      term = twoProd(weight, ax[xo + i]);
    } else if (weight == 1.0) {
      term = twoProd(ax[xo + i], ax[xo + j]);
    } else {
      term = ffMulF(twoProd(ax[xo + i], ax[xo + j]), weight);
    }
    acc = ffAdd(acc, term);
  }
  ahi[k] = acc.x;
  alo[k] = acc.y;
}

@group(0) @binding(0) var<uniform> pr: ResidualParams;
@group(0) @binding(1) var<storage, read> rhi: array<f32>;
@group(0) @binding(2) var<storage, read> rlo: array<f32>;
@group(0) @binding(3) var<storage, read> rinv: array<f32>;
@group(0) @binding(4) var<storage, read_write> rout: array<f32>;
@group(0) @binding(5) var<storage, read_write> rnorm: array<atomic<u32>>;

// R = I − A·X with A float-float and every product exact, one row of one arm an invocation; the
// row's Σ_j |R_ij| and Σ_j Σ_l |A_il X_lj| meet the arm's other rows in atomicMax on their bits
// (non-negative f32 order as their u32 bits do, NaN above +∞), at norms[2k] and norms[2k + 1].
@compute @workgroup_size(WG)
fn accurateResidual(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
                    @builtin(local_invocation_index) lid: u32) {
  let d = pr.d;
  let ai = itemOf(flatIndex(wid, nwg, lid), d);
  if (ai.x >= pr.matrices) {
    return;
  }
  let base = ai.x * d * d;
  let row = base + ai.y * d;
  var rowAbs = 0.0;
  var rowMag = 0.0;
  for (var j = 0u; j < d; j++) {
    var acc = vec2f(select(0.0, -1.0, j == ai.y), 0.0);
    for (var l = 0u; l < d; l++) {
      let xlj = rinv[base + l * d + j];
      let p = ffProdF(rhi[row + l], rlo[row + l], xlj);
      acc = ffAdd(acc, p);
      rowMag += abs(p.x);
    }
    let r = -(acc.x + acc.y);
    if (pr.writeR != 0u) {
      rout[row + j] = r;
    }
    rowAbs += abs(r);
  }
  atomicMax(&rnorm[2u * ai.x], bitcast<u32>(rowAbs));
  atomicMax(&rnorm[2u * ai.x + 1u], bitcast<u32>(rowMag));
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

// Iterative refinement of θ_k = A_k⁻¹ b_k, one workgroup a listed arm: r = b − A θ in float-float
// (rounded to f32 once), then θ += X r with the kept inverse X, `iterations` times. It converges
// while ‖I − X A‖ < 1; each step shrinks θ's error by about that factor.
@compute @workgroup_size(WG)
fn refineSolve(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let t = flatGroup(wid, nwg);
  if (t >= ps.count) {
    return;
  }
  let d = ps.d;
  let k = sarms[t];
  let base = k * d * d;
  let v = k * d;
  if (ps.restart != 0u) {
    for (var i = lid; i < d; i += WG) {
      stheta[v + i] = 0.0;
    }
  }
  storageBarrier();
  for (var it = 0u; it < ps.iterations; it++) {
    for (var i = lid; i < d; i += WG) {
      let row = base + i * d;
      var acc = vec2f(sbhi[v + i], sblo[v + i]);
      for (var l = 0u; l < d; l++) {
        acc = ffAdd(acc, -ffProdF(shi[row + l], slo[row + l], stheta[v + l]));
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
      stheta[v + i] += s;
    }
    storageBarrier();
    workgroupBarrier();
  }
}
