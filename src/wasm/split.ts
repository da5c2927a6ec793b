import type { WasmKernelName, WasmKernels } from './module.js';
import type { SplitPlan, WasmThreads } from './threads.js';
import { MAX_CHUNKS } from './threads.js';

/**
 * A call splits across the two threads from this many multiply-adds (rows·arms·d² for the UCB
 * scores, batch·d³ for a batch of factorisations): waking the worker and waiting for it costs some
 * microseconds (tens on a loaded machine), about what one thread does in 2¹⁹ multiply-adds at ~15 GFLOP/s.
 */
export const SPLIT_MIN_WORK = 2 ** 19;

/** Chunks an update list is cut into at arm boundaries (whichever thread is free takes the next). */
const ARM_CHUNKS = 8;

/** Whether a call of `work` multiply-adds is cut over both threads (there is a worker, and the work reaches SPLIT_MIN_WORK). */
export function splits(threads: WasmThreads | null, work: number): threads is WasmThreads {
  return threads !== null && work >= SPLIT_MIN_WORK;
}

/**
 * Runs kernel `name` on one thread, or cut along `plan()` over both where there is a worker and
 * `work` (multiply-adds) reaches SPLIT_MIN_WORK. A plan of fewer than two chunks runs on one thread.
 */
export function runSplit<N extends WasmKernelName>(k: WasmKernels, threads: WasmThreads | null, name: N, args: Parameters<WasmKernels[N]>,
  work: number, plan: () => SplitPlan | null): void {
  const p = splits(threads, work) ? plan() : null;
  if (p && p.total > 1 && (!p.starts || p.starts.length > 1)) threads!.split(name, args as number[], p);
  else (k[name] as (...a: number[]) => void)(...(args as number[]));
}

/** How one update list is run: the rows in an order where each arm's rows are one run, and the chunks' first rows. */
export interface ArmRuns {
  /** The row taken u-th (null: the rows as given, every arm's rows already one run). */
  readonly order: Int32Array | null;
  /** The chunks' first rows: each at the start of an arm's run, so no arm is in two chunks. */
  readonly starts: number[];
}

/**
 * Groups the rows of an update list by arm, each arm's rows in their order (stable, in the order
 * arms first appear), so that a chunk of whole runs is the same updates of the same matrices in the
 * same order as the one-thread call: the matrices of different arms do not meet. Chunks of about
 * count/ARM_CHUNKS rows, cut only where an arm's run ends (one chunk where one arm has every row).
 */
export function armRuns(arms: Int32Array): ArmRuns {
  const last = new Map<number, number>();
  let grouped = true;
  for (let u = 0; u < arms.length; u++) {
    const seen = last.get(arms[u]!);
    if (seen !== undefined && seen !== u - 1) grouped = false;
    last.set(arms[u]!, u);
  }
  let order: Int32Array | null = null;
  if (!grouped) {
    const rows = new Map<number, number[]>();
    arms.forEach((a, u) => {
      const list = rows.get(a);
      if (list) list.push(u);
      else rows.set(a, [u]);
    });
    order = Int32Array.from([...rows.values()].flat());
  }
  const armAt = (u: number) => arms[order ? order[u]! : u]!;
  const step = Math.max(1, Math.ceil(arms.length / Math.min(ARM_CHUNKS, MAX_CHUNKS)));
  const starts = arms.length ? [0] : [];
  for (let u = 1, next = step; u < arms.length; u++) {
    if (u >= next && armAt(u) !== armAt(u - 1)) {
      starts.push(u);
      next = u + step;
    }
  }
  return { order, starts };
}

/** `values` (one a row) in the order `order` takes the rows. */
export function reorder<T extends Int32Array | Float32Array>(values: T, order: Int32Array | null): T {
  if (!order) return values;
  const out = new (values.constructor as new (n: number) => T)(order.length);
  order.forEach((u, i) => (out[i] = values[u]!));
  return out;
}
