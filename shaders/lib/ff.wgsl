// Float-float ("double-f32") arithmetic: a value is hi + lo held as vec2f(hi, lo), |lo| ≤ ulp(hi)/2,
// about 48 significant bits. The error-free transforms need each + and * rounded as IEEE f32
// (WGSL does not reassociate) and twoProd needs no fused multiply-add: the product's error comes
// from Veltkamp splitting, so it is exact whether or not the implementation fuses fma.

/// s + e = a + b exactly (Knuth's two-sum: any order of magnitudes).
fn twoSum(a: f32, b: f32) -> vec2f {
  let s = a + b;
  let bb = s - a;
  return vec2f(s, (a - (s - bb)) + (b - bb));
}

/// s + e = a + b exactly when |a| ≥ |b| (or a = 0).
fn fastTwoSum(a: f32, b: f32) -> vec2f {
  let s = a + b;
  return vec2f(s, b - (s - a));
}

/// a = hi + lo with 12-bit hi and lo (Veltkamp, factor 2¹² + 1); |a| < 2¹¹⁵.
fn ffSplit(a: f32) -> vec2f {
  let c = 4097.0 * a;
  let hi = c - (c - a);
  return vec2f(hi, a - hi);
}

/// p + e = a·b exactly (Dekker), for |a|, |b| < 2¹¹⁵ and a·b without overflow or underflow.
fn twoProd(a: f32, b: f32) -> vec2f {
  let p = a * b;
  let sa = ffSplit(a);
  let sb = ffSplit(b);
  let e = ((sa.x * sb.x - p) + sa.x * sb.y + sa.y * sb.x) + sa.y * sb.y;
  return vec2f(p, e);
}

/// x + y in float-float.
fn ffAdd(x: vec2f, y: vec2f) -> vec2f {
  let s = twoSum(x.x, y.x);
  let t = twoSum(x.y, y.y);
  let u = fastTwoSum(s.x, s.y + t.x);
  return fastTwoSum(u.x, u.y + t.y);
}

/// x·w in float-float, x float-float and w an f32.
fn ffMulF(x: vec2f, w: f32) -> vec2f {
  let p = twoProd(x.x, w);
  return fastTwoSum(p.x, p.y + x.y * w);
}

/// The float-float product (ahi + alo)·b, alo·b rounded (it is below ulp(ahi·b)).
fn ffProdF(ahi: f32, alo: f32, b: f32) -> vec2f {
  let p = twoProd(ahi, b);
  return vec2f(p.x, p.y + alo * b);
}
