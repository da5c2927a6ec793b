/** What is told of a device's loss: the runtime. */
export interface LossListener {
  markLost(info: GPUDeviceLostInfo): void;
}

/**
 * The runtimes on each device, told when it is lost: one handler a device, however many backends
 * are made on it and disposed (createBackend({ device }) on a device the caller keeps). A handler
 * a runtime could not be removed again — the loss promise never settles while the device lives —
 * and would keep every disposed runtime alive.
 */
const runtimesOf = new WeakMap<GPUDevice, Set<LossListener>>();

export function watchLoss(device: GPUDevice, runtime: LossListener): void {
  let set = runtimesOf.get(device);
  if (!set) {
    const runtimes = (set = new Set());
    runtimesOf.set(device, runtimes);
    void device.lost.then((info) => {
      for (const rt of runtimes) rt.markLost(info);
    });
  }
  set.add(runtime);
}

/** Stops telling `runtime` (it is destroyed): nothing then keeps it alive through the device. */
export function unwatchLoss(device: GPUDevice, runtime: LossListener): void {
  runtimesOf.get(device)?.delete(runtime);
}
