"""Marginal baselines: one weighted-regression solver with three samplers and kernels.

LIME, KernelSHAP and Banzhaf (first order) and Faith-Banzhaf and Faith-Shapley (order 2) all fit

    f(m) ≈ a(∅) + Σ_{0 < |T| ≤ order} a(T) · Π_{i∈T} m_i

by weighted least squares on sampled masks; they differ only in which masks are drawn and how
they are weighted (design §6 in docs/design.md, captum's "KernelShap is Lime with another kernel"):

========================  =====================================  ===========================
method                    masks drawn                            weight / constraint
========================  =====================================  ===========================
``lime``                  remove k ~ U{1..n} features, + full     LIME's exponential kernel
                                                                  on cosine distance, ridge
``kernelshap``            size s ∝ 1/(s(n−s)), paired             exact at ∅ and at the full
                                                                  mask (efficiency)
``banzhaf``               uniform                                 uniform
``faith_banzhaf``         uniform, order 2                        uniform
``faith_shap``            size s ∝ 1/(s(n−s)), paired, order 2    exact at ∅ and full mask
========================  =====================================  ===========================

When the budget covers all 2^n masks every solver returns the function's exact Möbius
expansion instead (see :mod:`interplay.solvers.exact`): ``shapley_values()``,
``banzhaf_values()`` and ``index("FSII", 2)`` / ``index("FBII", 2)`` of it are then exact.

The result is the fitted surrogate itself, in the Möbius basis (an additive model that
``predict`` evaluates); its ``shapley_values()`` / ``index("FSII", 2)`` return the estimates.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import numpy as np
import scipy.linalg

from interplay.solvers.base import BudgetError, Solver, check_random_state
from interplay.solvers.exact import MAX_EXACT_MASKS, all_states, exact_budget_hint
from interplay.solvers.parameters import Constraint, boolean, one_of, real
from interplay.solvers.tree_fourier import interactions_from_index
from interplay.spectral.interactions import Interactions
from interplay.values.base import CheckedValueFunction

__all__ = [
    "LIME",
    "Banzhaf",
    "FaithBanzhaf",
    "FaithShap",
    "KernelSHAP",
    "WeightedRegression",
    "all_masks",
    "draw_distinct",
    "lime_masks",
    "shapley_kernel_masks",
    "uniform_masks",
]

Kernel = Literal["uniform", "shapley", "lime"]
KERNELS: tuple[str, ...] = ("uniform", "shapley", "lime")

#: Largest n for which order-2 regression is allowed (1 + n + n(n−1)/2 unknowns).
MAX_N_ORDER2 = 128


# ------------------------------------------------------------------------------ samplers
def uniform_masks(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """(size, n) bool masks, each feature kept with probability 1/2."""
    return rng.random((size, n)) < 0.5


def _masks_of_sizes(rng: np.random.Generator, kept: np.ndarray, n: int) -> np.ndarray:
    """One uniformly random mask keeping ``kept[r]`` features for every row r."""
    keys = rng.random((kept.size, n))
    ranks = np.argsort(np.argsort(keys, axis=1), axis=1)
    return ranks < kept[:, None]


def shapley_kernel_masks(
    rng: np.random.Generator, size: int, n: int, *, paired: bool = True
) -> np.ndarray:
    """(size, n) masks drawn from the Shapley kernel: |m| = s with P(s) ∝ 1/(s(n−s)), 0<s<n.

    With ``paired`` every drawn mask is followed by its complement (variance reduction).
    """
    if n < 2:
        return np.zeros((0, n), dtype=bool)
    s = np.arange(1, n)
    p = 1.0 / (s * (n - s))
    half = (size + 1) // 2 if paired else size
    masks = _masks_of_sizes(rng, rng.choice(s, size=half, p=p / p.sum()), n)
    if paired:
        masks = np.stack([masks, ~masks], axis=1).reshape(-1, n)[:size]
    return masks


def lime_masks(rng: np.random.Generator, size: int, n: int) -> np.ndarray:
    """(size, n) masks as LIME's text explainer draws them: remove k ~ U{1..n} features."""
    removed = rng.integers(1, n + 1, size=size)
    return _masks_of_sizes(rng, n - removed, n)


def all_masks(n: int) -> np.ndarray:
    """(2^n, n) bool array of every mask (row r is the binary expansion of r)."""
    return all_states(n, 2)


def draw_distinct(
    draw: Callable[[int], np.ndarray], budget: int, *, max_draws: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Draw masks until ``budget`` distinct ones are seen, keeping the multiplicity of each.

    The draws are i.i.d. from ``draw``; the result is the shortest prefix of the draw sequence
    that holds ``budget`` distinct masks (or all the draws, if fewer distinct masks appear in
    ``max_draws`` draws), so that weighting each distinct mask by its count is the same as
    regressing on the i.i.d. prefix.

    Parameters
    ----------
    draw : callable
        ``draw(size) -> (size, n) bool array``.
    budget : int
        Number of distinct masks wanted.
    max_draws : int, optional
        Stop after this many draws (default ``50 * budget``).

    Returns
    -------
    masks : (M, n) bool array
        Distinct masks, M <= budget, in order of first appearance.
    counts : (M,) int array
        How many times each was drawn.
    """
    max_draws = 50 * budget if max_draws is None else max_draws
    chunks: list[np.ndarray] = []
    total = 0
    size = budget
    while True:
        chunks.append(draw(size))
        total += size
        sample = np.concatenate(chunks)
        packed = np.packbits(sample, axis=1)
        _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
        if first.size >= budget or total >= max_draws:
            first_sorted = np.sort(first)
            cut = sample.shape[0] if first.size < budget else int(first_sorted[budget - 1]) + 1
            rank = np.empty(first.size, dtype=np.int64)
            rank[np.argsort(first)] = np.arange(first.size)
            labels = rank[inverse.ravel()[:cut]]
            keep = first_sorted[: min(budget, first.size)]
            counts = np.bincount(labels, minlength=keep.size)[: keep.size]
            return sample[keep], counts
        size = min(2 * size, max_draws - total)


# ------------------------------------------------------------------------- design/solve
def _design(masks: np.ndarray, order: int) -> tuple[np.ndarray, np.ndarray]:
    """Möbius monomials of degree 1..order: (N, p) float matrix and (p, order) index array."""
    n = masks.shape[1]
    x = masks.astype(np.float64)
    idx = [np.column_stack([np.arange(n), np.full((n, order - 1), n)])] if order > 1 else [
        np.arange(n)[:, None]
    ]
    cols = [x]
    if order >= 2:
        i, j = np.triu_indices(n, k=1)
        cols.append(x[:, i] * x[:, j])
        idx.append(np.column_stack([i, j]))
    if order > 2:
        raise ValueError("regression baselines are of order 1 or 2")
    return np.concatenate(cols, axis=1), np.concatenate(idx).astype(np.int64)


def _weighted_lstsq(x: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float) -> np.ndarray:
    """argmin_b Σ w (y − x b)² + alpha |b|², minimum-norm when rank-deficient."""
    if x.shape[1] == 0:
        return np.zeros(0)
    sw = np.sqrt(w)[:, None]
    a = x * sw
    rhs = y * sw[:, 0]
    if alpha > 0:
        a = np.vstack([a, np.sqrt(alpha) * np.eye(x.shape[1])])
        rhs = np.concatenate([rhs, np.zeros(x.shape[1])])
    beta, *_ = scipy.linalg.lstsq(a, rhs, lapack_driver="gelsy", check_finite=False)
    return beta


def _lime_weight(masks: np.ndarray, width: float) -> np.ndarray:
    """LIME's kernel sqrt(exp(−d²/width²)) on the cosine distance to the full mask."""
    kept = masks.sum(axis=1).astype(np.float64)
    n = masks.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(kept > 0, kept / np.sqrt(kept * n), 0.0)
    d = 1.0 - cos
    return np.sqrt(np.exp(-(d**2) / width**2))


# ----------------------------------------------------------------------------- solvers
class WeightedRegression(Solver):
    """Weighted least-squares surrogate of order 1 or 2 (LIME, KernelSHAP, Banzhaf, Faith-*).

    Parameters
    ----------
    budget : int, optional
        Distinct masks to query. Default: all 2^n masks when that is at most
        ``2 (p + 1)`` for order 1 or ``1.5 (p + 1)`` for order 2 (p unknowns), else those
        numbers.
    max_order : int
        Caps ``order``.
    random_state : None, int or Generator
        Seed of the sampler.
    order : {1, 2}
        Degree of the surrogate.
    kernel : {"uniform", "shapley", "lime"}
        Sampling distribution and weighting (see the module docstring).
    alpha : float
        Ridge penalty on the non-constant coefficients (0: plain least squares).
    paired : bool
        For the Shapley kernel, query every mask together with its complement.
    kernel_width : float
        Width of LIME's kernel on the cosine distance (LIME's default 25 on distance × 100).

    Notes
    -----
    With fewer queries than unknowns the system is under-determined: a warning is issued and
    the minimum-norm solution returned. Order 2 is refused above n = 128 (8 257 unknowns and a
    dense design matrix of that width).
    """

    name = "weighted_regression"
    exact_basis = "mobius"
    parameters: ClassVar[dict[str, Constraint]] = {
        "order": one_of(1, 2),
        "kernel": one_of(*KERNELS),
        "alpha": real(0),
        "paired": boolean(),
        "kernel_width": real(0, low_open=True),
    }

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
        order: int = 1,
        kernel: Kernel = "uniform",
        alpha: float = 0.0,
        paired: bool = True,
        kernel_width: float = 0.25,
    ) -> None:
        super().__init__(budget=budget, max_order=max_order, random_state=random_state)
        self.order = order
        self.kernel = kernel
        self.alpha = alpha
        self.paired = paired
        self.kernel_width = kernel_width

    # ------------------------------------------------------------------ checks
    def _check(self, n: int) -> int:
        self.check_parameters()
        if int(n) < 1:
            raise ValueError(f"n must be a positive number of features, got {n}")
        order = min(int(self.order), int(self.max_order))
        if order == 2 and n > MAX_N_ORDER2:
            unknowns = 1 + n + n * (n - 1) // 2
            raise ValueError(
                f"{self.name} fits all {unknowns} interactions of order <= 2 at n = {n}: that "
                f"needs at least {unknowns} queries and a dense {unknowns}-column design matrix; "
                f"it is offered for n <= {MAX_N_ORDER2}. Use method='stacked' (the default) "
                "or 'spex' for sparse interactions among many features"
            )
        return order

    def _default_budget(self, n: int, p: int, order: int) -> int:
        want = 2 * (p + 1) if order == 1 else (3 * (p + 1)) // 2
        return want if n > 30 else min(2**n, want)

    def planned_queries(self, n: int) -> int:
        """The budget, or the default design's size (see ``budget``)."""
        n = int(n)
        order = self._check(n)
        p = n if order == 1 else n + n * (n - 1) // 2
        if self.kernel == "shapley" and self.budget is not None and int(self.budget) < 2:
            raise BudgetError(
                f"budget {self.budget} is too small for {self.name}: the smallest design is 2 "
                "queries, the empty and the full mask (the Shapley kernel fixes both ends)"
            )
        return self._default_budget(n, p, order) if self.budget is None else int(self.budget)

    # -------------------------------------------------------------------- fit
    def fit_sampled(self, value_function: CheckedValueFunction, n: int) -> Interactions:
        """Query sampled masks, fit the weighted surrogate, return it in the Möbius basis.

        Parameters
        ----------
        value_function : CheckedValueFunction
            Takes (N, n) bool masks.
        n : int
            Number of features.

        Returns
        -------
        Interactions
            Basis ``"mobius"``, terms of degree <= order; ``metadata["diagnostics"]["index"]`` names the index
            the fit estimates (``"shapley"``, ``"banzhaf"``, ``"FSII"``, ``"FBII"`` or
            ``"lime"``).
        """
        n = int(n)
        order = self._check(n)
        rng = check_random_state(self.random_state)
        p = n if order == 1 else n + n * (n - 1) // 2
        budget = self.planned_queries(n)
        constrained = self.kernel == "shapley"
        masks, weight = self._sample(rng, budget, n, constrained)
        if constrained:
            ends = np.zeros((2, n), dtype=bool)
            ends[1] = True
            masks = np.concatenate([ends, masks])
            weight = np.concatenate([[0.0, 0.0], weight])
        values = value_function(masks)
        n_queries = masks.shape[0]

        x, idx = _design(masks, order)
        rows = weight > 0
        n_unknowns = p + 1 - (2 if constrained else 0)
        if int(rows.sum()) + (2 if constrained else 0) < p + 1 and self.alpha == 0:
            warnings.warn(
                f"{self.name}: {n_queries} queries for {p + 1} unknowns; the least-squares "
                "problem is under-determined and the minimum-norm solution is returned "
                f"(raise the budget to at least {p + 1} or set alpha > 0"
                + (f"; {exact_budget_hint(n)})" if 2**n <= MAX_EXACT_MASKS else ")"),
                stacklevel=4,
            )
        if constrained:
            full = np.flatnonzero(masks.all(axis=1))[0]
            empty = np.flatnonzero(~masks.any(axis=1))[0]
            y0, y1 = values[empty], values[full]
            xs, ys, ws = x[rows], values[rows], weight[rows]
            if p >= 1:
                last = xs[:, -1]
                beta_rest = _weighted_lstsq(
                    xs[:, :-1] - last[:, None], ys - y0 - (y1 - y0) * last, ws, float(self.alpha)
                )
                beta = np.append(beta_rest, (y1 - y0) - beta_rest.sum())
            else:
                beta = np.zeros(0)
            intercept = y0
        else:
            xs, ys, ws = x[rows], values[rows], weight[rows]
            wsum = ws.sum()
            xm = (ws @ xs) / wsum
            ym = float(ws @ ys) / wsum
            beta = _weighted_lstsq(xs - xm, ys - ym, ws, float(self.alpha))
            intercept = ym - float(xm @ beta)

        index_name = {
            ("shapley", 1): "shapley",
            ("uniform", 1): "banzhaf",
            ("shapley", 2): "FSII",
            ("uniform", 2): "FBII",
        }.get((self.kernel, order), "lime")
        all_idx = np.vstack([np.full((1, idx.shape[1]), n), idx])
        result = interactions_from_index(
            all_idx,
            np.concatenate([[intercept], beta]),
            n,
            basis="mobius",
            n_queries=n_queries,
            method=self.name,
            metadata={
                "index": index_name,
                "order": order,
                "kernel": self.kernel,
                "unknowns": int(n_unknowns),
            },
        )
        return result

    def _sample(
        self, rng: np.random.Generator, budget: int, n: int, constrained: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        if self.kernel == "uniform":
            masks, counts = draw_distinct(lambda k: uniform_masks(rng, k, n), budget)
            return masks, counts.astype(np.float64)
        if self.kernel == "shapley":
            if budget < 3 or n < 2:  # the empty and the full mask only (budget >= 2)
                return np.zeros((0, n), dtype=bool), np.zeros(0)
            masks, counts = draw_distinct(
                lambda k: shapley_kernel_masks(rng, k, n, paired=bool(self.paired)),
                budget - 2,
                max_draws=50 * budget,
            )
            return masks, counts.astype(np.float64)
        # LIME: the explained input itself (weight 1), then perturbations (never the full mask)
        full = np.ones((1, n), dtype=bool)
        if budget < 2:
            return full, np.ones(1)
        masks, counts = draw_distinct(lambda k: lime_masks(rng, k, n), budget - 1)
        masks = np.concatenate([full, masks])
        counts = np.concatenate([[1.0], counts])
        return masks, counts * _lime_weight(masks, float(self.kernel_width))


class LIME(WeightedRegression):
    """LIME for masks: ridge regression weighted by an exponential kernel.

    Parameters
    ----------
    budget, max_order, random_state
        See :class:`~interplay.solvers.Solver`.
    alpha : float
        Ridge penalty (LIME's default 1.0).
    kernel_width : float
        Kernel width on the cosine distance to the full mask (LIME: 25 on distance × 100).
    """

    name = "lime"

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
        alpha: float = 1.0,
        kernel_width: float = 0.25,
    ) -> None:
        super().__init__(
            budget=budget,
            max_order=max_order,
            random_state=random_state,
            order=1,
            kernel="lime",
            alpha=alpha,
            paired=False,
            kernel_width=kernel_width,
        )


class KernelSHAP(WeightedRegression):
    """KernelSHAP: Shapley-kernel regression, exact at the empty and full masks.

    Parameters
    ----------
    budget, max_order, random_state
        See :class:`~interplay.solvers.Solver`.
    paired : bool
        Query each sampled mask with its complement.

    Notes
    -----
    The surrogate is the Shapley-value fit, not a predictor of uniform masks: it passes
    exactly through f(∅) and f(full) (efficiency) and its samples are almost all masks that
    keep very few or very many features. On a model whose value at half-kept masks is far
    from the midpoint of f(∅) and f(full) (a classifier's logit that saturates), its
    predictions on uniform masks are off by a constant and their R² can be negative even
    when the Shapley values are right. It is exact on additive functions, and removing that
    constant recovers the R² of the uniform-weight (Banzhaf) fit; see docs/faithfulness.md.
    """

    name = "kernelshap"

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
        paired: bool = True,
    ) -> None:
        super().__init__(
            budget=budget,
            max_order=max_order,
            random_state=random_state,
            order=1,
            kernel="shapley",
            paired=paired,
        )


class Banzhaf(WeightedRegression):
    """Banzhaf values by least squares on uniform masks (MSR-style regression).

    Parameters
    ----------
    budget, max_order, random_state
        See :class:`~interplay.solvers.Solver`.
    """

    name = "banzhaf"

    def __init__(
        self, *, budget: int | None = None, max_order: int = 5, random_state: Any = None
    ) -> None:
        super().__init__(
            budget=budget, max_order=max_order, random_state=random_state, order=1,
            kernel="uniform",
        )


class FaithBanzhaf(WeightedRegression):
    """Faith-Banzhaf interaction index of order 2 (uniform least squares on all pairs).

    Parameters
    ----------
    budget, max_order, random_state
        See :class:`~interplay.solvers.Solver`. Refused above n = 128.
    """

    name = "faith_banzhaf"

    def __init__(
        self, *, budget: int | None = None, max_order: int = 5, random_state: Any = None
    ) -> None:
        super().__init__(
            budget=budget, max_order=max_order, random_state=random_state, order=2,
            kernel="uniform",
        )


class FaithShap(WeightedRegression):
    """Faith-Shapley interaction index of order 2 (Shapley-kernel least squares on all pairs).

    Parameters
    ----------
    budget, max_order, random_state
        See :class:`~interplay.solvers.Solver`. Refused above n = 128.
    paired : bool
        Query each sampled mask with its complement.
    """

    name = "faith_shap"

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
        paired: bool = True,
    ) -> None:
        super().__init__(
            budget=budget, max_order=max_order, random_state=random_state, order=2,
            kernel="shapley", paired=paired,
        )
