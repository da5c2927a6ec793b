/**
 * The package's bin (`webgpu-bandits`, bundled to dist/cli.js): runs the command line of
 * src/cli/main.ts on the process's arguments and exits with its code.
 */
import { main } from './cli/main.js';
import { EXIT_FAILURE, note } from './cli/io.js';

// Dawn can keep the event loop alive after the backend is disposed: leave once the work is done.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    note(String(e?.stack ?? e));
    process.exit(EXIT_FAILURE);
  },
);
