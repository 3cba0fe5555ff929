"""Container registries (the OCI distribution API): image tags resolved to digests, with the
credentials of Docker's config file (docs/pinning.md)."""
