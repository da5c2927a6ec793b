import { BackendError } from '../core/errors.js';
import type { KernelDescriptor } from './kernel.js';

/** A kernel's compute pipeline and the layout its bind groups are made for. */
export interface CachedPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
}

/** Pipelines per device, held weakly so a destroyed or lost device takes its pipelines with it. */
const pipelineCache = new WeakMap<GPUDevice, Map<string, CachedPipeline>>();

/** Pipelines made for `device` so far. */
export const pipelinesOf = (device: GPUDevice): number => pipelineCache.get(device)?.size ?? 0;

/**
 * The kernel's pipeline on `device`, made once a (kernel, entry point, workgroup size, constants):
 * binding 0 the uniform struct at a dynamic offset, bindings 1… the storage buffers, every object
 * labelled with the kernel's name.
 */
export function pipelineFor(device: GPUDevice, kernel: KernelDescriptor): CachedPipeline {
  let perDevice = pipelineCache.get(device);
  if (!perDevice) pipelineCache.set(device, (perDevice = new Map()));
  const key = `${kernel.name}|${kernel.entryPoint}|${kernel.workgroupSize}|${JSON.stringify(kernel.constants ?? {})}`;
  let cached = perDevice.get(key);
  if (cached) return cached;
  if (kernel.workgroupSize > device.limits.maxComputeInvocationsPerWorkgroup) {
    throw new BackendError(
      `webgpu-bandits: kernel ${kernel.name} wants ${kernel.workgroupSize} invocations a workgroup; ` +
        `this device allows ${device.limits.maxComputeInvocationsPerWorkgroup}.`,
    );
  }
  const entries: GPUBindGroupLayoutEntry[] = [
    { binding: 0, visibility: GPUShaderStage.COMPUTE, buffer: { type: 'uniform', hasDynamicOffset: true } },
    ...kernel.storage.map((access, i) => ({
      binding: i + 1,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: access === 'read' ? ('read-only-storage' as const) : ('storage' as const) },
    })),
  ];
  const layout = device.createBindGroupLayout({ label: kernel.name, entries });
  const module = device.createShaderModule({ label: kernel.name, code: kernel.source });
  const pipeline = device.createComputePipeline({
    label: kernel.name,
    layout: device.createPipelineLayout({ label: kernel.name, bindGroupLayouts: [layout] }),
    compute: { module, entryPoint: kernel.entryPoint, constants: { WG: kernel.workgroupSize, ...(kernel.constants ?? {}) } },
  });
  cached = { pipeline, layout };
  perDevice.set(key, cached);
  return cached;
}
