// Randomised exploration: sampling arms with the probability of each choice, and Thompson draws.
// Needs lib/grid.wgsl and shaders/lib/random.wgsl (philox4x32, uniformFromBits, normalsFromBlock). Float64 twins:
// src/cpu/explore.ts. Every random number comes from Philox keyed by (seed, stream) with the
// counter (step, row, arm or slot, draw block), so no kernel keeps generator state.
//
//   sampleArms            for slot j = 0 … k−1, the policy over the row's eligible arms with a
//                         finite score not chosen yet, one arm drawn by inverse CDF with the
//                         uniform of (step, row, j), and its probability: one workgroup a row
//                         (sampleArms), or one invocation a row (sampleArmsSerial).
//   sampleScores          one invocation an output: mean + scale·sqrt(max(width2, 0))·ξ.
//   thompsonPropensities  G workgroups a row, invocations over blocks of four draws: the mean
//                         over fresh draws of the other arms of P(the slot's arm beats them)
//                         (a part a workgroup; thompsonFrequencies sums them in order, / M).
//   posteriorDraws        one invocation an output: θ + scale·L z.
//
// Scores are read as bits: NaN and ±Inf are told apart from finite values on the integers
// (WGSL lets an implementation assume floats are finite), and arithmetic is arranged so that no
// finite input overflows (halved differences, caps passed in from the host).

struct Params {
  rows: u32,
  cols: u32,
  // Slate size (sampleArms, thompsonPropensities) or draws per score (sampleScores).
  k: u32,
  policy: u32,
  // Policy constants prepared on the host (src/gpu/kernels/explore.ts policyConstants).
  param0: f32,
  param1: f32,
  // 0: one eligibility row for every row; cols: a row each.
  eligibleStride: u32,
  hasEligible: u32,
  // Elements between the score matrices of consecutive slots (0: one matrix for every slot).
  slotStride: u32,
  seed: u32,
  step: u32,
  // sampleArms: words of the taken-bitset (32 arms a word) each invocation owns;
  // thompsonPropensities: workgroups a row.
  chunkWords: u32,
  draws: u32,
  d: u32,
  scale: f32,
  // A quiet NaN's bits: WGSL refuses NaN in constant expressions.
  nanBits: u32,
}

const STREAM_SAMPLE_ARMS: u32 = 1u;
const STREAM_SAMPLE_SCORES: u32 = 2u;
const STREAM_THOMPSON_PROPENSITIES: u32 = 3u;
const STREAM_POSTERIOR_DRAWS: u32 = 4u;

const POLICY_GREEDY: u32 = 0u;
const POLICY_EPSILON_GREEDY: u32 = 1u;
const POLICY_SOFTMAX: u32 = 2u;
const POLICY_SQUARECB: u32 = 3u;

const STATUS_TOO_FEW_ELIGIBLE: u32 = 1u;
const STATUS_TOO_FEW_FINITE: u32 = 2u;

const NO_INDEX: u32 = 0xffffffffu;
// 2¹⁰⁰: SquareCB's γ·gap is capped here (the twin caps it too), so 1/(n + γ·gap) never underflows.
const GAP_CAP: f32 = 1.2676506002282294e30;

@group(0) @binding(0) var<uniform> p: Params;

fn isFiniteBits(bits: u32) -> bool {
  return (bits & 0x7f800000u) != 0x7f800000u;
}

// A u32 that grows with a finite f32 (−0 and +0 share one key); every key is above 0.
fn orderKey(bits: u32) -> u32 {
  let magnitude = bits & 0x7fffffffu;
  if (magnitude == 0u) {
    return 0x80000000u;
  }
  if (bits != magnitude) {
    return ~bits;
  }
  return bits | 0x80000000u;
}

// ---------------------------------------------------------------------------------------------
// sampleArms

@group(0) @binding(1) var<storage, read> scores: array<u32>;
@group(0) @binding(2) var<storage, read> eligible: array<i32>;
@group(0) @binding(3) var<storage, read_write> armsOut: array<i32>;
@group(0) @binding(4) var<storage, read_write> propensitiesOut: array<f32>;
@group(0) @binding(5) var<storage, read_write> statusOut: array<i32>;
// One bit an arm: chosen by an earlier slot of this row. Each invocation owns whole words.
@group(0) @binding(6) var<storage, read_write> taken: array<u32>;

var<workgroup> partCounts: array<vec2u, WG>;
var<workgroup> partBest: array<vec2u, WG>;
var<workgroup> partSums: array<f32, WG>;
var<workgroup> starts: array<f32, WG>;
// Eligible arms, candidates, best key, best arm.
var<workgroup> slotSummary: vec4u;
var<workgroup> sharedWeight: f32;
var<workgroup> sharedTotal: f32;
var<workgroup> lastPositive: u32;
// The chosen arm and its weight's bits.
var<workgroup> choice: vec2u;

fn isEligible(eligibleBase: u32, arm: u32) -> bool {
  return p.hasEligible == 0u || eligible[eligibleBase + arm] != 0;
}

fn isTaken(wordBase: u32, arm: u32) -> bool {
  return ((taken[wordBase + (arm >> 5u)] >> (arm & 31u)) & 1u) != 0u;
}

fn markTaken(wordBase: u32, arm: u32) {
  if (arm != NO_INDEX) {
    taken[wordBase + (arm >> 5u)] |= 1u << (arm & 31u);
  }
}

// SquareCB's inverse-gap weight of an arm that is not the best: 1/(n + γ·(m − s)), with
// h = m/2 − s/2 (no overflow) and γ·(m − s) = (2γ)·h capped at GAP_CAP (param1 = GAP_CAP/(2γ)).
fn squareCbGap(s: f32, m: f32) -> f32 {
  let h = m * 0.5 - s * 0.5;
  return select(p.param0 * h, GAP_CAP, h > p.param1);
}

// The unnormalised probability of a candidate arm. m: the best candidate's score; n: candidates.
fn armWeight(arm: u32, s: f32, best: u32, m: f32, n: f32, bestWeight: f32) -> f32 {
  switch (p.policy) {
    case POLICY_EPSILON_GREEDY: {
      // param0 = ε, param1 = 1 − ε.
      return p.param0 / n + select(0.0, p.param1, arm == best);
    }
    case POLICY_SOFTMAX: {
      // param0 = T/2, param1 = −87·T/2: exp((s − m)/T) with (s − m)/2 computed without overflow
      // and a logit under −87 (a weight under e⁻⁸⁷ ≈ 1.6e−38, subnormal next) taken as 0.
      let dh = s * 0.5 - m * 0.5;
      if (dh < p.param1) {
        return 0.0;
      }
      return exp(dh / p.param0);
    }
    case POLICY_SQUARECB: {
      if (arm == best) {
        return bestWeight;
      }
      return 1.0 / (n + squareCbGap(s, m));
    }
    default: {
      return select(0.0, 1.0, arm == best);
    }
  }
}

// One slot's view of a row: where its scores, mask and taken-bits are.
struct SlotRow {
  sBase: u32,
  eligibleBase: u32,
  wordBase: u32,
}

// The score bits of arm a if it is a candidate of this slot (eligible, not taken), or NaN's bits.
fn candidateBits(r: SlotRow, a: u32) -> u32 {
  if (!isEligible(r.eligibleBase, a) || isTaken(r.wordBase, a)) {
    return 0xffffffffu;
  }
  return scores[r.sBase + a];
}

// Over arms a0 … a1−1: (eligible not taken, of them finite, the largest finite's key, its arm —
// the lowest on ties).
fn scanCandidates(r: SlotRow, a0: u32, a1: u32) -> vec4u {
  var s = vec4u(0u, 0u, 0u, NO_INDEX);
  for (var a = a0; a < a1; a++) {
    if (!isEligible(r.eligibleBase, a) || isTaken(r.wordBase, a)) {
      continue;
    }
    s.x++;
    let bits = scores[r.sBase + a];
    if (!isFiniteBits(bits)) {
      continue;
    }
    s.y++;
    let key = orderKey(bits);
    if (key > s.z) {
      s.z = key;
      s.w = a;
    }
  }
  return s;
}

// Σ q_a/(n + q_a) over the candidates a ≠ best in a0 … a1−1, for SquareCB's best weight
// p_best = 1 − Σ_{a≠best} 1/(n + q_a) = (1 + Σ_{a≠best} q_a/(n + q_a))/n: non-negative terms,
// accurate where 1 − Σ would cancel (many arms near the best).
fn squareCbRest(r: SlotRow, a0: u32, a1: u32, best: u32, m: f32, n: f32) -> f32 {
  var rest = 0.0;
  for (var a = a0; a < a1; a++) {
    let bits = candidateBits(r, a);
    if (a != best && isFiniteBits(bits)) {
      let q = squareCbGap(bitcast<f32>(bits), m);
      rest += q / (n + q);
    }
  }
  return rest;
}

// Σ of the candidates' weights over a0 … a1−1, in arm order.
fn weightSum(r: SlotRow, a0: u32, a1: u32, best: u32, m: f32, n: f32, bestWeight: f32) -> f32 {
  var sum = 0.0;
  for (var a = a0; a < a1; a++) {
    let bits = candidateBits(r, a);
    if (isFiniteBits(bits)) {
      sum += armWeight(a, bitcast<f32>(bits), best, m, n, bestWeight);
    }
  }
  return sum;
}

// The inverse CDF over a0 … a1−1 with the running sum starting at `start`: the first candidate
// whose cumulative weight passes `threshold`, or the last of positive weight (u·W can round up to
// W). Returns (arm, its weight's bits); the running sum is weightSum's, term for term.
fn walkCdf(r: SlotRow, a0: u32, a1: u32, start: f32, threshold: f32, best: u32, m: f32, n: f32, bestWeight: f32) -> vec2u {
  var acc = 0.0;
  var found = vec2u(NO_INDEX, 0u);
  for (var a = a0; a < a1; a++) {
    let bits = candidateBits(r, a);
    if (!isFiniteBits(bits)) {
      continue;
    }
    let w = armWeight(a, bitcast<f32>(bits), best, m, n, bestWeight);
    if (w > 0.0) {
      acc += w;
      found = vec2u(a, bitcast<u32>(w));
      if (start + acc > threshold) {
        break;
      }
    }
  }
  return found;
}

// A row's status from its slot-0 counts: 0, or the code and the count of usable arms.
fn rowStatus(counts: vec2u) -> u32 {
  if (counts.x < p.k) {
    return STATUS_TOO_FEW_ELIGIBLE | (counts.x << 2u);
  }
  if (counts.y < p.k) {
    return STATUS_TOO_FEW_FINITE | (counts.y << 2u);
  }
  return 0u;
}

fn writeFailedRow(row: u32, code: u32) {
  statusOut[row] = i32(code);
  for (var i = 0u; i < p.k; i++) {
    armsOut[row * p.k + i] = -1;
    propensitiesOut[row * p.k + i] = 0.0;
  }
}

fn slotUniform(row: u32, slot: u32) -> f32 {
  return uniformFromBits(philox4x32(vec4u(p.step, row, slot, 0u), vec2u(p.seed, STREAM_SAMPLE_ARMS)).x);
}

// One invocation a row, every pass sequential over the row: no workgroup memory, no barriers.
// For short rows, and for many rows on CPU adapters (src/gpu/kernels/explore.ts sampleArmsLayout).
@compute @workgroup_size(WG)
fn sampleArmsSerial(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let row = invocationIndex(grid, lid);
  if (row >= p.rows) {
    return;
  }
  let words = (p.cols + 31u) / 32u;
  for (var w = 0u; w < words; w++) {
    taken[row * words + w] = 0u;
  }
  for (var j = 0u; j < p.k; j++) {
    let r = SlotRow(j * p.slotStride + row * p.cols, row * p.eligibleStride, row * words);
    let summary = scanCandidates(r, 0u, p.cols);
    if (j == 0u) {
      let code = rowStatus(summary.xy);
      if (code != 0u) {
        writeFailedRow(row, code);
        return;
      }
      statusOut[row] = 0;
    }
    let best = summary.w;
    var picked = vec2u(best, bitcast<u32>(1.0));
    var total = 1.0;
    if (p.policy != POLICY_GREEDY) {
      let n = f32(summary.y);
      let m = bitcast<f32>(scores[r.sBase + best]);
      var bestWeight = 0.0;
      if (p.policy == POLICY_SQUARECB) {
        bestWeight = (1.0 + squareCbRest(r, 0u, p.cols, best, m, n)) / n;
      }
      total = weightSum(r, 0u, p.cols, best, m, n, bestWeight);
      picked = walkCdf(r, 0u, p.cols, 0.0, slotUniform(row, j) * total, best, m, n, bestWeight);
    }
    markTaken(r.wordBase, picked.x);
    armsOut[row * p.k + j] = i32(picked.x);
    propensitiesOut[row * p.k + j] = bitcast<f32>(picked.y) / total;
  }
}

// One workgroup a row: invocation t owns the arms of taken-words t·chunkWords …, and each pass is
// the chunks' partial results folded in chunk (= arm) order by invocation 0.
@compute @workgroup_size(WG)
fn sampleArms(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let row = groupIndex(grid);
  if (row >= p.rows) {
    return;
  }
  let words = (p.cols + 31u) / 32u;
  let w0 = min(lid * p.chunkWords, words);
  let w1 = min(w0 + p.chunkWords, words);
  let a0 = w0 * 32u;
  let a1 = min(w1 * 32u, p.cols);
  for (var w = w0; w < w1; w++) {
    taken[row * words + w] = 0u;
  }

  for (var j = 0u; j < p.k; j++) {
    let r = SlotRow(j * p.slotStride + row * p.cols, row * p.eligibleStride, row * words);

    // Pass A: counts and the best candidate of each chunk, folded.
    let part = scanCandidates(r, a0, a1);
    partCounts[lid] = part.xy;
    partBest[lid] = part.zw;
    workgroupBarrier();
    if (lid == 0u) {
      var s = vec4u(0u, 0u, 0u, NO_INDEX);
      // Chunks in arm order, strictly greater: ties keep the lower arm.
      for (var i = 0u; i < WG; i++) {
        s.x += partCounts[i].x;
        s.y += partCounts[i].y;
        let b = partBest[i];
        if (b.x > s.z) {
          s.z = b.x;
          s.w = b.y;
        }
      }
      slotSummary = s;
    }
    let summary = workgroupUniformLoad(&slotSummary);

    if (j == 0u) {
      let code = rowStatus(summary.xy);
      if (code != 0u) {
        if (lid == 0u) {
          writeFailedRow(row, code);
        }
        return;
      }
      if (lid == 0u) {
        statusOut[row] = 0;
      }
    }

    let best = summary.w;
    if (p.policy == POLICY_GREEDY) {
      if (best >= a0 && best < a1) {
        markTaken(r.wordBase, best);
      }
      if (lid == 0u) {
        armsOut[row * p.k + j] = i32(best);
        propensitiesOut[row * p.k + j] = 1.0;
      }
      continue;
    }

    let n = f32(summary.y);
    let m = bitcast<f32>(scores[r.sBase + best]);
    var bestWeight = 0.0;
    if (p.policy == POLICY_SQUARECB) {
      partSums[lid] = squareCbRest(r, a0, a1, best, m, n);
      workgroupBarrier();
      if (lid == 0u) {
        var rest = 0.0;
        for (var i = 0u; i < WG; i++) {
          rest += partSums[i];
        }
        sharedWeight = (1.0 + rest) / n;
      }
      bestWeight = workgroupUniformLoad(&sharedWeight);
    }

    // Pass B: each chunk's total weight; invocation 0 turns them into chunk starts, so the CDF is
    // one monotone sequence: chunk lid covers [starts[lid], starts[lid] + its total).
    let sum = weightSum(r, a0, a1, best, m, n, bestWeight);
    partSums[lid] = sum;
    workgroupBarrier();
    if (lid == 0u) {
      var c = 0.0;
      var last = NO_INDEX;
      for (var i = 0u; i < WG; i++) {
        starts[i] = c;
        c += partSums[i];
        if (partSums[i] > 0.0) {
          last = i;
        }
      }
      sharedTotal = c;
      lastPositive = last;
    }
    workgroupBarrier();

    // Pass C: the chunk holding threshold = u·W walks to its arm (u·W can round up to W: then the
    // chunk of the last positive weight).
    let total = sharedTotal;
    let threshold = slotUniform(row, j) * total;
    let start = starts[lid];
    let mine = sum > 0.0 && ((threshold >= start && threshold < start + sum) || (threshold >= total && lid == lastPositive));
    if (mine) {
      let c = walkCdf(r, a0, a1, start, threshold, best, m, n, bestWeight);
      markTaken(r.wordBase, c.x);
      choice = c;
    }
    workgroupBarrier();
    if (lid == 0u) {
      let c = choice;
      armsOut[row * p.k + j] = i32(c.x);
      propensitiesOut[row * p.k + j] = bitcast<f32>(c.y) / total;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// sampleScores and thompsonPropensities

@group(0) @binding(1) var<storage, read> mean: array<u32>;
@group(0) @binding(2) var<storage, read> width2: array<u32>;
@group(0) @binding(3) var<storage, read_write> sampledOut: array<f32>;
@group(0) @binding(3) var<storage, read> eligibleArms: array<i32>;
@group(0) @binding(4) var<storage, read> chosenArms: array<i32>;
// Per (row, slot, workgroup of the row): the workgroup's sum of conditional win probabilities.
@group(0) @binding(5) var<storage, read_write> winParts: array<f32>;
// thompsonFrequencies: the parts in, their sum over the row's workgroups (in order) / M out.
@group(0) @binding(1) var<storage, read> winTotals: array<f32>;
@group(0) @binding(2) var<storage, read_write> frequencyOut: array<f32>;

var<workgroup> partWins: array<f32, WG>;

// The standard deviation of an arm's draw, or a negative value where mean or width2 is not finite.
fn drawScale(i: u32) -> f32 {
  let m = mean[i];
  let w = width2[i];
  if (!isFiniteBits(m) || !isFiniteBits(w)) {
    return -1.0;
  }
  return p.scale * sqrt(max(bitcast<f32>(w), 0.0));
}

@compute @workgroup_size(WG)
fn sampleScores(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  let perDraw = p.rows * p.cols;
  if (g >= perDraw * p.k) {
    return;
  }
  let draw = g / perDraw;
  let i = g - draw * perDraw;
  let row = i / p.cols;
  let arm = i - row * p.cols;
  let sd = drawScale(i);
  if (sd < 0.0) {
    sampledOut[g] = bitcast<f32>(p.nanBits);
    return;
  }
  let z = normalsFromBlock(philox4x32(vec4u(p.step, row, arm, draw >> 2u), vec2u(p.seed, STREAM_SAMPLE_SCORES)));
  sampledOut[g] = bitcast<f32>(mean[i]) + sd * z[draw & 3u];
}

fn isEligibleArm(eligibleBase: u32, arm: u32) -> bool {
  return p.hasEligible == 0u || eligibleArms[eligibleBase + arm] != 0;
}

fn chosenBefore(chosenBase: u32, slot: u32, arm: u32) -> bool {
  for (var i = 0u; i < slot; i++) {
    if (chosenArms[chosenBase + i] == i32(arm)) {
      return true;
    }
  }
  return false;
}

fn finiteLanes(v: vec4f) -> vec4<bool> {
  return (bitcast<vec4u>(v) & vec4u(0x7f800000u)) != vec4u(0x7f800000u);
}

// Φ(x): erfc by Numerical Recipes' Chebyshev fit (fractional error < 1.2e−7), the twin's
// normalCdf (src/core/normal.ts).
fn normalCdf(x: f32) -> f32 {
  let z = abs(x) * 0.70710678118654752;
  let t = 1.0 / (1.0 + 0.5 * z);
  let poly = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let half = 0.5 * t * exp(-z * z + poly);
  return select(half, 1.0 - half, x >= 0.0);
}

// P(c wins | the others' largest draw `best` of arm `bestArm`, -1 for none): Φ((μ_c − best)/σ_c),
// the limit beyond NORMAL_CDF_RANGE = 14 deviations; for σ_c = 0 the indicator, lower arm on ties.
fn conditionalWin(meanC: f32, sdC: f32, c: u32, best: f32, bestArm: i32) -> f32 {
  if (bestArm < 0) {
    return 1.0;
  }
  if (sdC == 0.0) {
    return select(0.0, 1.0, meanC > best || (meanC == best && i32(c) < bestArm));
  }
  let gap = meanC - best;
  if (gap > 14.0 * sdC) {
    return 1.0;
  }
  if (gap < -14.0 * sdC) {
    return 0.0;
  }
  return normalCdf(gap / sdC);
}

// Workgroup (row, g) of p.chunkWords = G workgroups a row takes the blocks g·WG + t, stepping by
// G·WG, so a row's draws spread over G workgroups (one row alone fills more than one core or SM).
// Each block of four joint draws of the other arms adds P(c wins | those draws) (the twin's
// Rao–Blackwellised estimate); the workgroup's sum goes to its own part, summed in order later.
@compute @workgroup_size(WG)
fn thompsonPropensities(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let index = groupIndex(grid);
  let groups = p.chunkWords;
  let row = index / groups;
  if (row >= p.rows) {
    return;
  }
  let group = index - row * groups;
  let first = group * WG + lid;
  let base = row * p.cols;
  let eligibleBase = row * p.eligibleStride;
  let chosenBase = row * p.k;
  let key = vec2u(p.seed, STREAM_THOMPSON_PROPENSITIES);
  let blocks = (p.draws + 3u) / 4u;
  for (var j = 0u; j < p.k; j++) {
    let c = chosenArms[chosenBase + j];
    let cu = u32(c);
    var valid = c >= 0 && cu < p.cols;
    if (valid) {
      valid = isEligibleArm(eligibleBase, cu) && !chosenBefore(chosenBase, j, cu) && drawScale(base + cu) >= 0.0;
    }
    var sum = 0.0;
    if (valid) {
      let meanC = bitcast<f32>(mean[base + cu]);
      let sdC = drawScale(base + cu);
      for (var q = first; q < blocks; q += groups * WG) {
        var best = vec4f(0.0);
        var bestArm = vec4i(-1);
        for (var a = 0u; a < p.cols; a++) {
          if (a == cu || !isEligibleArm(eligibleBase, a) || chosenBefore(chosenBase, j, a)) {
            continue;
          }
          let sd = drawScale(base + a);
          if (sd < 0.0) {
            continue;
          }
          let ra = bitcast<f32>(mean[base + a]) + sd * normalsFromBlock(philox4x32(vec4u(p.step, row, a, q), key));
          // Arms in order: a later arm leads only by a strictly larger draw.
          let lead = finiteLanes(ra) & ((bestArm < vec4i(0)) | (ra > best));
          best = select(best, ra, lead);
          bestArm = select(bestArm, vec4i(i32(a)), lead);
        }
        for (var l = 0u; l < 4u; l++) {
          if (q * 4u + l < p.draws) {
            sum += conditionalWin(meanC, sdC, cu, best[l], bestArm[l]);
          }
        }
      }
    }
    partWins[lid] = sum;
    workgroupBarrier();
    if (lid == 0u) {
      var total = 0.0;
      for (var i = 0u; i < WG; i++) {
        total += partWins[i];
      }
      winParts[(chosenBase + j) * groups + group] = total;
    }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn thompsonFrequencies(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let i = invocationIndex(grid, lid);
  if (i < p.rows * p.k) {
    var total = 0.0;
    for (var g = 0u; g < p.chunkWords; g++) {
      total += winTotals[i * p.chunkWords + g];
    }
    frequencyOut[i] = total / f32(p.draws);
  }
}

// ---------------------------------------------------------------------------------------------
// posteriorDraws

@group(0) @binding(1) var<storage, read> theta: array<f32>;
@group(0) @binding(2) var<storage, read> factor: array<f32>;
@group(0) @binding(3) var<storage, read_write> drawsOut: array<f32>;

// Output (draw n, arm a, component i) of draws×cols×d: θ_a,i + scale·Σ_{j≤i} L_a,ij z_j with z
// the normals of (step, a, n, block j/4), j in order (the twin's order).
@compute @workgroup_size(WG)
fn posteriorDraws(grid: Grid, @builtin(local_invocation_index) lid: u32) {
  let g = invocationIndex(grid, lid);
  let d = p.d;
  let perDraw = p.cols * d;
  if (g >= perDraw * p.draws) {
    return;
  }
  let n = g / perDraw;
  let rest = g - n * perDraw;
  let a = rest / d;
  let i = rest - a * d;
  let key = vec2u(p.seed, STREAM_POSTERIOR_DRAWS);
  let lBase = (a * d + i) * d;
  var acc = 0.0;
  for (var q = 0u; q * 4u <= i; q++) {
    let z = normalsFromBlock(philox4x32(vec4u(p.step, a, n, q), key));
    for (var l = 0u; l < 4u; l++) {
      let jj = q * 4u + l;
      if (jj <= i) {
        acc += factor[lBase + jj] * z[l];
      }
    }
  }
  drawsOut[g] = theta[a * d + i] + p.scale * acc;
}
