import { BanditError } from '../core/errors.js';
import type { SavedModelReader } from '../models/saved.js';
import type { SavedArray } from '../models/persist.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/** Rows a new history holds before it first grows. */
const FIRST_CAPACITY = 1024;

/**
 * The examples a model trains on, kept on the backend: features (rows×dim) and rewards, at most
 * `limit` rows, and once a weighted row came (update with weights) the row weights too (every
 * earlier row 1). The tensors grow (doubling) until they hold `limit` rows; from then on the ring
 * overwrites the oldest rows. Rows are appended by copies in the open step (no upload).
 *
 * @example
 * const history = new HistoryRing(backend, 'NeuralUCB', dim, 65536);
 * history.append(x, r);                      // x: n×dim and r: n tensors of the played rows
 * history.append(x2, r2, w2);                // weighted rows: from now on history.w holds weights
 * gatherRows(backend, history.x, rows, { out: batchX });
 */
export class HistoryRing {
  private readonly backend: Backend;
  private readonly label: string;
  private readonly dim: number;
  private readonly limit: number;
  private tensors: { x: Tensor; r: Tensor };
  private weights: Tensor | null = null;
  /** Rows held, and the slot the next row goes to. */
  rows = 0;
  next = 0;

  constructor(backend: Backend, label: string, dim: number, limit: number) {
    this.backend = backend;
    this.label = label;
    this.dim = dim;
    this.limit = limit;
    this.tensors = this.allocate(Math.min(limit, FIRST_CAPACITY));
  }

  private allocate(capacity: number): { x: Tensor; r: Tensor } {
    const x = this.backend.zeros([capacity, this.dim], { label: `${this.label} history x` });
    try {
      return { x, r: this.backend.zeros([capacity], { label: `${this.label} history r` }) };
    } catch (e) {
      x.dispose();
      throw e;
    }
  }

  /** Features, capacity×dim (rows 0 … rows−1 are held). */
  get x(): Tensor {
    return this.tensors.x;
  }

  /** Rewards, capacity. */
  get r(): Tensor {
    return this.tensors.r;
  }

  get capacity(): number {
    return this.tensors.r.size;
  }

  /** Row weights (capacity values), or null while every row weighs 1. */
  get w(): Tensor | null {
    return this.weights;
  }

  /** Weights of `capacity` rows, the first `rows` of them `from`'s (else 1). */
  private allocateWeights(capacity: number, from: Tensor | null): Tensor {
    const w = this.backend.tensor(new Float32Array(capacity).fill(1), [capacity], { label: `${this.label} history w` });
    if (from && this.rows > 0) this.backend.copy(from, w, { srcOffset: 0, dstOffset: 0, count: this.rows });
    return w;
  }

  /**
   * Appends the rows of x (n×dim), r (n) and, for weighted rows, w (n; required once the history
   * holds weights), growing the tensors up to the limit, then overwriting the oldest.
   */
  append(x: Tensor, r: Tensor, w?: Tensor): void {
    const rows = x.shape[0]!, dim = this.dim;
    if (this.rows + rows > this.capacity && this.capacity < this.limit) {
      this.grow(Math.min(this.limit, Math.max(2 * this.capacity, this.rows + rows)));
    }
    if (w && !this.weights) this.weights = this.allocateWeights(this.capacity, null);
    if (this.weights && !w) throw new BanditError(`${this.label}: the history holds weights, so every row appended needs one`);
    // At most two contiguous runs: up to the end of the ring, then from its start.
    for (let done = 0; done < rows;) {
      const slot = this.next, run = Math.min(rows - done, this.capacity - slot);
      this.backend.copy(x, this.tensors.x, { srcOffset: done * dim, dstOffset: slot * dim, count: run * dim });
      this.backend.copy(r, this.tensors.r, { srcOffset: done, dstOffset: slot, count: run });
      if (w) this.backend.copy(w, this.weights!, { srcOffset: done, dstOffset: slot, count: run });
      this.next = (slot + run) % this.capacity;
      this.rows = Math.min(this.rows + run, this.capacity);
      done += run;
    }
  }

  /** New tensors of `capacity` rows holding the rows so far. Only before the ring wraps, so they are rows 0 … rows−1 in order. */
  private grow(capacity: number): void {
    const grown = this.allocate(capacity);
    let weights: Tensor | null = null;
    try {
      if (this.weights) weights = this.allocateWeights(capacity, this.weights);
    } catch (e) {
      grown.x.dispose();
      grown.r.dispose();
      throw e;
    }
    if (this.rows > 0) {
      this.backend.copy(this.tensors.x, grown.x, { srcOffset: 0, dstOffset: 0, count: this.rows * this.dim });
      this.backend.copy(this.tensors.r, grown.r, { srcOffset: 0, dstOffset: 0, count: this.rows });
    }
    this.dispose();
    this.tensors = grown;
    this.weights = weights;
    this.next = this.rows;
  }

  /** The rows held, as saved (historyX: rows×dim, historyR: rows, and historyW: rows once weighted). */
  async arrays(): Promise<{ historyX: SavedArray; historyR: SavedArray; historyW?: SavedArray }> {
    const x = (await this.backend.read(this.tensors.x)) as Float32Array | Float64Array;
    const r = (await this.backend.read(this.tensors.r)) as Float32Array | Float64Array;
    const w = this.weights ? ((await this.backend.read(this.weights)) as Float32Array | Float64Array) : null;
    return { historyX: x.slice(0, this.rows * this.dim), historyR: r.slice(0, this.rows), ...(w ? { historyW: w.slice(0, this.rows) } : {}) };
  }

  /** The state of a save: its rows, next slot and capacity (checked against each other and the limit). */
  restore(saved: SavedModelReader, counts: { readonly rows: number; readonly next: number; readonly capacity: number }): void {
    const { rows, next, capacity } = counts;
    // The ring grows to at most twice the rows it holds: a larger capacity is a forgery (it would allocate for nothing).
    if (rows > capacity || capacity > this.limit || next >= Math.max(capacity, 1) || capacity > Math.max(FIRST_CAPACITY, 2 * rows)) {
      throw new BanditError(`${this.label}.load: the history counters are inconsistent`);
    }
    const hx = saved.need('historyX', rows * this.dim), hr = saved.need('historyR', rows);
    if (capacity !== this.capacity) this.grow(capacity);
    const fullX = new Float32Array(capacity * this.dim), fullR = new Float32Array(capacity);
    fullX.set(hx);
    fullR.set(hr);
    this.backend.write(this.tensors.x, fullX);
    this.backend.write(this.tensors.r, fullR);
    if (saved.arrays['historyW'] !== undefined) {
      const hw = saved.need('historyW', rows, { min: 0 });
      const fullW = new Float32Array(capacity).fill(1);
      fullW.set(hw);
      this.weights ??= this.allocateWeights(capacity, null);
      this.backend.write(this.weights, fullW);
    }
    this.rows = rows;
    this.next = next;
  }

  /** Frees the tensors. */
  dispose(): void {
    this.tensors.x.dispose();
    this.tensors.r.dispose();
    this.weights?.dispose();
    this.weights = null;
  }
}
