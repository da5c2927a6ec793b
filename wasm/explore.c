// Exploration: sampleArms (greedy, ε-greedy, softmax, SquareCB over eligible arms, slates),
// Thompson score draws, Thompson propensities and posterior draws. The same Philox counters and
// keys as src/cpu/explore.ts, and the same arithmetic in float64 over the f32 inputs, so a seed
// gives the cpu backend's decisions; only the stored propensities and draws are rounded to f32.
#include "kernels.h"

#define LOGIT_FLOOR 87.0
#define GAP_CAP 1267650600228229401496703205376.0 /* 2^100 */
#define STATUS_TOO_FEW_ELIGIBLE 1
#define STATUS_TOO_FEW_FINITE 2
#define STREAM_SAMPLE_ARMS 1u
#define STREAM_SAMPLE_SCORES 2u
#define STREAM_THOMPSON 3u
#define STREAM_POSTERIOR 4u

enum { POLICY_GREEDY = 0, POLICY_EPSILON = 1, POLICY_SOFTMAX = 2, POLICY_SQUARECB = 3 };

/**
 * Per row and slot: the policy's weights over the eligible, finite, not yet chosen arms, one
 * draw by inverse CDF. scratch: cols doubles (weights), cols i32 (candidates), cols bytes (taken).
 */
EXPORT(sample_arms) void sample_arms(const f32 *scores, const i32 *eligible, int eligibleStride, i32 *arms, f32 *props, i32 *status,
                                     int rows, int cols, int k, int slotStride, int policy, double param, u32 seed, u32 step,
                                     double *w, i32 *cand, uint8_t *taken) {
  for (int r = 0; r < rows; r++) {
    for (int a = 0; a < cols; a++) taken[a] = 0;
    int out = r * k;
    for (int j = 0; j < k; j++) {
      const f32 *s = scores + (long)j * slotStride + (long)r * cols;
      int nEligible = 0, nc = 0, best = -1;
      for (int a = 0; a < cols; a++) {
        if ((eligible && eligible[(long)r * eligibleStride + a] == 0) || taken[a]) continue;
        nEligible++;
        if (!is_finite_f(s[a])) continue;
        cand[nc++] = a;
        if (best < 0 || s[a] > s[best]) best = a;
      }
      if (j == 0) {
        int code = nEligible < k ? STATUS_TOO_FEW_ELIGIBLE : nc < k ? STATUS_TOO_FEW_FINITE : 0;
        status[r] = code == 0 ? 0 : code | ((code == STATUS_TOO_FEW_ELIGIBLE ? nEligible : nc) << 2);
        if (code != 0) {
          for (int t = 0; t < k; t++) { arms[out + t] = -1; props[out + t] = 0.0f; }
          break;
        }
      }
      if (policy == POLICY_GREEDY) {
        taken[best] = 1;
        arms[out + j] = best;
        props[out + j] = 1.0f;
        continue;
      }
      double m = s[best], n = nc;
      if (policy == POLICY_EPSILON) {
        for (int c = 0; c < nc; c++) w[cand[c]] = param / n + (cand[c] == best ? 1.0 - param : 0.0);
      } else if (policy == POLICY_SOFTMAX) {
        for (int c = 0; c < nc; c++) {
          double logit = ((double)s[cand[c]] - m) / param;
          w[cand[c]] = logit < -LOGIT_FLOOR ? 0.0 : host_exp(logit);
        }
      } else {
        double rest = 0.0;
        for (int c = 0; c < nc; c++) {
          int a = cand[c];
          if (a == best) continue;
          double q = param * (m - (double)s[a]);
          if (q > GAP_CAP) q = GAP_CAP;
          w[a] = 1.0 / (n + q);
          rest += q / (n + q);
        }
        w[best] = (1.0 + rest) / n;
      }
      double total = 0.0;
      for (int c = 0; c < nc; c++) total += w[cand[c]];
      block4 b = philox4x32(step, (u32)r, (u32)j, 0u, seed, STREAM_SAMPLE_ARMS);
      double target = uniform_from_bits(b.w[0]) * total, acc = 0.0;
      int found = -1;
      for (int c = 0; c < nc; c++) {
        int a = cand[c];
        if (w[a] > 0.0) {
          acc += w[a];
          found = a;
          if (acc > target) break;
        }
      }
      taken[found] = 1;
      arms[out + j] = found;
      props[out + j] = (f32)(w[found] / total);
    }
  }
}

/** The standard deviation of a draw, or −1 where mean or width2 is not finite. */
static inline double draw_scale(f32 mean, f32 width2, double scale) {
  if (!is_finite_f(mean) || !is_finite_f(width2)) return -1.0;
  return scale * __builtin_sqrt(width2 > 0.0f ? (double)width2 : 0.0);
}

/** out[m, r, a] = mean + scale·sqrt(max(width2, 0))·ξ(step, r, a, m/4), NaN where an input is not finite. */
EXPORT(sample_scores) void sample_scores(const f32 *mean, const f32 *width2, f32 *out, int rows, int cols, int draws, double scale, u32 seed, u32 step) {
  double z[4];
  long plane = (long)rows * cols;
  for (int r = 0; r < rows; r++) {
    for (int a = 0; a < cols; a++) {
      long i = (long)r * cols + a;
      double sd = draw_scale(mean[i], width2[i], scale);
      for (int q = 0; q * 4 < draws; q++) {
        if (sd >= 0.0) normals_from_block(philox4x32(step, (u32)r, (u32)a, (u32)q, seed, STREAM_SAMPLE_SCORES), z);
        for (int l = 0; l < 4 && q * 4 + l < draws; l++) out[(q * 4 + l) * plane + i] = sd < 0.0 ? __builtin_nanf("") : (f32)(mean[i] + sd * z[l]);
      }
    }
  }
}

/** Φ(x): erfc by Numerical Recipes' Chebyshev fit (1.2e−7 relative), as src/core/normal.ts. */
static double normal_cdf(double x) {
  double zz = __builtin_fabs(x) * 0.70710678118654752, t = 1.0 / (1.0 + 0.5 * zz);
  double poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  double half = 0.5 * t * host_exp(-zz * zz + poly);
  return x >= 0.0 ? 1.0 - half : half;
}

/** P(c wins | the others' largest draw `best` of arm `bestArm`, −1 for none); src/cpu/explore.ts conditionalWin. */
static double conditional_win(double meanC, double sdC, int c, double best, int bestArm) {
  if (bestArm < 0) return 1.0;
  if (sdC == 0.0) return meanC > best || (meanC == best && c < bestArm) ? 1.0 : 0.0;
  double gap = meanC - best;
  if (gap > 14.0 * sdC) return 1.0;
  if (gap < -14.0 * sdC) return 0.0;
  return normal_cdf(gap / sdC);
}

/**
 * Per row and slot: the Rao–Blackwellised Thompson propensity of the slot's arm c, the mean over
 * `draws` fresh joint draws of the other eligible arms not chosen before of P(c's own draw beats
 * their largest) (src/cpu/explore.ts thompsonPropensitiesF64).
 */
EXPORT(thompson_propensities) void thompson_propensities(const f32 *mean, const f32 *width2, const i32 *eligible, int eligibleStride,
                                                         const i32 *chosen, f32 *out, int rows, int cols, int k, int draws,
                                                         double scale, u32 seed, u32 step) {
  double z[4], best[4];
  int bestArm[4];
  for (int r = 0; r < rows; r++) {
    long base = (long)r * cols;
    const i32 *ch = chosen + (long)r * k;
    for (int j = 0; j < k; j++) {
      int c = ch[j], valid = c >= 0 && c < cols && (!eligible || eligible[(long)r * eligibleStride + c] != 0);
      for (int t = 0; t < j && valid; t++) if (ch[t] == c) valid = 0;
      double sdC = valid ? draw_scale(mean[base + c], width2[base + c], scale) : -1.0;
      double total = 0.0;
      if (sdC >= 0.0) {
        double meanC = mean[base + c];
        for (int q = 0; q * 4 < draws; q++) {
          for (int l = 0; l < 4; l++) { best[l] = 0.0; bestArm[l] = -1; }
          for (int a = 0; a < cols; a++) {
            if (a == c || (eligible && eligible[(long)r * eligibleStride + a] == 0)) continue;
            int before = 0;
            for (int t = 0; t < j; t++) if (ch[t] == a) before = 1;
            if (before) continue;
            double sd = draw_scale(mean[base + a], width2[base + a], scale);
            if (sd < 0.0) continue;
            normals_from_block(philox4x32(step, (u32)r, (u32)a, (u32)q, seed, STREAM_THOMPSON), z);
            for (int l = 0; l < 4; l++) {
              double ra = mean[base + a] + sd * z[l];
              // Arms in order: a later arm leads only by a strictly larger draw.
              if (is_finite_d(ra) && (bestArm[l] < 0 || ra > best[l])) { best[l] = ra; bestArm[l] = a; }
            }
          }
          for (int l = 0; l < 4 && q * 4 + l < draws; l++) total += conditional_win(meanC, sdC, c, best[l], bestArm[l]);
        }
      }
      out[(long)r * k + j] = (f32)(total / draws);
    }
  }
}

/** out[n, a, i] = θ_a,i + scale·Σ_{j ≤ i} L_a,ij z_j with z from (step, a, n, j/4). z: d rounded up to 4 doubles of scratch. */
EXPORT(posterior_draws) void posterior_draws(const f32 *theta, const f32 *L, f32 *out, int arms, int d, int draws, double scale,
                                             u32 seed, u32 step, double *z) {
  for (int n = 0; n < draws; n++) {
    for (int a = 0; a < arms; a++) {
      for (int q = 0; q * 4 < d; q++) normals_from_block(philox4x32(step, (u32)a, (u32)n, (u32)q, seed, STREAM_POSTERIOR), z + 4 * q);
      const f32 *l = L + (long)a * d * d;
      for (int i = 0; i < d; i++) {
        double acc = 0.0;
        for (int j = 0; j <= i; j++) acc += (double)l[i * d + j] * z[j];
        out[((long)n * arms + a) * d + i] = (f32)(theta[(long)a * d + i] + scale * acc);
      }
    }
  }
}
