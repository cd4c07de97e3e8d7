"""Solver parameters, declared once with their constraints and checked in one place.

Every solver lists its constructor parameters in a class attribute ``parameters``: a
mapping from the name to a :class:`Constraint` (what values are allowed, in words and as a
test). :meth:`Solver.check_parameters <interplay.solvers.Solver.check_parameters>` checks
them all, before the first query, and raises one error naming the solver, the parameter,
what it must be and what it got::

    SPEX: n_groups must be an int >= 1, got 0

The constructors only store their arguments (as scikit-learn's do), so a configured solver
can be built, printed (its ``repr`` shows the parameters that differ from the defaults) and
handed to :func:`interplay.explain` as ``method=``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any

__all__ = [
    "Constraint",
    "boolean",
    "check_parameters",
    "integer",
    "integers",
    "one_of",
    "random_state",
    "real",
    "reals",
    "satisfies",
]


@dataclass(frozen=True)
class Constraint:
    """What values one parameter accepts.

    Parameters
    ----------
    words : str
        The accepted values as the error message says them (``"an int >= 1"``).
    test : callable
        ``test(value) -> bool``; an exception raised by it counts as ``False``.
    optional : bool
        ``None`` is accepted too (and means the solver's default).
    error : type of Exception
        Raised when the test fails (``ValueError``; ``BudgetError`` for budgets).
    """

    words: str
    test: Callable[[Any], bool]
    optional: bool = False
    error: type[Exception] = ValueError

    def allows(self, value: Any) -> bool:
        """Whether ``value`` satisfies the constraint."""
        if value is None:
            return self.optional
        try:
            return bool(self.test(value))
        except (TypeError, ValueError, OverflowError):
            return False

    def described(self) -> str:
        """The accepted values in words, ``or None`` included when allowed."""
        return f"{self.words} or None" if self.optional else self.words


def _is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def _is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _bounds_words(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def _within(value: float, low: float | None, high: float | None, low_open: bool,
            high_open: bool) -> bool:
    above = low is None or (value > low if low_open else value >= low)
    below = high is None or (value < high if high_open else value <= high)
    return above and below


def integer(low: int | None = None, high: int | None = None, *, optional: bool = False,
            error: type[Exception] = ValueError) -> Constraint:
    """An int (not a bool) in ``[low, high]``."""
    words = f"an int {_bounds_words(low, high, False, False)}".rstrip()
    return Constraint(words, lambda v: _is_int(v) and _within(v, low, high, False, False),
                      optional, error)


def real(low: float | None = None, high: float | None = None, *, low_open: bool = False,
         high_open: bool = False, optional: bool = False) -> Constraint:
    """A finite real number (an int is accepted) within the bounds."""
    words = f"a number {_bounds_words(low, high, low_open, high_open)}".rstrip()
    return Constraint(
        words, lambda v: _is_real(v) and _within(float(v), low, high, low_open, high_open),
        optional,
    )


def reals(low: float | None = None, high: float | None = None, *, low_open: bool = False,
          high_open: bool = False) -> Constraint:
    """A number within the bounds, or a non-empty tuple of such numbers."""
    one = real(low, high, low_open=low_open, high_open=high_open)
    return Constraint(f"{one.words}, or a non-empty tuple of them",
                      lambda v: _each(v, one.allows))


def integers(low: int | None = None, high: int | None = None, *,
             optional: bool = False) -> Constraint:
    """An int within the bounds, or a non-empty tuple of such ints."""
    one = integer(low, high)
    return Constraint(f"{one.words}, or a non-empty tuple of them",
                      lambda v: _each(v, one.allows), optional)


def _each(value: Any, allows: Callable[[Any], bool]) -> bool:
    if isinstance(value, (tuple, list)):
        return len(value) > 0 and all(allows(v) for v in value)
    return allows(value)


def boolean() -> Constraint:
    """``True`` or ``False`` (not 0 or 1: a number there is usually a misplaced argument)."""
    return Constraint("True or False", lambda v: isinstance(v, bool))


def one_of(*choices: Any, optional: bool = False) -> Constraint:
    """One of ``choices``."""
    shown = ", ".join(repr(c) for c in choices)
    return Constraint(
        f"one of {shown}",
        lambda v: any(v == c and isinstance(v, bool) == isinstance(c, bool) for c in choices),
        optional,
    )


def random_state() -> Constraint:
    """None, an int >= 0 or a ``numpy.random.Generator``."""
    import numpy as np

    return Constraint(
        "None, an int >= 0 or a numpy Generator",
        lambda v: isinstance(v, np.random.Generator) or (_is_int(v) and v >= 0),
        optional=True,
    )


def satisfies(words: str, test: Callable[[Any], bool], *, optional: bool = False) -> Constraint:
    """A constraint no helper above says: ``test`` decides, ``words`` describe it."""
    return Constraint(words, test, optional)


def check_parameters(owner: Any, constraints: Iterable[tuple[str, Constraint]]) -> None:
    """Check ``owner``'s attributes against ``constraints``; raise on the first violation.

    Raises
    ------
    ValueError (or the constraint's error class)
        ``"<Class>: <name> must be <words>, got <value>"``.
    """
    for name, constraint in constraints:
        value = getattr(owner, name)
        if not constraint.allows(value):
            raise constraint.error(
                f"{type(owner).__name__}: {name} must be {constraint.described()}, got {value!r}"
            )
