// The UCB score of a tile's rows and its store, for ucbScores and hybridScores.
//
// The kernel defines the store:  fn storeScore(i: u32, col: u32, value: f32)   row i, column col.

/// mean + α·sqrt(max(q, 0)); a NaN q (a broken inverse) gives NaN, which max() could hide.
fn ucbScore(mean: f32, q: f32, alpha: f32) -> f32 {
  if (isNan(q)) {
    return q;
  }
  return mean + alpha * sqrt(max(q, 0.0));
}

/// Scores of rows i0 … i0+ROWS−1 below `rows` in column col, from the tile's rows 0-3 (mean, q)
/// and 4-7 (mean2, q2).
fn storeScoreTile(i0: u32, rows: u32, col: u32, alpha: f32, mean: vec4f, q: vec4f, mean2: vec4f, q2: vec4f) {
  for (var r = 0u; r < min(ROWS, 4u); r++) {
    let i = i0 + r;
    if (i < rows) {
      storeScore(i, col, ucbScore(mean[r], q[r], alpha));
    }
  }
  for (var r = 4u; r < ROWS; r++) {
    let i = i0 + r;
    if (i < rows) {
      storeScore(i, col, ucbScore(mean2[r - 4u], q2[r - 4u], alpha));
    }
  }
}
