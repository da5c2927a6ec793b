/**
 * The world an EcommerceSimulator is built on, drawn once from its seed: user and item latents,
 * the observable features, the category popularities before and after the shock, and the click
 * probability of every user and item in both worlds with each user's best item.
 */
import { SimRandom } from './random.js';
import type { ResolvedSimulatorOptions } from './simulator-options.js';

/** What `buildWorld` draws: everything the simulator serves batches from. */
export interface World {
  /** Items in the catalogue at step 0, and with the new collection. */
  readonly items: number;
  readonly allItems: number;
  /** The category of each item (all items). */
  readonly categoryOf: readonly number[];
  /** The shocked category (resolved from -1 to the least popular one), or -1 without a shock. */
  readonly shockCategory: number;
  readonly popularity: { readonly before: Float64Array; readonly after: Float64Array };
  /** users×userDim (userFeatureDim + 1, a constant 1 last). */
  readonly userFeatures: Float32Array;
  /** (all items)×itemDim: [Q v_i + ε_i, onehot(c_i)]. */
  readonly itemFeatures: Float32Array;
  /** (all items)×itemFeatureDim: Q v_i + ε_i alone. */
  readonly hybridItemFeatures: Float32Array;
  /** users×(all items) click probabilities before ([0]) and after ([1]) the shock. */
  readonly probability: [Float64Array, Float64Array];
  /** Per user, the best of the first `items` before ([0]) and after ([1]) the shock, and of all items. */
  readonly best: [Int32Array, Int32Array];
  readonly bestAll: [Int32Array, Int32Array];
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z));

/**
 * A random rotation of R^n that turns ⌊n/2⌋ orthogonal planes (a random orthonormal basis, taken
 * in pairs) by `angle` each: Q·diag(rot(angle), …)·Qᵀ, row-major n×n.
 */
function planeRotation(n: number, angle: number, random: SimRandom): Float64Array {
  const basis: Float64Array[] = [];
  while (basis.length < n) {
    const v = random.normals(n);
    for (const q of basis) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += v[i]! * q[i]!;
      for (let i = 0; i < n; i++) v[i]! -= dot * q[i]!;
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += v[i]! * v[i]!;
    norm = Math.sqrt(norm);
    if (norm < 1e-6) continue;
    for (let i = 0; i < n; i++) v[i]! /= norm;
    basis.push(v);
  }
  // R = I + Σ_planes [(cos−1)(p pᵀ + q qᵀ) + sin (q pᵀ − p qᵀ)], which maps p → cos·p + sin·q.
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) r[i * n + i] = 1;
  const c = Math.cos(angle), s = Math.sin(angle);
  for (let k = 0; k + 1 < n; k += 2) {
    const p = basis[k]!, q = basis[k + 1]!;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        r[i * n + j]! += (c - 1) * (p[i]! * p[j]! + q[i]! * q[j]!) + s * (q[i]! * p[j]! - p[i]! * q[j]!);
      }
    }
  }
  return r;
}

/**
 * Draws the world of resolved options from their seed, in a fixed order (the new collection
 * last, so the rest of the world is the world without it).
 *
 * @example
 * const world = buildWorld(resolveSimulatorOptions({ seed: 7 }));
 */
export function buildWorld(o: ResolvedSimulatorOptions): World {
  const random = new SimRandom(o.seed);
  const { items: k, users: n, latentDim: dl, userFeatureDim: du, itemFeatureDim: di, categories: nc } = o;
  const kAll = k + (o.newCollection?.items ?? 0);

  const categoryOf = random.shuffle(Array.from({ length: k }, (_, i) => i % nc));
  const popBefore = Float64Array.from({ length: nc }, () => o.popularitySpread * random.normal());
  let shockCategory = -1;
  if (o.shock) {
    shockCategory = o.shock.category;
    if (shockCategory < 0) shockCategory = popBefore.indexOf(Math.min(...popBefore));
  }
  const popAfter = popBefore.slice();
  if (o.shock) popAfter[shockCategory]! += o.shock.popularityChange;

  const project = (rows: number, cols: number) => random.normals(rows * cols);
  const pUser = project(du, dl), pItem = project(di, dl);
  const userLatent = Array.from({ length: n }, () => random.unitVector(dl));
  const itemLatent = Array.from({ length: k }, () => random.unitVector(dl));
  const rotation = planeRotation(dl, o.shock?.rotation ?? 0, random);

  const userDim = du + 1;
  const userFeatures = new Float32Array(n * userDim);
  for (let u = 0; u < n; u++) {
    for (let r = 0; r < du; r++) {
      let s = 0;
      for (let j = 0; j < dl; j++) s += pUser[r * dl + j]! * userLatent[u]![j]!;
      userFeatures[u * userDim + r] = s + o.featureNoise * random.normal();
    }
    userFeatures[u * userDim + du] = 1;
  }
  const itemDim = di + nc;
  const itemFeatures = new Float32Array(kAll * itemDim);
  const hybridItemFeatures = new Float32Array(kAll * di);
  const itemRow = (i: number) => {
    for (let r = 0; r < di; r++) {
      let s = 0;
      for (let j = 0; j < dl; j++) s += pItem[r * dl + j]! * itemLatent[i]![j]!;
      const f = s + o.featureNoise * random.normal();
      itemFeatures[i * itemDim + r] = f;
      hybridItemFeatures[i * di + r] = f;
    }
    itemFeatures[i * itemDim + di + categoryOf[i]!] = 1;
  };
  for (let i = 0; i < k; i++) itemRow(i);
  // The new collection is drawn after everything else, so the rest of the world is the world without it.
  const boost = new Float64Array(kAll);
  for (let i = k; i < kAll; i++) {
    categoryOf.push(random.int(nc));
    itemLatent.push(random.unitVector(dl));
    boost[i] = o.newCollection!.boost;
    itemRow(i);
  }

  const tables = (latent: Float64Array[], pop: Float64Array): [Float64Array, Int32Array, Int32Array] => {
    const p = new Float64Array(n * kAll);
    const best = new Int32Array(n), bestAll = new Int32Array(n);
    for (let u = 0; u < n; u++) {
      let top = -1;
      for (let i = 0; i < kAll; i++) {
        let dot = 0;
        for (let j = 0; j < dl; j++) dot += latent[u]![j]! * itemLatent[i]![j]!;
        const v = sigmoid(o.baseLogit + pop[categoryOf[i]!]! + boost[i]! + o.affinityScale * dot);
        p[u * kAll + i] = v;
        if (i === k) best[u] = bestAll[u]!;
        if (v > top) {
          top = v;
          bestAll[u] = i;
        }
      }
      if (kAll === k) best[u] = bestAll[u]!;
    }
    return [p, best, bestAll];
  };
  const rotated = userLatent.map((t) => {
    const out = new Float64Array(dl);
    for (let r = 0; r < dl; r++) {
      let s = 0;
      for (let j = 0; j < dl; j++) s += rotation[r * dl + j]! * t[j]!;
      out[r] = s;
    }
    return out;
  });
  const [pBefore, bestBefore, allBefore] = tables(userLatent, popBefore);
  const [pAfter, bestAfter, allAfter] = o.shock ? tables(rotated, popAfter) : [pBefore, bestBefore, allBefore];
  return {
    items: k, allItems: kAll, categoryOf, shockCategory, popularity: { before: popBefore, after: popAfter },
    userFeatures, itemFeatures, hybridItemFeatures,
    probability: [pBefore, pAfter], best: [bestBefore, bestAfter], bestAll: [allBefore, allAfter],
  };
}
