// Calibration kernels of the head-to-head benchmark (bench/calibrate.ts): what the adapter can do
// at best, to say how close an op comes to it. Not library kernels.
//
// streamCopy: dst = src over n4 vec4s. A workgroup copies one contiguous chunk of ROUNDS·WG vec4s,
//   its invocations side by side in each round (coalesced on a GPU; on SwiftShader, where a
//   workgroup is one CPU thread, a sequential stream per thread). 2·16 bytes moved a vec4, nothing
//   computed. On SwiftShader this pattern measured best of four (one vec4 an invocation, a grid
//   stride, 16 contiguous vec4s an invocation, this), by up to 30%.
// fmaChains: `iters` rounds of 8 independent vec4 fma chains an invocation (8 so a pipelined FMA
//   unit never waits on its previous result), 8·4·2 FLOPs a round; only the sum is stored, one
//   vec4 an invocation, so memory plays no part. m and c come from the uniforms, so the compiler
//   cannot fold the loop; m < 1 keeps the chains finite and off denormals.

override WG: u32 = 256;

struct Params {
  n4: u32,
  iters: u32,
  m: f32,
  c: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

override ROUNDS: u32 = 16;

@compute @workgroup_size(WG)
fn streamCopy(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let chunk = (wid.x + wid.y * nwg.x) * ROUNDS * WG;
  for (var r = 0u; r < ROUNDS; r++) {
    let i = chunk + r * WG + lid.x;
    if (i < p.n4) {
      dst[i] = src[i];
    }
  }
}

@compute @workgroup_size(WG)
fn fmaChains(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m = vec4<f32>(p.m);
  let c = vec4<f32>(p.c);
  let s = f32(gid.x & 1023u) * 1e-3;
  var a0 = vec4<f32>(s, s + 0.1, s + 0.2, s + 0.3);
  var a1 = a0 + 0.01;
  var a2 = a0 + 0.02;
  var a3 = a0 + 0.03;
  var a4 = a0 + 0.04;
  var a5 = a0 + 0.05;
  var a6 = a0 + 0.06;
  var a7 = a0 + 0.07;
  for (var i = 0u; i < p.iters; i++) {
    a0 = fma(a0, m, c);
    a1 = fma(a1, m, c);
    a2 = fma(a2, m, c);
    a3 = fma(a3, m, c);
    a4 = fma(a4, m, c);
    a5 = fma(a5, m, c);
    a6 = fma(a6, m, c);
    a7 = fma(a7, m, c);
  }
  if (gid.x < p.n4) {
    dst[gid.x] = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
  }
}
