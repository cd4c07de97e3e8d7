"""q-SFT: the sparse Fourier transform of a function of n features with q states (DESIGN §4).

``f(x) = sum_k F(k) omega^<k, x>`` on ``Z_q^n`` with ``omega = exp(2 pi i / q)``. The solver
queries f on a fixed design, hashes the spectrum into bins with a q-ary FFT, finds the bins that
hold one coefficient (singletons), reads off their frequency vectors from the phases the delays
put on them, peels them from every other bin, and refits the recovered support by least squares.

Design (all queries fixed before any decoding, so they are deduplicated before any is sent):

- C subsampling groups ``M_c in Z_q^{n x b}``, random and full rank (the map ``k -> M_c^T k`` is
  onto ``Z_q^b``: for every prime p dividing q, ``M_c mod p`` has rank b over GF(p)).
- Delays in R blocks. Block r is ``a_r, a_r + e_1, ..., a_r + e_n``: the identity design is
  one block with ``a_1 = 0`` (``n + 1`` delays, noiseless functions); the robust design draws R
  random offsets ``a_r`` (noisy functions: each ``k_i`` is read R times).
- Samples ``f(M_c l + d_p)`` for every ``l in Z_q^b``; a b-dimensional FFT of size q per axis
  gives ``U_{c,p}(j) = sum_{k : M_c^T k = j} F(k) omega^<d_p, k>`` for the ``q^b`` bins j.

Decoding (vectorised over every bin of every group at once):

- Zero-ton: the mean energy of the bin over the delays is at the noise floor.
- Otherwise read k: ``k_i`` is the phase of ``sum_r U(a_r + e_i) conj(U(a_r))`` (in units of
  ``2 pi / q``), then refined by a maximum-likelihood read of each ``k_i`` against the estimated
  coefficient ``F^ = mean_p U_p omega^-<d_p, k>``.
- Singleton when ``M_c^T k = j``, ``|k| <= max_order``, and the residual energy
  ``mean_p |U_p - F^ omega^<d_p, k>|^2`` is at the noise floor. The noise level per bin is
  estimated from the quiet bins (or given as ``noise_sd``), then re-estimated from the residual
  after peeling.
- Peeling: each singleton (and, f being real, its conjugate ``-k`` with ``conj(F^)``) is
  subtracted from its bin in every group; repeat until no new singleton appears.
- Refit: least squares of the recovered support on every sample. The FFT is unitary per
  (group, delay) block, so this is solved in the bin domain, where each coefficient touches
  one bin per block (a sparse system), and the conjugate symmetry is imposed at the end.

For q = 2 this is SPEX with identity delays, and the result is a binary
:class:`~interplay.Interactions`; for q > 2 it is a
:class:`~interplay.spectral.qary.QaryInteractions`.
"""

from __future__ import annotations

import logging
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import scipy.fft

from interplay.solvers.base import BudgetError, Solver, check_random_state
from interplay.spectral.interactions import Interactions
from interplay.spectral.qary import QaryInteractions, canonical_spectrum, frequency_groups
from interplay.values.base import CheckedValueFunction, as_value_function

__all__ = [
    "QSFT",
    "QsftDesign",
    "delay_matrix",
    "is_full_rank_mod_q",
    "qary_bin_transform",
    "subsample_groups",
    "unique_rows",
]

logger = logging.getLogger(__name__)

DelayDesign = Literal["identity", "robust"]

#: Largest number of bins per group a default design uses.
_MAX_BINS = 2**16
#: Most rows sent to the value function per call.
_QUERY_CHUNK = 2**16
#: Most bytes of int64 states sent to the value function per call. Batches of a few MiB stay
#: in cache while they are built and checked, and their memory is recycled from call to call;
#: 2**16 rows of n = 100 (52 MB) came back from the kernel as fresh pages every call and
#: cost 4x more to build.
_QUERY_BYTES = 2**22


# ----------------------------------------------------------------------------- design


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


def _all_vectors(q: int, b: int) -> np.ndarray:
    """(q**b, b) all vectors of Z_q^b in C order."""
    idx = np.arange(q**b)
    powers = q ** np.arange(b - 1, -1, -1)
    return (idx[:, None] // powers[None, :]) % q


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


class _DesignPoints:
    """The query points ``(M_c l + d_p) mod q`` in (c, p, l) order, computed on demand.

    The full (C * P * q^b, n) matrix is never stored: rows are rebuilt from the hashed
    lattice ``M_c l`` (C, q^b, n) and the delays (P, n) batch by batch.

    Distinct points are found on one 64-bit key per point, a linear sketch: ``R x mod q``
    for a fixed random (m, n) matrix R over Z_q, packed in m lanes of one word
    (:class:`_LanePacking`). Since ``R (M_c l + d_p) = (R M_c) l + R d_p``, the key of every
    point is one lane-wise addition of a lattice key and a delay key; no (N, n) matrix is
    built. Equal points have equal keys; points whose keys agree are then compared exactly.
    """

    def __init__(self, groups: np.ndarray, delays: np.ndarray, q: int, b: int) -> None:
        self.q = q
        self.c, self.n, _ = groups.shape
        self.p = delays.shape[0]
        self.n_bins = q**b
        self.lattice = _lattice(groups, q).reshape(self.c * self.n_bins, self.n)  # c * B + l
        self.delays = delays.astype(np.uint8)
        self.n_rows = self.c * self.p * self.n_bins
        self.packing = _LanePacking(q, self.n)
        # The sketch: m = one word of lanes; float64 products are exact (< 2^53).
        lanes = _LanePacking(q, 1).per_word
        self.sketch = _LanePacking(q, lanes)
        sketch = np.random.default_rng(0x5EED).integers(0, q, size=(lanes, self.n))
        group_sketch = np.einsum("mn,cnb->cmb", sketch, groups) % q  # (C, m, b): R M_c
        lattice_sketch = _lattice(group_sketch, q)  # (C, B, m)
        delay_sketch = np.rint(delays.astype(np.float64) @ sketch.T.astype(np.float64))
        delay_sketch = delay_sketch.astype(np.int64) % q  # (P, m)
        self.lattice_keys = self.sketch.pack(lattice_sketch)[..., 0]  # (C, B)
        self.delay_keys = self.sketch.pack(delay_sketch)[..., 0]  # (P,)

    def _reduce(self, x: np.ndarray) -> np.ndarray:
        if self.q & (self.q - 1) == 0:
            x &= x.dtype.type(self.q - 1)
        else:
            x %= x.dtype.type(self.q)
        return x

    def _split(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Flat design indices -> (lattice row ``c * B + l``, delay p)."""
        per_group = self.p * self.n_bins
        c, rest = np.divmod(index, per_group)
        p, l = np.divmod(rest, self.n_bins)
        return c * self.n_bins + l, p

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
        keys = np.empty((self.c, self.p, self.n_bins), dtype=np.uint64)
        for c in range(self.c):
            self.sketch.add(self.lattice_keys[c][None, :], self.delay_keys[:, None], out=keys[c])
        keys = keys.reshape(-1)
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


# ----------------------------------------------------------------------------- solver


class QSFT(Solver):
    """Sparse Fourier transform of a q-ary function (q-SFT).

    Parameters
    ----------
    budget : int, optional
        Largest number of distinct queries. With a budget the design uses the largest number
        of bins that fits; without one it is sized for ``sparsity`` terms and the planned
        count is logged (see :meth:`plan`).
    max_order : int
        Largest Hamming weight of a frequency vector accepted as a singleton.
    random_state : None, int or Generator
        Seed of the subsampling matrices and delays.
    q : int
        Number of states of each feature (2 = binary masks).
    n_groups : int
        Number of subsampling groups C.
    b : int, optional
        Bins per group are ``q**b``; overrides the choice from ``sparsity``/``budget``.
    sparsity : int
        Number of real interactions (conjugate pairs) the default design is sized for: the
        smallest b with ``q**b >= 4 * sparsity`` (at most half a coefficient per bin; real
        functions have two conjugate coefficients per interaction), ``2 * sparsity`` for q = 2.
    delays : {"identity", "robust"}
        Identity delays for noiseless functions; robust random delays for noisy ones.
    n_repeats : int, optional
        Delay blocks R of the robust design. None: ``max(3, ceil(log2(n + 1)) - 2)`` (3 up
        to n = 31, 5 at n = 100): each ``k_i`` is read R times, and the chance that one of the
        n reads of a singleton is wrong must stay small as n grows.
    noise_sd : float, optional
        Known noise standard deviation of one query; estimated from the bins when None.
    refit : bool
        Refit the recovered support (and the mean, k = 0, always) by least squares on every
        sample.
    complete_order : int
        Before the refit, add every frequency vector of Hamming weight <= ``complete_order``
        to the recovered support (0: none). For functions that are not exactly sparse (RNA
        folding energies), the low-order terms hidden in crowded bins are then still
        estimated; each bin of each group and delay gives one equation, so the refit stays
        determined while ``C * (n+1) * q**b`` exceeds the number of terms.
    max_iter : int
        Largest number of peeling rounds.

    Notes
    -----
    ``fit`` returns a binary :class:`~interplay.Interactions` for q = 2 and a
    :class:`~interplay.spectral.qary.QaryInteractions` for q > 2. Its ``metadata`` holds the
    design, the estimated noise level, peeling statistics and timings (``solver_seconds``
    excludes the time spent inside the value function).
    """

    name = "qsft"

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
        q: int = 2,
        n_groups: int = 3,
        b: int | None = None,
        sparsity: int = 50,
        delays: DelayDesign = "identity",
        n_repeats: int | None = None,
        noise_sd: float | None = None,
        refit: bool = True,
        complete_order: int = 0,
        max_iter: int = 100,
    ) -> None:
        super().__init__(budget=budget, max_order=max_order, random_state=random_state)
        self.q = q
        self.n_groups = n_groups
        self.b = b
        self.sparsity = sparsity
        self.delays = delays
        self.n_repeats = n_repeats
        self.noise_sd = noise_sd
        self.refit = refit
        self.complete_order = complete_order
        self.max_iter = max_iter

    # ------------------------------------------------------------------ checks
    def _check_params(self) -> None:
        self._check_common()
        if int(self.q) != self.q or int(self.q) < 2:
            raise ValueError(f"q must be an integer >= 2, got {self.q!r}")
        if int(self.q) > 128:
            raise ValueError(f"q-SFT supports q <= 128 states, got q={self.q}")
        if int(self.n_groups) < 1:
            raise ValueError(f"n_groups must be at least 1, got {self.n_groups}")
        if self.b is not None and int(self.b) < 1:
            raise ValueError(f"b must be at least 1, got {self.b}")
        if int(self.sparsity) < 1:
            raise ValueError(f"sparsity must be at least 1, got {self.sparsity}")
        if self.delays not in ("identity", "robust"):
            raise ValueError(f"delays must be 'identity' or 'robust', got {self.delays!r}")
        if self.n_repeats is not None and int(self.n_repeats) < 1:
            raise ValueError(f"n_repeats must be at least 1, got {self.n_repeats}")
        if self.noise_sd is not None and not float(self.noise_sd) >= 0:
            raise ValueError(f"noise_sd must be non-negative, got {self.noise_sd}")
        if int(self.complete_order) < 0:
            raise ValueError(f"complete_order must be >= 0, got {self.complete_order}")
        if int(self.max_iter) < 1:
            raise ValueError(f"max_iter must be at least 1, got {self.max_iter}")

    def plan(self, n: int) -> QsftDesign:
        """The design ``fit`` will use for ``n`` features (nothing is queried).

        Raises
        ------
        BudgetError
            When even one bin exponent (``b = 1``) costs more than the budget.
        """
        self._check_params()
        n, q, c = int(n), int(self.q), int(self.n_groups)
        if self.delays == "identity":
            repeats = 1
        elif self.n_repeats is None:
            repeats = max(3, math.ceil(math.log2(n + 1)) - 2)
        else:
            repeats = int(self.n_repeats)
        n_delays = repeats * (n + 1)

        def cost(b: int) -> int:
            return c * n_delays * (q**b - 1) + n_delays

        b_cap = max(1, min(n, math.floor(math.log(_MAX_BINS, q) + 1e-9)))
        if self.b is not None:
            b = int(self.b)
            if b > n:
                raise ValueError(f"b={b} cannot exceed n={n}")
        elif self.budget is None:
            # Real functions have 2 coefficients per interaction; keep the load of each
            # group at or below 1/2 coefficient per bin, where 3-group peeling succeeds with
            # high probability even at small sizes (measured: load 0.6 fails ~1 run in 6).
            # (For q = 2, k = -k: one real coefficient per interaction.)
            target = (2 if q == 2 else 4) * int(self.sparsity)
            b = next((b for b in range(1, b_cap + 1) if q**b >= target), b_cap)
        else:
            fits = [b for b in range(1, b_cap + 1) if cost(b) <= int(self.budget)]
            if not fits:
                raise BudgetError(
                    f"q-SFT with q={q}, n={n}, {c} groups and {self.delays} delays needs at "
                    f"least {cost(1)} queries (b=1); the budget is {self.budget}"
                )
            b = fits[-1]
        if self.budget is not None and cost(b) > int(self.budget):
            raise BudgetError(
                f"the q-SFT design b={b} needs up to {cost(b)} queries; the budget is {self.budget}"
            )
        return QsftDesign(q, n, b, c, self.delays, repeats, cost(b))

    # --------------------------------------------------------------------- fit
    def fit(self, value_function: CheckedValueFunction, n: int) -> Interactions | QaryInteractions:
        """Query ``value_function`` on the q-SFT design and return the sparse spectrum.

        Parameters
        ----------
        value_function : CheckedValueFunction or callable
            Takes (N, n) int arrays of states in ``0..q-1`` (bool masks for q = 2).
        n : int
            Number of features.
        """
        t_start = time.perf_counter()
        design = self.plan(n)
        q, n, b = design.q, design.n, design.b
        vf = as_value_function(value_function, n, alphabet_size=q)
        logger.info(
            "q-SFT design: q=%d, n=%d, b=%d (%d bins), %d groups, %d delays: at most %d queries",
            q,
            n,
            b,
            design.n_bins,
            design.n_groups,
            design.n_delays,
            design.max_queries,
        )
        rng = check_random_state(self.random_state)
        groups = subsample_groups(n, b, q, design.n_groups, rng)  # (C, n, b)
        delays = delay_matrix(n, q, design.n_repeats, None if self.delays == "identity" else rng)

        values, n_unique, query_seconds = self._query(vf, groups, delays, q, b)
        bins = qary_bin_transform(values, q, b, axis=1)  # (C, B, P)

        peel = _Peeler(bins, groups, delays, q, b, int(self.max_order), self.noise_sd, n)
        freq, coef = peel.run(int(self.max_iter))
        if self.refit:
            # The mean (k = 0) is always refit; complete_order adds every low-order term.
            extra = np.zeros((1, n), dtype=np.int64)
            if int(self.complete_order) > 0:
                extra = np.concatenate(
                    [extra, low_order_frequencies(n, q, int(self.complete_order))]
                )
            freq, _ = canonical_spectrum(
                np.concatenate([freq, extra]), np.zeros(freq.shape[0] + extra.shape[0]), q
            )
            freq = freq.astype(np.int64)
        if self.refit and freq.shape[0]:
            coef = peel.refit(freq)
        freq, coef = _symmetrise(freq, coef, q)
        freq, coef = canonical_spectrum(freq, coef, q)
        scale = max(float(np.abs(coef).max(initial=0.0)), 1e-300)
        keep = np.abs(coef) > 1e-12 * scale
        freq, coef = freq[keep], coef[keep]
        sample_r2 = peel.sample_r2(freq.astype(np.int64), coef)
        if sample_r2 < 0.5:
            warnings.warn(
                f"q-SFT explains only R²={sample_r2:.2f} of its own {n_unique} samples: the "
                f"function is less sparse than {design.n_bins} bins per group resolve, or very "
                "noisy. Raise the budget (or sparsity=), use delays='robust' for noise, or "
                "complete_order=1 or 2 for dense low-order effects.",
                stacklevel=3,
            )

        metadata = {
            "design": asdict(design),
            "noise_sd_per_query": peel.noise_sd_estimate,
            "peeling_rounds": peel.rounds,
            "unresolved_bins": peel.unresolved_bins,
            "sample_r2": sample_r2,
            "query_seconds": query_seconds,
            "solver_seconds": time.perf_counter() - t_start - query_seconds,
        }
        if q == 2:
            return Interactions(
                freq.astype(bool),
                coef.real,
                n_features=n,
                basis="fourier",
                n_queries=n_unique,
                method=self.name,
                metadata=metadata,
            )
        return QaryInteractions(
            freq, coef, n_features=n, q=q, n_queries=n_unique, method=self.name, metadata=metadata
        )

    @staticmethod
    def _query(
        vf: CheckedValueFunction, groups: np.ndarray, delays: np.ndarray, q: int, b: int
    ) -> tuple[np.ndarray, int, float]:
        """Query every design point once; return values shaped (C, q**b, P)."""
        c, n, _ = groups.shape
        p = delays.shape[0]
        points = _DesignPoints(groups, delays, q, b)
        first, shared, representative = points.distinct()
        unique_values = np.empty(first.size)
        spent = 0.0
        dtype = np.bool_ if q == 2 else np.int64
        step = max(1, min(_QUERY_CHUNK, _QUERY_BYTES // (np.dtype(dtype).itemsize * n)))
        for s in range(0, first.size, step):
            batch = points.rows(first[s : s + step], dtype)
            t0 = time.perf_counter()
            unique_values[s : s + step] = vf(batch)
            spent += time.perf_counter() - t0
        values = np.empty(points.n_rows)
        values[first] = unique_values
        values[shared] = values[representative]
        # (C, B, P): the delays of one bin side by side (what the decoder reads together)
        values = np.ascontiguousarray(values.reshape(c, p, q**b).transpose(0, 2, 1))
        return values, int(first.size), spent


def _symmetrise(freq: np.ndarray, coef: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Close the support under k -> -k and impose F(-k) = conj(F(k)) (f is real)."""
    if freq.shape[0] == 0:
        return freq, coef
    both = np.concatenate([freq, (-freq) % q])
    vals = np.concatenate([coef, np.conj(coef)]) / 2.0
    return canonical_spectrum(both, vals, q)


def _mean_power(x: np.ndarray) -> np.ndarray:
    """``mean(|x|^2)`` over the last axis of a complex array (no complex abs)."""
    v = x.view(np.float64)
    return np.einsum("...i,...i->...", v, v) / x.shape[-1]


class _Peeler:
    """Singleton detection, peeling and refit over the bins of every group and delay.

    Bins are stored (C, B, P): group, bin, delay. The delays come in blocks
    ``a_r, a_r + e_1, ..., a_r + e_n`` (:func:`delay_matrix`), so the phase a frequency k puts
    on delay ``p = r (n + 1) + i`` is ``<a_r, k> + k_i`` (``k_0 = 0``): an (R, n) product and
    a broadcast, not a (P, n) one. The mean power of every bin over the delays is kept up to
    date as bins are peeled, so a round only reads the bins it touches.

    The residual is copy-on-write: it equals the original bins except in the bins peeling has
    touched, whose residual rows are kept in ``touched`` (the bins are never copied whole).
    """

    def __init__(
        self,
        bins: np.ndarray,
        groups: np.ndarray,
        delays: np.ndarray,
        q: int,
        b: int,
        max_order: int,
        noise_sd: float | None,
        n: int,
    ) -> None:
        self.original = bins
        self.slot = np.full(bins.shape[:2], -1, dtype=np.int64)  # (C, B) -> row of touched
        self.touched = np.empty((0, bins.shape[2]), dtype=np.complex128)
        self.n_touched = 0
        self.groups = groups
        self.q, self.b, self.n = q, b, n
        self.n_delays = delays.shape[0]
        self.n_blocks = delays.shape[0] // (n + 1)
        offsets = delays[:: n + 1]  # (R, n): the a_r
        unit = np.vstack([np.zeros((1, n), dtype=np.int64), np.eye(n, dtype=np.int64)])
        blocks = (offsets[:, None, :] + unit[None, :, :]) % q
        if not np.array_equal(blocks.reshape(-1, n), delays):  # pragma: no cover - internal
            raise ValueError("delays must come in blocks a_r, a_r + e_1, ..., a_r + e_n")
        self.offsets_t = offsets.astype(np.float64).T  # (n, R)
        self.max_order = max_order
        self.roots = np.exp(2j * np.pi * np.arange(q) / q)
        self.powers = q ** np.arange(b - 1, -1, -1)
        n_bins = q**b
        self.original_energy = _mean_power(bins)  # (C, B)
        self.energy = self.original_energy.copy()
        # Floor below which energy is numerical round-off: relative to the samples' power.
        power = float(np.mean(self.original_energy)) * n_bins
        self.floor = 1e-18 * max(power, 1e-300)
        if noise_sd is not None:
            self.sigma2 = float(noise_sd) ** 2 / n_bins
            self.noise_known = True
        else:
            self.sigma2 = float(np.quantile(self.energy, 0.25))
            self.noise_known = False
        self.gamma = max(0.5, 4.0 / math.sqrt(delays.shape[0]))
        self.rounds = 0
        self.unresolved_bins = 0

    def _offset_phase(self, freq: np.ndarray) -> np.ndarray:
        """(K, R) int array ``<a_r, k> mod q`` (float64 BLAS product: exact for these sizes)."""
        prod = freq.astype(np.float64) @ self.offsets_t
        return np.rint(prod).astype(np.int64) % self.q

    def _delay_phase(self, freq: np.ndarray) -> np.ndarray:
        """(K, P) int array ``<d_p, k> mod q``."""
        base = self._offset_phase(freq)  # (K, R)
        own = np.concatenate([np.zeros((freq.shape[0], 1), dtype=np.int64), freq], axis=1)
        return ((base[:, :, None] + own[:, None, :]) % self.q).reshape(-1, self.n_delays)

    def _signature(self, freq: np.ndarray) -> np.ndarray:
        """(K, P) complex array ``omega^<d_p, k>``."""
        return self.roots[self._delay_phase(freq)]

    def _bin_of(self, freq: np.ndarray, c: int) -> np.ndarray:
        """(K,) bin index of each frequency in group c."""
        return ((freq @ self.groups[c]) % self.q) @ self.powers

    @property
    def noise_sd_estimate(self) -> float:
        return float(math.sqrt(self.sigma2 * self.q**self.b))

    def _threshold(self) -> float:
        return (1.0 + self.gamma) * self.sigma2 + self.floor

    # -------------------------------------------------------------- decoding
    def _decode(self) -> tuple[np.ndarray, np.ndarray]:
        """Singletons in the residual bins: (K, n) frequency vectors and (K,) coefficients."""
        n, q, r_count = self.n, self.q, self.n_blocks
        thr = self._threshold()
        cand_c, cand_j = np.nonzero(self.energy > thr)
        if cand_c.size == 0:
            return np.zeros((0, n), dtype=np.int64), np.zeros(0, dtype=np.complex128)
        obs = self._residual(cand_c, cand_j)  # (K, P)
        blocks = obs.reshape(-1, r_count, n + 1)
        # First read: phase of U(a_r + e_i) conj(U(a_r)), summed over blocks.
        z = np.einsum("kri,kr->ki", blocks[:, :, 1:], np.conj(blocks[:, :, 0]))
        k = np.rint(np.angle(z) * q / (2 * np.pi)).astype(np.int64) % q
        for _ in range(2):
            # Maximum-likelihood re-read of each k_i against the estimated coefficient
            # F^ = mean_p U_p omega^-<d_p, k>, with omega^<d_p, k> = omega^<a_r, k> omega^k_i.
            base = self._offset_phase(k)  # (K, R)
            t = np.einsum("kri,kr->ki", blocks, np.conj(self.roots[base]))  # (K, n + 1)
            coef = t[:, 0] + np.einsum("ki,ki->k", t[:, 1:], np.conj(self.roots[k]))
            coef /= self.n_delays
            w = t[:, 1:] * np.conj(coef)[:, None]
            k = np.rint(np.angle(w) * q / (2 * np.pi)).astype(np.int64) % q
        hashed = np.einsum("kn,knb->kb", k, self.groups[cand_c]) % q
        in_bin = (hashed @ self.powers) == cand_j
        low = (k != 0).sum(axis=1) <= self.max_order
        keep = np.flatnonzero(in_bin & low)
        k, obs = k[keep], obs[keep]
        model = self._signature(k)
        coef = np.mean(obs * np.conj(model), axis=1)
        resid = _mean_power(obs - coef[:, None] * model)
        ok = resid <= thr
        return k[ok], coef[ok]

    def _bin_sums(self, freq: np.ndarray, coef: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        """For every group: the bins the terms fall in and the (U, P) sum of their terms."""
        contrib = self._signature(freq) * coef[:, None]  # (K, P)
        out = []
        for c in range(self.groups.shape[0]):
            j = self._bin_of(freq, c)
            order = np.argsort(j, kind="stable")
            sorted_j = j[order]
            starts = np.flatnonzero(np.concatenate([[True], sorted_j[1:] != sorted_j[:-1]]))
            out.append((sorted_j[starts], np.add.reduceat(contrib[order], starts, axis=0)))
        return out

    def _residual(self, c: np.ndarray, j: np.ndarray) -> np.ndarray:
        """(K, P) copy of the residual of bins ``(c[i], j[i])``."""
        rows = self.original[c, j]
        slot = self.slot[c, j]
        mine = slot >= 0
        if mine.any():
            rows[mine] = self.touched[slot[mine]]
        return rows

    def _own(self, c: int, j: np.ndarray) -> np.ndarray:
        """Rows of ``touched`` holding the residual of bins j of group c (copied on first use)."""
        slot = self.slot[c, j]
        new = np.flatnonzero(slot < 0)
        if new.size:
            end = self.n_touched + new.size
            if end > self.touched.shape[0]:
                size = max(end, 2 * self.touched.shape[0], 64)
                grown = np.empty((size, self.touched.shape[1]), dtype=np.complex128)
                grown[: self.n_touched] = self.touched[: self.n_touched]
                self.touched = grown
            rows = np.arange(self.n_touched, end)
            self.touched[rows] = self.original[c, j[new]]
            self.slot[c, j[new]] = rows
            slot[new] = rows
            self.n_touched = end
        return slot

    def _reset(self) -> None:
        """Back to the original bins."""
        self.slot.fill(-1)
        self.n_touched = 0
        self.energy = self.original_energy.copy()

    def _subtract(self, freq: np.ndarray, coef: np.ndarray) -> None:
        for c, (j, total) in enumerate(self._bin_sums(freq, coef)):
            slot = self._own(c, j)
            self.touched[slot] -= total
            self.energy[c, j] = _mean_power(self.touched[slot])

    def _peel(self, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
        found_f = np.zeros((0, self.n), dtype=np.int64)
        found_c = np.zeros(0, dtype=np.complex128)
        self.rounds = 0
        for _ in range(max_iter):
            k, coef = self._decode()
            if k.shape[0] == 0:
                break
            self.rounds += 1
            # One estimate per frequency (average repeats), closed under conjugation.
            both = np.concatenate([k, (-k) % self.q])
            vals = np.concatenate([coef, np.conj(coef)])
            order, starts = frequency_groups(both)
            uniq = both[order[starts]]
            inverse = np.empty(both.shape[0], dtype=np.int64)
            inverse[order] = np.repeat(
                np.arange(starts.size), np.diff(starts, append=both.shape[0])
            )
            counts = np.bincount(inverse, minlength=uniq.shape[0])
            mean = np.bincount(inverse, vals.real, uniq.shape[0]) + 1j * np.bincount(
                inverse, vals.imag, uniq.shape[0]
            )
            mean /= counts
            self._subtract(uniq, mean)
            found_f = np.concatenate([found_f, uniq])
            found_c = np.concatenate([found_c, mean])
        return canonical_spectrum(found_f, found_c, self.q)

    def run(self, max_iter: int) -> tuple[np.ndarray, np.ndarray]:
        """Peel; when the noise level was estimated, re-estimate it from the residual and
        peel again from scratch if the first estimate was clearly too low."""
        freq, coef = self._peel(max_iter)
        if not self.noise_known:
            residual_sigma2 = float(np.median(self.energy))
            if residual_sigma2 > 2.0 * self.sigma2 + self.floor:
                self.sigma2 = residual_sigma2
                self._reset()
                freq, coef = self._peel(max_iter)
        self.unresolved_bins = int(np.sum(self.energy > self._threshold()))
        return freq.astype(np.int64), coef

    def sample_r2(self, freq: np.ndarray, coef: np.ndarray) -> float:
        """R² of the expansion on every sample, computed in the bin domain (Parseval).

        Only the bins the expansion touches are recomputed; the others keep their power.
        """
        power = self.original_energy * self.n_delays  # (C, B): sum over delays of |U|^2
        untouched = np.ones(power.shape, dtype=bool)
        resid = 0.0
        if freq.shape[0]:
            for c, (j, total) in enumerate(self._bin_sums(freq, coef)):
                resid += float(np.sum(_mean_power(self.original[c, j] - total))) * self.n_delays
                untouched[c, j] = False
        resid += float(np.sum(power[untouched]))
        dc = self.original[:, 0, :]
        total = float(np.sum(power[:, 1:]))
        total += float(np.sum(np.abs(dc - dc.mean()) ** 2))
        if total <= self.floor:
            return 1.0 if resid <= self.floor else -math.inf
        return 1.0 - resid / total

    # ------------------------------------------------------------------ refit
    def refit(self, freq: np.ndarray) -> np.ndarray:
        """Least-squares coefficients of ``freq`` on all samples (solved in the bin domain)."""
        # Each coefficient k enters one bin j_c(k) of every (group, delay) block with the
        # signature omega^<d_p, k>. So the normal equations are
        #   G[k, k'] = (sum_p conj(s_pk) s_pk') * #{c : j_c(k) = j_c(k')},
        #   r[k]     = sum_c sum_p conj(s_pk) U_{c,p}(j_c(k)).
        c_count = self.original.shape[0]
        k_count = freq.shape[0]
        signature = self._signature(freq)  # (K, P)
        conj_signature = signature.conj()
        overlap = conj_signature @ signature.T  # (K, K)
        shared = np.zeros((k_count, k_count))
        rhs = np.zeros(k_count, dtype=np.complex128)
        for c in range(c_count):
            j = self._bin_of(freq, c)  # (K,)
            shared += j[:, None] == j[None, :]
            rhs += np.einsum("kp,kp->k", conj_signature, self.original[c, j])
        gram = overlap * shared
        ridge = 1e-13 * float(np.real(np.trace(gram))) / max(k_count, 1)
        gram[np.diag_indices_from(gram)] += ridge
        try:
            return np.linalg.solve(gram, rhs)
        except np.linalg.LinAlgError:  # pragma: no cover - singular despite the ridge
            return np.linalg.lstsq(gram, rhs, rcond=None)[0]
