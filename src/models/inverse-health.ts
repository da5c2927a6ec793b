import { numberOption } from '../core/check.js';
import { refinesState } from '../core/limits.js';
import { accurateResidual, type Accurate } from '../ops/accurate.js';
import { spdInverse } from '../ops/cholesky.js';
import { axpy } from '../ops/elementwise.js';
import { gemm } from '../ops/gemm.js';
import { readTogether } from './readback.js';
import type { ArmShards, Shard } from './arm-shards.js';
import type { SavedModelReader } from './saved.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/** When the kept inverses are measured and rebuilt. */
export interface InverseHealthOptions {
  /** Re-factorise the arms updated since the last time after this many update rows; 0: never. */
  readonly refactorEvery: number;
  /** Measure the drift of the arms updated since the last check after this many update rows; 0: never. */
  readonly driftCheckEvery: number;
  /** Re-factorise an arm whose drift ‖A·A⁻¹ − I‖∞ (measured against the float-float A) passes this. */
  readonly driftBound: number;
}

/** The counters a model saves and reports. */
export interface InverseHealthCounters {
  /** Times inverses were rebuilt from A. */
  readonly refactorizations: number;
  /** Arms whose rebuild was skipped because A was not numerically positive definite (they keep their inverse). */
  readonly failedRefactorizations: number;
  /** The largest drift of the arms measured last (NaN for a broken inverse), or null before any measurement. */
  readonly lastDrift: number | null;
  readonly driftChecks: number;
  readonly sinceRefactor: number;
  readonly sinceDriftCheck: number;
}

/**
 * The options of the drift control, checked, with the defaults of LinUCB and HybridLinUCB
 * (re-factorise every 2048 rows, measure every 256, bound 1e-4).
 *
 * @example
 * const health = inverseHealthOptions('LinUCB', { driftCheckEvery: 64 });
 */
export function inverseHealthOptions(model: string, o: Partial<InverseHealthOptions>): InverseHealthOptions {
  const count = (v: number) => Number.isInteger(v) && v >= 0;
  return {
    refactorEvery: numberOption(model, 'refactorEvery', o.refactorEvery, 2048, count, 'an integer ≥ 0'),
    driftCheckEvery: numberOption(model, 'driftCheckEvery', o.driftCheckEvery, 256, count, 'an integer ≥ 0'),
    driftBound: numberOption(model, 'driftBound', o.driftBound, 1e-4, (v) => v > 0, '> 0'),
  };
}

/** Fields the drift control reads: A (float-float: `a` + `aLo`) and its kept inverse. */
type Inverses<F extends string> = F | 'a' | 'aLo' | 'aInv';

/**
 * Newton steps X ← X + X·(I − A·X), the residual against the float-float A, after each Cholesky
 * inverse: the f32 factorisation of A's hi part is off by ~u·cond(A); each step squares that
 * relative error, down to the f32 rounding of X.
 */
export const REFINE_STEPS = 2;

/**
 * After new inverses landed in `aInv` for the `local` arms of `shard` (ascending; null: every
 * arm), encodes what follows from them (θ = A⁻¹b, A⁻¹B…).
 */
export type DeriveFromInverse<F extends string> = (shard: Shard<Inverses<F>>, local: Int32Array | null) => void;

/**
 * X ← X + X·(I − A·X), `steps` times (A float-float, X: n×d×d), encoded into the open step.
 *
 * @example
 * refineInverse(backend, { hi: a, lo: aLo }, x, 2);
 */
export function refineInverse(backend: Backend, a: Accurate, x: Tensor, steps: number): void {
  if (steps === 0) return;
  const r = backend.zeros(x.shape, { label: 'refineInverse R' }), t = backend.zeros(x.shape, { label: 'refineInverse X·R' });
  try {
    for (let s = 0; s < steps; s++) {
      accurateResidual(backend, a, x, r).dispose();
      gemm(backend, x, r, { c: t });
      axpy(backend, 1, t, x);
    }
  } finally {
    r.dispose();
    t.dispose();
  }
}

/**
 * The numerical health of per-arm inverses kept by Sherman–Morrison beside the matrices they
 * invert (`a` + `aLo`, float-float, and `aInv` of each shard): which arms changed since the last drift check and the
 * last re-factorisation (only they can have drifted), when the next check or re-factorisation
 * is due, and both done for every shard at once with ONE readback each (the drift values, the
 * factorisation statuses), whatever the number of shards.
 *
 * @example
 * const health = new InverseHealth(backend, state, options, (shard, local) => gatherMatVec(…));
 * health.touch(arms);             // after encoding an update of these arms
 * await health.afterUpdate();     // a re-factorisation or a drift check, if one is due
 */
export class InverseHealth<F extends string> {
  private readonly backend: Backend;
  private readonly state: ArmShards<Inverses<F>>;
  private readonly options: InverseHealthOptions;
  private readonly derive: DeriveFromInverse<F>;
  private refactorizations = 0;
  private failedRefactorizations = 0;
  private lastDrift: number | null = null;
  private driftChecks = 0;
  private sinceRefactor = 0;
  private sinceDriftCheck = 0;
  private touchedSinceCheck = new Set<number>();
  private touchedSinceRefactor = new Set<number>();

  constructor(backend: Backend, state: ArmShards<Inverses<F>>, options: InverseHealthOptions, derive: DeriveFromInverse<F>) {
    this.backend = backend;
    this.state = state;
    this.options = options;
    this.derive = derive;
  }

  /** Records an applied batch of update rows on these arms. */
  touch(arms: Int32Array): void {
    for (const k of arms) {
      this.touchedSinceCheck.add(k);
      this.touchedSinceRefactor.add(k);
    }
    this.sinceRefactor += arms.length;
    this.sinceDriftCheck += arms.length;
  }

  /** The periodic re-factorisation of the arms touched since the last one, else a drift check, if due. */
  async afterUpdate(): Promise<void> {
    const { refactorEvery, driftCheckEvery } = this.options;
    if (refactorEvery > 0 && this.sinceRefactor >= refactorEvery) await this.refactor(this.touchedSinceRefactor);
    else if (driftCheckEvery > 0 && this.sinceDriftCheck >= driftCheckEvery) await this.check('touched');
  }

  /**
   * Measures ‖A·A⁻¹ − I‖∞ on the arms touched since the last check (the others have not changed
   * since theirs) or on every arm, with one readback for all shards, and re-factorises the arms
   * past the bound (a readback in the middle of the call: which arms to rebuild depends on it).
   */
  async check(which: 'touched' | 'all'): Promise<void> {
    const parts: { shard: Shard<Inverses<F>>; local: Int32Array | null; norms: Tensor }[] = [];
    let values;
    try {
      for (const shard of this.state.shards) {
        const local = which === 'all' ? null : this.state.local(shard, this.touchedSinceCheck);
        if (local && local.length === 0) continue;
        const rows = local && this.padded(local);
        const [a, aLo, aInv] = (['a', 'aLo', 'aInv'] as const).map((f) => (rows ? this.state.gather(shard, f, rows) : shard.t[f]));
        parts.push({ shard, local, norms: accurateResidual(this.backend, { hi: a!, lo: aLo! }, aInv!) });
        if (local) for (const t of [a!, aLo!, aInv!]) t.dispose();
      }
      values = await readTogether(this.backend, parts.map((p) => p.norms));
    } finally {
      for (const p of parts) p.norms.dispose();
    }
    let worst = 0, measured = 0;
    const drifted = new Set<number>();
    parts.forEach(({ shard, local }, i) => {
      const norms = values[i]!, n = local ? local.length : shard.arms;
      for (let j = 0; j < n; j++) {
        const v = norms[2 * j]!;
        // A NaN drift (a broken inverse) is the worst of all.
        if (Number.isNaN(v) || v > worst) worst = Number.isNaN(worst) ? worst : v;
        if (!(v <= this.options.driftBound)) drifted.add(shard.offset + (local ? local[j]! : j));
      }
      measured += n;
    });
    if (measured > 0) this.lastDrift = worst;
    this.driftChecks++;
    this.sinceDriftCheck = 0;
    this.touchedSinceCheck.clear();
    if (drifted.size > 0) await this.refactor(drifted);
  }

  /**
   * Rebuilds A⁻¹ from A by batched Cholesky (of A's hi part, refined against the float-float A) for `arms` (model-wide ids) or every arm (null), all
   * shards in one step, then what follows from A⁻¹ (`derive`). The statuses come back in one
   * readback before anything is replaced (in the middle of the call: whether an arm's new inverse
   * is kept depends on it): an arm whose A is not numerically positive definite keeps its old
   * inverse, and is counted.
   */
  async refactor(arms: ReadonlySet<number> | null): Promise<void> {
    const parts: { shard: Shard<Inverses<F>>; local: Int32Array | null; result: Tensor; status: Tensor }[] = [];
    try {
      for (const shard of this.state.shards) {
        const local = this.state.local(shard, arms);
        if (local && local.length === 0) continue;
        const rows = local && this.padded(local);
        const a = rows ? this.state.gather(shard, 'a', rows) : shard.t.a;
        const aLo = rows ? this.state.gather(shard, 'aLo', rows) : shard.t.aLo;
        const inverse = spdInverse(this.backend, a);
        parts.push({ shard, local, ...inverse });
        refineInverse(this.backend, { hi: a, lo: aLo }, inverse.result, refinesState(this.backend.kind) ? REFINE_STEPS : 0);
        if (local) {
          a.dispose();
          aLo.dispose();
        }
      }
      const statuses = await readTogether(this.backend, parts.map((p) => p.status));
      parts.forEach(({ shard, local, result }, i) => {
        const ok: number[] = [];
        const status = statuses[i]!, n = local ? local.length : shard.arms;
        for (let j = 0; j < n; j++) {
          if (status[j] === 0) ok.push(j);
          else this.failedRefactorizations++;
        }
        if (!local && ok.length === shard.arms) {
          this.backend.copy(result, shard.t.aInv);
          this.derive(shard, null);
        } else if (ok.length > 0) {
          const kept = Int32Array.from(ok, (j) => (local ? local[j]! : j));
          this.state.scatter(result, shard, 'aInv', kept, ok);
          this.derive(shard, kept);
        }
      });
    } finally {
      for (const p of parts) {
        p.result.dispose();
        p.status.dispose();
      }
    }
    this.refactorizations++;
    if (arms === null || arms === this.touchedSinceRefactor) {
      // A periodic (or complete) re-factorisation: every arm is fresh now.
      this.touchedSinceRefactor = new Set();
      this.touchedSinceCheck.clear();
      this.sinceRefactor = 0;
      this.sinceDriftCheck = 0;
    } else {
      for (const k of arms) {
        this.touchedSinceRefactor.delete(k);
        this.touchedSinceCheck.delete(k);
      }
    }
  }

  /**
   * The arms to gather on webgpu, padded to a power of two by repeating the last (whose results
   * are ignored): checks and re-factorisations over every count of touched arms would otherwise
   * ask the buffer pool for a new size class at each count, growing its free buffers over a long
   * run (the soak bench). The host backends gather exactly.
   */
  private padded(local: Int32Array): Int32Array {
    const n = 2 ** Math.ceil(Math.log2(local.length));
    if (this.backend.kind !== 'webgpu' || n === local.length) return local;
    const rows = new Int32Array(n);
    rows.set(local);
    return rows.fill(local[local.length - 1]!, local.length);
  }

  /** The counters, in the order models save them. */
  counters(): InverseHealthCounters {
    return {
      refactorizations: this.refactorizations, failedRefactorizations: this.failedRefactorizations, lastDrift: this.lastDrift,
      driftChecks: this.driftChecks, sinceRefactor: this.sinceRefactor, sinceDriftCheck: this.sinceDriftCheck,
    };
  }

  /** The touched arms, ascending, as saved. */
  touchedArrays(): { touchedSinceCheck: Int32Array; touchedSinceRefactor: Int32Array } {
    const sorted = (s: ReadonlySet<number>) => Int32Array.from([...s].sort((x, y) => x - y));
    return { touchedSinceCheck: sorted(this.touchedSinceCheck), touchedSinceRefactor: sorted(this.touchedSinceRefactor) };
  }

  /**
   * Restores counters and touched arms from a save of a model with `arms` arms. Saves made
   * before the touched arms were kept (`touched: 'all'`) count every arm as touched: the next
   * check and re-factorisation then cover every arm, as they did when the save was made.
   */
  restore(saved: SavedModelReader, arms: number, touched: 'error' | 'all'): void {
    this.touchedSinceCheck = saved.armSet('touchedSinceCheck', arms, touched);
    this.touchedSinceRefactor = saved.armSet('touchedSinceRefactor', arms, touched);
    const c = saved.counts(['refactorizations', 'failedRefactorizations', 'driftChecks', 'sinceRefactor', 'sinceDriftCheck'] as const);
    this.refactorizations = c.refactorizations;
    this.failedRefactorizations = c.failedRefactorizations;
    this.driftChecks = c.driftChecks;
    this.sinceRefactor = c.sinceRefactor;
    this.sinceDriftCheck = c.sinceDriftCheck;
    this.lastDrift = saved.numberOrNull('lastDrift');
  }
}
