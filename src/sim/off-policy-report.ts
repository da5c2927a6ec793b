/**
 * The off-policy report (evaluateOffPolicy's result) as a terminal table and as a Markdown page.
 * Platform-neutral: strings only.
 */
import type { OffPolicyEstimator, OffPolicyReport, OffPolicyTargetResult } from './off-policy.js';
import { OFF_POLICY_ESTIMATORS, OFF_POLICY_TARGETS } from './off-policy.js';

/**
 * The estimator's name as the report shows it, with its hyperparameter.
 *
 * @example
 * estimatorLabel('switch-dr', report.settings);   // 'Switch-DR (τ = 10)'
 */
export function estimatorLabel(estimator: OffPolicyEstimator, settings: { readonly tau: number; readonly lambda: number }): string {
  switch (estimator) {
    case 'replay': return 'replay';
    case 'dm': return 'DM';
    case 'ips': return 'IPS';
    case 'snips': return 'SNIPS';
    case 'dr': return 'DR';
    case 'sndr': return 'SNDR';
    case 'switch-dr': return `Switch-DR (τ = ${settings.tau})`;
    case 'dros': return `DRos (λ = ${settings.lambda})`;
  }
}

const fixed = (v: number, digits: number): string => (Number.isFinite(v) ? v.toFixed(digits) : '—');

/** "0.0046 [0.0031, 0.0062]" */
function cell(t: OffPolicyTargetResult, estimator: OffPolicyEstimator, digits: number): string {
  const e = t.estimates.find((x) => x.estimator === estimator);
  if (!e) return '—';
  return Number.isFinite(e.lower) ? `${fixed(e.estimate, digits)} [${fixed(e.lower, digits)}, ${fixed(e.upper, digits)}]` : fixed(e.estimate, digits);
}

/** Rows of the table: the matched counts, then one a estimator; a column a target. */
function tableRows(report: OffPolicyReport, digits: number): string[][] {
  const head = ['estimator', ...report.targets.map((t) => t.name)];
  // Under a uniform logger replay keeps every matched row; else the rejection sampling keeps some (replayEvaluate).
  const rejected = report.targets.some((t) => t.accepted !== t.matched);
  const matched = rejected
    ? ['matched → kept rows (clicks)', ...report.targets.map((t) => `${t.matched} → ${t.accepted} (${t.clicks})`)]
    : ['matched rows (clicks)', ...report.targets.map((t) => `${t.matched} (${t.clicks})`)];
  const rows = OFF_POLICY_ESTIMATORS.map((e) => [estimatorLabel(e, report.settings), ...report.targets.map((t) => cell(t, e, digits))]);
  return [head, matched, ...rows];
}

/**
 * One sentence on what the log allows: which targets' DR values differ significantly (the paired
 * bootstrap interval of the difference, Bonferroni-corrected over the pairs, excludes 0), or that
 * none do.
 *
 * @example
 * offPolicyReading(report);   // 'No two targets differ significantly by DR …: on this log the estimators cannot rank these policies.'
 */
export function offPolicyReading(report: OffPolicyReport): string {
  const name = (key: string) => report.targets.find((t) => t.key === key)?.name ?? key;
  const how = `paired bootstrap of the DR difference, ${(report.comparisonConfidence * 100).toPrecision(3)} % intervals (Bonferroni over ${report.comparisons.length} pair${report.comparisons.length === 1 ? '' : 's'})`;
  const found = report.comparisons.filter((c) => c.significant).map((c) => {
    const [hi, lo, d, l, u] = c.difference > 0 ? [c.a, c.b, c.difference, c.lower, c.upper] : [c.b, c.a, -c.difference, -c.upper, -c.lower];
    return `${name(hi)} above ${name(lo)} by ${fixed(d, 4)} [${fixed(l, 4)}, ${fixed(u, 4)}]`;
  });
  if (report.comparisons.length === 0) return 'One target: nothing to compare.';
  if (found.length === 0) {
    return `No two targets differ significantly by DR (${how}): on this log (${report.rows} rows, ${report.clicks} clicks) the estimators cannot rank these policies.`;
  }
  return `Significant DR differences (${how}): ${found.join('; ')}; no other pair differs.`;
}

/**
 * The report as aligned plain text for a terminal: one column a target, one row an estimator,
 * each cell the estimate and its bootstrap interval.
 *
 * @example
 * console.log(formatOffPolicyTable(report));
 */
export function formatOffPolicyTable(report: OffPolicyReport, digits = 4): string {
  const rows = tableRows(report, digits);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '─'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** Extra lines of the Markdown report. */
export interface OffPolicyReportContext {
  readonly data?: string;
  readonly command?: string;
  readonly environment?: string;
  readonly backend?: string;
}

/**
 * The report as a Markdown page: the data, the table (estimates with their intervals), the
 * reading, how positions and each target are handled, the settings and the timings.
 *
 * @example
 * await writeFile('report/replay.md', offPolicyMarkdown(report, { data: '../shared/data/obd-random-men' }));
 */
export function offPolicyMarkdown(report: OffPolicyReport, context: OffPolicyReportContext = {}): string {
  const rows = tableRows(report, 4);
  const md = (r: string[]) => `| ${r.join(' | ')} |`;
  const s = report.settings;
  const out = [
    '# Off-policy evaluation on logged data',
    '',
    ...(context.data ? [`Data: \`${context.data}\` — ${report.rows} logged rows, ${report.arms} items, ${report.positions} position${report.positions === 1 ? '' : 's'}, ` +
      `${report.clicks} clicks (logged CTR ${(report.clicks / report.rows).toFixed(4)}).`, ''] : []),
    `Each cell: the estimate of the target's click rate and its ${Math.round(s.confidence * 100)} % percentile bootstrap interval ` +
      `(${s.samples} resamples of the rows, the seven OBP estimators on the same resamples; replay's over its matched rows; the reward model is not refitted).`,
    '',
    md(rows[0]!),
    md(rows[0]!.map((_, c) => (c === 0 ? ':---' : '---:'))),
    ...rows.slice(1).map(md),
    '',
    `**Reading.** ${offPolicyReading(report)}`,
    '',
    ...(report.comparisons.length ? [
      `Paired DR differences (row a − b; ${(report.comparisonConfidence * 100).toPrecision(3)} % paired bootstrap intervals, Bonferroni over ${report.comparisons.length === 1 ? 'the 1 pair' : `the ${report.comparisons.length} pairs`}):`,
      '',
      '| a − b | difference | interval | excludes 0 |',
      '| :--- | ---: | ---: | :---: |',
      ...report.comparisons.map((c) => {
        const name = (key: string) => report.targets.find((t) => t.key === key)?.name ?? key;
        return `| ${name(c.a)} − ${name(c.b)} | ${fixed(c.difference, 4)} | [${fixed(c.lower, 4)}, ${fixed(c.upper, 4)}] | ${c.significant ? 'yes' : 'no'} |`;
      }),
      '',
    ] : []),
    '## How it was computed',
    '',
    `- Reward model (DM and the DR family): ${report.rewardModel.kind === 'ridge' ? 'ridge regression per item on the user context (LinUCB with α = 0, λ = 1)' : 'the Embedding + MLP click model'}, ` +
      `${report.rewardModel.folds}-fold cross-fitted (no row is predicted by a model that saw it)${report.positions > 1 ? ', one model per position (OBP\'s len_list models)' : ''}; ` +
      `${report.rewardModel.seconds.toFixed(1)} s.`,
    report.positions > 1
      ? `- Positions: the log shows ${report.positions} items at once and logs each impression as a row at its position. The targets pick one item for a user and do not see the position, ` +
        'so each row is a round at its own position with the same target distribution at every position (OBP\'s position-wise evaluation): an estimate is the click rate of the target\'s ' +
        'item averaged over the positions in the log\'s proportions.'
      : '- Positions: none given, so one reward model over every row (positions, if the log has them, pooled).',
    `- Switch-DR uses the reward model alone on rows whose importance weight w = π_e(a_i|x_i)/π_b(a_i|x_i) is over τ = ${s.tau} ` +
      `(${report.targets.map((t) => `${t.name}: ${t.switched} rows`).join(', ')}); DRos shrinks w to λw/(w² + λ), λ = ${s.lambda}.`,
    '- The intervals resample the rows with the reward model held fixed (OBP\'s bootstrap): DM\'s is narrow because it leaves out the model\'s own ' +
      'error, which is DM\'s bias; the DR family corrects the model with the logged clicks, and its intervals carry that noise.',
    ...report.targets.map((t) => `- ${t.name}: ${OFF_POLICY_TARGETS[t.key].description}${t.draws === null ? '' : ` (M = ${t.draws})`}; ${t.seconds.toFixed(1)} s.`),
    ...(report.targets.some((t) => t.draws !== null) ? [
      '- A distribution from M posterior draws (π̂ = share of the draws an item won) gives 0 to items far below 1/M: their importance weight on a row that logged them is then 0. ' +
        'That is unbiased (E π̂ = π) and adds variance π(1 − π)/M an entry; nothing divides by it (the logged propensities are the logger\'s).',
    ] : []),
    `- Seed ${s.seed} (folds, bootstrap, models). Total ${report.seconds.toFixed(1)} s` +
      `${context.backend ? ` on ${context.backend}` : ''}${context.environment ? `; ${context.environment}` : ''}.`,
    ...(context.command ? [`- Command: \`${context.command}\``] : []),
    '',
  ];
  return out.join('\n');
}
