"""Fast transforms on dense arrays: the Walsh–Hadamard transform."""

from __future__ import annotations

import numpy as np

__all__ = ["fwht"]


def fwht(values: np.ndarray, *, normalize: bool = True) -> np.ndarray:
    """Fast Walsh–Hadamard transform along the last axis.

    ``out[..., j] = scale · Σ_l values[..., l] · (−1)^{popcount(j & l)}`` with
    ``scale = 1/2^b`` when ``normalize`` (so that a function's table maps to its Fourier
    coefficients) and 1 otherwise.

    Parameters
    ----------
    values : (..., 2^b) array
    normalize : bool

    Returns
    -------
    (..., 2^b) float array (a new array; the input is not modified).
    """
    out = np.array(values, dtype=np.float64, copy=True)
    size = out.shape[-1]
    if size & (size - 1):
        raise ValueError(f"the last axis must have a power-of-two length, got {size}")
    lead = out.shape[:-1]
    h = 1
    while h < size:
        view = out.reshape(*lead, size // (2 * h), 2, h)
        a = view[..., 0, :].copy()
        view[..., 0, :] += view[..., 1, :]
        view[..., 1, :] = a - view[..., 1, :]
        h *= 2
    if normalize:
        out /= size
    return out
