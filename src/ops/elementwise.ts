import { BanditError } from '../core/errors.js';
import { checkFiniteNumber, checkTensor } from '../core/check.js';
import type { Tensor } from '../core/tensor.js';
import type { Backend } from '../core/backend.js';

/**
 * y ← α·x + y, in place, over all elements (x and y of equal size, any shape).
 *
 * @example
 * axpy(backend, 0.5, x, y); // y += x / 2
 */
export function axpy(backend: Backend, alpha: number, x: Tensor, y: Tensor): void {
  checkTensor(backend, x, 'x', 'axpy');
  checkTensor(backend, y, 'y', 'axpy');
  checkFiniteNumber('axpy', 'alpha', alpha);
  if (x.size !== y.size) throw new BanditError(`axpy: x has ${x.size} elements, y has ${y.size}`);
  if (x === y) throw new BanditError('axpy: x and y must be different tensors (use scale)');
  backend.ops.axpy({ alpha, x, y, n: x.size });
}

/**
 * x ← α·x, in place.
 *
 * @example
 * scale(backend, 0.99, aInv); // discount
 */
export function scale(backend: Backend, alpha: number, x: Tensor): void {
  checkTensor(backend, x, 'x', 'scale');
  checkFiniteNumber('scale', 'alpha', alpha);
  backend.ops.scale({ alpha, x, y: x, n: x.size });
}
