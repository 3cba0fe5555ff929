"""Image pinning, as kbld does it: tags resolved to digests in a lock file kept in git, used by
render, diff and apply, and checked by validate (docs/pinning.md)."""
