"""The value function as a solver sees it: values on a unit scale, every mask recorded.

Solvers compare energies, square residuals and set absolute floors; on values near 1e300
these overflow and near 1e-300 they vanish below the floors. Dividing every value by one
power of two (fixed by the first non-zero value seen, so exact in floating point) makes every
solver scale-invariant; :meth:`Solver.fit <interplay.solvers.Solver.fit>` multiplies the
coefficients back.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from interplay.solvers.queried_masks import QueriedMasks
from interplay.values.base import CheckedValueFunction, check_masks

__all__ = ["NormalisedValueFunction"]


class NormalisedValueFunction(CheckedValueFunction):
    """Wrap a :class:`CheckedValueFunction`: divide its values by ``value_scale``, record masks.

    Parameters
    ----------
    inner : CheckedValueFunction
        The checked value function (it validates and counts every query).

    Attributes
    ----------
    value_scale : float
        A power of two near the largest |value| of the first batch holding a non-zero value
        (1.0 until then: zeros look the same on every scale). Values are returned divided by it.
    queried : QueriedMasks
        Every mask forwarded so far.
    query_seconds : float
        Wall time spent inside the wrapped function.
    """

    def __init__(self, inner: CheckedValueFunction) -> None:
        self.inner = inner
        self.function = inner.function
        self.n_features = inner.n_features
        self.alphabet_size = inner.alphabet_size
        self.queried = QueriedMasks(inner.n_features, inner.alphabet_size)
        self._scale: float | None = None
        self.query_seconds = 0.0

    @property
    def n_queries(self) -> int:  # type: ignore[override]
        """Rows forwarded to the wrapped function so far."""
        return self.inner.n_queries

    @property
    def value_scale(self) -> float:
        """The divisor applied to every value (1.0 until a non-zero value was seen)."""
        return 1.0 if self._scale is None else self._scale

    def __call__(self, masks: Any) -> np.ndarray:
        masks = check_masks(masks, self.n_features, self.alphabet_size)
        started = time.perf_counter()
        values = self.inner(masks)
        self.query_seconds += time.perf_counter() - started
        self.queried.add(masks)
        if self._scale is None and values.size:
            peak = float(np.abs(values).max())
            if peak > 0:
                # peak = mantissa · 2^e with mantissa in [0.5, 1): values land in [−2, 2)
                self._scale = float(np.ldexp(1.0, int(np.frexp(peak)[1]) - 1))
        return values / self.value_scale

    def __repr__(self) -> str:
        return f"NormalisedValueFunction({self.inner!r})"
