// Filled in by the rank1 kernel work.
