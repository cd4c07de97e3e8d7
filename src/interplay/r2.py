"""R², the one goodness-of-fit score of the library.

It sits below everything that scores a fit (solvers checking their own samples, metrics, the
report), so none of them imports another for it; :mod:`interplay.metrics` re-exports it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["r2_score"]


def r2_score(y_true: Any, y_pred: Any) -> float:
    """R² = 1 − Σ|y − ŷ|² / Σ|y − ȳ|², on any scale, never −inf (complex values too).

    Both arrays are first divided by one power of two near their largest magnitude, so values
    near 1e±300 neither overflow nor vanish. A target that does not vary (its spread is below
    round-off, std ≤ 1e-12 · max|y|) has no variance to explain: R² is then 1.0 when the
    prediction matches it to round-off (rms error ≤ 1e-9 · max|y|) and 0.0 otherwise (no
    better than the constant itself).

    Parameters
    ----------
    y_true, y_pred : (N,) float or complex arrays, N >= 1

    Returns
    -------
    float
    """
    complex_valued = np.iscomplexobj(y_true) or np.iscomplexobj(y_pred)
    dtype = np.complex128 if complex_valued else np.float64
    y_true = np.asarray(y_true, dtype=dtype)
    y_pred = np.asarray(y_pred, dtype=dtype)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shapes differ: {y_true.shape} vs {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("R² needs at least one value")
    peak = max(float(np.abs(y_true).max()), float(np.abs(y_pred).max()))
    if peak == 0.0:
        return 1.0
    scale = float(np.ldexp(1.0, int(np.frexp(peak)[1])))
    y_true, y_pred = y_true / scale, y_pred / scale
    resid = float(np.sum(np.abs(y_true - y_pred) ** 2))
    total = float(np.sum(np.abs(y_true - y_true.mean()) ** 2))
    size = float(np.abs(y_true).max())
    if total <= y_true.size * (1e-12 * size) ** 2:
        return 1.0 if resid <= y_true.size * (1e-9 * size) ** 2 else 0.0
    return 1.0 - resid / total
