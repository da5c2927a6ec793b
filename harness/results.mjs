// The line each runtime's runner prints last, read by harness/test.mjs.
export const RESULT_TAG = '@@webgpu-bandits-result ';
const ADAPTER_TAG = '[webgpu-bandits] runtime=';

/** Pulls the adapter summary out of the line the test fixture prints. */
export function adapterFromLine(line) {
  if (!line.startsWith(ADAPTER_TAG)) return null;
  const at = line.indexOf(' summary=');
  return at >= 0 ? line.slice(at + ' summary='.length) : line;
}

export function printResult(result) {
  console.log(RESULT_TAG + JSON.stringify(result));
}

export function parseResult(output) {
  const line = output.split('\n').reverse().find((l) => l.startsWith(RESULT_TAG));
  return line ? JSON.parse(line.slice(RESULT_TAG.length)) : null;
}
