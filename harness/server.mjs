// A static file server on 127.0.0.1 for the headless-Chromium harness: WebGPU needs a secure
// context, which http://127.0.0.1 is (about:blank and file: are not).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, resolve } from 'node:path';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json',
  '.json': 'application/json',
  '.css': 'text/css',
  '.wgsl': 'text/plain',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.csv': 'text/csv',
};

/**
 * Serves `roots` (url prefix → directory) and resolves to { url, close }.
 * Paths that escape their root are refused. `isolated`: the COOP/COEP headers that make the pages
 * cross-origin isolated (SharedArrayBuffer, so the wasm backend's second thread can start).
 */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
export async function serve(roots, port = 0, { isolated = false } = {}) {
  const mounts = Object.entries(roots).map(([prefix, dir]) => [prefix, resolve(dir)]);
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      const mount = mounts.find(([prefix]) => path.startsWith(prefix));
      if (!mount) throw Object.assign(new Error('no mount'), { code: 'ENOENT' });
      const [prefix, dir] = mount;
      let file = normalize(join(dir, path.slice(prefix.length)));
      if (path.endsWith('/')) file = join(file, 'index.html');
      if (!file.startsWith(dir)) throw Object.assign(new Error('outside root'), { code: 'EACCES' });
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store', ...(isolated ? ISOLATION : {}) });
      res.end(body);
    } catch (e) {
      res.writeHead(e.code === 'EACCES' ? 403 : 404, { 'content-type': 'text/plain' });
      res.end(String(e.message));
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail); // e.g. EADDRINUSE, for the caller to handle
    server.listen(port, '127.0.0.1', ok);
  });
  const address = server.address();
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((ok) => server.close(ok)),
  };
}
