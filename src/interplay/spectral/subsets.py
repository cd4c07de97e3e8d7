"""Sparse sets of feature subsets as padded index arrays: the library's one subset form.

A collection of K subsets of ``range(n)`` is stored as an int array of shape (K, d) whose rows
are sorted ascending and padded on the right with the sentinel ``n``; d is the largest subset
size (at least 1 so the array always has a column). This is compact at n = 1000 and makes
vectorised set operations (uniqueness, enumeration of sub-subsets) plain numpy.

A frequency vector k in ``Z_q^n`` (q > 2) is its support in this form plus a parallel (K, d)
array of *exponents*: the non-zero entries ``k_i`` at the listed features (0 in the padding).
For q = 2 every exponent is 1, and the exponents are omitted (``None``).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "as_index",
    "canonical_spectrum",
    "canonical_sum",
    "canonical_terms",
    "expand_subsets",
    "from_bool",
    "from_dense",
    "from_flat",
    "from_lists",
    "pad_to_width",
    "sizes",
    "to_bool",
    "to_dense",
    "to_lists",
]


def pad_to_width(idx: np.ndarray, n: int, width: int) -> np.ndarray:
    """Right-pad a (K, d) index array with the sentinel to ``width`` columns."""
    if idx.shape[1] >= width:
        return idx
    pad = np.full((idx.shape[0], width - idx.shape[1]), n, dtype=idx.dtype)
    return np.concatenate([idx, pad], axis=1)


def as_index(i: object) -> int:
    """A feature index; bools are refused (a membership vector is not a list of indices)."""
    if isinstance(i, (bool, np.bool_)):
        raise TypeError(
            "subsets must hold feature indices, got a bool; pass membership vectors as a "
            "(K, n) bool array"
        )
    return int(i)


def from_bool(matrix: np.ndarray) -> np.ndarray:
    """Convert a (K, n) boolean membership matrix to a padded (K, d) index array."""
    matrix = np.asarray(matrix, dtype=bool)
    n = matrix.shape[1]
    width = max(int(matrix.sum(axis=1).max(initial=0)), 1)
    # Sorting keys: member positions first (their index), non-members last (sentinel n).
    keys = np.where(matrix, np.arange(n, dtype=np.int64)[None, :], n)
    keys.sort(axis=1)
    return keys[:, :width].copy()


def from_lists(subsets, n: int) -> np.ndarray:
    """Convert an iterable of index collections to a padded (K, d) index array."""
    subsets = [sorted({as_index(i) for i in s}) for s in subsets]
    for s in subsets:
        if s and (s[0] < 0 or s[-1] >= n):
            raise ValueError(f"subset {tuple(s)} has a feature outside range(0, {n})")
    width = max([len(s) for s in subsets] + [1])
    out = np.full((len(subsets), width), n, dtype=np.int64)
    for row, s in enumerate(subsets):
        out[row, : len(s)] = s
    return out


def to_bool(idx: np.ndarray, n: int) -> np.ndarray:
    """Convert a padded (K, d) index array to a (K, n) boolean membership matrix."""
    out = np.zeros((idx.shape[0], n + 1), dtype=bool)
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    out[rows, idx.ravel()] = True
    return out[:, :n]


def from_flat(
    features: np.ndarray, lengths: np.ndarray, n: int, exponents: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Padded index (and exponent) arrays from the concatenated members of K rows.

    Parameters
    ----------
    features : (M,) int array
        The features of row 0, then of row 1, ... (distinct within a row, in ``0..n-1``).
    lengths : (K,) int array
        Members of each row.
    n : int
    exponents : (M,) int array, optional
        ``k_i`` of each listed feature (q > 2).

    Returns
    -------
    idx : (K, d) int64 array, rows sorted ascending, padded with n
    exps : (K, d) int64 array aligned with ``idx`` (0 in the padding), or None
    """
    lengths = np.asarray(lengths, dtype=np.int64)
    k_count = lengths.shape[0]
    width = max(int(lengths.max(initial=0)), 1)
    row = np.repeat(np.arange(k_count), lengths)
    order = np.lexsort((np.asarray(features), row))  # by row, then feature
    slot = np.arange(row.size) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    idx = np.full((k_count, width), n, dtype=np.int64)
    idx[row, slot] = np.asarray(features, dtype=np.int64)[order]
    if exponents is None:
        return idx, None
    exps = np.zeros((k_count, width), dtype=np.int64)
    exps[row, slot] = np.asarray(exponents, dtype=np.int64)[order]
    return idx, exps


def from_dense(freq: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """Padded index and exponent arrays of (K, n) frequency vectors (entries taken mod q)."""
    freq = np.mod(np.asarray(freq, dtype=np.int64), q)
    rows, cols = np.nonzero(freq)  # row-major: features ascending within a row
    lengths = np.bincount(rows, minlength=freq.shape[0])
    idx, exps = from_flat(cols, lengths, freq.shape[1], freq[rows, cols])
    return idx, exps


def to_dense(idx: np.ndarray, exps: np.ndarray | None, n: int) -> np.ndarray:
    """(K, n) int64 frequency vectors of padded arrays (exponents None: 0/1 membership)."""
    out = np.zeros((idx.shape[0], n + 1), dtype=np.int64)
    rows = np.repeat(np.arange(idx.shape[0]), idx.shape[1])
    out[rows, idx.ravel()] = 1 if exps is None else exps.ravel()
    return out[:, :n]


def to_lists(idx: np.ndarray, n: int) -> list[tuple[int, ...]]:
    """Convert a padded index array to a list of sorted tuples."""
    return [tuple(int(i) for i in row if i < n) for row in idx]


def sizes(idx: np.ndarray, n: int) -> np.ndarray:
    """Subset sizes, shape (K,)."""
    return (idx < n).sum(axis=1)


def canonical_terms(
    idx: np.ndarray,
    exps: np.ndarray | None,
    values: np.ndarray,
    n: int,
    *,
    drop_zeros: bool = False,
    tol: float = 0.0,
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Merge duplicate terms by summing their values, in the canonical order.

    The order is: size, then the members (lexicographic), then the exponents; trailing
    all-sentinel columns are removed.

    Parameters
    ----------
    idx : (K, d) int array, padded with n
    exps : (K, d) int array, or None (q = 2: every exponent is 1)
    values : (K,) float or complex array
    n : int
    drop_zeros : bool
        Drop merged terms with ``|value| <= tol``.
    tol : float

    Returns
    -------
    idx : (K', d') int64 array
    exps : (K', d') int64 array, or None when ``exps`` was None
    values : (K',) array (float64 or complex128)
    """
    values = np.asarray(values)
    dtype = np.result_type(values.dtype, np.float64)
    if idx.shape[0] == 0:
        empty = np.full((0, 1), n, dtype=np.int64)
        return empty, None if exps is None else np.zeros((0, 1), np.int64), values[:0].astype(dtype)
    # One lexsort (size first, then the sorted members, then the exponents) groups equal rows
    # together and already gives the output order; much faster than ``np.unique(axis=0)``.
    keys = idx if exps is None else np.concatenate([idx, exps], axis=1)
    order = np.lexsort(tuple(keys[:, ::-1].T) + (sizes(idx, n),))
    ordered = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], np.any(ordered[1:] != ordered[:-1], axis=1)]))
    uniq = ordered[starts]
    summed = np.add.reduceat(values[order].astype(dtype), starts)
    if drop_zeros:
        keep = np.abs(summed) > tol
        uniq, summed = uniq[keep], summed[keep]
    d = idx.shape[1]
    width = max(int(sizes(uniq[:, :d], n).max(initial=0)), 1)
    out_exps = None if exps is None else uniq[:, d : d + width].astype(np.int64)
    return uniq[:, :width].astype(np.int64), out_exps, summed


def canonical_sum(
    idx: np.ndarray, values: np.ndarray, n: int, *, drop_zeros: bool = False, tol: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Merge duplicate subsets by summing their values (:func:`canonical_terms`, q = 2)."""
    idx, _, summed = canonical_terms(idx, None, values, n, drop_zeros=drop_zeros, tol=tol)
    return idx, summed


def canonical_spectrum(
    frequencies: np.ndarray, coefficients: np.ndarray, q: int, *, tol: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Merge duplicate frequency vectors (summing coefficients) and sort them canonically.

    Parameters
    ----------
    frequencies : (K, n) int array
        Entries taken mod q.
    coefficients : (K,) float or complex array
    q : int
    tol : float
        When positive, merged coefficients with ``|F| <= tol`` are dropped.

    Returns
    -------
    frequencies : (K', n) int64 array, in the order of :func:`canonical_terms`
    coefficients : (K',) complex128 array
    """
    freq = np.asarray(frequencies)
    n = freq.shape[1]
    idx, exps = from_dense(freq, q)
    coef = np.asarray(coefficients, dtype=np.complex128).ravel()
    idx, exps, summed = canonical_terms(idx, exps, coef, n, drop_zeros=tol > 0, tol=tol)
    return to_dense(idx, exps, n), summed


def expand_subsets(
    idx: np.ndarray, n: int, *, max_size: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Enumerate every subset T of every row S.

    Parameters
    ----------
    idx : (K, d) int array
        Padded subsets S.
    n : int
        Number of features (the sentinel).
    max_size : int, optional
        Only enumerate subsets T with |T| <= max_size.

    Returns
    -------
    sub_idx : (M, d) int array
        The subsets T, padded.
    parent : (M,) int array
        Row of ``idx`` each T came from.
    parent_size : (M,) int array
        |S| for each T.
    sub_size : (M,) int array
        |T|.
    """
    width = idx.shape[1]
    s_sizes = sizes(idx, n)
    pieces_idx, pieces_parent, pieces_s, pieces_t = [], [], [], []
    for d in np.unique(s_sizes):
        d = int(d)
        rows = np.flatnonzero(s_sizes == d)
        members = idx[rows, :d]  # (K_d, d)
        bits = ((np.arange(2**d)[:, None] >> np.arange(d)[None, :]) & 1).astype(bool)
        t_sizes = bits.sum(axis=1)
        if max_size is not None:
            keep = t_sizes <= max_size
            bits, t_sizes = bits[keep], t_sizes[keep]
        chosen = np.where(bits[None, :, :], members[:, None, :], n)  # (K_d, B, d)
        chosen.sort(axis=2)
        chosen = chosen.reshape(rows.size * bits.shape[0], d)
        pieces_idx.append(pad_to_width(chosen, n, width))
        pieces_parent.append(np.repeat(rows, bits.shape[0]))
        pieces_s.append(np.full(rows.size * bits.shape[0], d))
        pieces_t.append(np.tile(t_sizes, rows.size))
    if not pieces_idx:
        empty = np.zeros(0, dtype=np.int64)
        return np.full((0, width), n, dtype=np.int64), empty, empty, empty
    return (
        np.concatenate(pieces_idx).astype(np.int64),
        np.concatenate(pieces_parent),
        np.concatenate(pieces_s),
        np.concatenate(pieces_t),
    )
