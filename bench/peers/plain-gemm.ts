// The suite's GEMM as a careful JS developer would write it: C_k = X·A_k for every arm k (X is
// B×d, shared; A_k is d×d; C is K×B×d), float64 typed arrays, i-l-j loop order so the inner loop
// runs along rows of A_k and C_k (unit stride, no re-reads of a column).

export function plainBatchedGemm(x: Float64Array, a: Float64Array, c: Float64Array, arms: number, rows: number, d: number): Float64Array {
  const dd = d * d;
  for (let k = 0; k < arms; k++) {
    const ak = k * dd, ck = k * rows * d;
    for (let i = 0; i < rows; i++) {
      const ci = ck + i * d, xi = i * d;
      for (let j = 0; j < d; j++) c[ci + j] = 0;
      for (let l = 0; l < d; l++) {
        const xil = x[xi + l]!, al = ak + l * d;
        for (let j = 0; j < d; j++) c[ci + j] = c[ci + j]! + xil * a[al + j]!;
      }
    }
  }
  return c;
}
