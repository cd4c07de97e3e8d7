"""The exact path every solver takes when all masks fit in the budget.

When every one of the q^n masks (q-ary states) can be queried within the budget — or the
method's own design would cost as much — and q^n <= 2^24, sampling and decoding only add error: the solver
queries each mask once and returns the exact expansion by a fast transform (Walsh–Hadamard
for Fourier methods, Möbius for the regression baselines, the q-ary FFT for q > 2).

``max_order`` is not applied to an exact expansion: it is the function itself, and cutting
its higher-order terms would make it inexact. ``metadata`` says how many such terms are
non-zero; ``result.truncate(max_order)`` drops them.
"""

from __future__ import annotations

import numpy as np

from interplay.spectral.interactions import Interactions
from interplay.spectral.transforms import fwht, mobius_transform
from interplay.values.base import CheckedValueFunction

__all__ = ["MAX_EXACT_MASKS", "all_states", "exact_budget_hint", "exact_expansion"]

#: Largest number of masks (q^n) ever enumerated.
MAX_EXACT_MASKS = 2**24


def all_states(n: int, q: int = 2) -> np.ndarray:
    """Every mask (q = 2) or q-ary state vector, in the order of their integer codes.

    Parameters
    ----------
    n : int
        Number of features.
    q : int
        Number of states of each feature.

    Returns
    -------
    (q^n, n) array: bool for q = 2, int64 otherwise. Row r holds the base-q digits of r,
    feature i being digit i (the least significant first).
    """
    n, q = int(n), int(q)
    if q**n > MAX_EXACT_MASKS:
        raise ValueError(f"refusing to enumerate {q}^{n} masks (more than {MAX_EXACT_MASKS})")
    codes = np.arange(q**n)
    digits = (codes[:, None] // q ** np.arange(n)[None, :]) % q
    return digits.astype(bool) if q == 2 else digits.astype(np.int64)


def exact_budget_hint(n: int, q: int = 2) -> str:
    """A plain sentence: the budget that makes any method exact (all q^n masks).

    Meant for q^n <= :data:`MAX_EXACT_MASKS`, where the exact path is offered.
    """
    size = int(q) ** int(n)
    count = f"{q}^{n} = {size}"
    return (
        f"a budget of {count} queries covers every mask, and then every method returns "
        "the exact expansion"
    )


def exact_expansion(
    value_function: CheckedValueFunction,
    n: int,
    *,
    q: int = 2,
    basis: str = "fourier",
    max_order: int,
    method: str,
) -> Interactions:
    """Query all q^n masks once and return the function's exact expansion.

    Parameters
    ----------
    value_function : CheckedValueFunction
        Takes (q^n, n) masks (bool for q = 2, int states otherwise).
    n : int
        Number of features.
    q : int
        Number of states of each feature.
    basis : {"fourier", "mobius"}
        Basis of the result for q = 2 (q > 2 is always the q-ary Fourier basis).
    max_order : int
        The solver's max_order: not applied, but terms above it are counted in ``metadata``.
    method : str
        Name recorded in the result.

    Returns
    -------
    Interactions
        Every non-zero coefficient (the empty set is always kept), ``n_queries = q^n`` and
        ``metadata["exact"] = True`` with a note in plain words.
    """
    states = all_states(n, q)
    before = value_function.n_queries
    values = value_function(states)
    n_queries = value_function.n_queries - before
    if q == 2:
        coef = fwht(values) if basis == "fourier" else mobius_transform(values)
        support = states  # row r is also the subset whose code is r
    else:
        table = values.reshape((q,) * n)  # axis 0 is the last feature (C order)
        coef = np.fft.fftn(table).ravel() / q**n
        support = states
    degrees = (support != 0).sum(axis=1)
    tol = 1e-13 * float(np.abs(coef).max(initial=0.0))
    keep = np.abs(coef) > tol
    keep[0] = True
    above = int(np.sum(keep & (degrees > int(max_order))))
    metadata = {
        "exact": True,
        "exact_note": (
            f"every one of the {q**n} masks was queried once and transformed exactly: "
            "these coefficients are the function's own, not an estimate"
        ),
        "max_order": int(max_order),
        "terms_above_max_order": above,
    }
    if above:
        metadata["max_order_note"] = (
            f"{above} non-zero terms have more than max_order={max_order} features; they are "
            "kept because the exact expansion is the function itself (result.truncate("
            f"{max_order}) drops them)"
        )
    return Interactions(
        support[keep], coef[keep], n_features=n, q=q, basis=basis if q == 2 else "fourier",
        n_queries=n_queries,
        method=method, metadata=metadata,
    )
