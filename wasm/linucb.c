// The LinUCB-family state updates and scores beyond the dense ops: semantics of
// src/cpu/linucb.ts and src/cpu/hybrid.ts.
#include "kernels.h"

void quad_forms4(const f32 *M, int d, const f32 *const *x, int nrows, f32 *q);
void sub_scaled_outer(f32 *m, const f32 *v, int d, f32 s);

/** b[arms[u]] += w_u·x_u in order. */
EXPORT(scatter_add_scaled) void scatter_add_scaled(f32 *b, const f32 *X, const i32 *arms, const f32 *w, int count, int d) {
  for (int u = 0; u < count; u++) axpy_row(w[u], X + (long)u * d, b + (long)arms[u] * d, d);
}

/** out_k = M_k v_k for every k listed (a repeated k computes the same values again). */
EXPORT(gather_mat_vec) void gather_mat_vec(const f32 *M, const f32 *v, f32 *out, const i32 *arms, int count, int d) {
  for (int u = 0; u < count; u++) {
    long k = arms[u];
    for (int r = 0; r < d; r++) out[k * d + r] = dot(M + (k * d + r) * d, v + k * d, d);
  }
}

static void decay(f32 *a, f32 *b, int d, f32 f, f32 c) {
  v128_t fv = wasm_f32x4_splat(f);
  for (int i = 0; i < d; i++) {
    f32 *row = a + i * d;
    int j = 0;
    for (; j + 4 <= d; j += 4) wasm_v128_store(row + j, wasm_f32x4_mul(fv, wasm_v128_load(row + j)));
    for (; j < d; j++) row[j] = f * row[j];
    row[i] += c;
    b[i] = f * b[i];
  }
}

/**
 * Step u with arm k ≥ 0: A_k, b_k decay by the factors at pre[2u], pre[2u + 1] (every step since
 * k's last play), then add x xᵀ and r·x; after the last step every arm decays by post[2k], post[2k + 1].
 * The host computes the factors in float64 (decayFactors) as the twin does.
 */
EXPORT(discounted_update) void discounted_update(f32 *A, f32 *B, const f32 *X, const i32 *arms, const f32 *rewards,
                                                 const f32 *pre, const f32 *post, int count, int d, int matrices) {
  for (int u = 0; u < count; u++) {
    int k = arms[u];
    if (k < 0) continue;
    f32 *a = A + (long)k * d * d, *b = B + (long)k * d;
    const f32 *x = X + (long)u * d;
    decay(a, b, d, pre[2 * u], pre[2 * u + 1]);
    for (int i = 0; i < d; i++) axpy_row(x[i], x, a + i * d, d);
    axpy_row(rewards[u], x, b, d);
  }
  for (int k = 0; k < matrices; k++) decay(A + (long)k * d * d, B + (long)k * d, d, post[2 * k], post[2 * k + 1]);
}

/** out_k = max_i Σ_j |(A_k A⁻¹_k)_ij − δ_ij|, a NaN row winning. p: d values of scratch. */
EXPORT(inverse_drift) void inverse_drift(const f32 *A, const f32 *N, f32 *out, int matrices, int d, f32 *p) {
  for (int k = 0; k < matrices; k++) {
    const f32 *a = A + (long)k * d * d, *n = N + (long)k * d * d;
    f32 drift = 0.0f;
    for (int i = 0; i < d; i++) {
      fill_f32(p, 0.0f, d);
      for (int l = 0; l < d; l++) axpy_row(a[i * d + l], n + l * d, p, d);
      f32 sum = 0.0f;
      for (int j = 0; j < d; j++) sum += __builtin_fabsf(p[j] - (i == j ? 1.0f : 0.0f));
      if (!is_nan(drift) && !(sum <= drift)) drift = sum;
    }
    out[k] = drift;
  }
}

/**
 * θ_aᵀx + βᵀz + α·sqrt(max(xᵀA⁻¹_a x + ‖Lᵀz − D_aᵀx‖², 0)); L read on and below its diagonal.
 * v: k values of scratch.
 */
EXPORT(hybrid_scores) void hybrid_scores(const f32 *X, const f32 *Z, const f32 *M, const f32 *theta, const f32 *D,
                                         const f32 *L, const f32 *beta, f32 *out, int rows, int arms, int d, int k,
                                         int xArms, int outCols, int armOffset, f32 alpha, f32 *v) {
  for (int arm = 0; arm < arms; arm++) {
    const f32 *m = M + (long)arm * d * d, *dm = D + (long)arm * d * k, *th = theta + (long)arm * d;
    for (int i = 0; i < rows; i++) {
      long at = (long)i * xArms + armOffset + arm;
      const f32 *x = X + at * d, *z = Z + at * k;
      f32 q;
      quad_forms4(m, d, &x, 1, &q);
      fill_f32(v, 0.0f, k);
      for (int j = 0; j < d; j++) axpy_row(-x[j], dm + j * k, v, k);
      for (int j = 0; j < k; j++) axpy_row(z[j], L + j * k, v, j + 1);
      q += dot(v, v, k);
      f32 mean = dot(th, x, d) + dot(beta, z, k);
      out[(long)i * outCols + armOffset + arm] = mean + alpha * sqrt_clamped(q);
    }
  }
}

/**
 * Row by row: ℓ = xᵀ[A⁻¹ | C | φ], s = 1/(1 + xᵀy); A⁻¹ −= s·y yᵀ, C += s·y (z − u)ᵀ,
 * φ += s·y (r − e); w_row = (z − u)·√s, ρ_row = (r − e)·√s. scratch: d + k values.
 */
EXPORT(hybrid_arm_update) void hybrid_arm_update(f32 *M, f32 *C, f32 *phi, const f32 *XZ, const i32 *arms,
                                                 const f32 *rewards, f32 *W, f32 *rho, int count, int d, int k, f32 *scratch) {
  f32 *y = scratch, *u = scratch + d;
  for (int row = 0; row < count; row++) {
    long arm = arms[row];
    const f32 *x = XZ + (long)row * (d + k);
    f32 *m = M + arm * d * d, *c = C + arm * d * k, *p = phi + arm * d;
    fill_f32(y, 0.0f, d);
    fill_f32(u, 0.0f, k);
    for (int i = 0; i < d; i++) {
      axpy_row(x[i], m + i * d, y, d);
      axpy_row(x[i], c + i * k, u, k);
    }
    f32 e = dot(x, p, d);
    f32 s = 1.0f / (1.0f + dot(x, y, d)), root = __builtin_sqrtf(s);
    sub_scaled_outer(m, y, d, s);
    for (int j = 0; j < k; j++) {
      f32 resid = x[d + j] - u[j];
      for (int i = 0; i < d; i++) c[i * k + j] += y[i] * resid * s;
      W[(long)row * k + j] = resid * root;
    }
    f32 resid = rewards[row] - e;
    for (int i = 0; i < d; i++) p[i] += y[i] * resid * s;
    rho[row] = resid * root;
  }
}

/** M[arms[u]] += x_u z_uᵀ in order. */
EXPORT(scatter_outer_add) void scatter_outer_add(f32 *M, const f32 *X, const f32 *Z, const i32 *arms, int count, int d, int k) {
  for (int row = 0; row < count; row++) {
    f32 *m = M + (long)arms[row] * d * k;
    const f32 *x = X + (long)row * d, *z = Z + (long)row * k;
    for (int i = 0; i < d; i++) axpy_row(x[i], z, m + i * k, k);
  }
}
