"""Planted sparse functions: value functions whose true expansion is known.

They are the oracle of tests and benchmarks: a solver that recovers the planted expansion
is right, and faithfulness on fresh masks measures how close it came.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from interplay.random_state import check_random_state
from interplay.spectral.interactions import Interactions

__all__ = ["PlantedFunction", "random_hierarchical", "random_sparse_fourier"]


class PlantedFunction:
    """A value function given by a known sparse expansion, optionally with Gaussian noise.

    Parameters
    ----------
    truth : Interactions
        The planted expansion (Fourier or Möbius basis; for q > 2 the q-ary Fourier
        expansion, whose function takes (N, n) int states and may be complex-valued).
    noise_sd : float
        Standard deviation of i.i.d. Gaussian noise added to every query (circular complex
        noise, ``E|noise|² = noise_sd²``, for a complex-valued function).
    random_state : None, int or Generator
        Seed of the noise.

    Attributes
    ----------
    n_calls, n_rows : int
        Calls received and mask rows evaluated.
    """

    def __init__(self, truth: Interactions, *, noise_sd: float = 0.0, random_state: Any = None):
        self.truth = truth
        self.noise_sd = float(noise_sd)
        self._rng = check_random_state(random_state)
        self.n_calls = 0
        self.n_rows = 0

    @property
    def n_features(self) -> int:
        return self.truth.n_features

    @property
    def q(self) -> int:
        """States of each feature (2: boolean masks)."""
        return self.truth.q

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks, dtype=bool if self.q == 2 else None)  # predict checks states
        self.n_calls += 1
        self.n_rows += masks.shape[0]
        return self._with_noise(self.truth.predict(masks))

    def _with_noise(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values)
        if self.noise_sd > 0:
            if np.iscomplexobj(values):
                noise = self._rng.normal(0.0, self.noise_sd / np.sqrt(2), size=(2, *values.shape))
                return values + (noise[0] + 1j * noise[1])
            values = values + self._rng.normal(0.0, self.noise_sd, size=values.shape)
        return values

    def fingerprint(self) -> str:
        """Stable identity of the noiseless function (for caches)."""
        import hashlib

        digest = hashlib.sha256(self.truth.to_json().encode()).hexdigest()[:16]
        return f"planted:{digest}:noise={self.noise_sd}"

    def signal_variance(self) -> float:
        """Variance of f over uniform masks or states (Parseval on the Fourier expansion)."""
        return self.truth.variance()

    @staticmethod
    def noise_sd_for_snr(truth: Interactions, snr_db: float) -> float:
        """Noise standard deviation giving ``snr_db`` = 10·log10(Var f / σ²)."""
        return float(np.sqrt(truth.variance() / 10 ** (snr_db / 10)))


def _check_degrees(n: int, count: int, min_degree: int, max_degree: int, what: str) -> None:
    """Refuse degree ranges and counts for which ``count`` distinct supports cannot exist."""
    if int(n) < 1:
        raise ValueError(f"n must be a positive number of features, got {n}")
    if int(count) < 0:
        raise ValueError(f"{what} must be non-negative, got {count}")
    if not 1 <= int(min_degree) <= int(max_degree) <= int(n):
        raise ValueError(
            f"degrees must satisfy 1 <= min_degree <= max_degree <= n, got "
            f"min_degree={min_degree}, max_degree={max_degree}, n={n}"
        )
    available = sum(math.comb(int(n), d) for d in range(int(min_degree), int(max_degree) + 1))
    if int(count) > available:
        raise ValueError(
            f"{what}={count} distinct supports of size {min_degree}..{max_degree} were asked "
            f"for, but only {available} exist among n={n} features"
        )


def _fit_sizes(n: int, sizes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Move sizes drawn more often than there are subsets of that size to sizes with room.

    Only matters when nearly every subset of some size is asked for (small n); otherwise
    ``sizes`` is returned unchanged (and the random stream is not touched).
    """
    sizes = np.array(sizes, dtype=np.int64)
    capacity = {d: math.comb(n, d) for d in np.unique(sizes).tolist()}
    if all(int(np.sum(sizes == d)) <= c for d, c in capacity.items()):
        return sizes
    low, high = int(sizes.min()), int(sizes.max())
    capacity = {d: math.comb(n, d) for d in range(low, high + 1)}
    for d in range(low, high + 1):
        rows = np.flatnonzero(sizes == d)
        for row in rows[capacity[d] :]:
            room = [e for e in capacity if np.sum(sizes == e) < capacity[e]]
            sizes[row] = rng.choice(room)
    return sizes


def _random_supports(n: int, sizes: np.ndarray, rng: np.random.Generator) -> list[tuple[int, ...]]:
    sizes = _fit_sizes(n, sizes, rng)
    seen: set[tuple[int, ...]] = set()
    out = []
    for d in sizes:
        while True:
            s = tuple(sorted(rng.choice(n, size=int(d), replace=False).tolist()))
            if s not in seen:
                seen.add(s)
                out.append(s)
                break
    return out


def random_sparse_fourier(
    n: int,
    n_terms: int,
    *,
    max_degree: int = 4,
    min_degree: int = 1,
    magnitude: tuple[float, float] = (0.5, 1.5),
    random_state: Any = None,
) -> Interactions:
    """A random sparse Fourier expansion on random supports.

    Degrees are uniform in ``[min_degree, min(max_degree, n)]``, magnitudes uniform in
    ``magnitude`` with random signs; the empty set carries a random offset.

    Parameters
    ----------
    n : int
        Number of features.
    n_terms : int
        Number of distinct non-empty supports (at most the number of subsets of ``range(n)``
        with a size in the degree range; a ``ValueError`` says so otherwise).
    max_degree, min_degree : int
        Range of the support sizes; ``max_degree`` is capped at n.
    magnitude : (float, float)
        Range of the absolute values of the coefficients.
    random_state : None, int or Generator

    Returns
    -------
    Interactions
        Fourier basis, ``n_terms + 1`` terms (the supports and the empty set).
    """
    max_degree = min(int(max_degree), int(n))
    _check_degrees(n, n_terms, min_degree, max_degree, "n_terms")
    if not 0 <= magnitude[0] <= magnitude[1]:
        raise ValueError(
            f"magnitude must be a range (low, high) with 0 <= low <= high, got {magnitude}"
        )
    rng = check_random_state(random_state)
    sizes = rng.integers(min_degree, max_degree + 1, size=n_terms)
    supports = _random_supports(n, sizes, rng)
    coef = rng.uniform(*magnitude, size=n_terms) * rng.choice([-1.0, 1.0], size=n_terms)
    return Interactions(
        supports + [()],
        np.append(coef, rng.normal()),
        n_features=n,
        basis="fourier",
        method="planted",
    )


def random_hierarchical(
    n: int,
    n_top: int,
    *,
    max_degree: int = 4,
    decay: float = 0.6,
    random_state: Any = None,
) -> Interactions:
    """A hierarchical Möbius expansion: every planted interaction comes with all its subsets.

    ``n_top`` random supports of size 1..``max_degree`` are drawn; each of their non-empty
    subsets T gets a Möbius coefficient of magnitude ~ ``decay**(|T|-1)`` with a random sign,
    so low orders carry most of the variance, as in LLM value functions. ``max_degree`` is
    capped at n; the empty set carries a random offset.

    Returns
    -------
    Interactions
        Möbius basis; its support is closed under taking subsets.
    """
    max_degree = min(int(max_degree), int(n))
    _check_degrees(n, n_top, 1, max_degree, "n_top")
    if not decay > 0:
        raise ValueError(f"decay must be positive, got {decay}")
    rng = check_random_state(random_state)
    sizes = rng.integers(1, max_degree + 1, size=n_top)
    tops = _random_supports(n, sizes, rng)
    members: dict[tuple[int, ...], float] = {}
    for top in tops:
        d = len(top)
        for bits in range(1, 2**d):
            t = tuple(top[i] for i in range(d) if bits >> i & 1)
            if t not in members:
                members[t] = decay ** (len(t) - 1) * rng.uniform(0.5, 1.5) * rng.choice([-1, 1])
    subsets = list(members) + [()]
    coef = np.array(list(members.values()) + [rng.normal()])
    return Interactions(subsets, coef, n_features=n, basis="mobius", method="planted")
