/** The largest matrix order the batched Cholesky and SPD inverse take (one workgroup a matrix, d ≤ 256). */
export const MAX_FACTOR_DIM = 256;

