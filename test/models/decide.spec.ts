import { expect } from 'chai';
import type { Backend, Exploration } from '../../src/index.js';
import { parseEventId } from '../../src/models/exploration.js';
import { decodeModel } from '../../src/models/persist.js';
import { sampleArms, type SamplingPolicy } from '../../src/ops/index.js';
import { F32_EPS } from '../support/compare.js';
import { PROPENSITY_ABS, deviationSigmas, propensityRelBound, slotDistribution } from '../support/explore.js';
import { backends, describeBackends } from '../support/fixture.js';
import { rng } from '../support/random.js';
import { EXPLORING, makeModel, rejects, rowsDiffering, type Kind } from './drive.js';

const POLICIES: readonly Exploration[] = [
  { kind: 'epsilon-greedy', epsilon: 0.3 }, { kind: 'softmax', temperature: 0.2 }, { kind: 'squarecb', gamma: 20 },
];
const describe_ = (e: Exploration): string => `${e.kind} ${Object.values(e)[1]}`;
const bothBackends = (): Backend[] => [backends().cpu, backends().gpu];

/** How much one propensity moves per unit of score error (softmax 1/T, SquareCB γ; ε-greedy only through the argmax). */
function sensitivity(policy: SamplingPolicy): number {
  return policy.kind === 'softmax' ? 1 / policy.temperature : policy.kind === 'squarecb' ? policy.gamma : 0;
}

/** The largest |logit| above the floor of a softmax row, for propensityRelBound. */
function maxLogit(policy: SamplingPolicy, s: ArrayLike<number>): number {
  if (policy.kind !== 'softmax') return 0;
  const m = Math.max(...Array.from(s));
  return Math.min(87, Math.max(...Array.from(s, (v) => (m - v) / policy.temperature)));
}

/**
 * How far the scores a test reads back may lie from those the model sampled over: the cpu
 * backend's float64 scores come back rounded to f32 (|s|·2⁻²⁴); EmbeddingMLP's logits are
 * recovered from f32 click probabilities, log p − log(1 − p), each p within 2⁻²⁴ relative of
 * σ(f): |Δf| ≤ 2⁻²⁴/(1 − p) + 2⁻²⁴ (the rounding of 1 − p) — bounded here by 2·2⁻²⁴/min(p, 1 − p).
 */
function scoreError(kind: Kind, backend: Backend, s: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < s.length; i++) {
    const v = s[i]!;
    if (kind === 'EmbeddingMLP') {
      const p = 1 / (1 + Math.exp(-v));
      worst = Math.max(worst, (2 * F32_EPS) / Math.min(p, 1 - p) + Math.abs(v) * F32_EPS);
    } else if (backend.kind === 'cpu') worst = Math.max(worst, Math.abs(v) * F32_EPS);
  }
  return worst;
}

/**
 * Each slot's propensity against the definition on the read-back scores, given the decision's own
 * earlier slots: within the f32 sampler's bound (propensityRelBound; for the float64 sampler, the
 * one f32 rounding of the Float32Array it comes back in) plus 2·Δ·sensitivity for a score error Δ
 * (a probability moves by at most that per unit of every score).
 */
function expectDefinition(d: { arms: Int32Array; propensities: Float32Array }, s: Float64Array, K: number, k: number,
  policy: SamplingPolicy, f32: boolean, delta: number, mask: Uint8Array | undefined, what: string): void {
  const rows = s.length / K;
  for (let r = 0; r < rows; r++) {
    const row = s.subarray(r * K, (r + 1) * K);
    const chosen = new Set<number>();
    const eligible = (a: number) => !mask || mask[mask.length === K ? a : r * K + a] === 1;
    for (let j = 0; j < k; j++) {
      const a = d.arms[r * k + j]!, p = d.propensities[r * k + j]!;
      const dist = slotDistribution(row, (b) => eligible(b) && !chosen.has(b), policy);
      const rel = f32 ? propensityRelBound(policy, K, maxLogit(policy, row)) : F32_EPS;
      const allowed = PROPENSITY_ABS + rel * dist[a]! + 2 * delta * sensitivity(policy);
      expect(dist[a]!, `${what} row ${r} slot ${j}: arm ${a} has probability 0`).to.be.greaterThan(0);
      if (!(Math.abs(p - dist[a]!) <= allowed)) expect.fail(`${what} row ${r} slot ${j}: arm ${a} propensity ${p}, definition ${dist[a]} (±${allowed.toExponential(2)})`);
      chosen.add(a);
    }
  }
}

describeBackends('decide on every model', function () {
  this.timeout(600_000);

  for (const kind of EXPLORING) {
    it(`${kind}: without exploration, decide is the UCB argmax with propensity 1 (= select), event ids one a decision, numbered by step`, async () => {
      for (const backend of bothBackends()) {
        const model = await makeModel(kind, backend, null, 5);
        const before = decodeModel(await model.save(), kind, [1]);
        expect(before.meta, 'a deterministic model that never decided saves no stream').to.not.have.nested.property('counters.decisions');
        const c = model.contexts(30, 1);
        const scores = await model.scores(c);
        const selected = await model.select(c);
        const d = await model.decide(c);
        expect(Array.from(d.arms), `${kind} ${backend.kind}`).to.deep.equal(Array.from(selected));
        for (let r = 0; r < 30; r++) {
          const row = Array.from(scores.subarray(r * model.arms, (r + 1) * model.arms));
          expect(d.arms[r], `row ${r}: argmax, lowest on ties`).to.equal(row.indexOf(Math.max(...row)));
        }
        expect(Array.from(d.propensities)).to.deep.equal(new Array(30).fill(1));
        const slate = await model.decide(c, { k: 3 });
        expect(slate.arms).to.have.length(90);
        expect(Array.from(slate.propensities)).to.deep.equal(new Array(90).fill(1));
        const ids = [...d.eventIds, ...slate.eventIds];
        expect(new Set(ids).size, 'unique').to.equal(120);
        const modelId = d.eventIds[0]!.split('-')[0]!;
        expect(parseEventId(modelId, d.eventIds[29])).to.deep.equal({ step: 0, row: 29 });
        expect(parseEventId(modelId, slate.eventIds[89])).to.deep.equal({ step: 1, row: 89 });
        // Having issued event ids, the model saves its stream and id, and a loaded copy goes on with them.
        const again = await model.load(backend, await model.save());
        expect((await again.decide(c)).eventIds).to.deep.equal((await model.decide(c)).eventIds);
        for (const m of [model, again]) m.dispose();
      }
    });

    for (const policy of POLICIES) {
      it(`${kind} ${describe_(policy)}: decide's propensities are the op's for the model's scores (k = 2 under a mask; webgpu: the op's very arms)`, async () => {
        const mask = Uint8Array.from([1, 1, 0, 1, 1]);
        for (const backend of bothBackends()) {
          const model = await makeModel(kind, backend, policy, 11);
          const c = model.contexts(60, 2);
          const s = await model.scores(c);
          const d = await model.decide(c, { k: 2, eligible: mask });
          expect(d.arms).to.have.length(120);
          expect(d.eventIds).to.have.length(120);
          expect(d.propensityDraws).to.equal(undefined);
          const what = `${kind} ${describe_(policy)} ${backend.kind}`;
          expectDefinition(d, s, model.arms, 2, policy, backend.kind !== 'cpu', scoreError(kind, backend, s), mask, what);
          if (backend.kind !== 'cpu' && kind !== 'EmbeddingMLP') {
            // The model's own f32 scores through the op, keyed by the model's seed and step 0.
            const t = backend.tensor(Float32Array.from(s), [60, model.arms]), e = backend.tensor(mask, [model.arms], { dtype: 'i32' });
            const op = sampleArms(backend, t, { policy, key: { seed: 11, step: 0 }, k: 2, eligible: e });
            expect(Array.from(d.arms), `${what}: arms`).to.deep.equal(Array.from(await backend.read(op.arms)));
            expect(Array.from(d.propensities), `${what}: propensities`).to.deep.equal(Array.from(await backend.read(op.propensities)));
            for (const x of [t, e, op.arms, op.propensities, op.status]) x.dispose();
          }
          model.dispose();
        }
      });

      it(`${kind} ${describe_(policy)}: calibration — over 10⁴ decisions of one context each arm is chosen within 4σ of its propensity`, async () => {
        const rows = 10_000;
        for (const backend of bothBackends()) {
          const model = await makeModel(kind, backend, policy, 21);
          const d = await model.decide(model.contexts(rows, 3, true));
          const what = `${kind} ${describe_(policy)} ${backend.kind}`;
          const hits = new Array(model.arms).fill(0), reported: (number | null)[] = new Array(model.arms).fill(null);
          for (let r = 0; r < rows; r++) {
            const a = d.arms[r]!, p = d.propensities[r]!;
            hits[a]++;
            if (reported[a] === null) reported[a] = p;
            else expect(p, `${what}: one context, one propensity an arm`).to.equal(reported[a]);
          }
          let total = 0;
          for (let a = 0; a < model.arms; a++) {
            if (reported[a] === null) continue;
            total += reported[a]!;
            expect(deviationSigmas(hits[a], rows, reported[a]!), `${what}: arm ${a} ${hits[a]}/${rows} vs ${reported[a]}`).to.be.at.most(4);
          }
          // The arms never chosen carry (almost) no probability: those chosen add up to 1.
          expect(total, `${what}: chosen arms' propensities`).to.be.closeTo(1, 4 / Math.sqrt(rows));
          // The check can fail: the most frequent arm's propensity claimed 10% higher.
          const top = hits.indexOf(Math.max(...hits));
          if (reported[top]! < 0.9) expect(deviationSigmas(hits[top], rows, reported[top]! * 1.1)).to.be.greaterThan(4);
          model.dispose();
        }
      });
    }

    it(`${kind} softmax: the same seed gives the same decisions on cpu and webgpu, up to where their scores' distributions differ`, async () => {
      const policy: Exploration = { kind: 'softmax', temperature: 0.2 }, rows = 2000;
      const [c, g] = await Promise.all(bothBackends().map((b) => makeModel(kind, b, policy, 31)));
      const x = c!.contexts(rows, 4);
      const [sc, sg] = [await c!.scores(x), await g!.scores(x)];
      const [dc, dg] = [await c!.decide(x), await g!.decide(x)];
      // Row r's decisions can differ only where its uniform falls between the two CDFs of the arms
      // (in order): Σ_a |C_cpu(a) − C_gpu(a)|, plus each CDF's own error (the f32 sampler's bound,
      // the uniforms' 2⁻²⁴ grid, and the scores read back against those sampled).
      const K = c!.arms;
      let expected = 0;
      for (let r = 0; r < rows; r++) {
        const [rc, rg] = [sc.subarray(r * K, (r + 1) * K), sg.subarray(r * K, (r + 1) * K)];
        const [pc, pg] = [slotDistribution(rc, () => true, policy), slotDistribution(rg, () => true, policy)];
        const slack = 2 * propensityRelBound(policy, K, maxLogit(policy, rg)) + F32_EPS
          + 2 * sensitivity(policy) * (scoreError(kind, backends().cpu, rc) + scoreError(kind, backends().gpu, rg));
        let cc = 0, cg = 0;
        for (let a = 0; a < K; a++) {
          cc += pc[a]!;
          cg += pg[a]!;
          expected += Math.abs(cc - cg) + slack;
        }
      }
      const differing = rowsDiffering(dc.arms, dg.arms, 1);
      const bound = Math.ceil(expected + 4 * Math.sqrt(expected));
      console.log(`      ${kind}: ${differing} of ${rows} decisions differ between cpu and webgpu (bound ${bound})`);
      expect(differing).to.be.at.most(bound);
      expect(dc.eventIds.map((id) => id.split('-').slice(1).join('-'))).to.deep.equal(dg.eventIds.map((id) => id.split('-').slice(1).join('-')));
      c!.dispose();
      g!.dispose();
    });

    it(`${kind} SquareCB: save/load continues the random stream exactly (decisions after load = decisions without the save)`, async () => {
      for (const backend of bothBackends()) {
        const model = await makeModel(kind, backend, { kind: 'squarecb', gamma: 20 }, 41);
        const x = model.contexts(200, 5);
        await model.decide(x);
        await model.select(x);
        const bytes = await model.save();
        const loaded = await model.load(backend, bytes);
        for (let call = 0; call < 2; call++) {
          const [a, b] = [await model.decide(x, { k: 2 }), await loaded.decide(x, { k: 2 })];
          expect(Array.from(b.arms), `${kind} ${backend.kind} call ${call}: arms`).to.deep.equal(Array.from(a.arms));
          expect(Array.from(b.propensities), 'propensities').to.deep.equal(Array.from(a.propensities));
          expect(b.eventIds, 'event ids').to.deep.equal(a.eventIds);
        }
        expect(Array.from(await loaded.select(x))).to.deep.equal(Array.from(await model.select(x)));
        // Steps so far: decide, select (a draw), two decides, a select: the next decide is step 5 on both.
        const [next, nextLoaded] = [await model.decide(x), await loaded.decide(x)];
        expect(nextLoaded.eventIds).to.deep.equal(next.eventIds);
        expect(parseEventId(next.eventIds[0]!.split('-')[0]!, nextLoaded.eventIds[0])).to.deep.equal({ step: 5, row: 0 });
        model.dispose();
        loaded.dispose();
      }
    });

    it(`${kind}: eligibility — ineligible arms never chosen over 10⁴ decisions, all-but-one, and none is a BanditError with the state unchanged`, async () => {
      const rows = 10_000;
      for (const backend of bothBackends()) {
        const model = await makeModel(kind, backend, { kind: 'epsilon-greedy', epsilon: 1 }, 51);
        const K = model.arms, r = rng(9);
        const mask = Uint8Array.from({ length: rows * K }, () => (r() < 0.4 ? 1 : 0));
        for (let row = 0; row < rows; row++) if (mask.subarray(row * K, (row + 1) * K).every((v) => v === 0)) mask[row * K + (row % K)] = 1;
        for (const row of [17, 9000]) mask.fill(0, row * K, (row + 1) * K).set([1], row * K + 3);
        const x = model.contexts(rows, 6);
        const d = await model.decide(x, { eligible: mask });
        let ineligible = 0;
        for (let row = 0; row < rows; row++) {
          const a = d.arms[row]!;
          if (mask[row * K + a] !== 1) ineligible++;
          // ε = 1: uniform over the row's eligible arms.
          const n = mask.subarray(row * K, (row + 1) * K).reduce((s, v) => s + v, 0);
          expect(d.propensities[row], `row ${row}`).to.be.closeTo(1 / n, 1e-7);
        }
        expect(ineligible, `${kind} ${backend.kind}: ineligible arms chosen`).to.equal(0);
        for (const row of [17, 9000]) expect([d.arms[row], d.propensities[row]]).to.deep.equal([3, 1]);
        const chosen = await model.select(x, { eligible: mask });
        for (let row = 0; row < rows; row++) expect(mask[row * K + chosen[row]!], `select row ${row}`).to.equal(1);
        // A row with no eligible arm: refused before any work, the stream included.
        const small = model.contexts(40, 7), before = await model.save();
        const none = Uint8Array.from({ length: 40 * K }, () => 1).fill(0, 33 * K, 34 * K);
        await rejects(model.decide(small, { eligible: none }), /decide: row 33 has 0 eligible arm\(s\), none to choose from; nothing was applied/, kind);
        await rejects(model.select(small, { eligible: none }), /select: row 33 has 0 eligible arm\(s\)/, kind);
        await rejects(model.decide(small, { eligible: Uint8Array.from([0, 0, 0, 1, 0]), k: 2 }), /every row has 1 eligible arm\(s\), fewer than k = 2/, kind);
        expect(Array.from(await model.save()), `${kind} ${backend.kind}: state after refused calls`).to.deep.equal(Array.from(before));
        model.dispose();
      }
    });

    it(`${kind}: bad exploration and decide options are BanditErrors, the saved bytes unchanged`, async () => {
      const bad: [unknown, RegExp][] = [
        [{ kind: 'epsilon-greedy', epsilon: 1.5 }, /option exploration.epsilon must be a number in \[0, 1\]/],
        [{ kind: 'epsilon-greedy', epsilon: -0.1 }, /exploration.epsilon/],
        [{ kind: 'softmax', temperature: 0 }, /exploration.temperature must be a number in \[1e-30, 1e\+30\] \(> 0\), got 0/],
        [{ kind: 'softmax', temperature: -1 }, /exploration.temperature/],
        [{ kind: 'squarecb', gamma: 0 }, /exploration.gamma/],
        [{ kind: 'thompson' }, /exploration.kind must be/],
      ];
      for (const backend of bothBackends()) {
        for (const [exploration, message] of bad) await rejects(makeModel(kind, backend, exploration as Exploration, 1), message, `${kind} create`);
        const model = await makeModel(kind, backend, { kind: 'epsilon-greedy', epsilon: 0.1 }, 61);
        const x = model.contexts(4, 8);
        await model.decide(x);
        const before = await model.save();
        const K = model.arms;
        const calls: [string, () => Promise<unknown>, RegExp][] = [
          ['k > arms', () => model.decide(x, { k: K + 1 }), new RegExp(`k = ${K + 1} is more than the ${K} arms`)],
          ['k > eligible arms', () => model.decide(x, { k: 3, eligible: Uint8Array.from([1, 0, 1, 0, 0]) }), /every row has 2 eligible arm\(s\), fewer than k = 3/],
          ['k = 0', () => model.decide(x, { k: 0 }), /k must be a positive integer, got 0/],
          ['k = 1.5', () => model.decide(x, { k: 1.5 }), /k must be a positive integer, got 1.5/],
          ['k a string', () => model.decide(x, { k: '2' as unknown as number }), /k must be a positive integer/],
          ['mask length', () => model.decide(x, { eligible: new Uint8Array(K + 1) }), new RegExp(`eligible has ${K + 1} values; expected ${K} \\(every row\\) or 4×${K}`)],
          ['mask of 2', () => model.decide(x, { eligible: Uint8Array.from([1, 2, 1, 1, 1]) }), /eligible\[1\] = 2; entries must be 0 or 1/],
          ['mask not Uint8Array', () => model.decide(x, { eligible: [1, 1, 1, 1, 1] as unknown as Uint8Array }), /eligible must be a Uint8Array/],
          ['select mask length', () => model.select(x, { eligible: new Uint8Array(3) }), /select: eligible has 3 values/],
          ['options not an object', () => model.decide(x, 3 as unknown as object), /options must be an object/],
        ];
        for (const [what, call, message] of calls) await rejects(call(), message, `${kind} ${backend.kind} ${what}`);
        expect(Array.from(await model.save()), `${kind} ${backend.kind}: state after bad calls`).to.deep.equal(Array.from(before));
        model.dispose();
      }
    });
  }

  it('slates: k distinct arms a row up to k = K, each slot given the slots before it (LinUCB softmax, webgpu and cpu)', async () => {
    for (const backend of bothBackends()) {
      const model = await makeModel('LinUCB', backend, { kind: 'softmax', temperature: 0.5 }, 71);
      const x = model.contexts(50, 9), s = await model.scores(x);
      for (const k of [1, 3, 5]) {
        const d = await model.decide(x, { k });
        for (let r = 0; r < 50; r++) expect(new Set(d.arms.subarray(r * k, (r + 1) * k)).size, `row ${r}`).to.equal(k);
        expectDefinition(d, s, 5, k, { kind: 'softmax', temperature: 0.5 }, backend.kind !== 'cpu', scoreError('LinUCB', backend, s), undefined, `k = ${k}`);
        // The last slot of a full slate has one arm left: probability 1.
        if (k === 5) for (let r = 0; r < 50; r++) expect(d.propensities[r * 5 + 4]).to.equal(1);
      }
      model.dispose();
    }
  });

  it('LinUCB with an exploration samples the mean estimates θᵀx: scores() are the α = 0 scores', async () => {
    for (const backend of bothBackends()) {
      const explorer = await makeModel('LinUCB', backend, { kind: 'softmax', temperature: 1 }, 81, { alpha: 3 });
      const greedy = await makeModel('LinUCB', backend, null, 81, { alpha: 0 });
      const ucb = await makeModel('LinUCB', backend, null, 81, { alpha: 3 });
      const x = explorer.contexts(10, 10);
      const means = await explorer.scores(x);
      expect(Array.from(means)).to.deep.equal(Array.from(await greedy.scores(x)));
      expect(Array.from(means)).to.not.deep.equal(Array.from(await ucb.scores(x)));
      for (const m of [explorer, greedy, ucb]) m.dispose();
    }
  });
});

