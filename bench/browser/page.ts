// The head-to-head suite in a page: the same code as `npm run bench`, on the browser's WebGPU
// (navigator.gpu) and TF.js's webgpu, wasm and cpu backends. The command line comes from the
// URL (?argv=<JSON array>); the report goes to window.__benchResult for bench/browser/run.mjs.
import { parseOptions, runSuite, type SuiteReport } from '../suite.js';

interface BenchResult {
  done: boolean;
  report?: string;
  error?: string;
}

declare global {
  interface Window {
    __benchResult?: BenchResult;
  }
}

const result: BenchResult = { done: false };
window.__benchResult = result;
const logged = document.getElementById('log');

function log(line: string): void {
  console.log(line);
  if (logged) logged.textContent += `${line}\n`;
}

async function main(): Promise<void> {
  const argv = JSON.parse(new URLSearchParams(location.search).get('argv') ?? '[]') as string[];
  const options = parseOptions(argv);
  const runtime = {
    name: 'chromium',
    userAgent: navigator.userAgent,
    cpus: navigator.hardwareConcurrency,
    crossOriginIsolated: String(self.crossOriginIsolated),
  };
  const report: SuiteReport = await runSuite({ ...options, log }, {
    runtime,
    tfjs: options.tfjs ? { wasmPath: new URL('/wasm/', location.href).href } : null,
    // No /proc in a page: the Node runner watches the machine's load instead.
    meter: { start() {}, share: () => null },
  });
  result.report = JSON.stringify(report);
}

main().then(
  () => {
    result.done = true;
  },
  (e: unknown) => {
    result.error = e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e);
    result.done = true;
  },
);
