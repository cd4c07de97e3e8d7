"""Faithfulness and recovery metrics (DESIGN §6).

- :func:`faithfulness`: R² of an explanation's predictions on fresh masks (uniform, or masks
  with at most a fraction of the features removed).
- :func:`top_removal`: the r features whose removal the explanation says moves the output
  most, and the true change their removal causes.
- :func:`support_recovery` and :func:`nmse`: comparison with a known (planted) expansion.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from interplay.solvers.base import check_random_state
from interplay.spectral import subsets as sub
from interplay.spectral.interactions import Interactions

__all__ = [
    "RemovalResult",
    "faithfulness",
    "nmse",
    "r2_score",
    "sample_masks",
    "support_recovery",
    "top_removal",
]

MaskDistribution = Literal["uniform", "few_removed"]
MASK_DISTRIBUTIONS: tuple[str, ...] = ("uniform", "few_removed")


def r2_score(y_true: Any, y_pred: Any) -> float:
    """R² = 1 − Σ(y − ŷ)² / Σ(y − ȳ)², on any scale, never −inf.

    Both arrays are first divided by one power of two near their largest magnitude, so values
    near 1e±300 neither overflow nor vanish. A target that does not vary (its spread is below
    round-off, std ≤ 1e-12 · max|y|) has no variance to explain: R² is then 1.0 when the
    prediction matches it to round-off (rms error ≤ 1e-9 · max|y|) and 0.0 otherwise (no
    better than the constant itself).

    Parameters
    ----------
    y_true, y_pred : (N,) float arrays, N >= 1

    Returns
    -------
    float
    """
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"shapes differ: {y_true.shape} vs {y_pred.shape}")
    if y_true.size == 0:
        raise ValueError("R² needs at least one value")
    peak = max(float(np.abs(y_true).max()), float(np.abs(y_pred).max()))
    if peak == 0.0:
        return 1.0
    scale = float(np.ldexp(1.0, int(np.frexp(peak)[1])))
    y_true, y_pred = y_true / scale, y_pred / scale
    resid = float(np.sum((y_true - y_pred) ** 2))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    size = float(np.abs(y_true).max())
    if total <= y_true.size * (1e-12 * size) ** 2:
        return 1.0 if resid <= y_true.size * (1e-9 * size) ** 2 else 0.0
    return 1.0 - resid / total


def sample_masks(
    n: int,
    n_masks: int,
    *,
    distribution: MaskDistribution = "uniform",
    max_removed: float = 0.1,
    random_state: Any = None,
) -> np.ndarray:
    """Random test masks.

    Parameters
    ----------
    n : int
        Number of features.
    n_masks : int
        Number of masks N.
    distribution : {"uniform", "few_removed"}
        ``"uniform"`` keeps each feature with probability 1/2; ``"few_removed"`` removes
        k ~ U{1..max(1, ⌊max_removed·n⌋)} features chosen at random (masks near the full input,
        where explanations are usually read).
    max_removed : float in (0, 1]
        Largest fraction of features removed by ``"few_removed"``.
    random_state : None, int or Generator

    Returns
    -------
    (N, n) bool array
    """
    if distribution not in MASK_DISTRIBUTIONS:
        raise ValueError(
            f"distribution must be one of {', '.join(MASK_DISTRIBUTIONS)}, got {distribution!r}"
        )
    if int(n) < 1 or int(n_masks) < 1:
        raise ValueError(f"n and n_masks must be positive, got n={n}, n_masks={n_masks}")
    if not 0 < float(max_removed) <= 1:
        raise ValueError(f"max_removed must be in (0, 1], got {max_removed}")
    rng = check_random_state(random_state)
    if distribution == "uniform":
        return rng.random((n_masks, n)) < 0.5
    top = max(1, int(np.floor(max_removed * n)))
    removed = rng.integers(1, top + 1, size=n_masks)
    ranks = np.argsort(np.argsort(rng.random((n_masks, n)), axis=1), axis=1)
    return ranks >= removed[:, None]


def faithfulness(
    explanation: Interactions,
    value_function: Any,
    *,
    n_masks: int = 1000,
    distribution: MaskDistribution = "uniform",
    max_removed: float = 0.1,
    masks: np.ndarray | None = None,
    values: np.ndarray | None = None,
    random_state: Any = None,
) -> float:
    """R² of the explanation's predictions against the value function on fresh masks.

    Parameters
    ----------
    explanation : Interactions
        A Fourier or Möbius(-like) expansion (anything with ``predict``).
    value_function : callable or None
        ``f(masks) -> values``; not called when ``values`` are given.
    n_masks, distribution, max_removed, random_state
        How to draw test masks (see :func:`sample_masks`); ignored when ``masks`` is given.
    masks : (N, n) bool array, optional
        Test masks to use (share them across methods to compare on the same points).
    values : (N,) float array, optional
        ``value_function(masks)``, when already known.

    Returns
    -------
    float
        1 − Σ(f − f̂)² / Σ(f − mean f)².
    """
    n = explanation.n_features
    if masks is None:
        masks = sample_masks(
            n, n_masks, distribution=distribution, max_removed=max_removed,
            random_state=random_state,
        )
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim != 2 or masks.shape[1] != n:
        raise ValueError(f"masks must have shape (N, {n}), got {masks.shape}")
    if values is None:
        if value_function is None:
            raise ValueError("give a value_function or the values at the masks")
        values = value_function(masks)
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.shape[0] != masks.shape[0]:
        raise ValueError(f"{values.shape[0]} values for {masks.shape[0]} masks")
    return r2_score(values, explanation.predict(masks))


@dataclass(frozen=True)
class RemovalResult:
    """Outcome of :func:`top_removal`.

    Attributes
    ----------
    features : tuple of int
        The r removed features, in the order they were chosen.
    predicted_change : float
        f̂(full without them) − f̂(full) according to the explanation.
    true_change : float
        f(full without them) − f(full), measured by two queries.
    """

    features: tuple[int, ...]
    predicted_change: float
    true_change: float


def top_removal(
    explanation: Interactions,
    value_function: Any,
    r: int,
    *,
    direction: Literal["down", "up", "abs"] = "abs",
) -> RemovalResult:
    """Remove the r features the explanation says move the output most; measure the truth.

    Features are chosen greedily: at each step the feature whose removal (with those already
    chosen) maximises the predicted change in ``direction`` is added. Every step evaluates the
    explanation on n candidate masks at once.

    Parameters
    ----------
    explanation : Interactions
        A Fourier or Möbius(-like) expansion.
    value_function : callable
        ``f(masks) -> values``; called once on two masks (full, and full minus the chosen).
    r : int
        Number of features to remove, 1 <= r <= n.
    direction : {"down", "up", "abs"}
        Maximise the decrease (remove what supports the output), the increase, or the absolute
        change (default).

    Returns
    -------
    RemovalResult
    """
    n = explanation.n_features
    if not 1 <= int(r) <= n:
        raise ValueError(f"r must be between 1 and n={n}, got {r}")
    if direction not in ("down", "up", "abs"):
        raise ValueError(f"direction must be 'down', 'up' or 'abs', got {direction!r}")
    full = np.ones(n, dtype=bool)
    base = float(explanation.predict(full[None, :])[0])
    current = full.copy()
    chosen: list[int] = []
    eye = ~np.eye(n, dtype=bool)
    for _ in range(int(r)):
        candidates = np.flatnonzero(current)
        trial = current[None, :] & eye[candidates]
        change = explanation.predict(trial) - base
        score = {"down": -change, "up": change, "abs": np.abs(change)}[direction]
        pick = int(candidates[int(np.argmax(score))])
        chosen.append(pick)
        current[pick] = False
    predicted = float(explanation.predict(current[None, :])[0]) - base
    truth = np.asarray(value_function(np.stack([full, current])), dtype=np.float64).ravel()
    return RemovalResult(tuple(chosen), predicted, float(truth[1] - truth[0]))


def _aligned(
    estimate: Interactions, truth: Interactions, include_empty: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Fourier coefficients of both expansions on the union of their supports, (U,) each."""
    if estimate.n_features != truth.n_features:
        raise ValueError(
            f"estimate has {estimate.n_features} features, truth has {truth.n_features}"
        )
    n = truth.n_features
    est, ref = estimate.to_fourier(), truth.to_fourier()
    width = max(est._idx.shape[1], ref._idx.shape[1])
    idx = np.concatenate([sub._pad(est._idx, n, width), sub._pad(ref._idx, n, width)])
    which = np.concatenate([np.zeros(len(est), np.int64), np.ones(len(ref), np.int64)])
    coef = np.concatenate([est._coef, ref._coef])
    uniq, inverse = np.unique(idx, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    out = np.zeros((2, uniq.shape[0]))
    np.add.at(out, (which, inverse), coef)
    if not include_empty:
        nonempty = (uniq < n).any(axis=1)
        out = out[:, nonempty]
    return out[0], out[1]


def support_recovery(
    estimate: Interactions,
    truth: Interactions,
    *,
    tol: float = 1e-6,
    relative_tol: float = 0.0,
) -> tuple[float, float]:
    """Precision and recall of the estimated Fourier support against the true one.

    Both expansions are compared in the Fourier basis on non-empty subsets. A subset is in a
    support when its coefficient's magnitude exceeds ``max(tol, relative_tol · max|coef|)``
    (the cut is computed for each expansion separately).

    Returns
    -------
    precision, recall : float
        |found ∩ true| / |found| (1.0 when nothing is found) and |found ∩ true| / |true|
        (1.0 when the truth is constant).
    """
    est, ref = _aligned(estimate, truth, include_empty=False)

    def support(coef: np.ndarray) -> np.ndarray:
        cut = max(tol, relative_tol * float(np.abs(coef).max(initial=0.0)))
        return np.abs(coef) > cut

    found, true = support(est), support(ref)
    hit = int(np.sum(found & true))
    precision = hit / int(found.sum()) if found.any() else 1.0
    recall = hit / int(true.sum()) if true.any() else 1.0
    return precision, recall


def nmse(estimate: Interactions, truth: Interactions, *, include_empty: bool = False) -> float:
    """Normalised squared error of the Fourier coefficients: Σ(F̂ − F)² / Σ F².

    By Parseval this is also the mean squared error over uniform masks relative to the
    function's energy (its variance, when ``include_empty`` is False).
    """
    est, ref = _aligned(estimate, truth, include_empty)
    err = float(np.sum((est - ref) ** 2))
    norm = float(np.sum(ref**2))
    if norm == 0.0:
        return 0.0 if err == 0.0 else float(np.inf)
    return err / norm
