"""SPEX: sparse Walsh–Hadamard transform by subsampling, BCH-coded delays and peeling.

See DESIGN §2. All queries of a design are fixed up front and sent as one batch:
C groups × (r + 1) delays × 2^b subsampled masks, where r is the number of parity bits of a
BCH code correcting t = ``max_order`` errors over n message bits.
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from interplay.codes.bch import BCHCode
from interplay.metrics import r2_score
from interplay.solvers.base import BudgetError, Solver, check_random_state
from interplay.spectral.interactions import Interactions
from interplay.spectral.transforms import fwht
from interplay.values.base import CheckedValueFunction

__all__ = ["SPEX", "SPEXDesign", "peel", "subsample_groups"]

_MIN_LOG2_BINS = 3
_DEFAULT_LOG2_BINS = 7


@lru_cache(maxsize=16)
def _code(n: int, t: int) -> BCHCode:
    return BCHCode(n, t)


@dataclass(frozen=True)
class SPEXDesign:
    """The sampling design: sizes and the number of queries it costs.

    ``log2_bins`` holds b_c for each group c; groups may differ by one (a budget between two
    uniform designs buys a larger b for some groups).
    """

    n_features: int
    log2_bins: tuple[int, ...]
    t: int
    n_delays: int  # including the zero delay

    @property
    def n_groups(self) -> int:
        return len(self.log2_bins)

    @property
    def n_queries(self) -> int:
        """Upper bound on queries (duplicate masks are sent once)."""
        return sum(2**b for b in self.log2_bins) * self.n_delays

    @staticmethod
    def minimum_budget(n: int, t: int, n_groups: int = 3) -> int:
        """The smallest budget any design for (n, t) fits in."""
        return n_groups * 2**min(_MIN_LOG2_BINS, n) * (_code(n, t).n_parity + 1)

    @staticmethod
    def for_budget(n: int, t: int, n_groups: int, budget: int) -> tuple[int, ...]:
        """Largest bins per group that fit ``budget``: uniform b, then b+1 for as many
        groups as the rest of the budget pays for."""
        n_delays = _code(n, t).n_parity + 1
        per_bin = n_groups * n_delays
        if budget < per_bin:
            return (0,) * n_groups
        b = min(int(np.floor(np.log2(budget / per_bin))), n, 16)
        sizes = [b] * n_groups
        for c in range(n_groups):
            if b + 1 > min(n, 16):
                break
            trial = sizes.copy()
            trial[c] = b + 1
            if sum(2**x for x in trial) * n_delays <= budget:
                sizes = trial
        return tuple(sorted(sizes, reverse=True))


def _gf2_rank(matrix: np.ndarray) -> int:
    a = matrix.astype(bool).copy()
    rank = 0
    rows, cols = a.shape
    for col in range(cols):
        pivot = np.flatnonzero(a[rank:, col])
        if pivot.size == 0:
            continue
        p = rank + pivot[0]
        a[[rank, p]] = a[[p, rank]]
        below = np.flatnonzero(a[:, col])
        below = below[below != rank]
        a[below] ^= a[rank]
        rank += 1
        if rank == rows:
            break
    return rank


def subsample_groups(
    n: int, log2_bins: tuple[int, ...], rng: np.random.Generator
) -> list[np.ndarray]:
    """Random full-rank hashing matrices M_c ∈ F₂^{b_c×n}, one (b_c, n) bool array a group."""
    out = []
    for b in log2_bins:
        while True:
            m = rng.random((b, n)) < 0.5
            if _gf2_rank(m) == b:
                out.append(m)
                break
    return out


def _bin_index(hashes: np.ndarray, supports: np.ndarray) -> np.ndarray:
    """Bin j = M k of each padded support (−1 pads), for one hashing matrix (b, n)."""
    valid = supports >= 0
    cols = hashes[:, np.where(valid, supports, 0)] & valid[None]  # (b, B, t)
    bits = np.bitwise_xor.reduce(cols, axis=2) if supports.shape[1] else np.zeros(
        (hashes.shape[0], supports.shape[0]), dtype=bool
    )
    return (bits.astype(np.int64) << np.arange(hashes.shape[0])[:, None]).sum(axis=0)


@dataclass
class PeelResult:
    """Supports and coefficients found by peeling, and diagnostics."""

    supports: np.ndarray  # (K, t) int, padded with −1
    coefficients: np.ndarray  # (K,)
    n_iterations: int
    noise_var: float


def peel(
    bins: list[np.ndarray],
    hashes: list[np.ndarray],
    code: BCHCode,
    *,
    chase_depth: int = 3,
    max_iterations: int = 30,
) -> PeelResult:
    """Find singletons in all bins, subtract them everywhere, repeat.

    Parameters
    ----------
    bins : list of (2^b_c, r + 1) float arrays
        U_{c,p}(j) for each group c: the WHT of the group's samples, delay p on the last
        axis (p = 0 is the zero delay).
    hashes : list of (b_c, n) bool arrays
        The groups' hashing matrices.
    code : BCHCode
        The code whose parity bits the delays 1..r observe.
    """
    n_groups = len(bins)
    n_delays = bins[0].shape[1]
    offsets = np.cumsum([0] + [x.shape[0] for x in bins])
    residual = np.concatenate(bins, axis=0)
    group_of = np.repeat(np.arange(n_groups), np.diff(offsets))
    bin_of = np.arange(residual.shape[0]) - offsets[group_of]
    energy = np.mean(residual**2, axis=1)
    floor = 1e-10 * float(energy.max(initial=0.0)) + 1e-300
    tol = 4.0 * np.sqrt(2.0 / n_delays)
    noise_var = np.inf
    found: dict[tuple[int, ...], float] = {}
    iterations = 0
    for iterations in range(1, max_iterations + 1):
        # Noise per bin value: in a zero-ton or singleton bin the spread of |U_p| over the
        # delays is noise only, so its median over bins estimates the noise variance (a
        # zero-ton's |U| is half-normal with variance (1 − 2/π)·σ²). Multitons inflate it
        # while many bins are crowded; re-estimating on the residual as peeling clears bins
        # tightens it (never loosens it).
        spread = np.var(np.abs(residual), axis=1)
        noise_var = min(noise_var, float(np.median(spread)) / (1.0 - 2.0 / np.pi) + floor)
        zero_threshold = noise_var * (1.0 + tol)
        singleton_threshold = noise_var * (1.0 + tol)
        energy = np.mean(residual**2, axis=1)
        active = np.flatnonzero(energy > zero_threshold)
        if active.size == 0:
            break
        obs = residual[active]
        soft = obs[:, 1:] * np.where(obs[:, :1] < 0, -1.0, 1.0)
        decoded, _ = code.chase_decode(soft, depth=chase_depth)
        supports = decoded.support
        ok = decoded.ok.copy()
        for c in range(n_groups):
            rows = group_of[active] == c
            ok[rows] &= _bin_index(hashes[c], supports[rows]) == bin_of[active][rows]
        signs = np.ones_like(obs)
        signs[:, 1:] = 1.0 - 2.0 * code.parity(supports)
        amplitude = np.mean(obs * signs, axis=1)
        resid_energy = energy[active] - amplitude**2
        significant = ok & (amplitude**2 > 4.0 * noise_var)
        accept = significant & (resid_energy <= singleton_threshold)
        if not accept.any():
            # Peeling has stalled on bins that hold several coefficients in every group.
            # Where one coefficient dominates a bin, the signs still spell its code word, so
            # a decoded, hash-consistent k that carries most of the bin's energy is taken;
            # subtracting it exposes the next one. The final least-squares refit corrects
            # the amplitudes.
            accept = significant & (amplitude**2 > 0.5 * energy[active])
        if not accept.any():
            break
        # One estimate per distinct support (a coefficient may be a singleton in several groups).
        acc_sup = supports[accept]
        uniq, inverse = np.unique(acc_sup, axis=0, return_inverse=True)
        inverse = inverse.ravel()
        sums = np.zeros(uniq.shape[0])
        counts = np.zeros(uniq.shape[0])
        np.add.at(sums, inverse, amplitude[accept])
        np.add.at(counts, inverse, 1.0)
        coef = sums / counts
        new_signs = np.ones((uniq.shape[0], n_delays))
        new_signs[:, 1:] = 1.0 - 2.0 * code.parity(uniq)
        for c in range(n_groups):
            rows = offsets[c] + _bin_index(hashes[c], uniq)
            np.subtract.at(residual, rows, coef[:, None] * new_signs)
        for s, v in zip(uniq, coef, strict=True):
            key = tuple(int(i) for i in s if i >= 0)
            found[key] = found.get(key, 0.0) + float(v)
    width = max(code.t, 1)
    sup = np.full((len(found), width), -1, dtype=np.int64)
    for row, key in enumerate(found):
        sup[row, : len(key)] = key
    return PeelResult(sup, np.array(list(found.values()), dtype=np.float64), iterations, noise_var)


def _fourier_design(masks: np.ndarray, supports: np.ndarray) -> np.ndarray:
    """Φ[i, k] = (−1)^⟨m_i, k⟩ for bool masks (N, n) and padded supports (K, t)."""
    n = masks.shape[1]
    member = np.zeros((supports.shape[0], n + 1), dtype=np.float32)
    rows = np.repeat(np.arange(supports.shape[0]), supports.shape[1])
    member[rows, np.where(supports >= 0, supports, n).ravel()] = 1.0
    hits = masks.astype(np.float32) @ member[:, :n].T
    return 1.0 - 2.0 * (np.rint(hits).astype(np.int64) & 1)


class SPEX(Solver):
    """Sparse spectral explainer (SPEX).

    Parameters
    ----------
    budget : int, optional
        Largest number of queries. The design's bins per group 2^b is the largest that fits;
        a budget below :meth:`SPEXDesign.minimum_budget` raises :class:`BudgetError` naming it.
        ``None`` uses b = 7.
    max_order : int
        t: the BCH code corrects t errors, so interactions of up to t features are found.
    random_state : None, int or Generator
    n_groups : int
        C, the number of subsampling groups (3 by default).
    log2_bins : int, optional
        Force b instead of deriving it from the budget.
    chase_depth : int
        Soft decoding flips the ``chase_depth`` least reliable parity bits (2^depth candidates).
    ridge : float
        Ridge penalty of the final least-squares refit (0 = plain least squares).
    """

    name = "spex"

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
        n_groups: int = 3,
        log2_bins: int | None = None,
        chase_depth: int = 3,
        ridge: float = 0.0,
    ) -> None:
        super().__init__(budget=budget, max_order=max_order, random_state=random_state)
        self.n_groups = n_groups
        self.log2_bins = log2_bins
        self.chase_depth = chase_depth
        self.ridge = ridge

    def design(self, n: int) -> SPEXDesign:
        """The design :meth:`fit` would use for n features."""
        self._check_common()
        t = int(min(self.max_order, n))
        if t > 12:
            raise ValueError(f"max_order={self.max_order} exceeds the largest supported t=12")
        if self.n_groups < 1:
            raise ValueError(f"n_groups must be at least 1, got {self.n_groups}")
        n_delays = _code(n, t).n_parity + 1
        if self.log2_bins is not None:
            sizes = np.broadcast_to(np.asarray(self.log2_bins, dtype=int), (self.n_groups,))
            sizes = tuple(int(b) for b in sizes)
        elif self.budget is not None:
            sizes = SPEXDesign.for_budget(n, t, self.n_groups, int(self.budget))
        else:
            sizes = (min(_DEFAULT_LOG2_BINS, n),) * self.n_groups
        minimum = SPEXDesign.minimum_budget(n, t, self.n_groups)
        if min(sizes) < min(_MIN_LOG2_BINS, n) or max(sizes) > n:
            raise BudgetError(
                f"budget {self.budget} is too small for SPEX with n={n}, max_order={t}: "
                f"the smallest design needs {minimum} queries ({self.n_groups} random "
                f"subsamplings into {2 ** min(_MIN_LOG2_BINS, n)} bins, each bin read "
                f"{n_delays} times: once plain and once for each of the {n_delays - 1} parity "
                f"checks that name the features of an interaction of up to {t})"
            )
        design = SPEXDesign(n, sizes, t, n_delays)
        if self.budget is not None and design.n_queries > int(self.budget):
            raise BudgetError(
                f"log2_bins={sizes} needs {design.n_queries} queries, above the budget {self.budget}"
            )
        return design

    def planned_queries(self, n: int) -> int:
        """Queries of :meth:`design` (an upper bound: duplicate masks are sent once)."""
        return self.design(n).n_queries

    def fit_sampled(self, value_function: CheckedValueFunction, n: int) -> Interactions:
        """Sample, transform, decode, peel and refit; see the class docstring."""
        design = self.design(n)
        rng = check_random_state(self.random_state)
        code = _code(n, design.t)
        started = time.perf_counter()
        hashes = subsample_groups(n, design.log2_bins, rng)
        delays = np.zeros((design.n_delays, n), dtype=bool)
        delays[1:] = code.parity_matrix.T
        blocks = []  # per group: (P+1, 2^b, n) masks M_cᵀℓ ⊕ d_p
        for m_c in hashes:
            b = m_c.shape[0]
            ell = ((np.arange(2**b)[:, None] >> np.arange(b)[None, :]) & 1).astype(np.float32)
            base = (np.rint(ell @ m_c.astype(np.float32)).astype(np.int64) & 1).astype(bool)
            blocks.append(base[None, :, :] ^ delays[:, None, :])
        flat = np.concatenate([blk.reshape(-1, n) for blk in blocks])
        packed = np.packbits(flat, axis=1)
        _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
        unique_masks = flat[first]
        design_seconds = time.perf_counter() - started

        queries_before = value_function.n_queries
        query_started = time.perf_counter()
        unique_values = value_function(unique_masks)
        query_seconds = time.perf_counter() - query_started

        started = time.perf_counter()
        sizes = np.cumsum([blk.shape[0] * blk.shape[1] for blk in blocks])[:-1]
        values = np.split(unique_values[inverse.ravel()], sizes)
        bins = [fwht(v.reshape(blk.shape[:2])).T for v, blk in zip(values, blocks, strict=True)]
        peeled = peel(bins, hashes, code, chase_depth=self.chase_depth)
        supports, coef = peeled.supports, peeled.coefficients
        # Always include the empty set, then refit on every distinct sample.
        if not any((s < 0).all() for s in supports):
            supports = np.vstack([supports, np.full((1, supports.shape[1]), -1)])
            coef = np.append(coef, 0.0)
        if supports.shape[0] >= unique_masks.shape[0]:
            keep = np.argsort(-np.abs(coef))[: unique_masks.shape[0] // 2]
            supports, coef = supports[keep], coef[keep]
        phi = _fourier_design(unique_masks, supports)
        if self.ridge > 0:
            gram = phi.T @ phi + self.ridge * np.eye(phi.shape[1])
            coef = np.linalg.solve(gram, phi.T @ unique_values)
        else:
            coef = np.linalg.lstsq(phi, unique_values, rcond=None)[0]
        sample_r2 = r2_score(unique_values, phi @ coef)
        solve_seconds = time.perf_counter() - started + design_seconds
        if sample_r2 < 0.9:
            warnings.warn(
                f"SPEX explains only R²={sample_r2:.2f} of its own {len(unique_values)} samples: "
                "the function is less sparse than this budget can resolve (about "
                f"{sum(2**b for b in design.log2_bins) // 3} coefficients). Raise the budget, "
                "or use method='proxyspex', which degrades gracefully.",
                stacklevel=4,
            )

        subsets = [tuple(int(i) for i in s if i >= 0) for s in supports]
        return Interactions(
            subsets,
            coef,
            n_features=n,
            basis="fourier",
            n_queries=value_function.n_queries - queries_before,
            method=self.name,
            metadata={
                "n_groups": design.n_groups,
                "log2_bins": list(design.log2_bins),
                "t": design.t,
                "n_delays": design.n_delays,
                "bch_length": 2**code.m - 1,
                "peel_iterations": peeled.n_iterations,
                "noise_var": peeled.noise_var,
                "n_found": len(peeled.coefficients),
                "sample_r2": sample_r2,
                "solver_seconds": solve_seconds,
                "query_seconds": query_seconds,
            },
        )
