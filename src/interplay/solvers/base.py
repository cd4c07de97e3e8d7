"""What every solver shares: the constructor contract, seeding and query bookkeeping."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import numpy as np

from interplay.spectral.interactions import Interactions
from interplay.values.base import CheckedValueFunction

__all__ = ["BudgetError", "Solver", "check_random_state", "query_unique"]


class BudgetError(ValueError):
    """The query budget is too small for any design of the requested method."""


def check_random_state(random_state: Any) -> np.random.Generator:
    """Turn ``None``, an int, or a Generator into a ``numpy.random.Generator``."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise TypeError(f"random_state must be None, an int or a numpy Generator, got {random_state!r}")


def query_unique(value_function: CheckedValueFunction, masks: np.ndarray) -> np.ndarray:
    """Query each distinct mask once, in one batch, and return values for every row."""
    packed = np.packbits(masks, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    values = value_function(masks[first])
    return values[inverse.ravel()]


class Solver(ABC):
    """Base class of all solvers.

    Subclasses store their parameters in ``__init__`` (keyword-only, no work) and do
    everything in :meth:`fit`, which returns an :class:`~interplay.Interactions` whose
    ``n_queries`` is the number of distinct masks the value function really received.
    """

    #: The name used as ``method=`` in :func:`interplay.explain`.
    name: str = ""

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
    ) -> None:
        self.budget = budget
        self.max_order = max_order
        self.random_state = random_state

    def _check_common(self) -> None:
        if self.budget is not None and int(self.budget) < 1:
            raise BudgetError(f"budget must be a positive number of queries, got {self.budget}")
        if int(self.max_order) < 1:
            raise ValueError(f"max_order must be at least 1, got {self.max_order}")

    @abstractmethod
    def fit(self, value_function: CheckedValueFunction, n: int) -> Interactions:
        """Query ``value_function`` and return the sparse expansion it recovers."""
