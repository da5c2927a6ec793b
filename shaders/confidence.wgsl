// NeuralUCB's two elementwise steps around the batched MLP passes (shaders/neural.wgsl):
//   confidenceScores  out[n] = mean[n] + scale·sqrt(max(width2[n], 0)), the UCB of every row from
//                     f(x_n; θ) and gᵀZ⁻¹g (the clamp keeps a rounding-negative width from NaN);
//   accumulateSquares z[q] += scale·Σ_n J[n, q]², the diagonal of Z after the played rows'
//                     gradients (rows in order, so the sum is the float64 twin's order).
// One output an invocation; the grid may be two-dimensional past 65535 workgroups.
// Needs lib/grid.wgsl.

struct ConfidenceParams {
  // Outputs (rows of mean / columns of J).
  n: u32,
  // Rows of J (accumulateSquares).
  rows: u32,
  scale: f32,
}

@group(0) @binding(0) var<uniform> p: ConfidenceParams;
@group(0) @binding(1) var<storage, read> mean: array<f32>;
@group(0) @binding(2) var<storage, read> width2: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(1) var<storage, read> jac: array<f32>;
@group(0) @binding(2) var<storage, read_write> z: array<f32>;

@compute @workgroup_size(WG)
fn confidenceScores(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let i = invocationIndex(grid, lid);
  if (i < p.n) {
    out[i] = mean[i] + p.scale * sqrt(max(width2[i], 0.0));
  }
}

// Column q of J is read with stride n: neighbouring invocations read neighbouring columns of one
// row, so each step of the loop is one coalesced row read across the workgroup.
@compute @workgroup_size(WG)
fn accumulateSquares(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let q = invocationIndex(grid, lid);
  if (q >= p.n) {
    return;
  }
  var s = 0.0;
  for (var r = 0u; r < p.rows; r++) {
    let g = jac[r * p.n + q];
    s = fma(g, g, s);
  }
  z[q] = fma(p.scale, s, z[q]);
}
