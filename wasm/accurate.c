// The float-float ops (semantics of src/cpu/accurate.ts): A and b are kept as hi + lo pairs of f32.
// Where the GPU emulates the pair arithmetic in f32 (shaders/accurate.wgsl), WebAssembly has
// float64: each value is read as (double)hi + lo, the arithmetic is the twin's in float64, in the
// twin's order, and a result is written back split as hi = fl32(v), lo = fl32(v − hi) (48 bits).
#include "kernels.h"

static inline double pair_at(const f32 *hi, const f32 *lo, long e) { return (double)hi[e] + (double)lo[e]; }

static inline void pair_store(f32 *hi, f32 *lo, long e, double v) {
  f32 h = (f32)v;
  hi[e] = h;
  lo[e] = (f32)(v - (double)h);
}

/**
 * For u in order, k = arms[u]: M_k += w_u·x_u x_uᵀ (Z null, width d), M_k += w_u·x_u z_uᵀ (Z: U×width)
 * or v_k += w_u·x_u (`outer` 0), with w·(x_i·z_j) formed in float64 as the twin forms it (so a
 * symmetric M stays exactly symmetric).
 */
EXPORT(accumulate_outer) void accumulate_outer(f32 *hi, f32 *lo, const f32 *X, const f32 *Z, const i32 *arms, const f32 *w, int count, int d,
                                               int width, int outer) {
  long n = (long)d * width;
  for (int u = 0; u < count; u++) {
    long base = (long)arms[u] * n;
    const f32 *x = X + (long)u * d;
    const f32 *z = Z ? Z + (long)u * width : x;
    double wu = w[u];
    for (int i = 0; i < d; i++) {
      if (!outer) {
        pair_store(hi, lo, base + i, pair_at(hi, lo, base + i) + wu * (double)x[i]);
        continue;
      }
      double xi = x[i];
      for (int j = 0; j < width; j++) {
        long e = base + (long)i * width + j;
        pair_store(hi, lo, e, pair_at(hi, lo, e) + wu * (xi * (double)z[j]));
      }
    }
  }
}

/** (hi, lo) ← hi + lo + c for n elements, renormalised (the sum in float64). */
EXPORT(add_accurate) void add_accurate(f32 *hi, f32 *lo, const f32 *c, int n) {
  for (long e = 0; e < n; e++) pair_store(hi, lo, e, pair_at(hi, lo, e) + (double)c[e]);
}

/**
 * R_k = I − A_k X_k (into r unless r is 0) and norms[2k] = ‖R_k‖∞, norms[2k+1] = ‖ |A_k|·|X_k| ‖∞,
 * a NaN row winning, with X = X hi + X lo where `xLo` is given. Each (A·X)_ij sums l = 0…d−1 in
 * order in float64, two columns at a time.
 */
#define X_AT(e) ((double)x[e] + (xl ? (double)xl[e] : 0.0))
EXPORT(accurate_residual) void accurate_residual(const f32 *aHi, const f32 *aLo, const f32 *X, const f32 *xLo, f32 *R, f32 *norms,
                                                 int matrices, int d) {
  for (int k = 0; k < matrices; k++) {
    long base = (long)k * d * d;
    const f32 *ah = aHi + base, *al = aLo + base, *x = X + base, *xl = xLo ? xLo + base : 0;
    double worst = 0.0, mag = 0.0;
    for (int i = 0; i < d; i++) {
      double rowAbs = 0.0, rowMag = 0.0;
      int j = 0;
      for (; j + 2 <= d; j += 2) {
        v128_t acc = wasm_f64x2_splat(0.0), m = acc;
        for (int l = 0; l < d; l++) {
          v128_t a = wasm_f64x2_splat((double)ah[i * d + l] + (double)al[i * d + l]);
          v128_t xv = wasm_f64x2_make(X_AT(l * d + j), X_AT(l * d + j + 1));
          v128_t p = wasm_f64x2_mul(a, xv);
          acc = wasm_f64x2_add(acc, p);
          m = wasm_f64x2_add(m, wasm_f64x2_abs(p));
        }
        for (int q = 0; q < 2; q++) {
          double s = q ? wasm_f64x2_extract_lane(acc, 1) : wasm_f64x2_extract_lane(acc, 0);
          double r = (i == j + q ? 1.0 : 0.0) - s;
          if (R) R[base + (long)i * d + j + q] = (f32)r;
          rowAbs += __builtin_fabs(r);
          rowMag += q ? wasm_f64x2_extract_lane(m, 1) : wasm_f64x2_extract_lane(m, 0);
        }
      }
      for (; j < d; j++) {
        double s = 0.0;
        for (int l = 0; l < d; l++) {
          double p = ((double)ah[i * d + l] + (double)al[i * d + l]) * X_AT(l * d + j);
          s += p;
          rowMag += __builtin_fabs(p);
        }
        double r = (i == j ? 1.0 : 0.0) - s;
        if (R) R[base + (long)i * d + j] = (f32)r;
        rowAbs += __builtin_fabs(r);
      }
      // As Math.max: a NaN row wins and stays.
      if (worst == worst && !(rowAbs <= worst)) worst = rowAbs;
      if (mag == mag && !(rowMag <= mag)) mag = rowMag;
    }
    norms[2 * k] = (f32)worst;
    norms[2 * k + 1] = (f32)mag;
  }
}
#undef X_AT

/**
 * For each arm listed (distinct; the host removes repeats), each of `cols` columns of b and θ
 * (element i of column c at (k·d + i)·cols + c): θ ← 0 when `restart`, then `iterations` times
 * θ += X_k (b − A_k θ), θ held in float64 (scratch: 2d doubles) and rounded to f32 once at the end.
 */
EXPORT(refine_solve) void refine_solve(const f32 *aHi, const f32 *aLo, const f32 *bHi, const f32 *bLo, const f32 *X, f32 *theta,
                                       const i32 *arms, int count, int d, int cols, int iterations, int restart, double *scratch) {
  double *th = scratch, *res = scratch + d;
  for (int u = 0; u < count; u++) {
    long k = arms[u], base = k * d * d, v = k * d;
    for (int c = 0; c < cols; c++) {
      for (int i = 0; i < d; i++) th[i] = restart ? 0.0 : (double)theta[(v + i) * cols + c];
      for (int it = 0; it < iterations; it++) {
        for (int i = 0; i < d; i++) {
          double acc = pair_at(bHi, bLo, (v + i) * cols + c);
          for (int l = 0; l < d; l++) acc -= pair_at(aHi, aLo, base + (long)i * d + l) * th[l];
          res[i] = acc;
        }
        for (int i = 0; i < d; i++) {
          double s = 0.0;
          const f32 *row = X + base + (long)i * d;
          for (int j = 0; j < d; j++) s += (double)row[j] * res[j];
          th[i] += s;
        }
      }
      for (int i = 0; i < d; i++) theta[(v + i) * cols + c] = (f32)th[i];
    }
  }
}
