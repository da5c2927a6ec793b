import { BanditError } from '../core/errors.js';
import type { FeatureShape } from './batch.js';
import type { BanditLog } from './log.js';

/** Options of `parseObd`. */
export interface ObdOptions {
  /** Keep only the impressions shown at this position (1, 2 or 3). Default: every row. */
  readonly position?: number;
  /** Append log(1 + affinity) for every item to the user context (see `parseObd`). Default false. */
  readonly affinities?: boolean;
}

/** An Open Bandit Dataset log with its features (see `parseObd`). */
export interface ObdLog extends BanditLog {
  /**
   * The display position (1–3) of each row. The off-policy estimators take one position: evaluate
   * position-wise, giving row i the target's distribution and reward estimates at positions[i]
   * (see `EstimatorInput`), or keep one position with `parseObd(…, { position })`.
   */
  readonly positions: Int32Array;
  /** The timestamp text of each row, as in the file. */
  readonly timestamps: readonly string[];
  /** A name for every user-context column, e.g. `user_feature_2=7bc94a2d…` or `affinity_5`. */
  readonly userFeatureNames: readonly string[];
  /** A name for every item-feature column. */
  readonly itemFeatureNames: readonly string[];
  /** A name for every hybrid item column. */
  readonly hybridItemFeatureNames: readonly string[];
}

interface Table {
  readonly header: string[];
  readonly rows: string[][];
  readonly name: string;
}

/** Plain comma-separated text (the OBD files have no quoting); the first line is the header. */
function parseCsv(text: string, name: string): Table {
  if (typeof text !== 'string') throw new BanditError(`parseObd: ${name} must be the CSV text (a string)`);
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  if (lines.length === 0) throw new BanditError(`parseObd: ${name} is empty`);
  const header = lines[0]!.split(',');
  const rows = lines.slice(1).map((l, i) => {
    const cells = l.split(',');
    if (cells.length !== header.length) {
      throw new BanditError(`parseObd: ${name} line ${i + 2} has ${cells.length} fields, the header ${header.length}`);
    }
    return cells;
  });
  return { header, rows, name };
}

function column(t: Table, name: string): number {
  const i = t.header.indexOf(name);
  if (i < 0) throw new BanditError(`parseObd: ${t.name} has no column ${name} (columns: ${t.header.filter(Boolean).join(', ')})`);
  return i;
}

function number(t: Table, row: number, col: number, ok: (v: number) => boolean = Number.isFinite, what = 'a finite number'): number {
  const text = t.rows[row]![col]!;
  const v = Number(text);
  if (text.trim() === '' || !ok(v)) throw new BanditError(`parseObd: ${t.name} line ${row + 2}, column ${t.header[col]}: '${text}' is not ${what}`);
  return v;
}

/** The distinct values of a categorical column, sorted (so the one-hot layout does not depend on row order). */
function levels(t: Table, col: number): string[] {
  return [...new Set(t.rows.map((r) => r[col]!))].sort();
}

const shortName = (v: string) => (v.length > 8 ? `${v.slice(0, 8)}…` : v);

/**
 * Parses the Open Bandit Dataset (Saito et al., NeurIPS 2021 Datasets track) from the TEXT of its
 * two files: the interactions (e.g. `men.csv`: timestamp, item_id, position, click,
 * propensity_score, user_feature_0..3, user-item_affinity_0..K−1) and `item_context.csv`
 * (item_id, item_feature_0..3). No file access: `loadObd` in obd-node.ts reads them in Node.
 *
 * The features built (documented here, the contract of what the policies see):
 * - User context (`contexts`, B×userDim): the hashed categorical user_feature_0..3, each one-hot
 *   over its values seen in the file (sorted), concatenated in column order (3 + 5 + 9 + 8 = 25
 *   for the men sample). No constant column: each one-hot group already sums to 1, so a linear
 *   model has its intercept. With `affinities: true`, log(1 + user-item_affinity_k) for k = 0..K−1
 *   is appended (the affinities are counts of past interactions, mostly 0; the log tames their range).
 * - User ids (`users`): the index of the row's (user_feature_0..3) combination among those seen,
 *   sorted — OBD has no user ids, so a "user" is a segment of identical features.
 * - Item features (K×itemDim): item_feature_0 (numeric, as given), then item_feature_1..3 each
 *   one-hot over their values (sorted): 1 + 7 + 16 + 4 = 28 for the men sample.
 * - Hybrid item features (K×hybridItemDim): item_feature_0 and the one-hot of item_feature_1
 *   (1 + 7 = 8), kept small so that the hybrid shared features vec(user ⊗ item), 25 × 8 = 200,
 *   stay within HybridLinUCB's 256 (with `affinities` they do not: the hybrid model refuses).
 * - Actions = item_id, rewards = click, propensities = propensity_score; every row is one
 *   impression at one position, kept in file (time) order.
 *
 * @example
 * const log = parseObd(menCsvText, itemContextCsvText);
 * console.log(log.length, log.shape);   // 10000 { arms: 34, users: …, userDim: 25, itemDim: 28, hybridItemDim: 8 }
 */
export function parseObd(interactionsCsv: string, itemContextCsv: string, options: ObdOptions = {}): ObdLog {
  const position = options.position;
  if (position !== undefined && !(Number.isInteger(position) && position >= 1)) {
    throw new BanditError(`parseObd: position must be a positive integer (1, 2 or 3), got ${String(position)}`);
  }
  const items = parseCsv(itemContextCsv, 'item_context.csv');
  const log = parseCsv(interactionsCsv, 'the interactions CSV');

  const itemIdCol = column(items, 'item_id');
  const arms = items.rows.length;
  if (arms === 0) throw new BanditError('parseObd: item_context.csv lists no items');
  const seen = new Uint8Array(arms);
  const itemRow = new Int32Array(arms);
  items.rows.forEach((_, r) => {
    const id = number(items, r, itemIdCol, (v) => Number.isInteger(v) && v >= 0 && v < arms, `an item id in 0..${arms - 1}`);
    if (seen[id]) throw new BanditError(`parseObd: item_context.csv lists item ${id} twice`);
    seen[id] = 1;
    itemRow[id] = r;
  });
  const numericCol = column(items, 'item_feature_0');
  const itemCats = [1, 2, 3].map((j) => column(items, `item_feature_${j}`));
  const itemLevels = itemCats.map((c) => levels(items, c));
  const itemDim = 1 + itemLevels.reduce((s, l) => s + l.length, 0);
  const hybridItemDim = 1 + itemLevels[0]!.length;
  const itemFeatures = new Float32Array(arms * itemDim);
  const hybridItemFeatures = new Float32Array(arms * hybridItemDim);
  for (let id = 0; id < arms; id++) {
    const r = itemRow[id]!;
    const x = number(items, r, numericCol);
    itemFeatures[id * itemDim] = x;
    hybridItemFeatures[id * hybridItemDim] = x;
    let offset = 1;
    itemCats.forEach((c, j) => {
      const level = itemLevels[j]!.indexOf(items.rows[r]![c]!);
      itemFeatures[id * itemDim + offset + level] = 1;
      if (j === 0) hybridItemFeatures[id * hybridItemDim + 1 + level] = 1;
      offset += itemLevels[j]!.length;
    });
  }
  const itemFeatureNames = ['item_feature_0', ...itemCats.flatMap((_, j) => itemLevels[j]!.map((v) => `item_feature_${j + 1}=${shortName(v)}`))];
  const hybridItemFeatureNames = ['item_feature_0', ...itemLevels[0]!.map((v) => `item_feature_1=${shortName(v)}`)];

  const itemCol = column(log, 'item_id');
  const posCol = column(log, 'position');
  const clickCol = column(log, 'click');
  const propCol = column(log, 'propensity_score');
  const timeCol = column(log, 'timestamp');
  const userCats = [0, 1, 2, 3].map((j) => column(log, `user_feature_${j}`));
  const affinityCols = options.affinities ? Array.from({ length: arms }, (_, k) => column(log, `user-item_affinity_${k}`)) : [];

  const kept: number[] = [];
  for (let r = 0; r < log.rows.length; r++) {
    const p = number(log, r, posCol, (v) => Number.isInteger(v) && v >= 1, 'a position ≥ 1');
    if (position === undefined || p === position) kept.push(r);
  }
  const n = kept.length;
  if (n === 0) throw new BanditError(`parseObd: no rows${position === undefined ? '' : ` at position ${position}`}`);
  // Levels over the kept rows only: a value never seen in the log would be a dead column.
  const keptTable: Table = { ...log, rows: kept.map((r) => log.rows[r]!) };
  const userLevels = userCats.map((c) => levels(keptTable, c));
  const oneHotDim = userLevels.reduce((s, l) => s + l.length, 0);
  const userDim = oneHotDim + affinityCols.length;
  const levelIndex = userLevels.map((l) => new Map(l.map((v, i) => [v, i])));
  const segments = [...new Set(keptTable.rows.map((row) => userCats.map((c) => row[c]!).join('|')))].sort();
  const segmentIndex = new Map(segments.map((s, i) => [s, i]));

  const users = new Int32Array(n), actions = new Int32Array(n), positions = new Int32Array(n);
  const rewards = new Float32Array(n), propensities = new Float64Array(n), contexts = new Float32Array(n * userDim);
  const timestamps: string[] = [];
  keptTable.rows.forEach((row, i) => {
    const r = kept[i]!;
    actions[i] = number(log, r, itemCol, (v) => Number.isInteger(v) && v >= 0 && v < arms, `an item id in 0..${arms - 1}`);
    positions[i] = Number(row[posCol]);
    rewards[i] = number(log, r, clickCol, (v) => v === 0 || v === 1, 'a click (0 or 1)');
    propensities[i] = number(log, r, propCol, (v) => v > 0 && v <= 1, 'a propensity in (0, 1]');
    timestamps.push(row[timeCol]!);
    users[i] = segmentIndex.get(userCats.map((c) => row[c]!).join('|'))!;
    let offset = 0;
    userCats.forEach((c, j) => {
      contexts[i * userDim + offset + levelIndex[j]!.get(row[c]!)!] = 1;
      offset += userLevels[j]!.length;
    });
    affinityCols.forEach((c, k) => {
      contexts[i * userDim + oneHotDim + k] = Math.log1p(number(log, r, c, (v) => Number.isFinite(v) && v >= 0, 'an affinity ≥ 0'));
    });
  });
  const userFeatureNames = [
    ...userCats.flatMap((_, j) => userLevels[j]!.map((v) => `user_feature_${j}=${shortName(v)}`)),
    ...affinityCols.map((_, k) => `affinity_${k}`),
  ];
  const shape: FeatureShape = Object.freeze({ arms, users: segments.length, userDim, itemDim, hybridItemDim });
  return {
    shape, length: n, users, contexts, actions, rewards, propensities, itemFeatures, hybridItemFeatures,
    positions, timestamps, userFeatureNames, itemFeatureNames, hybridItemFeatureNames,
  };
}
