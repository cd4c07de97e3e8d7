"""Checked reading of the JSON documents that results are saved as.

A saved file is untrusted input. Every field is checked for its JSON type and range before
anything is built from it, and the sizes it asks for are bounded by what the file itself holds
(a count must match a list that is in the file; a table may not be much larger than the file),
so a 200-byte file cannot ask for gigabytes. Every problem, a wrong type included, is one
ValueError naming the field, e.g. ``terms[3][0]: feature must be in 0..4, got 7``.
"""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "TABLE_CELLS",
    "check_header",
    "check_table_size",
    "field",
    "read_dict",
    "read_index_rows",
    "read_int",
    "read_list",
    "read_numbers",
    "read_optional_int",
    "read_optional_str",
    "read_tuples",
    "repeated_key",
    "table_limit",
]

#: Cells of the dense table a document may ask for whatever its length (2^26: about 0.5 GB
#: of int64 while it is built); longer files may ask for up to 32 cells per character.
TABLE_CELLS = 2**26
_CELLS_PER_CHAR = 32

_MISSING = object()


def table_limit(chars: int | None) -> int:
    """Largest table (in cells) that a document of ``chars`` characters may ask for."""
    return TABLE_CELLS if chars is None else max(TABLE_CELLS, _CELLS_PER_CHAR * int(chars))


def _shown(value: Any) -> str:
    try:
        text = repr(value)
    except ValueError:  # an integer with more digits than Python converts to text
        text = f"an integer of {value.bit_length()} bits"
    return text if len(text) <= 40 else text[:37] + "..."


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_header(data: Any, fmt: str, versions: tuple[int, ...], what: str) -> int:
    """Check the ``format`` and ``version`` fields; return the version.

    ``versions`` lists the versions this reader understands.
    """
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise ValueError(f"not an interplay {what} document (format != {fmt!r})")
    found = data.get("version")
    if not _is_int(found) or found not in versions:
        readable = " and ".join(str(v) for v in versions)
        raise ValueError(
            f"unsupported {what} format version {found!r} (this version reads {readable})"
        )
    return int(found)


def field(data: dict, key: str) -> Any:
    """``data[key]``; a missing key is a ValueError naming it."""
    value = data.get(key, _MISSING)
    if value is _MISSING:
        raise ValueError(f"field {key!r} is missing")
    return value


def read_int(value: Any, name: str, *, low: int, high: int | None = None) -> int:
    """An integer in ``low..high`` (JSON numbers with a fraction, strings, booleans refused)."""
    if not _is_int(value):
        raise ValueError(f"{name} must be an integer, got {_shown(value)}")
    if value < low or (high is not None and value > high):
        bound = f"at least {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"{name} must be {bound}, got {_shown(value)}")
    return int(value)


def read_optional_int(data: dict, key: str, *, low: int) -> int | None:
    """``data[key]`` as an int at least ``low``, or None when missing or null."""
    value = data.get(key)
    return None if value is None else read_int(value, key, low=low)


def read_optional_str(data: dict, key: str) -> str | None:
    """``data[key]`` as a str, or None when missing or null."""
    value = data.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key} must be a string or null, got {_shown(value)}")
    return value


def read_list(value: Any, name: str) -> list:
    """A JSON array."""
    if not isinstance(value, list):
        raise ValueError(f"{name} must be a list, got {_shown(value)}")  # noqa: TRY004
    return value


def read_dict(data: dict, key: str) -> dict:
    """``data[key]`` as a dict; missing or null gives an empty dict."""
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object (a dict), got {_shown(value)}")  # noqa: TRY004
    return value


def read_tuples(values: Sequence[Any], template: str, *, size: int, form: str) -> None:
    """Check that every value is a list of ``size`` items (a JSON tuple such as a term).

    ``template.format(i)`` names value i; ``form`` shows the expected layout in the message.
    """
    if all(type(v) is list and len(v) == size for v in values):
        return
    for i, value in enumerate(values):
        if not (isinstance(value, list) and len(value) == size):
            raise ValueError(f"{template.format(i)} must be {form}, got {_shown(value)}")


def repeated_key(keys: Sequence[Any], template: str, what: str) -> ValueError:
    """The error for the first key equal to an earlier one (call it when some key repeats)."""
    seen: dict[Any, int] = {}
    for i, key in enumerate(keys):
        if key in seen:
            return ValueError(
                f"{template.format(i)} repeats the {what} of {template.format(seen[key])}"
            )
        seen[key] = i
    return ValueError(f"{template.format('?')} repeats a {what}")  # pragma: no cover


def read_numbers(values: Sequence[Any], template: str) -> np.ndarray:
    """Finite real numbers (ints or floats; strings, booleans, NaN and inf refused).

    Parameters
    ----------
    values : sequence of length K
    template : str
        The field name of value i is ``template.format(i)`` (e.g. ``"terms[{}][1]"``).

    Returns
    -------
    (K,) float64 array
    """
    if set(map(type, values)) <= {int, float}:
        try:
            out = np.array(values, dtype=np.float64).reshape(len(values))
        except OverflowError:  # an integer beyond the float range: found below
            out = None
        if out is not None and np.isfinite(out).all():
            return out
    for i, value in enumerate(values):
        name = template.format(i)
        if not _is_real(value):
            raise ValueError(f"{name} must be a number, got {_shown(value)}")
        try:
            finite = bool(np.isfinite(float(value)))
        except OverflowError:
            finite = False
        if not finite:
            raise ValueError(f"{name} must be a finite number, got {_shown(value)}")
    # every value is a finite real of another type (numpy scalars in a dict built in memory)
    return np.array([float(v) for v in values], dtype=np.float64).reshape(len(values))


def read_index_rows(
    rows: Sequence[Any], template: str, *, high: int, what: str, distinct: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Rows of integer indices in ``0..high-1`` (distinct within a row, by default).

    Parameters
    ----------
    rows : sequence of K lists of ints
    template : str
        The field name of row i is ``template.format(i)`` (e.g. ``"terms[{}][0]"``).
    high : int
        Indices must be below it.
    what : str
        What an index is, for the message (``"feature"``).
    distinct : bool
        Whether an index may appear only once in a row.

    Returns
    -------
    flat : (M,) int64 array
        The indices of all rows, concatenated.
    lengths : (K,) int64 array
        The length of each row.
    """
    if not set(map(type, rows)) <= {list}:
        for r, row in enumerate(rows):
            read_list(row, template.format(r))
    flat = list(itertools.chain.from_iterable(rows))
    if not set(map(type, flat)) <= {int} or (flat and (min(flat) < 0 or max(flat) >= high)):
        for r, row in enumerate(rows):
            for i in row:
                read_int(i, f"{template.format(r)}: {what}", low=0, high=high - 1)
    lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
    index = np.array(flat, dtype=np.int64).reshape(-1)
    if not distinct:
        return index, lengths
    row_of = np.repeat(np.arange(len(rows)), lengths)
    order = np.lexsort((index, row_of))
    same = (index[order][1:] == index[order][:-1]) & (row_of[order][1:] == row_of[order][:-1])
    if same.any():
        first = int(np.flatnonzero(same)[0])
        r, i = int(row_of[order][first]), int(index[order][first])
        raise ValueError(f"{template.format(r)}: {what} {i} appears twice")
    return index, lengths


def check_table_size(rows: int, cols: int, *, limit: int, name: str) -> None:
    """Refuse a document whose terms need a dense ``rows × cols`` table above ``limit`` cells."""
    if rows * cols > limit:
        raise ValueError(
            f"{name} would need a {rows} × {cols} table ({rows * cols:.3g} cells), more than "
            f"a saved result of this length can hold ({limit:.3g}); the file is damaged or "
            "was not written by interplay"
        )
