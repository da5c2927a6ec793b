import type { AxpyArgs } from '../core/op-args.js';
import { f64 } from './tensor.js';

export function axpyF64({ alpha, x, y, n }: AxpyArgs): void {
  const xs = f64(x), ys = f64(y);
  for (let i = 0; i < n; i++) ys[i] = alpha * xs[i]! + ys[i]!;
}

export function scaleF64({ alpha, x, n }: AxpyArgs): void {
  const xs = f64(x);
  for (let i = 0; i < n; i++) xs[i] = alpha * xs[i]!;
}
