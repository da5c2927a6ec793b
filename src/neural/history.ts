import { BanditError } from '../core/errors.js';
import type { SavedModelReader } from '../models/saved.js';
import type { SavedArray } from '../models/persist.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/** Rows a new history holds before it first grows. */
const FIRST_CAPACITY = 1024;

/**
 * The examples a model trains on, kept on the backend: features (rows×dim) and rewards, at most
 * `limit` rows. The tensors grow (doubling) until they hold `limit` rows; from then on the ring
 * overwrites the oldest rows. Rows are appended by copies in the open step (no upload).
 *
 * @example
 * const history = new HistoryRing(backend, 'NeuralUCB', dim, 65536);
 * history.append(x, r);                      // x: n×dim and r: n tensors of the played rows
 * gatherRows(backend, history.x, rows, { out: batchX });
 */
export class HistoryRing {
  private readonly backend: Backend;
  private readonly label: string;
  private readonly dim: number;
  private readonly limit: number;
  private tensors: { x: Tensor; r: Tensor };
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

  /** Appends the rows of x (n×dim) and r (n), growing the tensors up to the limit, then overwriting the oldest. */
  append(x: Tensor, r: Tensor): void {
    const rows = x.shape[0]!, dim = this.dim;
    if (this.rows + rows > this.capacity && this.capacity < this.limit) {
      this.grow(Math.min(this.limit, Math.max(2 * this.capacity, this.rows + rows)));
    }
    // At most two contiguous runs: up to the end of the ring, then from its start.
    for (let done = 0; done < rows;) {
      const slot = this.next, run = Math.min(rows - done, this.capacity - slot);
      this.backend.copy(x, this.tensors.x, { srcOffset: done * dim, dstOffset: slot * dim, count: run * dim });
      this.backend.copy(r, this.tensors.r, { srcOffset: done, dstOffset: slot, count: run });
      this.next = (slot + run) % this.capacity;
      this.rows = Math.min(this.rows + run, this.capacity);
      done += run;
    }
  }

  /** New tensors of `capacity` rows holding the rows so far. Only before the ring wraps, so they are rows 0 … rows−1 in order. */
  private grow(capacity: number): void {
    const grown = this.allocate(capacity);
    if (this.rows > 0) {
      this.backend.copy(this.tensors.x, grown.x, { srcOffset: 0, dstOffset: 0, count: this.rows * this.dim });
      this.backend.copy(this.tensors.r, grown.r, { srcOffset: 0, dstOffset: 0, count: this.rows });
    }
    this.dispose();
    this.tensors = grown;
    this.next = this.rows;
  }

  /** The rows held, as saved (historyX: rows×dim, historyR: rows). */
  async arrays(): Promise<{ historyX: SavedArray; historyR: SavedArray }> {
    const x = (await this.backend.read(this.tensors.x)) as Float32Array | Float64Array;
    const r = (await this.backend.read(this.tensors.r)) as Float32Array | Float64Array;
    return { historyX: x.slice(0, this.rows * this.dim), historyR: r.slice(0, this.rows) };
  }

  /** The state of a save: its rows, next slot and capacity (checked against each other and the limit). */
  restore(saved: SavedModelReader, counts: { readonly rows: number; readonly next: number; readonly capacity: number }): void {
    const { rows, next, capacity } = counts;
    if (rows > capacity || capacity > this.limit || next >= Math.max(capacity, 1)) {
      throw new BanditError(`${this.label}.load: the history counters are inconsistent`);
    }
    if (capacity !== this.capacity) this.grow(capacity);
    const hx = saved.need('historyX', rows * this.dim), hr = saved.need('historyR', rows);
    const fullX = new Float32Array(capacity * this.dim), fullR = new Float32Array(capacity);
    fullX.set(hx);
    fullR.set(hr);
    this.backend.write(this.tensors.x, fullX);
    this.backend.write(this.tensors.r, fullR);
    this.rows = rows;
    this.next = next;
  }

  /** Frees the tensors. */
  dispose(): void {
    this.tensors.x.dispose();
    this.tensors.r.dispose();
  }
}
