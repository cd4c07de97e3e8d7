"""The q-SFT sampling design: which points of ``Z_q^n`` are queried and how they hash into bins.

Full-rank subsampling matrices over ``Z_q`` (:func:`subsample_groups`), the delay blocks
(:func:`delay_matrix`), the q-ary FFT that hashes samples into bins (:func:`qary_bin_transform`),
the hashed lattices ``M_c l`` and the low-order frequencies a refit can add. The algorithm as a
whole is described in :mod:`interplay.solvers.qsft`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.fft

__all__ = [
    "DelayDesign",
    "QsftDesign",
    "delay_matrix",
    "is_full_rank_mod_q",
    "low_order_frequencies",
    "qary_bin_transform",
    "subsample_groups",
]

DelayDesign = Literal["identity", "robust"]


@dataclass(frozen=True)
class QsftDesign:
    """The sampling design of one q-SFT run.

    Attributes
    ----------
    q, n : int
        Alphabet size and number of features.
    b : int
        Each group hashes into ``q**b`` bins.
    n_groups : int
        Number of subsampling groups C.
    delays : {"identity", "robust"}
    n_repeats : int
        Delay blocks R (1 for identity delays).
    max_queries : int
        Upper bound on the distinct queries: ``C * R * (n + 1) * (q**b - 1) + R * (n + 1)``
        (the sample at ``l = 0`` is shared by all groups).
    """

    q: int
    n: int
    b: int
    n_groups: int
    delays: str
    n_repeats: int
    max_queries: int

    @property
    def n_delays(self) -> int:
        return self.n_repeats * (self.n + 1)

    @property
    def n_bins(self) -> int:
        return self.q**self.b


def _prime_factors(q: int) -> list[int]:
    out, p = [], 2
    while p * p <= q:
        if q % p == 0:
            out.append(p)
            while q % p == 0:
                q //= p
        p += 1
    if q > 1:
        out.append(q)
    return out


def _rank_mod_p(matrix: np.ndarray, p: int) -> int:
    """Rank of an integer matrix over GF(p), p prime (Gaussian elimination)."""
    a = np.mod(np.asarray(matrix, dtype=np.int64), p)
    rows, cols = a.shape
    rank = 0
    for col in range(cols):
        if rank == rows:
            break
        pivots = np.flatnonzero(a[rank:, col]) + rank
        if pivots.size == 0:
            continue
        piv = pivots[0]
        a[[rank, piv]] = a[[piv, rank]]
        a[rank] = (a[rank] * pow(int(a[rank, col]), -1, p)) % p
        others = np.flatnonzero(a[:, col])
        others = others[others != rank]
        a[others] = (a[others] - np.outer(a[others, col], a[rank])) % p
        rank += 1
    return rank


def is_full_rank_mod_q(matrix: np.ndarray, q: int) -> bool:
    """Whether ``k -> matrix^T k`` maps ``Z_q^n`` onto ``Z_q^b`` for an (n, b) matrix.

    True exactly when, for every prime p dividing q, the matrix has rank b over GF(p).
    """
    b = matrix.shape[1]
    return all(_rank_mod_p(matrix, p) == b for p in _prime_factors(int(q)))


def subsample_groups(
    n: int, b: int, q: int, n_groups: int, rng: np.random.Generator, *, max_tries: int = 100
) -> np.ndarray:
    """Random full-rank subsampling matrices.

    Returns
    -------
    (C, n, b) int64 array with entries in ``0..q-1``; each ``M_c`` passes
    :func:`is_full_rank_mod_q`.
    """
    if b > n:
        raise ValueError(f"b={b} bins exponent cannot exceed n={n}")
    out = np.zeros((n_groups, n, b), dtype=np.int64)
    for c in range(n_groups):
        for _ in range(max_tries):
            m = rng.integers(0, q, size=(n, b))
            if is_full_rank_mod_q(m, q):
                out[c] = m
                break
        else:  # pragma: no cover - probability ~ q^-(n-b) per try
            raise RuntimeError(f"no full-rank {n}x{b} matrix over Z_{q} in {max_tries} tries")
    return out


def delay_matrix(n: int, q: int, n_repeats: int, rng: np.random.Generator | None) -> np.ndarray:
    """Delays in blocks ``a_r, a_r + e_1, ..., a_r + e_n``.

    ``rng=None`` gives the identity design (one block, ``a_1 = 0``).

    Returns
    -------
    (R * (n + 1), n) int64 array; block r occupies rows ``r*(n+1) .. r*(n+1)+n``.
    """
    if rng is None:
        offsets = np.zeros((1, n), dtype=np.int64)
    else:
        offsets = rng.integers(0, q, size=(n_repeats, n))
    unit = np.vstack([np.zeros((1, n), dtype=np.int64), np.eye(n, dtype=np.int64)])
    return ((offsets[:, None, :] + unit[None, :, :]) % q).reshape(-1, n)


def qary_bin_transform(samples: np.ndarray, q: int, b: int, axis: int = -1) -> np.ndarray:
    """Hash the spectrum into bins: a b-dimensional FFT of size q per axis.

    Parameters
    ----------
    samples : float array with ``q**b`` entries along ``axis``
        ``f(M l + d)`` with l enumerated in C order (``l_1`` most significant digit).
    axis : int
        The axis that enumerates l (the last one by default).

    Returns
    -------
    complex array of the same shape
        ``U(j) = q^-b sum_l f(M l + d) omega^-<j, l>``, j in the same order along ``axis``.
    """
    samples = np.asarray(samples)
    shape = samples.shape
    axis = axis % samples.ndim
    cube = samples.reshape(*shape[:axis], *([q] * b), *shape[axis + 1 :])
    # scipy's pocketfft runs the b axes in one call (numpy's fftn makes one pass per axis and
    # measured 2.3x slower here); norm="forward" applies the q^-b.
    bins = scipy.fft.fftn(cube, axes=tuple(range(axis, axis + b)), norm="forward")
    return bins.reshape(shape)


def _lattice(columns: np.ndarray, q: int) -> np.ndarray:
    """``(M l) mod q`` for every l in ``Z_q^b`` (C order), for each of C (n, b) matrices M.

    Built one axis at a time, ``x(l, a) = x(l) + a M[:, t]``, in uint8 (every sum is below
    ``2 q <= 256``): no (B, b) x (b, n) integer product.

    Returns
    -------
    (C, q**b, n) uint8 array.
    """
    count, n, b = columns.shape
    states = np.arange(q)
    out = np.zeros((count, 1, n), dtype=np.uint8)
    for t in range(b):
        steps = ((states[None, :, None] * columns[:, None, :, t]) % q).astype(np.uint8)
        out = (out[:, :, None, :] + steps[:, None, :, :]).reshape(count, -1, n)
        if q & (q - 1) == 0:
            out &= np.uint8(q - 1)
        else:
            out %= np.uint8(q)
    return out


def low_order_frequencies(n: int, q: int, order: int) -> np.ndarray:
    """Every frequency vector of Hamming weight 1..``order`` (``order`` <= 2).

    Returns
    -------
    (K, n) int64 array, K = n (q-1) [+ C(n, 2) (q-1)^2].
    """
    if order > 2:
        raise ValueError(f"complete_order above 2 is not supported, got {order}")
    values = np.arange(1, q)
    rows = []
    if order >= 1:
        pos, val = np.meshgrid(np.arange(n), values, indexing="ij")
        one = np.zeros((pos.size, n), dtype=np.int64)
        one[np.arange(pos.size), pos.ravel()] = val.ravel()
        rows.append(one)
    if order >= 2 and n >= 2:
        i, j = np.triu_indices(n, k=1)
        a, c = np.meshgrid(values, values, indexing="ij")
        pairs = np.repeat(np.stack([i, j], axis=1), a.size, axis=0)
        vals = np.tile(np.stack([a.ravel(), c.ravel()], axis=1), (i.size, 1))
        two = np.zeros((pairs.shape[0], n), dtype=np.int64)
        rr = np.arange(pairs.shape[0])
        two[rr, pairs[:, 0]] = vals[:, 0]
        two[rr, pairs[:, 1]] = vals[:, 1]
        rows.append(two)
    return np.concatenate(rows) if rows else np.zeros((0, n), dtype=np.int64)
