/**
 * The head-to-head over seeds as text and as a self-contained HTML page: means with 95 % bands,
 * one sentence on what the run shows, and which pairwise differences are significant.
 * Platform-neutral (strings only).
 */
import { escapeHtml, reportPage, runSettings, scenarioSettings, type ReportContext } from './report-parts.js';
import { lineChartSvg, seriesColor } from './report.js';
import { ALGORITHM_DESCRIPTIONS, type AlgorithmKey } from './scenario.js';
import type { ComparedMetric, MultiSeedRun, PairComparison, SeedMetric, SeedsPolicy } from './seeds.js';
import { REFERENCE_ALGORITHMS } from './seeds.js';

const METRIC_TITLES: Readonly<Record<ComparedMetric, string>> = { totalRegret: 'total regret', regretAfterShock: 'regret after the shock' };

const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');
const pct = (c: number): string => `${Math.round(c * 100)} %`;

/** "1645.8 [1590.2, 1701.4]" (the interval only with two seeds or more). */
function withInterval(p: SeedsPolicy, metric: SeedMetric, digits: number): string {
  const m = p.summary[metric];
  return Number.isFinite(m.lower) ? `${num(m.mean, digits)} [${num(m.lower, digits)}, ${num(m.upper, digits)}]` : num(m.mean, digits);
}

function nameOf(run: MultiSeedRun, key: AlgorithmKey): string {
  return run.policies.find((p) => p.key === key)?.name ?? key;
}

function list(names: string[]): string {
  return names.length <= 1 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** The comparison of two algorithms (either order), as a − b with a = `first`. */
function pairOf(run: MultiSeedRun, metric: ComparedMetric, first: AlgorithmKey, second: AlgorithmKey): PairComparison | null {
  for (const c of run.comparisons[metric]) {
    if (c.a === first && c.b === second) return c;
    if (c.a === second && c.b === first) {
      return { ...c, a: first, b: second, mean: -c.mean, lower: -c.upper, upper: -c.lower, t: -c.t };
    }
  }
  return null;
}

/**
 * One sentence on what the run shows: the learner with the lowest mean total regret, and which
 * other learners it beats significantly (paired t-tests over the seeds, Holm-corrected).
 *
 * @example
 * seedsSentence(run);   // 'Over 4 seeds, NeuralUCB had the lowest mean total regret of the learners (1652 [1590, 1714]); …'
 */
export function seedsSentence(run: MultiSeedRun): string {
  const learners = run.policies.filter((p) => !REFERENCE_ALGORITHMS.includes(p.key));
  const test = `paired t-tests over the seeds, Holm-corrected at ${pct(run.alpha)} family-wise`;
  if (learners.length === 0) return `Over ${run.seeds.length} seeds only the reference policies ran; there is nothing to compare.`;
  const sorted = [...learners].sort((x, y) => x.summary.totalRegret.mean - y.summary.totalRegret.mean);
  const best = sorted[0]!;
  const head = `Over ${run.seeds.length} seeds, ${best.name} had the lowest mean total regret of the learners (${withInterval(best, 'totalRegret', 0)})`;
  if (learners.length === 1) return `${head}; it was the only learner.`;
  const beaten: string[] = [], tied: string[] = [];
  for (const other of sorted.slice(1)) {
    const c = pairOf(run, 'totalRegret', best.key, other.key);
    (c?.significant ? beaten : tied).push(other.name);
  }
  if (beaten.length === 0) return `${head}, but no difference between the learners is significant at this number of seeds (${test}).`;
  if (tied.length === 0) return `${head}, significantly lower than every other learner (${test}).`;
  return `${head}: significantly lower than ${list(beaten)}, not separable from ${list(tied)} (${test}).`;
}

/**
 * The summary table's columns (`seedsRows` gives the cells).
 *
 * @example
 * const table = [SEEDS_COLUMNS, ...seedsRows(run)];
 */
export const SEEDS_COLUMNS = ['algorithm', 'total regret', 'regret before shock', 'regret after shock', 'CTR before', 'CTR after', 'recovered (median steps)', 'time a seed (s)'] as const;

/**
 * The summary table's cells, one row an algorithm: means over seeds with their t-intervals,
 * the number of seeds in which it recovered from the shock (and the median recovery time), and
 * the mean seconds a seed in select and update.
 *
 * @example
 * const rows = seedsRows(run);   // [['LinUCB', '1950 [1890, 2011]', …], …]
 */
export function seedsRows(run: MultiSeedRun): string[][] {
  return run.policies.map((p) => {
    const rec = p.recoverySteps.filter((r): r is number => r !== null).sort((a, b) => a - b);
    const median = rec.length ? (rec.length % 2 ? rec[(rec.length - 1) / 2]! : (rec[rec.length / 2 - 1]! + rec[rec.length / 2]!) / 2) : NaN;
    return [
      p.name, withInterval(p, 'totalRegret', 0), withInterval(p, 'regretBeforeShock', 0),
      run.shockStep === null ? '—' : withInterval(p, 'regretAfterShock', 0),
      withInterval(p, 'ctrBeforeShock', 3), run.shockStep === null ? '—' : withInterval(p, 'ctrAfterShock', 3),
      run.shockStep === null ? '—' : `${rec.length}/${p.recoverySteps.length}${rec.length ? ` (${median.toFixed(0)})` : ''}`,
      p.seconds.toFixed(1),
    ];
  });
}

/**
 * The significant pairs of a metric as text lines ("NeuralUCB < LinUCB by 305 [212, 398], p = 0.004 (Holm)").
 *
 * @example
 * for (const line of significantPairs(run, 'totalRegret')) console.log(line);
 */
export function significantPairs(run: MultiSeedRun, metric: ComparedMetric): string[] {
  return run.comparisons[metric].filter((c) => c.significant).map((c) => {
    const [lo, hi] = c.mean < 0 ? [c.a, c.b] : [c.b, c.a];
    const d = Math.abs(c.mean), ci = c.mean < 0 ? [-c.upper, -c.lower] : [c.lower, c.upper];
    return `${nameOf(run, lo)} < ${nameOf(run, hi)} by ${num(d, 1)} [${num(ci[0]!, 1)}, ${num(ci[1]!, 1)}], adjusted p = ${c.adjustedP.toPrecision(2)}`;
  });
}

/**
 * The summary as aligned text for a terminal: the table, then the sentence and the significant
 * pairs of each compared metric.
 *
 * @example
 * console.log(formatSeedsSummary(run));
 */
export function formatSeedsSummary(run: MultiSeedRun): string {
  const rows = [[...SEEDS_COLUMNS], ...seedsRows(run)];
  const widths = SEEDS_COLUMNS.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  const out = [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line), '', seedsSentence(run)];
  for (const metric of Object.keys(run.comparisons) as ComparedMetric[]) {
    if (run.comparisons[metric].length === 0) continue;
    const pairs = significantPairs(run, metric);
    out.push('', `Significant differences in ${METRIC_TITLES[metric]} (of ${run.comparisons[metric].length} pairs of learners): ${pairs.length ? '' : 'none'}`);
    for (const p of pairs) out.push(`  ${p}`);
  }
  return out.join('\n');
}

/**
 * The charts over seeds: cumulative regret and windowed click-through, each algorithm's mean with
 * its band (the t-interval of the mean over seeds at every point), the shock marked.
 *
 * @example
 * const [regret, ctr] = seedsCharts(run);
 */
export function seedsCharts(run: MultiSeedRun, size: { width?: number; height?: number } = {}): [string, string] {
  const marker = run.shockStep === null ? null : { x: run.shockStep, label: `market shock (step ${run.shockStep})` };
  const common = { xLabel: 'step (user arrivals)', xMax: run.steps, marker, ...size };
  const band = pct(run.confidence);
  const regret = lineChartSvg({
    ...common, title: `Cumulative regret, mean over ${run.seeds.length} seeds ± ${band} band (lower is better)`, yLabel: 'cumulative expected regret',
    series: run.policies.map((p, i) => ({
      name: p.name, color: seriesColor(p.name, i), x: [0, ...run.roundEnds], y: [0, ...p.cumulativeRegret.mean],
      band: { lower: [0, ...p.cumulativeRegret.lower], upper: [0, ...p.cumulativeRegret.upper] },
    })),
  });
  const ends = Float64Array.from({ length: Math.ceil(run.steps / run.window) }, (_, w) => Math.min(run.steps, (w + 1) * run.window));
  const ctr = lineChartSvg({
    ...common, title: `Click-through rate, windows of ${run.window} steps, mean ± ${band} band (higher is better)`, yLabel: 'CTR', yMin: 0,
    yFormat: (v) => v.toFixed(2),
    series: run.policies.map((p, i) => ({ name: p.name, color: seriesColor(p.name, i), x: ends, y: p.windowCtr.mean, band: p.windowCtr })),
  });
  return [regret, ctr];
}

/** The pairwise matrix of a metric as an HTML table: row − column mean difference, its interval, marked when significant. */
function matrixHtml(run: MultiSeedRun, metric: ComparedMetric): string {
  const e = escapeHtml;
  const learners = run.policies.filter((p) => !REFERENCE_ALGORITHMS.includes(p.key));
  const cells = learners.map((row) => learners.map((col) => {
    if (row === col) return '<td class="diag">—</td>';
    const c = pairOf(run, metric, row.key, col.key)!;
    const text = `${c.mean >= 0 ? '+' : ''}${num(c.mean, 0)} [${num(c.lower, 0)}, ${num(c.upper, 0)}]`;
    const p = `<br><span class="p">p<sub>Holm</sub> ${c.adjustedP < 0.001 ? '< 0.001' : c.adjustedP.toFixed(3)}</span>`;
    return c.significant ? `<td class="sig"><b>${e(text)}</b> ✱${p}</td>` : `<td>${e(text)}${p}</td>`;
  }).join(''));
  return [
    `<table class="results matrix"><thead><tr><th>row − column</th>${learners.map((p) => `<th>${e(p.name)}</th>`).join('')}</tr></thead><tbody>`,
    ...learners.map((p, i) => `<tr><th>${e(p.name)}</th>${cells[i]}</tr>`),
    '</tbody></table>',
  ].join('');
}

/**
 * The multi-seed report as one self-contained HTML page: the sentence, the summary table, the
 * banded charts, the significance matrices (how they were tested), and the settings.
 *
 * @example
 * await writeFile('report/index.html', seedsReportHtml(run, { command: 'webgpu-bandits start' }));
 */
export function seedsReportHtml(run: MultiSeedRun, context: ReportContext = {}): string {
  const e = escapeHtml;
  const [regretSvg, ctrSvg] = seedsCharts(run);
  const table = [
    `<table class="results"><thead><tr>${SEEDS_COLUMNS.map((c) => `<th>${e(c)}</th>`).join('')}</tr></thead><tbody>`,
    ...seedsRows(run).map((r, i) =>
      `<tr><td><span class="swatch" style="background:${seriesColor(r[0]!, i)}"></span>${e(r[0]!)}</td>${r.slice(1).map((c) => `<td>${e(c)}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('');
  const n = run.seeds.length;
  const matrices = (Object.keys(run.comparisons) as ComparedMetric[]).filter((m) => run.comparisons[m].length > 0)
    .map((m) => `<h3>${e(METRIC_TITLES[m])}</h3>${matrixHtml(run, m)}`).join('');
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const settings: [string, string][] = [
    ...runSettings(run.first.backend, run.first.startedAt,
      `${seconds(run.totalMs)} for ${n} seeds (${run.seedMs.map((ms) => (ms / 1000).toFixed(1)).join(', ')} s); stopped at ${run.stopReason}`, context),
    ...scenarioSettings(run.first, { ...run, rounds: run.roundEnds.length, batchSize: run.scenario.batchSize },
      `${run.seeds.join(', ')} (each seed a new world, stream, click draws and model initialisation)`),
  ];
  return reportPage({
    title: `webgpu-bandits head-to-head over ${n} seeds`, heading: `Contextual bandits head to head over ${n} seeds, with a market shock`,
    backend: run.first.backend, startedAt: run.first.startedAt, algorithms: run.scenario.algorithms, settings,
    style: `<style>
  table.matrix td, table.matrix th { font-size: 0.85rem; }
  table.matrix td.sig { background: #eef6ee; }
  table.matrix td.diag { color: #aaa; text-align: center; }
  table.matrix span.p { color: #666; font-size: 0.78rem; }
  p.lead { font-size: 1.05rem; background: #f6f6f6; padding: 0.6rem 0.8rem; border-left: 3px solid #1f77b4; }
</style>`,
    body: `
<p class="lead">${e(seedsSentence(run))}</p>

<h2>Results (mean over seeds [${pct(run.confidence)} t-interval])</h2>
${table}
<p class="note">Each seed is a new world (users, items, click model), a new stream of arrivals and click draws, and new model
initialisations; within a seed every algorithm sees the same users and the same click draw for the same item at the same step
(common random numbers), so the algorithms are compared pair by pair, seed by seed. Intervals and bands are Student-t intervals of
the mean over the ${n} seeds (t with ${n - 1} degrees of freedom). Regret is expected regret, p(best) − p(shown), summed over
steps; CTR is realised clicks / steps. "Recovered" counts the seeds in which the algorithm's regret a step, over a trailing window of
${run.window} steps, came back within 20 % (+0.01) of its own level before the shock.</p>

<h2>Charts</h2>
<figure>${regretSvg}</figure>
<figure>${ctrSvg}</figure>

<h2>Which differences are significant</h2>
<p class="note">Every two learners (random and the oracle are the floor and the ceiling, not compared) are compared by Student's
paired t-test on their per-seed differences, two-sided; a cell is the mean of row − column over the seeds with its
${pct(run.confidence)} t-interval (not adjusted) and the Holm-adjusted p-value. ✱ marks a difference significant after Holm's
correction over the cell's table, so an interval may exclude 0 without ✱: that pair alone would pass, the family does not
(${run.comparisons.totalRegret.length} pairs; family-wise error ${pct(run.alpha)}; each metric is its own family).
Why a paired t-test: the pairs share their seed's world and draws, so the per-seed differences remove most of the seed-to-seed
spread; a sign test cannot reach ${pct(run.alpha)} with fewer than 6 seeds (its smallest two-sided p-value is 2<sup>1−n</sup>), and
the difference of two regrets summed over ${run.steps} steps is close to normal.</p>
${matrices}
`,
  });
}

/**
 * A multi-seed run as plain JSON: per algorithm the per-seed metrics, their means and intervals,
 * the bands; the comparisons; the times.
 *
 * @example
 * await writeFile('report/results.json', JSON.stringify(seedsRunJson(run), null, 2));
 */
export function seedsRunJson(run: MultiSeedRun): unknown {
  const band = (b: { mean: Float64Array; lower: Float64Array; upper: Float64Array }) => ({ mean: Array.from(b.mean), lower: Array.from(b.lower), upper: Array.from(b.upper) });
  return {
    seeds: run.seeds, scenario: run.scenario, steps: run.steps, shockStep: run.shockStep, window: run.window, confidence: run.confidence, alpha: run.alpha,
    backend: run.first.backend, startedAt: run.first.startedAt, totalMs: run.totalMs, seedMs: run.seedMs, stopReason: run.stopReason,
    sentence: seedsSentence(run),
    roundEnds: Array.from(run.roundEnds),
    policies: run.policies.map((p) => ({
      key: p.key, name: p.name, perSeed: p.perSeed, recoverySteps: p.recoverySteps, summary: p.summary, seconds: p.seconds,
      cumulativeRegret: band(p.cumulativeRegret), windowCtr: band(p.windowCtr),
    })),
    comparisons: run.comparisons,
  };
}
