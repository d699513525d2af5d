"""appcluster's building blocks, one ComponentResource per file."""
