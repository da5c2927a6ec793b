import { BanditError } from '../core/errors.js';
import type { HostArray, Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/**
 * Reads several tensors of one dtype back in ONE readback: they are copied side by side into
 * one tensor in the open step, which is submitted and read once; the values come back split as
 * they went in. (Reading them one by one costs a submit and a round trip each.)
 *
 * @example
 * const [drift0, drift1] = await readTogether(backend, [driftOfShard0, driftOfShard1]);
 */
export async function readTogether(backend: Backend, tensors: readonly Tensor[]): Promise<HostArray[]> {
  if (tensors.length === 0) return [];
  if (tensors.length === 1) return [await backend.read(tensors[0]!)];
  const dtype = tensors[0]!.dtype;
  if (tensors.some((t) => t.dtype !== dtype)) throw new BanditError('readTogether: the tensors must share one dtype');
  const total = tensors.reduce((n, t) => n + t.size, 0);
  const all = backend.zeros([total], { dtype, label: 'readTogether' });
  try {
    let at = 0;
    for (const t of tensors) {
      backend.copy(t, all, { srcOffset: 0, dstOffset: at, count: t.size });
      at += t.size;
    }
    const values = await backend.read(all);
    at = 0;
    return tensors.map((t) => values.subarray(at, (at += t.size)));
  } finally {
    all.dispose();
  }
}
