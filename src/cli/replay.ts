/** `webgpu-bandits replay`: off-policy evaluation on the Open Bandit Dataset sample, every estimator with its interval. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BanditError } from '../core/errors.js';
import { REWARD_MODELS, selectRows } from '../eval/index.js';
import { loadObd, OBD_SAMPLE_DIR } from '../eval/obd-node.js';
import {
  DEFAULT_OFF_POLICY_TARGETS, DEFAULT_TARGET_DRAWS, OFF_POLICY_TARGETS, evaluateOffPolicy, formatOffPolicyTable, offPolicyMarkdown, offPolicyReading,
  type OffPolicyTargetKey, type ProgressText,
} from '../sim/index.js';
import { backendFlag, backendHelp, openBackend } from './backend.js';
import { choiceFlag, intFlag, listFlag, numberFlag, optional, parseFlags } from './flags.js';
import { BIN, EXIT_FAILURE, commandLine, environment, note, progress, say } from './io.js';

const REPLAY_ALGOS = Object.keys(OFF_POLICY_TARGETS) as OffPolicyTargetKey[];

/** `replay --help`. */
export const REPLAY_HELP = `${BIN} replay: off-policy evaluation on logged data (the Open Bandit Dataset)

Every estimator (replay, IPS, SNIPS, DM, DR, SNDR, Switch-DR, DRos: Open Bandit Pipeline's) with its
bootstrap interval for each target; DM and the DR family use a cross-fitted reward model. Online
learners are replayed (learning where they pick the logged item), each row evaluated with the
learner's distribution in the state it had there: one-hot for the deterministic ones, exact for
ε-greedy and SquareCB, from M posterior draws for LinTS and NeuralTS. The Embedding + MLP is
trained on one half of the log and greedy on the other, both ways. The logged propensities are
read throughout (replay keeps a matched row with probability min μ / μ_i when they differ).
Writes DIR/replay.md and DIR/replay.json.

Usage: ${BIN} replay [flags]

  --data DIR          folder with men.csv and item_context.csv (default ${OBD_SAMPLE_DIR},
                      relative to the working directory)
  --algos LIST        comma-separated from ${REPLAY_ALGOS.slice(0, 5).join(', ')},
                      ${REPLAY_ALGOS.slice(5).join(', ')}, or all
                      (default ${DEFAULT_OFF_POLICY_TARGETS.join(',')}:
                      25 s on the cpu backend here, lints 14 s of it; hybrid took 32 s, neuralts
                      about 45 s, 15× neural, at the default --draws)
  --draws M           posterior draws a row of the Thompson targets' distributions (default ${DEFAULT_TARGET_DRAWS})
  --reward-model M    ridge (default: per item, LinUCB with α = 0) or mlp (the Embedding + MLP click model)
  --folds N           cross-fitting folds of the reward model (default 3)
  --positions MODE    separate (default: one reward model per display position, as OBP) or pooled
  --samples N, --confidence C    bootstrap resamples (default 1000) and coverage (default 0.95)
  --tau T, --dros-lambda L       Switch-DR's weight threshold (default 10), DRos's shrinkage λ (default 1000)
  --seed N            seed of the folds, the bootstrap, replay's rejection draws and the models (default 1)
  --batch N           rows an online learner decides before learning from the kept ones (default 1: the exact replay method)
  --max-rows N        evaluate only the first N rows (default all)
  --backend KIND      ${backendHelp('auto')}
  --out DIR           where to write replay.md and replay.json (default report/)
  --help              this text
`;

/**
 * `replay`: resolves with the exit code (usage mistakes throw UsageError).
 *
 * @example
 * process.exitCode = await replay(['--algos', 'random,lints', '--backend', 'cpu']);
 */
export async function replay(args: readonly string[]): Promise<number> {
  const flags = parseFlags(args, {
    data: 'value', algos: 'value', batch: 'value', 'max-rows': 'value', backend: 'value', help: 'bool', 'reward-model': 'value', folds: 'value',
    positions: 'value', samples: 'value', confidence: 'value', tau: 'value', 'dros-lambda': 'value', seed: 'value', out: 'value', draws: 'value',
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
    ...optional('targetDraws', intFlag(flags, 'draws', 1)),
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
  await writeFile(join(out, 'replay.md'), offPolicyMarkdown(report, { data: dir, command: commandLine(), environment: environment(), backend: backend.info.summary }));
  await writeFile(join(out, 'replay.json'), `${JSON.stringify(report, null, 2)}\n`);
  say(`report: ${join(out, 'replay.md')}`);
  return 0;
}
