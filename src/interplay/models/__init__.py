"""interplay.models."""
