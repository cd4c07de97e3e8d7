"""Results as pandas DataFrames (pandas is an optional dependency)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from interplay.display.quantity import displayed_expansion

if TYPE_CHECKING:  # pragma: no cover
    from interplay.spectral.interactions import Interactions

__all__ = ["import_pandas", "interactions_frame"]


def import_pandas() -> Any:
    """The pandas module, or an ImportError that says how to install it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(
            "to_pandas() needs pandas: pip install pandas (or pip install 'interplay[pandas]')"
        ) from None
    return pandas


def interactions_frame(
    result: Interactions, index: str | None = None, order: int | None = None
) -> Any:
    """One row per term of ``result`` in the basis ``index``.

    Parameters
    ----------
    result : Interactions
    index, order
        The expansion listed (see :func:`~interplay.display.quantity.displayed_expansion`;
        default Möbius for binary features, the Fourier expansion for q > 2).

    Returns
    -------
    pandas.DataFrame
        Columns ``features`` (tuple of int), ``names`` (tuple of str), ``order`` (int),
        ``value`` (float; complex for q > 2) and ``index`` (the basis, e.g. ``"mobius"``;
        ``"fourier (q=Q)"`` for q > 2, which also has ``frequency`` (the exponents at
        ``features``), ``amplitude`` (largest change the term makes) and ``paired`` (its
        conjugate is implied) columns). Rows by decreasing amplitude (``|value|``); the
        empty set (the value on the empty input for Möbius) comes last.
    """
    pd = import_pandas()
    if result.q > 2:
        if index not in (None, "fourier"):
            result.index(str(index))  # raises: indices are defined for binary features
        terms = result
    else:
        terms = displayed_expansion(result, index, order).terms
    rows = terms.top(len(terms))
    rows += [t for t in terms.top(len(terms), include_empty=True) if not t.features]
    columns: dict[str, Any] = {
        "features": [t.features for t in rows],
        "names": [t.names for t in rows],
        "order": np.array([len(t.features) for t in rows], dtype=np.int64),
        "value": np.array([t.value for t in rows], dtype=terms.coefficients.dtype),
        "index": [terms.basis if terms.q == 2 else f"fourier (q={terms.q})"] * len(rows),
    }
    if terms.q > 2:
        columns["frequency"] = [t.frequency for t in rows]
        columns["amplitude"] = np.array([t.amplitude for t in rows], dtype=np.float64)
        columns["paired"] = np.array([t.paired for t in rows], dtype=bool)
    return pd.DataFrame(columns)
