/** The largest matrix order the batched Cholesky and SPD inverse take (one workgroup a matrix, d ≤ 256). */
export const MAX_FACTOR_DIM = 256;

/**
 * The unit roundoff of a backend's stored state: 2⁻²⁴ for f32 tensors (webgpu, wasm), 2⁻⁵³ for
 * the cpu backend's float64 ones.
 */
export function storageRoundoff(kind: string): number {
  return kind === 'cpu' ? 2 ** -53 : 2 ** -24;
}

/**
 * A kept inverse X is re-factorised when its drift ‖I − A·X‖∞ passes the model's bound and also
 * FLOOR_FACTOR·u·‖ |A|·|X| ‖∞: the correctly rounded inverse itself leaves up to u·‖ |A|·|X| ‖∞
 * (u the storage's roundoff), which for a matrix with condition number κ is ~u·κ, so below a
 * few times that a new factorisation cannot do better.
 */
export const FLOOR_FACTOR = 8;
