// The head-to-head suite's report: markdown tables and SVG scaling charts from a SuiteReport
// (bench/suite.ts), and the files they go to. The charts are plain SVG written here: log–log lines
// of median time per call against K, d and B, one line per runner.
//
// Files (bench/results/ unless --out): <base>.json (everything, every sample), <base>.md (the
// report), <base>-<chart>.svg (linked from it) and latest.md (the newest run of each runtime: the
// targets and links to the full reports).
import { fmtSi, markdownTable } from './lib.js';
import type { SuiteCase, SuiteReport, SuiteRunner } from './suite.js';

const fmtMs = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const pct = (v: number | undefined): string => (v === undefined ? '' : v >= 0.1 ? `${(v * 100).toFixed(0)}%` : `${(v * 100).toFixed(1)}%`);
const shapeText = (s: Readonly<Record<string, number>>): string => Object.entries(s).map(([k, v]) => `${k}=${v}`).join(' ');

/** The charts of a report: one per (family, op) with at least two measured points on a line. */
export interface Chart {
  readonly id: string;
  readonly title: string;
  readonly svg: string;
}

const RUNNER_ORDER = [
  'webgpu', 'webgpu one-pass', 'webgpu k-pass', 'webgpu one-pass: forward', 'webgpu one-pass: backward+J', 'webgpu 1-element op', 'cpu', 'cpu one-pass', 'plain-js',
  'tfjs-webgpu', 'tfjs-webgpu vectorised', 'tfjs-webgpu per-arm', 'tfjs-wasm', 'tfjs-wasm vectorised', 'tfjs-wasm per-arm',
  'tfjs-cpu', 'tfjs-cpu vectorised', 'tfjs-cpu per-arm',
];
const COLOURS: Record<string, string> = {
  'webgpu': '#d62728', 'webgpu one-pass': '#d62728', 'webgpu k-pass': '#ff9896', 'webgpu 1-element op': '#000000', 'webgpu one-pass: forward': '#8c564b', 'webgpu one-pass: backward+J': '#e377c2', 'cpu': '#9467bd', 'cpu one-pass': '#9467bd',
  'plain-js': '#7f7f7f', 'tfjs-webgpu': '#1f77b4', 'tfjs-webgpu vectorised': '#1f77b4', 'tfjs-webgpu per-arm': '#aec7e8',
  'tfjs-wasm': '#2ca02c', 'tfjs-wasm vectorised': '#2ca02c', 'tfjs-wasm per-arm': '#98df8a',
  'tfjs-cpu': '#ff7f0e', 'tfjs-cpu vectorised': '#ff7f0e', 'tfjs-cpu per-arm': '#ffbb78',
};
const dashed = (runner: string): boolean => runner.endsWith('per-arm') || runner.endsWith('k-pass') || runner.endsWith('1-element op');
const order = (a: string, b: string): number => {
  const i = RUNNER_ORDER.indexOf(a), j = RUNNER_ORDER.indexOf(b);
  return (i < 0 ? 99 : i) - (j < 0 ? 99 : j) || a.localeCompare(b);
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

interface Panel {
  readonly title: string;
  readonly axis: string;
  readonly lines: ReadonlyMap<string, readonly [number, number][]>;
}

/** Picks the value of `key` to hold fixed: `preferred` when the cases have it, else the largest present. */
function fixedValue(cases: readonly SuiteCase[], key: string, preferred: number): number | undefined {
  const values = [...new Set(cases.map((c) => c.shape[key]).filter((v): v is number => v !== undefined))];
  return values.includes(preferred) ? preferred : values.sort((a, b) => a - b).at(-1);
}

function panel(cases: readonly SuiteCase[], vary: string, fixed: Record<string, number | undefined>): Panel | null {
  const lines = new Map<string, [number, number][]>();
  for (const c of cases) {
    if (Object.entries(fixed).some(([k, v]) => v !== undefined && c.shape[k] !== v)) continue;
    const x = c.shape[vary];
    if (x === undefined) continue;
    for (const r of c.runners) {
      // A runner over the cap has one measured call after the first: a point too.
      const y = r.ms?.median ?? r.onceMs;
      if (y === undefined) continue;
      const pts = lines.get(r.runner) ?? [];
      pts.push([x, y]);
      lines.set(r.runner, pts);
    }
  }
  for (const pts of lines.values()) pts.sort((a, b) => a[0] - b[0]);
  if (![...lines.values()].some((p) => p.length >= 2)) return null;
  const held = Object.entries(fixed).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} = ${v}`).join(', ');
  return { title: `time vs ${vary}${held ? ` (${held})` : ''}`, axis: vary, lines };
}

const LEGEND_COLUMN = 220;
const niceLog = (v: number, up: boolean): number => 10 ** (up ? Math.ceil(Math.log10(v)) : Math.floor(Math.log10(v)));

/** An SVG of log–log panels side by side with one legend. */
export function lineChartSvg(title: string, panels: readonly Panel[]): string {
  const W = 330, H = 260, left = 56, right = 12, top = 40, bottom = 44;
  const runners = [...new Set(panels.flatMap((p) => [...p.lines.keys()]))].sort(order);
  const width = Math.max(panels.length * W, 2 * LEGEND_COLUMN), columns = Math.floor(width / LEGEND_COLUMN);
  const legendRows = Math.ceil(runners.length / columns);
  const height = top + H + bottom + legendRows * 18 + 8;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((p, i) => {
    const x0 = i * W + left, x1 = (i + 1) * W - right, y0 = top + H - bottom + 10, y1 = top;
    const xs = [...p.lines.values()].flatMap((l) => l.map(([x]) => x)), ys = [...p.lines.values()].flatMap((l) => l.map(([, y]) => y));
    let xMin = Math.min(...xs), xMax = Math.max(...xs);
    if (xMin === xMax) {
      xMin /= 2;
      xMax *= 2;
    }
    const yMin = niceLog(Math.min(...ys), false), yMax = niceLog(Math.max(...ys), true) * (Math.max(...ys) === niceLog(Math.max(...ys), true) ? 10 : 1);
    const lx = (v: number) => x0 + ((Math.log10(v) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin))) * (x1 - x0);
    const ly = (v: number) => y0 - ((Math.log10(v) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (y0 - y1);
    out.push(`<text x="${(x0 + x1) / 2}" y="${top - 8}" text-anchor="middle" font-size="12">${esc(p.title)}</text>`);
    out.push(`<rect x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}" fill="none" stroke="#999"/>`);
    for (let v = yMin; v <= yMax * 1.0001; v *= 10) {
      const y = ly(v);
      out.push(`<line x1="${x0}" x2="${x1}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${x0 - 4}" y="${(y + 4).toFixed(1)}" text-anchor="end">${v >= 1e6 ? `${v / 1e6}M` : v >= 1e3 ? `${v / 1e3}k` : String(Number(v.toPrecision(1)))}</text>`);
    }
    for (const v of [...new Set(xs)].sort((a, b) => a - b)) {
      const x = lx(v);
      out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y0}" y2="${y1}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${x.toFixed(1)}" y="${y0 + 14}" text-anchor="middle">${v}</text>`);
    }
    out.push(`<text x="${(x0 + x1) / 2}" y="${y0 + 30}" text-anchor="middle">${esc(p.axis)} (log)</text>`);
    out.push(`<text transform="translate(${x0 - 42} ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">ms a call (log)</text>`);
    for (const runner of runners) {
      const pts = p.lines.get(runner);
      if (!pts) continue;
      const colour = COLOURS[runner] ?? '#333', d = pts.map(([x, y]) => `${lx(x).toFixed(1)},${ly(y).toFixed(1)}`).join(' ');
      out.push(`<polyline points="${d}" fill="none" stroke="${colour}" stroke-width="2"${dashed(runner) ? ' stroke-dasharray="5 3"' : ''}/>`);
      for (const [x, y] of pts) out.push(`<circle cx="${lx(x).toFixed(1)}" cy="${ly(y).toFixed(1)}" r="3" fill="${colour}"><title>${esc(`${runner}: ${fmtMs(y)} ms`)}</title></circle>`);
    }
  });
  runners.forEach((runner, i) => {
    const x = 20 + (i % columns) * LEGEND_COLUMN, y = top + H + bottom - 14 + Math.floor(i / columns) * 18;
    const colour = COLOURS[runner] ?? '#333';
    out.push(`<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="2"${dashed(runner) ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(`<text x="${x + 30}" y="${y + 4}">${esc(runner)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const CHARTS: readonly { id: string; family: string; op: string; title: string }[] = [
  { id: 'linucb-select', family: 'linucb', op: 'select', title: 'LinUCB select' },
  { id: 'linucb-update', family: 'linucb', op: 'update', title: 'LinUCB update' },
  { id: 'neural-select', family: 'neural', op: 'select', title: 'NeuralUCB select (width 100)' },
  { id: 'gemm', family: 'gemm', op: 'gemm', title: 'GEMM C_k = X·A_k' },
  { id: 'jacobian', family: 'jacobian', op: 'jacobian', title: 'Per-arm Jacobian (d = 32, width 100)' },
  { id: 'train', family: 'train', op: 'train', title: 'NeuralUCB train step (width 100, SGD)' },
];

export function charts(report: SuiteReport): Chart[] {
  const out: Chart[] = [];
  for (const spec of CHARTS) {
    const cases = report.cases.filter((c) => c.family === spec.family && c.op === spec.op);
    if (cases.length === 0) continue;
    const d = fixedValue(cases, 'd', 32), B = fixedValue(cases, 'B', 64), K = fixedValue(cases, 'K', 1000);
    const panels = [
      panel(cases, 'K', { d, B }),
      spec.family === 'jacobian' ? null : panel(cases, 'd', { K, B }),
      spec.family === 'jacobian' ? null : panel(cases, 'B', { K, d }),
    ].filter((p): p is Panel => p !== null);
    if (panels.length) out.push({ id: spec.id, title: spec.title, svg: lineChartSvg(`${spec.title}: median time a call`, panels) });
  }
  return out;
}

// ---- markdown ----

const cell = (r: SuiteRunner | undefined): string => {
  if (!r) return '';
  if (r.ms) return fmtMs(r.ms.median);
  if (r.onceMs !== undefined) return `${fmtMs(r.onceMs)} (1 call)`;
  if (r.skipped) return 'skipped';
  return 'failed';
};

/** One row per case, one column of median ms per runner, then "× ours" columns. */
function pivot(cases: readonly SuiteCase[], ours: string): string[][] {
  const runners = [...new Set(cases.flatMap((c) => c.runners.map((r) => r.runner)))].sort(order);
  const keys = Object.keys(cases[0]?.shape ?? {});
  const rows: string[][] = [[...keys, ...runners.map((r) => `${r} ms`), 'fastest peer', `its time ÷ ${ours}`]];
  for (const c of cases) {
    const mine = c.runners.find((r) => r.runner === ours)?.ms?.median;
    const others = c.runners.filter((r) => r.runner !== ours && r.ms && !r.runner.startsWith(ours) && !r.runner.endsWith('1-element op') && !r.runner.includes(': ')).sort((a, b) => a.ms!.median - b.ms!.median);
    const best = others[0];
    rows.push([
      ...keys.map((k) => String(c.shape[k])), ...runners.map((name) => cell(c.runners.find((r) => r.runner === name))),
      best?.runner ?? '', best && mine ? `${(best.ms!.median / mine).toFixed(2)}×` : '',
    ]);
  }
  return rows;
}

function detailRows(report: SuiteReport): string[][] {
  const rows = [['case', 'runner', 'first ms', 'median ms', 'IQR ms', 'min–max ms', 'reps', 'others CPU', 'per s', 'GFLOP/s', 'GB/s', 'FLOP share', 'BW share', 'limit', 'note']];
  for (const c of report.cases) {
    for (const r of c.runners) {
      if (!r.ms) {
        rows.push([c.name, r.runner, r.firstMs === undefined ? '' : fmtMs(r.firstMs), '', '', '', '', '', '', '', '', '', '', '',
          r.skipped ? `skipped: ${r.skipped}` : `FAILED: ${r.error ?? ''}`]);
        continue;
      }
      rows.push([
        c.name, r.runner, fmtMs(r.firstMs!), fmtMs(r.ms.median), `${fmtMs(r.ms.q1)}–${fmtMs(r.ms.q3)}`, `${fmtMs(r.ms.min)}–${fmtMs(r.ms.max)}`,
        `${r.reps}${r.callsPerSample ? ` × ${r.callsPerSample} calls` : ''}`, r.contention === undefined ? '' : `${Math.round(r.contention * 100)}%${r.retries ? ` (${r.retries + 1} sets)` : ''}`,
        r.perSecond === undefined ? '' : fmtSi(r.perSecond), (r.gflops ?? 0).toFixed(3), (r.gbPerSec ?? 0).toFixed(3),
        pct(r.flopShare), pct(r.bwShare), r.limit ?? '', '',
      ]);
    }
  }
  return rows;
}

function targetRows(report: SuiteReport): string[][] {
  return [
    ['target', 'ours', 'peer', 'ours ms', 'peer ms', 'peer ÷ ours', 'needed', 'verdict', 'note'],
    ...report.targets.map((t) => [
      t.title, t.ours, t.peer, t.oursMs === undefined ? '' : fmtMs(t.oursMs), t.peerMs === undefined ? '' : fmtMs(t.peerMs),
      t.ratio === undefined ? '' : `${t.ratio.toFixed(2)}×`, `≥ ${t.atLeast}×`,
      t.pass === undefined ? 'not measured' : t.pass ? 'PASS' : `MISS (${(t.ratio! / t.atLeast * 100).toFixed(0)}% of the target)`,
      [t.note, t.bestTfjs ? `vs the fastest TF.js runner (${t.bestTfjs.runner}): ${t.bestTfjs.ratio.toFixed(2)}×` : ''].filter(Boolean).join('; '),
    ]),
  ];
}

export function runtimeName(report: SuiteReport): string {
  return String(report.runtime['name'] ?? 'node');
}

export function adapterLine(report: SuiteReport): string {
  const w = report.webgpu as { summary?: string; error?: string };
  return w.summary ?? `webgpu unavailable (${w.error})`;
}

/** The report page; `chartFiles` maps a chart id to the file name it was written to (beside the page). */
export function renderMarkdown(report: SuiteReport, chartFiles: ReadonlyMap<string, string> = new Map()): string {
  const rt = report.runtime, s = report.settings as { capMs: number; targetCapMs: number; targetMs: number; budgetMs: number; reps: { minReps: number; maxReps: number }; grid: unknown; families: string[] };
  const cal = report.calibration;
  const tfBackends = report.tfjs.backends
    ? Object.entries(report.tfjs.backends).map(([n, b]) => `${n}: ${b.ok ? `ok${b.info && Object.keys(b.info).length ? ` ${JSON.stringify(b.info)}` : ''}` : `unavailable (${b.error})`}`).join('; ')
    : `not loaded (${report.tfjs.error})`;
  const lines: string[] = [
    `# Head-to-head benchmark — ${report.date.slice(0, 16).replace('T', ' ')} UTC, ${runtimeName(report)}${report.quick ? ' (--quick)' : ''}`,
    '',
    `- adapter (the library's webgpu backend): ${adapterLine(report)}`,
    `- runtime: ${Object.entries(rt).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    `- TF.js ${report.tfjs.versions?.['tfjs'] ?? report.tfjs.versions?.['tfjs-core'] ?? ''}: ${tfBackends}`,
    `- method: per runner the first call timed apart (compilation, JIT), then ≥ ${s.reps.minReps} calls until ${s.targetMs} ms (≤ ${s.reps.maxReps}); median and quartiles; wall clock, a call ends with its result on the host (update and the Jacobian: with their GPU work done); a call predicted or measured over ${(s.capMs / 1000).toFixed(1)} s is not repeated (for the runners a target compares, at its case: ${(s.targetCapMs / 1000).toFixed(0)} s), one steady-state call then stands for it; the run stops starting cases after ${(s.budgetMs / 1000).toFixed(0)} s. Every peer's result is checked against a float64 reference before it is timed.`,
    `- ${report.failures} failed, ${report.skipped} skipped, ${report.pruned.length} shapes pruned; ${report.totalSeconds.toFixed(0)} s in all` +
      (report.loadAverage ? `; load average ${report.loadAverage.start.join(' ')} at the start, ${report.loadAverage.end.join(' ')} at the end (${rt['cpus'] ?? '?'} CPUs, shared: compare ratios within this run only)` : ''),
    '',
    '## Targets',
    '',
    ...markdownTable(targetRows(report), 3),
    '',
    '## Calibration: the machine\'s limits in this run',
    '',
    ...markdownTable([
      ['limit', 'copy GB/s best (median)', 'FMA GFLOP/s best (median)', 'copy kernel', 'FMA kernel'],
      ...(cal.gpu && 'copy' in cal.gpu
        ? [['adapter (bench/calibrate.wgsl)', `${cal.gpu.copy.best.toFixed(2)} (${cal.gpu.copy.median.toFixed(2)})`, `${cal.gpu.fma.best.toFixed(2)} (${cal.gpu.fma.median.toFixed(2)})`, cal.gpu.copy.detail, cal.gpu.fma.detail]]
        : [['adapter', '', '', `not measured: ${(cal.gpu as { error?: string } | undefined)?.error ?? ''}`, '']]),
      ['one JS thread (float64)', `${cal.js.copy.best.toFixed(2)} (${cal.js.copy.median.toFixed(2)})`, `${cal.js.fma.best.toFixed(2)} (${cal.js.fma.median.toFixed(2)})`, cal.js.copy.detail, cal.js.fma.detail],
    ], 1),
    '',
    'Shares below: a runner\'s bytes/s and FLOP/s over these best rates (the adapter\'s for webgpu runners, one JS thread\'s for the rest).',
    '',
  ];
  const chartList = charts(report);
  if (chartList.length) {
    lines.push('## Scaling', '');
    for (const c of chartList) {
      const file = chartFiles.get(c.id);
      if (file) lines.push(`![${c.title}](${file})`, '');
    }
  }
  const sections: [string, string, string, string][] = [
    ['LinUCB select: median ms a call (B decisions)', 'linucb', 'select', 'webgpu'],
    ['LinUCB update: median ms a call (B rows)', 'linucb', 'update', 'webgpu'],
    ['NeuralUCB select (width 100): median ms a call (B decisions over K arms)', 'neural', 'select', 'webgpu'],
    ['Per-arm Jacobian: one pass vs K passes, median ms', 'jacobian', 'jacobian', 'webgpu one-pass'],
    ['NeuralUCB train step (width 100, SGD on B rows): median ms a step', 'train', 'train', 'webgpu'],
    ['GEMM C_k = X·A_k: median ms a call (result read back)', 'gemm', 'gemm', 'webgpu'],
  ];
  for (const [title, family, op, ours] of sections) {
    const cases = report.cases.filter((c) => c.family === family && c.op === op);
    if (!cases.length) continue;
    lines.push(`## ${title}`, '', ...markdownTable(pivot(cases, ours), Object.keys(cases[0]!.shape).length), '');
  }
  if (report.pending.length) lines.push('## Pending', '', ...report.pending.map((p) => `- ${p}`), '');
  const refused = report.checks.filter((c) => !c.ok);
  lines.push(
    '## Checks before timing',
    '',
    `${report.checks.length - refused.length} of ${report.checks.length} passed.`,
    '',
    ...(refused.length ? markdownTable([['family', 'shape', 'runner', 'detail'], ...refused.map((c) => [c.family, shapeText(c.shape), c.runner, c.detail])], 3) : []),
    '',
    '<details><summary>every check</summary>',
    '',
    ...markdownTable([['family', 'shape', 'runner', 'ok', 'detail'], ...report.checks.map((c) => [c.family, shapeText(c.shape), c.runner, c.ok ? 'yes' : 'NO', c.detail])], 3),
    '',
    '</details>',
    '',
  );
  if (report.pruned.length) {
    lines.push('## Pruned shapes (not run)', '', ...markdownTable([['family', 'shape', 'why'], ...report.pruned.map((p) => [p.family, shapeText(p.shape), p.why])], 3), '');
  }
  if (report.setups.length) {
    lines.push('<details><summary>LinUCB setup (untimed in the cases): create, history, first select (compilation)</summary>', '',
      ...markdownTable([['shape', 'runner', 'create ms', 'history ms', 'first select ms', 'error'],
        ...report.setups.map((st) => [shapeText(st.shape), st.runner, st.createMs === undefined ? '' : fmtMs(st.createMs),
          st.historyMs === undefined ? '' : fmtMs(st.historyMs), st.firstSelectMs === undefined ? '' : fmtMs(st.firstSelectMs), st.error ?? ''])], 2),
      '', '</details>', '');
  }
  lines.push(
    '## Every runner',
    '',
    ...markdownTable(detailRows(report), 2),
    '',
    '## What is counted',
    '',
    ...Object.entries(report.counting).map(([k, v]) => `- ${k}: ${v}`),
    '',
  );
  return lines.join('\n');
}

/** The newest report of each runtime: targets side by side and links to the full pages. */
export function renderLatest(reports: readonly { report: SuiteReport; page: string }[]): string {
  const lines = ['# Head-to-head benchmark: latest run of each runtime', ''];
  for (const { report, page } of reports) {
    lines.push(
      `## ${runtimeName(report)} — ${report.date.slice(0, 16).replace('T', ' ')} UTC${report.quick ? ' (--quick)' : ''}`,
      '',
      `- adapter: ${adapterLine(report)}`,
      `- full report: [${page}](${page})`,
      '',
      ...markdownTable(targetRows(report), 3),
      '',
    );
  }
  return lines.join('\n');
}

/** Writes <base>.json, <base>.md, the charts, and latest.md (from the newest report of each runtime in `dir`). */
export async function writeSuiteResults(dir: string, base: string, report: SuiteReport): Promise<string[]> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const { compactJson } = await import('./lib.js');
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
    files.push(file);
  };
  write(`${base}.json`, compactJson(report));
  const chartFiles = new Map<string, string>();
  for (const c of charts(report)) {
    chartFiles.set(c.id, `${base}-${c.id}.svg`);
    write(`${base}-${c.id}.svg`, c.svg);
  }
  write(`${base}.md`, renderMarkdown(report, chartFiles));
  // latest.md: the newest suite JSON of each runtime in the folder.
  const newest = new Map<string, { report: SuiteReport; page: string }>();
  for (const f of fs.readdirSync(dir).filter((n) => n.startsWith('suite-') && n.endsWith('.json')).sort()) {
    try {
      const r = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as SuiteReport;
      if (r.suite !== 'head-to-head') continue;
      const prev = newest.get(runtimeName(r));
      if (!prev || prev.report.date <= r.date) newest.set(runtimeName(r), { report: r, page: f.replace(/\.json$/, '.md') });
    } catch {
      // Not a results file of this suite.
    }
  }
  write('latest.md', renderLatest([...newest.values()]));
  return files;
}

/** `--render FILE.json`: writes FILE.md and its charts again (after a change to the layout). */
export async function rerender(file: string): Promise<string[]> {
  const fs = await import('node:fs');
  const path = await import('node:path');
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as SuiteReport;
  return writeSuiteResults(path.dirname(file), path.basename(file).replace(/\.json$/, ''), report);
}
