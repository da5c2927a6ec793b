// Filled in by the quadform kernel work.
