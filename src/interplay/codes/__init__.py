"""Codes: BCH codes for SPEX's delays, and collision-free feedback scheduling codes.

The feedback-code modules load on first use of one of their names, so that importing a solver
(which needs only :mod:`interplay.codes.bch`) does not load them.
"""

from __future__ import annotations

import importlib
from typing import Any

from interplay.codes.bch import BCHCode

__all__ = ["BCHCode", "FeedbackCode", "decode", "decode_many", "encode", "simulate"]

_FEEDBACK_NAMES = {"FeedbackCode", "decode", "decode_many", "encode", "simulate"}


def __getattr__(name: str) -> Any:
    if name in _FEEDBACK_NAMES:
        return getattr(importlib.import_module("interplay.codes.feedback"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
