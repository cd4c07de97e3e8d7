"""Exceptions shared across layers (no dependencies: any module may import this one)."""

from __future__ import annotations

__all__ = ["ModelUnavailableError"]


class ModelUnavailableError(ConnectionError):
    """The model cannot be reached at all (a dead or hung server, a broken endpoint).

    Raised by model adapters after their own bounded retries; the query engine does not retry
    it mask by mask (that would only multiply the waiting) but stops at once. The message is
    one line naming the cause and what to do.
    """
