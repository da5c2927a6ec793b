import type { GemmArgs, MatVecArgs } from '../core/op-args.js';
import { f64 } from './tensor.js';

// Same semantics as the WGSL kernels: α = 0 reads neither A nor B, β = 0 does not read C/y
// (so NaN there does not propagate), and a stride of 0 repeats one matrix over the batch.

export function gemmF64(g: GemmArgs): void {
  const A = f64(g.a), B = f64(g.b), C = f64(g.c);
  const { m, n, k, alpha, beta } = g;
  // op(A)[i, l] = A[i·aRow + l·aCol]; op(B)[l, j] = B[l·bRow + j·bCol].
  const [aRow, aCol] = g.transA ? [1, m] : [k, 1];
  const [bRow, bCol] = g.transB ? [1, k] : [n, 1];
  const row = new Float64Array(n);
  for (let b = 0; b < g.batch; b++) {
    const offA = b * g.strideA, offB = b * g.strideB, offC = b * g.strideC;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      if (alpha !== 0) {
        // i-l-j order: the inner loop walks a row of op(B), contiguous unless transB.
        for (let l = 0; l < k; l++) {
          const ail = A[offA + i * aRow + l * aCol]!;
          const bl = offB + l * bRow;
          for (let j = 0; j < n; j++) row[j]! += ail * B[bl + j * bCol]!;
        }
      }
      const ci = offC + i * n;
      if (beta === 0) for (let j = 0; j < n; j++) C[ci + j] = alpha * row[j]!;
      else for (let j = 0; j < n; j++) C[ci + j] = alpha * row[j]! + beta * C[ci + j]!;
    }
  }
}

export function matVecF64(g: MatVecArgs): void {
  const A = f64(g.a), X = f64(g.x), Y = f64(g.y);
  const { rows, cols, alpha, beta } = g;
  const outLen = g.trans ? cols : rows, inLen = g.trans ? rows : cols;
  const [opRow, opCol] = g.trans ? [1, cols] : [cols, 1];
  for (let b = 0; b < g.batch; b++) {
    const offA = b * g.strideA, offX = b * g.strideX, offY = b * g.strideY;
    for (let i = 0; i < outLen; i++) {
      let s = 0;
      if (alpha !== 0) {
        const ai = offA + i * opRow;
        for (let j = 0; j < inLen; j++) s += A[ai + j * opCol]! * X[offX + j]!;
      }
      Y[offY + i] = beta === 0 ? alpha * s : alpha * s + beta * Y[offY + i]!;
    }
  }
}
