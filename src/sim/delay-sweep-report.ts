/**
 * The delay sweep as text and as a self-contained HTML page: the new collection's share of each
 * algorithm's impressions against its fair share (the oracle's) and the rounds until reached, and
 * the total regret at every mean click delay with what each delay adds. Platform-neutral (strings).
 */
import type { DelaySweepRun } from './delay-sweep.js';
import { escapeHtml, reportPage, runSettings, scenarioSettings, type ReportContext } from './report-parts.js';
import { lineChartSvg, seriesColor } from './report.js';
import type { NewItemsOverSeeds } from './seeds.js';
import { holm } from './stats.js';

const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const interval = (m: { mean: number; lower: number; upper: number }, digits: number, sign = false): string => {
  const s = sign && m.mean >= 0 ? '+' : '';
  return Number.isFinite(m.lower) ? `${s}${num(m.mean, digits)} [${num(m.lower, digits)}, ${num(m.upper, digits)}]` : `${s}${num(m.mean, digits)}`;
};

/** "7 (3/3)": the median rounds to the fair share over the seeds that reached it, and how many did. */
function roundsCell(n: NewItemsOverSeeds | null): string {
  if (!n) return '—';
  const reached = n.roundsToFairShare.filter((r): r is number => r !== null).sort((a, b) => a - b);
  if (reached.length === 0) return `not reached (0/${n.roundsToFairShare.length})`;
  const m = reached.length % 2 ? reached[(reached.length - 1) / 2]! : (reached[reached.length / 2 - 1]! + reached[reached.length / 2]!) / 2;
  return `${m} (${reached.length}/${n.roundsToFairShare.length})`;
}

/** Holm-adjusted significance of every (algorithm, delay) effect, one family. */
function effectSignificance(run: DelaySweepRun): boolean[][] {
  const ps = run.effects.flatMap((a) => a.effects.map((e) => (Number.isFinite(e.p) ? e.p : 1)));
  const { rejected } = holm(ps, run.levels[0]!.alpha);
  let i = 0;
  return run.effects.map((a) => a.effects.map(() => rejected[i++]!));
}

/**
 * The two tables of the sweep as rows of cells: `newItems` (algorithm; the share after the
 * arrival at the first delay with the fair share; rounds to the fair share at each delay) and
 * `regret` (algorithm; total regret at the first delay; at each later delay its regret and what
 * it added, ✱ where significant after Holm's correction over the whole table).
 *
 * @example
 * const { newItems, regret } = delaySweepRows(sweep);
 */
export function delaySweepRows(run: DelaySweepRun): { newItems: string[][]; regret: string[][]; newItemsColumns: string[]; regretColumns: string[] } {
  const [d0, ...rest] = run.delays;
  const level0 = run.levels[0]!;
  const sig = effectSignificance(run);
  const newItemsColumns = ['algorithm', `share after arrival (delay ${d0})`, ...run.delays.map((d) => `rounds to fair share (delay ${d})`)];
  const newItems = level0.policies.map((p, i) => [
    p.name,
    p.newItems ? `${interval(p.newItems.shareAfter, 3)} of ${num(p.newItems.fairShareAfter.mean, 3)}` : '—',
    ...run.levels.map((l) => roundsCell(l.policies[i]!.newItems)),
  ]);
  const regretColumns = ['algorithm', `total regret (delay ${d0})`, ...rest.map((d) => `delay ${d}: regret, added`)];
  const regret = level0.policies.map((p, i) => [
    p.name, interval(p.summary.totalRegret, 0),
    ...rest.map((_, j) => {
      const e = run.effects[i]!.effects[j]!;
      return `${interval(run.levels[j + 1]!.policies[i]!.summary.totalRegret, 0)}, ${interval(e, 0, true)}${sig[i]![j] ? ' ✱' : ''}`;
    }),
  ]);
  return { newItems, regret, newItemsColumns, regretColumns };
}

function textTable(columns: readonly string[], rows: readonly string[][]): string {
  const all = [columns, ...rows];
  const widths = columns.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  return [line(columns), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** What the sweep's scenario is, in one line. */
function scenarioLine(run: DelaySweepRun): string {
  const w = run.first.world;
  const nc = w.newCollection, so = w.stockOuts;
  return `${run.scenario.steps} steps; ${nc ? `${nc.items} new items at step ${nc.step} (logit +${nc.boost})` : 'no new collection'}; ` +
    `${so ? `items out of stock ${Math.round(so.share * 100)} % of the time, ${so.meanLength} steps at a time` : 'always in stock'}; ` +
    `mean click delays ${run.delays.join(', ')} rounds of ${run.scenario.batchSize}; seeds ${run.seeds.join(', ')}`;
}

/**
 * The sweep as text for a terminal: what ran, the new-items table and the regret table, with
 * how to read them.
 *
 * @example
 * console.log(formatDelaySweep(sweep));
 */
export function formatDelaySweep(run: DelaySweepRun): string {
  const { newItems, regret, newItemsColumns, regretColumns } = delaySweepRows(run);
  return [
    `Catalogue and late clicks: ${scenarioLine(run)}`,
    '',
    'New collection: its share of each algorithm\'s impressions after it arrived, of the fair share (the oracle\'s: the share of',
    `steps whose best showable item is new); rounds until a trailing window of ${run.levels[0]!.window} steps first reaches 80 % of the`,
    'fair share over the same steps, where that is not 0 (median over the seeds that reached it, and how many did):',
    textTable(newItemsColumns, newItems),
    '',
    `Total regret by mean click delay (mean over seeds [${Math.round(run.confidence * 100)} % t-interval]) and what the delay added to the`,
    `delay-${run.delays[0]} regret (paired over seeds; ✱ significant after Holm's correction over the table):`,
    textTable(regretColumns, regret),
  ].join('\n');
}

/**
 * The charts of the sweep: the new items' share of impressions after their arrival at each delay
 * (each algorithm's mean over seeds; the oracle's line is the fair share), and the total regret
 * against the mean delay (means with their bands over seeds).
 *
 * @example
 * const [...shares, regret] = delaySweepCharts(sweep);
 */
export function delaySweepCharts(run: DelaySweepRun, size: { width?: number; height?: number } = {}): string[] {
  const band = `${Math.round(run.confidence * 100)} %`;
  const from = run.first.world.newCollection?.step ?? 0;
  // The share curves without bands: with a few seeds they cover one another; the tables give the intervals.
  const shares = run.levels.map((level, i) => lineChartSvg({
    ...size, title: `New items' share of impressions, mean click delay ${run.delays[i]} rounds (oracle = fair share)`,
    xLabel: `steps after the new collection arrived (step ${from}); windows of ${level.window}`, yLabel: 'share of impressions on new items',
    xMax: run.scenario.steps - from, yMin: 0, yMax: 1, yFormat: (v) => v.toFixed(1), marker: null,
    series: level.policies.filter((p) => p.newItems).map((p, j) => ({
      name: p.name, color: seriesColor(p.name, j), x: Array.from(p.newItems!.windowEnds, (end) => end - from), y: p.newItems!.share.mean,
    })),
  }));
  const regret = lineChartSvg({
    ...size, title: `Total regret by mean click delay (mean over ${run.seeds.length} seeds ± ${band} band)`, xLabel: 'mean click delay (rounds)',
    yLabel: 'total expected regret', xMax: Math.max(...run.delays, 1), marker: null,
    series: run.levels[0]!.policies.map((p, i) => ({
      name: p.name, color: seriesColor(p.name, i), x: run.delays,
      y: run.levels.map((l) => l.policies[i]!.summary.totalRegret.mean),
      band: { lower: run.levels.map((l) => l.policies[i]!.summary.totalRegret.lower), upper: run.levels.map((l) => l.policies[i]!.summary.totalRegret.upper) },
    })),
  });
  return [...shares, regret];
}

function htmlTable(columns: readonly string[], rows: readonly string[][]): string {
  const e = escapeHtml;
  return [
    `<table class="results"><thead><tr>${columns.map((c) => `<th>${e(c)}</th>`).join('')}</tr></thead><tbody>`,
    ...rows.map((r, i) => `<tr><td><span class="swatch" style="background:${seriesColor(r[0]!, i)}"></span>${e(r[0]!)}</td>${r.slice(1).map((c) => `<td>${e(c)}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('');
}

/**
 * The sweep as one self-contained HTML page (inline CSS and SVG): the tables, the charts, how the
 * fair share, the delays and the tail are defined, and the settings.
 *
 * @example
 * await writeFile('report/catalogue.html', delaySweepHtml(sweep, { command: 'webgpu-bandits start' }));
 */
export function delaySweepHtml(run: DelaySweepRun, context: ReportContext = {}): string {
  const e = escapeHtml;
  const { newItems, regret, newItemsColumns, regretColumns } = delaySweepRows(run);
  const charts = delaySweepCharts(run).map((svg) => `<figure>${svg}</figure>`).join('\n');
  const level0 = run.levels[0]!;
  const settings: [string, string][] = [
    ...runSettings(run.first.backend, run.first.startedAt,
      `${(run.totalMs / 1000).toFixed(1)} s for ${run.seeds.length} seeds × ${run.delays.length} delays (${run.seedMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s a seed); stopped at ${run.stopReason}`, context),
    ['catalogue and delays', scenarioLine(run)],
    ...scenarioSettings(run.first, { ...level0, rounds: level0.roundEnds.length, batchSize: run.scenario.batchSize }, run.seeds.join(', ')),
  ];
  return reportPage({
    title: 'webgpu-bandits: a changing catalogue and late clicks', heading: `A changing catalogue and late clicks, over ${run.seeds.length} seeds`,
    backend: run.first.backend, startedAt: run.first.startedAt, settings,
    body: `
<p class="lead">${e(scenarioLine(run))}</p>

<h2>How fast each algorithm gives the new collection its fair share</h2>
${htmlTable(newItemsColumns, newItems)}
<p class="note">Every policy learns of the new items through its model's own API when they arrive (LinUCB, LinTS, SquareCB, ε-greedy:
<code>addArms</code>; the Embedding + MLP: <code>addItems</code>, at the mean item's embedding; NeuralUCB and NeuralTS: K grows with the
calls' features), and is given each row's in-stock items as <code>eligible</code>. The <b>fair share</b> of the new items over some steps
is the share an oracle that knows every true click probability gives them there: the fraction of those steps whose best item in stock is
a new one, on the same users and the same stock as the policy. (Not 1/K of the eligible items: the items differ in quality, and the oracle's
share is what zero regret gives.) An algorithm reaches it when its share over a trailing window of ${level0.window} steps first comes to 80 %
of the fair share over the same steps, where that fair share is not 0; the rounds are counted from the round of the arrival. A share well above the fair share is over-exposure,
which the regret pays for.</p>
${charts}

<h2>How delay changes regret</h2>
${htmlTable(regretColumns, regret)}
<p class="note">The click of step t arrives D rounds after it was shown, D geometric with the given mean, drawn once a step (every
algorithm's click of that step is equally late). Each policy decides through its model's <code>decide</code>, which keeps the decision
waiting by event id; the clicks arriving in a round are given after that round's decisions through <code>reward(eventIds, rewards)</code>,
in the order they arrive (not the order decided). Clicks still on their way when the stream ends are given after its last round, so every
decision is rewarded exactly once. With delay 0 the run is, bit for bit, the run without delays. Regret is counted at the decision, so the
delay's cost is what the models could not learn in time. Differences are paired over seeds (the same world, users and draws at every
delay); ✱ marks those significant after Holm's correction over the whole table.</p>
`,
  });
}

/**
 * The sweep as plain JSON: per delay, per algorithm the per-seed figures, their summaries and the
 * new items' share; the effects of the delays; the times.
 *
 * @example
 * await writeFile('report/catalogue.json', JSON.stringify(delaySweepJson(sweep), null, 2));
 */
export function delaySweepJson(run: DelaySweepRun): unknown {
  const arr = (a: ArrayLike<number>) => Array.from(a);
  const band = (b: { mean: Float64Array; lower: Float64Array; upper: Float64Array }) => ({ mean: arr(b.mean), lower: arr(b.lower), upper: arr(b.upper) });
  return {
    scenario: run.scenario, seeds: run.seeds, delays: run.delays, confidence: run.confidence, backend: run.first.backend, startedAt: run.first.startedAt,
    totalMs: run.totalMs, seedMs: run.seedMs, stopReason: run.stopReason, world: run.first.world,
    levels: run.levels.map((l, i) => ({
      delay: run.delays[i],
      policies: l.policies.map((p) => ({
        key: p.key, name: p.name, perSeed: p.perSeed, summary: p.summary,
        newItems: p.newItems && {
          roundsToFairShare: p.newItems.roundsToFairShare, shareAfter: p.newItems.shareAfter, fairShareAfter: p.newItems.fairShareAfter,
          windowEnds: arr(p.newItems.windowEnds), share: band(p.newItems.share), fairShare: band(p.newItems.fairShare),
        },
      })),
    })),
    effects: run.effects,
  };
}
