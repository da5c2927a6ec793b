// The Node side of '#platform' (the `node` export condition): file checks, the Vulkan loader's
// environment and the lazy import of the optional `webgpu` package.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { NodeWebGpuLoad, NodeWebGpuModule, Platform } from './types.js';

let quieted = false;

export const platform: Platform = {
  name: 'node',
  linux: process.platform === 'linux',
  async loadWebGpu(): Promise<NodeWebGpuLoad> {
    // A variable specifier: bundlers that target Node leave the native module to Node.
    const specifier = 'webgpu';
    try {
      return { ok: true, module: (await import(/* @vite-ignore */ specifier)) as NodeWebGpuModule };
    } catch (cause) {
      const code = (cause as { code?: unknown }).code;
      const text = cause instanceof Error ? cause.message : String(cause);
      // Only the package itself being absent counts as missing; a broken install is reported as is.
      const missing = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /['"]webgpu['"]/.test(text);
      return { ok: false, missing, reason: text };
    }
  },
  fileExists: (path) => existsSync(path),
  hasGpuDeviceNode(): boolean {
    if (process.platform !== 'linux') return true;
    try {
      if (readdirSync('/dev/dri').some((f) => f.startsWith('renderD'))) return true;
    } catch {
      // no /dev/dri: no DRM device
    }
    try {
      return readdirSync('/dev').some((f) => /^nvidia\d+$/.test(f) || f === 'dxg');
    } catch {
      return false;
    }
  },
  quietVulkanLoader(): void {
    if (quieted || process.platform !== 'linux' || process.env['XDG_RUNTIME_DIR']) return;
    quieted = true;
    const dir = mkdtempSync(join(tmpdir(), 'webgpu-bandits-xdg-')); // mode 0700, as the spec asks
    process.env['XDG_RUNTIME_DIR'] = dir;
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  },
  cores: () => availableParallelism(),
  spawnWorker(source) {
    const worker = new Worker(`const port = require('node:worker_threads').parentPort;\n${source}`, { eval: true });
    worker.unref();
    return { postMessage: (m) => worker.postMessage(m), terminate: () => void worker.terminate() };
  },
  env: process.env,
};
