import { BanditError } from '../core/errors.js';
import { sampleScores } from '../ops/explore.js';
import { DecisionStream, createModelId, decideRows, eventIds, type Exploration, type ThompsonScores } from './exploration.js';
import type { SavedModelReader } from './saved.js';
import type { DType, Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

// What every model's decide and select share: their options, checked on the host before any
// work; the model's seeded stream, advanced only by a call that succeeded; its event ids; and
// the saved form of all three.

/**
 * Options of a model's `decide`.
 *
 * @example
 * const d = await model.decide(contexts, { k: 3, eligible: inStock });   // inStock: Uint8Array of K
 */
export interface DecideOptions {
  /**
   * 0/1 per arm: K values (the same for every row) or B×K (a row each). Ineligible arms are
   * never chosen, and the propensities are over the eligible arms. Default: every arm.
   */
  readonly eligible?: Uint8Array;
  /** Slate size: k distinct arms a row, slot j given slots 0 … j−1 (default 1). */
  readonly k?: number;
}

/**
 * Options of a model's `select`.
 *
 * @example
 * const arms = await model.select(contexts, { eligible });
 */
export interface SelectOptions {
  /** As DecideOptions.eligible. */
  readonly eligible?: Uint8Array;
}

/**
 * One decide call's result. With B rows and slate size k, decision i (0 … B·k−1) is row
 * ⌊i/k⌋, slot i mod k: `arms[i]`, `propensities[i]` = P(slot's arm | the slots before it, this
 * row's context) — exactly what the sampler used (Thompson models: an estimate from
 * `propensityDraws` posterior draws) — and `eventIds[i]`, unique to this model and kept by
 * save/load, to log the decision under and later reward it by.
 *
 * @example
 * const { arms, propensities, eventIds } = await model.decide(contexts);
 * log.push(...eventIds.map((id, i) => ({ id, arm: arms[i], p: propensities[i] })));
 */
export interface Decision {
  readonly arms: Int32Array;
  readonly propensities: Float32Array;
  readonly eventIds: string[];
  /**
   * M, for a Thompson model's estimated propensities: each the mean over M fresh draws of the
   * other arms of P(the arm's own draw beats them) (Rao–Blackwellised: unbiased, standard error
   * ≤ 0.5/√M, and positive even for an arm whose probability is far below 1/M).
   */
  readonly propensityDraws?: number;
  /** The item id of each arm in `arms`, for a model created with `itemIds`. */
  readonly itemIds?: string[];
}

/** Decide options that passed the checks, for B rows of K arms. */
export interface CheckedDecide {
  readonly k: number;
  readonly eligible?: Uint8Array;
}

/** Checked options with the mask uploaded (before the scoring step: a write ends the open step). */
export interface StagedDecide {
  readonly k: number;
  /** i32 [K] or [B, K], a kept scratch tensor of the model. */
  readonly eligible?: Tensor;
}

/** What a decision call needs of its model: its backend, its kept scratch tensors and its argmax. */
export interface DecisionHost {
  readonly backend: Backend;
  scratch(key: string, shape: readonly number[], dtype?: DType): Tensor;
  argmaxRows(scores: Tensor): Promise<Int32Array>;
}

/** How a model decides. */
export interface DecisionsSetup {
  /** The exploration policy over the model's mean estimates; null: deterministic (UCB argmax). */
  readonly exploration: Exploration | null;
  /** The stream's seed (0 … 2³²−1). */
  readonly seed: number;
  /** The model samples by Thompson sampling (LinTS, NeuralTS): randomised without an exploration. */
  readonly thompson?: boolean;
}

const MODEL_ID = /^[A-Za-z0-9_]{1,64}$/;

/**
 * A model's decisions: the exploration, the seeded stream (seed, step) and the model id that
 * event ids carry. A randomised call (an exploration or Thompson) draws from step `step` and
 * moves the stream on; `decide` moves it on always (its event ids name the step); a refused call
 * leaves it as it was. Saved in the model's counters as `decisions: { seed, step, modelId }`
 * once it matters — the model is randomised or has issued event ids — so a deterministic model
 * that never decided saves exactly as before this existed (its seed and id affect nothing yet).
 *
 * @example
 * const decisions = new Decisions('LinUCB', { exploration, seed });
 * const staged = decisions.stage(host, decisions.check('LinUCB.decide', options, rows, arms, true), rows, arms);
 * const d = await decisions.decide(host, scoreStep(), staged, 'LinUCB.decide');
 */
export class Decisions {
  readonly exploration: Exploration | null;
  readonly thompson: boolean;
  private readonly model: string;
  private stream: DecisionStream;
  private modelId: string;

  constructor(model: string, setup: DecisionsSetup) {
    this.model = model;
    this.exploration = setup.exploration;
    this.thompson = setup.thompson ?? false;
    this.stream = new DecisionStream(setup.seed);
    this.modelId = createModelId();
  }

  /** The model id its event ids carry (`${id}-${step}-${index}`), kept by save/load. */
  get id(): string {
    return this.modelId;
  }

  /** Whether decisions are random draws (an exploration or Thompson sampling). */
  get randomised(): boolean {
    return this.thompson || this.exploration !== null;
  }

  /** The stream's seed and the step the next call draws from. */
  get key(): { readonly seed: number; readonly step: number } {
    return this.stream.key();
  }

  /**
   * Checks a decide (`slate`) or select call's options for `rows` rows of `cols` arms before any
   * work: an object or undefined; k an integer in 1 … cols; eligible a Uint8Array of cols or
   * rows×cols entries, each 0 or 1. `live` (cols 0/1 values; absent: every arm) marks the arms
   * that may be chosen at all (retired arms are 0): the mask returned is eligible ∧ live, and it
   * must leave every row at least k arms.
   */
  check(caller: string, options: unknown, rows: number, cols: number, slate: boolean, live?: Uint8Array | null): CheckedDecide {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new BanditError(`${caller}: options must be an object, got ${String(options)}`);
    }
    const o = (options ?? {}) as { k?: unknown; eligible?: unknown };
    let k = 1;
    if (slate && o.k !== undefined) {
      if (typeof o.k !== 'number' || !Number.isInteger(o.k) || o.k < 1) throw new BanditError(`${caller}: k must be a positive integer, got ${String(o.k)}`);
      if (o.k > cols) throw new BanditError(`${caller}: k = ${o.k} is more than the ${cols} arms`);
      k = o.k;
    }
    if (o.eligible === undefined && !live) return { k };
    let e = live ?? undefined;
    if (o.eligible !== undefined) {
      const given = o.eligible;
      if (!(given instanceof Uint8Array)) throw new BanditError(`${caller}: eligible must be a Uint8Array of ${cols} (every row) or ${rows}×${cols} (a row each) 0/1 values`);
      if (given.length !== cols && given.length !== rows * cols) {
        throw new BanditError(`${caller}: eligible has ${given.length} values; expected ${cols} (every row) or ${rows}×${cols} (a row each)`);
      }
      for (let i = 0; i < given.length; i++) {
        if (given[i]! > 1) throw new BanditError(`${caller}: eligible[${i}] = ${given[i]}; entries must be 0 or 1`);
      }
      e = live ? given.map((v, i) => v & live[i % cols]!) : given;
    }
    const mask = e!;
    const perRow = mask.length !== cols || rows === 1;
    for (let r = 0; r < (perRow ? rows : 1); r++) {
      let n = 0;
      for (let a = 0; a < cols; a++) n += mask[(perRow ? r * cols : 0) + a]!;
      if (n < k) {
        const which = perRow ? `row ${r}` : 'every row';
        const retired = live ? ' (retired arms are never eligible)' : '';
        throw new BanditError(`${caller}: ${which} has ${n} eligible arm(s)${retired}, ${n === 0 ? 'none to choose from' : `fewer than k = ${k}`}; nothing was applied`);
      }
    }
    return { k, eligible: mask };
  }

  /**
   * Uploads the checked mask into a kept i32 tensor of the model ([K] or [B, K]). Called before
   * the scoring step is encoded: a write between dispatches would split the call's submit.
   */
  stage(host: DecisionHost, checked: CheckedDecide, rows: number, cols: number): StagedDecide {
    const e = checked.eligible;
    if (!e) return { k: checked.k };
    const t = host.scratch('eligible', e.length === cols ? [cols] : [rows, cols], 'i32');
    host.backend.write(t, e);
    return { k: checked.k, eligible: t };
  }

  /**
   * Decides every row of the B×K `scores` (the model's mean estimates under an exploration,
   * its UCB scores without, or with `thompson` the posterior means): B·k arms, their
   * propensities and event ids, then the stream moves on.
   */
  async decide(host: DecisionHost, scores: Tensor, checked: StagedDecide, caller: string, thompson?: ThompsonScores): Promise<Decision> {
    const rows = scores.shape[0]!, eligible = checked.eligible;
    const d = await decideRows(host.backend, scores, {
      exploration: this.exploration, key: this.stream.key(), k: checked.k, caller,
      ...(eligible ? { eligible } : {}), ...(thompson ? { thompson } : {}),
    });
    const ids = eventIds(this.modelId, this.stream.step, rows * checked.k);
    this.stream.advance();
    return { arms: d.arms, propensities: d.propensities, eventIds: ids, ...(d.propensityDraws !== undefined ? { propensityDraws: d.propensityDraws } : {}) };
  }

  /**
   * One arm a row, as `decide` would choose it (nothing but the arms read back): the argmax of
   * a deterministic model (ties to the lowest arm; with a mask, over the eligible arms), else a
   * draw, after which the stream moves on.
   */
  async select(host: DecisionHost, scores: Tensor, checked: StagedDecide, caller: string, thompson?: ThompsonScores): Promise<Int32Array> {
    if (!this.randomised && !checked.eligible) return host.argmaxRows(scores);
    const eligible = checked.eligible;
    const d = await decideRows(host.backend, scores, {
      exploration: this.exploration, key: this.stream.key(), caller, propensities: false,
      ...(eligible ? { eligible } : {}), ...(thompson ? { thompson } : {}),
    });
    if (this.randomised) this.stream.advance();
    return d.arms;
  }

  /**
   * One Thompson draw a row of B×K scores, read back (B×K values): the draw a `select` or slot 0
   * of a `decide` at this step takes the argmax of. The stream moves on.
   */
  async sampledScores(host: DecisionHost, means: Tensor, thompson: ThompsonScores): Promise<Float32Array> {
    const draw = sampleScores(host.backend, means, thompson.width2, thompson.scale, this.stream.key());
    try {
      const values = Float32Array.from(await host.backend.read(draw));
      this.stream.advance();
      return values;
    } finally {
      draw.dispose();
    }
  }

  /** What the model's counters save: `{ decisions: { seed, step, modelId } }` once it matters, else nothing. */
  counters(): { decisions?: { seed: number; step: number; modelId: string } } {
    if (!this.randomised && this.stream.step === 0) return {};
    return { decisions: { ...this.stream.toJSON(), modelId: this.modelId } };
  }

  /** Restores the stream and model id of a save (a save without them keeps this model's fresh ones). */
  restore(saved: SavedModelReader): void {
    const d = saved.counters['decisions'];
    if (d === undefined) return;
    const modelId = (d as { modelId?: unknown } | null)?.modelId;
    if (typeof modelId !== 'string' || !MODEL_ID.test(modelId)) throw new BanditError(`${this.model}.load: the saved decisions lack a valid model id`);
    this.stream = DecisionStream.fromJSON(this.model, d);
    this.modelId = modelId;
  }
}
