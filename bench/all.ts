// `npm run bench`: every benchmark of the suite in turn, in one process (the ops benchmark, then
// LinUCB, then the NeuralUCB kernels); the arguments (--quick, --out DIR) go to each. Exits with
// the worst exit code.
import { runAsEntryPoint } from './lib.js';
import { main as linucb } from './linucb.js';
import { main as neural } from './neural.js';
import { main as ops } from './run.js';

export async function main(argv: readonly string[]): Promise<number> {
  let code = 0;
  for (const bench of [ops, linucb, neural]) code = Math.max(code, await bench(argv));
  return code;
}

runAsEntryPoint('all', main);
