/**
 * Node only (reads files): not exported from src/index.ts, so the library bundle stays free of
 * Node APIs. Import it from a Node script or CLI.
 */
import { access, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { BanditError } from '../core/errors.js';
import { parseObd, type ObdLog, type ObdOptions } from './obd.js';

/** Where the repository's sample of the Open Bandit Dataset lives, relative to the working directory (the repo root). */
export const OBD_SAMPLE_DIR = '../shared/data/obd-random-men';

const exists = (path: string) => access(path).then(() => true, () => false);

/**
 * Reads an Open Bandit Dataset folder (`men.csv` or another `<campaign>.csv` beside
 * `item_context.csv`) and parses it with `parseObd`. `dir` may also be the folder above it
 * (`../shared/data`), holding `obd-random-men/`. Fails with a BanditError naming the paths
 * tried when the data is not there.
 *
 * @example
 * import { loadObd } from './src/eval/obd-node.js';
 * const log = await loadObd();                         // ../shared/data/obd-random-men
 * const atTop = await loadObd('/data/obd/random/men', { position: 1 });
 */
export async function loadObd(dir: string = OBD_SAMPLE_DIR, options: ObdOptions & { readonly campaign?: string } = {}): Promise<ObdLog> {
  const { campaign = 'men', ...parseOptions } = options;
  const file = `${campaign}.csv`;
  const candidates = [resolve(dir), resolve(dir, `obd-random-${campaign}`)];
  let found: string | null = null;
  for (const c of candidates) {
    if ((await exists(join(c, file))) && (await exists(join(c, 'item_context.csv')))) {
      found = c;
      break;
    }
  }
  if (!found) {
    throw new BanditError(
      `loadObd: no ${file} and item_context.csv in ${candidates.join(' or ')}. The Open Bandit Dataset sample is expected in ` +
        `${OBD_SAMPLE_DIR} relative to the repository root (see ../shared/data/README.md); pass its folder as the first argument.`,
    );
  }
  const [interactions, items] = await Promise.all([readFile(join(found, file), 'utf8'), readFile(join(found, 'item_context.csv'), 'utf8')]);
  return parseObd(interactions, items, parseOptions);
}
