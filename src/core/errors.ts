/**
 * Thrown for bad input to a model or an op: wrong length, NaN or ±Inf, an index out of range,
 * a call after dispose. The message says what and where; the state is left as it was.
 *
 * @example
 * try { await model.update(arms, contexts, rewards); }
 * catch (e) { if (e instanceof BanditError) console.warn(e.message); else throw e; }
 */
export class BanditError extends Error {
  override readonly name = 'BanditError';
}

/**
 * Thrown when the compute backend cannot do what was asked: no adapter, a lost device, a size
 * over the device's limits, a validation or out-of-memory error reported by WebGPU.
 *
 * @example
 * const backend = await createBackend({ kind: 'webgpu' }).catch((e: BackendError) => {
 *   console.error(e.message); // names every route that was tried
 *   return createBackend({ kind: 'cpu' });
 * });
 */
export class BackendError extends Error {
  override readonly name = 'BackendError';
}
