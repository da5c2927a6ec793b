// The f32 multiply-add rate of these cores under WebAssembly SIMD: eight independent chains of
// x ← x·a + b on four lanes each (enough to hide the latency of a multiply and an add), what a
// kernel could reach at most. bench/wasm.ts times it in the same run as the cases.
#include "kernels.h"

/** 64·iters FLOPs (8 chains × 4 lanes × multiply and add); returns the lanes' sum so nothing is optimised away. */
EXPORT(calibrate_fma) f32 calibrate_fma(int iters, f32 a, f32 b) {
  v128_t av = wasm_f32x4_splat(a), bv = wasm_f32x4_splat(b);
  v128_t x0 = wasm_f32x4_make(0.1f, 0.2f, 0.3f, 0.4f), x1 = wasm_f32x4_add(x0, bv), x2 = wasm_f32x4_add(x1, bv), x3 = wasm_f32x4_add(x2, bv);
  v128_t x4 = wasm_f32x4_add(x3, bv), x5 = wasm_f32x4_add(x4, bv), x6 = wasm_f32x4_add(x5, bv), x7 = wasm_f32x4_add(x6, bv);
  for (int i = 0; i < iters; i++) {
    x0 = wasm_f32x4_add(wasm_f32x4_mul(x0, av), bv); x1 = wasm_f32x4_add(wasm_f32x4_mul(x1, av), bv);
    x2 = wasm_f32x4_add(wasm_f32x4_mul(x2, av), bv); x3 = wasm_f32x4_add(wasm_f32x4_mul(x3, av), bv);
    x4 = wasm_f32x4_add(wasm_f32x4_mul(x4, av), bv); x5 = wasm_f32x4_add(wasm_f32x4_mul(x5, av), bv);
    x6 = wasm_f32x4_add(wasm_f32x4_mul(x6, av), bv); x7 = wasm_f32x4_add(wasm_f32x4_mul(x7, av), bv);
  }
  return hsum(wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(x0, x1), wasm_f32x4_add(x2, x3)),
                             wasm_f32x4_add(wasm_f32x4_add(x4, x5), wasm_f32x4_add(x6, x7))));
}
