/** Dawn's Node bindings as the optional `webgpu` package exports them. */
export interface NodeWebGpuModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/** The outcome of loading the `webgpu` package: the module, or why not (`missing`: not installed). */
export type NodeWebGpuLoad =
  | { readonly ok: true; readonly module: NodeWebGpuModule }
  | { readonly ok: false; readonly missing: boolean; readonly reason: string };

/** A thread started by `Platform.spawnWorker`. */
export interface KernelWorker {
  postMessage(message: unknown): void;
  terminate(): void;
}

/**
 * What device acquisition needs from the runtime it runs in. `#platform` resolves to the Node
 * implementation under the `node` export condition and to a stub everywhere else, so a browser
 * bundle holds no `webgpu` or `node:` import at all.
 */
export interface Platform {
  readonly name: 'node' | 'browser';
  /** Linux, where WebGPU in Node goes through the Vulkan loader and its drivers. */
  readonly linux: boolean;
  /** Imports the optional `webgpu` package (Dawn), which the library never imports eagerly. */
  loadWebGpu(): Promise<NodeWebGpuLoad>;
  fileExists(path: string): boolean;
  /**
   * Whether the machine exposes a GPU device node a hardware Vulkan driver could open
   * (Linux: /dev/dri/renderD*, /dev/nvidia*; other systems: assumed yes).
   */
  hasGpuDeviceNode(): boolean;
  /**
   * Gives the Vulkan loader a private XDG_RUNTIME_DIR when none is set (containers, CI), so its
   * window-system layer does not print "XDG_RUNTIME_DIR is invalid" on every adapter probe.
   */
  quietVulkanLoader(): void;
  /**
   * Starts a thread running `source`, a classic script that receives messages through `port`,
   * which the platform defines before it (Node: worker_threads' parentPort, with `on`; a Web
   * Worker: its global scope, with `onmessage`); null where no worker can start. It does not keep
   * a Node process alive.
   */
  spawnWorker(source: string): KernelWorker | null;
  /** Cores the runtime reports (Node: availableParallelism; a page: navigator.hardwareConcurrency), 1 when unknown. */
  cores(): number;
  /** The process environment (Node) or an empty record. */
  readonly env: Record<string, string | undefined>;
}
