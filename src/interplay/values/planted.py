"""Planted sparse functions: value functions whose true expansion is known.

They are the oracle of tests and benchmarks: a solver that recovers the planted expansion
is right, and faithfulness on fresh masks measures how close it came.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from interplay.solvers.base import check_random_state
from interplay.spectral.interactions import Interactions

__all__ = ["PlantedFunction", "random_sparse_fourier", "random_hierarchical"]


class PlantedFunction:
    """A value function given by a known sparse expansion, optionally with Gaussian noise.

    Parameters
    ----------
    truth : Interactions
        The planted expansion (Fourier or Möbius basis).
    noise_sd : float
        Standard deviation of i.i.d. Gaussian noise added to every query.
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

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks, dtype=bool)
        self.n_calls += 1
        self.n_rows += masks.shape[0]
        values = self.truth.predict(masks)
        if self.noise_sd > 0:
            values = values + self._rng.normal(0.0, self.noise_sd, size=values.shape)
        return values

    def fingerprint(self) -> str:
        """Stable identity of the noiseless function (for caches)."""
        import hashlib

        digest = hashlib.sha256(self.truth.to_json().encode()).hexdigest()[:16]
        return f"planted:{digest}:noise={self.noise_sd}"

    def signal_variance(self) -> float:
        """Variance of f over uniform masks (Parseval on the Fourier expansion)."""
        fourier = self.truth.to_fourier()
        coef = fourier.coefficients[fourier.degrees > 0]
        return float(np.sum(coef**2))

    @staticmethod
    def noise_sd_for_snr(truth: Interactions, snr_db: float) -> float:
        """Noise standard deviation giving ``snr_db`` = 10·log10(Var f / σ²)."""
        fourier = truth.to_fourier()
        var = float(np.sum(fourier.coefficients[fourier.degrees > 0] ** 2))
        return float(np.sqrt(var / 10 ** (snr_db / 10)))


def _random_supports(n: int, sizes: np.ndarray, rng: np.random.Generator) -> list[tuple[int, ...]]:
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

    Degrees are uniform in ``[min_degree, max_degree]``, magnitudes uniform in ``magnitude``
    with random signs; the empty set carries a random offset.
    """
    rng = check_random_state(random_state)
    sizes = rng.integers(min_degree, max_degree + 1, size=n_terms)
    supports = _random_supports(n, sizes, rng)
    coef = rng.uniform(*magnitude, size=n_terms) * rng.choice([-1.0, 1.0], size=n_terms)
    return Interactions(
        supports + [()], np.append(coef, rng.normal()), n_features=n, basis="fourier",
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
    so low orders carry most of the variance, as in LLM value functions.
    """
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
