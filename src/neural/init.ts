import type { Random } from '../core/random.js';
import type { MlpLayout } from '../ops/mlp.js';

/**
 * θ₀ of Zhou et al. (2020): each hidden layer's units come in two identical halves (W_1 = [W; W],
 * deeper W_l = [[W, 0], [0, W]] with entries N(0, 4/m_l)), the output W_L = [w, −w] with entries
 * N(0, 2/m), biases 0. So f(x; θ₀) = 0 for every x, while the gradients are not.
 *
 * @example
 * const theta0 = initialParameters(mlpLayout(16, [100]), new Random(1));   // f(x; θ₀) = 0
 */
export function initialParameters(layout: MlpLayout, random: Random): Float32Array {
  const theta = new Float32Array(layout.paramCount);
  const L = layout.layers.length;
  layout.layers.forEach((layer, l) => {
    const units = layer.out, inputs = layer.in;
    if (l === L - 1) {
      const half = inputs / 2, sd = Math.sqrt(2 / inputs);
      for (let j = 0; j < half; j++) {
        const w = sd * random.normal();
        theta[layer.weightOffset + j] = w;
        theta[layer.weightOffset + half + j] = -w;
      }
      return;
    }
    const half = units / 2, sd = Math.sqrt(4 / units);
    // Layer 1 sees all of x in both halves; deeper layers are block-diagonal over the halves.
    const blockIn = l === 0 ? inputs : inputs / 2;
    for (let i = 0; i < half; i++) {
      for (let j = 0; j < blockIn; j++) {
        const w = sd * random.normal();
        const lo = layer.weightOffset + i * inputs + j;
        const hi = layer.weightOffset + (half + i) * inputs + (l === 0 ? j : blockIn + j);
        theta[lo] = w;
        theta[hi] = w;
      }
    }
  });
  return theta;
}
