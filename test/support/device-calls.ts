/**
 * A GPUDevice wrapped to count the calls that cost at steady state: buffers and bind groups made,
 * command buffers submitted, queue writes. Pass `counted.device` to `createBackend({ device })`;
 * read `counted.calls` (or `counted.since(mark)`) after the step under test.
 *
 * The wrapper is a Proxy whose methods run on the real device (Dawn's and Chromium's native
 * methods refuse a foreign `this`), so everything else behaves as the device itself.
 */

export interface DeviceCalls {
  createBuffer: number;
  createBindGroup: number;
  createCommandEncoder: number;
  submit: number;
  writeBuffer: number;
}

export interface CountedDevice {
  readonly device: GPUDevice;
  readonly calls: Readonly<DeviceCalls>;
  /** The calls since `mark` (a copy of `calls` taken earlier). */
  since(mark: Readonly<DeviceCalls>): DeviceCalls;
  /** A copy of the counts now. */
  mark(): DeviceCalls;
}

const zero = (): DeviceCalls => ({ createBuffer: 0, createBindGroup: 0, createCommandEncoder: 0, submit: 0, writeBuffer: 0 });

/** Forwards every property to `target`, methods bound to it, except those in `own`. */
function forward<T extends object>(target: T, own: Record<string | symbol, unknown>): T {
  const bound = new Map<string | symbol, unknown>();
  return new Proxy(target, {
    get(t, prop) {
      if (prop in own) return own[prop];
      const value = Reflect.get(t, prop, t) as unknown;
      if (typeof value !== 'function') return value;
      let b = bound.get(prop);
      if (!b) bound.set(prop, (b = (value as (...a: unknown[]) => unknown).bind(t)));
      return b;
    },
  });
}

/**
 * @example
 * const counted = countingDevice(gpuBackend().device);
 * const b = await createBackend({ device: counted.device });
 * const mark = counted.mark();
 * …                                   // the step
 * expect(counted.since(mark).submit).to.equal(1);
 */
export function countingDevice(device: GPUDevice): CountedDevice {
  const calls = zero();
  const queue = device.queue;
  const countedQueue = forward(queue, {
    submit: (buffers: Iterable<GPUCommandBuffer>) => {
      calls.submit++;
      return queue.submit(buffers);
    },
    writeBuffer: (...args: Parameters<GPUQueue['writeBuffer']>) => {
      calls.writeBuffer++;
      return queue.writeBuffer(...args);
    },
  });
  const counted = forward(device, {
    queue: countedQueue,
    createBuffer: (d: GPUBufferDescriptor) => {
      calls.createBuffer++;
      return device.createBuffer(d);
    },
    createBindGroup: (d: GPUBindGroupDescriptor) => {
      calls.createBindGroup++;
      return device.createBindGroup(d);
    },
    createCommandEncoder: (d?: GPUCommandEncoderDescriptor) => {
      calls.createCommandEncoder++;
      return device.createCommandEncoder(d);
    },
  });
  return {
    device: counted,
    calls,
    mark: () => ({ ...calls }),
    since: (m) => ({
      createBuffer: calls.createBuffer - m.createBuffer,
      createBindGroup: calls.createBindGroup - m.createBindGroup,
      createCommandEncoder: calls.createCommandEncoder - m.createCommandEncoder,
      submit: calls.submit - m.submit,
      writeBuffer: calls.writeBuffer - m.writeBuffer,
    }),
  };
}

/**
 * A device on which the allocations `fails` picks report GPUOutOfMemoryError to the innermost
 * 'out-of-memory' error scope open around them (the buffer itself is made, as a real failed
 * allocation's invalid buffer would be): for the runtime's handling of an allocation the device
 * cannot make, which a test cannot cause for real without exhausting the machine.
 *
 * @example
 * const device = failingAllocations(gpuBackend().device, (d) => d.label === 'huge');
 */
export function failingAllocations(device: GPUDevice, fails: (d: GPUBufferDescriptor) => boolean): GPUDevice {
  const scopes: { filter: GPUErrorFilter; failed: boolean }[] = [];
  const OutOfMemory = (globalThis as { GPUOutOfMemoryError?: new (message: string) => GPUError }).GPUOutOfMemoryError;
  const synthetic = (): GPUError =>
    OutOfMemory ? new OutOfMemory('synthetic: allocation failed') : Object.assign(new Error('synthetic: allocation failed'), { name: 'GPUOutOfMemoryError' }) as unknown as GPUError;
  return forward(device, {
    pushErrorScope: (filter: GPUErrorFilter) => {
      scopes.push({ filter, failed: false });
      device.pushErrorScope(filter);
    },
    popErrorScope: () => {
      const scope = scopes.pop();
      const real = device.popErrorScope();
      return scope?.failed ? real.then((e) => e ?? synthetic()) : real;
    },
    createBuffer: (d: GPUBufferDescriptor) => {
      if (fails(d)) {
        const scope = [...scopes].reverse().find((s) => s.filter === 'out-of-memory');
        if (scope) scope.failed = true;
      }
      return device.createBuffer(d);
    },
  });
}
