// `npm run demo`: serves the demo page (dist/examples, built by build.mjs) on 127.0.0.1 and prints
// its URL. WebGPU needs a secure context: http://127.0.0.1 is one, a file: URL is not.
// Usage: node harness/demo.mjs [--port N]     Ctrl-C stops it.
import { existsSync } from 'node:fs';
import { serve } from './server.mjs';

const root = new URL('..', import.meta.url).pathname;
const portAt = process.argv.indexOf('--port');
const port = portAt > 0 ? Number(process.argv[portAt + 1]) : 8080;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`demo: --port must be an integer in 0..65535, got '${process.argv[portAt + 1]}'`);
  process.exit(2);
}
const dir = `${root}/${process.env.OUTDIR ?? 'dist'}/examples`;
if (!existsSync(`${dir}/index.html`)) {
  console.error(`demo: ${dir}/index.html is missing; build first (node build.mjs, or npm run demo, which builds).`);
  process.exit(1);
}

let server;
try {
  server = await serve({ '/': dir }, port);
} catch (e) {
  if (e?.code !== 'EADDRINUSE') throw e;
  console.error(`demo: port ${port} is taken; trying a free one.`);
  server = await serve({ '/': dir }, 0);
}
console.log(`webgpu-bandits demo: ${server.url}/`);
console.log('Open it in Chrome or Edge (WebGPU on); without WebGPU the page runs on the cpu backend and says so.');
console.log(`Presets: ${server.url}/?steps=2000&algos=linucb,discounted,neural,random&autostart=1`);
console.log('Ctrl-C stops the server.');
const stop = () => server.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
