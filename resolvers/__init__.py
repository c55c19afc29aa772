"""Use cases: one module per domain, the per-request Context and its DataLoaders."""
