/**
 * What the report pages share: HTML escaping, the page style and shell, the settings table, the
 * rows that describe a run and a scenario.
 */
import type { HeadToHeadResult } from './headtohead.js';
import { DEFAULT_DISCOUNT_GAMMA, DEFAULT_POLICY_ALPHA } from './policies/linucb.js';
import { DEFAULT_NEURAL_POLICY_OPTIONS } from './policies/neuralucb.js';
import { ALGORITHM_DESCRIPTIONS, type AlgorithmKey, type ScenarioRun } from './scenario.js';

/**
 * Text made safe for HTML element content and attribute values.
 *
 * @example
 * escapeHtml('a < b & "c"');   // 'a &lt; b &amp; &quot;c&quot;'
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/**
 * The CSS of the report pages (a <style> element).
 *
 * @example
 * const page = `<!doctype html><head>${REPORT_STYLE}</head><body>…</body>`;
 */
export const REPORT_STYLE = `<style>
  body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 960px; color: #1a1a1a; line-height: 1.45; padding: 0 1rem; }
  h1 { font-size: 1.5rem; margin-bottom: 0.2rem; }
  h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
  .sub { color: #555; margin-top: 0; }
  table { border-collapse: collapse; font-size: 0.9rem; }
  table.results { width: 100%; }
  table.results th, table.results td { padding: 0.3rem 0.5rem; border-bottom: 1px solid #e3e3e3; text-align: right; }
  table.results th:first-child, table.results td:first-child { text-align: left; }
  table.results thead th { border-bottom: 2px solid #bbb; font-weight: 600; }
  table.kv th { text-align: left; vertical-align: top; padding: 0.2rem 1rem 0.2rem 0; font-weight: 600; white-space: nowrap; }
  table.kv td { padding: 0.2rem 0; }
  .swatch { display: inline-block; width: 0.8rem; height: 0.8rem; border-radius: 2px; margin-right: 0.4rem; vertical-align: -1px; }
  figure { margin: 1.2rem 0; }
  svg { max-width: 100%; height: auto; }
  .note { color: #444; font-size: 0.9rem; }
</style>`;

/**
 * A two-column settings table (HTML, escaped).
 *
 * @example
 * settingsTable([['seed', '1']]);   // '<table class="kv">…'
 */
export function settingsTable(rows: readonly (readonly [string, string])[]): string {
  const e = escapeHtml;
  return `<table class="kv"><tbody>${rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(v)}</td></tr>`).join('')}</tbody></table>`;
}

/** Extra lines for the report's settings (e.g. the command line and the machine). */
export interface ReportContext {
  /** The command that made the run. */
  readonly command?: string;
  /** Runtime, CPU count, load: what the timings were measured on. */
  readonly environment?: string;
}

/**
 * The settings rows every report starts with: the backend, when the run started, how long it
 * took, and the context's command and machine.
 *
 * @example
 * const rows = runSettings(run.backend, run.startedAt, '12.0 s', { command: 'webgpu-bandits start' });
 */
export function runSettings(backend: string, startedAt: string, time: string, context: ReportContext): [string, string][] {
  return [
    ['backend / adapter', backend],
    ['started', startedAt],
    ['time', time],
    ...(context.command ? [['command', context.command] as [string, string]] : []),
    ...(context.environment ? [['measured on', context.environment] as [string, string]] : []),
  ];
}

/** A report page's own parts; `reportPage` puts the shared shell around them. */
export interface ReportPageParts {
  /** The page's <title>. */
  readonly title: string;
  /** Its <h1>. */
  readonly heading: string;
  /** The run's backend and start, on the line under the heading. */
  readonly backend: string;
  readonly startedAt: string;
  /** CSS of this page alone (a <style> element), after REPORT_STYLE. */
  readonly style?: string;
  /** The HTML between the heading and the closing sections. */
  readonly body: string;
  /** The algorithms listed with their descriptions under "Algorithms"; without it, no list. */
  readonly algorithms?: readonly AlgorithmKey[];
  readonly settings: readonly (readonly [string, string])[];
}

/**
 * A whole self-contained report page: head and style, the heading and the run's line, the
 * page's body, the algorithms (when given) and the settings table.
 *
 * @example
 * const html = reportPage({ title: 'my run', heading: 'My run', backend, startedAt, body: '<p>…</p>', settings: [] });
 */
export function reportPage(p: ReportPageParts): string {
  const e = escapeHtml;
  const algorithms = p.algorithms
    ? `<h2>Algorithms</h2>\n<ul>${p.algorithms.map((a) => `<li><b>${e(a)}</b>: ${e(ALGORITHM_DESCRIPTIONS[a])}</li>`).join('')}</ul>\n\n`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(p.title)}</title>
${REPORT_STYLE}
${p.style ? `${p.style}\n` : ''}</head>
<body>
<h1>${e(p.heading)}</h1>
<p class="sub">webgpu-bandits · ${e(p.backend)} · ${e(p.startedAt)}</p>
${p.body.trim()}

${algorithms}<h2>Settings</h2>
${settingsTable(p.settings)}
</body>
</html>
`;
}

/**
 * The settings rows that describe a scenario's world and models (steps, shock, world, click
 * model, seed, window, the algorithms' settings, the Embedding + MLP's training).
 *
 * @example
 * const rows = scenarioSettings(run, run.result);
 */
export function scenarioSettings(
  run: Pick<ScenarioRun, 'scenario' | 'world' | 'trainingLosses'>, result: Pick<HeadToHeadResult, 'steps' | 'rounds' | 'batchSize' | 'shockStep' | 'window'>,
  seedText?: string,
): [string, string][] {
  const { scenario, world } = run;
  const shock = world.shock;
  return [
    ['steps (user arrivals)', `${result.steps}, in ${result.rounds} rounds of ${result.batchSize} users`],
    ['market shock', result.shockStep === null ? 'none within the run'
      : `at step ${result.shockStep}: every user's taste vector turns by ${(((shock?.rotation ?? 0) * 180) / Math.PI).toFixed(0)}°, ` +
        `category ${shock?.category} popularity ${(shock?.popularityChange ?? 0) >= 0 ? '+' : ''}${shock?.popularityChange} (logit)`],
    ['world', `${world.items} items in ${world.categories} categories, ${world.users} users, latent dimension ${world.latentDim}, ` +
      `user features ${world.userFeatureDim} + 1, item features ${world.itemFeatureDim} + one-hot category, feature noise ${world.featureNoise}`],
    ['click model', `σ(${world.baseLogit} + popularity[category] + ${world.affinityScale}·taste·item), category popularity spread ${world.popularitySpread}`],
    ['seed', seedText ?? String(scenario.seed)],
    ['window (CTR, regret a step, recovery)', `${result.window} steps`],
    ['LinUCB family', `α = ${DEFAULT_POLICY_ALPHA}, λ = 1; discounted γ = ${DEFAULT_DISCOUNT_GAMMA}`],
    ['NeuralUCB', `hidden [${DEFAULT_NEURAL_POLICY_OPTIONS.hidden.join(', ')}], confidence '${DEFAULT_NEURAL_POLICY_OPTIONS.confidence}', ` +
      `ν = ${DEFAULT_NEURAL_POLICY_OPTIONS.nu}, λ = ${DEFAULT_NEURAL_POLICY_OPTIONS.lambda}, Adam lr ${DEFAULT_NEURAL_POLICY_OPTIONS.lr}, ` +
      `${DEFAULT_NEURAL_POLICY_OPTIONS.trainSteps} steps every ${DEFAULT_NEURAL_POLICY_OPTIONS.trainEvery} rows`],
    ['Embedding + MLP', `trained on ${scenario.trainingRows} rows logged by a uniformly random policy before the shock, ` +
      `${scenario.trainingEpochs} epochs${run.trainingLosses.length ? ` (mean loss ${run.trainingLosses[0]!.toFixed(3)} → ${run.trainingLosses[run.trainingLosses.length - 1]!.toFixed(3)})` : ''}; frozen during the run`],
  ];
}

