// The fuzz engine, shared by the suite (test/fuzz/fuzz.spec.ts, a budget of cases) and the bench
// (bench/fuzz.ts, more): seeded cases over every public method, options, calls after dispose,
// mutated saves and non-awaited calls with reused buffers, each classified and counted.
import { BanditError, createBackend, type Backend } from '../../src/index.js';
import { crc32 } from '../../src/models/persist.js';
import { rng } from '../support/random.js';
import { call, subject, type AnyModel, type Subject, type SubjectName } from './subjects.js';

export type CaseClass = 'calls' | 'options' | 'disposed' | 'saves' | 'concurrency';
export const CLASSES: readonly CaseClass[] = ['calls', 'options', 'disposed', 'saves', 'concurrency'];

/** How one case ended. */
export type Outcome =
  /** A BanditError (with a message naming the model call, where the class asks for it), state unchanged. */
  | 'refused'
  /** Accepted where that is right: a plausible edit of a save that loads into a usable model. */
  | 'valid'
  /** Accepted though it should have been refused (or a usable-looking save that is not). */
  | 'accepted'
  /** Some other error: TypeError, RangeError, an internal op's message. */
  | 'other'
  /** Refused, but the state changed. */
  | 'changed'
  /** A loaded save whose next update or scores are not finite. */
  | 'poisoned'
  /** A BanditError whose message does not name the model call. */
  | 'message'
  /** Did not settle within HANG_MS. */
  | 'hang';

export const OUTCOMES: readonly Outcome[] = ['refused', 'valid', 'accepted', 'other', 'changed', 'poisoned', 'message', 'hang'];
/** The outcomes that hold the contract. */
export const GOOD: ReadonlySet<Outcome> = new Set(['refused', 'valid']);

export interface CaseResult {
  readonly cls: CaseClass;
  readonly subject: SubjectName;
  readonly what: string;
  readonly outcome: Outcome;
  readonly detail: string;
}

export type Tally = Record<CaseClass, Record<Outcome, number>>;

export function emptyTally(): Tally {
  const t = {} as Tally;
  for (const c of CLASSES) t[c] = Object.fromEntries(OUTCOMES.map((o) => [o, 0])) as Record<Outcome, number>;
  return t;
}

export function count(tally: Tally, results: readonly CaseResult[]): Tally {
  for (const r of results) tally[r.cls][r.outcome]++;
  return tally;
}

const HANG_MS = 20_000;
const F32_MAX = 3.4028234663852886e38;

type Settled = { ok: true; value: unknown } | { ok: false; error: unknown } | { hang: true };

/** Set by the bench's --trace: each case is logged before it runs (to find one that never returns). */
export const trace: { log: ((line: string) => void) | null; skip: RegExp | null } = { log: null, skip: null };

async function settle(p: () => Promise<unknown>, what = ''): Promise<Settled> {
  trace.log?.(what);
  // The bench's --skip: cases known to take the process down (counted as hangs, not run).
  if (trace.skip?.test(what)) return { hang: true };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<Settled>((resolve) => (timer = setTimeout(() => resolve({ hang: true }), HANG_MS)));
  let run: Promise<Settled>;
  try {
    run = p().then((value) => ({ ok: true as const, value }), (error: unknown) => ({ ok: false as const, error }));
  } catch (error) {
    run = Promise.resolve({ ok: false as const, error });
  }
  const out = await Promise.race([run, hang]);
  clearTimeout(timer);
  return out;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).slice(0, 300);

// ---------------------------------------------------------------------------------------------
// Bad values

/** Bad replacements of one argument (or field), by what the valid value is; `seed` picks indices. */
export function badValues(valid: unknown, seed: number): [string, unknown][] {
  const r = rng(seed);
  const at = (n: number) => Math.floor(r() * Math.max(1, n));
  const common: [string, unknown][] = [['null', null], ['a string', 'x'], ['an object', {}]];
  if (valid instanceof Float32Array) {
    const n = valid.length, i = at(n);
    const put = (v: number) => {
      const out = Array.from(valid) as unknown[];
      out[i] = v;
      return out;
    };
    const f64 = (v: number) => {
      const out = Float64Array.from(valid);
      out[i] = v;
      return out;
    };
    return [
      ...common,
      [`NaN at ${i}`, Float32Array.from(valid).fill(NaN, i, i + 1)],
      [`+Inf at ${i}`, Float32Array.from(valid).fill(Infinity, i, i + 1)],
      [`-Inf at ${i}`, Float32Array.from(valid).fill(-Infinity, i, i + 1)],
      [`1e39 at ${i} (plain array)`, put(1e39)],
      [`-MAX_VALUE at ${i} (plain array)`, put(-Number.MAX_VALUE)],
      [`3.5e38 at ${i} (Float64Array)`, f64(3.5e38)],
      [`-1e300 at ${i} (Float64Array)`, f64(-1e300)],
      [`a string at ${i}`, Array.from(valid, (v, j) => (j === i ? '1' : v))],
      [`null at ${i}`, Array.from(valid, (v, j) => (j === i ? null : v))],
      [`true at ${i}`, Array.from(valid, (v, j) => (j === i ? true : v))],
      ['one value more', Float32Array.from([...valid, 0.5])],
      ...(n > 1 ? [['one value less', valid.slice(0, n - 1)] as [string, unknown]] : []),
      ['empty', new Float32Array(0)],
      ['a BigInt64Array', new BigInt64Array(n)],
    ];
  }
  if (valid instanceof Int32Array) {
    const n = valid.length, i = at(n);
    const put = (v: number) => Int32Array.from(valid).fill(v, i, i + 1);
    return [
      ...common,
      [`1000 at ${i}`, put(1000)],
      [`-1 at ${i}`, put(-1)],
      [`2**31-1 at ${i}`, put(2 ** 31 - 1)],
      [`-2**31 at ${i}`, put(-(2 ** 31))],
      ['a Float32Array with 0.5', Float32Array.from(valid).fill(0.5, i, i + 1)],
      // The first index again: a length that matches nothing, or an arm given twice.
      ['one index more', Int32Array.from([...valid, valid[0] ?? 0])],
      ...(n > 1 ? [['one index less', valid.slice(0, n - 1)] as [string, unknown]] : []),
      ['a BigInt64Array', new BigInt64Array(n)],
    ];
  }
  if (valid instanceof Uint8Array) {
    return [...common, ['one value more', Uint8Array.from([...valid, 1])], ['all zero', new Uint8Array(valid.length)], ['a Float32Array', Float32Array.from(valid)]];
  }
  if (typeof valid === 'number') {
    const bad: [string, unknown][] = [['NaN', NaN], ['Infinity', Infinity], ['-1', -1], ['"2"', '2'], ['null', null], ['true', true], ['1e300', 1e300]];
    // Counts and sizes are integers.
    return Number.isInteger(valid) ? [...bad, ['1.5', 1.5]] : bad;
  }
  if (typeof valid === 'string') return [['another string', 'nope'], ['a number', 3], ['null', null], ['empty', '']];
  if (Array.isArray(valid)) {
    if (valid.every((v) => typeof v === 'string')) {
      return [...common, ['an unknown id', ['nope']], ['a number id', [3]], ['ids repeated', [...valid, ...valid]], ['empty ids with rewards', []]];
    }
    return common;
  }
  if (valid && typeof valid === 'object') {
    const out: [string, unknown][] = [...common.filter(([w]) => w !== 'an object'), ['a number', 5]];
    for (const [key, v] of Object.entries(valid)) {
      for (const [w, bad] of badValues(v, seed + key.length * 7919)) {
        // A clip of Infinity (or past f32) is no clipping: valid.
        if (key === 'clip' && (bad === Infinity || bad === 1e300)) continue;
        out.push([`${key}: ${w}`, { ...(valid as object), [key]: bad }]);
      }
    }
    return out;
  }
  return common;
}

// ---------------------------------------------------------------------------------------------
// Cases

/** One bad call of a live model: refused with a BanditError naming the call, the save bytes unchanged. */
async function badCall(s: Subject, model: AnyModel, method: string, args: unknown[], what: string, cls: CaseClass = 'calls'): Promise<CaseResult> {
  const before = await model.save();
  const out = await settle(() => call(model, method, ...args), `${s.name} ${method}(${what})`);
  const result = (outcome: Outcome, detail: string): CaseResult => ({ cls, subject: s.name, what: `${method}(${what})`, outcome, detail });
  if ('hang' in out) return result('hang', `no answer in ${HANG_MS} ms`);
  const after = await model.save();
  if (out.ok) return result(same(before, after) ? 'accepted' : 'changed', 'accepted');
  if (!(out.error instanceof BanditError)) return result('other', describe(out.error));
  if (!same(before, after)) return result('changed', describe(out.error));
  if (!out.error.message.startsWith(`${s.model}.`)) return result('message', describe(out.error));
  return result('refused', describe(out.error));
}

/** Every bad replacement of every argument of every method of `s` (at most `limit`, spread by `seed`). */
export async function callCases(s: Subject, backend: Backend, seed: number, limit = Infinity): Promise<CaseResult[]> {
  const { model, pending } = await s.make(backend);
  const results: CaseResult[] = [];
  try {
    const cases: [string, string, unknown[]][] = [];
    for (const c of s.calls(pending)) {
      const valid = c.args();
      valid.forEach((arg, i) => {
        if (arg === undefined) return;
        for (const [what, bad] of badValues(arg, seed + i * 101 + c.method.length)) {
          // The neural models take the arms of each call as its features: any index ≥ 0 is a label.
          if (s.anyArmIndex && (c.method === 'update' || c.method === 'warmStart') && /^(arms: )?(1000|2\*\*31-1) at/.test(what)) continue;
          const args = c.args();
          args[i] = bad;
          cases.push([c.method, `arg ${i}: ${what}`, args]);
        }
      });
      if (c.method !== 'train') cases.push([c.method, 'no arguments', []]);
    }
    for (const [method, what, args] of pick(cases, limit, seed)) results.push(await badCall(s, model, method, args, what));
  } finally {
    model.dispose();
  }
  return results;
}

function pick<T>(all: readonly T[], limit: number, seed: number): T[] {
  if (all.length <= limit) return all.slice();
  const r = rng(seed), out = all.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out.slice(0, limit);
}

/** Bad options of `create`, and a saved option overridden at `load`. */
export async function optionCases(s: Subject, backend: Backend, seed: number, limit = Infinity, huge = false): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const sizes = new Set(['arms', 'dim', 'sharedDim', 'users', 'items', 'contextDim', 'embeddingDim', 'hidden']);
  const cases: [string, Record<string, unknown>][] = [];
  for (const [key, v] of Object.entries(s.options)) {
    for (const [what, bad] of badValues(v, seed + key.length)) {
      // Huge sizes are the bench's (--huge): unchecked, they allocate or loop for minutes.
      if (!huge && sizes.has(key) && (bad === 1e300 || (Array.isArray(bad) && bad.includes(1e300)))) continue;
      // The neural models' seed (of the network's initialisation) is any integer.
      if (key === 'seed' && bad === -1 && (s.anyArmIndex || s.model === 'EmbeddingMLP')) continue;
      cases.push([`${key}: ${what}`, { ...s.options, [key]: bad }]);
    }
  }
  if ('alpha' in s.options) cases.push(['alpha: 1e300', { ...s.options, alpha: 1e300 }]);
  if (s.model === 'LinUCB' || s.model === 'LinTS') cases.push(['perArmFeatures: "false"', { ...s.options, perArmFeatures: 'false' }], ['perArmFeatures: 1', { ...s.options, perArmFeatures: 1 }]);
  if (s.anyArmIndex) cases.push(['hidden: null', { ...s.options, hidden: null }], ['confidence: null', { ...s.options, confidence: null }]);
  if (huge) {
    // Sizes past what any device holds: refused before anything is allocated.
    for (const key of Object.keys(s.options).filter((k) => sizes.has(k))) {
      for (const v of [1e9, 2 ** 31]) cases.push([`${key}: ${v}`, { ...s.options, [key]: key === 'hidden' ? [v] : v }]);
    }
    // Over what one binding holds on a GPU (the cpu backend has no bindings: a shard there holds what it needs).
    if ('arms' in s.options && backend.kind === 'webgpu') cases.push(['armsPerShard: 2**31', { ...s.options, armsPerShard: 2 ** 31 }]);
  }
  for (const [what, options] of pick(cases, limit, seed)) {
    const out = await settle(() => s.cls.create(backend, options), `${s.name} create(${what})`);
    const result = (outcome: Outcome, detail: string): CaseResult => ({ cls: 'options', subject: s.name, what: `create(${what})`, outcome, detail });
    if ('hang' in out) results.push(result('hang', ''));
    else if (out.ok) {
      (out.value as AnyModel).dispose();
      results.push(result('accepted', 'created'));
    } else if (!(out.error instanceof BanditError)) results.push(result('other', describe(out.error)));
    else if (!out.error.message.startsWith(s.model)) results.push(result('message', describe(out.error)));
    else results.push(result('refused', describe(out.error)));
  }
  // A saved option may not be overridden at load (only what the load's overrides name: the clock, shards).
  const { model } = await s.make(backend);
  const bytes = await model.save();
  model.dispose();
  for (const key of ['alpha', 'lambda', 'dim', 'nu', 'lr', 'users']) {
    if (!(key in s.options) && key !== 'lambda') continue;
    const out = await settle(() => s.cls.load(backend, bytes, { [key]: 7 }));
    const result = (outcome: Outcome, detail: string): CaseResult => ({ cls: 'options', subject: s.name, what: `load(bytes, { ${key}: 7 })`, outcome, detail });
    if ('hang' in out) results.push(result('hang', ''));
    else if (out.ok) {
      (out.value as AnyModel).dispose();
      results.push(result('accepted', 'loaded with an override'));
    } else results.push(result(out.error instanceof BanditError ? 'refused' : 'other', describe(out.error)));
  }
  return results;
}

/** Every valid call after the model's dispose and after its backend's: a BanditError naming the model call. */
export async function disposedCases(s: Subject, backend: Backend, fresh: () => Promise<Backend>): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  const check = async (model: AnyModel, how: string) => {
    for (const c of [...s.calls([]), { method: 'save', args: () => [] }]) {
      const out = await settle(() => call(model, c.method, ...c.args()));
      const result = (outcome: Outcome, detail: string): CaseResult => ({ cls: 'disposed', subject: s.name, what: `${c.method} after ${how}`, outcome, detail });
      if ('hang' in out) results.push(result('hang', ''));
      else if (out.ok) results.push(result('accepted', 'resolved'));
      else if (!(out.error instanceof BanditError)) results.push(result('other', describe(out.error)));
      else if (!out.error.message.startsWith(`${s.model}.${c.method}:`)) results.push(result('message', describe(out.error)));
      else results.push(result('refused', describe(out.error)));
    }
  };
  const a = await s.make(backend);
  a.model.dispose();
  await check(a.model, 'model.dispose()');
  const other = await fresh();
  const b = await s.make(other);
  other.dispose();
  await check(b.model, 'backend.dispose()');
  const c = await settle(() => s.cls.create(other, s.options));
  const outcome: Outcome = 'hang' in c ? 'hang' : c.ok ? 'accepted' : !(c.error instanceof BanditError) ? 'other' : c.error.message.startsWith(`${s.model}.create:`) ? 'refused' : 'message';
  results.push({ cls: 'disposed', subject: s.name, what: 'create on a disposed backend', outcome, detail: 'ok' in c && !c.ok ? describe(c.error) : '' });
  return results;
}

// ---------------------------------------------------------------------------------------------
// Saves

interface Container {
  header: { model: string; modelVersion: number; meta: Record<string, unknown>; arrays: { name: string; dtype: string; length: number }[] };
  /** Where the arrays start, and each one's offset. */
  arraysAt: number;
  offsets: number[];
}

const pad8 = (n: number): number => Math.ceil(n / 8) * 8;
const WIDTH: Record<string, number> = { f32: 4, f64: 8, i32: 4, u32: 4 };

function parse(bytes: Uint8Array): Container {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view.getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(16, 16 + h))) as Container['header'];
  const arraysAt = pad8(16 + h);
  const offsets: number[] = [];
  let at = arraysAt;
  for (const a of header.arrays) {
    offsets.push(at);
    at += pad8(a.length * WIDTH[a.dtype]!);
  }
  return { header, arraysAt, offsets };
}

/** The checksum recomputed, as a forger would. */
export function fixChecksum(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** The container with its JSON header replaced (`edit` may change it in place), arrays kept, checksum fixed. */
function withHeader(bytes: Uint8Array, edit: (h: Container['header']) => void): Uint8Array {
  const c = parse(bytes);
  edit(c.header);
  const json = new TextEncoder().encode(JSON.stringify(c.header));
  const body = bytes.subarray(c.arraysAt, bytes.length - 4);
  const out = new Uint8Array(pad8(16 + json.length) + body.length + 4);
  out.set(bytes.subarray(0, 12), 0);
  new DataView(out.buffer).setUint32(12, json.length, true);
  out.set(json, 16);
  out.set(body, pad8(16 + json.length));
  return fixChecksum(out);
}

/** Values a forger writes into an array element. */
const FORGED_FLOATS = [NaN, Infinity, -Infinity, 1e39, -1e39, F32_MAX, 1e38, -1e38, 1e30];
const FORGED_INTS = [-1, -5, 2 ** 31 - 1, 1000, -(2 ** 31)];

export interface Mutation {
  readonly what: string;
  readonly bytes: Uint8Array;
  /** Must be refused (a non-finite or out-of-range value, a bad size): else a usable load is fine. */
  readonly mustRefuse: boolean;
}

/** `n` seeded mutations of a save: raw byte flips, truncations, header edits, forged values (checksum fixed). */
export function mutations(bytes: Uint8Array, n: number, seed: number): Mutation[] {
  const r = rng(seed);
  const c = parse(bytes);
  const int = (k: number) => Math.floor(r() * k);
  const out: Mutation[] = [];
  const headerEdits: [string, (h: Container['header']) => void, boolean][] = [];
  const opts = (c.header.meta.options ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(opts)) {
    for (const v of [1e7, 2 ** 31, -1, 0, 1.5, 'x', null, 1e300]) {
      headerEdits.push([`options.${key} = ${String(v)}`, (h) => ((h.meta.options as Record<string, unknown>)[key] = v), false]);
    }
  }
  const counters = (c.header.meta.counters ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(counters)) {
    for (const v of [-1, 1.5, 'x', 1e300]) headerEdits.push([`counters.${key} = ${String(v)}`, (h) => ((h.meta.counters as Record<string, unknown>)[key] = v), false]);
  }
  c.header.arrays.forEach((a, i) => {
    // One value more or less may still fit the padding (a plausible shorter list); the rest cannot.
    for (const len of [a.length + 1, a.length - 1]) headerEdits.push([`arrays[${a.name}].length = ${len}`, (h) => (h.arrays[i]!.length = len), false]);
    for (const len of [1e9, -1, 2 ** 40]) headerEdits.push([`arrays[${a.name}].length = ${len}`, (h) => (h.arrays[i]!.length = len), true]);
    for (const dt of ['f64', 'i32', 'u8']) if (dt !== a.dtype) headerEdits.push([`arrays[${a.name}].dtype = ${dt}`, (h) => (h.arrays[i]!.dtype = dt), false]);
    headerEdits.push([`arrays[${a.name}] dropped`, (h) => h.arrays.splice(i, 1), true]);
  });
  headerEdits.push(['modelVersion = 99', (h) => (h.modelVersion = 99), true], ['meta = null', (h) => ((h as { meta: unknown }).meta = null), true]);
  for (let m = 0; m < n; m++) {
    const kind = m % 5;
    if (kind === 0) {
      const b = bytes.slice(), i = int(b.length);
      b[i] = b[i]! ^ (1 << int(8));
      out.push({ what: `bit flip at ${i}`, bytes: b, mustRefuse: true });
    } else if (kind === 1) {
      const len = int(bytes.length);
      out.push({ what: `truncated to ${len}`, bytes: bytes.slice(0, len), mustRefuse: true });
    } else if (kind === 2) {
      const b = bytes.slice(), i = int(b.length - 4);
      b[i] = int(256);
      out.push({ what: `byte ${i} set, checksum fixed`, bytes: fixChecksum(b), mustRefuse: false });
    } else if (kind === 3) {
      const [what, edit, must] = headerEdits[int(headerEdits.length)]!;
      out.push({ what: `header ${what}, checksum fixed`, bytes: withHeader(bytes, edit), mustRefuse: must });
    } else {
      const ai = int(c.header.arrays.length), a = c.header.arrays[ai]!;
      if (a.length === 0) {
        out.push({ what: `${a.name} empty: bit flip instead`, bytes: fixChecksum(bytes.slice().fill(0xff, c.arraysAt - 1, c.arraysAt)), mustRefuse: false });
        continue;
      }
      const i = int(a.length), b = bytes.slice(), view = new DataView(b.buffer), at = c.offsets[ai]! + i * WIDTH[a.dtype]!;
      let v: number;
      if (a.dtype === 'f32' || a.dtype === 'f64') {
        v = FORGED_FLOATS[int(FORGED_FLOATS.length)]!;
        if (a.dtype === 'f32') view.setFloat32(at, v, true);
        else view.setFloat64(at, v, true);
      } else {
        v = FORGED_INTS[int(FORGED_INTS.length)]!;
        if (a.dtype === 'i32') view.setInt32(at, v, true);
        else view.setUint32(at, v >>> 0, true);
      }
      // Not finite in f32 (where the state lives on the GPU), or squaring past it (as the next update does), must be
      // refused; other forgeries may load if usable.
      const mustRefuse = a.dtype === 'f32' || a.dtype === 'f64' ? !(Math.abs(Math.fround(v)) <= Math.sqrt(F32_MAX)) : false;
      out.push({ what: `forged ${a.name}[${i}] = ${v}`, bytes: fixChecksum(b), mustRefuse });
    }
  }
  return out;
}

/** Loads each mutation of `s`'s save: refused with a BanditError, or (where allowed) a usable model. */
export async function saveCases(s: Subject, backend: Backend, n: number, seed: number): Promise<CaseResult[]> {
  const { model } = await s.make(backend);
  const bytes = await model.save();
  model.dispose();
  const results: CaseResult[] = [];
  for (const m of mutations(bytes, n, seed)) {
    const out = await settle(() => s.cls.load(backend, m.bytes, s.overrides), `${s.name} load(${m.what})`);
    const result = (outcome: Outcome, detail: string): CaseResult => ({ cls: 'saves', subject: s.name, what: m.what, outcome, detail });
    if ('hang' in out) results.push(result('hang', ''));
    else if (!out.ok) {
      if (!(out.error instanceof BanditError)) results.push(result('other', describe(out.error)));
      else if (!out.error.message.startsWith(`${s.model}.load`)) results.push(result('message', describe(out.error)));
      else results.push(result('refused', describe(out.error)));
    } else {
      const loaded = out.value as AnyModel;
      const used = await settle(() => s.probe(loaded));
      loaded.dispose();
      // A header edit may make a valid model of another shape (a renamed option back at its default):
      // the probe's calls are then refused as bad input, which is no poisoning.
      const reshaped = 'ok' in used && !used.ok && used.error instanceof BanditError;
      const usable = 'ok' in used && used.ok && (used.value as Float32Array).every((v) => Number.isFinite(v));
      if (!usable && !reshaped) results.push(result('poisoned', 'ok' in used && !used.ok ? describe(used.error) : 'non-finite scores'));
      else results.push(result(m.mustRefuse ? 'accepted' : 'valid', reshaped ? `loaded, another shape (${describe((used as { error: unknown }).error)})` : 'loaded'));
    }
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// Concurrency: non-awaited calls whose input buffers the caller refills at once

/** Each valid call made twice without awaiting, its buffers refilled in between, against the same calls awaited. */
export async function concurrencyCases(s: Subject, backend: Backend): Promise<CaseResult[]> {
  const results: CaseResult[] = [];
  for (const c of s.calls([])) {
    if (c.method === 'reward') continue;
    const first = c.args(), second = c.args().map((a) => refilled(a, 0.25));
    const made = await s.make(backend);
    const saved = await made.model.save();
    made.model.dispose();
    // Two loads of one save: the same model id, so the same event ids and save bytes.
    const a = { model: await s.cls.load(backend, saved, s.overrides) }, b = { model: await s.cls.load(backend, saved, s.overrides) };
    try {
      // Awaited, each call with its own buffers.
      const expect1 = await settle(() => call(b.model, c.method, ...structured(first)));
      const expect2 = await settle(() => call(b.model, c.method, ...structured(second)));
      // Not awaited, one set of buffers refilled with the second call's values after the first call.
      const reused = structured(first);
      const p1 = settle(() => call(a.model, c.method, ...reused));
      overwrite(reused, second);
      const p2 = settle(() => call(a.model, c.method, ...reused));
      overwrite(reused, c.args().map((x) => refilled(x, -0.75)));
      const [got1, got2] = await Promise.all([p1, p2]);
      const sameAnswers = JSON.stringify(answer(got1)) === JSON.stringify(answer(expect1)) && JSON.stringify(answer(got2)) === JSON.stringify(answer(expect2));
      const sameState = same(await a.model.save(), await b.model.save());
      const outcome: Outcome = 'hang' in got1 || 'hang' in got2 ? 'hang' : sameAnswers && sameState ? 'valid' : 'changed';
      results.push({ cls: 'concurrency', subject: s.name, what: `${c.method} ×2 not awaited, buffers reused`, outcome, detail: sameAnswers ? (sameState ? '' : 'state differs') : 'answers differ' });
    } finally {
      a.model.dispose();
      b.model.dispose();
    }
  }
  return results;
}

/** A deep copy of typed arrays, arrays and plain objects (what the caller would pass). */
function structured<T>(v: T): T {
  if (ArrayBuffer.isView(v)) return (v as unknown as Float32Array).slice() as unknown as T;
  if (Array.isArray(v)) return v.map(structured) as unknown as T;
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, structured(x)])) as T;
  return v;
}

/** The same shape with other values: floats moved by `by`, indices kept in range by shifting. */
function refilled<T>(v: T, by: number): T {
  if (v instanceof Float32Array) return Float32Array.from(v, (x) => Math.fround(x * 0.5 + by)) as unknown as T;
  if (v instanceof Int32Array) return Int32Array.from(v, (x) => (x === 0 ? 2 : 0)) as unknown as T;
  if (Array.isArray(v)) return v.map((x) => refilled(x, by)) as unknown as T;
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, refilled(x, by)])) as T;
  return v;
}

/** Writes `from`'s values into `into`'s buffers (and fields) in place. */
function overwrite(into: unknown[], from: unknown[]): void {
  const put = (a: unknown, b: unknown): void => {
    if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b) && !(a instanceof DataView) && (a as Float32Array).length === (b as Float32Array).length) (a as Float32Array).set(b as Float32Array);
    else if (Array.isArray(a) && Array.isArray(b)) b.forEach((x, i) => (ArrayBuffer.isView(a[i]) || (a[i] && typeof a[i] === 'object') ? put(a[i], x) : (a[i] = x)));
    else if (a && typeof a === 'object' && b && typeof b === 'object') {
      for (const [k, x] of Object.entries(b)) {
        const cur = (a as Record<string, unknown>)[k];
        if (cur && typeof cur === 'object') put(cur, x);
        else (a as Record<string, unknown>)[k] = x;
      }
    }
  };
  into.forEach((a, i) => put(a, from[i]));
}

function answer(s: Settled): unknown {
  if ('hang' in s) return 'hang';
  if (!s.ok) return `error ${describe(s.error)}`;
  const v = s.value as Record<string, unknown> | null;
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as Float32Array);
  // Event ids name the model instance (a random id): compare the rest.
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'eventIds').map(([k, x]) => [k, ArrayBuffer.isView(x) ? Array.from(x as Float32Array) : x]));
  return v;
}

// ---------------------------------------------------------------------------------------------

export interface Budget {
  /** Bad calls a subject (the rest are sampled out). */
  readonly calls: number;
  readonly options: number;
  /** Save mutations a subject. */
  readonly saves: number;
  readonly concurrency: boolean;
  readonly disposed: boolean;
  /** Also sizes of 1e9, 2³¹ (arms, dim, hidden, …): without a size check they allocate or loop for minutes. */
  readonly huge: boolean;
}

/** Every class of cases for one subject on one backend. */
export async function fuzzSubject(name: SubjectName, backend: Backend, budget: Budget, seed: number, fresh: () => Promise<Backend>): Promise<CaseResult[]> {
  const s = subject(name);
  const out: CaseResult[] = [];
  if (budget.calls > 0) out.push(...(await callCases(s, backend, seed, budget.calls)));
  if (budget.options > 0) out.push(...(await optionCases(s, backend, seed, budget.options, budget.huge)));
  if (budget.disposed) out.push(...(await disposedCases(s, backend, fresh)));
  if (budget.saves > 0) out.push(...(await saveCases(s, backend, budget.saves, seed)));
  if (budget.concurrency) out.push(...(await concurrencyCases(s, backend)));
  return out;
}

/** A fresh backend of the same kind as `b` (for the after-backend-dispose cases). */
export function freshLike(b: Backend): () => Promise<Backend> {
  return () => createBackend({ kind: b.kind === 'webgpu' ? 'webgpu' : 'cpu' });
}
