"""Masks near the full input: a few features removed, where removal questions are asked.

A uniformly random mask removes half the features, so a surrogate fitted to uniform masks
alone is almost never checked on inputs with only a few features removed, and that is where
"which r features move the output most when removed" lives (the sentiment classifier's
first-order fit on 500 uniform masks has R² below 0 on masks with at most 10 % removed).
:func:`near_full_design` draws such masks from a stream of their own, so that a solver can
spend a share of its budget on them while its uniform masks stay a prefix of the uniform
stream that other budgets and methods share (and a query cache serves).
"""

from __future__ import annotations

import numpy as np

from interplay.solvers.queried_masks import QueriedMasks
from interplay.solvers.regression import draw_distinct

__all__ = ["MAX_REMOVED", "mix_masks", "near_full_design", "near_full_masks"]

#: Largest share of the features a near-full mask removes.
MAX_REMOVED = 0.1
#: Second word of the near-full stream's seed (the first is the solver's integer seed), so
#: that it never coincides with the uniform stream drawn from the seed alone.
NEAR_FULL_STREAM = 1


def near_full_masks(rng: np.random.Generator, size: int, n: int,
                    max_removed: float = MAX_REMOVED) -> np.ndarray:
    """Masks with k ~ U{1..max(1, ⌊max_removed · n⌋)} features removed, chosen at random.

    Every mask is drawn from one row of ``rng.random((size, n + 1))``, so a draw of
    a + b masks begins with the draw of a masks (the stream does not depend on how it is
    chunked).

    Parameters
    ----------
    rng : Generator
    size : int
        Number of masks.
    n : int
        Number of features.
    max_removed : float in (0, 1]
        Largest share of the features removed.

    Returns
    -------
    (size, n) bool array
    """
    uniforms = rng.random((int(size), int(n) + 1))
    top = max(1, int(np.floor(max_removed * n)))
    removed = 1 + np.minimum((uniforms[:, 0] * top).astype(np.int64), top - 1)
    ranks = np.argsort(np.argsort(uniforms[:, 1:], axis=1), axis=1)
    return ranks >= removed[:, None]


def near_full_design(seed: int, size: int, n: int, exclude: np.ndarray | None = None
                     ) -> np.ndarray:
    """Distinct near-full masks of the stream of ``seed``; a smaller size draws a prefix.

    Parameters
    ----------
    seed : int
        The solver's integer seed (the stream is seeded by (seed, 1)).
    size : int
        Number of distinct masks wanted (fewer when n is so small that fewer exist).
    n : int
        Number of features.
    exclude : (M, n) bool array, optional
        Masks already queried (the uniform ones); those drawn again are left out.

    Returns
    -------
    (K, n) bool array, K <= size
    """
    if int(size) < 1:
        return np.zeros((0, int(n)), dtype=bool)
    rng = np.random.default_rng([int(seed), NEAR_FULL_STREAM])
    masks, _ = draw_distinct(lambda k: near_full_masks(rng, k, n), int(size))
    if exclude is not None and exclude.shape[0]:
        seen = QueriedMasks(n)
        seen.add(exclude)
        masks = masks[~seen.contains(masks)]
    return masks


def mix_masks(uniform: np.ndarray, near: np.ndarray, seed: int) -> np.ndarray:
    """The order in which the uniform and near-full masks stacked together are fitted.

    The candidates of a stack hold out whole folds, or the last quarter of the masks, so
    both kinds must be spread evenly over the rows.

    Parameters
    ----------
    uniform : (U, n) bool array
    near : (K, n) bool array
    seed : int

    Returns
    -------
    order : (U + K,) int array
        A permutation of the rows of ``np.vstack([uniform, near])``.
    """
    return np.random.default_rng([int(seed), NEAR_FULL_STREAM]).permutation(
        uniform.shape[0] + near.shape[0])
