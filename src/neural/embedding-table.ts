import type { TrainedTensor } from '../models/trainer.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/**
 * A table EmbeddingMLP trains with Adam — its values, gradient and moments — that can grow by
 * rows (new users or items) and put rows back at a start value (reused item slots). Growth makes
 * every new tensor before it replaces an old one and copies the old rows over exactly, so the
 * rows that were there stay bit for bit, and a failure changes nothing. The trainer reads the
 * tensors at each step, so it sees the grown ones.
 *
 * @example
 * const items = new AdamTable(backend, 'EmbeddingMLP item embeddings', init, 50, 8);
 * items.grow(2, new Float32Array(2 * 8));        // rows 50 and 51 start at 0, moments 0
 * items.resetRows(Int32Array.of(3), mean);         // row 3 back at `mean`, its moments 0
 */
export class AdamTable implements TrainedTensor {
  private readonly backend: Backend;
  private readonly label: string;
  /** Values a row (1 for a flat parameter vector). */
  readonly width: number;
  private t: { value: Tensor; grad: Tensor; m: Tensor; v: Tensor };

  constructor(backend: Backend, label: string, data: Float32Array, rows: number, width: number) {
    this.backend = backend;
    this.label = label;
    this.width = width;
    this.t = this.allocate(rows, data);
  }

  get value(): Tensor {
    return this.t.value;
  }

  get grad(): Tensor {
    return this.t.grad;
  }

  get moments(): { readonly m: Tensor; readonly v: Tensor } {
    return { m: this.t.m, v: this.t.v };
  }

  get rows(): number {
    return this.t.value.size / this.width;
  }

  /** Tensors of `rows` rows: the value from `data` (or zeros), gradient and moments zeros. */
  private allocate(rows: number, data: ArrayLike<number> | null): { value: Tensor; grad: Tensor; m: Tensor; v: Tensor } {
    const shape = this.width === 1 ? [rows] : [rows, this.width];
    const made: Tensor[] = [];
    const make = (what: string, values: ArrayLike<number> | null) => {
      const label = what ? `${this.label} ${what}` : this.label;
      const t = values ? this.backend.tensor(values, shape, { label }) : this.backend.zeros(shape, { label });
      made.push(t);
      return t;
    };
    try {
      return { value: make('', data), grad: make('gradient', null), m: make('m', null), v: make('v', null) };
    } catch (e) {
      for (const t of made) t.dispose();
      throw e;
    }
  }

  /** Appends `rows` rows with values `init` (rows × width), their gradient and moments 0. */
  grow(rows: number, init: ArrayLike<number>): void {
    if (rows === 0) return;
    const old = this.t, size = old.value.size;
    const next = this.allocate(this.rows + rows, null);
    let fresh: Tensor | null = null;
    try {
      fresh = this.backend.tensor(init, [rows * this.width], { label: `${this.label} new rows` });
    } catch (e) {
      for (const t of Object.values(next)) t.dispose();
      throw e;
    }
    for (const k of ['value', 'grad', 'm', 'v'] as const) this.backend.copy(old[k], next[k], { srcOffset: 0, dstOffset: 0, count: size });
    this.backend.copy(fresh, next.value, { srcOffset: 0, dstOffset: size, count: fresh.size });
    fresh.dispose();
    for (const t of Object.values(old)) t.dispose();
    this.t = next;
  }

  /** Puts rows `rows` (distinct) back at the value `row` (width values) with moments 0, in the open step. */
  resetRows(rows: Int32Array, row: ArrayLike<number>): void {
    if (rows.length === 0) return;
    const w = this.width, values = new Float64Array(rows.length * w);
    for (let j = 0; j < rows.length; j++) for (let q = 0; q < w; q++) values[j * w + q] = row[q]!;
    const fresh = this.backend.tensor(values, [rows.length * w], { label: `${this.label} reset rows` });
    const zeros = this.backend.zeros([rows.length * w], { label: `${this.label} reset moments` });
    try {
      rows.forEach((r, j) => {
        this.backend.copy(fresh, this.t.value, { srcOffset: j * w, dstOffset: r * w, count: w });
        for (const k of ['m', 'v'] as const) this.backend.copy(zeros, this.t[k], { srcOffset: j * w, dstOffset: r * w, count: w });
      });
    } finally {
      fresh.dispose();
      zeros.dispose();
    }
  }

  /** The mean row of the rows `rows` (all rows when null or empty), in float64, read back from the backend. */
  async meanRow(rows: Int32Array | null): Promise<Float64Array> {
    const values = await this.backend.read(this.t.value), w = this.width, n = this.rows;
    const list = rows && rows.length > 0 ? rows : Int32Array.from({ length: n }, (_, i) => i);
    const mean = new Float64Array(w);
    for (const r of list) for (let q = 0; q < w; q++) mean[q] = mean[q]! + values[r * w + q]!;
    return mean.map((v) => v / list.length);
  }

  dispose(): void {
    for (const t of Object.values(this.t)) t.dispose();
  }
}
