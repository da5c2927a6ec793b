// The MLP ops (forward, the one-pass Jacobian, the diagonal bonus, the loss gradient, the
// optimiser step) and the row gathers and scatters of training: semantics of src/cpu/mlp.ts,
// src/cpu/mlp-train.ts and src/cpu/confidence.ts. ReLU σ(z) = z unless z ≤ 0 (NaN passes),
// σ'(z) = 1 exactly where h > 0.
//
// A network is `layers`, four i32 a layer (inputs, units, weight offset, bias offset into θ),
// and `acts`, the byte offsets of h_1 … h_{L−1} (rows × units each).
#include "kernels.h"

typedef struct { i32 in, out, w, b; } layer_t;

static inline const f32 *input_row(const f32 *x, f32 *const *acts, const layer_t *layers, int l, int n) {
  return l == 0 ? x + (long)n * layers[0].in : acts[l - 1] + (long)n * layers[l - 1].out;
}

/** The forward pass of rows from … from + rows − 1 (every pointer indexed by the row itself, so a chunk of the rows is the same code on the same values). */
static void forward_rows(const f32 *theta, const f32 *x, const layer_t *layers, int L, f32 *const *acts, int from, int rows, f32 *out) {
  for (int l = 0; l < L; l++) {
    const layer_t ly = layers[l];
    int last = l == L - 1;
    for (int n = from; n < from + rows; n++) {
      const f32 *h = input_row(x, acts, layers, l, n);
      f32 *t = last ? out + n : acts[l] + (long)n * ly.out;
      for (int i = 0; i < ly.out; i++) {
        f32 z = dot(theta + ly.w + (long)i * ly.in, h, ly.in) + theta[ly.b + i];
        t[i] = !last && z <= 0.0f ? 0.0f : z;
      }
    }
  }
}

/** The outputs (and saved activations) of rows from … from + rows − 1. */
EXPORT(mlp_forward) void mlp_forward(const f32 *theta, const f32 *x, const layer_t *layers, int L, f32 *const *acts, int from, int rows, f32 *out) {
  forward_rows(theta, x, layers, L, acts, from, rows, out);
}

/**
 * δ_0 … δ_{L−2} of row n into `deltas` (layer l's at deltaAt[l]); δ_{L−1} = 1. δ_l[i] =
 * [h_l,i > 0]·Σ_k W_{l+1}[k, i]·δ_{l+1}[k], added a row of W_{l+1} at a time.
 */
static void backward_row(const f32 *theta, const layer_t *layers, int L, f32 *const *acts, int n, f32 *deltas, const int *deltaAt) {
  for (int l = L - 2; l >= 0; l--) {
    const layer_t next = layers[l + 1];
    int units = layers[l].out;
    f32 *dl = deltas + deltaAt[l];
    const f32 *h = acts[l] + (long)n * units;
    fill_f32(dl, 0.0f, units);
    for (int k = 0; k < next.out; k++) {
      f32 up = l + 1 == L - 1 ? 1.0f : deltas[deltaAt[l + 1] + k];
      axpy_row(up, theta + next.w + (long)k * units, dl, units);
    }
    for (int i = 0; i < units; i++) if (!(h[i] > 0.0f)) dl[i] = 0.0f;
  }
}

static void delta_offsets(const layer_t *layers, int L, int *at) {
  int o = 0;
  for (int l = 0; l < L; l++) { at[l] = o; o += layers[l].out; }
}

/**
 * Jacobian rows n = from … from + rows − 1: jac[n, W_l[i, j]] = δ_l,i·h_{l−1},j and jac[n, c_l[i]] = δ_l,i.
 * fout: the outputs of a forward pass first (indexed by row); deltas: Σ units values.
 */
EXPORT(mlp_jacobian) void mlp_jacobian(const f32 *theta, const f32 *x, const layer_t *layers, int L, f32 *const *acts, int from, int rows,
                                       f32 *jac, int p, int forward, f32 *fout, f32 *deltas) {
  int at[64];
  delta_offsets(layers, L, at);
  if (forward) forward_rows(theta, x, layers, L, acts, from, rows, fout);
  for (int n = from; n < from + rows; n++) {
    backward_row(theta, layers, L, acts, n, deltas, at);
    f32 *row = jac + (long)n * p;
    for (int l = 0; l < L; l++) {
      const layer_t ly = layers[l];
      const f32 *h = input_row(x, acts, layers, l, n);
      for (int i = 0; i < ly.out; i++) {
        f32 d = l == L - 1 ? 1.0f : deltas[at[l] + i];
        f32 *w = row + ly.w + (long)i * ly.in;
        v128_t dv = wasm_f32x4_splat(d);
        int j = 0;
        for (; j + 4 <= ly.in; j += 4) wasm_v128_store(w + j, wasm_f32x4_mul(dv, wasm_v128_load(h + j)));
        for (; j < ly.in; j++) w[j] = d * h[j];
        row[ly.b + i] = d;
      }
    }
  }
}

/** zinv = 1/z, p values: the bonus divides by the same Z for every row. */
EXPORT(reciprocal) void reciprocal(const f32 *z, f32 *zinv, int p) {
  for (int q = 0; q < p; q++) zinv[q] = 1.0f / z[q];
}

/**
 * out[n] = Σ_l Σ_i δ_l,i²·(1/Z_c[i] + Σ_j h_j²/Z_W[i, j]) for n = from … from + rows − 1, no Jacobian
 * held. zinv: 1/Z (reciprocal); fout, deltas as mlp_jacobian; hsq: the widest layer's inputs.
 */
EXPORT(mlp_diagonal_bonus) void mlp_diagonal_bonus(const f32 *theta, const f32 *x, const layer_t *layers, int L, f32 *const *acts, int from,
                                                   int rows, const f32 *zinv, f32 *out, int forward, f32 *fout, f32 *deltas, f32 *hsq) {
  int at[64];
  delta_offsets(layers, L, at);
  if (forward) forward_rows(theta, x, layers, L, acts, from, rows, fout);
  for (int n = from; n < from + rows; n++) {
    backward_row(theta, layers, L, acts, n, deltas, at);
    f32 total = 0.0f;
    for (int l = 0; l < L; l++) {
      const layer_t ly = layers[l];
      const f32 *h = input_row(x, acts, layers, l, n);
      for (int j = 0; j < ly.in; j++) hsq[j] = h[j] * h[j];
      for (int i = 0; i < ly.out; i++) {
        f32 d = l == L - 1 ? 1.0f : deltas[at[l] + i];
        f32 s = zinv[ly.b + i] + dot(hsq, zinv + ly.w + (long)i * ly.in, ly.in);
        total += d * d * s;
      }
    }
    out[n] = total;
  }
}

/**
 * grad ← scale·Σ_n w_n e_n ∇θ f(x_n), lossOut ← scale·Σ_n w_n ℓ_n, inputGrad_n ← scale·w_n e_n ∇x f(x_n);
 * e = f − y (squared, ℓ = e²/2) or σ(f) − y (logistic). weights, lossOut, inputGrad may be 0 (none).
 * scratch: Σ_l inputs + Σ_l units values.
 */
EXPORT(mlp_loss_gradient) void mlp_loss_gradient(const f32 *theta, const f32 *x, const layer_t *layers, int L, int rows, int p,
                                                 const f32 *targets, int logistic, f32 scale, f32 *grad, f32 *lossOut,
                                                 f32 *inputGrad, const f32 *weights, f32 *scratch) {
  int hAt[64], dAt[64], o = 0;
  for (int l = 0; l < L; l++) { hAt[l] = o; o += layers[l].in; }
  for (int l = 0; l < L; l++) { dAt[l] = o; o += layers[l].out; }
  int dim = layers[0].in;
  fill_f32(grad, 0.0f, p);
  double lossSum = 0.0;
  for (int n = 0; n < rows; n++) {
    f32 *h0 = scratch + hAt[0];
    const f32 *xn = x + (long)n * dim;
    for (int j = 0; j < dim; j++) h0[j] = xn[j];
    f32 f = 0.0f;
    for (int l = 0; l < L; l++) {
      const layer_t ly = layers[l];
      const f32 *in = scratch + hAt[l];
      for (int i = 0; i < ly.out; i++) {
        f32 z = dot(theta + ly.w + (long)i * ly.in, in, ly.in) + theta[ly.b + i];
        if (l == L - 1) f = z;
        else scratch[hAt[l + 1] + i] = z <= 0.0f ? 0.0f : z;
      }
    }
    f32 t = targets[n], e, loss;
    if (logistic) {
      double zf = host_exp(-__builtin_fabs((double)f));
      double sigma = f >= 0.0f ? 1.0 / (1.0 + zf) : zf / (1.0 + zf);
      e = (f32)(sigma - t);
      loss = (f32)((f > 0.0f ? (double)f : 0.0) - (double)t * f + host_log1p(zf));
    } else {
      e = f - t;
      loss = 0.5f * e * e;
    }
    f32 w = weights ? weights[n] : 1.0f;
    lossSum += (double)(scale * (w * loss));
    scratch[dAt[L - 1]] = scale * (w * e);
    for (int l = L - 2; l >= 0; l--) {
      const layer_t next = layers[l + 1];
      int units = layers[l].out;
      f32 *dl = scratch + dAt[l];
      const f32 *up = scratch + dAt[l + 1], *hl = scratch + hAt[l + 1];
      fill_f32(dl, 0.0f, units);
      for (int k = 0; k < next.out; k++) axpy_row(up[k], theta + next.w + (long)k * units, dl, units);
      for (int i = 0; i < units; i++) if (!(hl[i] > 0.0f)) dl[i] = 0.0f;
    }
    for (int l = 0; l < L; l++) {
      const layer_t ly = layers[l];
      const f32 *d = scratch + dAt[l], *in = scratch + hAt[l];
      for (int i = 0; i < ly.out; i++) {
        axpy_row(d[i], in, grad + ly.w + (long)i * ly.in, ly.in);
        grad[ly.b + i] += d[i];
      }
    }
    if (inputGrad) {
      const layer_t first = layers[0];
      const f32 *d = scratch + dAt[0];
      f32 *g = inputGrad + (long)n * dim;
      fill_f32(g, 0.0f, dim);
      for (int i = 0; i < first.out; i++) axpy_row(d[i], theta + first.w + (long)i * dim, g, dim);
    }
  }
  if (lossOut) lossOut[0] = (f32)lossSum;
}

/**
 * θ ← θ − lr·u(g̃), g̃ = g + decay·(θ − anchor); u = g̃ (sgd) or Adam's m̂/(√v̂ + eps), c1, c2 its
 * bias corrections; 1 − β formed on the host in float64 (in f32 here it would lose β's low bits).
 */
EXPORT(optimizer_step) void optimizer_step(f32 *theta, const f32 *g, f32 *m, f32 *v, const f32 *anchor, int adam, int n,
                                           f32 lr, f32 beta1, f32 oneMinusBeta1, f32 beta2, f32 oneMinusBeta2, f32 eps,
                                           f32 c1, f32 c2, f32 decay) {
  for (int i = 0; i < n; i++) {
    f32 th = theta[i];
    f32 gt = g[i] + decay * (anchor ? th - anchor[i] : th);
    if (!adam) { theta[i] = th - lr * gt; continue; }
    f32 mi = beta1 * m[i] + oneMinusBeta1 * gt;
    f32 vi = beta2 * v[i] + oneMinusBeta2 * (gt * gt);
    m[i] = mi;
    v[i] = vi;
    theta[i] = th - lr * ((mi * c1) / (__builtin_sqrtf(vi * c2) + eps));
  }
}

/** out[n, column + j] = src[idx[n], j], a row of zeros where idx[n] is outside 0 … srcRows − 1. */
EXPORT(gather_rows) void gather_rows(const f32 *src, const i32 *idx, f32 *out, int count, int cols, int srcRows, int outCols, int column) {
  for (int n = 0; n < count; n++) {
    int r = idx[n];
    f32 *o = out + (long)n * outCols + column;
    if (r >= 0 && r < srcRows) { const f32 *s = src + (long)r * cols; for (int j = 0; j < cols; j++) o[j] = s[j]; }
    else fill_f32(o, 0.0f, cols);
  }
}

/** target[idx[n], j] += scale·rows[n, column + j] in order, rows whose index is outside skipped. */
EXPORT(scatter_add_rows) void scatter_add_rows(const f32 *rows, const i32 *idx, f32 *target, int count, int cols, int targetRows,
                                               int rowCols, int column, f32 scale) {
  for (int n = 0; n < count; n++) {
    int r = idx[n];
    if (r < 0 || r >= targetRows) continue;
    axpy_row(scale, rows + (long)n * rowCols + column, target + (long)r * cols, cols);
  }
}

/** out[n] = mean[n] + scale·sqrt(max(width2[n], 0)). */
EXPORT(confidence_scores) void confidence_scores(const f32 *mean, const f32 *w2, f32 *out, int rows, f32 scale) {
  for (int n = 0; n < rows; n++) out[n] = mean[n] + scale * sqrt_clamped(w2[n]);
}

#define SQUARES_BLOCK 256
/** z[q] += scale·Σ_r jac[r, q]², a block of columns at a time over the rows. */
EXPORT(accumulate_squares) void accumulate_squares(f32 *z, const f32 *jac, int rows, int cols, f32 scale) {
  f32 acc[SQUARES_BLOCK];
  for (int q0 = 0; q0 < cols; q0 += SQUARES_BLOCK) {
    int w = cols - q0 < SQUARES_BLOCK ? cols - q0 : SQUARES_BLOCK;
    fill_f32(acc, 0.0f, w);
    for (int r = 0; r < rows; r++) {
      const f32 *row = jac + (long)r * cols + q0;
      int j = 0;
      for (; j + 4 <= w; j += 4) {
        v128_t v = wasm_v128_load(row + j);
        wasm_v128_store(acc + j, wasm_f32x4_add(wasm_v128_load(acc + j), wasm_f32x4_mul(v, v)));
      }
      for (; j < w; j++) acc[j] += row[j] * row[j];
    }
    for (int j = 0; j < w; j++) z[q0 + j] = z[q0 + j] + scale * acc[j];
  }
}
