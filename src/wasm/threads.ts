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
/** Control block: i32 [job seq, done seq, ready, kernel index, argc, failed, claimed seq, -], then f64 arguments. */
const CTRL_BYTES = 32 + 8 * 32;
/** Pages of the shared memory at the start; it grows as the heap needs (up to 4 GiB). */
const INITIAL_PAGES = 64;

// The worker's script, the same in a worker_threads Worker (eval) and a Web Worker (Blob URL).
const WORKER_SOURCE = `
const port = typeof require === 'function' ? require('node:worker_threads').parentPort : self;
const listen = (f) => (port.on ? port.on('message', f) : (port.onmessage = (e) => f(e.data)));
listen((msg) => {
  const k = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory }, math: { exp: Math.exp, log: Math.log, log1p: Math.log1p, cos: Math.cos, sin: Math.sin } }).exports;
  k.__stack_pointer.value = msg.stackTop;
  const ctrl = new Int32Array(msg.memory.buffer, msg.ctrl, 8), args = new Float64Array(msg.memory.buffer, msg.ctrl + 32, 32);
  const fns = msg.names.map((n) => k[n]);
  Atomics.store(ctrl, 2, 1);
  let seen = 0;
  for (;;) {
    Atomics.wait(ctrl, 0, seen);
    seen = Atomics.load(ctrl, 0);
    if (seen < 0) return;
    // The calling thread takes the job back if it gets there first (this thread not scheduled yet).
    if (Atomics.compareExchange(ctrl, 6, seen - 1, seen) !== seen - 1) continue;
    try {
      fns[ctrl[3]](...Array.from(args.subarray(0, ctrl[4])));
    } catch (e) {
      Atomics.store(ctrl, 5, 1);
    }
    Atomics.store(ctrl, 1, seen);
    Atomics.notify(ctrl, 1);
  }
});
`;

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
  private readonly index: ReadonlyMap<WasmKernelName, number>;
  /** Atomics.wait on this thread (Node, workers) or a spin on Atomics.load (a page's main thread may not block). */
  private readonly canBlock: boolean;
  private seq = 0;

  private constructor(readonly kernels: WasmKernels, private readonly worker: KernelWorker, ctrlPtr: number, names: readonly WasmKernelName[]) {
    this.ctrl = new Int32Array(kernels.memory.buffer, ctrlPtr, 8);
    this.args = new Float64Array(kernels.memory.buffer, ctrlPtr + 32, 32);
    this.index = new Map(names.map((n, i) => [n, i]));
    let block = true;
    try {
      Atomics.wait(this.ctrl, 7, 1, 0);
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
    new Int32Array(memory.buffer, ctrl, 8).fill(0);
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
   * `name(...args)` on the worker while `here()` runs on this thread, then waits for it. If the
   * worker has not picked the job up by the time `here()` is done (it was not scheduled: other
   * processes hold the cores), this thread runs `there()`, the same call, itself: a split is then
   * never much slower than one thread. A kernel that trapped on the worker is a BackendError.
   */
  split(name: WasmKernelName, args: readonly number[], here: () => void, there: () => void): void {
    const at = this.index.get(name);
    if (at === undefined || args.length > this.args.length) throw new BackendError(`wasm: the worker has no kernel ${name}`);
    const seq = ++this.seq;
    this.args.set(args);
    Atomics.store(this.ctrl, 3, at);
    Atomics.store(this.ctrl, 4, args.length);
    Atomics.store(this.ctrl, 0, seq);
    Atomics.notify(this.ctrl, 0);
    try {
      here();
    } finally {
      if (Atomics.compareExchange(this.ctrl, 6, seq - 1, seq) === seq - 1) {
        this.stolen++;
        there();
      } else {
        this.join(seq);
      }
    }
  }

  /** Splits whose second part this thread ran itself (the worker was late), for the bench and tests. */
  stolen = 0;
  /** Splits made. */
  get splits(): number {
    return this.seq;
  }

  private join(seq: number): void {
    for (let v = Atomics.load(this.ctrl, 1); this.canBlock && v !== seq; v = Atomics.load(this.ctrl, 1)) Atomics.wait(this.ctrl, 1, v, 1000);
    while (Atomics.load(this.ctrl, 1) !== seq) { /* spin: a page's main thread may not block */ }
    if (Atomics.exchange(this.ctrl, 5, 0)) throw new BackendError('wasm: a kernel trapped on the worker thread');
  }

  dispose(): void {
    Atomics.store(this.ctrl, 0, -1);
    Atomics.notify(this.ctrl, 0);
    this.worker.terminate();
  }
}
