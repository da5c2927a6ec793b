import { BanditError } from '../core/errors.js';
import { decisionOf, type Policy, type PolicyDecision } from '../eval/policy.js';
import { newItemShare, type NewItemShare } from './fair-share.js';
import { LogRecorder, type PolicyLog } from './logging.js';
import type { EcommerceSimulator, SimBatch } from './simulator.js';

/** Options of `runHeadToHead`. */
export interface HeadToHeadOptions {
  /** Users arriving at once (rows a select / update). Default 25. */
  readonly batchSize?: number;
  /** Steps a window for the click-through and regret-rate curves and the recovery measure. Default ⌈steps/30⌉, at least 50. */
  readonly window?: number;
  /** Relative tolerance of the recovery measure (see `recoveryTime`). Default 0.2. */
  readonly recoveryTolerance?: number;
  /** Absolute tolerance of the recovery measure, in regret per step. Default 0.01. */
  readonly recoveryFloor?: number;
  /** Called after each round with rounds done and rounds in all; may return a promise (awaited, e.g. to let a page paint). */
  readonly onProgress?: (done: number, total: number) => void | Promise<void>;
  /**
   * Called after each round with every policy's running figures (for live charts); may return a
   * promise (awaited). Called before `onProgress` of the same round.
   */
  readonly onRound?: (snapshot: RoundSnapshot) => void | Promise<void>;
  /** Stops the run between rounds (rejects with the signal's reason). */
  readonly signal?: AbortSignal;
  /**
   * Log every policy's decisions (`HeadToHeadResult.logs`): each decides through its `decide`
   * (the propensity it reports is logged; see `loggedPropensity`) instead of `select`, which for a
   * Thompson model costs its M propensity draws a row. A policy without `decide` is logged as
   * deterministic (propensity 1). Default false.
   */
  readonly log?: boolean;
  /**
   * Clicks arrive late: the click of step t reaches the policies `sim.clickDelay(t, rewardDelay)`
   * rounds after the round it was shown in (geometric, this mean, in rounds), every policy's alike.
   * Each policy decides through its `decide`, and the rewards that arrive in a round are given,
   * after that round's decisions, in the order they arrived (by arrival step t + delay·batchSize,
   * then by step: out of the order they were decided in), through the policy's `reward` with the
   * decisions' event ids, the decisions waiting in the model meanwhile (a policy without `reward`
   * gets them through `update`, with a batch of the rewarded steps). The clicks still on their
   * way when the stream ends are given after its last round, in arrival order, so every decision
   * is rewarded exactly once (the regret is the decisions', so this only changes the final
   * models). With 0 every click arrives in its own round, in step order: the same updates as
   * without the option. Default (or null): no delay, `select` and `update`.
   */
  readonly rewardDelay?: number | null;
  /** Relative tolerance of the new items' fair share test (see `newItemShare`). Default 0.2. */
  readonly fairShareTolerance?: number;
}

/** Every policy's running figures after a round of a head-to-head run (see `HeadToHeadOptions.onRound`). */
export interface RoundSnapshot {
  /** Rounds done (1-based index of the round just finished) and rounds in all. */
  readonly round: number;
  readonly rounds: number;
  /** Steps done, and steps in the round just finished (its first step is stepsDone − roundSteps). */
  readonly stepsDone: number;
  readonly roundSteps: number;
  /** The simulator's shock step now (it may move during a run: `EcommerceSimulator.triggerShock`). */
  readonly shockStep: number | null;
  readonly policies: readonly {
    readonly name: string;
    /** Regret summed over the steps done. */
    readonly cumulativeRegret: number;
    /** Clicks over the steps done, and in the round just finished. */
    readonly clicks: number;
    readonly roundClicks: number;
    /** Regret in the round just finished. */
    readonly roundRegret: number;
  }[];
}

/** One policy's results of a head-to-head run. Regret is expected regret p(best) − p(chosen). */
export interface PolicyMetrics {
  readonly name: string;
  /** Cumulative regret after each round (aligned with `HeadToHeadResult.roundEnds`). */
  readonly cumulativeRegret: Float64Array;
  /** Regret of each step. */
  readonly stepRegret: Float64Array;
  readonly totalRegret: number;
  /** Clicks over the run (drawn with the shared click randomness). */
  readonly clicks: number;
  /** clicks / steps. */
  readonly ctr: number;
  /** Click-through over the steps before the shock (all steps without one) and from the shock on (NaN over no steps). */
  readonly ctrBeforeShock: number;
  readonly ctrAfterShock: number;
  /** Mean click probability of the items shown (the click rate without the luck of the draws). */
  readonly expectedCtr: number;
  /** Click-through of each window of `window` steps (the last one may be shorter). */
  readonly windowCtr: Float64Array;
  /** Mean regret a step of each window. */
  readonly windowRegret: Float64Array;
  /** Regret summed over the steps before the shock (all steps without a shock) and from the shock on. */
  readonly regretBeforeShock: number;
  readonly regretAfterShock: number;
  /** The same as means a step (NaN over no steps). */
  readonly regretRateBeforeShock: number;
  readonly regretRateAfterShock: number;
  /** Mean regret a step over the `window` steps just before the shock: the level recovery is measured against. */
  readonly preShockRate: number;
  /** Steps after the shock until recovery (see `recoveryTime`); null if it did not recover within the run, or no shock. */
  readonly recoverySteps: number | null;
  /** Milliseconds spent in the policy's select and update calls (decide, reward and addArms count as them). */
  readonly selectMs: number;
  readonly updateMs: number;
  /** The item shown at each step. */
  readonly shown: Int32Array;
  /** The new collection's share of this policy's impressions after it arrived (see `newItemShare`); null without one in the run. */
  readonly newItems: NewItemShare | null;
  /** Rewards given to the policy (every step once, with or without a delay). */
  readonly rewardsDelivered: number;
}

/** What `runHeadToHead` returns. */
export interface HeadToHeadResult {
  readonly steps: number;
  readonly batchSize: number;
  readonly rounds: number;
  readonly window: number;
  /** The step the shock came at (read from the simulator after the run, so a triggered shock counts); null without one. */
  readonly shockStep: number | null;
  /** Steps done at the end of each round. */
  readonly roundEnds: Int32Array;
  readonly policies: PolicyMetrics[];
  /** Wall clock of the whole run. */
  readonly elapsedMs: number;
  /** Each policy's log, in the order of `policies`, with the `log` option (absent without). */
  readonly logs?: readonly PolicyLog[];
  /** The best showable item of each step (what the oracle shows; the fair share's reference). */
  readonly optimal: Int32Array;
  /** The rounds before which the catalogue grew, and by how many items (every policy's addArms). */
  readonly catalogueEvents: readonly { readonly round: number; readonly step: number; readonly added: number }[];
  /** The mean click delay in rounds, or null (no delay). */
  readonly rewardDelay: number | null;
}

const now = (): number => globalThis.performance?.now() ?? Date.now();

/**
 * Recovery time after a shock: the pre-shock level L is the mean regret a step over the `window`
 * steps just before `shockStep` (fewer if the shock comes earlier). After the shock, at every
 * step t ≥ shockStep + window − 1, the trailing mean regret over steps t−window+1..t (all of them
 * after the shock) is compared with L·(1 + tolerance) + floor; the recovery time is t + 1 −
 * shockStep at the first t where it is not above, so it is at least `window` (a full window must
 * be seen after the shock). null if that never happens within the steps given, or no shock.
 * The floor keeps a policy whose pre-shock regret is ~0 (the oracle) from needing exactly 0.
 *
 * @example
 * recoveryTime(stepRegret, 3000, 200, 0.2, 0.01);   // e.g. 1400: back near its old level 1400 steps after the shock
 */
export function recoveryTime(
  stepRegret: ArrayLike<number>, shockStep: number | null, window: number, tolerance: number, floor: number,
): { preShockRate: number; recoverySteps: number | null } {
  if (shockStep === null || shockStep <= 0 || shockStep >= stepRegret.length) return { preShockRate: NaN, recoverySteps: null };
  const from = Math.max(0, shockStep - window);
  let pre = 0;
  for (let t = from; t < shockStep; t++) pre += stepRegret[t]!;
  const preShockRate = pre / (shockStep - from);
  const threshold = preShockRate * (1 + tolerance) + floor;
  let sum = 0;
  for (let t = shockStep; t < stepRegret.length; t++) {
    sum += stepRegret[t]!;
    if (t - window >= shockStep) sum -= stepRegret[t - window]!;
    // A small slack for the running sum's rounding (it adds and removes the same values).
    if (t + 1 - shockStep >= window && sum / window <= threshold + 1e-12) return { preShockRate, recoverySteps: t + 1 - shockStep };
  }
  return { preShockRate, recoverySteps: null };
}

function positiveIntOption(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new BanditError(`runHeadToHead: option ${name} must be a positive integer, got ${String(v)}`);
  return v;
}

function nonNegativeOption(name: string, v: unknown, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new BanditError(`runHeadToHead: option ${name} must be a finite number ≥ 0, got ${String(v)}`);
  return v;
}

/**
 * Runs every policy on the same stream of the simulator: round after round, B users arrive (the
 * same users for every policy), each policy selects an item per user, the clicks are drawn from
 * the shared click randomness (the same item at the same step clicks for every policy alike),
 * and each policy learns from its own clicks. Policies take their turn within a round, so a slow
 * one does not change what another sees. The policies are not disposed.
 *
 * A catalogue that changes (the simulator's `newCollection` and `stockOuts`): before the round in
 * which new items arrive, every policy's `addArms(count)` is called (a policy without it reads
 * the items from the batches); every batch carries its rows' `eligible` items, and a policy that
 * chooses another is a BanditError. Regret is against the best eligible item, and each policy's
 * `newItems` is the new collection's share of its impressions against the oracle's (`newItemShare`).
 * Late clicks: see `HeadToHeadOptions.rewardDelay`.
 *
 * The default scenario (the simulator's defaults: 6000 steps, 50 items, 500 users, shock at step
 * 3000; batchSize 25, so 240 rounds) with `standardPolicies` (random, oracle, LinUCB, hybrid
 * LinUCB, discounted LinUCB) took 9.6 s on webgpu over SwiftShader on 2 otherwise idle CPU cores
 * (37 s with the cores shared with 5 other busy processes; the hybrid model is 70% of it), and
 * 3.2 s on the cpu backend.
 *
 * @example
 * const sim = new EcommerceSimulator({ seed: 1 });
 * const policies = await standardPolicies(backend, sim.shape);
 * const result = await runHeadToHead(sim, policies, { onProgress: (done, total) => console.log(done, '/', total) });
 * for (const p of result.policies) console.log(p.name, p.totalRegret.toFixed(1), p.recoverySteps);
 * for (const p of policies) p.dispose();
 */
export async function runHeadToHead(sim: EcommerceSimulator, policies: readonly Policy[], options: HeadToHeadOptions = {}): Promise<HeadToHeadResult> {
  if (!sim || typeof sim.batch !== 'function') throw new BanditError('runHeadToHead: an EcommerceSimulator is required');
  if (!Array.isArray(policies) || policies.length === 0) throw new BanditError('runHeadToHead: at least one policy is required');
  for (const [i, p] of policies.entries()) {
    if (!p || typeof p.select !== 'function' || typeof p.update !== 'function') throw new BanditError(`runHeadToHead: policies[${i}] is not a Policy ({ name, select, update, dispose })`);
  }
  const steps = sim.steps;
  const batchSize = positiveIntOption('batchSize', options.batchSize, 25);
  const window = positiveIntOption('window', options.window, Math.max(50, Math.ceil(steps / 30)));
  const tolerance = nonNegativeOption('recoveryTolerance', options.recoveryTolerance, 0.2);
  const floor = nonNegativeOption('recoveryFloor', options.recoveryFloor, 0.01);
  const rounds = Math.ceil(steps / batchSize);
  if (options.log !== undefined && typeof options.log !== 'boolean') throw new BanditError(`runHeadToHead: option log must be a boolean, got ${String(options.log)}`);
  const logging = options.log ?? false;
  const delay = options.rewardDelay ?? null;
  if (delay !== null && !(typeof delay === 'number' && Number.isFinite(delay) && delay >= 0)) {
    throw new BanditError(`runHeadToHead: option rewardDelay must be a finite number ≥ 0 (mean rounds) or null, got ${String(delay)}`);
  }
  const fairTolerance = nonNegativeOption('fairShareTolerance', options.fairShareTolerance, 0.2);

  const started = now();
  const state = policies.map((p) => ({
    policy: p,
    regret: new Float64Array(steps),
    clicked: new Uint8Array(steps),
    shownProbability: new Float64Array(steps),
    shown: new Int32Array(steps),
    cumulative: new Float64Array(rounds),
    total: 0,
    clicks: 0,
    roundClicks: 0,
    roundRegret: 0,
    selectMs: 0,
    updateMs: 0,
    delivered: 0,
    inFlight: new Map<number, LateReward[]>(),
    recorder: logging ? new LogRecorder(p.name, sim.allItemsShape, steps, sim.itemFeatures, sim.hybridItemFeatures) : null,
  }));
  type Slot = (typeof state)[number];
  const deliver = async (s: Slot, late: LateReward[] | undefined) => {
    if (!late || late.length === 0) return;
    late.sort((a, b) => a.arrival - b.arrival || a.step - b.step);
    const t0 = now();
    const rewards = Float32Array.from(late, (l) => l.reward);
    if (s.policy.reward && late[0]!.eventId !== null) {
      await s.policy.reward(late.map((l) => l.eventId!), rewards);
    } else {
      const rows = sim.batchOf(Int32Array.from(late, (l) => l.step));
      await s.policy.update(rows, Int32Array.from(late, (l) => l.arm), rewards);
    }
    s.updateMs += now() - t0;
    s.delivered += late.length;
  };
  const optimal = new Int32Array(steps);
  const roundEnds = new Int32Array(rounds);
  const catalogueEvents: { round: number; step: number; added: number }[] = [];
  let k = sim.shape.arms;
  for (let round = 0; round < rounds; round++) {
    options.signal?.throwIfAborted();
    const start = round * batchSize;
    const size = Math.min(batchSize, steps - start);
    const batch: SimBatch = sim.batch(start, size);
    optimal.set(batch.optimal, start);
    if (batch.shape.arms > k) {
      const added = batch.shape.arms - k;
      for (const s of state) {
        const t0 = now();
        await s.policy.addArms?.(added);
        s.updateMs += now() - t0;
      }
      catalogueEvents.push({ round, step: start, added });
      k = batch.shape.arms;
    }
    for (const s of state) {
      let t0 = now();
      const decision: PolicyDecision | null = s.recorder || delay !== null ? await decisionOf(s.policy, batch, 'runHeadToHead') : null;
      const chosen = decision ? decision.arms : await s.policy.select(batch);
      s.selectMs += now() - t0;
      checkChosen(s.policy.name, chosen, batch);
      const clicks = sim.clicks(batch, chosen);
      s.recorder?.record(batch, start, decision!, clicks);
      const regret = sim.regret(batch, chosen);
      s.roundClicks = 0;
      s.roundRegret = 0;
      for (let i = 0; i < size; i++) {
        s.regret[start + i] = regret[i]!;
        s.clicked[start + i] = clicks[i]!;
        s.shown[start + i] = chosen[i]!;
        s.shownProbability[start + i] = batch.clickProbabilities[i * k + chosen[i]!]!;
        s.total += regret[i]!;
        s.roundClicks += clicks[i]!;
        s.roundRegret += regret[i]!;
      }
      s.clicks += s.roundClicks;
      s.cumulative[round] = s.total;
      if (delay === null) {
        t0 = now();
        await s.policy.update(batch, chosen, clicks);
        s.updateMs += now() - t0;
        s.delivered += size;
        continue;
      }
      const ids = decision!.eventIds;
      if (s.policy.reward && (!ids || ids.length !== size)) {
        throw new BanditError(`runHeadToHead: policy ${s.policy.name} has reward, so its decide must return ${size} eventIds`);
      }
      for (let i = 0; i < size; i++) {
        const t = start + i, d = sim.clickDelay(t, delay);
        const late = { step: t, arrival: t + d * batchSize, arm: chosen[i]!, reward: clicks[i]!, eventId: s.policy.reward ? ids![i]! : null };
        const due = round + d;
        const bucket = s.inFlight.get(due);
        if (bucket) bucket.push(late);
        else s.inFlight.set(due, [late]);
      }
      await deliver(s, s.inFlight.get(round));
      s.inFlight.delete(round);
    }
    roundEnds[round] = start + size;
    await options.onRound?.({
      round: round + 1, rounds, stepsDone: start + size, roundSteps: size, shockStep: sim.shockStep,
      policies: state.map((s) => ({
        name: s.policy.name, cumulativeRegret: s.total, clicks: s.clicks, roundClicks: s.roundClicks, roundRegret: s.roundRegret,
      })),
    });
    await options.onProgress?.(round + 1, rounds);
  }
  // The tail: clicks still on their way when the stream ends, in the order they arrive.
  for (const s of state) {
    const due = [...s.inFlight.keys()].sort((a, b) => a - b);
    await deliver(s, due.flatMap((r) => s.inFlight.get(r)!));
    s.inFlight.clear();
    if (s.delivered !== steps) throw new BanditError(`runHeadToHead: policy ${s.policy.name} got ${s.delivered} rewards for ${steps} steps`);
  }

  // Read after the run: a shock triggered during it (EcommerceSimulator.triggerShock) counts.
  const shockStep = sim.shockStep !== null && sim.shockStep < steps ? sim.shockStep : null;

  const collection = sim.newCollectionStep !== null && sim.newCollectionStep < steps ? sim.newCollectionStep : null;
  const windows = Math.ceil(steps / window);
  const split = shockStep ?? steps;
  const metrics = state.map((s): PolicyMetrics => {
    const windowCtr = new Float64Array(windows), windowRegret = new Float64Array(windows);
    let clicks = 0, expected = 0, before = 0, clicksBefore = 0;
    for (let t = 0; t < steps; t++) {
      const w = Math.floor(t / window);
      windowCtr[w]! += s.clicked[t]!;
      windowRegret[w]! += s.regret[t]!;
      clicks += s.clicked[t]!;
      expected += s.shownProbability[t]!;
      if (t < split) {
        before += s.regret[t]!;
        clicksBefore += s.clicked[t]!;
      }
    }
    for (let w = 0; w < windows; w++) {
      const n = Math.min(window, steps - w * window);
      windowCtr[w]! /= n;
      windowRegret[w]! /= n;
    }
    const after = s.total - before;
    const { preShockRate, recoverySteps } = recoveryTime(s.regret, shockStep, window, tolerance, floor);
    const newItems = collection === null ? null
      : newItemShare(s.shown, optimal, { firstNewItem: sim.shape.arms, from: collection, window, tolerance: fairTolerance, batchSize });
    return {
      name: s.policy.name,
      cumulativeRegret: s.cumulative,
      stepRegret: s.regret,
      totalRegret: s.total,
      clicks,
      ctr: clicks / steps,
      ctrBeforeShock: split > 0 ? clicksBefore / split : NaN,
      ctrAfterShock: steps > split ? (clicks - clicksBefore) / (steps - split) : NaN,
      expectedCtr: expected / steps,
      windowCtr,
      windowRegret,
      regretBeforeShock: before,
      regretAfterShock: after,
      regretRateBeforeShock: split > 0 ? before / split : NaN,
      regretRateAfterShock: steps > split ? after / (steps - split) : NaN,
      preShockRate,
      recoverySteps,
      selectMs: s.selectMs,
      updateMs: s.updateMs,
      shown: s.shown,
      newItems,
      rewardsDelivered: s.delivered,
    };
  });
  return {
    steps, batchSize, rounds, window, shockStep, roundEnds, policies: metrics, elapsedMs: now() - started, optimal, catalogueEvents, rewardDelay: delay,
    ...(logging ? { logs: state.map((s) => s.recorder!.finish()) } : {}),
  };
}

/**
 * One policy on the simulator's stream, every decision logged through its `decide`: the log (with
 * the propensities the policy reported) and the policy's online figures on the same steps — what
 * an off-policy evaluation from the log is checked against. The policy is not disposed.
 *
 * @example
 * const logger = await linUCBPolicy(backend, sim.shape, { exploration: { kind: 'epsilon-greedy', epsilon: 0.1 }, seed: 1 });
 * const { log, metrics } = await logPolicy(sim, logger);
 * console.log(log.log.propensities[0], metrics.expectedCtr);
 */
export async function logPolicy(
  sim: EcommerceSimulator, policy: Policy, options: Omit<HeadToHeadOptions, 'log'> = {},
): Promise<{ log: PolicyLog; metrics: PolicyMetrics }> {
  const result = await runHeadToHead(sim, [policy], { ...options, log: true });
  return { log: result.logs![0]!, metrics: result.policies[0]! };
}

/** A click on its way to a policy: the step it was shown at, when it arrives, and what to give. */
interface LateReward {
  readonly step: number;
  /** t + delay·batchSize: the order rewards arrive in (ties by step). */
  readonly arrival: number;
  readonly arm: number;
  readonly reward: number;
  readonly eventId: string | null;
}

function checkChosen(name: string, chosen: unknown, batch: SimBatch): asserts chosen is Int32Array {
  const size = batch.size, arms = batch.shape.arms, e = batch.eligible;
  if (!(chosen instanceof Int32Array) || chosen.length !== size) {
    throw new BanditError(`runHeadToHead: policy ${name}.select must return an Int32Array of ${size} items`);
  }
  for (let i = 0; i < size; i++) {
    if (!(chosen[i]! >= 0 && chosen[i]! < arms)) throw new BanditError(`runHeadToHead: policy ${name} chose item ${chosen[i]} (row ${i}), out of range 0..${arms - 1}`);
    if (e && !e[i * arms + chosen[i]!]) {
      throw new BanditError(`runHeadToHead: policy ${name} chose item ${chosen[i]} at step ${batch.steps[i]}, which cannot be shown there (out of stock or not in the catalogue yet)`);
    }
  }
}
