"""Results as pandas DataFrames (pandas is an optional dependency)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from interplay.display.quantity import displayed_expansion

if TYPE_CHECKING:  # pragma: no cover
    from interplay.spectral.interactions import Interactions
    from interplay.spectral.qary import QaryInteractions

__all__ = ["import_pandas", "interactions_frame", "qary_frame"]


def import_pandas() -> Any:
    """The pandas module, or an ImportError that says how to install it."""
    try:
        import pandas
    except ImportError:
        raise ImportError(
            "to_pandas() needs pandas: pip install pandas (or pip install 'interplay[pandas]')"
        ) from None
    return pandas


def _term_columns(rows: list[Any]) -> dict[str, Any]:
    """The ``features``, ``names`` and ``order`` columns of a list of terms."""
    return {
        "features": [t.features for t in rows],
        "names": [t.names for t in rows],
        "order": np.array([len(t.features) for t in rows], dtype=np.int64),
    }


def interactions_frame(
    result: Interactions, index: str | None = None, order: int | None = None
) -> Any:
    """One row per term of ``result`` in the basis ``index``.

    Parameters
    ----------
    result : Interactions
    index, order
        The expansion listed (see :func:`~interplay.display.quantity.displayed_expansion`;
        default Möbius).

    Returns
    -------
    pandas.DataFrame
        Columns ``features`` (tuple of int), ``names`` (tuple of str), ``order`` (int),
        ``value`` (float) and ``index`` (the basis, e.g. ``"mobius"``). Rows by decreasing
        ``|value|``; the empty set (the value on the empty input for Möbius) comes last.
    """
    pd = import_pandas()
    terms = displayed_expansion(result, index, order).terms
    rows = terms.top(len(terms))
    rows += [t for t in terms.top(len(terms), include_empty=True) if not t.features]
    return pd.DataFrame(
        {
            **_term_columns(rows),
            "value": np.array([t.value for t in rows], dtype=np.float64),
            "index": [terms.basis] * len(rows),
        }
    )


def qary_frame(result: QaryInteractions) -> Any:
    """One row per frequency term of a q-ary expansion (each conjugate pair once).

    Returns
    -------
    pandas.DataFrame
        Columns ``features``, ``names``, ``order``, ``frequency`` (the non-zero entries of
        k), ``value`` (complex ``F(k)``), ``amplitude`` (largest change the term makes),
        ``paired`` (its conjugate is implied) and ``index`` (``"fourier (q=Q)"``); rows by
        decreasing amplitude, the constant term last.
    """
    pd = import_pandas()
    rows = result.top(len(result))
    rows += [t for t in result.top(len(result), include_empty=True) if not t.features]
    return pd.DataFrame(
        {
            **_term_columns(rows),
            "frequency": [t.frequency for t in rows],
            "value": np.array([t.value for t in rows], dtype=np.complex128),
            "amplitude": np.array([t.amplitude for t in rows], dtype=np.float64),
            "paired": np.array([t.paired for t in rows], dtype=bool),
            "index": [f"fourier (q={result.q})"] * len(rows),
        }
    )
