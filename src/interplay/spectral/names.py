"""Names of features and states: checked to be usable as keys, and made unique when generated.

A result is read by name (``result["cat"]``, ``top()``), so every name must be a non-blank
string and no two may be equal: with a repeated name a lookup would silently return the first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["check_names", "unique_names"]


def check_names(names: Iterable[Any], count: int, *, argument: str, of: str) -> list[str]:
    """Check a list of names: ``count`` non-blank strings, no two equal.

    Parameters
    ----------
    names : iterable of str
        The names (a str is read as its characters, e.g. ``"ACGU"``).
    count : int
        How many there must be.
    argument : str
        The argument's name, used in the messages (``"feature_names"``).
    of : str
        What is named, for the count message (``"features"``, ``"states (q=4)"``).

    Returns
    -------
    list of str

    Raises
    ------
    ValueError
        One line naming the first problem: the wrong count, a name that is not a string or is
        blank, or a name repeated (with every position it occupies).
    """
    names = list(names)
    label = argument.replace("_", " ")
    if len(names) != count:
        raise ValueError(f"{len(names)} {label} given for {count} {of}")
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if not isinstance(name, str):  # a ValueError, as for every other bad name
            raise ValueError(  # noqa: TRY004
                f"{argument}[{i}] is {name!r} ({type(name).__name__}); names must be strings"
            )
        if not name.strip():
            raise ValueError(f"{argument}[{i}] is blank ({name!r}); names must be visible text")
        positions.setdefault(name, []).append(i)
    repeated = next((p for p in positions.values() if len(p) > 1), None)
    if repeated is not None:
        where = ", ".join(str(i) for i in repeated[:10])
        more = f" and {len(repeated) - 10} more" if len(repeated) > 10 else ""
        raise ValueError(
            f"{argument} repeats {names[repeated[0]]!r} at positions {where}{more}; names must "
            "be unique (a name looks up one feature)"
        )
    return [str(name) for name in names]


def unique_names(names: Sequence[str]) -> list[str]:
    """Make generated names unique: a name that occurs more than once gets its position.

    ``["the", "cat", "the"]`` becomes ``["the[0]", "cat", "the[2]"]``. Names that occur once
    are kept as they are; a suffixed name that would equal one of them (the text itself holds
    the word ``"the[2]"``) gets ``'`` marks until it is unique.

    Parameters
    ----------
    names : sequence of str

    Returns
    -------
    list of str, same length, all distinct
    """
    counts: dict[str, int] = {}
    for name in names:
        counts[name] = counts.get(name, 0) + 1
    taken = {name for name, count in counts.items() if count == 1}
    out = list(names)
    for i, name in enumerate(names):
        if counts[name] > 1:
            label = f"{name}[{i}]"
            while label in taken:
                label += "'"
            taken.add(label)
            out[i] = label
    return out
