"""Padded subset arrays, checked against plain Python sets."""

from __future__ import annotations

import itertools
from collections import defaultdict

import numpy as np
import pytest

from interplay.spectral import subsets as sub


def _random_subsets(rng: np.random.Generator, n: int, k: int, max_size: int) -> list[tuple]:
    out = []
    for _ in range(k):
        size = int(rng.integers(0, max_size + 1))
        out.append(tuple(sorted(rng.choice(n, size=size, replace=False).tolist())))
    return out


def test_from_lists_to_lists_round_trip(rng):
    n = 12
    subsets = _random_subsets(rng, n, 200, 5)
    idx = sub.from_lists(subsets, n)
    assert idx.shape == (200, max(len(s) for s in subsets))
    assert sub.to_lists(idx, n) == subsets
    np.testing.assert_array_equal(sub.sizes(idx, n), [len(s) for s in subsets])
    # rows are sorted and padded with the sentinel n
    assert np.all(np.diff(idx, axis=1) >= 0)
    assert np.all(idx <= n)


def test_from_lists_sorts_and_deduplicates_within_a_subset():
    idx = sub.from_lists([(3, 1, 3), (), [2]], 5)
    assert sub.to_lists(idx, 5) == [(1, 3), (), (2,)]


def test_from_lists_empty_collection_has_one_column():
    idx = sub.from_lists([], 4)
    assert idx.shape == (0, 1)
    idx = sub.from_lists([()], 4)
    assert idx.shape == (1, 1) and idx[0, 0] == 4


@pytest.mark.parametrize("bad", [[(0, 5)], [(-1,)], [(1,), (2, 7)]])
def test_from_lists_rejects_features_out_of_range(bad):
    with pytest.raises(ValueError, match="outside range"):
        sub.from_lists(bad, 5)


def test_bool_round_trip(rng):
    n = 9
    matrix = rng.random((300, n)) < 0.3
    matrix[0] = False  # the empty set
    idx = sub.from_bool(matrix)
    np.testing.assert_array_equal(sub.to_bool(idx, n), matrix)
    assert sub.to_lists(idx, n) == [tuple(np.flatnonzero(row).tolist()) for row in matrix]
    assert idx.shape[1] == matrix.sum(axis=1).max()


def test_from_bool_with_no_rows_and_all_empty_rows():
    assert sub.from_bool(np.zeros((0, 4), dtype=bool)).shape == (0, 1)
    idx = sub.from_bool(np.zeros((3, 4), dtype=bool))
    assert sub.to_lists(idx, 4) == [(), (), ()]


def _python_canonical_sum(subsets, values):
    total = defaultdict(float)
    for s, v in zip(subsets, values, strict=True):
        total[tuple(sorted(s))] += v
    keys = sorted(total, key=lambda s: (len(s), s))
    return keys, np.array([total[k] for k in keys])


def test_canonical_sum_matches_python(rng):
    n = 7
    subsets = _random_subsets(rng, n, 400, 3)  # many duplicates
    values = rng.normal(size=400)
    idx, summed = sub.canonical_sum(sub.from_lists(subsets, n), values, n)
    keys, expected = _python_canonical_sum(subsets, values)
    assert sub.to_lists(idx, n) == keys
    np.testing.assert_allclose(summed, expected, atol=1e-12)
    assert idx.shape[1] == max(len(k) for k in keys)


def test_canonical_sum_trims_padding_and_drops_zeros():
    n = 6
    idx = sub.from_lists([(0, 1, 2), (0, 1, 2), (4,), (), (5,)], n)
    values = np.array([1.0, -1.0, 2.0, 3.0, 1e-14])
    out_idx, out_val = sub.canonical_sum(idx, values, n, drop_zeros=True, tol=1e-12)
    assert sub.to_lists(out_idx, n) == [(), (4,)]
    np.testing.assert_allclose(out_val, [3.0, 2.0])
    assert out_idx.shape[1] == 1  # the cancelled 3-subset no longer sets the width
    # without drop_zeros the cancelled term is kept with value 0
    out_idx, out_val = sub.canonical_sum(idx, values, n)
    assert (0, 1, 2) in sub.to_lists(out_idx, n)


def test_canonical_sum_of_nothing():
    idx, val = sub.canonical_sum(np.zeros((0, 2), dtype=np.int64), np.zeros(0), 3)
    assert idx.shape == (0, 1) and val.shape == (0,)


def test_canonical_sum_keeps_complex_values():
    n = 3
    idx = sub.from_lists([(1,), (1,), (0, 2)], n)
    out_idx, out_val = sub.canonical_sum(idx, np.array([1 + 1j, 2 - 3j, 1j]), n)
    assert sub.to_lists(out_idx, n) == [(1,), (0, 2)]
    np.testing.assert_allclose(out_val, [3 - 2j, 1j])


@pytest.mark.parametrize("max_size", [None, 0, 1, 2])
def test_expand_subsets_enumerates_every_subset(rng, max_size):
    n = 10
    subsets = _random_subsets(rng, n, 40, 5) + [()]
    t_idx, parent, parent_size, t_size = sub.expand_subsets(
        sub.from_lists(subsets, n), n, max_size=max_size
    )
    got = sorted(zip(parent.tolist(), sub.to_lists(t_idx, n)))
    expected = sorted(
        (row, t)
        for row, s in enumerate(subsets)
        for size in range(len(s) + 1)
        if max_size is None or size <= max_size
        for t in itertools.combinations(s, size)
    )
    assert got == expected
    np.testing.assert_array_equal(parent_size, [len(subsets[p]) for p in parent])
    np.testing.assert_array_equal(t_size, sub.sizes(t_idx, n))
    assert t_idx.shape[1] == max(len(s) for s in subsets)


def test_expand_subsets_of_nothing():
    t_idx, parent, parent_size, t_size = sub.expand_subsets(np.zeros((0, 1), dtype=np.int64), 4)
    assert t_idx.shape[0] == parent.size == parent_size.size == t_size.size == 0
