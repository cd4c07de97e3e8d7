"""Fast transforms on dense tables: Walsh–Hadamard (Fourier) and Möbius."""

from __future__ import annotations

import numpy as np

__all__ = ["fwht", "mobius_transform"]


def _butterflies(values: np.ndarray, mobius: bool) -> np.ndarray:
    """In-place butterflies over the last axis (length 2^b) of a float copy of ``values``.

    Walsh–Hadamard: (a, b) -> (a + b, a − b). Möbius: (a, b) -> (a, b − a), where a is the
    table without feature j and b the table with it.
    """
    out = np.array(values, dtype=np.float64, copy=True)
    size = out.shape[-1]
    if size < 1 or size & (size - 1):
        raise ValueError(f"the last axis must have a power-of-two length, got {size}")
    lead = out.shape[:-1]
    h = 1
    while h < size:
        view = out.reshape(*lead, size // (2 * h), 2, h)
        if mobius:
            view[..., 1, :] -= view[..., 0, :]
        else:
            a = view[..., 0, :].copy()
            view[..., 0, :] += view[..., 1, :]
            view[..., 1, :] = a - view[..., 1, :]
        h *= 2
    return out


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
    out = _butterflies(values, mobius=False)
    if normalize:
        out /= out.shape[-1]
    return out


def mobius_transform(values: np.ndarray) -> np.ndarray:
    """Fast Möbius transform along the last axis.

    ``out[..., S] = Σ_{T ⊆ S} (−1)^{|S| − |T|} · values[..., T]``, subsets coded as integers
    (bit i set: feature i kept), so that ``values[..., m] = Σ_{S ⊆ m} out[..., S]``.

    Parameters
    ----------
    values : (..., 2^b) array
        A table indexed by the integer code of the mask.

    Returns
    -------
    (..., 2^b) float array of Möbius coefficients (a new array).
    """
    return _butterflies(values, mobius=True)
