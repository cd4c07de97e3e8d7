"""Faithfulness of an explanation on held-out random masks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from interplay.spectral.interactions import Interactions

__all__ = ["heldout_masks", "heldout_r2"]


def heldout_masks(n: int, n_masks: int, random_state: Any = None) -> np.ndarray:
    """(n_masks, n) bool array of uniformly random masks (each feature kept w.p. 1/2)."""
    from interplay.solvers.base import check_random_state

    rng = check_random_state(random_state)
    return rng.random((int(n_masks), int(n))) < 0.5


def heldout_r2(
    result: Interactions,
    value_function: Any,
    *,
    n_masks: int = 64,
    random_state: Any = None,
) -> tuple[float, np.ndarray, np.ndarray]:
    """Faithfulness on fresh random masks.

    Parameters
    ----------
    result : Interactions
        The explanation (Fourier or Möbius basis).
    value_function : callable
        ``masks -> values``, the model being explained.
    n_masks : int
        Held-out masks drawn (uniform, each feature kept with probability 1/2).
    random_state : None, int or Generator
        Seed of the masks (use one the solver did not use).

    Returns
    -------
    r2 : float
    masks : (n_masks, n) bool array
    values : (n_masks,) float array of the model's values
    """
    from interplay.metrics import r2_score

    masks = heldout_masks(result.n_features, n_masks, random_state)
    values = np.asarray(value_function(masks), dtype=np.float64).ravel()
    return r2_score(values, result.predict(masks)), masks, values
