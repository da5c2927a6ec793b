// The worker the worker spec starts (bundled to dist/test/bandit-worker.js): a module worker in
// Chromium, serving its own scope; a worker_threads thread in Node, serving the port the page
// handed over in workerData.
import { serveBandits, type Endpoint } from '../../src/index.js';

const threads = 'node:worker_threads';
if (typeof process !== 'undefined' && typeof process.versions?.node === 'string') {
  const { workerData } = (await import(/* @vite-ignore */ threads)) as typeof import('node:worker_threads');
  serveBandits((workerData as { port: Endpoint }).port);
} else {
  serveBandits();
}
