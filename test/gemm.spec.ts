// Filled in by the gemm kernel work.
