"""The value-function contract.

A value function takes a boolean mask matrix of shape (N, n) — True keeps a feature — and
returns N finite floats. :func:`as_value_function` wraps any such callable in a
:class:`CheckedValueFunction` that validates what goes in and what comes back and counts the
queries it forwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "CheckedValueFunction",
    "ValueFunction",
    "as_value_function",
    "check_masks",
    "check_outputs",
]


@runtime_checkable
class ValueFunction(Protocol):
    """Anything callable as ``f(masks: (N, n) bool array) -> (N,) float array``."""

    def __call__(self, masks: np.ndarray) -> Any: ...


def _rows_text(rows: np.ndarray, limit: int = 10) -> str:
    shown = ", ".join(str(int(r)) for r in rows[:limit])
    more = f" and {rows.size - limit} more" if rows.size > limit else ""
    return f"{shown}{more}"


def check_masks(masks: Any, n: int, alphabet_size: int = 2) -> np.ndarray:
    """Validate a mask matrix.

    With ``alphabet_size == 2`` (the default) return it as a C-contiguous (N, n) bool array.
    With ``alphabet_size = q > 2`` the masks are q-ary: return a C-contiguous (N, n) int64
    array whose entries must be integers in ``0..q-1``.
    """
    arr = np.asarray(masks)
    if arr.ndim != 2 or arr.shape[1] != n:
        raise ValueError(f"masks must have shape (N, {n}), got {arr.shape}")
    if alphabet_size != 2:
        q = int(alphabet_size)
        if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
            raise ValueError(f"q-ary masks must be integer arrays with entries in 0..{q - 1}")
        integral = np.issubdtype(arr.dtype, np.integer) or np.all(np.mod(arr, 1) == 0)
        if arr.size and (not integral or arr.min() < 0 or arr.max() > q - 1):
            raise ValueError(f"q-ary masks must be integer arrays with entries in 0..{q - 1}")
        return np.ascontiguousarray(arr, dtype=np.int64)
    if arr.dtype != bool:
        if not np.issubdtype(arr.dtype, np.number) or not np.isin(arr, (0, 1)).all():
            raise ValueError("masks must be boolean (or 0/1) arrays")
        arr = arr.astype(bool)
    return np.ascontiguousarray(arr)


def _as_complex(value: Any) -> complex:
    """``complex(value)``; an integer beyond the float range becomes ±inf (refused later)."""
    try:
        return complex(value)
    except OverflowError:
        return complex(np.inf if value > 0 else -np.inf)


def _non_numeric_rows(column: np.ndarray) -> np.ndarray:
    """Rows of a (N,) object array that are not a real number (str, bytes, None, ...)."""

    def bad(v: Any) -> bool:
        if isinstance(v, (str, bytes)) or v is None:
            return True
        try:
            _as_complex(v)  # real numbers, numpy/torch scalars; complex is judged afterwards
        except (TypeError, ValueError):
            return True
        return False

    return np.flatnonzero([bad(v) for v in column])


def check_outputs(values: Any, n_rows: int, *, allow_complex: bool = False) -> np.ndarray:
    """Validate a value function's output for ``n_rows`` masks.

    Parameters
    ----------
    values : array-like, shape (N,) or (N, 1)
        What the value function returned: one real number per mask.
    n_rows : int
        N, the number of masks it was given.
    allow_complex : bool
        Accept complex values (q-ary features, q > 2).

    Returns
    -------
    (N,) float64 array; complex128 when ``allow_complex`` and a value has an imaginary part

    Raises
    ------
    ValueError
        For a wrong shape; for non-numeric output (strings, bytes, ``None``, objects that
        are not numbers — numeric strings such as ``"1.5"`` are refused too); for complex
        values with a non-zero imaginary part, unless ``allow_complex``; for NaN or infinite values (integers and long
        doubles beyond the float64 range included); for masked (missing) entries of a
        masked array. The messages name the offending rows of the batch. Nothing else is
        raised for any array-like output.
    """
    if values is None:
        raise ValueError(
            f"the value function returned None for {n_rows} masks (a missing return "
            "statement?); it must return one float per mask"
        )
    if np.ma.isMaskedArray(values) and np.ma.getmaskarray(values).any():
        masked = np.flatnonzero(np.ma.getmaskarray(values).reshape(-1))
        raise ValueError(
            f"the value function returned masked (missing) values (rows {_rows_text(masked)} "
            "of this batch); it must return one float per mask"
        )
    try:
        raw = np.asarray(values)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(
            f"the value function returned non-numeric or ragged output "
            f"({type(values).__name__}); it must return one float per mask"
        ) from exc
    if raw.ndim == 2 and raw.shape[1] == 1:
        raw = raw[:, 0]
    if raw.shape != (n_rows,):
        raise ValueError(
            f"the value function returned shape {np.shape(values)} for {n_rows} masks; "
            f"expected ({n_rows},): one float per mask"
        )
    kind = raw.dtype.kind
    if kind in "SUVMm":
        raise ValueError(
            f"the value function returned non-numeric output (dtype {raw.dtype}) for "
            f"{n_rows} masks; it must return one float per mask"
        )
    if kind == "O":
        bad = _non_numeric_rows(raw)
        if bad.size:
            raise ValueError(
                f"the value function returned non-numeric values for {bad.size} of {n_rows} "
                f"masks (rows {_rows_text(bad)} of this batch); it must return one float per mask"
            )
        raw = np.array([_as_complex(v) for v in raw])
        kind = raw.dtype.kind
    if kind == "c":
        bad = np.flatnonzero(raw.imag != 0)
        if bad.size and not allow_complex:
            raise ValueError(
                f"the value function returned complex values for {bad.size} of {n_rows} masks "
                f"(rows {_rows_text(bad)} of this batch); binary (q=2) methods and the query "
                "engine need real numbers (complex values are explained by method='qsft' "
                "with q > 2)"
            )
        if not bad.size:
            raw = raw.real
    with np.errstate(over="ignore"):  # a long double beyond float64 becomes inf: refused below
        arr = np.asarray(raw, dtype=np.complex128 if np.iscomplexobj(raw) else np.float64)
    bad = np.flatnonzero(~np.isfinite(arr))
    if bad.size:
        kinds = "NaN" if np.isnan(arr[bad]).all() else "non-finite (NaN or inf)"
        raise ValueError(
            f"the value function returned {kinds} values for {bad.size} of {n_rows} masks "
            f"(rows {_rows_text(bad)} of this batch)"
        )
    return arr


class CheckedValueFunction:
    """A value function wrapped with input/output validation and a query counter.

    Parameters
    ----------
    function : callable
        ``function(masks) -> values`` with masks a (N, n) bool array.
    n_features : int
        Number of features n.
    alphabet_size : int
        Number of states q of each feature. 2 (default): masks are (N, n) bool arrays and
        values real. q > 2: masks are (N, n) int64 arrays with entries in ``0..q-1`` (q-ary
        methods) and values may be complex.

    Attributes
    ----------
    n_queries : int
        Number of mask rows forwarded to ``function`` so far.
    """

    def __init__(
        self, function: Callable[[np.ndarray], Any], n_features: int, alphabet_size: int = 2
    ) -> None:
        if not callable(function):
            raise TypeError(f"value function must be callable, got {type(function).__name__}")
        n_features = int(n_features)
        if n_features < 1:
            raise ValueError(f"n must be a positive number of features, got {n_features}")
        alphabet_size = int(alphabet_size)
        if alphabet_size < 2:
            raise ValueError(f"alphabet_size must be at least 2, got {alphabet_size}")
        self.function = function
        self.n_features = n_features
        self.alphabet_size = alphabet_size
        self.n_queries = 0

    def __call__(self, masks: Any) -> np.ndarray:
        masks = check_masks(masks, self.n_features, self.alphabet_size)
        if masks.shape[0] == 0:
            return np.zeros(0)
        values = self.function(masks)
        # the rows were forwarded (and paid for) even when the output is then refused
        self.n_queries += masks.shape[0]
        return check_outputs(values, masks.shape[0], allow_complex=self.alphabet_size > 2)

    def __repr__(self) -> str:
        extra = f", alphabet_size={self.alphabet_size}" if self.alphabet_size != 2 else ""
        return f"CheckedValueFunction({self.function!r}, n_features={self.n_features}{extra})"


def as_value_function(
    function: Any, n_features: int, alphabet_size: int = 2
) -> CheckedValueFunction:
    """Wrap ``function`` in a :class:`CheckedValueFunction` (unless it already is one).

    ``alphabet_size`` is the number of states q of each feature (2: boolean masks).
    """
    if isinstance(function, CheckedValueFunction):
        if function.n_features != int(n_features):
            raise ValueError(
                f"value function has {function.n_features} features but n={n_features} was given"
            )
        if function.alphabet_size != int(alphabet_size):
            raise ValueError(
                f"value function takes {function.alphabet_size}-ary masks but "
                f"q={alphabet_size} was asked for"
            )
        return function
    return CheckedValueFunction(function, n_features, alphabet_size)
