"""Interaction indices as linear maps of the Möbius transform.

Every index here is ``I(T) = sum_{S ⊇ T} w(|S|, |T|) * a(S)`` for a weight ``w`` that depends
only on the sizes, where ``a`` are the Möbius coefficients (Harsanyi dividends) of the game.
The weights are the closed forms from the literature; the test-suite checks each one against
its definition by brute force on small games.

References
----------
- Grabisch, Marichal, Roubens (2000), "Equivalent representations of set functions",
  Math. Oper. Res. 25(2): Shapley, Banzhaf, SII and BII in the Möbius basis.
- Sundararajan, Dhamdhere, Agarwal (2020), "The Shapley Taylor interaction index", ICML.
- Tsai, Yeh, Ravikumar (2023), "Faith-Shap: The faithful Shapley interaction index", JMLR,
  Theorem 19 (FSII in the Möbius basis).
- Tsai, Yeh, Ravikumar (2022), "Faith-Shap"/"Faithful Banzhaf" (FBII): the uniform-weight
  least-squares projection onto degree <= k, i.e. the Fourier transform truncated at degree k.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from scipy.special import comb

IndexName = Literal["shapley", "banzhaf", "SII", "BII", "STII", "FSII", "FBII"]
INDEX_NAMES: tuple[str, ...] = get_args(IndexName)

Basis = Literal["fourier", "mobius", "shapley", "banzhaf", "SII", "BII", "STII", "FSII", "FBII"]
BASES: tuple[str, ...] = get_args(Basis)

#: Bases whose coefficients define an additive model ``f(m) = sum_{T ⊆ m} c(T)``.
MOBIUS_LIKE: frozenset[str] = frozenset({"mobius", "shapley", "banzhaf", "STII", "FSII", "FBII"})


def check_index_name(name: str) -> str:
    """Return the canonical spelling of an index name or raise a clear error."""
    lookup = {n.lower(): n for n in INDEX_NAMES}
    key = str(name).lower()
    if key not in lookup:
        raise ValueError(f"unknown interaction index {name!r}; valid: {', '.join(INDEX_NAMES)}")
    return lookup[key]


def mobius_weights(name: str, s: np.ndarray, t: np.ndarray, order: int) -> np.ndarray:
    """Weight of a(S) in index(T) for |S| = s, |T| = t (arrays), T ⊆ S, |T| <= order.

    ``shapley`` and ``banzhaf`` are the order-1 values; their empty-set term is ``a(∅)``
    (the value of the empty coalition) so that the result is an additive model.
    Weights for FBII are not given here: FBII is computed through the Fourier basis.
    """
    s = np.asarray(s, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    k = float(order)
    same = (s == t).astype(np.float64)
    if name == "shapley":
        return np.where(t == 0, same, 1.0 / np.maximum(s, 1.0))
    if name == "banzhaf":
        return np.where(t == 0, same, 0.5 ** (s - 1.0))
    if name == "SII":
        return 1.0 / (s - t + 1.0)
    if name == "BII":
        return 0.5 ** (s - t)
    if name == "STII":
        # comb(s, k) is 0 where s < k; those entries are discarded by the where().
        with np.errstate(divide="ignore"):
            return np.where(t < k, same, 1.0 / comb(s, k))
    if name == "FSII":
        with np.errstate(divide="ignore", invalid="ignore"):
            tail = (
                (-1.0) ** (k - t)
                * t
                / (k + t)
                * comb(k, t)
                * comb(s - 1.0, k)
                / comb(s + k - 1.0, k + t)
            )
        return np.where(s == t, 1.0, np.where(s > k, tail, 0.0))
    raise ValueError(f"no Möbius weights for {name!r}")
