/**
 * The head-to-head's figures as text and as a self-contained HTML page: hand-drawn SVG line
 * charts (no libraries, no scripts), the result table and the run's settings. Platform-neutral
 * (strings only): the CLI writes the page to disk, the demo page draws its live charts with the
 * same `lineChartSvg`.
 */
import type { HeadToHeadResult, PolicyMetrics } from './headtohead.js';
import { escapeHtml, REPORT_STYLE, reportPage, runSettings, scenarioSettings, settingsTable, type ReportContext } from './report-parts.js';
import { ALGORITHM_DESCRIPTIONS, type ScenarioRun } from './scenario.js';

export { escapeHtml, REPORT_STYLE, scenarioSettings, settingsTable, type ReportContext };

/** One line of a chart: points (x[i], y[i]) joined in order. */
export interface LineSeries {
  readonly name: string;
  /** A CSS colour. */
  readonly color: string;
  readonly x: ArrayLike<number>;
  readonly y: ArrayLike<number>;
  /**
   * A shaded band around the line (e.g. a 95 % interval over seeds): lower[i] and upper[i] at
   * x[i], drawn as a filled area in the series colour, under the lines. Non-finite points break it.
   */
  readonly band?: { readonly lower: ArrayLike<number>; readonly upper: ArrayLike<number> };
}

/** Options of `lineChartSvg`. */
export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly LineSeries[];
  /** Axis ranges. Default: x from 0 to the largest x; y from min(0, smallest y) to the largest y, widened to round ticks. */
  readonly xMax?: number;
  readonly yMin?: number;
  readonly yMax?: number;
  /** A vertical dashed line (the market shock), or null. */
  readonly marker?: { readonly x: number; readonly label: string } | null;
  /** Size in CSS pixels. Default 760 × 400. */
  readonly width?: number;
  readonly height?: number;
  /** Tick labels of the y axis. Default: up to 3 significant digits. */
  readonly yFormat?: (v: number) => string;
}

/** Colours of the series, in algorithm order; random and the oracle get greys (see `seriesColor`). */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2', '#bcbd22', '#393b79', '#637939'];

/**
 * The colour of a policy's series: grey for random, black for the oracle (the floor and the
 * ceiling), else the palette by position.
 *
 * @example
 * result.policies.map((p, i) => seriesColor(p.name, i));
 */
export function seriesColor(name: string, index: number): string {
  if (name === 'random') return '#9a9a9a';
  if (name === 'oracle') return '#222222';
  return PALETTE[index % PALETTE.length]!;
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `count` of them. */
function ticks(lo: number, hi: number, count: number): { lo: number; hi: number; values: number[] } {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const first = Math.floor(lo / step + 1e-9) * step, last = Math.ceil(hi / step - 1e-9) * step;
  const values: number[] = [];
  for (let v = first; v <= last + step / 2; v += step) values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { lo: first, hi: last, values };
}

const defaultFormat = (v: number): string => {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 10_000) return `${(v / 1000).toFixed(a >= 100_000 ? 0 : 1)}k`;
  return Number(v.toPrecision(3)).toString();
};

/**
 * A line chart as an SVG string: axes with round ticks, one polyline a series, a legend under
 * the plot and an optional dashed vertical marker. Series paths carry `class="series"` and
 * `data-name`, the marker `class="marker"` (the demo's test looks for them).
 *
 * @example
 * const svg = lineChartSvg({
 *   title: 'Cumulative regret', xLabel: 'step', yLabel: 'regret',
 *   series: [{ name: 'LinUCB', color: '#1f77b4', x: [0, 100, 200], y: [0, 30, 45] }],
 *   marker: { x: 100, label: 'market shock' },
 * });
 * document.querySelector('#chart').innerHTML = svg;
 */
export function lineChartSvg(options: LineChartOptions): string {
  const width = options.width ?? 760, height = options.height ?? 400;
  const series = options.series;
  // Legend: as many entries a row as fit, rows under the x label.
  const entryWidth = (s: LineSeries) => 40 + 6.5 * s.name.length;
  const legendRows: LineSeries[][] = [[]];
  let rowWidth = 0;
  for (const s of series) {
    if (rowWidth + entryWidth(s) > width - 70 && legendRows[legendRows.length - 1]!.length > 0) {
      legendRows.push([]);
      rowWidth = 0;
    }
    legendRows[legendRows.length - 1]!.push(s);
    rowWidth += entryWidth(s);
  }
  const legendHeight = series.length ? legendRows.length * 18 + 6 : 0;
  const m = { left: 64, right: 18, top: 34, bottom: 44 + legendHeight };
  const pw = width - m.left - m.right, ph = height - m.top - m.bottom;

  let xMaxData = 0, yMinData = Infinity, yMaxData = -Infinity;
  for (const s of series) {
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!;
      if (Number.isFinite(x)) xMaxData = Math.max(xMaxData, x);
      for (const y of s.band ? [s.y[i]!, s.band.lower[i]!, s.band.upper[i]!] : [s.y[i]!]) {
        if (Number.isFinite(y)) {
          yMinData = Math.min(yMinData, y);
          yMaxData = Math.max(yMaxData, y);
        }
      }
    }
  }
  if (!Number.isFinite(yMinData)) {
    yMinData = 0;
    yMaxData = 1;
  }
  const xMax = options.xMax ?? (xMaxData > 0 ? xMaxData : 1);
  const yTicks = ticks(options.yMin ?? Math.min(0, yMinData), options.yMax ?? yMaxData, 5);
  const xTicks = ticks(0, xMax, 6);
  const yLo = options.yMin ?? yTicks.lo, yHi = options.yMax ?? yTicks.hi;
  const sx = (x: number) => m.left + (x / xMax) * pw;
  const sy = (y: number) => m.top + ph - ((y - yLo) / (yHi - yLo || 1)) * ph;
  const fmt = options.yFormat ?? defaultFormat;
  const f1 = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" ` +
      `role="img" aria-label="${escapeHtml(options.title)}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
  );
  out.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  out.push(`<text x="${m.left}" y="20" font-size="15" font-weight="600" fill="#111">${escapeHtml(options.title)}</text>`);
  // Grid and ticks.
  for (const v of yTicks.values) {
    if (v < yLo - 1e-12 || v > yHi + 1e-12) continue;
    const y = f1(sy(v));
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y}" y2="${y}" stroke="#e6e6e6"/>`);
    out.push(`<text x="${m.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#555">${escapeHtml(fmt(v))}</text>`);
  }
  for (const v of xTicks.values) {
    if (v > xMax + 1e-9) continue;
    const x = f1(sx(v));
    out.push(`<line x1="${x}" x2="${x}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#888"/>`);
    out.push(`<text x="${x}" y="${m.top + ph + 16}" text-anchor="middle" fill="#555">${escapeHtml(defaultFormat(v))}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#888"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#888"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="${m.top + ph + 32}" text-anchor="middle" fill="#333">${escapeHtml(options.xLabel)}</text>`);
  out.push(
    `<text transform="translate(16 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" fill="#333">${escapeHtml(options.yLabel)}</text>`,
  );
  if (options.marker && options.marker.x >= 0 && options.marker.x <= xMax) {
    const x = f1(sx(options.marker.x));
    out.push(
      `<g class="marker"><line x1="${x}" x2="${x}" y1="${m.top}" y2="${m.top + ph}" stroke="#c00" stroke-dasharray="5 4" stroke-width="1.5"/>` +
        `<text x="${Number(x) + 4}" y="${m.top + 12}" fill="#c00">${escapeHtml(options.marker.label)}</text></g>`,
    );
  }
  // Series, clipped to the plot.
  out.push(`<defs><clipPath id="plot-${width}-${height}"><rect x="${m.left}" y="${m.top - 1}" width="${pw}" height="${ph + 2}"/></clipPath></defs>`);
  out.push(`<g clip-path="url(#plot-${width}-${height})">`);
  for (const s of series) {
    if (!s.band) continue;
    // One filled polygon a run of points where x, lower and upper are all finite.
    const polygons: string[] = [];
    let run: number[] = [];
    const flush = () => {
      if (run.length > 1) {
        const top = run.map((i) => `${f1(sx(s.x[i]!))} ${f1(sy(s.band!.upper[i]!))}`);
        const bottom = run.reverse().map((i) => `${f1(sx(s.x[i]!))} ${f1(sy(s.band!.lower[i]!))}`);
        polygons.push(`M${top.join('L')}L${bottom.join('L')}Z`);
      }
      run = [];
    };
    for (let i = 0; i < s.x.length; i++) {
      if (Number.isFinite(s.x[i]!) && Number.isFinite(s.band.lower[i]!) && Number.isFinite(s.band.upper[i]!)) run.push(i);
      else flush();
    }
    flush();
    if (polygons.length) {
      out.push(`<path class="band" data-name="${escapeHtml(s.name)}" d="${polygons.join('')}" fill="${escapeHtml(s.color)}" fill-opacity="0.16" stroke="none"/>`);
    }
  }
  for (const s of series) {
    const parts: string[] = [];
    let pen = 'M';
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!, y = s.y[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) {
        pen = 'M';
        continue;
      }
      parts.push(`${pen}${f1(sx(x))} ${f1(sy(y))}`);
      pen = 'L';
    }
    out.push(
      `<path class="series" data-name="${escapeHtml(s.name)}" d="${parts.join('')}" fill="none" stroke="${escapeHtml(s.color)}" ` +
        `stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>`,
    );
  }
  out.push('</g>');
  // Legend.
  legendRows.forEach((row, r) => {
    let x = m.left;
    const y = m.top + ph + 50 + r * 18;
    for (const s of row) {
      out.push(
        `<line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${escapeHtml(s.color)}" stroke-width="3"/>` +
          `<text x="${x + 23}" y="${y}" fill="#222">${escapeHtml(s.name)}</text>`,
      );
      x += entryWidth(s);
    }
  });
  out.push('</svg>');
  return out.join('');
}

const num = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');

/**
 * The result table's column titles (`resultRows` gives the cells).
 *
 * @example
 * const table = [RESULT_COLUMNS, ...resultRows(result)];
 */
export const RESULT_COLUMNS = [
  'algorithm', 'regret before shock', 'regret after shock', 'total regret', 'CTR before', 'CTR after', 'recovery (steps)', 'time (s)',
] as const;

/**
 * The result table's cells, one row a policy, formatted: cumulative regret before and after the
 * shock and in all, click-through before and after, the recovery time ('not within run' when the
 * policy never got back to its pre-shock level, '—' without a shock), and the seconds spent in
 * the policy's select and update calls.
 *
 * @example
 * const rows = resultRows(result);   // [['LinUCB', '941.4', '1011.1', '1952.5', '0.368', '0.447', 'not within run', '4.3'], …]
 */
export function resultRows(result: HeadToHeadResult): string[][] {
  return result.policies.map((p: PolicyMetrics) => [
    p.name,
    num(p.regretBeforeShock, 1),
    result.shockStep === null ? '—' : num(p.regretAfterShock, 1),
    num(p.totalRegret, 1),
    num(p.ctrBeforeShock, 3),
    num(p.ctrAfterShock, 3),
    result.shockStep === null ? '—' : p.recoverySteps === null ? 'not within run' : String(p.recoverySteps),
    ((p.selectMs + p.updateMs) / 1000).toFixed(1),
  ]);
}

/**
 * The result table as aligned plain text (names left, numbers right), for a terminal.
 *
 * @example
 * console.log(formatResultTable(run.result));
 */
export function formatResultTable(result: HeadToHeadResult): string {
  const rows = [[...RESULT_COLUMNS], ...resultRows(result)];
  const widths = RESULT_COLUMNS.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/**
 * The charts of a head-to-head result: cumulative regret per algorithm, windowed click-through
 * and windowed regret a step, each with the shock marked.
 *
 * @example
 * const [regret, ctr, rate] = resultCharts(result);
 */
export function resultCharts(result: HeadToHeadResult, size: { width?: number; height?: number } = {}): [string, string, string] {
  const marker = result.shockStep === null ? null : { x: result.shockStep, label: `market shock (step ${result.shockStep})` };
  const windowEnds = (n: number) => Float64Array.from({ length: n }, (_, w) => Math.min(result.steps, (w + 1) * result.window));
  const common = { xLabel: 'step (user arrivals)', xMax: result.steps, marker, ...size };
  const regret = lineChartSvg({
    ...common, title: 'Cumulative regret (lower is better)', yLabel: 'cumulative expected regret',
    series: result.policies.map((p, i) => ({
      name: p.name, color: seriesColor(p.name, i), x: [0, ...result.roundEnds], y: [0, ...p.cumulativeRegret],
    })),
  });
  const ctr = lineChartSvg({
    ...common, title: `Click-through rate, windows of ${result.window} steps (higher is better)`, yLabel: 'CTR',
    yMin: 0, yFormat: (v) => v.toFixed(2),
    series: result.policies.map((p, i) => ({ name: p.name, color: seriesColor(p.name, i), x: windowEnds(p.windowCtr.length), y: p.windowCtr })),
  });
  const rate = lineChartSvg({
    ...common, title: `Regret a step, windows of ${result.window} steps (lower is better)`, yLabel: 'mean regret a step',
    yMin: 0, yFormat: (v) => v.toFixed(2),
    series: result.policies.map((p, i) => ({ name: p.name, color: seriesColor(p.name, i), x: windowEnds(p.windowRegret.length), y: p.windowRegret })),
  });
  return [regret, ctr, rate];
}

/**
 * The whole report as one self-contained HTML page (inline CSS and SVG, no scripts, no external
 * files): the adapter and timings, the result table, the charts (cumulative regret; windowed CTR
 * and regret a step with the shock marked), how to read them, and the settings of the run.
 *
 * @example
 * await writeFile('report/index.html', reportHtml(run, { command: 'webgpu-bandits start' }));
 */
export function reportHtml(run: ScenarioRun, context: ReportContext = {}): string {
  const { result, scenario } = run;
  const e = escapeHtml;
  const [regretSvg, ctrSvg, rateSvg] = resultCharts(result);
  const table = [
    '<table class="results"><thead><tr>',
    ...RESULT_COLUMNS.map((c) => `<th>${e(c)}</th>`),
    '</tr></thead><tbody>',
    ...resultRows(result).map((r, i) =>
      `<tr><td><span class="swatch" style="background:${seriesColor(r[0]!, i)}"></span>${e(r[0]!)}</td>${r.slice(1).map((c) => `<td>${e(c)}</td>`).join('')}</tr>`),
    '</tbody></table>',
  ].join('');
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const settings: [string, string][] = [
    ...runSettings(run.backend, run.startedAt, `${seconds(run.totalMs)} in all: ${seconds(run.setupMs)} creating and training the models, ${seconds(run.runMs)} running the stream`, context),
    ...scenarioSettings(run, result),
  ];
  return reportPage({
    title: 'webgpu-bandits head-to-head report', heading: 'Contextual bandits head to head, with a market shock',
    backend: run.backend, startedAt: run.startedAt, algorithms: scenario.algorithms, settings,
    body: `
<h2>Results</h2>
${table}
<p class="note">Regret is expected regret, p(best item) − p(shown item), summed over steps; CTR is realised clicks / steps, from
click draws shared by all algorithms (the same item at the same step clicks for everyone alike). Recovery time: steps after the
shock until the regret a step, over a trailing window of ${result.window} steps, is back within 20% (+0.01) of the algorithm's
own level just before the shock. An algorithm that learns nothing (random, the oracle, the frozen Embedding + MLP) has no
level to lose, so it "recovers" at once: read its regret after the shock instead.</p>

<h2>Charts</h2>
<figure>${regretSvg}</figure>
<figure>${ctrSvg}</figure>
<figure>${rateSvg}</figure>
`,
  });
}

/**
 * A run without its per-step arrays, as plain JSON: what a script comparing runs needs.
 *
 * @example
 * await writeFile('report/results.json', JSON.stringify(scenarioRunJson(run), null, 2));
 */
export function scenarioRunJson(run: ScenarioRun): unknown {
  const { result } = run;
  return {
    backend: run.backend, startedAt: run.startedAt, totalMs: run.totalMs, setupMs: run.setupMs, runMs: run.runMs,
    scenario: run.scenario, steps: result.steps, batchSize: result.batchSize, shockStep: result.shockStep, window: result.window,
    trainingLosses: run.trainingLosses,
    policies: result.policies.map((p) => ({
      name: p.name, totalRegret: p.totalRegret, regretBeforeShock: p.regretBeforeShock, regretAfterShock: p.regretAfterShock,
      ctr: p.ctr, ctrBeforeShock: p.ctrBeforeShock, ctrAfterShock: p.ctrAfterShock, expectedCtr: p.expectedCtr,
      recoverySteps: p.recoverySteps, selectMs: p.selectMs, updateMs: p.updateMs,
      windowCtr: Array.from(p.windowCtr), windowRegret: Array.from(p.windowRegret),
    })),
  };
}
