"""interplay.report."""
