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

from itertools import combinations
from typing import Any

import numpy as np

from interplay.solvers.queried_masks import QueriedMasks
from interplay.solvers.regression import draw_distinct

__all__ = ["MAX_REMOVED", "mix_masks", "near_full_design", "near_full_masks", "path_design",
           "removal_path", "removal_set"]

#: Largest share of the features a near-full mask removes.
MAX_REMOVED = 0.1
#: Near-full masks remove up to this many features when that is more than the share above
#: (and at most a quarter of them): removal questions ask about r = 1 to 8 features and
#: more, and ⌊n / 10⌋ is only 7 for a 75-word review.
MIN_TOP_REMOVED = 16
#: Second word of the near-full stream's seed (the first is the solver's integer seed), so
#: that it never coincides with the uniform stream drawn from the seed alone.
NEAR_FULL_STREAM = 1
#: Second word of the seed of the masks around a removal path.
PATH_STREAM = 2
#: :func:`removal_set` tries every choice of r features when there are at most this many.
EXHAUSTIVE_REMOVALS = 20_000
#: Most passes of :func:`removal_set`'s exchange search (each tries every swap of a chosen
#: feature for another).
MAX_SWAP_PASSES = 20


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
    top = max(1, int(np.floor(max_removed * n)), min(MIN_TOP_REMOVED, int(n) // 4))
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
        Masks already queried (the uniform ones); those drawn again are replaced by the
        next ones of the stream.

    Returns
    -------
    (K, n) bool array, K <= size
    """
    rng = np.random.default_rng([int(seed), NEAR_FULL_STREAM])
    return _distinct(lambda k: near_full_masks(rng, k, n), size, n, exclude)


def _distinct(draw: Any, size: int, n: int, exclude: np.ndarray | None) -> np.ndarray:
    """The first ``size`` distinct masks of ``draw`` not among ``exclude`` (fewer only when
    fewer exist); a smaller size gives a prefix."""
    if int(size) < 1:
        return np.zeros((0, int(n)), dtype=bool)
    if exclude is None or not exclude.shape[0]:
        return draw_distinct(draw, int(size))[0]
    masks, _ = draw_distinct(draw, int(size) + exclude.shape[0])
    seen = QueriedMasks(n)
    seen.add(exclude)
    return masks[~seen.contains(masks)][:int(size)]


def _removal_scores(expansion: Any, kept: np.ndarray, base: float,
                    direction: str) -> np.ndarray:
    """(M,) predicted change from the full input (``base``) to each row of ``kept`` ((M, n)
    bool), scored in ``direction``."""
    change = expansion.predict(kept) - base
    return {"abs": np.abs(change), "down": -change, "up": change}[direction]


def removal_path(expansion: Any, length: int, direction: str = "abs") -> np.ndarray:
    """The features an expansion says move its output most when removed, greedily.

    Step j removes, with the j − 1 already chosen, the feature whose removal changes the
    predicted output most in ``direction`` (``interplay.metrics.top_removal`` asks this of
    an explanation). Every step evaluates the expansion on all remaining candidates at once.

    Parameters
    ----------
    expansion : Interactions
    length : int
        Number of features chosen, at most n.
    direction : {"abs", "down", "up"}
        Maximise the absolute change (default), the decrease or the increase.

    Returns
    -------
    (length,) int array
        The features in the order chosen.
    """
    n = int(expansion.n_features)
    full = np.ones(n, dtype=bool)
    base = float(expansion.predict(full[None, :])[0])
    current = full.copy()
    eye = ~np.eye(n, dtype=bool)
    chosen: list[int] = []
    for _ in range(min(int(length), n)):
        candidates = np.flatnonzero(current)
        score = _removal_scores(expansion, current[None, :] & eye[candidates], base, direction)
        pick = int(candidates[int(np.argmax(score))])
        chosen.append(pick)
        current[pick] = False
    return np.array(chosen, dtype=np.int64)


def removal_set(expansion: Any, size: int, direction: str = "abs") -> np.ndarray:
    """The ``size`` features whose removal together changes the expansion's prediction most.

    Every choice is tried when there are at most :data:`EXHAUSTIVE_REMOVALS`; otherwise the
    greedy :func:`removal_path` is improved by exchanges: each pass tries every swap of a
    chosen feature for an unchosen one and makes the best, while it raises the predicted
    change (at most :data:`MAX_SWAP_PASSES` passes). With interactions greedy removal can
    miss the best set (two features that matter only together are never picked first), and
    so can it for the absolute change of a first-order expansion whose weights have mixed
    signs (β = 5, −4, −4, r = 2: greedy removes the first and another, change −1; the best
    set is the last two, +8); for the decrease or increase of a first-order expansion both
    give the same set.

    Parameters
    ----------
    expansion : Interactions
    size : int
        Number of features removed, 1 <= size <= n.
    direction : {"abs", "down", "up"}
        Maximise the absolute change (default), the decrease or the increase.

    Returns
    -------
    (size,) int array
        The features, ascending.
    """
    from math import comb

    n = int(expansion.n_features)
    size = int(size)
    base = float(expansion.predict(np.ones((1, n), dtype=bool))[0])
    if comb(n, size) <= EXHAUSTIVE_REMOVALS:
        chosen = np.array(list(combinations(range(n), size)), dtype=np.int64)
        kept = np.ones((len(chosen), n), dtype=bool)
        kept[np.arange(len(chosen))[:, None], chosen] = False
        return chosen[int(np.argmax(_removal_scores(expansion, kept, base, direction)))]
    current = np.ones(n, dtype=bool)  # kept features
    current[removal_path(expansion, size, direction)] = False
    score = float(_removal_scores(expansion, current[None, :], base, direction)[0])
    for _ in range(MAX_SWAP_PASSES):
        kept, removed = np.flatnonzero(current), np.flatnonzero(~current)
        if not kept.size:
            break
        swaps = np.repeat(current[None, :], removed.size * kept.size, axis=0)
        rows = np.arange(swaps.shape[0])
        swaps[rows, np.repeat(removed, kept.size)] = True  # put one removed feature back
        swaps[rows, np.tile(kept, removed.size)] = False  # and remove a kept one instead
        scores = _removal_scores(expansion, swaps, base, direction)
        best = int(np.argmax(scores))
        if scores[best] <= score + 1e-12 * max(1.0, abs(score)):
            break
        current, score = swaps[best], float(scores[best])
    return np.flatnonzero(~current)


def path_design(seed: int, size: int, n: int, path: np.ndarray,
                exclude: np.ndarray | None = None, round_index: int = 0) -> np.ndarray:
    """Distinct masks that each remove some of the features of ``path``, and no other.

    The first masks remove the nested prefixes ``path[:1]``, ``path[:2]``, … (the inputs
    greedy removal along the path asks about); the others remove k ~ U{1..len(path)} of
    its features chosen at random (a surrogate fitted to these knows what removing any few
    of its own candidates does together).

    Parameters
    ----------
    seed : int
        The solver's integer seed (the stream is seeded by (seed, 2, round_index)).
    size : int
        Number of distinct masks wanted (fewer when the path is so short that fewer exist).
    n : int
        Number of features.
    path : (L,) int array
        Distinct features, L >= 1.
    exclude : (M, n) bool array, optional
        Masks already queried; those drawn again are replaced by the next ones.
    round_index : int
        Which round of masks around a path this is: each round has a stream of its own.

    Returns
    -------
    (K, n) bool array, K <= size
    """
    path = np.asarray(path, dtype=np.int64)
    rng = np.random.default_rng([int(seed), PATH_STREAM, int(round_index)])
    prefixes = np.ones((path.size, int(n)), dtype=bool)
    prefixes[:, path] = np.arange(path.size)[None, :] > np.arange(path.size)[:, None]
    pending = [prefixes]

    def draw(k: int) -> np.ndarray:
        masks = np.ones((k, int(n)), dtype=bool)
        masks[:, path] = near_full_masks(rng, k, path.size, max_removed=1.0)
        # the prefixes lead the first draw (a larger size then still draws a longer prefix)
        return np.vstack([pending.pop(), masks]) if pending else masks

    return _distinct(draw, size, n, exclude)


def mix_masks(uniform: np.ndarray, near: np.ndarray, seed: int) -> np.ndarray:
    """The order in which the uniform and near-full masks stacked together are fitted.

    The candidates of a stack hold out whole folds, or the last quarter of the masks, so
    both kinds must be spread over the rows; each kind keeps its own order, so every prefix
    of the rows holds a prefix of the uniform masks (on which ProxySPEX's own pipeline
    can run).

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
    total = uniform.shape[0] + near.shape[0]
    rng = np.random.default_rng([int(seed), NEAR_FULL_STREAM])
    is_near = np.zeros(total, dtype=bool)
    is_near[rng.choice(total, near.shape[0], replace=False)] = True
    order = np.empty(total, dtype=np.int64)
    order[~is_near] = np.arange(uniform.shape[0])
    order[is_near] = uniform.shape[0] + np.arange(near.shape[0])
    return order
