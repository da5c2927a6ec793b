// Elementwise BLAS-1: y ← α·x + y (axpy) and x ← α·x (scale), one element an invocation.
// The workgroup grid may be two-dimensional when n passes maxComputeWorkgroupsPerDimension·WG.
// Needs lib/grid.wgsl.

struct ElementwiseParams {
  n: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> p: ElementwiseParams;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(1) var<storage, read_write> v: array<f32>;

@compute @workgroup_size(WG)
fn axpy(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let i = invocationIndex(grid, lid);
  if (i < p.n) {
    y[i] = fma(p.alpha, x[i], y[i]);
  }
}

@compute @workgroup_size(WG)
fn scale(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let i = invocationIndex(grid, lid);
  if (i < p.n) {
    v[i] = p.alpha * v[i];
  }
}
