// Proxies that count what a model asks of the GPUDevice and of the backend, for the tests that
// assert device calls, readbacks and allocations.
import type { Backend } from '../../src/index.js';

/** What calls asked of the GPUDevice. */
export interface DeviceCalls {
  submits: number;
  createBuffer: number;
  createBindGroup: number;
}

/** Which tensors calls asked the backend for, by label, and how many writes and reads. */
export interface BackendCalls {
  allocations: string[];
  writes: number;
  reads: number;
}

/** `target[name]`, a method bound to `target` (native bindings want the real object as `this`). */
function forward<T extends object>(target: T, name: PropertyKey): unknown {
  const v = Reflect.get(target, name);
  return typeof v === 'function' ? v.bind(target) : v;
}

/**
 * A proxy of `device` that counts queue.submit, createBuffer and createBindGroup; every other
 * member is the device's own.
 */
export function countingDevice(device: GPUDevice): { device: GPUDevice; calls: DeviceCalls } {
  const calls: DeviceCalls = { submits: 0, createBuffer: 0, createBindGroup: 0 };
  const queue = new Proxy(device.queue, {
    get: (target, name) => (name === 'submit' ? (buffers: GPUCommandBuffer[]) => (calls.submits++, target.submit(buffers)) : forward(target, name)),
  });
  const proxy = new Proxy(device, {
    get(target, name) {
      if (name === 'queue') return queue;
      if (name === 'createBuffer') return (d: GPUBufferDescriptor) => (calls.createBuffer++, target.createBuffer(d));
      if (name === 'createBindGroup') return (d: GPUBindGroupDescriptor) => (calls.createBindGroup++, target.createBindGroup(d));
      return forward(target, name);
    },
  });
  return { device: proxy, calls };
}

/**
 * A proxy of `backend` that records the labels of the tensors made through it (by the model, and
 * by the ops the model calls with it) and counts writes and reads (a read is one readback).
 */
export function countingBackend(backend: Backend): { backend: Backend; calls: BackendCalls } {
  const calls: BackendCalls = { allocations: [], writes: 0, reads: 0 };
  const proxy = new Proxy(backend, {
    get(target, name) {
      if (name === 'tensor' || name === 'zeros') {
        return (...args: unknown[]) => {
          const options = args[name === 'tensor' ? 2 : 1] as { label?: string } | undefined;
          calls.allocations.push(options?.label ?? '(unlabelled)');
          return (target[name] as (...a: unknown[]) => unknown)(...args);
        };
      }
      if (name === 'write') return (...args: Parameters<Backend['write']>) => (calls.writes++, target.write(...args));
      if (name === 'read') return (...args: Parameters<Backend['read']>) => (calls.reads++, target.read(...args));
      return forward(target, name);
    },
  });
  return { backend: proxy, calls };
}

/** A backend whose reads are counted. */
export function countingReads(backend: Backend): { backend: Backend; reads: () => number } {
  const { backend: proxy, calls } = countingBackend(backend);
  return { backend: proxy, reads: () => calls.reads };
}
