import { BanditError } from '../core/errors.js';
import type { AdapterDescription } from './device.js';
import { GpuRuntime } from './runtime.js';
import { axpyWebGpu, scaleWebGpu } from '../ops/elementwise.js';
import { gemmWebGpu, matVecWebGpu } from '../ops/gemm.js';
import { GpuTensor } from './tensor.js';
import { quadFormWebGpu } from '../ops/quadform.js';
import { shermanMorrisonWebGpu, symRank1WebGpu } from '../ops/rank1.js';
import { rowArgmaxWebGpu } from '../ops/argmax.js';
import { choleskyWebGpu, spdInverseWebGpu } from '../ops/cholesky.js';
import {
  discountedUpdateWebGpu, gatherMatVecWebGpu, inverseDriftWebGpu, scatterAddScaledWebGpu, ucbScoresWebGpu,
} from '../ops/linucb.js';
import { hybridArmUpdateWebGpu, hybridScoresWebGpu, scatterOuterAddWebGpu } from '../ops/hybrid.js';
import { accumulateSquaresWebGpu, confidenceScoresWebGpu } from '../ops/confidence.js';
import { gatherRowsWebGpu, mlpLossGradientWebGpu, optimizerStepWebGpu, scatterAddRowsWebGpu } from '../ops/mlp-train.js';
import { mlpDiagonalBonusWebGpu, mlpForwardWebGpu, mlpJacobianWebGpu, mlpKPassJacobianWebGpu } from '../ops/mlp.js';
import { checkCopy, checkShape, type CopyRegion } from '../core/check.js';
import type { Backend, BackendInfo, HostArray, OpImpls, Tensor, TensorOptions } from '../core/op-args.js';

function summarize(a: AdapterDescription): string {
  const name = [a.vendor, a.architecture, a.description || a.device].filter(Boolean).join(' ') || 'unknown adapter';
  return `webgpu: ${name}${a.isFallbackAdapter ? ' (fallback/CPU adapter)' : ''} via ${a.route}`;
}

/** The WebGPU backend: tensors are GPU buffers, ops are WGSL kernels. */
export class WebGpuBackend implements Backend {
  readonly kind = 'webgpu' as const;
  readonly info: BackendInfo;
  readonly runtime: GpuRuntime;
  readonly ops: OpImpls;
  private readonly ownsDevice: boolean;
  private readonly keepAlive: unknown;
  private isDisposed = false;

  constructor(device: GPUDevice, adapter: AdapterDescription, ownsDevice: boolean, keepAlive: unknown = null) {
    this.runtime = new GpuRuntime(device, adapter.isFallbackAdapter);
    this.info = { kind: 'webgpu', adapter, summary: summarize(adapter) };
    this.ownsDevice = ownsDevice;
    this.keepAlive = keepAlive;
    const rt = this.runtime;
    this.ops = {
      gemm: (a) => gemmWebGpu(rt, a),
      matVec: (a) => matVecWebGpu(rt, a),
      quadForm: (a) => quadFormWebGpu(rt, a),
      shermanMorrison: (a) => shermanMorrisonWebGpu(rt, a),
      symRank1: (a) => symRank1WebGpu(rt, a),
      rowArgmax: (a) => rowArgmaxWebGpu(rt, a),
      cholesky: (a) => choleskyWebGpu(rt, a),
      spdInverse: (a) => spdInverseWebGpu(rt, a),
      axpy: (a) => axpyWebGpu(rt, a),
      scale: (a) => scaleWebGpu(rt, a),
      ucbScores: (a) => ucbScoresWebGpu(rt, a),
      scatterAddScaled: (a) => scatterAddScaledWebGpu(rt, a),
      gatherMatVec: (a) => gatherMatVecWebGpu(rt, a),
      discountedUpdate: (a) => discountedUpdateWebGpu(rt, a),
      inverseDrift: (a) => inverseDriftWebGpu(rt, a),
      hybridScores: (a) => hybridScoresWebGpu(rt, a),
      hybridArmUpdate: (a) => hybridArmUpdateWebGpu(rt, a),
      scatterOuterAdd: (a) => scatterOuterAddWebGpu(rt, a),
      mlpForward: (a) => mlpForwardWebGpu(rt, a),
      mlpJacobian: (a) => mlpJacobianWebGpu(rt, a),
      mlpKPassJacobian: (a) => mlpKPassJacobianWebGpu(rt, a),
      mlpDiagonalBonus: (a) => mlpDiagonalBonusWebGpu(rt, a),
      mlpLossGradient: (a) => mlpLossGradientWebGpu(rt, a),
      optimizerStep: (a) => optimizerStepWebGpu(rt, a),
      gatherRows: (a) => gatherRowsWebGpu(rt, a),
      scatterAddRows: (a) => scatterAddRowsWebGpu(rt, a),
      confidenceScores: (a) => confidenceScoresWebGpu(rt, a),
      accumulateSquares: (a) => accumulateSquaresWebGpu(rt, a),
    };
  }

  get device(): GPUDevice {
    return this.runtime.device;
  }

  get disposed(): boolean {
    return this.isDisposed;
  }

  private live(what: string): void {
    if (this.isDisposed) throw new BanditError(`${what}: the backend has been disposed`);
    this.runtime.assertUsable();
  }

  owns(t: Tensor): boolean {
    return t instanceof GpuTensor && t.runtime === this.runtime;
  }

  tensor(data: ArrayLike<number>, shape: readonly number[], options: TensorOptions = {}): Tensor {
    const t = this.zeros(shape, options);
    try {
      this.write(t, data);
    } catch (e) {
      t.dispose();
      throw e;
    }
    return t;
  }

  zeros(shape: readonly number[], options: TensorOptions = {}): Tensor {
    this.live('zeros');
    checkShape(shape, 'tensor');
    const dtype = options.dtype ?? 'f32';
    // New buffers are zero-initialised by WebGPU.
    return new GpuTensor(this.runtime, shape, dtype, options.label ?? `tensor[${shape.join('x')}]`);
  }

  write(t: Tensor, data: ArrayLike<number>): void {
    this.live('write');
    if (!this.owns(t) || t.disposed) throw new BanditError(`write: ${t.label} is not a live tensor of this backend`);
    if (data.length !== t.size) {
      throw new BanditError(`write: ${t.label} holds ${t.size} elements, got ${data.length}`);
    }
    const host = t.dtype === 'i32' ? Int32Array.from(data) : data instanceof Float32Array ? data : Float32Array.from(data);
    this.runtime.write((t as GpuTensor).buffer, 0, host);
  }

  copy(src: Tensor, dst: Tensor, region?: CopyRegion): void {
    const r = checkCopy(this, src, dst, region);
    if (src === dst || r.count === 0) return;
    this.runtime.copy((src as GpuTensor).buffer, r.srcOffset * 4, (dst as GpuTensor).buffer, r.dstOffset * 4, r.count * 4);
  }

  async read(t: Tensor): Promise<HostArray> {
    this.live('read');
    if (!this.owns(t) || t.disposed) throw new BanditError(`read: ${t.label} is not a live tensor of this backend`);
    const bytes = await this.runtime.read((t as GpuTensor).buffer, t.size * 4);
    return t.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  async sync(): Promise<void> {
    this.live('sync');
    await this.runtime.sync();
  }

  dispose(): void {
    if (this.isDisposed) return;
    this.isDisposed = true;
    this.runtime.destroy();
    if (this.ownsDevice) this.runtime.device.destroy();
    void this.keepAlive;
  }
}
