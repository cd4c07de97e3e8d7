"""interplay.runtime."""
