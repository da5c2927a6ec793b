import { mlpLossGradient, optimizerStep, type MlpLoss } from '../ops/mlp-train.js';
import type { HostArray, Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/** A tensor the trainer steps: its value, its gradient (written by each minibatch) and the optimiser's state. */
export interface TrainedTensor {
  readonly value: Tensor;
  readonly grad: Tensor;
  /** Adam's first and second moments (optimizer 'adam'), zeros before the first step. */
  readonly moments?: { readonly m: Tensor; readonly v: Tensor };
  /** The regulariser pulls the value towards this (NeuralUCB's θ₀) instead of 0. */
  readonly anchor?: Tensor;
}

/** The network a trainer fits and how it steps. */
export interface TrainerOptions {
  /** Prefix of the scratch tensors' labels (the model's name). */
  readonly label: string;
  /** Width of the network's input rows, and its hidden layers (see mlpLayout). */
  readonly dim: number;
  readonly hidden: readonly number[];
  readonly loss: MlpLoss;
  readonly optimizer: 'sgd' | 'adam';
  readonly lr: number;
  /** The network's parameters θ. */
  readonly theta: TrainedTensor;
  /** Tensors trained through the network's input gradient (embeddings), stepped after θ in order. */
  readonly inputs?: readonly TrainedTensor[];
}

/** Where a trainer's minibatches come from (all on the backend: gathers, no uploads). */
export interface Minibatches {
  /** Writes the network inputs (rows×dim) and targets (rows) of the examples `rows` into x and y. */
  gather(rows: Int32Array, x: Tensor, y: Tensor): void;
  /** From ∇x of the batch loss, writes the gradients of the trainer's `inputs` (required when it has any). */
  backward?(rows: Int32Array, inputGrad: Tensor): void;
  /**
   * Writes the row weights of the examples `rows` into w (rows values): the loss is then the
   * weighted Σ w_n·ℓ_n (times 1/rows). Absent: every example weighs 1.
   */
  gatherWeights?(rows: Int32Array, w: Tensor): void;
}

interface BatchTensors {
  readonly x: Tensor;
  readonly y: Tensor;
  readonly inputGrad: Tensor | null;
  /** Made the first time a weighted source needs it. */
  w: Tensor | null;
}

/** Batch sizes whose tensors are kept (a full minibatch and the last, smaller one of an epoch). */
const KEPT_SIZES = 2;

/**
 * The one minibatch loop of the models that train a network (NeuralUCB, EmbeddingMLP): for each
 * minibatch, gather its rows on the backend, the loss gradient (mlpLossGradient; with inputs, the
 * gradients of the embeddings through ∇x), one optimiser step of every trained tensor; each
 * batch's loss lands in one tensor that is read back once, at the end of the run. So a run of
 * any length is one submit. The minibatch tensors are kept from run to run while the batch size
 * stays the same.
 *
 * @example
 * const trainer = new Trainer(backend, { label: 'NeuralUCB', dim, hidden, loss: 'squared', optimizer: 'adam', lr: 1e-3,
 *   theta: { value: theta, grad, moments: { m, v }, anchor: theta0 } });
 * const losses = await trainer.run(batches, { gather: (rows, x, y) => { gatherRows(backend, hx, rows, { out: x }); … } }, { decay });
 */
export class Trainer {
  /** Optimiser steps taken (Adam's t); models save it. */
  steps = 0;
  private readonly backend: Backend;
  private readonly options: TrainerOptions;
  private readonly batches = new Map<number, BatchTensors>();
  private losses: Tensor | null = null;
  private lossOut: Tensor | null = null;

  constructor(backend: Backend, options: TrainerOptions) {
    this.backend = backend;
    this.options = options;
  }

  /** The x, y (and ∇x) of a batch of `rows`, kept for the most recent batch sizes. */
  private batchTensors(rows: number): BatchTensors {
    let t = this.batches.get(rows);
    if (t) {
      this.batches.delete(rows);
    } else {
      const { label, dim } = this.options, b = this.backend;
      t = {
        x: b.zeros([rows, dim], { label: `${label} x` }),
        y: b.zeros([rows], { label: `${label} y` }),
        inputGrad: this.options.inputs?.length ? b.zeros([rows, dim], { label: `${label} ∇x` }) : null,
        w: null,
      };
    }
    this.batches.set(rows, t);
    for (const [size, old] of this.batches) {
      if (this.batches.size <= KEPT_SIZES) break;
      for (const u of [old.x, old.y, old.inputGrad, old.w]) u?.dispose();
      this.batches.delete(size);
    }
    return t;
  }

  private kept(which: 'losses' | 'lossOut', size: number): Tensor {
    const t = this[which];
    if (t && t.size === size) return t;
    t?.dispose();
    return (this[which] = this.backend.zeros([size], { label: `${this.options.label} ${which === 'losses' ? 'batch losses' : 'batch loss'}` }));
  }

  /**
   * Encodes the gradient of the mean loss over the examples `rows` into every trained tensor's
   * `grad` (no step), and that loss into `lossOut` (if given). `gathered`: x and y already hold
   * these rows.
   */
  gradient(rows: Int32Array, source: Minibatches, lossOut: Tensor | null, gathered = false): void {
    const { dim, hidden, loss, theta, inputs } = this.options;
    const batch = this.batchTensors(rows.length), { x, y, inputGrad } = batch;
    let w: Tensor | null = null;
    if (source.gatherWeights) {
      w = batch.w ??= this.backend.zeros([rows.length], { label: `${this.options.label} w` });
      // A gathered batch of a weighted source has its weights gathered too (gather and weights come together).
      if (!gathered) source.gatherWeights(rows, w);
    }
    if (!gathered) source.gather(rows, x, y);
    mlpLossGradient(this.backend, theta.value, x, y, {
      dim, hidden, loss, scale: 1 / rows.length, out: theta.grad, ...(lossOut ? { lossOut } : {}), ...(inputGrad ? { inputGrad } : {}),
      ...(w ? { weights: w } : {}),
    });
    if (inputGrad && inputs?.length) source.backward!(rows, inputGrad);
  }

  /** Encodes one optimiser step of θ and then every input tensor, from their gradients. */
  private step(decay: number): void {
    this.steps++;
    const { optimizer, lr, theta, inputs = [] } = this.options;
    for (const t of [theta, ...inputs]) {
      optimizerStep(this.backend, {
        params: t.value, grad: t.grad, kind: optimizer, lr, step: this.steps, decay,
        ...(t.moments ? { state: t.moments } : {}), ...(t.anchor ? { anchor: t.anchor } : {}),
      });
    }
  }

  /**
   * One optimiser step a minibatch, in order, with regulariser weight `decay`; resolves to the
   * loss of each minibatch before its step (`losses: 'last'`: of the last one only, which saves
   * the loss's reduction and a copy a step). One readback for the whole run, at its end. A batch given again as the same
   * array right after itself is not gathered again (its rows are the same).
   */
  async run(
    batches: readonly Int32Array[], source: Minibatches, options: { readonly decay: number; readonly losses?: 'every' | 'last' },
  ): Promise<HostArray> {
    if (batches.length === 0) return new Float32Array(0);
    const every = (options.losses ?? 'every') === 'every';
    const lossOut = this.kept('lossOut', 1), losses = every ? this.kept('losses', batches.length) : lossOut;
    let previous: Int32Array | null = null;
    batches.forEach((rows, k) => {
      this.gradient(rows, source, every || k === batches.length - 1 ? lossOut : null, rows === previous);
      if (every) this.backend.copy(lossOut, losses, { srcOffset: 0, dstOffset: k, count: 1 });
      this.step(options.decay);
      previous = rows;
    });
    return this.backend.read(losses);
  }

  /** Frees the kept minibatch tensors. */
  dispose(): void {
    for (const t of this.batches.values()) for (const u of [t.x, t.y, t.inputGrad, t.w]) u?.dispose();
    this.batches.clear();
    this.losses?.dispose();
    this.lossOut?.dispose();
    this.losses = this.lossOut = null;
  }
}
