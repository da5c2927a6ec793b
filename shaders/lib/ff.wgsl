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

/// One term of a compensated dot product (Ogita, Rump & Oishi's Dot2): acc = (sum, correction),
/// adds (ahi + alo)·b. The sum's rounding errors and the products' exact errors gather in the
/// correction, so acc.x + acc.y is the dot product as if computed in twice the precision, then
/// rounded; cheaper than ffAdd a term, and what a residual needs (it is rounded to f32 anyway).
fn dot2Add(acc: vec2f, ahi: f32, alo: f32, b: f32) -> vec2f {
  let p = twoProd(ahi, b);
  let t = twoSum(acc.x, p.x);
  return vec2f(t.x, acc.y + (t.y + (p.y + alo * b)));
}

// The same, four lanes at a time (vec4f sums and corrections): four independent dot products.

fn twoSum4(a: vec4f, b: vec4f) -> array<vec4f, 2> {
  let s = a + b;
  let bb = s - a;
  return array<vec4f, 2>(s, (a - (s - bb)) + (b - bb));
}

fn twoProd4(a: vec4f, b: vec4f) -> array<vec4f, 2> {
  let p = a * b;
  let ca = 4097.0 * a;
  let ah = ca - (ca - a);
  let al = a - ah;
  let cb = 4097.0 * b;
  let bh = cb - (cb - b);
  let bl = b - bh;
  return array<vec4f, 2>(p, ((ah * bh - p) + ah * bl + al * bh) + al * bl);
}

/// dot2Add in four lanes: (sum, correction) += (ahi + alo)·b, ahi and alo broadcast.
fn dot2Add4(sum: vec4f, corr: vec4f, ahi: f32, alo: f32, b: vec4f) -> array<vec4f, 2> {
  let p = twoProd4(vec4f(ahi), b);
  let t = twoSum4(sum, p[0]);
  return array<vec4f, 2>(t[0], corr + (t[1] + (p[1] + alo * b)));
}

fn fastTwoSum4(a: vec4f, b: vec4f) -> array<vec4f, 2> {
  let s = a + b;
  return array<vec4f, 2>(s, b - (s - a));
}

/// ffAdd in four lanes: (xh, xl) + (yh, yl).
fn ffAdd4(xh: vec4f, xl: vec4f, yh: vec4f, yl: vec4f) -> array<vec4f, 2> {
  let s = twoSum4(xh, yh);
  let t = twoSum4(xl, yl);
  let u = fastTwoSum4(s[0], s[1] + t[0]);
  return fastTwoSum4(u[0], u[1] + t[1]);
}
