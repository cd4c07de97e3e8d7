"""Distinct points of a sparse-Fourier design, found without building the (N, n) query matrix.

Rows are hashed to one 64-bit key each (:func:`unique_rows` for a plain matrix; a packed linear
sketch for the design points ``(M_c l + d_p) mod q``, :class:`DesignPoints`), and only the rows
whose keys repeat are compared exactly, so each distinct point is queried once. This is the one
deduplication of the library: every subsampling solver sends each distinct point once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from interplay.sparse_fourier.design import lattice

__all__ = ["DesignPoints", "unique_rows"]

_HASH_SHIFT = np.uint64(29)


def _hash_words(words: np.ndarray, mult: np.ndarray) -> np.ndarray:
    """One 64-bit hash per row of an (N, W) uint64 array."""
    h = words[:, 0] * mult[0]
    for w in range(1, words.shape[1]):
        h = (h ^ (h >> _HASH_SHIFT)) + words[:, w] * mult[w]
    return h


def _shared_rows(
    hashed: np.ndarray, exact: Callable[[np.ndarray], np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose hash occurs more than once, and the representative of each.

    Parameters
    ----------
    hashed : (N,) uint64 array
        One hash per row: equal rows have equal hashes.
    exact : callable, optional
        ``exact(index) -> (len(index), W)`` uint64 words that identify the rows exactly. When
        given, rows that share a hash are grouped by their words instead (so a hash collision
        splits into the right groups); otherwise equal hashes mean equal rows.

    Returns
    -------
    shared : (M,) int array, ascending
        Rows whose hash occurs more than once.
    representative : (M,) int array
        The smallest row of each one's group (a row may be its own representative).

    Only value sorts are needed, no argsort of all N rows: the top 32 bits of every hash
    are sorted (half the bytes of a 64-bit sort) to find the values that repeat, a bitmap of
    those values picks out the few rows that can carry one, and only these are compared on
    the full hash (and their words).
    """
    empty = np.zeros(0, dtype=np.int64)
    halves = np.ascontiguousarray(hashed, dtype=np.uint64).view(np.uint32)
    top = halves[1::2] if sys.byteorder == "little" else halves[0::2]
    ordered = np.sort(top)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    if repeated.size == 0:
        return empty, empty
    # A bitmap of the leading bits (about 64 slots per repeated value) rules out almost every
    # row before the binary search.
    bits = min(24, max(8, int(repeated.size).bit_length() + 6))
    table = np.zeros(1 << bits, dtype=bool)
    table[repeated >> np.uint32(32 - bits)] = True
    lead = np.right_shift(top, np.uint32(32 - bits), dtype=np.intp, casting="unsafe")
    maybe = np.flatnonzero(table[lead])
    slot = np.minimum(np.searchsorted(repeated, top[maybe]), repeated.size - 1)
    maybe = maybe[repeated[slot] == top[maybe]]
    # Among those, the rows whose full 64-bit hash repeats.
    full = hashed[maybe]
    ordered = np.sort(full)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    shared = maybe[np.isin(full, repeated)]
    if shared.size == 0:
        return empty, empty
    if exact is None:
        order = np.argsort(hashed[shared], kind="stable")  # ties keep ascending row order
        grouped = hashed[shared][order]
        starts = np.concatenate([[True], grouped[1:] != grouped[:-1]])
        representative = np.empty(shared.size, dtype=np.int64)
        representative[order] = shared[order][starts][np.cumsum(starts) - 1]
    else:
        key = np.concatenate(
            [hashed[shared][:, None], np.asarray(exact(shared), dtype=np.uint64)], axis=1
        )
        key = np.ascontiguousarray(key).view(np.dtype((np.void, 8 * key.shape[1]))).ravel()
        # return_index gives the first occurrence, i.e. the smallest row of each group
        _, index, group = np.unique(key, return_index=True, return_inverse=True)
        representative = shared[index][group.ravel()]
    return shared, representative


def _group_hashes(
    hashed: np.ndarray, exact: Callable[[np.ndarray], np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group rows by hash (see :func:`_shared_rows` for ``exact``).

    Returns
    -------
    first : (U,) int array, ascending
        The smallest row index of each group.
    inverse : (N,) int array
        ``first[inverse[i]]`` is the representative of row i.
    shared : (M,) int array, ascending
        Rows whose hash occurs more than once (the only rows an exact check must look at).
    """
    n = hashed.shape[0]
    shared, representative = _shared_rows(hashed, exact)
    if shared.size == 0:
        index = np.arange(n)
        return index, index.copy(), shared
    keep = np.ones(n, dtype=bool)
    keep[shared] = shared == representative
    inverse = np.cumsum(keep) - 1
    inverse[shared] = inverse[representative]
    return np.flatnonzero(keep), inverse, shared


def _multipliers(n_words: int) -> np.ndarray:
    rng = np.random.default_rng(0x5EED)
    return rng.integers(1, 2**63, size=n_words, dtype=np.uint64) | np.uint64(1)


def unique_rows(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an (N, n) uint8 array.

    Rows are read as 64-bit words (zero-padded to a multiple of 8 bytes), hashed to one
    64-bit key for a fast 1-D sort, and the words then confirm the grouping exactly (a hash
    collision falls back to an exact sort of the words).

    Returns
    -------
    first : (U,) int array
        Index of one occurrence of each distinct row.
    inverse : (N,) int array
        ``x[first][inverse] == x``.
    """
    x = np.asarray(x, dtype=np.uint8)
    pad = -x.shape[1] % 8
    if pad:
        x = np.concatenate([x, np.zeros((x.shape[0], pad), dtype=np.uint8)], axis=1)
    words = np.ascontiguousarray(x).view(np.uint64)  # (N, W)
    mult = _multipliers(words.shape[1])
    hashed = np.concatenate(
        [_hash_words(words[s : s + 2**14], mult) for s in range(0, words.shape[0], 2**14)]
    )
    first, inverse, _ = _group_hashes(hashed, lambda index: words[index])
    return first, inverse


class _LanePacking:
    """States of ``Z_q^n`` packed into 64-bit words, several coordinates (lanes) per word.

    Packing is injective, so two states are equal exactly when their words are, and addition
    mod q is done lane-wise on the words (SWAR: "SIMD within a register"), a few integer
    operations per word instead of one per coordinate:

    - q a power of two: ``w = log2 q`` bits per lane and
      ``a + b = ((a & L) + (b & L)) ^ ((a ^ b) & H)`` with H the top bit of every lane and L
      the others (no carry crosses a lane).
    - otherwise ``w = bits(q - 1) + 1`` (a spare bit holds the carry): ``s = a + b`` lane-wise,
      then q is subtracted from the lanes where ``s + 2^(w-1) - q`` has its top bit set
      (``s >= q``).
    """

    def __init__(self, q: int, n: int) -> None:
        self.q, self.n = q, n
        self.pow2 = q & (q - 1) == 0
        self.w = (q - 1).bit_length() + (0 if self.pow2 else 1)
        self.per_word = 64 // self.w
        self.n_words = -(-n // self.per_word)
        lane = np.arange(self.per_word, dtype=np.uint64) * np.uint64(self.w)
        self.shifts = lane
        one = int(np.bitwise_or.reduce(np.uint64(1) << lane))
        self.high = np.uint64(one << (self.w - 1))
        self.low = np.uint64((one * ((1 << self.w) - 1)) ^ int(self.high))
        # (unused for powers of two, where it would be negative)
        self.offset = np.uint64(0 if self.pow2 else one * ((1 << (self.w - 1)) - q))
        self.top_shift = np.uint64(self.w - 1)
        self.q64 = np.uint64(q)

    def pack(self, x: np.ndarray) -> np.ndarray:
        """(..., n) ints in ``0..q-1`` -> (..., n_words) uint64."""
        lead = x.shape[:-1]
        wide = np.zeros((*lead, self.n_words * self.per_word), dtype=np.uint64)
        wide[..., : self.n] = x
        wide = wide.reshape(*lead, self.n_words, self.per_word) << self.shifts
        return np.bitwise_or.reduce(wide, axis=-1)

    def add(self, a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Lane-wise ``(a + b) mod q`` of packed words (broadcasting; ``out`` optional)."""
        if self.pow2:
            # (a & H) ^ (b & H) == (a ^ b) & H: the high parts are computed on the inputs
            # (small when broadcasting) and the full-size work is three in-place passes.
            out = np.add(a & self.low, b & self.low, out=out)
            out ^= a & self.high
            out ^= b & self.high
            return out
        out = np.add(a, b, out=out)
        carry = out + self.offset
        carry &= self.high
        carry >>= self.top_shift
        carry *= self.q64
        out -= carry
        return out


class DesignPoints:
    """The query points ``(M_c l + d_p) mod q`` in (c, p, l) order, computed on demand.

    The full (N, n) matrix is never stored: rows are rebuilt from the hashed lattices
    ``M_c l`` (:func:`~interplay.sparse_fourier.design.lattice`) and the delays (P, n) batch by
    batch. Group c contributes ``P * q**b_c`` rows, delay-major; groups may differ in size.

    Distinct points are found on one 64-bit key per point, a linear sketch: ``R x mod q``
    for a fixed random (m, n) matrix R over Z_q, packed in m lanes of one word
    (:class:`_LanePacking`). Since ``R (M_c l + d_p) = (R M_c) l + R d_p``, the key of every
    point is one lane-wise addition of a lattice key and a delay key; no (N, n) matrix is
    built. Equal points have equal keys; points whose keys agree are then compared exactly.

    Parameters
    ----------
    groups : sequence of (n, b_c) int arrays, or a (C, n, b) array
    delays : (P, n) int array
    q : int
    """

    def __init__(self, groups: Sequence[np.ndarray], delays: np.ndarray, q: int) -> None:
        groups = [np.asarray(g, dtype=np.int64) for g in groups]
        self.q = q
        self.n = delays.shape[1]
        self.p = delays.shape[0]
        self.sizes = np.array([q ** g.shape[1] for g in groups], dtype=np.int64)  # (C,)
        self.lattice_start = np.concatenate([[0], np.cumsum(self.sizes)])  # (C + 1,)
        self.row_start = self.p * self.lattice_start  # first row of each group
        self.lattice = np.concatenate([lattice(g, q) for g in groups])  # (sum B_c, n)
        self.delays = delays.astype(np.uint8)
        self.n_rows = int(self.row_start[-1])
        self.packing = _LanePacking(q, self.n)
        # The sketch: m = one word of lanes; float64 products are exact (< 2^53).
        lanes = _LanePacking(q, 1).per_word
        self.sketch = _LanePacking(q, lanes)
        sketch = np.random.default_rng(0x5EED).integers(0, q, size=(lanes, self.n))
        self.lattice_keys = np.concatenate(
            [self.sketch.pack(lattice((sketch @ g) % q, q))[..., 0] for g in groups]
        )  # (sum B_c,)
        delay_sketch = np.rint(delays.astype(np.float64) @ sketch.T.astype(np.float64))
        delay_sketch = delay_sketch.astype(np.int64) % q  # (P, m)
        self.delay_keys = self.sketch.pack(delay_sketch)[..., 0]  # (P,)

    def _reduce(self, x: np.ndarray) -> np.ndarray:
        if self.q & (self.q - 1) == 0:
            x &= x.dtype.type(self.q - 1)
        else:
            x %= x.dtype.type(self.q)
        return x

    def _split(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat design indices -> (lattice row, delay p)."""
        if (self.sizes == self.sizes[0]).all():  # groups of one size: no search
            size = int(self.sizes[0])
            c, rest = np.divmod(index, self.p * size)
            p, l = np.divmod(rest, size)
            return c * size + l, p
        c = np.searchsorted(self.row_start, index, side="right") - 1
        p, l = np.divmod(index - self.row_start[c], self.sizes[c])
        return self.lattice_start[c] + l, p

    def rows(self, index: np.ndarray, dtype: Any = np.uint8) -> np.ndarray:
        """Points at flat indices ``index`` as a (len(index), n) array."""
        lat, p = self._split(index)
        out = self.lattice.take(lat, axis=0)
        out += self.delays.take(p, axis=0)
        out = self._reduce(out)
        if dtype is bool or dtype is np.bool_:
            return out.view(np.bool_) if self.q == 2 else out.astype(np.bool_)
        return out.astype(dtype, copy=False)

    def words(self, index: np.ndarray) -> np.ndarray:
        """Points at flat indices ``index``, packed exactly: (len(index), W) uint64."""
        return self.packing.pack(self.rows(index))

    def keys(self) -> np.ndarray:
        """(N,) uint64 sketch keys of every point, mixed by an odd multiplier."""
        keys = np.empty(self.n_rows, dtype=np.uint64)
        for c in range(self.sizes.size):
            lat = self.lattice_keys[self.lattice_start[c] : self.lattice_start[c + 1]]
            out = keys[self.row_start[c] : self.row_start[c + 1]].reshape(self.p, -1)
            self.sketch.add(lat[None, :], self.delay_keys[:, None], out=out)
        keys *= _multipliers(1)[0]  # a bijection that spreads every lane into the top bits
        return keys

    def distinct(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The distinct points without an (N,) inverse map.

        Returns
        -------
        first : (U,) int array, ascending
            The smallest index of each distinct point.
        shared, representative : (M,) int arrays
            The points that occur more than once and the smallest index of each one's point;
            every other index is its own representative.
        """
        shared, representative = _shared_rows(self.keys(), self.words)
        keep = np.ones(self.n_rows, dtype=bool)
        keep[shared] = shared == representative
        return np.flatnonzero(keep), shared, representative

    def unique(self) -> tuple[np.ndarray, np.ndarray]:
        """first (U,), inverse (N,): distinct points, as :func:`unique_rows`."""
        first, inverse, _ = _group_hashes(self.keys(), self.words)
        return first, inverse
