// '#platform' outside Node (browsers, workers, Deno without the node condition): nothing to load.
import type { NodeWebGpuLoad, Platform } from './types.js';

export const platform: Platform = {
  name: 'browser',
  linux: false,
  loadWebGpu: async (): Promise<NodeWebGpuLoad> => ({
    ok: false,
    missing: true,
    reason: "Dawn's Node bindings are for Node only; in a browser WebGPU is navigator.gpu",
  }),
  fileExists: () => false,
  hasGpuDeviceNode: () => true,
  quietVulkanLoader: () => undefined,
  cores: () => (typeof navigator !== 'undefined' && navigator.hardwareConcurrency) || 1,
  spawnWorker(source) {
    if (typeof Worker === 'undefined' || typeof Blob === 'undefined' || typeof URL === 'undefined') return null;
    const url = URL.createObjectURL(new Blob([`const port = self;\n${source}`], { type: 'text/javascript' }));
    try {
      const worker = new Worker(url);
      return { postMessage: (m) => worker.postMessage(m), terminate: () => worker.terminate() };
    } finally {
      // The worker has fetched its script by the time it runs; revoking later would leak the URL.
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    }
  },
  env: {},
};
