/** `webgpu-bandits start` (the default scenario over seeds) and `simulate` (the head-to-head with your settings). */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BanditError } from '../core/errors.js';
import {
  ALGORITHM_DESCRIPTIONS, ALGORITHMS, CATALOGUE_SCENARIO, DEFAULT_ALGORITHMS, DEFAULT_DELAYS, delaySweepHtml, delaySweepJson, formatDelaySweep,
  formatResultTable, formatSeedsSummary, reportHtml, resolveScenario, runDelaySweep, runScenario, runSeeds, scenarioRunJson, seedsReportHtml,
  seedsRunJson, type AlgorithmKey, type ProgressText, type ScenarioOptions,
} from '../sim/index.js';
import { backendFlag, backendHelp, openBackend } from './backend.js';
import { UsageError, intFlag, listFlag, optional, parseFlags } from './flags.js';
import { BIN, commandLine, environment, note, progress, say } from './io.js';

const SIMULATE_FLAGS = (backend: 'auto' | 'webgpu'): string => `  --steps N           user arrivals (default 6000)
  --shock-at N|none   step of the market shock (default steps/2); none: a stationary world
  --algos LIST        comma-separated, in the order to show, or all (default all but hybrid):
${ALGORITHMS.map((a) => `                        ${a.padEnd(11)}${ALGORITHM_DESCRIPTIONS[a]}`).join('\n')}
  --batch N           users arriving at once, rows a select/update (default 25)
  --seed N            seed of the world, the stream and the models (default 1; the first seed over seeds)
  --seeds N           run seeds seed..seed+N−1 and report means, bands and paired tests
                      (start: default as many as fit --budget; simulate: default 1)
  --budget S          start: seconds the seeds may take (default 60; at least 3 seeds)
  --training-rows N   pre-shock random-log rows the Embedding + MLP is trained on (default 10000)
  --epochs N          epochs of that training (default 10)
  --delays LIST|none  start: mean click delays (rounds) of the catalogue sweep (default ${DEFAULT_DELAYS.join(',')});
                      none skips it
  --sweep-budget S    start: seconds the catalogue sweep's seeds may take (default 35; at least 3 seeds)
  --backend KIND      ${backendHelp(backend)}
  --out DIR           where to write index.html and results.json (default report/)
  --help              this text`;

/** `start --help`. */
export const START_HELP = `${BIN} start: the default scenario over seeds

Runs ${DEFAULT_ALGORITHMS.slice(0, 7).join(', ')},
${DEFAULT_ALGORITHMS.slice(7).join(', ')} (every algorithm but hybrid: --algos all for it too) on
simulated streams of 6000 users (50 items, 500 users, shock at step 3000, batches of 25), seed
1, 2, … as long as another seed fits the budget (60 s, at least 3 seeds; --seeds N for exactly
N). Within a seed every algorithm sees the same users and click draws. Prints the table of means
with 95 % t-intervals, one sentence on what the run shows and the pairs whose difference is
significant (paired t-tests over seeds, Holm-corrected), and writes report/index.html (banded
charts, tables, settings).

Then the catalogue sweep: ${CATALOGUE_SCENARIO.steps} steps, a new collection of ${CATALOGUE_SCENARIO.newCollection?.items} items at step ${CATALOGUE_SCENARIO.newCollection?.step},
items out of stock for stretches, clicks arriving after mean delays of ${DEFAULT_DELAYS.join(', ')} rounds,
over seeds (35 s, at least 3): how fast each algorithm gives the new items their fair share of
impressions, and what the delays add to the regret (report/catalogue.html).

The backend is auto: WebGPU on a real GPU, else a CPU backend
(--backend webgpu forces WebGPU).

Usage: ${BIN} start [flags]     (the flags of simulate are taken too)

${SIMULATE_FLAGS('auto')}
`;

/** `simulate --help`. */
export const SIMULATE_HELP = `${BIN} simulate: the head-to-head with your settings

Usage: ${BIN} simulate [flags]

${SIMULATE_FLAGS('webgpu')}

Example: ${BIN} simulate --steps 2000 --shock-at 800 --algos linucb,lints,squarecb,random --backend cpu
`;

/**
 * `start` and `simulate`: resolves with the exit code (usage mistakes throw UsageError).
 *
 * @example
 * process.exitCode = await simulate('simulate', ['--steps', '1000', '--backend', 'cpu']);
 */
export async function simulate(command: 'start' | 'simulate', args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, {
    steps: 'value', 'shock-at': 'value', algos: 'value', batch: 'value', seed: 'value', backend: 'value', out: 'value',
    'training-rows': 'value', epochs: 'value', seeds: 'value', budget: 'value', delays: 'value', 'sweep-budget': 'value', help: 'bool',
  }, command);
  if (flags.has('help')) {
    say(command === 'start' ? START_HELP : SIMULATE_HELP);
    return 0;
  }
  const steps = intFlag(flags, 'steps', 1);
  const shockText = flags.get('shock-at');
  let shockAt: number | null | undefined;
  if (shockText === 'none') shockAt = null;
  else if (shockText !== undefined) shockAt = intFlag(flags, 'shock-at', 0);
  const options: ScenarioOptions = {
    ...(steps === undefined ? {} : { steps }),
    ...(shockAt === undefined ? {} : { shockAt }),
    ...optional('algorithms', listFlag<AlgorithmKey>(flags, 'algos', ALGORITHMS)),
    ...optional('batchSize', intFlag(flags, 'batch', 1)),
    ...optional('seed', intFlag(flags, 'seed', 0)),
    ...optional('trainingRows', intFlag(flags, 'training-rows', 1)),
    ...optional('trainingEpochs', intFlag(flags, 'epochs', 0)),
  };
  if (shockAt != null && shockAt > (steps ?? 6000)) throw new UsageError(`--shock-at must be at most the steps (${steps ?? 6000}), got ${shockAt}`);
  let scenario;
  try {
    scenario = resolveScenario(options);
  } catch (e) {
    if (e instanceof BanditError) throw new UsageError(e.message.replace(/^scenario: /, ''));
    throw e;
  }
  // start: over seeds, on the fastest backend for the machine (a software WebGPU adapter is ~4×
  // slower than float64 JS here, and the seeds must fit the budget). simulate: one seed on WebGPU.
  const seeds = intFlag(flags, 'seeds', 1) ?? (command === 'start' ? undefined : 1);
  const budget = intFlag(flags, 'budget', 1);
  if (budget !== undefined && flags.has('seeds')) throw new UsageError('--budget and --seeds exclude each other (--seeds N runs exactly N seeds)');
  const delaysText = flags.get('delays');
  let delays: number[] | null = command === 'start' ? [...DEFAULT_DELAYS] : null;
  if (delaysText !== undefined) {
    if (command !== 'start') throw new UsageError('--delays is a flag of start (the catalogue sweep)');
    delays = delaysText === 'none' ? null : String(delaysText).split(',').map((d) => {
      const v = Number(d);
      if (d.trim() === '' || !Number.isFinite(v) || v < 0) throw new UsageError(`--delays takes mean delays ≥ 0 (rounds) separated by commas, or none; got ${delaysText}`);
      return v;
    });
    if (delays && new Set(delays).size !== delays.length) throw new UsageError(`--delays lists a delay twice: ${delaysText}`);
  }
  const sweepBudget = intFlag(flags, 'sweep-budget', 1);
  if (sweepBudget !== undefined && command !== 'start') throw new UsageError('--sweep-budget is a flag of start (the catalogue sweep)');
  const kind = backendFlag(flags, command === 'start' ? 'auto' : 'webgpu');
  const out = resolve(String(flags.get('out') ?? 'report'));

  say(command === 'start' ? 'webgpu-bandits: the default head-to-head scenario' : 'webgpu-bandits: head-to-head');
  say(`  ${scenario.steps} steps in batches of ${scenario.batchSize}, ` +
    `${scenario.shockAt === null ? 'no shock' : `market shock at step ${scenario.shockAt}`}, ` +
    (seeds === 1 ? `seed ${scenario.seed}` : seeds === undefined
      ? `seeds from ${scenario.seed}, as many as fit ${budget ?? 60} s (at least 3; --seeds N for exactly N)` : `seeds ${scenario.seed}..${scenario.seed + seeds - 1}`));
  say(`  algorithms: ${scenario.algorithms.join(', ')}`);
  const backend = await openBackend(kind);
  say(`  backend: ${backend.info.summary}`);
  say();
  const context = { command: commandLine(), environment: environment() };
  try {
    await mkdir(out, { recursive: true });
    if (seeds !== 1) {
      let running: ProgressText | null = null;
      const multi = await runSeeds(backend, scenario, seeds === undefined ? { budgetMs: (budget ?? 60) * 1000 } : { seeds }, {
        onProgress: (done, total) => {
          running ??= progress('head-to-head', 'rounds');
          running.update(done, total);
        },
        onSeed: (done, seed, run, planned) => {
          running?.finish();
          running = null;
          note(`seed ${seed}: done in ${(run.totalMs / 1000).toFixed(1)} s (${done}${planned ? ` of ${planned}` : ''} seed${done === 1 && !planned ? '' : 's'})`);
        },
      });
      say();
      say(formatSeedsSummary(multi));
      say();
      say(`time: ${(multi.totalMs / 1000).toFixed(1)} s for ${multi.seeds.length} seeds (${multi.stopReason}) on ${multi.first.backend}`);
      await writeFile(join(out, 'index.html'), seedsReportHtml(multi, context));
      await writeFile(join(out, 'results.json'), `${JSON.stringify(seedsRunJson(multi), null, 2)}\n`);
      if (delays) {
        say();
        say(`catalogue sweep: mean click delays ${delays.join(', ')} rounds, seeds from ${scenario.seed} for ${sweepBudget ?? 35} s (at least 3)`);
        let running: ProgressText | null = null;
        const sweep = await runDelaySweep(backend, { ...CATALOGUE_SCENARIO, seed: scenario.seed, algorithms: scenario.algorithms, batchSize: scenario.batchSize }, {
          delays, ...(seeds === undefined ? { budgetMs: (sweepBudget ?? 35) * 1000 } : { seeds }),
        }, {
          onProgress: (done, total) => {
            running ??= progress('catalogue run', 'rounds');
            running.update(done, total);
          },
          onRun: (seed, delay, run) => {
            running?.finish();
            running = null;
            note(`seed ${seed}, delay ${delay}: done in ${(run.totalMs / 1000).toFixed(1)} s`);
          },
        });
        say();
        say(formatDelaySweep(sweep));
        say();
        say(`time: ${(sweep.totalMs / 1000).toFixed(1)} s for ${sweep.seeds.length} seeds × ${delays.length} delays (${sweep.stopReason})`);
        await writeFile(join(out, 'catalogue.html'), delaySweepHtml(sweep, context));
        await writeFile(join(out, 'catalogue.json'), `${JSON.stringify(delaySweepJson(sweep), null, 2)}\n`);
        say(`report: ${join(out, 'catalogue.html')}`);
      }
    } else {
      let training: ProgressText | null = null;
      const running = progress('head-to-head', 'rounds');
      const run = await runScenario(backend, scenario, {
        onStage: (stage) => note(`… ${stage}`),
        onTrainingEpoch: (epoch, epochs) => {
          training ??= progress('training Embedding + MLP', 'epochs');
          training.update(epoch + 1, epochs);
          if (epoch + 1 === epochs) training.finish();
        },
        onProgress: (done, total) => running.update(done, total),
      });
      running.finish();
      say();
      say(formatResultTable(run.result));
      say();
      say(`time: ${(run.totalMs / 1000).toFixed(1)} s (${(run.setupMs / 1000).toFixed(1)} s creating and training the models, ` +
        `${(run.runMs / 1000).toFixed(1)} s running the stream) on ${run.backend}`);
      await writeFile(join(out, 'index.html'), reportHtml(run, context));
      await writeFile(join(out, 'results.json'), `${JSON.stringify(scenarioRunJson(run), null, 2)}\n`);
    }
    say(`report: ${join(out, 'index.html')}`);
    return 0;
  } finally {
    backend.dispose();
  }
}
