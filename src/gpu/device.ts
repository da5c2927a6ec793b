import { BackendError } from '../core/errors.js';
import type { AdapterDescription } from '../core/tensor.js';

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

const isNode = (): boolean =>
  typeof process !== 'undefined' && typeof process.versions?.node === 'string';

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

interface NodeWebGpuModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

async function loadNodeWebGpu(): Promise<NodeWebGpuModule> {
  // A variable specifier keeps bundlers from pulling the native module into browser bundles.
  const specifier = 'webgpu';
  try {
    return (await import(/* @vite-ignore */ specifier)) as NodeWebGpuModule;
  } catch (cause) {
    throw new BackendError(
      `webgpu-bandits: the 'webgpu' package (Dawn's Node bindings) could not be loaded: ${String(cause)}. ` +
        `Install it with 'npm install webgpu', or use createBackend({ kind: 'cpu' }).`,
    );
  }
}

async function nodeFileExists(path: string): Promise<boolean> {
  const fsName = 'node:fs';
  const fs = (await import(/* @vite-ignore */ fsName)) as typeof import('node:fs');
  return fs.existsSync(path);
}

/**
 * Finds an adapter and requests a device with the adapter's limits.
 * Browser: `navigator.gpu`. Node: the `webgpu` package, first with the default Vulkan drivers,
 * then, if none gives an adapter and Chromium's SwiftShader driver is installed, with it.
 * Rejects with a BackendError naming every route tried.
 */
export async function acquireDevice(options: AcquireOptions = {}): Promise<AcquiredDevice> {
  const tried: string[] = [];
  const adapterOptions: GPURequestAdapterOptions = {};
  if (options.powerPreference) adapterOptions.powerPreference = options.powerPreference;

  if (typeof navigator !== 'undefined' && (navigator as Navigator & { gpu?: GPU }).gpu) {
    const gpu = (navigator as Navigator & { gpu: GPU }).gpu;
    const adapter = await gpu.requestAdapter(adapterOptions);
    if (adapter) {
      const device = await requestDevice(adapter);
      return { device, adapter: describeAdapter(adapter, 'navigator.gpu'), owner: gpu };
    }
    tried.push('navigator.gpu.requestAdapter() returned null');
  } else if (!isNode()) {
    tried.push(
      'navigator.gpu is missing (WebGPU needs a secure context such as https:// or http://127.0.0.1, ' +
        'and a browser with WebGPU enabled)',
    );
  }

  if (isNode()) {
    const mod = await loadNodeWebGpu();
    Object.assign(globalThis, mod.globals);
    const attempt = async (route: string): Promise<AcquiredDevice | null> => {
      const gpu = mod.create([]);
      const adapter = await gpu.requestAdapter(adapterOptions);
      if (!adapter) {
        tried.push(`${route}: no adapter`);
        return null;
      }
      const device = await requestDevice(adapter);
      return { device, adapter: describeAdapter(adapter, route), owner: gpu };
    };
    const env = process.env;
    const icd = env['VK_ICD_FILENAMES'];
    const first = await attempt(
      icd ? `webgpu package, VK_ICD_FILENAMES=${icd}` : 'webgpu package, default Vulkan drivers',
    );
    if (first) return first;
    if (!icd && (await nodeFileExists(SWIFTSHADER_ICD))) {
      env['VK_ICD_FILENAMES'] = SWIFTSHADER_ICD;
      const second = await attempt(`webgpu package, VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (SwiftShader)`);
      if (second) return second;
    } else if (!icd) {
      tried.push(`${SWIFTSHADER_ICD} not found (Debian's chromium package provides it)`);
    }
    const loader = ['/usr/lib/x86_64-linux-gnu/libvulkan.so.1', '/usr/lib/aarch64-linux-gnu/libvulkan.so.1'];
    const haveLoader = (await Promise.all(loader.map(nodeFileExists))).some(Boolean);
    if (!haveLoader && process.platform === 'linux') {
      tried.push('no system Vulkan loader found (libvulkan.so.1; Debian package libvulkan1)');
    }
  }
  throw new BackendError(`webgpu-bandits: no WebGPU adapter. Tried: ${tried.join('; ')}.`);
}
