// Dense linear algebra: GEMM, matVec, axpy/scale, quadratic forms, rank-1 updates, argmax,
// Cholesky and the SPD inverse. Semantics of src/cpu/{gemm,elementwise,quadform,rank1,argmax,cholesky}.ts.
#include "kernels.h"

#define GEMM_BLOCK 256

/**
 * C_b = α·op(A_b)·op(B_b) + β·C_b; α = 0 reads neither A nor B and β = 0 does not read C.
 * op(A)[i, l] = A[i·aRow + l·aCol], op(B)[l, j] = B[l·bRow + j·bCol].
 */
EXPORT(gemm) void gemm(const f32 *A, const f32 *B, f32 *C, int batch, int m, int n, int k, int transA, int transB,
                       f32 alpha, f32 beta, int strideA, int strideB, int strideC) {
  int aRow = transA ? 1 : k, aCol = transA ? m : 1;
  int bRow = transB ? 1 : n, bCol = transB ? k : 1;
  f32 acc[GEMM_BLOCK];
  for (int b = 0; b < batch; b++) {
    const f32 *a = A + (long)b * strideA, *bb = B + (long)b * strideB;
    f32 *c = C + (long)b * strideC;
    for (int i = 0; i < m; i++) {
      for (int j0 = 0; j0 < n; j0 += GEMM_BLOCK) {
        int w = n - j0 < GEMM_BLOCK ? n - j0 : GEMM_BLOCK;
        fill_f32(acc, 0.0f, w);
        if (alpha != 0.0f) {
          for (int l = 0; l < k; l++) {
            f32 ail = a[i * aRow + l * aCol];
            const f32 *row = bb + l * bRow + j0 * bCol;
            if (bCol == 1) axpy_row(ail, row, acc, w);
            else for (int j = 0; j < w; j++) acc[j] += ail * row[j * bCol];
          }
        }
        f32 *ci = c + i * n + j0;
        if (beta == 0.0f) for (int j = 0; j < w; j++) ci[j] = alpha * acc[j];
        else for (int j = 0; j < w; j++) ci[j] = alpha * acc[j] + beta * ci[j];
      }
    }
  }
}

/** y = α·op(A)·x + β·y per batch entry; op(A) = Aᵀ when trans. */
EXPORT(mat_vec) void mat_vec(const f32 *A, const f32 *X, f32 *Y, int batch, int rows, int cols, int trans,
                             f32 alpha, f32 beta, int strideA, int strideX, int strideY, f32 *scratch) {
  int outLen = trans ? cols : rows, inLen = trans ? rows : cols;
  for (int b = 0; b < batch; b++) {
    const f32 *a = A + (long)b * strideA, *x = X + (long)b * strideX;
    f32 *y = Y + (long)b * strideY;
    if (trans) {
      // y_i = Σ_j A[j, i]·x_j: rows of A added into the scratch, contiguous.
      fill_f32(scratch, 0.0f, outLen);
      if (alpha != 0.0f) for (int j = 0; j < inLen; j++) axpy_row(x[j], a + j * cols, scratch, outLen);
    } else {
      for (int i = 0; i < outLen; i++) scratch[i] = alpha != 0.0f ? dot(a + i * cols, x, inLen) : 0.0f;
    }
    if (beta == 0.0f) for (int i = 0; i < outLen; i++) y[i] = alpha * scratch[i];
    else for (int i = 0; i < outLen; i++) y[i] = alpha * scratch[i] + beta * y[i];
  }
}

EXPORT(axpy) void axpy(f32 alpha, const f32 *x, f32 *y, int n) {
  v128_t av = wasm_f32x4_splat(alpha);
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_add(wasm_f32x4_mul(av, wasm_v128_load(x + i)), wasm_v128_load(y + i)));
  for (; i < n; i++) y[i] = alpha * x[i] + y[i];
}

EXPORT(scale) void scale(f32 alpha, f32 *x, int n) {
  v128_t av = wasm_f32x4_splat(alpha);
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(x + i, wasm_f32x4_mul(av, wasm_v128_load(x + i)));
  for (; i < n; i++) x[i] = alpha * x[i];
}

/**
 * q_r = x_rᵀ M x_r for up to four rows r sharing M (d×d): each M row is loaded once for all of
 * them; z = xᵀM is formed 8 columns at a time and folded into q at once, so it is never stored.
 */
void quad_forms4(const f32 *M, int d, const f32 *const *x, int nrows, f32 *q) {
  v128_t q0 = wasm_f32x4_splat(0.0f), q1 = q0, q2 = q0, q3 = q0;
  const f32 *x0 = x[0], *x1 = nrows > 1 ? x[1] : x[0], *x2 = nrows > 2 ? x[2] : x[0], *x3 = nrows > 3 ? x[3] : x[0];
  int d4 = d & ~3;
  int l = 0;
  for (; l + 8 <= d4; l += 8) {
    v128_t a0 = wasm_f32x4_splat(0.0f), b0 = a0, a1 = a0, b1 = a0, a2 = a0, b2 = a0, a3 = a0, b3 = a0;
    for (int j = 0; j < d; j++) {
      v128_t m0 = wasm_v128_load(M + j * d + l), m1 = wasm_v128_load(M + j * d + l + 4);
      v128_t s0 = wasm_f32x4_splat(x0[j]), s1 = wasm_f32x4_splat(x1[j]);
      v128_t s2 = wasm_f32x4_splat(x2[j]), s3 = wasm_f32x4_splat(x3[j]);
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(s0, m0)); b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(s0, m1));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(s1, m0)); b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(s1, m1));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(s2, m0)); b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(s2, m1));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(s3, m0)); b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(s3, m1));
    }
    q0 = wasm_f32x4_add(q0, wasm_f32x4_add(wasm_f32x4_mul(a0, wasm_v128_load(x0 + l)), wasm_f32x4_mul(b0, wasm_v128_load(x0 + l + 4))));
    q1 = wasm_f32x4_add(q1, wasm_f32x4_add(wasm_f32x4_mul(a1, wasm_v128_load(x1 + l)), wasm_f32x4_mul(b1, wasm_v128_load(x1 + l + 4))));
    q2 = wasm_f32x4_add(q2, wasm_f32x4_add(wasm_f32x4_mul(a2, wasm_v128_load(x2 + l)), wasm_f32x4_mul(b2, wasm_v128_load(x2 + l + 4))));
    q3 = wasm_f32x4_add(q3, wasm_f32x4_add(wasm_f32x4_mul(a3, wasm_v128_load(x3 + l)), wasm_f32x4_mul(b3, wasm_v128_load(x3 + l + 4))));
  }
  for (; l < d4; l += 4) {
    v128_t a0 = wasm_f32x4_splat(0.0f), a1 = a0, a2 = a0, a3 = a0;
    for (int j = 0; j < d; j++) {
      v128_t m0 = wasm_v128_load(M + j * d + l);
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_f32x4_splat(x0[j]), m0));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(wasm_f32x4_splat(x1[j]), m0));
      a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(wasm_f32x4_splat(x2[j]), m0));
      a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(wasm_f32x4_splat(x3[j]), m0));
    }
    q0 = wasm_f32x4_add(q0, wasm_f32x4_mul(a0, wasm_v128_load(x0 + l)));
    q1 = wasm_f32x4_add(q1, wasm_f32x4_mul(a1, wasm_v128_load(x1 + l)));
    q2 = wasm_f32x4_add(q2, wasm_f32x4_mul(a2, wasm_v128_load(x2 + l)));
    q3 = wasm_f32x4_add(q3, wasm_f32x4_mul(a3, wasm_v128_load(x3 + l)));
  }
  f32 r[4] = {hsum(q0), hsum(q1), hsum(q2), hsum(q3)};
  const f32 *xs[4] = {x0, x1, x2, x3};
  for (; l < d; l++) {
    for (int t = 0; t < 4; t++) {
      f32 z = 0.0f;
      for (int j = 0; j < d; j++) z += xs[t][j] * M[j * d + l];
      r[t] += z * xs[t][l];
    }
  }
  for (int t = 0; t < nrows; t++) q[t] = r[t];
}

/** out[i, k] = x_iᵀ M_k x_i (x_{i,k} with perArm), arms outer so M_k stays in cache over the rows. */
EXPORT(quad_form) void quad_form(const f32 *X, const f32 *M, f32 *out, int rows, int arms, int d, int perArm) {
  const f32 *x[4];
  f32 q[4];
  for (int k = 0; k < arms; k++) {
    const f32 *mk = M + (long)k * d * d;
    for (int i = 0; i < rows; i += 4) {
      int n = rows - i < 4 ? rows - i : 4;
      for (int t = 0; t < n; t++) x[t] = X + (long)(perArm ? (i + t) * arms + k : i + t) * d;
      quad_forms4(mk, d, x, n, q);
      for (int t = 0; t < n; t++) out[(long)(i + t) * arms + k] = q[t];
    }
  }
}

/** out[i, armOffset + k] = θ_kᵀx + α·sqrt(max(xᵀA⁻¹_k x, 0)), a NaN form giving NaN. */
EXPORT(ucb_scores) void ucb_scores(const f32 *X, const f32 *M, const f32 *theta, f32 *out, int rows, int arms, int d,
                                   int perArm, int xArms, int outCols, int armOffset, f32 alpha) {
  const f32 *x[4];
  f32 q[4];
  for (int k = 0; k < arms; k++) {
    const f32 *mk = M + (long)k * d * d, *tk = theta + (long)k * d;
    for (int i = 0; i < rows; i += 4) {
      int n = rows - i < 4 ? rows - i : 4;
      for (int t = 0; t < n; t++) x[t] = X + (long)(perArm ? (i + t) * xArms + armOffset + k : i + t) * d;
      quad_forms4(mk, d, x, n, q);
      for (int t = 0; t < n; t++) out[(long)(i + t) * outCols + armOffset + k] = dot(tk, x[t], d) + alpha * sqrt_clamped(q[t]);
    }
  }
}

/** v = M x (column sums, i ascending: (M x) for symmetric M), into v. */
static void mat_t_vec(const f32 *M, const f32 *x, f32 *v, int d) {
  fill_f32(v, 0.0f, d);
  for (int i = 0; i < d; i++) axpy_row(x[i], M + i * d, v, d);
}

/** M −= s·v vᵀ as (v_i·v_j)·s, so a symmetric M stays exactly symmetric. */
void sub_scaled_outer(f32 *m, const f32 *v, int d, f32 s) {
  v128_t sv = wasm_f32x4_splat(s);
  for (int i = 0; i < d; i++) {
    f32 *row = m + i * d;
    v128_t vi = wasm_f32x4_splat(v[i]);
    int j = 0;
    for (; j + 4 <= d; j += 4)
      wasm_v128_store(row + j, wasm_f32x4_sub(wasm_v128_load(row + j), wasm_f32x4_mul(wasm_f32x4_mul(vi, wasm_v128_load(v + j)), sv)));
    for (; j < d; j++) row[j] -= (v[i] * v[j]) * s;
  }
}

/** M_arms[u] −= v vᵀ/(1 + xᵀv), v = M x_u, in order. v: d values of scratch. */
EXPORT(sherman_morrison) void sherman_morrison(f32 *mats, const f32 *X, const i32 *arms, int count, int d, f32 *v) {
  for (int u = 0; u < count; u++) {
    f32 *m = mats + (long)arms[u] * d * d;
    const f32 *x = X + (long)u * d;
    mat_t_vec(m, x, v, d);
    sub_scaled_outer(m, v, d, 1.0f / (1.0f + dot(x, v, d)));
  }
}

/** M_arms[u] += α·x xᵀ in order. */
EXPORT(sym_rank1) void sym_rank1(f32 *mats, const f32 *X, const i32 *arms, int count, int d, f32 alpha) {
  for (int u = 0; u < count; u++) {
    f32 *m = mats + (long)arms[u] * d * d;
    const f32 *x = X + (long)u * d;
    for (int i = 0; i < d; i++) axpy_row(alpha * x[i], x, m + i * d, d);
  }
}

/** Per row: the lowest index of the largest non-NaN entry (−0 ties +0), −1 when all are NaN. */
EXPORT(row_argmax) void row_argmax(const f32 *s, i32 *out, int rows, int cols) {
  for (int r = 0; r < rows; r++) {
    const f32 *v = s + (long)r * cols;
    int best = -1;
    f32 bestValue = 0.0f;
    for (int j = 0; j < cols; j++) {
      f32 x = v[j];
      if (is_nan(x)) continue;
      if (best < 0 || x > bestValue) { best = j; bestValue = x; }
    }
    out[r] = best;
  }
}

#define MIN_NORMAL_F32 1.17549435e-38f
#define MAX_F32 3.40282347e+38f
static inline int usable_pivot(f32 p) { return p >= MIN_NORMAL_F32 && p <= MAX_F32; }

/** Cholesky–Banachiewicz of a (lower triangle read) into l; the first failing pivot or −1. */
static int factor(const f32 *a, f32 *l, int d) {
  for (int i = 0; i < d; i++) {
    for (int j = 0; j <= i; j++) {
      f32 s = a[i * d + j] - dot(l + i * d, l + j * d, j);
      if (i == j) {
        if (!usable_pivot(s)) return i;
        l[i * d + i] = __builtin_sqrtf(s);
      } else {
        l[i * d + j] = s / l[j * d + j];
      }
    }
  }
  return -1;
}

EXPORT(cholesky) void cholesky(const f32 *A, f32 *L, i32 *status, int batch, int d) {
  for (int b = 0; b < batch; b++) {
    long o = (long)b * d * d;
    int failed = factor(A + o, L + o, d);
    status[b] = failed + 1;
    if (failed >= 0) { fill_f32(L + o, __builtin_nanf(""), d * d); continue; }
    for (int i = 0; i < d; i++) fill_f32(L + o + i * d + i + 1, 0.0f, d - i - 1);
  }
}

/** A⁻¹ = L⁻ᵀL⁻¹ through M = L⁻¹ (forward substitution; rows kept as columns for contiguous dots). scratch: 2·d² values. */
EXPORT(spd_inverse) void spd_inverse(const f32 *A, f32 *X, i32 *status, int batch, int d, f32 *scratch) {
  f32 *l = scratch, *mt = scratch + (long)d * d;
  for (int b = 0; b < batch; b++) {
    long o = (long)b * d * d;
    int failed = factor(A + o, l, d);
    status[b] = failed + 1;
    if (failed >= 0) { fill_f32(X + o, __builtin_nanf(""), d * d); continue; }
    // mt[j·d + i] = M[i, j] = (L⁻¹)_ij, i ≥ j.
    for (int j = 0; j < d; j++) {
      f32 *col = mt + j * d;
      fill_f32(col, 0.0f, d);
      col[j] = 1.0f / l[j * d + j];
      for (int i = j + 1; i < d; i++) {
        f32 s = 0.0f;
        for (int k = j; k < i; k++) s += l[i * d + k] * col[k];
        col[i] = -s / l[i * d + i];
      }
    }
    // (A⁻¹)_ij = Σ_{k ≥ i} M_ki M_kj, once per pair.
    for (int i = 0; i < d; i++) {
      for (int j = 0; j <= i; j++) {
        f32 s = dot(mt + i * d + i, mt + j * d + i, d - i);
        X[o + i * d + j] = s;
        X[o + j * d + i] = s;
      }
    }
  }
}
