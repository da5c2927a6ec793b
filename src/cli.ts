/**
 * The command line: `webgpu-bandits start | simulate | replay` (bundled to dist/cli.js for Node).
 * Node only: it reads and writes files and draws progress on the terminal.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBackend } from './backend.js';
import { BackendError, BanditError } from './core/errors.js';
import type { Backend } from './core/backend.js';
import { REWARD_MODELS, selectRows } from './eval/index.js';
import { loadObd, OBD_SAMPLE_DIR } from './eval/obd-node.js';
import {
  ALGORITHM_DESCRIPTIONS, ALGORITHMS, DEFAULT_OFF_POLICY_TARGETS, OFF_POLICY_TARGETS, evaluateOffPolicy, formatOffPolicyTable, formatResultTable,
  formatSeedsSummary, offPolicyMarkdown, offPolicyReading, reportHtml, resolveScenario, runScenario, runSeeds, scenarioRunJson, seedsReportHtml,
  seedsRunJson, ProgressText, type AlgorithmKey, type OffPolicyTargetKey, type ScenarioOptions,
} from './sim/index.js';

/** A mistake in the command line: printed with a pointer to --help, exit code 2. */
class UsageError extends Error {}

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

const BIN = 'webgpu-bandits';

const MAIN_HELP = `${BIN}: WebGPU contextual bandits, head to head on a simulated shop with a market shock

Usage:
  ${BIN} start              the default scenario over seeds (as many as fit a minute): every algorithm,
                              6000 steps, shock at step 3000; means with 95 % bands, significant pairs,
                              report/index.html
  ${BIN} simulate [flags]   the head-to-head with your settings
  ${BIN} replay [flags]     off-policy evaluation on the Open Bandit Dataset sample: every estimator with its interval
  ${BIN} <command> --help   the flags of a command

From a checkout: npm start (builds, then runs start), or node dist/cli.js <command> after node build.mjs.
`;

const SIMULATE_FLAGS = `  --steps N           user arrivals (default 6000)
  --shock-at N|none   step of the market shock (default steps/2); none: a stationary world
  --algos LIST        comma-separated, in the order to show (default all):
${ALGORITHMS.map((a) => `                        ${a.padEnd(11)}${ALGORITHM_DESCRIPTIONS[a]}`).join('\n')}
  --batch N           users arriving at once, rows a select/update (default 25)
  --seed N            seed of the world, the stream and the models (default 1; the first seed over seeds)
  --seeds N           run seeds seed..seed+N−1 and report means, bands and paired tests
                      (start: default as many as fit --budget; simulate: default 1)
  --budget S          start: seconds the seeds may take (default 60; at least 3 seeds)
  --training-rows N   pre-shock random-log rows the Embedding + MLP is trained on (default 10000)
  --epochs N          epochs of that training (default 10)
  --backend KIND      webgpu (simulate's default: WebGPU, else the cpu backend with a message),
                      cpu (float64 JavaScript), auto (start's default: WebGPU on a real GPU, the cpu
                      backend when the only adapter is a software one such as SwiftShader)
  --out DIR           where to write index.html and results.json (default report/)
  --help              this text`;

const START_HELP = `${BIN} start: the default scenario over seeds

Runs linucb, hybrid, discounted, neural, embedding, random and oracle on simulated streams of
6000 users (50 items, 500 users, shock at step 3000, batches of 25), seed 1, 2, … as long as
another seed fits the budget (60 s, at least 3 seeds; --seeds N for exactly N). Within a seed every
algorithm sees the same users and click draws. Prints the table of means with 95 % t-intervals,
one sentence on what the run shows and the pairs whose difference is significant (paired t-tests
over seeds, Holm-corrected), and writes report/index.html (banded charts, tables, settings).
The backend is auto: WebGPU on a real GPU, else the cpu backend (--backend webgpu forces WebGPU).

Usage: ${BIN} start [flags]     (the flags of simulate are taken too)

${SIMULATE_FLAGS}
`;

const SIMULATE_HELP = `${BIN} simulate: the head-to-head with your settings

Usage: ${BIN} simulate [flags]

${SIMULATE_FLAGS}

Example: ${BIN} simulate --steps 2000 --shock-at 800 --algos linucb,discounted,random --backend cpu
`;

const REPLAY_ALGOS = Object.keys(OFF_POLICY_TARGETS) as OffPolicyTargetKey[];

const REPLAY_HELP = `${BIN} replay: off-policy evaluation on logged data (the Open Bandit Dataset)

Every estimator (replay, IPS, SNIPS, DM, DR, SNDR, Switch-DR, DRos: Open Bandit Pipeline's) with its
bootstrap interval for each target; DM and the DR family use a cross-fitted reward model. Online
learners are replayed (learning where they pick the logged item); the Embedding + MLP is trained on
one half of the log and greedy on the other, both ways. Writes DIR/replay.md and DIR/replay.json.

Usage: ${BIN} replay [flags]

  --data DIR          folder with men.csv and item_context.csv (default ${OBD_SAMPLE_DIR},
                      relative to the working directory)
  --algos LIST        comma-separated from ${REPLAY_ALGOS.join(', ')}
                      (default ${DEFAULT_OFF_POLICY_TARGETS.join(',')}; hybrid took 32 s on the cpu backend here)
  --reward-model M    ridge (default: per item, LinUCB with α = 0) or mlp (the Embedding + MLP click model)
  --folds N           cross-fitting folds of the reward model (default 3)
  --positions MODE    separate (default: one reward model per display position, as OBP) or pooled
  --samples N, --confidence C    bootstrap resamples (default 1000) and coverage (default 0.95)
  --tau T, --dros-lambda L       Switch-DR's weight threshold (default 10), DRos's shrinkage λ (default 1000)
  --seed N            seed of the folds, the bootstrap and the models (default 1)
  --batch N           rows an online learner decides before learning from the matched ones (default 1: the exact replay method)
  --max-rows N        evaluate only the first N rows (default all)
  --backend KIND      auto (default: WebGPU on a real GPU, the cpu backend when the only adapter is a
                      software one), webgpu (cpu fallback with a message) or cpu
  --out DIR           where to write replay.md and replay.json (default report/)
  --help              this text
`;

type Flags = Map<string, string | true>;

/** `--name value`, `--name=value` and bare `--name` (boolean), checked against the command's flags. */
function parseFlags(args: readonly string[], known: Record<string, 'value' | 'bool'>, command: string): Flags {
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

function intFlag(flags: Flags, name: string, min: number): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}, got '${String(v)}'`);
  }
  return n;
}

function listFlag<T extends string>(flags: Flags, name: string, allowed: readonly T[]): T[] | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const items = String(v).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`--${name} needs at least one of ${allowed.join(', ')}`);
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`--${name}: unknown '${item}'; choose from ${allowed.join(', ')}`);
  }
  if (new Set(items).size !== items.length) throw new UsageError(`--${name} lists one twice: ${items.join(',')}`);
  return items as T[];
}

type BackendKind = 'webgpu' | 'cpu' | 'auto';

function backendFlag(flags: Flags, fallback: BackendKind = 'webgpu'): BackendKind {
  const v = flags.get('backend') ?? fallback;
  if (v !== 'webgpu' && v !== 'cpu' && v !== 'auto') throw new UsageError(`--backend must be webgpu, cpu or auto, got '${String(v)}'`);
  return v;
}

const say = (line = ''): void => void process.stdout.write(`${line}\n`);
const note = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * The backend the user asked for. 'webgpu' falls back to the cpu backend, with a message, when
 * no adapter is found, so the job still runs on a machine without WebGPU.
 */
async function openBackend(kind: BackendKind): Promise<Backend> {
  if (kind !== 'cpu') quietVulkan();
  if (kind === 'webgpu') {
    try {
      return await createBackend({ kind: 'webgpu' });
    } catch (e) {
      if (!(e instanceof BackendError)) throw e;
      note(`\nNo WebGPU adapter here: ${e.message}`);
      note('Falling back to the cpu backend (float64 JavaScript): the same algorithms, not on a GPU. Pass --backend cpu to skip the search.\n');
      return createBackend({ kind: 'cpu' });
    }
  }
  const backend = await createBackend({ kind });
  if (backend.info.fallbackReason) note('backend auto chose the cpu backend (reason below); pass --backend webgpu to run on the WebGPU adapter anyway.');
  return backend;
}

/**
 * Vulkan's window-system layer prints "XDG_RUNTIME_DIR is invalid" twice per adapter probe when
 * the variable is unset (containers, CI), which reads like a failure; a private empty directory
 * for this process quiets it (removed at exit). Dawn's note on drivers too old for WebGPU
 * ("shaderUniform*ArrayDynamicIndexing required") still appears when it probes them: harmless.
 */
function quietVulkan(): void {
  if (process.env['XDG_RUNTIME_DIR'] || process.platform !== 'linux') return;
  const dir = mkdtempSync(join(tmpdir(), 'webgpu-bandits-xdg-'));
  process.env['XDG_RUNTIME_DIR'] = dir;
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
}

/** Progress on stderr: a bar redrawn in place on a terminal, a line every 10 % elsewhere. */
const progress = (label: string, unit: string) => new ProgressText(label, unit, { write: (t) => void process.stderr.write(t), tty: Boolean(process.stderr.isTTY) });

function environment(): string {
  const [one] = loadavg();
  const runtime = `Node ${process.versions.node} on ${process.platform} ${process.arch}`;
  return `${runtime}, ${cpus().length} CPU cores, load average ${one!.toFixed(2)} at the end of the run (1 min)`;
}

async function simulate(command: 'start' | 'simulate', args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, {
    steps: 'value', 'shock-at': 'value', algos: 'value', batch: 'value', seed: 'value', backend: 'value', out: 'value',
    'training-rows': 'value', epochs: 'value', seeds: 'value', budget: 'value', help: 'bool',
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
  const context = { command: `${BIN} ${process.argv.slice(2).join(' ')}`.trim(), environment: environment() };
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

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function numberFlag(flags: Flags, name: string, ok: (v: number) => boolean, what: string): number | undefined {
  const v = flags.get(name);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || v.trim() === '' || !ok(n)) throw new UsageError(`--${name} must be ${what}, got '${String(v)}'`);
  return n;
}

function choiceFlag<T extends string>(flags: Flags, name: string, allowed: readonly T[], fallback: T): T {
  const v = flags.get(name) ?? fallback;
  if (!(allowed as readonly unknown[]).includes(v)) throw new UsageError(`--${name} must be ${allowed.join(' or ')}, got '${String(v)}'`);
  return v as T;
}

async function replay(args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, {
    data: 'value', algos: 'value', batch: 'value', 'max-rows': 'value', backend: 'value', help: 'bool', 'reward-model': 'value', folds: 'value',
    positions: 'value', samples: 'value', confidence: 'value', tau: 'value', 'dros-lambda': 'value', seed: 'value', out: 'value',
  }, 'replay');
  if (flags.has('help')) {
    say(REPLAY_HELP);
    return 0;
  }
  const targets = listFlag<OffPolicyTargetKey>(flags, 'algos', REPLAY_ALGOS) ?? DEFAULT_OFF_POLICY_TARGETS;
  const maxRows = intFlag(flags, 'max-rows', 1);
  const rewardModel = choiceFlag(flags, 'reward-model', REWARD_MODELS, 'ridge');
  const perPosition = choiceFlag(flags, 'positions', ['separate', 'pooled'] as const, 'separate') === 'separate';
  const options = {
    targets, rewardModel,
    ...optional('batchSize', intFlag(flags, 'batch', 1)),
    ...optional('folds', intFlag(flags, 'folds', 2)),
    ...optional('samples', intFlag(flags, 'samples', 2)),
    ...optional('seed', intFlag(flags, 'seed', 0)),
    ...optional('confidence', numberFlag(flags, 'confidence', (v) => v > 0 && v < 1, 'in (0, 1)')),
    ...optional('tau', numberFlag(flags, 'tau', (v) => v >= 0, 'a number ≥ 0')),
    ...optional('lambda', numberFlag(flags, 'dros-lambda', (v) => v >= 0, 'a number ≥ 0')),
  };
  const kind = backendFlag(flags, 'auto');
  const dir = String(flags.get('data') ?? OBD_SAMPLE_DIR);
  const out = resolve(String(flags.get('out') ?? 'report'));

  let log;
  try {
    log = await loadObd(dir);
  } catch (e) {
    if (!(e instanceof BanditError)) throw e;
    note(`${BIN} replay: no Open Bandit Dataset data in ${resolve(dir)}.`);
    note(`  ${e.message}`);
    note('  Pass the folder holding men.csv and item_context.csv with --data DIR.');
    return EXIT_FAILURE;
  }
  const rows = maxRows === undefined ? log.length : Math.min(maxRows, log.length);
  const data = rows === log.length ? log : selectRows(log, Int32Array.from({ length: rows }, (_, i) => i));
  const positions = Int32Array.from(log.positions.subarray(0, rows), (p) => p - 1);
  const uniform = data.propensities.every((p) => Math.abs(p - 1 / log.shape.arms) < 1e-12);
  say(`webgpu-bandits: off-policy evaluation on ${resolve(dir)}`);
  say(`  ${rows} logged rows, ${log.shape.arms} items, ${new Set(positions).size} positions, user context ${log.shape.userDim}; ` +
    `logging policy ${uniform ? `uniform (propensity 1/${log.shape.arms} on every row)` : 'not uniform (the logged propensities are used)'}`);
  say(`  reward model: ${rewardModel}, ${options.folds ?? 3}-fold cross-fitted, ${perPosition ? 'one a position' : 'pooled over the positions'}; targets: ${targets.join(', ')}`);
  const backend = await openBackend(kind);
  say(`  backend: ${backend.info.summary}`);
  say();
  let report;
  let bar: ProgressText | null = null;
  try {
    report = await evaluateOffPolicy(backend, data, {
      ...options, ...(perPosition ? { positions } : {}),
      onStage: (stage) => note(`… ${stage}`),
      onProgress: (target, done, total) => {
        (bar ??= progress(`replay ${target}`, 'rows')).update(done, total);
        if (done === total) {
          bar.finish();
          bar = null;
        }
      },
    });
  } finally {
    backend.dispose();
  }
  say();
  say(formatOffPolicyTable(report));
  say();
  say(offPolicyReading(report));
  say(`time: ${report.seconds.toFixed(1)} s (reward model ${report.rewardModel.seconds.toFixed(1)} s; ` +
    `${report.targets.map((t) => `${t.key} ${t.seconds.toFixed(1)} s`).join(', ')}) on ${backend.info.summary}`);
  await mkdir(out, { recursive: true });
  const command = `${BIN} ${process.argv.slice(2).join(' ')}`.trim();
  await writeFile(join(out, 'replay.md'), offPolicyMarkdown(report, { data: dir, command, environment: environment(), backend: backend.info.summary }));
  await writeFile(join(out, 'replay.json'), `${JSON.stringify(report, null, 2)}\n`);
  say(`report: ${join(out, 'replay.md')}`);
  return 0;
}

/**
 * Runs the command line `argv` (without node and the script) and resolves with the exit code:
 * 0 done, 1 failed, 2 a usage mistake (message on stderr).
 *
 * @example
 * process.exitCode = await main(['simulate', '--steps', '1000', '--backend', 'cpu']);
 */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'start':
      case 'simulate':
        return await simulate(command, rest);
      case 'replay':
        return await replay(rest);
      case 'help':
      case '--help':
      case '-h':
        say(MAIN_HELP);
        return 0;
      case undefined:
        note(MAIN_HELP);
        note('A command is required.');
        return EXIT_USAGE;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      note(`${BIN}: ${e.message}`);
      note(`Run '${BIN} ${command && ['start', 'simulate', 'replay'].includes(command) ? `${command} ` : ''}--help' for the usage.`);
      return EXIT_USAGE;
    }
    note(`\n${BIN}: ${e instanceof Error ? (e instanceof BanditError || e instanceof BackendError ? e.message : e.stack ?? e.message) : String(e)}`);
    return EXIT_FAILURE;
  }
}

// Dawn can keep the event loop alive after the backend is disposed: leave once the work is done.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    note(String(e?.stack ?? e));
    process.exit(EXIT_FAILURE);
  },
);
