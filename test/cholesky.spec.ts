// Filled in by the cholesky kernel work.
