"""Kernel ridge regression on every first-order term and pair, in the Fourier basis.

With fewer masks than features, when every feature matters a little and pairs matter too
(words of a review), a dense fit of all n + n(n−1)/2 terms shrunk toward zero describes the
function better than a sparse one. On ±1 features ``z = 1 − 2m`` the inner products of the
order-1 and order-2 Fourier monomials of two masks depend only on ``t = z · z'``:

    K1 = t / n,    K2 = (t² − n) / (n (n − 1)),

each normalised to 1 on the diagonal. Ridge regression with the kernel ``K1 + γ K2``
(an N × N problem) is therefore the ridge fit of every single and pair term with the pairs'
penalty 1/γ times the singles'; γ and the penalty are chosen by exact leave-one-out error
(one eigendecomposition per γ). The fitted coefficients are ``Σ_k a_k z_S(x_k)`` times the
order's weight, so the expansion predicts exactly what the kernel fit predicts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from interplay.spectral.interactions import Interactions

__all__ = ["PAIR_WEIGHTS", "KernelRidgeFit", "pair_kernel_ridge"]

#: Weights γ of the pair kernel tried (0: first-order ridge).
PAIR_WEIGHTS: tuple[float, ...] = (0.0, 0.25, 1.0, 4.0, 16.0, 64.0)
#: Penalties tried, relative to the mean diagonal of the kernel.
PENALTIES = np.logspace(-4, 2, 25)


@dataclass(frozen=True)
class KernelRidgeFit:
    """A fitted pair kernel ridge.

    Attributes
    ----------
    expansion : Interactions
        Fourier basis: the intercept, n first-order terms and (when γ > 0) every pair.
    cv_r2 : float
        1 − (leave-one-out MSE at the chosen γ and penalty) / var(y).
    pair_weight : float
        The chosen γ.
    penalty : float
        The chosen ridge penalty (of the kernel normalised to 1 on the diagonal).
    """

    expansion: Interactions
    cv_r2: float
    pair_weight: float
    penalty: float


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
    z = 1.0 - 2.0 * np.asarray(masks, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    n_samples, n = z.shape
    y_mean = float(y.mean())
    yc = y - y_mean
    var = float(np.var(y))
    t = z @ z.T
    k1 = t / n
    k2 = (t * t - n) / (n * (n - 1)) if n > 1 else np.zeros_like(t)
    best = (np.inf, 0.0, 0.0, None)
    for gamma in pair_weights if n > 1 else (0.0,):
        kernel = k1 + gamma * k2
        # centre the kernel: the intercept is the (unpenalised) mean
        row = kernel.mean(axis=0)
        centred = kernel - row[:, None] - row[None, :] + row.mean()
        evals, evecs = np.linalg.eigh(centred)
        evals = np.clip(evals, 0.0, None)
        proj = evecs.T @ yc
        for lam in PENALTIES * max(float(np.mean(np.diag(centred))), 1e-12):
            shrink = evals / (evals + lam)
            fitted = evecs @ (shrink * proj)
            hat_diag = (evecs**2) @ shrink
            loo = (yc - fitted) / np.maximum(1.0 - hat_diag - 1.0 / n_samples, 1e-9)
            err = float(np.mean(loo**2))
            if err < best[0]:
                best = (err, gamma, lam, (evals, evecs, proj, row))
    err, gamma, lam, (evals, evecs, proj, row) = best
    a = evecs @ (proj / (evals + lam))  # dual coefficients of the centred fit
    # primal weights Σ_k a_k (φ(x_k) − mean φ) = Σ_k (a_k − mean a) φ(x_k)
    a = a - a.mean()
    single = (z.T @ a) / n
    subsets: list[tuple[int, ...]] = [(i,) for i in range(n)]
    coef = [single]
    fitted_mean = float(z.mean(axis=0) @ single)  # the non-constant part's mean on the masks
    if gamma > 0:
        i, j = np.triu_indices(n, k=1)
        products = z[:, i] * z[:, j]
        pair = (products.T @ a) * gamma / (n * (n - 1) / 2)
        subsets += list(zip(i.tolist(), j.tolist(), strict=True))
        coef.append(pair)
        fitted_mean += float(products.mean(axis=0) @ pair)
    expansion = Interactions([(), *subsets], np.concatenate([[y_mean - fitted_mean], *coef]),
                             n_features=n, basis="fourier")
    cv_r2 = 1.0 - err / var if var > 0 else 1.0
    return KernelRidgeFit(expansion, float(cv_r2), float(gamma), float(lam))
