"""Subsampling design over ``Z_q``: full-rank hashing matrices, their lattices, the bin of a
frequency, and the low-order frequencies a refit can add.

Group c of a design is an (n, b_c) matrix ``M_c`` over ``Z_q``. It samples f at the points
``M_c l + d`` for every ``l in Z_q^{b_c}`` (and every delay d), so that the bin transform
(:mod:`.bins`) hashes frequency k into bin ``j = M_c^T k``. Groups may differ in size.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "bin_of",
    "is_full_rank_mod_q",
    "lattice",
    "low_order_frequencies",
    "prime_factors",
    "rank_mod_p",
    "subsample_groups",
]


def prime_factors(q: int) -> list[int]:
    """The distinct primes dividing ``q``, ascending."""
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


def rank_mod_p(matrix: np.ndarray, p: int) -> int:
    """Rank of an integer matrix over GF(p), p prime (Gaussian elimination).

    Parameters
    ----------
    matrix : (rows, cols) int or bool array
    p : int
        A prime (2 gives the rank over GF(2)).
    """
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
    return all(rank_mod_p(matrix, p) == b for p in prime_factors(int(q)))


def subsample_groups(
    n: int, b: Sequence[int], q: int, rng: np.random.Generator, *, max_tries: int = 100
) -> list[np.ndarray]:
    """Random full-rank subsampling matrices, one per group.

    Parameters
    ----------
    n : int
        Number of features.
    b : sequence of int
        ``b_c`` for each group c: group c hashes into ``q**b_c`` bins.
    q : int
        Alphabet size.
    rng : numpy Generator

    Returns
    -------
    list of (n, b_c) int64 arrays with entries in ``0..q-1``, each passing
    :func:`is_full_rank_mod_q`.
    """
    out = []
    for size in b:
        if size > n:
            raise ValueError(f"b={size} bins exponent cannot exceed n={n}")
        for _ in range(max_tries):
            m = rng.integers(0, q, size=(n, int(size)))
            if is_full_rank_mod_q(m, q):
                out.append(m)
                break
        else:  # pragma: no cover - probability ~ q^-(n-b) per try
            raise RuntimeError(f"no full-rank {n}x{size} matrix over Z_{q} in {max_tries} tries")
    return out


def lattice(columns: np.ndarray, q: int) -> np.ndarray:
    """``(M l) mod q`` for every l in ``Z_q^b`` (C order: ``l_1`` most significant).

    Built one axis at a time, ``x(l, a) = x(l) + a M[:, t]``, in uint8 (every sum is below
    ``2 q <= 256``): no (B, b) x (b, n) integer product.

    Parameters
    ----------
    columns : (n, b) or (C, n, b) int array

    Returns
    -------
    (q**b, n) or (C, q**b, n) uint8 array.
    """
    single = columns.ndim == 2
    columns = columns[None] if single else columns
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
    return out[0] if single else out


def bin_of(freq: np.ndarray, group: np.ndarray, q: int) -> np.ndarray:
    """Bin ``j = M^T k`` of each frequency, as the index the bin transform gives it.

    Parameters
    ----------
    freq : (K, n) int array
    group : (n, b) int array
        The group's subsampling matrix M.

    Returns
    -------
    (K,) int64 array in ``0..q**b - 1`` (``j_1`` most significant digit).
    """
    b = group.shape[1]
    # float64 BLAS product: exact while n (q-1)^2 < 2^53
    digits = np.rint(np.asarray(freq, dtype=np.float64) @ group.astype(np.float64))
    digits = digits.astype(np.int64) % q
    return digits @ (q ** np.arange(b - 1, -1, -1, dtype=np.int64))


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
