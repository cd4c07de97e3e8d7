"""Sparse first-order surrogates: LassoCV on 0/1 masks (ContextCite's surrogate).

The cheapest description of a value function: one coefficient per feature, chosen by
cross-validated Lasso, with a cross-validated R² that says how much of the function it
explains. The stacked solver offers it as one of its candidates; SPEX falls back to it when
the function is too dense for its budget (a first-order fit of SPEX's own samples then
explains more than the sparse transform does).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from interplay.spectral.interactions import Interactions

__all__ = ["FirstOrderFit", "first_order_lasso", "kfold_splits", "lasso_cv", "mobius_expansion"]


def kfold_splits(size: int, k: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """k (train, validation) index pairs of a random partition of ``range(size)``."""
    perm = np.random.default_rng(seed).permutation(size)
    parts = np.array_split(perm, k)
    return [(np.concatenate(parts[:j] + parts[j + 1:]), parts[j]) for j in range(k)]


def lasso_cv(
    x: np.ndarray, y: np.ndarray, folds: list, seed: int
) -> tuple[np.ndarray, float, float, float]:
    """LassoCV of ``y`` (N,) on the columns of ``x`` (N, p) over the given folds.

    Returns
    -------
    coef : (p,) float array
    intercept : float
    alpha : float
        The chosen penalty.
    cv_r2 : float
        1 − (cross-validated MSE at that penalty) / var(y); 1 for a constant ``y``.
    """
    from sklearn.linear_model import LassoCV

    var = float(np.var(y))
    if var == 0.0:
        return np.zeros(x.shape[1]), float(y.mean()), 1.0, 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LassoCV(cv=folds, alphas=15, max_iter=1000, tol=1e-3,
                        random_state=seed).fit(x, y)
    mse = float(np.min(model.mse_path_.mean(axis=1)))
    return model.coef_, float(model.intercept_), float(model.alpha_), 1.0 - mse / var


def mobius_expansion(subsets: list[tuple[int, ...]], coef: np.ndarray, intercept: float,
                     n: int) -> Interactions:
    """The Möbius expansion ``intercept + Σ coef_j Π_{i ∈ subsets_j} m_i`` of n features."""
    return Interactions([(), *subsets], np.concatenate([[intercept], coef]), n_features=n,
                        basis="mobius")


@dataclass(frozen=True)
class FirstOrderFit:
    """A first-order surrogate and its cross-validated R².

    Attributes
    ----------
    expansion : Interactions
        Möbius basis: the intercept and one term per feature.
    cv_r2 : float
    """

    expansion: Interactions
    cv_r2: float


def first_order_lasso(
    masks: np.ndarray, values: np.ndarray, *, n_folds: int = 5, seed: int = 0
) -> FirstOrderFit:
    """LassoCV of ``values`` on the 0/1 ``masks``.

    Parameters
    ----------
    masks : (N, n) bool array
    values : (N,) float array
    n_folds : int
        Cross-validation folds (at most N // 5, at least 2).
    seed : int
        Seed of the folds and of the coordinate descent.
    """
    x = np.asarray(masks, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64).ravel()
    n = x.shape[1]
    folds = kfold_splits(y.size, max(2, min(int(n_folds), y.size // 5)), seed)
    coef, intercept, _, cv_r2 = lasso_cv(x, y, folds, seed)
    return FirstOrderFit(
        mobius_expansion([(i,) for i in range(n)], coef, intercept, n), float(cv_r2)
    )
