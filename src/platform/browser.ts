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
  env: {},
};
