/**
 * The command line: `webgpu-bandits start | simulate | replay`, one module a command in this
 * folder; src/cli.ts runs it (bundled to dist/cli.js, the package's bin). Node only: it reads and
 * writes files and draws progress on the terminal.
 */
import { BackendError, BanditError } from '../core/errors.js';
import { DEFAULT_ALGORITHMS } from '../sim/index.js';
import { UsageError } from './flags.js';
import { BIN, EXIT_FAILURE, EXIT_USAGE, note, say } from './io.js';
import { replay } from './replay.js';
import { simulate } from './simulate.js';

/** `webgpu-bandits help`. */
export const MAIN_HELP = `${BIN}: WebGPU contextual bandits, head to head on a simulated shop with a market shock

Usage:
  ${BIN} start              the default scenario over seeds (as many as fit a minute, --seeds N or
                              --budget S for more): ${DEFAULT_ALGORITHMS.length} algorithms, 6000 steps, shock at step 3000;
                              means with 95 % bands, significant pairs, report/index.html
  ${BIN} simulate [flags]   the head-to-head with your settings
  ${BIN} replay [flags]     off-policy evaluation on the Open Bandit Dataset sample: every estimator with its interval
  ${BIN} <command> --help   the flags of a command

From a checkout: npm start (builds, then runs start), or node dist/cli.js <command> after node build.mjs.
`;

const COMMANDS = ['start', 'simulate', 'replay'];

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
      note(`Run '${BIN} ${command && COMMANDS.includes(command) ? `${command} ` : ''}--help' for the usage.`);
      return EXIT_USAGE;
    }
    note(`\n${BIN}: ${e instanceof Error ? (e instanceof BanditError || e instanceof BackendError ? e.message : e.stack ?? e.message) : String(e)}`);
    return EXIT_FAILURE;
  }
}
