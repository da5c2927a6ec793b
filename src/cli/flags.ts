/** The command line's flag parsing: `--name value`, `--name=value`, bare `--name`, checked against each command's flags. */

/**
 * A mistake in the command line: printed with a pointer to --help, exit code 2.
 *
 * @example
 * throw new UsageError('--steps must be an integer ≥ 1');
 */
export class UsageError extends Error {}

/** The flags given, by name: a value, or true for a bare boolean flag. */
export type Flags = Map<string, string | true>;

/**
 * Parses `args` against the command's flags (`value`: takes one, `bool`: takes none); `-h` is
 * `--help`. Unknown flags, flags given twice and missing values are UsageErrors.
 *
 * @example
 * const flags = parseFlags(['--steps', '2000', '--help'], { steps: 'value', help: 'bool' }, 'simulate');
 */
export function parseFlags(args: readonly string[], known: Record<string, 'value' | 'bool'>, command: string): Flags {
  const flags: Flags = new Map();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '-h') {
      flags.set('help', true);
      continue;
    }
    if (!arg.startsWith('--')) throw new UsageError(`${command}: unexpected argument '${arg}'`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = known[name];
    if (!kind) throw new UsageError(`${command}: unknown flag --${name}`);
    if (flags.has(name)) throw new UsageError(`${command}: --${name} given twice`);
    if (kind === 'bool') {
      if (eq >= 0) throw new UsageError(`${command}: --${name} takes no value`);
      flags.set(name, true);
    } else if (eq >= 0) {
      flags.set(name, arg.slice(eq + 1));
    } else {
      const value = args[i + 1];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`${command}: --${name} needs a value`);
      flags.set(name, value);
      i++;
    }
  }
  return flags;
}

/**
 * An integer flag ≥ `min`, or undefined when not given.
 *
 * @example
 * const steps = intFlag(flags, 'steps', 1) ?? 6000;
 */
export function intFlag(flags: Flags, name: string, min: number): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${String(v)}'`);
  }
  return n;
}

/**
 * A number flag that passes `ok` (`what` says what it must be), or undefined when not given.
 *
 * @example
 * const confidence = numberFlag(flags, 'confidence', (v) => v > 0 && v < 1, 'in (0, 1)');
 */
export function numberFlag(flags: Flags, name: string, ok: (v: number) => boolean, what: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !ok(n)) throw new UsageError(`--${name} must be ${what}, got '${String(v)}'`);
  return n;
}

/**
 * A comma-separated list of distinct names from `allowed` (case-insensitive), or undefined when
 * not given; `all` alone stands for every one of `allowed`.
 *
 * @example
 * const algorithms = listFlag(flags, 'algos', ALGORITHMS);   // --algos linucb,random  or  --algos all
 */
export function listFlag<T extends string>(flags: Flags, name: string, allowed: readonly T[]): T[] | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const items = String(v).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (items.length === 1 && items[0] === 'all') return [...allowed];
  if (items.length === 0) throw new UsageError(`--${name} needs at least one of ${allowed.join(', ')} (or all)`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`--${name}: unknown '${item}'; choose from ${allowed.join(', ')} (or all)`);
  }
  if (new Set(items).size !== items.length) throw new UsageError(`--${name} lists one twice: ${items.join(',')}`);
  return items as T[];
}

/**
 * One of `allowed`, `fallback` when not given.
 *
 * @example
 * const model = choiceFlag(flags, 'reward-model', ['ridge', 'mlp'] as const, 'ridge');
 */
export function choiceFlag<T extends string>(flags: Flags, name: string, allowed: readonly T[], fallback: T): T {
  const v = flags.get(name) ?? fallback;
  if (!(allowed as readonly unknown[]).includes(v)) throw new UsageError(`--${name} must be ${allowed.join(' or ')}, got '${String(v)}'`);
  return v as T;
}

/**
 * `{ key: value }`, or `{}` when the value is undefined (for options under exactOptionalPropertyTypes).
 *
 * @example
 * const options = { ...optional('seed', intFlag(flags, 'seed', 0)) };
 */
export function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
