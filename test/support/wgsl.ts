/**
 * A small reader of WGSL source for the uniform-layout test: the structs, the functions, which
 * `var<uniform>` at `@group(0) @binding(0)` an entry point reaches (several entry points of one
 * file may bind different structs there), and a comparison of that struct with the TS declaration
 * (`uniforms()` in src/gpu/uniforms.ts) by names, types, order, offsets and size. The offsets are
 * computed here again from WGSL's layout rules, apart from the library's own computation.
 */
import type { UniformLayout } from '../../src/gpu/uniforms.js';

export interface WgslField {
  readonly name: string;
  /** The type as written, normalised: `vec4<f32>` → `vec4f`. */
  readonly type: string;
  /** Attributes written on the field (e.g. `@align(16)`), which the TS declaration cannot express. */
  readonly attributes: string;
}

export interface WgslStruct {
  readonly name: string;
  readonly fields: readonly WgslField[];
}

/** The source without comments (line and block), so commented-out code does not count. */
export function stripComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/\/\/[^\n]*/g, '');
}

/** Splits at commas outside <…> and (…). */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0, start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '<' || c === '(') depth++;
    else if (c === '>' || c === ')') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.map((p) => p.trim()).filter(Boolean);
}

const SHORT: Record<string, string> = { f32: 'f', u32: 'u', i32: 'i', f16: 'h' };

/** `vec4<f32>` → `vec4f`; other types as written, without spaces. */
export function normaliseType(type: string): string {
  const t = type.replace(/\s+/g, '');
  const m = /^vec([234])<(\w+)>$/.exec(t);
  return m && SHORT[m[2]!] ? `vec${m[1]}${SHORT[m[2]!]}` : t;
}

export function parseStructs(source: string): Map<string, WgslStruct> {
  const code = stripComments(source);
  const structs = new Map<string, WgslStruct>();
  for (const m of code.matchAll(/\bstruct\s+(\w+)\s*\{([^}]*)\}/g)) {
    const fields = splitTopLevel(m[2]!).map((decl): WgslField => {
      const f = /^((?:@\w+(?:\([^)]*\))?\s*)*)(\w+)\s*:\s*(.+)$/s.exec(decl);
      if (!f) throw new Error(`struct ${m[1]}: cannot read the field '${decl}'`);
      return { name: f[2]!, type: normaliseType(f[3]!), attributes: f[1]!.trim() };
    });
    structs.set(m[1]!, { name: m[1]!, fields });
  }
  return structs;
}

/** Every function's body (the text between its braces), by name. */
export function functionBodies(source: string): Map<string, string> {
  const code = stripComments(source);
  const bodies = new Map<string, string>();
  for (const m of code.matchAll(/\bfn\s+(\w+)\s*\(/g)) {
    const open = code.indexOf('{', m.index + m[0].length);
    let depth = 0, i = open;
    for (; i < code.length; i++) {
      if (code[i] === '{') depth++;
      else if (code[i] === '}' && --depth === 0) break;
    }
    bodies.set(m[1]!, code.slice(open + 1, i));
  }
  return bodies;
}

/** Module-scope `var<uniform>` declarations: variable → { group, binding, type }. */
export function uniformVariables(source: string): Map<string, { group: number; binding: number; type: string }> {
  const code = stripComments(source);
  const vars = new Map<string, { group: number; binding: number; type: string }>();
  for (const m of code.matchAll(/((?:@\w+\([^)]*\)\s*)+)var\s*<\s*uniform\s*>\s*(\w+)\s*:\s*(\w+)/g)) {
    const group = /@group\(\s*(\d+)\s*\)/.exec(m[1]!), binding = /@binding\(\s*(\d+)\s*\)/.exec(m[1]!);
    if (!group || !binding) continue;
    vars.set(m[2]!, { group: Number(group[1]), binding: Number(binding[1]), type: m[3]! });
  }
  return vars;
}

/**
 * The struct of the `var<uniform>` at `@group(0) @binding(0)` that `entryPoint` uses (itself or
 * through the functions it calls). Throws when it uses none or more than one.
 */
export function uniformStructOf(source: string, entryPoint: string): WgslStruct {
  const bodies = functionBodies(source);
  if (!bodies.has(entryPoint)) throw new Error(`no function ${entryPoint} in the source`);
  const atZero = new Map([...uniformVariables(source)].filter(([, v]) => v.group === 0 && v.binding === 0));
  const seen = new Set<string>(), used = new Set<string>();
  const visit = (fn: string): void => {
    if (seen.has(fn)) return;
    seen.add(fn);
    for (const [id] of bodies.get(fn)!.matchAll(/[A-Za-z_]\w*/g)) {
      if (bodies.has(id)) visit(id);
      else if (atZero.has(id)) used.add(id);
    }
  };
  visit(entryPoint);
  if (used.size !== 1) {
    throw new Error(`${entryPoint} uses ${used.size === 0 ? 'no' : [...used].join(' and ')} var<uniform> at @group(0) @binding(0)`);
  }
  const type = atZero.get([...used][0]!)!.type;
  const struct = parseStructs(source).get(type);
  if (!struct) throw new Error(`${entryPoint}: the uniform's type ${type} is not a struct of the source`);
  return struct;
}

/** WGSL's AlignOf and SizeOf, for the types a uniform struct here may hold (vec3 included, to be caught). */
const WGSL_LAYOUT: Record<string, { align: number; size: number }> = {
  u32: { align: 4, size: 4 }, i32: { align: 4, size: 4 }, f32: { align: 4, size: 4 },
  vec2u: { align: 8, size: 8 }, vec2i: { align: 8, size: 8 }, vec2f: { align: 8, size: 8 },
  vec3u: { align: 16, size: 12 }, vec3i: { align: 16, size: 12 }, vec3f: { align: 16, size: 12 },
  vec4u: { align: 16, size: 16 }, vec4i: { align: 16, size: 16 }, vec4f: { align: 16, size: 16 },
};

/** Offsets and size of a WGSL struct of scalars and vectors by WGSL's rules, or null for any other field. */
export function wgslOffsets(struct: WgslStruct): { offsets: number[]; size: number } | null {
  const offsets: number[] = [];
  let end = 0, align = 4;
  for (const f of struct.fields) {
    const t = WGSL_LAYOUT[f.type];
    if (!t || f.attributes) return null;
    const offset = Math.ceil(end / t.align) * t.align;
    offsets.push(offset);
    end = offset + t.size;
    align = Math.max(align, t.align);
  }
  return { offsets, size: Math.ceil(end / align) * align };
}

/** What differs between the WGSL struct and the TS declaration; empty when they agree. */
export function layoutMismatches(struct: WgslStruct, layout: UniformLayout): string[] {
  const out: string[] = [];
  if (struct.name !== layout.name) out.push(`struct name: WGSL ${struct.name}, TS ${layout.name}`);
  const n = Math.max(struct.fields.length, layout.fields.length);
  for (let i = 0; i < n; i++) {
    const w = struct.fields[i], t = layout.fields[i];
    if (!w) out.push(`field ${i}: TS ${t!.name}: ${t!.type} has no WGSL field`);
    else if (!t) out.push(`field ${i}: WGSL ${w.name}: ${w.type} has no TS field`);
    else {
      if (w.name !== t.name) out.push(`field ${i}: WGSL ${w.name}, TS ${t.name}`);
      if (w.type !== t.type) out.push(`field ${i} (${w.name}): WGSL type ${w.type}, TS ${t.type}`);
      if (w.attributes) out.push(`field ${i} (${w.name}): WGSL attributes ${w.attributes} (not declarable in TS)`);
    }
  }
  const wgsl = wgslOffsets(struct);
  if (!wgsl) {
    out.push(`struct ${struct.name}: a field of a type (or with attributes) the TS declaration cannot express`);
  } else if (out.length === 0) {
    wgsl.offsets.forEach((o, i) => {
      if (layout.fields[i]!.offset !== o) out.push(`field ${i} (${layout.fields[i]!.name}): WGSL offset ${o}, TS ${layout.fields[i]!.offset}`);
    });
    if (wgsl.size !== layout.size) out.push(`size: WGSL ${wgsl.size} bytes, TS ${layout.size}`);
  }
  return out;
}
