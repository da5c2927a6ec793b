// Shared pieces of the f32 SIMD kernels (wasm32, 128-bit SIMD). Pointers are byte offsets into
// the module's memory, laid out and owned by src/wasm/memory.ts; every kernel is a plain loop
// over f32 (or i32) arrays with the semantics of its float64 twin in src/cpu/.
#pragma once
#include <wasm_simd128.h>
#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(#name)))
#define IMPORT(name) __attribute__((import_module("math"), import_name(#name)))

// Math.* of the host, in float64: the exploration ops and the logistic loss use them so their
// numbers are the twin's (src/core/philox.ts, src/cpu/mlp-train.ts) rounded once to f32.
IMPORT(exp) double host_exp(double);
IMPORT(log) double host_log(double);
IMPORT(log1p) double host_log1p(double);
IMPORT(cos) double host_cos(double);
IMPORT(sin) double host_sin(double);

typedef float f32;
typedef int32_t i32;
typedef uint32_t u32;

static inline int is_nan(f32 x) { return x != x; }
static inline int is_finite_f(f32 x) { return x - x == 0.0f; }
static inline int is_finite_d(double x) { return x - x == 0.0; }

static inline f32 hsum(v128_t v) {
  return (wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1)) +
         (wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3));
}

/** Σ a_i·b_i over n values, four lanes at a time. */
static inline f32 dot(const f32 *a, const f32 *b, int n) {
  v128_t s0 = wasm_f32x4_splat(0.0f), s1 = s0;
  int i = 0;
  for (; i + 8 <= n; i += 8) {
    s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
    s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_v128_load(a + i + 4), wasm_v128_load(b + i + 4)));
  }
  for (; i + 4 <= n; i += 4) s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
  f32 s = hsum(wasm_f32x4_add(s0, s1));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

/** y_i += a·x_i over n values. */
static inline void axpy_row(f32 a, const f32 *x, f32 *y, int n) {
  v128_t av = wasm_f32x4_splat(a);
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_add(wasm_v128_load(y + i), wasm_f32x4_mul(av, wasm_v128_load(x + i))));
  for (; i < n; i++) y[i] += a * x[i];
}

static inline void fill_f32(f32 *p, f32 v, int n) {
  for (int i = 0; i < n; i++) p[i] = v;
}

/** sqrt(max(q, 0)) that keeps a NaN q NaN (Math.max(NaN, 0) is NaN in the twins). */
static inline f32 sqrt_clamped(f32 q) {
  return __builtin_sqrtf(q < 0.0f ? 0.0f : q);
}

// Philox4x32-10, the twin of src/core/philox.ts and shaders/lib/random.wgsl.
typedef struct { u32 w[4]; } block4;

static inline block4 philox4x32(u32 c0, u32 c1, u32 c2, u32 c3, u32 k0, u32 k1) {
  for (int r = 0; r < 10; r++) {
    if (r > 0) { k0 += 0x9E3779B9u; k1 += 0xBB67AE85u; }
    uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
    u32 n0 = (u32)(p1 >> 32) ^ c1 ^ k0, n2 = (u32)(p0 >> 32) ^ c3 ^ k1;
    c0 = n0; c1 = (u32)p1; c2 = n2; c3 = (u32)p0;
  }
  block4 b = {{c0, c1, c2, c3}};
  return b;
}

#define UNIFORM_STEP 5.9604644775390625e-8 /* 2^-24 */
#define PI_D 3.141592653589793

static inline double uniform_from_bits(u32 bits) { return (double)(bits >> 8) * UNIFORM_STEP; }

/** Box–Muller in float64, exactly normalsFromBlock of src/core/philox.ts. */
static inline void normals_from_block(block4 b, double *out) {
  for (int pair = 0; pair < 2; pair++) {
    double u1 = ((double)(b.w[2 * pair] >> 8) + 1.0) * UNIFORM_STEP;
    double angle = ((double)(b.w[2 * pair + 1] >> 8) * 2.0 * UNIFORM_STEP - 1.0) * PI_D;
    double r = __builtin_sqrt(-2.0 * host_log(u1));
    out[2 * pair] = r * host_cos(angle);
    out[2 * pair + 1] = r * host_sin(angle);
  }
}
