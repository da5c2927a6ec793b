/**
 * What gemm and matVec share: both compute out ← α·(product) + β·out over a batch where any
 * side may be a single matrix or vector broadcast over the others.
 */
import { BanditError } from '../core/errors.js';
import { broadcastBatch, checkFiniteNumber, checkTensor } from '../core/check.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/** The weights of an accumulating op: out ← α·(product) + β·out. */
export interface AccumulateOptions {
  /** Weight of the product; default 1. */
  readonly alpha?: number;
  /** Weight of the existing output; ignored (the output is not read) when 0 or when no output is given. */
  readonly beta?: number;
}

/** An accumulating op's output: where it writes, the β it takes, and the batch of the product. */
export interface Accumulator {
  readonly out: Tensor;
  readonly alpha: number;
  readonly beta: number;
  readonly batch: number;
}

/** How an accumulating op describes its output to `accumulator`. */
export interface AccumulatorSpec {
  /** The output's name in messages ('c', 'y'). */
  readonly name: string;
  /** The caller's output, updated in place; without it a new zero tensor and β = 0. */
  readonly given: Tensor | undefined;
  readonly beta: number | undefined;
  /** The inputs' batches by name (1 broadcasts). */
  readonly batches: readonly [string, number][];
  /** The inputs the output must not be (it is written while they are read). */
  readonly distinct: readonly [string, Tensor][];
  /** Checks the given output's shape and returns its batch. */
  readonly batchOf: (out: Tensor) => number;
  /** The shape of a new output for the product's batch. */
  readonly shape: (batch: number) => number[];
}

/**
 * Checks α (default 1), then the output of an op computing out ← α·(product) + β·out: the caller's tensor
 * (live, its shape, a batch at least the product's, none of the inputs, β finite) or a new one.
 *
 * @example
 * const { out, beta, batch } = accumulator(backend, 'matVec', options.alpha, { name: 'y', given: options.y, beta: options.beta, … });
 */
export function accumulator(backend: Backend, op: string, alphaIn: number | undefined, spec: AccumulatorSpec): Accumulator {
  const alpha = alphaIn ?? 1;
  checkFiniteNumber(op, 'alpha', alpha);
  const batch = broadcastBatch(op, ...spec.batches);
  const out = spec.given;
  if (!out) return { out: backend.zeros(spec.shape(batch), { label: `${op} out` }), alpha, beta: 0, batch };
  checkTensor(backend, out, spec.name, op);
  const outBatch = spec.batchOf(out);
  if (outBatch < batch) throw new BanditError(`${op}: ${spec.name} has batch ${outBatch}, expected ${batch}`);
  const all = broadcastBatch(op, ...spec.batches, [spec.name, outBatch]);
  if (spec.distinct.some(([, t]) => t === out)) throw new BanditError(`${op}: ${spec.name} must not be ${spec.distinct.map(([n]) => n).join(' or ')}`);
  const beta = spec.beta ?? 0;
  checkFiniteNumber(op, 'beta', beta);
  return { out, alpha, beta, batch: all };
}
