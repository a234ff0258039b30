// Placeholder until the kernel work lands.
