"""interplay.codes."""
