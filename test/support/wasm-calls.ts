import type { WasmKernelName, WasmKernels } from '../../src/wasm/module.js';

/** How often the suite called each function export of the wasm kernels (test/wasm/exports.spec.ts reads it). */
export const WASM_CALLS = new Map<string, number>();

/** The kernels with every function export counted into WASM_CALLS on the way through. */
export function countingKernels(k: WasmKernels): WasmKernels {
  const wrapped: Record<string, unknown> = { memory: k.memory, __heap_base: k.__heap_base };
  for (const [name, f] of Object.entries(k)) {
    if (typeof f !== 'function') continue;
    WASM_CALLS.set(name, 0);
    wrapped[name] = (...args: number[]) => {
      WASM_CALLS.set(name, WASM_CALLS.get(name)! + 1);
      return (f as (...a: number[]) => unknown)(...args);
    };
  }
  return wrapped as unknown as WasmKernels;
}

export type { WasmKernelName };
