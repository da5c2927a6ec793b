import { CPU_OPS } from '../cpu/backend.js';
import { CpuTensor } from '../cpu/tensor.js';
import type { OpArgs, OpImpls, OpName } from '../core/op-args.js';
import { Tensor } from '../core/tensor.js';
import { WasmTensor } from './tensor.js';

/**
 * The generic adapter: an op of the registry without a kernel in wasm/*.c runs its float64 twin
 * (src/cpu/) on copies of the f32 tensors, and every tensor it was given is written back rounded
 * to f32 (inputs come back unchanged: f32 → float64 → f32 is exact). For ops added to the
 * registry after the kernels were written, so the wasm backend serves every op from the day it
 * lands; `backend.info.twinOps` lists the ones it serves.
 */
export function twinOp<K extends OpName>(name: K): (args: OpArgs[K]) => void {
  const twin = CPU_OPS[name] as (args: OpArgs[K]) => void;
  return (args) => {
    // One copy per tensor, so an op given the same tensor twice sees one array, as on the other backends.
    const copies = new Map<WasmTensor, CpuTensor>();
    const convert = (v: unknown): unknown => {
      if (v instanceof WasmTensor) {
        let c = copies.get(v);
        if (!c) {
          c = new CpuTensor(twinOp, v.shape, { dtype: v.dtype, label: v.label });
          c.data.set(v.view());
          copies.set(v, c);
        }
        return c;
      }
      if (Array.isArray(v) && v.some((e) => e instanceof Tensor)) return v.map(convert);
      return v;
    };
    const converted = Object.fromEntries(Object.entries(args).map(([key, v]) => [key, convert(v)]));
    twin(converted as unknown as OpArgs[K]);
    for (const [w, c] of copies) w.view().set(c.data);
  };
}

/** The whole registry: `native` where given, the twin adapter for every other op. */
export function withTwinAdapter(native: { readonly [K in OpName]?: (args: OpArgs[K]) => void }): { ops: OpImpls; twinOps: OpName[] } {
  const ops: Record<string, unknown> = {};
  const twinOps: OpName[] = [];
  for (const name of Object.keys(CPU_OPS) as OpName[]) {
    const own = native[name];
    if (own) ops[name] = own;
    else {
      ops[name] = twinOp(name);
      twinOps.push(name);
    }
  }
  return { ops: ops as OpImpls, twinOps };
}
