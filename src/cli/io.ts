/** What every command prints and how: stdout for results, stderr for progress and notes. */
import { cpus, loadavg } from 'node:os';
import { ProgressText } from '../sim/index.js';

/** The command's name in messages. */
export const BIN = 'webgpu-bandits';

/** Exit codes besides 0: a failure, and a mistake in the command line. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * A line on stdout (results).
 *
 * @example
 * say(formatResultTable(run.result));
 */
export const say = (line = ''): void => void process.stdout.write(`${line}\n`);

/**
 * A line on stderr (progress, notes, errors).
 *
 * @example
 * note('… training Embedding + MLP');
 */
export const note = (line: string): void => void process.stderr.write(`${line}\n`);

/**
 * Progress on stderr: a bar redrawn in place on a terminal, a line every 10 % elsewhere.
 *
 * @example
 * const bar = progress('head-to-head', 'rounds');
 * bar.update(12, 240);
 */
export const progress = (label: string, unit: string): ProgressText =>
  new ProgressText(label, unit, { write: (t) => void process.stderr.write(t), tty: Boolean(process.stderr.isTTY) });

/**
 * The machine a run ran on, for the reports: Node, platform, cores and the load at the end.
 *
 * @example
 * const context = { command: 'webgpu-bandits start', environment: environment() };
 */
export function environment(): string {
  const [one] = loadavg();
  const runtime = `Node ${process.versions.node} on ${process.platform} ${process.arch}`;
  return `${runtime}, ${cpus().length} CPU cores, load average ${one!.toFixed(2)} at the end of the run (1 min)`;
}

/**
 * The command line as typed (for the reports).
 *
 * @example
 * const context = { command: commandLine(), environment: environment() };
 */
export const commandLine = (): string => `${BIN} ${process.argv.slice(2).join(' ')}`.trim();
