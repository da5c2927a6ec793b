import { BackendError } from '../core/errors.js';

/** The WGSL types a uniform field may have: 32-bit scalars and their 2- and 4-vectors. */
export type UniformType = 'u32' | 'i32' | 'f32' | 'vec2u' | 'vec2i' | 'vec2f' | 'vec4u' | 'vec4i' | 'vec4f';

/** A uniform struct's fields, in declaration order: field name → WGSL type. */
export type UniformFields = Readonly<Record<string, UniformType>>;

type ValueOf<T extends UniformType> = T extends 'u32' | 'i32' | 'f32' ? number : readonly number[];

/** The values of a uniform struct, one per field, checked against the field's type when written. */
export type UniformValues<F extends UniformFields> = { readonly [K in keyof F]: ValueOf<F[K]> };

/** The fields of a declared layout: `KernelDescriptor<FieldsOf<typeof MyParams>>`. */
export type FieldsOf<L> = L extends UniformLayout<infer F> ? F : never;

/** One field of a uniform struct, at its byte offset by WGSL's layout rules. */
export interface UniformField {
  readonly name: string;
  readonly type: UniformType;
  readonly offset: number;
}

/**
 * A kernel's uniform struct (the `var<uniform>` at `@group(0) @binding(0)`), declared once in TS
 * with the same field names, types and order as the WGSL struct; a test reads every kernel's WGSL
 * and compares. Made by `uniforms()`.
 */
export interface UniformLayout<F extends UniformFields = UniformFields> {
  /** The WGSL struct's name. */
  readonly name: string;
  readonly fields: readonly UniformField[];
  /** Bytes of the struct: the end of its last field rounded up to its alignment (WGSL's SizeOf). */
  readonly size: number;
  /** Writes the values at `byteOffset` of `view` (a slot of the runtime's uniform chunk). */
  write(values: UniformValues<F>, view: DataView, byteOffset: number): void;
  /** The values in a new buffer of `size` bytes rounded up to 16. */
  pack(values: UniformValues<F>): ArrayBuffer;
}

/** WGSL's AlignOf and SizeOf of each type (host-shareable layout, which uniform structs of these types also meet). */
export const UNIFORM_TYPES: Readonly<Record<UniformType, { readonly align: number; readonly size: number; readonly scalar: 'u32' | 'i32' | 'f32' }>> = {
  u32: { align: 4, size: 4, scalar: 'u32' },
  i32: { align: 4, size: 4, scalar: 'i32' },
  f32: { align: 4, size: 4, scalar: 'f32' },
  vec2u: { align: 8, size: 8, scalar: 'u32' },
  vec2i: { align: 8, size: 8, scalar: 'i32' },
  vec2f: { align: 8, size: 8, scalar: 'f32' },
  vec4u: { align: 16, size: 16, scalar: 'u32' },
  vec4i: { align: 16, size: 16, scalar: 'i32' },
  vec4f: { align: 16, size: 16, scalar: 'f32' },
};

/** Most bytes a uniform struct may take: one slot of the runtime's uniform chunks. */
export const MAX_UNIFORM_BYTES = 256;

const roundUp = (v: number, to: number): number => Math.ceil(v / to) * to;

function writeScalar(layout: string, field: string, scalar: 'u32' | 'i32' | 'f32', v: unknown, view: DataView, at: number): void {
  if (typeof v === 'number') {
    if (scalar === 'f32') return view.setFloat32(at, v, true);
    if (Number.isInteger(v)) {
      if (scalar === 'u32' && v >= 0 && v <= 0xffffffff) return view.setUint32(at, v, true);
      if (scalar === 'i32' && v >= -0x80000000 && v <= 0x7fffffff) return view.setInt32(at, v, true);
    }
  }
  // A value out of its type's range would wrap silently into a wrong index or size: refuse it.
  throw new BackendError(`webgpu-bandits: uniform ${layout}.${field} = ${String(v)} is not a ${scalar}`);
}

/**
 * Declares a uniform struct: its WGSL name and fields in declaration order. Offsets and size
 * follow WGSL's layout rules (each field at its type's alignment).
 *
 * @example
 * const AxpyParams = uniforms('ElementwiseParams', { n: 'u32', alpha: 'f32' });
 * const bytes = AxpyParams.pack({ n: 1000, alpha: 0.5 });   // 16 bytes: n, alpha, padding
 */
export function uniforms<const F extends UniformFields>(name: string, fields: F): UniformLayout<F> {
  const list: UniformField[] = [];
  let end = 0, align = 4;
  for (const [field, type] of Object.entries(fields)) {
    const t = UNIFORM_TYPES[type];
    if (!t) throw new Error(`uniforms ${name}: field ${field} has unknown type ${String(type)}`);
    const offset = roundUp(end, t.align);
    list.push({ name: field, type, offset });
    end = offset + t.size;
    align = Math.max(align, t.align);
  }
  const size = roundUp(Math.max(end, 4), align);
  if (size > MAX_UNIFORM_BYTES) throw new Error(`uniforms ${name}: ${size} bytes, over one ${MAX_UNIFORM_BYTES}-byte slot`);
  const write = (values: UniformValues<F>, view: DataView, byteOffset: number): void => {
    const record = values as Readonly<Record<string, unknown>>;
    for (const f of list) {
      const t = UNIFORM_TYPES[f.type];
      const v = record[f.name];
      if (t.size === 4) {
        writeScalar(name, f.name, t.scalar, v, view, byteOffset + f.offset);
      } else {
        const n = t.size / 4;
        if (!Array.isArray(v) || v.length !== n) throw new BackendError(`webgpu-bandits: uniform ${name}.${f.name} needs ${n} numbers`);
        for (let i = 0; i < n; i++) writeScalar(name, `${f.name}[${i}]`, t.scalar, v[i], view, byteOffset + f.offset + 4 * i);
      }
    }
  };
  return {
    name,
    fields: list,
    size,
    write,
    pack(values) {
      const bytes = new ArrayBuffer(roundUp(size, 16));
      write(values, new DataView(bytes), 0);
      return bytes;
    },
  };
}

/**
 * The positional packing the kernels used before their structs were declared with `uniforms()`:
 * `format` has one letter per 4-byte field, 'u' (u32), 'i' (i32) or 'f' (f32), in declaration order.
 * Kept for kernels written against it; a kernel whose descriptor has no `uniforms` layout fails the
 * uniform-layout test until it declares one.
 *
 * @example
 * rt.dispatch({ kernel, buffers, uniforms: params('uf', n, alpha), workgroups });
 */
export function params(format: string, ...values: number[]): ArrayBuffer {
  if (format.length !== values.length) throw new Error(`params: ${format} needs ${format.length} values`);
  const fields: Record<string, UniformType> = {};
  for (let i = 0; i < format.length; i++) {
    const type = ({ u: 'u32', i: 'i32', f: 'f32' } as const)[format[i] as 'u' | 'i' | 'f'];
    if (!type) throw new Error(`params: unknown field type '${format[i]}'`);
    fields[`f${i}`] = type;
  }
  const record: Record<string, number> = {};
  values.forEach((v, i) => (record[`f${i}`] = v));
  return uniforms('params', fields).pack(record);
}
