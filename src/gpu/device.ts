import { BackendError } from '../core/errors.js';
import type { AdapterDescription } from '../core/tensor.js';
import { isNode, loadPlatform } from '../platform/load.js';
import type { Platform } from '../platform/types.js';

export type { AdapterDescription };

export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapter: AdapterDescription;
  /** Kept alive so the Node binding's instance outlives the device. */
  readonly owner: unknown;
}

export interface AcquireOptions {
  readonly powerPreference?: GPUPowerPreference;
}

/** Chromium's SwiftShader Vulkan driver, used in Node when the default drivers give no adapter. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The limits a compute library needs raised from the WebGPU defaults up to the adapter's. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
] as const;


type InfoWithFallback = GPUAdapterInfo & { isFallbackAdapter?: boolean };

function describe(info: InfoWithFallback | undefined, fallback: boolean | undefined, features: GPUSupportedFeatures, route: string): AdapterDescription {
  return {
    runtime: isNode() ? 'node' : 'browser',
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
    isFallbackAdapter: Boolean(info?.isFallbackAdapter ?? fallback ?? false),
    features: [...features].sort(),
    route,
  };
}

export function describeAdapter(adapter: GPUAdapter, route: string): AdapterDescription {
  // Older implementations put isFallbackAdapter on the adapter instead of its info.
  const legacyFallback = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  return describe(adapter.info as InfoWithFallback, legacyFallback, adapter.features, route);
}

/** Describes a device the caller made, from what the device itself exposes. */
export function describeDevice(device: GPUDevice): AdapterDescription {
  const info = (device as GPUDevice & { adapterInfo?: InfoWithFallback }).adapterInfo;
  return describe(info, undefined, device.features, 'device given by the caller');
}

async function requestDevice(adapter: GPUAdapter): Promise<GPUDevice> {
  const requiredLimits: Record<string, number> = {};
  for (const name of WANTED_LIMITS) {
    const value = (adapter.limits as unknown as Record<string, number | undefined>)[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  return adapter.requestDevice({ label: 'webgpu-bandits', requiredLimits, requiredFeatures });
}


/**
 * Dawn's Node bindings free their native instance when the JS `GPU` object from `create()` is
 * collected, although devices made from it still poll that instance for their events: a device
 * whose `GPU` is gone crashes the process (SIGSEGV, SIGABRT or a hang in
 * `InstanceBase::ProcessEvents`) at its next `mapAsync`, error scope or `lost` event, as after
 * `destroy()`. So every instance a device depends on is held here: the library's own for the life
 * of the process (one per Vulkan route, reused by every backend), a caller's until its device is lost.
 */
const heldInstances = new Map<unknown, number>();

/**
 * Holds `instance` (Node's `GPU` object) for as long as `device` may still use it; for the
 * browser's `navigator.gpu`, which lives as long as the page, holding is harmless.
 */
export function holdInstance(device: GPUDevice, instance: unknown): void {
  heldInstances.set(instance, (heldInstances.get(instance) ?? 0) + 1);
  void device.lost.then(() => {
    // The lost event itself is delivered from the instance's poll: release one task later.
    setTimeout(() => {
      const n = (heldInstances.get(instance) ?? 1) - 1;
      if (n > 0) heldInstances.set(instance, n);
      else heldInstances.delete(instance);
    }, 0);
  });
}

/** The Node instance that gave an adapter, kept for the process and reused by every backend. */
let nodeRoute: Promise<{ gpu: GPU; route: string }> | null = null;

interface Probe {
  readonly route: string;
  /** VK_ICD_FILENAMES while the instance is created (the loader reads it then, and only then). */
  readonly icd?: string;
}

/** Creates instances route by route until one gives an adapter; rejects with everything tried. */
async function probeNodeRoutes(platform: Platform, adapterOptions: GPURequestAdapterOptions): Promise<{ gpu: GPU; route: string }> {
  const loaded = await platform.loadWebGpu();
  if (!loaded.ok) {
    throw new BackendError(
      loaded.missing
        ? "webgpu-bandits: WebGPU in Node needs Dawn's bindings, the optional peer dependency 'webgpu': " +
            "run 'npm install webgpu', or use createBackend({ kind: 'cpu' })."
        : `webgpu-bandits: the 'webgpu' package (Dawn's Node bindings) is installed but could not be loaded: ${loaded.reason}. ` +
            "Reinstall it with 'npm install webgpu', or use createBackend({ kind: 'cpu' }).",
    );
  }
  const mod = loaded.module;
  Object.assign(globalThis, mod.globals);
  platform.quietVulkanLoader();
  const env = platform.env;
  const preset = env['VK_ICD_FILENAMES'];
  const swiftShader = platform.fileExists(SWIFTSHADER_ICD);
  const probes: Probe[] = [];
  if (preset) probes.push({ route: `webgpu package, VK_ICD_FILENAMES=${preset}` });
  else if (!platform.hasGpuDeviceNode() && swiftShader) {
    // No device node a hardware driver could open: probing the system drivers would only make
    // Mesa's software drivers print why they cannot serve WebGPU. Go to SwiftShader at once.
    probes.push({ route: `webgpu package, SwiftShader (${SWIFTSHADER_ICD}; no GPU device node in /dev)`, icd: SWIFTSHADER_ICD });
  } else {
    probes.push({ route: 'webgpu package, default Vulkan drivers' });
    if (swiftShader) probes.push({ route: `webgpu package, SwiftShader (${SWIFTSHADER_ICD})`, icd: SWIFTSHADER_ICD });
  }
  const tried: string[] = [];
  for (const probe of probes) {
    if (probe.icd) env['VK_ICD_FILENAMES'] = probe.icd;
    try {
      const gpu = mod.create([]);
      const adapter = await gpu.requestAdapter(adapterOptions);
      if (adapter) return { gpu, route: probe.route };
      tried.push(`${probe.route}: no adapter`);
    } finally {
      // The instance has read the variable; the rest of the process keeps the environment it had.
      if (probe.icd) delete env['VK_ICD_FILENAMES'];
    }
  }
  if (!preset && !swiftShader) tried.push(`${SWIFTSHADER_ICD} not found (Debian's chromium package provides it)`);
  const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'];
  if (platform.linux && !loader.some((p) => platform.fileExists(p))) {
    tried.push('no system Vulkan loader found (libvulkan.so.1; Debian package libvulkan1)');
  }
  throw new BackendError(`webgpu-bandits: no WebGPU adapter. Tried: ${tried.join('; ')}.`);
}

/**
 * Finds an adapter and requests a device with the adapter's limits.
 * Browser: `navigator.gpu`. Node: the optional `webgpu` package, on one instance per process:
 * the Vulkan driver in VK_ICD_FILENAMES if set; else the system drivers, then Chromium's
 * SwiftShader if they give none; straight to SwiftShader where no GPU device node exists (so
 * no driver prints why it cannot serve). Rejects with a BackendError naming every route tried.
 */
export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const adapterOptions: GPURequestAdapterOptions = {};
  if (options.powerPreference) adapterOptions.powerPreference = options.powerPreference;

  const gpu = typeof navigator !== 'undefined' ? (navigator as Navigator & { gpu?: GPU }).gpu : undefined;
  if (gpu) {
    const adapter = await gpu.requestAdapter(adapterOptions);
    if (!adapter) throw new BackendError('webgpu-bandits: no WebGPU adapter. Tried: navigator.gpu.requestAdapter() returned null.');
    const device = await requestDevice(adapter);
    return { device, adapter: describeAdapter(adapter, 'navigator.gpu'), owner: gpu };
  }
  if (!isNode()) {
    throw new BackendError(
      'webgpu-bandits: no WebGPU adapter. Tried: navigator.gpu is missing (WebGPU needs a secure context such as ' +
        'https:// or http://127.0.0.1, and a browser with WebGPU enabled).',
    );
  }
  const platform = await loadPlatform();
  nodeRoute ??= probeNodeRoutes(platform, adapterOptions);
  let found: { gpu: GPU; route: string };
  try {
    found = await nodeRoute;
  } catch (e) {
    nodeRoute = null; // e.g. the package gets installed, or a driver appears: probe again next time
    throw e;
  }
  const adapter = await found.gpu.requestAdapter(adapterOptions);
  if (!adapter) throw new BackendError(`webgpu-bandits: no WebGPU adapter. Tried: ${found.route}: no adapter this time.`);
  const device = await requestDevice(adapter);
  holdInstance(device, found.gpu);
  return { device, adapter: describeAdapter(adapter, found.route), owner: found.gpu };
}
