// Counter-based randomness: Philox4x32-10 (Salmon, Moraes, Dror & Shaw, "Parallel random numbers:
// as easy as 1, 2, 3", SC 2011; the Random123 library), in u32 arithmetic only, and its uniform
// and standard-normal transforms. The host twin is src/core/philox.ts; the two give the same bits.
//
// A draw is a pure function of (key, counter): key = (seed, stream), counter = (step, row,
// arm or slot, draw block), so every invocation computes its own numbers in any order, and cpu
// and webgpu draw the same ones.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// The full 64-bit product a·b as (hi, lo), from 16-bit halves: WGSL has no 64-bit integers.
fn philoxMulHiLo(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0;
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  // Bits 16…47 of the product, below 3·2¹⁶ + 2¹⁶: no overflow.
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  let hi = p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u);
  return vec2u(hi, a * b);
}

fn philoxRound(c: vec4u, k: vec2u) -> vec4u {
  let p0 = philoxMulHiLo(PHILOX_M0, c.x);
  let p1 = philoxMulHiLo(PHILOX_M1, c.z);
  return vec4u(p1.x ^ c.y ^ k.x, p1.y, p0.x ^ c.w ^ k.y, p0.y);
}

// Philox4x32 with 10 rounds: four random words for one (counter, key).
fn philox4x32(counter: vec4u, key: vec2u) -> vec4u {
  var c = counter;
  var k = key;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) {
      k += vec2u(PHILOX_W0, PHILOX_W1);
    }
    c = philoxRound(c, k);
  }
  return c;
}

// Uniform in [0, 1) on the 2⁻²⁴ grid from the top 24 bits: exact in f32, the same value as the twin.
fn uniformFromBits(bits: u32) -> f32 {
  return f32(bits >> 8u) * 5.9604644775390625e-8;
}

// ln u for u in (0, 1] (a normal f32): u = 2^e·m with m in [√½, √2), ln m = 2·atanh(s) with
// s = (m − 1)/(m + 1), |s| ≤ 0.1716, by its odd series to s⁹ (the next term is below 4e−10), and
// e·ln 2 in two parts so the product is exact. Only +, −, ×, ÷ and bit operations, which WGSL
// rounds correctly (÷ within 2.5 ULP): unlike the built-in log (WGSL allows 2⁻²¹ absolute, and
// SwiftShader's is off by 8e−4 relative near 1), the result is within a few ULP on every device.
fn randomLog(u: f32) -> f32 {
  let bits = bitcast<u32>(u);
  var e = f32(i32(bits >> 23u) - 127);
  var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
  if (m > 1.41421356) {
    m *= 0.5;
    e += 1.0;
  }
  let s = (m - 1.0) / (m + 1.0);
  let s2 = s * s;
  let series = s * (2.0 + s2 * (0.666666666666667 + s2 * (0.4 + s2 * (0.285714285714286 + s2 * 0.222222222222222))));
  // ln 2 = 0.693145751953125 (16 bits, so e·hi is exact) + 1.4286068203e−6.
  return e * 0.693145751953125 + (e * 1.4286068202862268e-6 + series);
}

// (cos πx, sin πx) for x in [−1, 1]: x = y + q/2 with q = round(2x) and |y| ≤ ¼, both exact,
// Taylor polynomials of cos πy and sin πy to degree 10 and 9 (truncation below 2e−9), and a
// quarter-turn rotation by q. Built from +, −, × only (see randomLog): SwiftShader's cos and sin
// are off by 1.9e−4, which WGSL allows (2⁻¹¹ absolute).
fn randomCosSinPi(x: f32) -> vec2f {
  let q = round(2.0 * x);
  let y = x - 0.5 * q;
  let y2 = y * y;
  let c = 1.0 + y2 * (-4.93480220054468 + y2 * (4.05871212641677 + y2 * (-1.33526276885459
    + y2 * (0.235330630358893 - y2 * 0.0258068913900141))));
  let s = y * (3.14159265358979 + y2 * (-5.16771278004997 + y2 * (2.55016403987735
    + y2 * (-0.599264529320792 + y2 * 0.0821458866111282))));
  switch (i32(q) & 3) {
    case 1: {
      return vec2f(-s, c);
    }
    case 2: {
      return vec2f(-c, -s);
    }
    case 3: {
      return vec2f(s, -c);
    }
    default: {
      return vec2f(c, s);
    }
  }
}

// Four standard normals from one Philox block by Box–Muller: (x, y) and (z, w) each give a
// radius sqrt(−2 ln u₁) with u₁ = (top 24 bits + 1)·2⁻²⁴ in (0, 1] and the angle πx with
// x = 2u₂ − 1 in [−1, 1) (exact); the first normal of a pair is r·cos, the second r·sin.
fn normalsFromBlock(b: vec4u) -> vec4f {
  let u1 = (vec2f(vec2u(b.x, b.z) >> vec2u(8u)) + 1.0) * 5.9604644775390625e-8;
  let x = vec2f(vec2u(b.y, b.w) >> vec2u(8u)) * 1.1920928955078125e-7 - 1.0;
  let r = sqrt(-2.0 * vec2f(randomLog(u1.x), randomLog(u1.y)));
  let p0 = randomCosSinPi(x.x);
  let p1 = randomCosSinPi(x.y);
  return vec4f(r.x * p0, r.y * p1);
}
