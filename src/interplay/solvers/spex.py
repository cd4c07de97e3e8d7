"""SPEX: sparse Walsh–Hadamard transform by subsampling, BCH-coded delays and peeling.

See design §2 (docs/design.md). SPEX is the sparse-Fourier engine
(:mod:`interplay.sparse_fourier`) over Z_2 with BCH-coded delays
(:class:`~interplay.sparse_fourier.delays.BCHDelays`). All queries of a design are fixed up
front and each distinct mask is sent once, in one batch: C groups × (r + 1) delays × 2^b_c
subsampled masks, where r is the number of parity bits of a BCH code correcting
t = ``max_order`` errors over n message bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from interplay.solvers.base import BudgetError, Solver, check_random_state
from interplay.solvers.first_order import first_order_lasso
from interplay.solvers.parameters import Constraint, boolean, integer, integers, real
from interplay.sparse_fourier import (
    LOW_SAMPLE_R2,
    BCHDelays,
    sparse_fourier_transform,
    subsample_groups,
    warn_if_unexplained,
)
from interplay.spectral.interactions import Interactions
from interplay.values.base import CheckedValueFunction

__all__ = ["SPEX", "SPEXDesign"]

_MIN_LOG2_BINS = 3
_DEFAULT_LOG2_BINS = 7
#: The last unresolved bins are read with a Chase search this many bits deeper.
_DEEPER = 3


@dataclass(frozen=True)
class SPEXDesign:
    """The sampling design: sizes and the number of queries it costs.

    ``b`` holds b_c for each group c (group c hashes into 2^b_c bins); groups may differ by one (a budget between two
    uniform designs buys a larger b for some groups).
    """

    n_features: int
    b: tuple[int, ...]
    t: int
    n_delays: int  # including the zero delay

    @property
    def n_groups(self) -> int:
        return len(self.b)

    @property
    def n_queries(self) -> int:
        """Upper bound on queries (duplicate masks are sent once)."""
        return sum(2**size for size in self.b) * self.n_delays

    @staticmethod
    def minimum_budget(n: int, t: int, n_groups: int = 3) -> int:
        """The smallest budget any design for (n, t) fits in."""
        return n_groups * 2**min(_MIN_LOG2_BINS, n) * BCHDelays.n_delays(n, t)

    @staticmethod
    def for_budget(n: int, t: int, n_groups: int, budget: int) -> tuple[int, ...]:
        """Largest bins per group that fit ``budget``: uniform b, then b+1 for as many
        groups as the rest of the budget pays for."""
        n_delays = BCHDelays.n_delays(n, t)
        per_bin = n_groups * n_delays
        if budget < per_bin:
            return (0,) * n_groups
        b = min(int(np.floor(np.log2(budget / per_bin))), n, 16)
        sizes = [b] * n_groups
        for c in range(n_groups):
            if b + 1 > min(n, 16):
                break
            trial = sizes.copy()
            trial[c] = b + 1
            if sum(2**x for x in trial) * n_delays <= budget:
                sizes = trial
        return tuple(sorted(sizes, reverse=True))


class SPEX(Solver):
    """Sparse spectral explainer (SPEX).

    The sparse-Fourier engine over Z_2 with BCH-coded delays: C random groups hash the
    spectrum into 2^b_c bins each, every bin is read at the zero delay and one delay per parity
    bit, singletons are decoded (soft Chase decoding of the signs), bins of two or three terms
    by successive cancellation; terms too weak for one bin (noise) are read from sums of bins
    of two or three groups, then with a Chase search 3 bits deeper, last (``max_order`` <= 4)
    by a matched-filter search over every frequency of a tuple of unresolved bins; the
    recovered support is
    refit by least squares in the bin domain. ``metadata`` holds the design (``b``, ``t``, ``n_delays``), ``peeling_rounds``,
    ``noise_sd_per_query``, ``unresolved_bins``, ``n_found``, ``sample_r2`` and timings; a
    ``UserWarning`` says when the result explains less than R² = 0.75 of its own samples.

    Parameters
    ----------
    budget : int, optional
        Largest number of queries. The design's bins per group 2^b is the largest that fits;
        a budget below :meth:`SPEXDesign.minimum_budget` raises :class:`BudgetError` naming it.
        ``None`` uses b = 7.
    max_order : int
        t: the BCH code corrects t errors, so interactions of up to t features are found.
    random_state : None, int or Generator
    n_groups : int
        C, the number of subsampling groups (3 by default).
    b : int or sequence of int, optional
        Bins per group 2^b instead of deriving it from the budget: one b for all
        ``n_groups`` groups, or a sequence with one b per group (groups of unequal size; its
        length is then the number of groups).
    chase_depth : int
        Soft decoding flips the ``chase_depth`` least reliable parity bits (2^depth candidates);
        the last unresolved bins are read with ``chase_depth + 3``.
    ridge : float
        Ridge penalty of the final least-squares refit (0 = plain least squares).
    dense_fallback : bool
        When the sparse transform explains less than R² = 0.75 of its own samples (the
        function is denser than the budget resolves), fit a first-order LassoCV to the same
        samples and return it (Möbius basis, ``metadata["diagnostics"]["fallback"]``) if its
        cross-validated R² is higher: SPEX is then never worse than a first-order fit of its
        own queries.
    """

    name = "spex"
    parameters: ClassVar[dict[str, Constraint]] = {
        "n_groups": integer(1),
        "b": integers(1, optional=True),
        "chase_depth": integer(0, 12),
        "ridge": real(0),
        "dense_fallback": boolean(),
    }

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
        n_groups: int = 3,
        b: int | tuple[int, ...] | None = None,
        chase_depth: int = 3,
        ridge: float = 0.0,
        dense_fallback: bool = True,
    ) -> None:
        super().__init__(budget=budget, max_order=max_order, random_state=random_state)
        self.n_groups = n_groups
        self.b = b
        self.chase_depth = chase_depth
        self.ridge = ridge
        self.dense_fallback = dense_fallback

    def design(self, n: int) -> SPEXDesign:
        """The design :meth:`fit` would use for n features."""
        self.check_parameters()
        t = int(min(self.max_order, n))
        if t > 12:
            raise ValueError(f"max_order={self.max_order} exceeds the largest supported t=12")
        n_delays = BCHDelays.n_delays(n, t)
        if self.b is not None:
            given = np.atleast_1d(np.asarray(self.b, dtype=int))
            # one b for every group, or one per group (which sets the number of groups)
            sizes = tuple(int(x) for x in (given if given.size > 1 else given.repeat(self.n_groups)))
        elif self.budget is not None:
            sizes = SPEXDesign.for_budget(n, t, self.n_groups, int(self.budget))
        else:
            sizes = (min(_DEFAULT_LOG2_BINS, n),) * self.n_groups
        minimum = SPEXDesign.minimum_budget(n, t, self.n_groups)
        if min(sizes) < min(_MIN_LOG2_BINS, n) or max(sizes) > n:
            raise BudgetError(
                f"budget {self.budget} is too small for SPEX with n={n}, max_order={t}: "
                f"the smallest design needs {minimum} queries ({self.n_groups} random "
                f"subsamplings into {2 ** min(_MIN_LOG2_BINS, n)} bins, each bin read "
                f"{n_delays} times: once plain and once for each of the {n_delays - 1} parity "
                f"checks that name the features of an interaction of up to {t})"
            )
        design = SPEXDesign(n, sizes, t, n_delays)
        if self.budget is not None and design.n_queries > int(self.budget):
            raise BudgetError(
                f"b={sizes} needs {design.n_queries} queries, above the budget {self.budget}"
            )
        return design

    def planned_queries(self, n: int) -> int:
        """Queries of :meth:`design` (an upper bound: duplicate masks are sent once)."""
        return self.design(n).n_queries

    def fit_sampled(self, value_function: CheckedValueFunction, n: int) -> Interactions:
        """Sample, transform, decode, peel and refit; see the class docstring."""
        design = self.design(n)
        rng = check_random_state(self.random_state)
        code = BCHDelays(n, design.t, chase_depth=self.chase_depth)
        samples = _SampleRecorder(value_function)
        fit = sparse_fourier_transform(
            samples, n, 2, groups=subsample_groups(n, design.b, 2, rng),
            delay_code=code,
            max_order=design.t, ridge=self.ridge,
            deep_delay_code=BCHDelays(n, design.t, chase_depth=self.chase_depth + _DEEPER),
        )
        fallback = None
        if self.dense_fallback and fit.diagnostics["sample_r2"] < LOW_SAMPLE_R2:
            masks, values = samples.recorded()
            linear = first_order_lasso(masks, values, seed=int(rng.integers(2**31 - 1)))
            if linear.cv_r2 > fit.diagnostics["sample_r2"]:
                fallback = linear
        advice = (
            "the function is less sparse than this budget can resolve (about "
            f"{sum(2**size for size in design.b) // 3} coefficients). Raise the budget, "
            "or use method='stacked' (the default), which degrades gracefully."
        )
        if fallback is not None:
            advice += (f" A first-order fit of the same samples explains R²={fallback.cv_r2:.2f}"
                       " (cross-validated) and is returned instead (metadata['fallback']).")
        warn_if_unexplained("SPEX", fit, advice)
        metadata = {
            "n_groups": design.n_groups,
            "b": list(design.b),
            "t": design.t,
            "n_delays": design.n_delays,
            "bch_length": 2**code.code.m - 1,
            **fit.diagnostics,
        }
        if fallback is not None:
            metadata["fallback"] = {"surrogate": "first-order LassoCV",
                                    "cv_r2": fallback.cv_r2}
            result = fallback.expansion
            return Interactions(
                result.support_matrix(), result.coefficients, n_features=n, basis="mobius",
                n_queries=fit.n_queries, method=self.name, metadata=metadata,
            )
        return Interactions(
            fit.frequencies.astype(bool),
            fit.coefficients,
            n_features=n,
            basis="fourier",
            n_queries=fit.n_queries,
            method=self.name,
            metadata=metadata,
        )


class _SampleRecorder:
    """Forwards queries to a value function and keeps every (mask, value) pair it answered."""

    def __init__(self, value_function: CheckedValueFunction) -> None:
        self.value_function = value_function
        self._masks: list[np.ndarray] = []
        self._values: list[np.ndarray] = []

    @property
    def value_scale(self) -> float:
        return float(getattr(self.value_function, "value_scale", 1.0))

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        values = np.asarray(self.value_function(masks), dtype=np.float64)
        self._masks.append(np.asarray(masks, dtype=bool))
        self._values.append(values.ravel())
        return values

    def recorded(self) -> tuple[np.ndarray, np.ndarray]:
        """(N, n) bool masks and (N,) values of every query so far."""
        return np.concatenate(self._masks), np.concatenate(self._values)
