"""Renderers: every result is shown as rich terminal text or as a versioned JSON document."""
