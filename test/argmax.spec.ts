// Filled in by the argmax kernel work.
