"""Kernel ridge regression on every Fourier term up to some order, weighted by order.

With fewer masks than terms, a dense fit of every term shrunk toward zero often describes
a function better than a sparse one: the words of a review (every word and pair matters a
little), or a few sentences whose effects interact at every order (n = 10 facts and a
question to a language model). On ±1 features ``z = 1 − 2m`` the inner product of the
order-k Fourier monomials of two masks is the elementary symmetric polynomial ``e_k`` of
``z ⊙ z'``, which depends only on the number d of features where the masks differ:

    e_k(d) = Σ_j (−1)^j C(d, j) C(n − d, k − j)      (the Krawtchouk polynomial),

so the kernel ``K = Σ_k w_k e_k / C(n, k)`` (each order normalised to 1 on the diagonal)
costs one matrix product. Ridge regression with K (an N × N problem, or the primal one on
the terms when there are fewer terms than masks) is the ridge fit of every term of order
k ≤ K with penalty ``C(n, k) / w_k`` relative to the others; the order weights and the
penalty are chosen by exact leave-one-out error (one eigendecomposition per weighting).
The fitted coefficient of a term S of order k is ``(w_k / C(n, k)) Σ_i a_i z_S(x_i)``, so
the expansion predicts exactly what the kernel fit predicts.

Two weightings are offered: :func:`pair_kernel_ridge` (first order and pairs, the pairs'
weight γ chosen) and :func:`order_kernel_ridge` (every order up to ``max_order``, a term
of order k weighted ρ^(k−1) relative to a single one, ρ chosen: the Fourier form of the
product kernel ``Π_i (1 + ρ z_i z'_i)`` truncated at ``max_order``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from scipy.special import comb

from interplay.solvers.proxyspex import fourier_design
from interplay.spectral.interactions import Interactions
from interplay.spectral.subsets import pad_to_width, sizes

__all__ = ["ORDER_DECAYS", "PAIR_WEIGHTS", "KernelRidgeFit", "fourier_term_count",
           "kernel_ridge", "order_kernel_ridge", "pair_kernel_ridge", "symmetric_characters"]

#: Weights γ of the pair kernel tried (0: first-order ridge).
PAIR_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 1.0, 4.0, 16.0, 64.0)
#: Per-term decays ρ of :func:`order_kernel_ridge` tried (a term of order k weighs ρ^(k−1)
#: times a single one).
ORDER_DECAYS: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.5)
#: Penalties tried, relative to the mean diagonal of the kernel.
PENALTIES = np.logspace(-4, 2, 25)


@dataclass(frozen=True)
class KernelRidgeFit:
    """A fitted order-weighted kernel ridge.

    Attributes
    ----------
    expansion : Interactions
        Fourier basis: the intercept and every term of the orders with a positive weight.
    cv_r2 : float
        1 − (leave-one-out MSE at the chosen weights and penalty) / var(y).
    order_weights : tuple of float
        The chosen weights w_1, w_2, ... of the orders (each order's kernel normalised to 1
        on the diagonal).
    penalty : float
        The chosen ridge penalty (of the kernel normalised to 1 on the diagonal).
    """

    expansion: Interactions
    cv_r2: float
    order_weights: tuple[float, ...]
    penalty: float

    @property
    def pair_weight(self) -> float:
        """The weight γ of the pairs relative to the first order (0 without pairs)."""
        w = self.order_weights
        return float(w[1] / w[0]) if len(w) > 1 and w[0] > 0 else 0.0


def fourier_term_count(n: int, max_order: int) -> int:
    """Number of non-empty subsets of at most ``max_order`` of ``n`` features."""
    return int(sum(comb(n, k, exact=True) for k in range(1, min(max_order, n) + 1)))


def symmetric_characters(n: int, max_order: int) -> np.ndarray:
    """``e_k(d)``: the sum over subsets S of size k of ``z_S``, for z with d entries −1.

    Parameters
    ----------
    n : int
    max_order : int

    Returns
    -------
    (n + 1, max_order + 1) float array
        Row d, column k: ``Σ_j (−1)^j C(d, j) C(n − d, k − j)``.
    """
    d = np.arange(n + 1)[:, None, None]
    k = np.arange(max_order + 1)[None, :, None]
    j = np.arange(max_order + 1)[None, None, :]
    terms = (-1.0) ** j * comb(d, j) * comb(n - d, k - j)  # comb is 0 outside its range
    return terms.sum(axis=2)


def _subsets(n: int, max_order: int) -> np.ndarray:
    """Every non-empty subset of at most ``max_order`` features, by order: (T, max_order)
    int array padded with ``n``."""
    rows = [np.full((0, max_order), n, dtype=np.int64)]
    for k in range(1, min(max_order, n) + 1):
        members = np.array(list(combinations(range(n), k)), dtype=np.int64).reshape(-1, k)
        rows.append(pad_to_width(members, n, max_order))
    return np.vstack(rows)


def _loo_best(evals: np.ndarray, evecs: np.ndarray, yc: np.ndarray, scale: float
              ) -> tuple[float, float]:
    """(leave-one-out MSE, penalty) of the best of :data:`PENALTIES` · ``scale``.

    ``evals``, ``evecs``: the non-zero eigenpairs of the centred kernel (the intercept's
    own leverage 1/N is added to every mask's).
    """
    proj = evecs.T @ yc
    best = (np.inf, 0.0)
    for lam in PENALTIES * max(scale, 1e-12):
        shrink = evals / (evals + lam)
        fitted = evecs @ (shrink * proj)
        hat_diag = (evecs**2) @ shrink
        loo = (yc - fitted) / np.maximum(1.0 - hat_diag - 1.0 / yc.size, 1e-9)
        err = float(np.mean(loo**2))
        if err < best[0]:
            best = (err, float(lam))
    return best


def kernel_ridge(
    masks: np.ndarray, values: np.ndarray, order_weights: Sequence[Sequence[float]]
) -> KernelRidgeFit:
    """Ridge regression on every Fourier term up to some order, weights by leave-one-out.

    Parameters
    ----------
    masks : (N, n) bool array
    values : (N,) float array
    order_weights : sequence of sequences of float
        The weightings tried: ``(w_1, ..., w_K)`` weights the order-k kernel (normalised to
        1 on the diagonal) by w_k; the terms of order k get the penalty ``C(n, k) / w_k``
        relative to a term of weight 1. A zero weight leaves an order out.

    Returns
    -------
    KernelRidgeFit
    """
    masks = np.asarray(masks, dtype=bool)
    y = np.asarray(values, dtype=np.float64)
    n_samples, n = masks.shape
    if not order_weights or not all(len(w) and min(w) >= 0 and max(w) > 0
                                    for w in order_weights):
        raise ValueError("order_weights must be a non-empty list of non-empty, non-negative "
                         f"weightings with a positive weight each, got {order_weights!r}")
    max_order = min(n, max(len(w) for w in order_weights))
    profiles = np.zeros((len(order_weights), max_order + 1))
    for row, weights in zip(profiles, order_weights, strict=True):
        row[1:len(weights) + 1] = np.asarray(weights, dtype=np.float64)[:max_order]
    # per-term weight of each order: w_k / C(n, k)
    per_term = profiles / comb(n, np.arange(max_order + 1))
    idx = _subsets(n, int(max_order if per_term[:, -1].any() else max_order - 1))
    orders = sizes(idx, n)
    characters = fourier_design(masks, idx, n)  # (N, T) ±1
    primal = idx.shape[0] < n_samples
    design = characters - characters.mean(axis=0)
    if not primal:
        table = symmetric_characters(n, max_order)
        distances = np.rint((n - (1.0 - 2.0 * masks) @ (1.0 - 2.0 * masks).T) / 2).astype(int)
    y_mean = float(y.mean())
    yc = y - y_mean
    var = float(np.var(y))
    best: tuple = (np.inf,)
    for weights in per_term:
        if primal:  # the centred design's singular vectors: the centred kernel's eigenpairs
            scaled = design * np.sqrt(weights[orders])
            evals, right = np.linalg.eigh(scaled.T @ scaled)
            nonzero = evals > evals[-1] * 1e-12
            evals = evals[nonzero]
            evecs = (scaled @ right[:, nonzero]) / np.sqrt(evals)
        else:
            kernel = (table @ weights)[distances]
            row = kernel.mean(axis=0)  # centre: the intercept is the (unpenalised) mean
            evals, evecs = np.linalg.eigh(kernel - row[:, None] - row[None, :] + row.mean())
            evals = np.clip(evals, 0.0, None)
        err, lam = _loo_best(evals, evecs, yc, float(evals.sum()) / n_samples)
        if err < best[0]:
            best = (err, lam, weights, evals, evecs)
    err, lam, weights, evals, evecs = best
    a = evecs @ ((evecs.T @ yc) / (evals + lam))  # dual coefficients of the centred fit
    # primal weights Σ_k a_k (φ(x_k) − mean φ) = Σ_k (a_k − mean a) φ(x_k)
    a = a - a.mean()
    keep = weights[orders] > 0
    coef = weights[orders[keep]] * (characters[:, keep].T @ a)
    fitted_mean = float(characters[:, keep].mean(axis=0) @ coef)
    support = np.zeros((int(keep.sum()) + 1, n), dtype=bool)
    rows, cols = np.nonzero(idx[keep] < n)
    support[rows + 1, idx[keep][rows, cols]] = True
    expansion = Interactions(support, np.concatenate([[y_mean - fitted_mean], coef]),
                             n_features=n, basis="fourier")
    chosen = weights * comb(n, np.arange(max_order + 1))
    cv_r2 = 1.0 - err / var if var > 0 else 1.0
    return KernelRidgeFit(expansion, float(cv_r2), tuple(float(w) for w in chosen[1:]),
                          float(lam))


def pair_kernel_ridge(
    masks: np.ndarray, values: np.ndarray, *, pair_weights: tuple[float, ...] = PAIR_WEIGHTS
) -> KernelRidgeFit:
    """Ridge regression on all first-order terms and pairs, γ and penalty by leave-one-out.

    Parameters
    ----------
    masks : (N, n) bool array
    values : (N,) float array
    pair_weights : tuple of float
        The γ tried (weight of the pair kernel relative to the first-order one).

    Returns
    -------
    KernelRidgeFit
    """
    n = np.shape(masks)[1]
    return kernel_ridge(masks, values, [(1.0, g) if n > 1 else (1.0,) for g in pair_weights])


def order_kernel_ridge(
    masks: np.ndarray, values: np.ndarray, *, max_order: int,
    decays: tuple[float, ...] = ORDER_DECAYS,
) -> KernelRidgeFit:
    """Ridge regression on every term up to ``max_order``, a term of order k weighted ρ^(k−1).

    The weighting of the product kernel ``Π_i (1 + ρ z_i z'_i)``, truncated at
    ``max_order``: higher orders are shrunk more, none is left out. ρ and the penalty are
    chosen by leave-one-out error.

    Parameters
    ----------
    masks : (N, n) bool array
    values : (N,) float array
    max_order : int
        Largest order fitted (the cost grows with :func:`fourier_term_count`).
    decays : tuple of float
        The ρ tried.

    Returns
    -------
    KernelRidgeFit
    """
    if int(max_order) < 1:
        raise ValueError(f"max_order must be at least 1, got {max_order}")
    n = np.shape(masks)[1]
    orders = np.arange(1, min(int(max_order), n) + 1)
    return kernel_ridge(masks, values,
                        [tuple(comb(n, orders) * rho ** (orders - 1.0) / n) for rho in decays])
