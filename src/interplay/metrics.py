"""Faithfulness and recovery metrics.

- :func:`faithfulness`: R² of an explanation's predictions on held-out masks — masks the
  solver never queried — drawn uniformly, or with at most a fraction of the features removed.
- :func:`top_removal`: the r features whose removal the explanation says moves the output
  most, and the true change their removal causes.
- :func:`support_recovery` and :func:`nmse`: comparison with a known (planted) expansion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from interplay.r2 import r2_score  # re-exported: metrics is where users look for it
from interplay.random_state import check_random_state
from interplay.solvers.exact import all_states
from interplay.solvers.near_full import removal_path, removal_set
from interplay.solvers.queried_masks import QueriedMasks
from interplay.spectral.interactions import Interactions

__all__ = [
    "Faithfulness",
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
#: Largest n whose 2^n masks are enumerated to draw held-out masks from the exact complement.
ENUMERATE_MAX_FEATURES = 16
#: Rounds of draw-and-reject before giving up on finding more never-queried masks.
_MAX_ROUNDS = 64


def sample_masks(
    n: int,
    n_masks: int,
    *,
    distribution: MaskDistribution = "uniform",
    max_removed: float = 0.1,
    random_state: Any = None,
    q: int = 2,
) -> np.ndarray:
    """Random test masks (or q-ary state vectors).

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
    q : int
        Number of states of each feature: q > 2 draws each state uniformly from 0..q-1
        (``"uniform"`` only).

    Returns
    -------
    (N, n) bool array (int64 states for q > 2)
    """
    if distribution not in MASK_DISTRIBUTIONS:
        raise ValueError(
            f"distribution must be one of {', '.join(MASK_DISTRIBUTIONS)}, got {distribution!r}"
        )
    if int(n) < 1 or int(n_masks) < 1:
        raise ValueError(f"n and n_masks must be positive, got n={n}, n_masks={n_masks}")
    if not 0 < float(max_removed) <= 1:
        raise ValueError(f"max_removed must be in (0, 1], got {max_removed}")
    if int(q) > 2 and distribution != "uniform":
        raise ValueError(f"distribution={distribution!r} removes features from binary masks; "
                         f"q-ary states (q={q}) are drawn uniformly: use 'uniform'")
    rng = check_random_state(random_state)
    if int(q) > 2:
        return rng.integers(0, int(q), size=(n_masks, n), dtype=np.int64)
    if distribution == "uniform":
        return rng.random((n_masks, n)) < 0.5
    top = max(1, int(np.floor(max_removed * n)))
    removed = rng.integers(1, top + 1, size=n_masks)
    ranks = np.argsort(np.argsort(rng.random((n_masks, n)), axis=1), axis=1)
    return ranks >= removed[:, None]


@dataclass(frozen=True)
class Faithfulness:
    """R² of an explanation against the model, and the masks it was measured on.

    Attributes
    ----------
    r2 : float
        1 − Σ(f − f̂)² / Σ(f − mean f)² (see :func:`r2_score`).
    n_masks : int
        Number of masks N behind ``r2``.
    n_in_sample : int or None
        How many of them the solver had queried (0: truly held out). None when the
        explanation carries no record of its queried masks (a result loaded from a file).
    note : str
        The measurement in plain words.
    masks : (N, n) bool array
    values : (N,) float array
        The model's values at ``masks``.
    """

    r2: float
    n_masks: int
    n_in_sample: int | None
    note: str
    masks: np.ndarray = field(repr=False, compare=False)
    values: np.ndarray = field(repr=False, compare=False)

    @property
    def kind(self) -> str:
        """``"held-out"``, ``"in-sample"``, ``"partly in-sample"`` or ``"unchecked"``."""
        if self.n_in_sample is None:
            return "unchecked"
        if self.n_in_sample == 0:
            return "held-out"
        return "in-sample" if self.n_in_sample == self.n_masks else "partly in-sample"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (no masks): r2, n_masks, n_in_sample, kind, note."""
        return {"r2": self.r2, "n_masks": self.n_masks, "n_in_sample": self.n_in_sample,
                "kind": self.kind, "note": self.note}


def _draw_masks(
    n: int,
    n_masks: int,
    queried: QueriedMasks | None,
    distribution: MaskDistribution,
    max_removed: float,
    rng: np.random.Generator,
    q: int = 2,
) -> np.ndarray:
    """Test masks from the chosen distribution, restricted to masks never queried.

    Uniform masks are drawn without replacement from the exact complement when the q^n
    states number at most 2^``ENUMERATE_MAX_FEATURES``; otherwise masks are drawn and the
    queried ones rejected, for at most ``_MAX_ROUNDS`` rounds. Returns (M, n) with 0 <= M <= n_masks
    (M = 0: every mask the distribution reaches was queried).
    """
    if queried is None:
        return sample_masks(n, n_masks, distribution=distribution, max_removed=max_removed,
                            random_state=rng, q=q)
    if distribution == "uniform" and q**n <= 2**ENUMERATE_MAX_FEATURES:
        every = all_states(n, q)
        fresh = every[~queried.contains(every)]
        if fresh.shape[0] > n_masks:
            fresh = fresh[np.sort(rng.choice(fresh.shape[0], n_masks, replace=False))]
        return fresh
    found: list[np.ndarray] = []
    count = 0
    for _ in range(_MAX_ROUNDS):
        draw = sample_masks(n, 2 * max(n_masks - count, 8), distribution=distribution,
                            max_removed=max_removed, random_state=rng, q=q)
        fresh = draw[~queried.contains(draw)]
        found.append(fresh)
        count += fresh.shape[0]
        if count >= n_masks:
            break
    return np.concatenate(found)[:n_masks]


def faithfulness(
    explanation: Interactions,
    value_function: Any,
    *,
    n_masks: int = 1000,
    distribution: MaskDistribution = "uniform",
    max_removed: float = 0.1,
    masks: np.ndarray | None = None,
    values: np.ndarray | None = None,
    queried: QueriedMasks | None = None,
    random_state: Any = None,
) -> Faithfulness:
    """R² of the explanation's predictions against the value function on held-out masks.

    The one faithfulness measurement of the library (CLI, report and benchmarks use it).
    Test masks are never masks the solver queried: they are drawn from the complement of
    ``queried`` (by default the record ``explanation.queried_masks`` that every solver's
    ``fit`` attaches). When no mask is left — the solver queried all 2^n masks — there is no
    held-out set: R² is then measured on the queried masks and labelled in-sample.

    Parameters
    ----------
    explanation : Interactions
        A Fourier or Möbius(-like) expansion (anything with ``predict`` and ``n_features``;
        its ``q``, 2 when absent, says how many states each feature has: q-ary results are
        tested on uniformly drawn states, complex values included).
    value_function : callable or None
        ``f(masks) -> values``; not called when ``values`` are given.
    n_masks : int
        Number of test masks wanted (fewer when fewer masks were never queried).
    distribution, max_removed, random_state
        How to draw test masks (see :func:`sample_masks`); ignored when ``masks`` is given.
    masks : (N, n) bool array (int states for q > 2), optional
        Test masks to use as they are (share them across methods to compare on the same
        points); those the solver queried are counted in ``n_in_sample``.
    values : (N,) float array, optional
        ``value_function(masks)``, when already known.
    queried : QueriedMasks, optional
        The solver's queried masks, when the explanation does not carry them.

    Returns
    -------
    Faithfulness
        ``r2``, the masks, and whether they were held out (``kind``, ``note``).
    """
    n = explanation.n_features
    q = int(getattr(explanation, "q", 2))
    if queried is None:
        queried = getattr(explanation, "queried_masks", None)
    if masks is None:
        if int(n_masks) < 1:
            raise ValueError(f"n_masks must be a positive number of masks, got {n_masks}")
        rng = check_random_state(random_state)
        masks = _draw_masks(n, int(n_masks), queried, distribution, max_removed, rng, q)
        if masks.shape[0] == 0:  # every reachable mask was queried: measure in-sample
            masks = sample_masks(n, int(n_masks), distribution=distribution,
                                 max_removed=max_removed, random_state=rng, q=q)
            if queried is not None and queried.covers_all and q**n <= int(n_masks):
                masks = all_states(n, q)
    masks = np.asarray(masks, dtype=bool if q == 2 else np.int64)
    if masks.ndim != 2 or masks.shape[1] != n:
        raise ValueError(f"masks must have shape (N, {n}), got {masks.shape}")
    if values is None:
        if value_function is None:
            raise ValueError("give a value_function or the values at the masks")
        values = value_function(masks)
    values = np.asarray(values)
    values = values.astype(np.complex128 if np.iscomplexobj(values) else np.float64).ravel()
    if values.shape[0] != masks.shape[0]:
        raise ValueError(f"{values.shape[0]} values for {masks.shape[0]} masks")
    r2 = r2_score(values, explanation.predict(masks))
    in_sample = None if queried is None else int(queried.contains(masks).sum())
    size = masks.shape[0]
    if in_sample is None:
        note = (f"R² {r2:.3f} on {size} random masks; the explanation carries no record of "
                "the masks its solver queried (a result loaded from a file?), so some of "
                "them may be masks it was fitted to")
    elif in_sample == 0:
        note = f"R² {r2:.3f} on {size} held-out masks, none of which the solver queried"
        if size < int(n_masks):
            note += f" (only {size} masks were never queried; {n_masks} were asked for)"
    elif in_sample == size:
        reach = f"all {q**n} masks" if queried.covers_all else "every mask the test draws reach"
        note = (f"no held-out set exists: the solver queried {reach}, so R² {r2:.3f} on "
                f"{size} masks is in-sample (measured on masks it was fitted to)")
    else:
        note = (f"R² {r2:.3f} on {size} masks, {in_sample} of which the solver queried: "
                "partly in-sample")
    return Faithfulness(r2, size, in_sample, note, masks, values)


@dataclass(frozen=True)
class RemovalResult:
    """Outcome of :func:`top_removal`.

    Attributes
    ----------
    features : tuple of int
        The r removed features: in the order chosen (``search="greedy"``), or ascending.
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
    search: Literal["greedy", "best"] = "greedy",
) -> RemovalResult:
    """Remove the r features the explanation says move the output most; measure the truth.

    ``search="greedy"`` (default) adds, at each step, the feature whose removal with those
    already chosen changes the prediction most. ``"best"`` chooses the r features whose
    removal together maximises the predicted change in ``direction``: every choice when
    there are at most 20 000, else the greedy choice improved by exchanging features while
    that raises the predicted change (``interplay.solvers.near_full.removal_set``). Greedy
    can miss the explanation's best set (two features that matter only together are never
    picked first); the best set can be one the explanation overrates, away from the masks
    it was checked on (measured in docs/faithfulness.md: on multi-fact prompts the best set
    moved SmolLM2's output more, on review texts at 1 000 queries the greedy one did). No
    query is spent on the search.

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
    search : {"greedy", "best"}
        How the r features are chosen on the explanation.

    Returns
    -------
    RemovalResult
    """
    n = explanation.n_features
    if not 1 <= int(r) <= n:
        raise ValueError(f"r must be between 1 and n={n}, got {r}")
    if direction not in ("down", "up", "abs"):
        raise ValueError(f"direction must be 'down', 'up' or 'abs', got {direction!r}")
    if search not in ("greedy", "best"):
        raise ValueError(f"search must be 'greedy' or 'best', got {search!r}")
    chosen = (removal_set if search == "best" else removal_path)(explanation, int(r), direction)
    full = np.ones(n, dtype=bool)
    base = float(explanation.predict(full[None, :])[0])
    current = full.copy()
    current[chosen] = False
    predicted = float(explanation.predict(current[None, :])[0]) - base
    truth = np.asarray(value_function(np.stack([full, current])), dtype=np.float64).ravel()
    return RemovalResult(tuple(int(i) for i in chosen), predicted, float(truth[1] - truth[0]))


def _aligned(
    estimate: Interactions, truth: Interactions, include_empty: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Fourier coefficients of both expansions on the union of their supports, (U,) each."""
    if estimate.n_features != truth.n_features:
        raise ValueError(
            f"estimate has {estimate.n_features} features, truth has {truth.n_features}"
        )
    return estimate.to_fourier().align(truth.to_fourier(), include_empty=include_empty)


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
    """Normalised squared error of the Fourier coefficients: Σ|F̂ − F|² / Σ|F|² (any q).

    By Parseval this is also the mean squared error over uniform masks relative to the
    function's energy (its variance, when ``include_empty`` is False).
    """
    est, ref = _aligned(estimate, truth, include_empty)
    err = float(np.sum(np.abs(est - ref) ** 2))
    norm = float(np.sum(np.abs(ref) ** 2))
    if norm == 0.0:
        return 0.0 if err == 0.0 else float(np.inf)
    return err / norm
