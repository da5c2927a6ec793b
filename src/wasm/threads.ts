import threadedBytes from '../../wasm/kernels-mt.wasm';
import { BackendError } from '../core/errors.js';
import type { KernelWorker } from '../platform/types.js';
import { MATH_IMPORTS, type WasmKernelName, type WasmKernels } from './module.js';

// The second thread of the wasm backend: kernels-mt.wasm (the same C, over one shared memory)
// instantiated on the page's (or process's) thread and in one worker. A call that is split runs
// its first part here and the rest there at the same time; the worker is told through a control
// block in the shared memory (Atomics), so nothing is copied and no message crosses per call.

/** Bytes a worker's stack takes from the heap (the kernels' temporaries live there, as on the main thread's 1 MiB). */
const WORKER_STACK = 1024 * 1024;
/**
 * Control block, i32: [0] job seq (−1: stop), [1] per-thread arguments, [2] ready, [3] kernel index, [4] argc, [5] failed,
 * [6] next chunk (a counter that never goes back: job s owns chunk ids [start, start + n)),
 * [7] chunks done, [8] n, [9] units a chunk (0: the bounds below), [10] units in all, [11] the count argument,
 * [12] shifted arguments, [13] start, [14] chunks the worker ran; from byte 64, f64: 32 arguments, 8 (index,
 * per-unit shift) pairs, 4 (index, bytes a thread) pairs; from byte BOUNDS_AT, i32: the chunks' first units and the end.
 */
const ARGS_AT = 64, SHIFTS_AT = ARGS_AT + 8 * 32, PER_THREAD_AT = SHIFTS_AT + 8 * 16, BOUNDS_AT = PER_THREAD_AT + 8 * 8;
/** The most chunks a plan with explicit bounds may have. */
export const MAX_CHUNKS = 64;
const CTRL_BYTES = BOUNDS_AT + 4 * (MAX_CHUNKS + 4);
/** Pages of the shared memory at the start; it grows as the heap needs (up to 4 GiB). */
const INITIAL_PAGES = 64;
/** Chunks a split call is cut into: whichever thread is free takes the next, so a thread that is not scheduled delays the call by a chunk at most. */
const CHUNKS = 8;

/**
 * Takes chunks of the current job until none are left and returns how many it ran; the same
 * function runs on both threads (the worker gets its source text, so nothing is eval'd on the
 * page's thread: a strict Content-Security-Policy still loads the library). A chunk is claimed by
 * compareExchange inside the job's own range, so a thread that read an older job can never take
 * (and misuse) a chunk of a newer one. `thread` (0 the caller, 1 the worker) picks the thread's own
 * temporaries. Self-contained: it uses only its parameters and globals.
 */
function takeChunks(ctrl: Int32Array, args: Float64Array, shifts: Float64Array, perThread: Float64Array, bounds: Int32Array,
  fn: (...a: number[]) => void, thread: number): number {
  const argc = ctrl[4]!, n = ctrl[8]!, unit = ctrl[9]!, total = ctrl[10]!, ci = ctrl[11]!, ns = ctrl[12]!, start = ctrl[13]!, np = ctrl[1]!;
  const base = Array.from(args.subarray(0, argc)), a = base.slice();
  for (let j = 0; j < np; j++) a[perThread[2 * j]!] = base[perThread[2 * j]!]! + thread * perThread[2 * j + 1]!;
  let ran = 0;
  for (;;) {
    const cur = Atomics.load(ctrl, 6);
    if (cur - start >= n || cur < start) return ran;
    if (Atomics.compareExchange(ctrl, 6, cur, cur + 1) !== cur) continue;
    const c = cur - start, from = unit ? c * unit : bounds[c]!;
    for (let j = 0; j < ns; j++) a[shifts[2 * j]!] = base[shifts[2 * j]!]! + shifts[2 * j + 1]! * from;
    a[ci] = unit ? Math.min(unit, total - from) : bounds[c + 1]! - from;
    try {
      fn(...a);
    } catch {
      Atomics.store(ctrl, 5, 1);
    }
    ran++;
    Atomics.add(ctrl, 7, 1);
    Atomics.notify(ctrl, 7);
  }
}

// The worker's script, the same in a worker_threads Worker (eval) and a Web Worker (Blob URL):
// the platform's spawnWorker defines \`port\` before it (Node's parentPort, or the worker's self).
const WORKER_SOURCE = `
const listen = (f) => (port.on ? port.on('message', f) : (port.onmessage = (e) => f(e.data)));
const takeChunks = ${takeChunks.toString()};
listen((msg) => {
  const k = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory }, math: { exp: Math.exp, log: Math.log, log1p: Math.log1p, cos: Math.cos, sin: Math.sin } }).exports;
  k.__stack_pointer.value = msg.stackTop;
  const ctrl = new Int32Array(msg.memory.buffer, msg.ctrl, 16), args = new Float64Array(msg.memory.buffer, msg.ctrl + ${ARGS_AT}, 32);
  const shifts = new Float64Array(msg.memory.buffer, msg.ctrl + ${SHIFTS_AT}, 16), perThread = new Float64Array(msg.memory.buffer, msg.ctrl + ${PER_THREAD_AT}, 8);
  const bounds = new Int32Array(msg.memory.buffer, msg.ctrl + ${BOUNDS_AT}, ${MAX_CHUNKS + 1});
  const fns = msg.names.map((n) => k[n]);
  Atomics.store(ctrl, 2, 1);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, 0, seen);
    seen = Atomics.load(ctrl, 0);
    if (seen < 0) return;
    Atomics.add(ctrl, 14, takeChunks(ctrl, args, shifts, perThread, bounds, fns[ctrl[3]], 1));
  }
});
`;

/**
 * How a call is cut: `count` is the argument that says how many units, `shifts` the arguments that
 * move by a per-unit amount (a chunk starting at unit u gets base + u·perUnit).
 */
export interface SplitPlan {
  readonly total: number;
  /** Units a chunk takes a multiple of (4 for rows the kernel takes four at a time). */
  readonly multiple: number;
  readonly count: number;
  readonly shifts: readonly (readonly [index: number, perUnit: number])[];
  /**
   * The chunks' first units, ascending from 0, in place of equal chunks (at most MAX_CHUNKS): e.g.
   * cuts only where one arm's run of updates ends, so no two threads touch one arm. `multiple` is then unused.
   */
  readonly starts?: readonly number[];
  /** Arguments that are a temporary of `bytes` a thread: the worker gets the argument + bytes (the caller must pass room for two). */
  readonly perThread?: readonly (readonly [index: number, bytes: number])[];
}

let threadedModule: Promise<WebAssembly.Module> | null = null;

/** Why a second thread cannot run here, or '' when it can. */
export function threadsUnavailable(): string {
  if (typeof SharedArrayBuffer === 'undefined') return 'no SharedArrayBuffer (a page must be cross-origin isolated: COOP/COEP headers)';
  if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return 'the page is not cross-origin isolated (COOP/COEP headers)';
  if (typeof Atomics === 'undefined') return 'no Atomics';
  return '';
}

/**
 * The kernels over a shared memory, and the worker thread running a second instance of them.
 * Made by `WasmThreads.start`; `null` from there means one thread (with the reason).
 */
export class WasmThreads {
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly shifts: Float64Array;
  private readonly perThread: Float64Array;
  private readonly bounds: Int32Array;
  private readonly index: ReadonlyMap<WasmKernelName, number>;
  /** Atomics.wait on this thread (Node, workers) or a spin on Atomics.load (a page's main thread may not block). */
  private readonly canBlock: boolean;
  private seq = 0;
  private nextStart = 0;

  private constructor(readonly kernels: WasmKernels, private readonly worker: KernelWorker, ctrlPtr: number, names: readonly WasmKernelName[]) {
    this.ctrl = new Int32Array(kernels.memory.buffer, ctrlPtr, 16);
    this.args = new Float64Array(kernels.memory.buffer, ctrlPtr + ARGS_AT, 32);
    this.shifts = new Float64Array(kernels.memory.buffer, ctrlPtr + SHIFTS_AT, 16);
    this.perThread = new Float64Array(kernels.memory.buffer, ctrlPtr + PER_THREAD_AT, 8);
    this.bounds = new Int32Array(kernels.memory.buffer, ctrlPtr + BOUNDS_AT, MAX_CHUNKS + 1);
    this.index = new Map(names.map((n, i) => [n, i]));
    let block = true;
    try {
      Atomics.wait(this.ctrl, 15, 1, 0);
    } catch {
      block = false;
    }
    this.canBlock = block;
  }

  /**
   * Kernels over a fresh shared memory and one started worker, or the reason there are none.
   * `alloc` takes the worker's stack and the control block from the heap over that memory.
   */
  static async start<H extends { alloc(bytes: number): number }>(spawn: (source: string) => KernelWorker | null, heapOf: (k: WasmKernels) => H)
    : Promise<{ threads: WasmThreads; heap: H } | { reason: string }> {
    const why = threadsUnavailable();
    if (why) return { reason: why };
    threadedModule ??= WebAssembly.compile(threadedBytes as Uint8Array<ArrayBuffer>).catch((e: unknown) => {
      threadedModule = null;
      throw new BackendError(`wasm: the threaded kernels do not compile here: ${e instanceof Error ? e.message : String(e)}`);
    });
    let module: WebAssembly.Module;
    try {
      module = await threadedModule;
    } catch (e) {
      return { reason: e instanceof Error ? e.message : String(e) };
    }
    const memory = new WebAssembly.Memory({ initial: INITIAL_PAGES, maximum: 65536, shared: true });
    const instance = await WebAssembly.instantiate(module, { env: { memory }, math: MATH_IMPORTS });
    const kernels = { ...instance.exports, memory } as unknown as WasmKernels;
    const heap = heapOf(kernels);
    const worker = spawn(WORKER_SOURCE);
    if (!worker) return { reason: 'this runtime cannot start a worker' };
    const stack = heap.alloc(WORKER_STACK), ctrl = heap.alloc(CTRL_BYTES);
    new Int32Array(memory.buffer, ctrl, 16).fill(0);
    const names = WebAssembly.Module.exports(module).filter((e) => e.kind === 'function').map((e) => e.name as WasmKernelName);
    worker.postMessage({ module, memory, stackTop: stack + WORKER_STACK, ctrl, names });
    const threads = new WasmThreads(kernels, worker, ctrl, names);
    const deadline = Date.now() + 10_000;
    while (Atomics.load(threads.ctrl, 2) !== 1) {
      if (Date.now() > deadline) {
        worker.terminate();
        return { reason: 'the worker did not start within 10 s' };
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    return { threads, heap };
  }

  /**
   * Runs `name(...args)` cut into chunks along `plan`, both threads taking chunks until none are
   * left, and returns when every chunk is done. A kernel that trapped on either thread is a
   * BackendError here (after the other chunks have run).
   */
  split(name: WasmKernelName, args: readonly number[], plan: SplitPlan): void {
    const at = this.index.get(name), starts = plan.starts, perThread = plan.perThread ?? [];
    if (at === undefined || args.length > this.args.length || plan.shifts.length > 8 || perThread.length > 4 || (starts && (starts.length > MAX_CHUNKS || starts[0] !== 0))) {
      throw new BackendError(`wasm: the worker cannot run ${name} split`);
    }
    const unit = starts ? 0 : Math.ceil(Math.ceil(plan.total / CHUNKS) / plan.multiple) * plan.multiple;
    const n = starts ? starts.length : Math.ceil(plan.total / unit);
    const c = this.ctrl, start = this.nextStart;
    this.nextStart += n;
    this.args.set(args);
    plan.shifts.forEach(([i, d], j) => this.shifts.set([i, d], 2 * j));
    perThread.forEach(([i, d], j) => this.perThread.set([i, d], 2 * j));
    if (starts) {
      this.bounds.set(starts);
      this.bounds[n] = plan.total;
    }
    c[1] = perThread.length; c[3] = at; c[4] = args.length; c[8] = n; c[9] = unit; c[10] = plan.total; c[11] = plan.count;
    c[12] = plan.shifts.length; c[13] = start;
    Atomics.store(c, 7, 0);
    Atomics.store(c, 6, start);
    Atomics.store(c, 0, ++this.seq);
    Atomics.notify(c, 0);
    this.chunksHere += takeChunks(c, this.args, this.shifts, this.perThread, this.bounds, this.kernels[name] as (...a: number[]) => void, 0);
    for (let v = Atomics.load(c, 7); v !== n; v = Atomics.load(c, 7)) if (this.canBlock) Atomics.wait(c, 7, v, 1000);
    this.calls++;
    this.callsOf.set(name, (this.callsOf.get(name) ?? 0) + 1);
    if (Atomics.exchange(c, 5, 0)) throw new BackendError('wasm: a kernel trapped in a split call');
  }

  /** Split calls made, and the chunks this thread ran of them (the bench and the tests). */
  calls = 0;
  chunksHere = 0;
  /** Split calls made, by kernel. */
  readonly callsOf = new Map<WasmKernelName, number>();
  /** Chunks the worker ran. */
  get chunksThere(): number {
    return Atomics.load(this.ctrl, 14);
  }

  dispose(): void {
    Atomics.store(this.ctrl, 0, -1);
    Atomics.notify(this.ctrl, 0);
    this.worker.terminate();
  }
}
