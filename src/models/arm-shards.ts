import { BanditError } from '../core/errors.js';
import { checkModelSize, positiveInt } from '../core/check.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/** One kind of per-arm state: its values an arm and what a new arm starts with. */
export interface ArmField {
  /** The values of one arm: [d, d] for a matrix, [d] for a vector, [d, k]… */
  readonly shape: readonly number[];
  /** A new arm's value: `identity`·I for a square field, else zeros. */
  readonly identity?: number;
  /** What labels call it ('A⁻¹'). */
  readonly label: string;
}

/** A run of arms of the model held in one tensor per field. */
export interface Shard<F extends string> {
  /** The model-wide id of its first arm. */
  readonly offset: number;
  readonly arms: number;
  /** One tensor a field, [arms, …shape]. */
  readonly t: Readonly<Record<F, Tensor>>;
}

/** The rows of a batch whose arms a shard holds, in batch order. */
export interface ShardRows<F extends string> {
  readonly shard: Shard<F>;
  /** Row indices into the batch. */
  readonly rows: Int32Array;
  /** Their arms, as indices within the shard. */
  readonly local: Int32Array;
}

/**
 * `count` copies of value·I (d×d), row-major; float64 when `wide` (the cpu backend keeps float64).
 *
 * @example
 * const eye = identities(3, 4, 0.5, false);   // three 4×4 matrices 0.5·I
 */
export function identities(count: number, d: number, value: number, wide: boolean): Float32Array | Float64Array {
  const out = wide ? new Float64Array(count * d * d) : new Float32Array(count * d * d);
  for (let k = 0; k < count; k++) for (let i = 0; i < d; i++) out[k * d * d + i * d + i] = value;
  return out;
}

/**
 * The most arms of `floatsPerArm` floats (its largest per-arm tensor) one storage binding of
 * `backend` holds; at least 1.
 *
 * @example
 * const most = maxArmsPerBinding(backend, dim * dim);   // LinUCB: A is d×d an arm
 */
export function maxArmsPerBinding(backend: Backend, floatsPerArm: number): number {
  return Math.max(1, Math.floor(backend.maxBindingBytes / (4 * floatsPerArm)));
}

/**
 * The `armsPerShard` option: by default as many arms as one binding holds (`most`), else the
 * positive integer asked for, refused past `most` (`armsOf` says which arms: "of dim 64"). The
 * model's arm count does not cap it: the shards of a model that grows (addArms) fill up to it.
 *
 * @example
 * const perShard = armsPerShardOption('LinUCB', o.armsPerShard, maxArmsPerBinding(backend, d * d), `of dim ${d}`);
 */
export function armsPerShardOption(model: string, requested: unknown, most: number, armsOf: string): number {
  const perShard = requested === undefined ? most : positiveInt(model, 'armsPerShard', requested);
  if (perShard > most) throw new BanditError(`${model}: armsPerShard = ${perShard} is over ${most}, the most arms ${armsOf} one storage binding holds`);
  // Not capped at `arms`: a shard holds at most what it needs, and arms added later fill it up first.
  return perShard;
}

/**
 * Rows `rows` of `values` (rows of `width` values), packed in that order.
 *
 * @example
 * const xs = pickRows(played, Int32Array.of(0, 3), dim);   // rows 0 and 3
 */
export function pickRows(values: Float32Array, rows: ArrayLike<number>, width: number): Float32Array {
  const out = new Float32Array(rows.length * width);
  for (let j = 0; j < rows.length; j++) out.set(values.subarray(rows[j]! * width, (rows[j]! + 1) * width), j * width);
  return out;
}

/** Consecutive (from, to) index pairs merged into runs: one copy a run instead of one an arm. */
function runs(from: ArrayLike<number>, to: ArrayLike<number>): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let j = 0; j < from.length; j++) {
    const last = out[out.length - 1];
    if (last && last[0] + last[2] === from[j] && last[1] + last[2] === to[j]) last[2]++;
    else out.push([from[j]!, to[j]!, 1]);
  }
  return out;
}

/**
 * Per-arm state over shards: every field of arms [offset, offset + arms) in one tensor, so a
 * model larger than one storage binding is split over several. Written once for every model
 * with per-arm state: creation at each field's initial value, the rows of a batch by shard,
 * gathering and scattering the state of some arms, the fields concatenated for save and written
 * back on load, and growth by n arms that leaves every old arm's state bit for bit as it was.
 *
 * @example
 * const state = ArmShards.create(backend, 'LinUCB', { arms: 1000, perShard: 400 }, {
 *   a: { shape: [d, d], identity: lambda, label: 'A' },
 *   b: { shape: [d], label: 'b' },
 * });
 * for (const { shard, rows, local } of state.split(arms)) scatterAddScaled(backend, shard.t.b, x, local, r);
 * const all = await state.read('b');                  // arms×d, for save
 * state.grow(10);                                     // 1010 arms; the first 1000 untouched
 */
export class ArmShards<F extends string> {
  readonly perShard: number;
  private readonly backend: Backend;
  private readonly model: string;
  private readonly fields: Readonly<Record<F, ArmField>>;
  private list: Shard<F>[] = [];

  private constructor(backend: Backend, model: string, perShard: number, fields: Readonly<Record<F, ArmField>>) {
    this.backend = backend;
    this.model = model;
    this.perShard = perShard;
    this.fields = fields;
  }

  /**
   * Every field of `arms` arms at its initial value, `perShard` arms a tensor. On failure (the
   * device out of memory) what was made is freed.
   */
  static create<F extends string>(
    backend: Backend, model: string, size: { readonly arms: number; readonly perShard: number }, fields: Readonly<Record<F, ArmField>>,
  ): ArmShards<F> {
    if (!Number.isInteger(size.perShard) || size.perShard < 1) throw new BanditError(`${model}: arms a shard must be a positive integer, got ${size.perShard}`);
    const state = new ArmShards(backend, model, size.perShard, fields);
    try {
      state.grow(size.arms);
    } catch (e) {
      state.dispose();
      throw e;
    }
    return state;
  }

  get shards(): readonly Shard<F>[] {
    return this.list;
  }

  /** Arms held in all. */
  get arms(): number {
    const last = this.list[this.list.length - 1];
    return last ? last.offset + last.arms : 0;
  }

  /** Arms a shard, in order. */
  sizes(): number[] {
    return this.list.map((s) => s.arms);
  }

  /** Values of `field` an arm. */
  width(field: F): number {
    return this.fields[field].shape.reduce((a, b) => a * b, 1);
  }

  /** Tensors of arms [offset, offset + arms) at their initial values. */
  private makeShard(offset: number, arms: number): Shard<F> {
    const t = {} as Record<F, Tensor>;
    try {
      for (const name of Object.keys(this.fields) as F[]) {
        const f = this.fields[name];
        const shape = [arms, ...f.shape];
        const options = { label: `${this.model} ${f.label} [${offset}..${offset + arms})` };
        if (f.identity === undefined) {
          t[name] = this.backend.zeros(shape, options);
        } else {
          const d = f.shape[0]!;
          if (f.shape.length !== 2 || f.shape[1] !== d) throw new BanditError(`${this.model}: ${f.label} starts at a multiple of I, so it must be square`);
          t[name] = this.backend.tensor(identities(arms, d, f.identity, this.backend.kind === 'cpu'), shape, options);
        }
      }
    } catch (e) {
      for (const made of Object.values<Tensor>(t)) made.dispose();
      throw e;
    }
    return { offset, arms, t };
  }

  /**
   * Adds `n` arms (ids arms … arms + n − 1) at their initial values: the last shard is filled up
   * to perShard (into new tensors, the old arms copied over exactly), then new shards follow.
   * Every tensor is made before any replaces an old one, so a failure (the device out of memory)
   * leaves the state as it was.
   */
  grow(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new BanditError(`${this.model}: the number of arms to add must be an integer ≥ 0, got ${n}`);
    const perArm = Object.values<ArmField>(this.fields).reduce((sum, f) => sum + f.shape.reduce((a, b) => a * b, 1), 0);
    checkModelSize(this.model, `${this.arms + n} arms of ${perArm} values`, (this.arms + n) * perArm, this.backend);
    let left = n, at = this.arms;
    const last = this.list[this.list.length - 1];
    const made: Shard<F>[] = [];
    try {
      if (last && last.arms < this.perShard && left > 0) {
        made.push(this.makeShard(last.offset, Math.min(this.perShard, last.arms + left)));
        left -= made[0]!.arms - last.arms;
        at = last.offset + made[0]!.arms;
      }
      while (left > 0) {
        const arms = Math.min(this.perShard, left);
        made.push(this.makeShard(at, arms));
        at += arms;
        left -= arms;
      }
    } catch (e) {
      for (const s of made) for (const t of Object.values<Tensor>(s.t)) t.dispose();
      throw e;
    }
    if (made[0] && last && made[0].offset === last.offset) {
      for (const name of Object.keys(this.fields) as F[]) {
        this.backend.copy(last.t[name], made[0].t[name], { srcOffset: 0, dstOffset: 0, count: last.t[name].size });
      }
      this.list[this.list.length - 1] = made.shift()!;
      for (const t of Object.values<Tensor>(last.t)) t.dispose();
    }
    this.list.push(...made);
  }

  /**
   * Puts the (valid, distinct) arms `arms` back at every field's initial value, in the open step
   * (copies from a tensor of initial values a shard); every other arm is left as it was.
   */
  reset(arms: Int32Array): void {
    for (const { shard, local } of this.split(arms)) {
      const fresh = this.makeShard(shard.offset, local.length);
      try {
        for (const name of Object.keys(this.fields) as F[]) this.scatter(fresh.t[name], shard, name, local);
      } finally {
        for (const t of Object.values<Tensor>(fresh.t)) t.dispose();
      }
    }
  }

  /**
   * The rows of a batch of (valid) arm ids by the shard that holds each arm; shards without rows
   * are left out. With one shard (a model within one binding) its rows are the whole batch in
   * order and `local` is `arms` itself (not to be written into).
   */
  split(arms: Int32Array): ShardRows<F>[] {
    if (this.list.length === 1 && this.list[0]!.offset === 0) {
      if (arms.length === 0) return [];
      const rows = new Int32Array(arms.length);
      for (let i = 0; i < rows.length; i++) rows[i] = i;
      return [{ shard: this.list[0]!, rows, local: arms }];
    }
    const out: ShardRows<F>[] = [];
    for (const shard of this.list) {
      const rows: number[] = [];
      for (let i = 0; i < arms.length; i++) if (arms[i]! >= shard.offset && arms[i]! < shard.offset + shard.arms) rows.push(i);
      if (rows.length > 0) out.push({ shard, rows: Int32Array.from(rows), local: Int32Array.from(rows, (i) => arms[i]! - shard.offset) });
    }
    return out;
  }

  /**
   * The arms of `shard` among the model-wide `ids` as indices within it, ascending; null when
   * `ids` is null (every arm) or holds every arm of the shard.
   */
  local(shard: Shard<F>, ids: ReadonlySet<number> | null): Int32Array | null {
    if (ids === null) return null;
    const local: number[] = [];
    for (const k of ids) if (k >= shard.offset && k < shard.offset + shard.arms) local.push(k - shard.offset);
    return local.length === shard.arms ? null : Int32Array.from(local.sort((x, y) => x - y));
  }

  /** The `field` values of the `local` arms of `shard`, packed into a new [local.length, …shape] tensor. */
  gather(shard: Shard<F>, field: F, local: ArrayLike<number>): Tensor {
    const w = this.width(field), src = shard.t[field];
    const out = this.backend.zeros([local.length, ...this.fields[field].shape], { label: `${src.label} gathered` });
    for (const [from, to, count] of runs(local, Array.from({ length: local.length }, (_, j) => j))) {
      this.backend.copy(src, out, { srcOffset: from * w, dstOffset: to * w, count: count * w });
    }
    return out;
  }

  /** Writes packed rows `rows` of `packed` (default: all, in order) into the `field` of the `local` arms of `shard`. */
  scatter(packed: Tensor, shard: Shard<F>, field: F, local: ArrayLike<number>, rows?: ArrayLike<number>): void {
    const w = this.width(field), dst = shard.t[field];
    const from = rows ?? Array.from({ length: local.length }, (_, j) => j);
    for (const [src, to, count] of runs(from, local)) {
      this.backend.copy(packed, dst, { srcOffset: src * w, dstOffset: to * w, count: count * w });
    }
  }

  /** Every arm's `field`, concatenated in arm order (float64 on the cpu backend, float32 on webgpu). */
  async read(field: F): Promise<Float32Array | Float64Array> {
    const w = this.width(field);
    const all = this.backend.kind === 'cpu' ? new Float64Array(this.arms * w) : new Float32Array(this.arms * w);
    for (const s of this.list) all.set(await this.backend.read(s.t[field]), s.offset * w);
    return all;
  }

  /** Writes every arm's `field` from values concatenated in arm order (arms × width). */
  write(field: F, values: ArrayLike<number> & { subarray(begin: number, end: number): ArrayLike<number> }): void {
    const w = this.width(field);
    if (values.length !== this.arms * w) throw new BanditError(`${this.model}: ${this.fields[field].label} needs ${this.arms * w} values, got ${values.length}`);
    for (const s of this.list) this.backend.write(s.t[field], values.subarray(s.offset * w, (s.offset + s.arms) * w));
  }

  /** Frees every shard's tensors. */
  dispose(): void {
    for (const s of this.list) for (const t of Object.values<Tensor>(s.t)) t.dispose();
    this.list = [];
  }
}
