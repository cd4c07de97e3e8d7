"""Faithfulness and recovery metrics (DESIGN §6)."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["r2_score"]


def r2_score(y_true: Any, y_pred: Any) -> float:
    """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)²; 1.0 when y is constant and predicted exactly."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shapes differ: {y_true.shape} vs {y_pred.shape}")
    resid = float(np.sum((y_true - y_pred) ** 2))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    if total == 0.0:
        return 1.0 if resid == 0.0 else -np.inf
    return 1.0 - resid / total
