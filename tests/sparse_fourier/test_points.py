"""Distinct design points: the one deduplication, against numpy's unique."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.sparse_fourier.delays import UnitDelays
from interplay.sparse_fourier.design import subsample_groups
from interplay.sparse_fourier.points import (
    DesignPoints,
    _group_hashes,
    _LanePacking,
    unique_rows,
)


def test_unique_rows_matches_numpy():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 3, size=(3000, 5)).astype(np.uint8)  # many repeats (243 states)
    first, inverse = unique_rows(x)
    np.testing.assert_array_equal(x[first][inverse], x)
    assert first.size == np.unique(x, axis=0).shape[0]
    assert len({r.tobytes() for r in x[first]}) == first.size


def test_group_hashes_matches_numpy_unique():
    rng = np.random.default_rng(1)
    for _ in range(100):
        hashed = rng.integers(0, rng.integers(2, 50), size=rng.integers(1, 60)).astype(np.uint64)
        first, inverse, shared = _group_hashes(hashed)
        _, expected_first, _ = np.unique(hashed, return_index=True, return_inverse=True)
        np.testing.assert_array_equal(first, np.sort(expected_first))  # smallest index, ascending
        np.testing.assert_array_equal(hashed[first][inverse], hashed)
        repeated = [i for i in range(hashed.size) if (hashed == hashed[i]).sum() > 1]
        np.testing.assert_array_equal(shared, repeated)


@pytest.mark.parametrize("q", [2, 3, 4, 5, 6])
@pytest.mark.parametrize("keys", ["sketch", "colliding", "constant"])
def test_design_points_dedupe_matches_numpy(q, keys):
    """Distinct design points from the packed sketch keys equal np.unique of the rows, also
    when the keys collide (then the exact packed words decide)."""
    rng = np.random.default_rng(q)
    for n, b in [(3, 2), (5, 2), (9, 3)]:
        groups = subsample_groups(n, (b, b, b - 1), q, rng)  # groups of unequal size
        points = DesignPoints(groups, UnitDelays(n, q, 2, rng).delays, q)
        if keys == "colliding":
            weak = points.keys() & np.uint64(7)
            points.keys = lambda weak=weak: weak
        elif keys == "constant":
            points.keys = lambda points=points: np.zeros(points.n_rows, dtype=np.uint64)
        first, inverse = points.unique()
        rows = points.rows(np.arange(points.n_rows))
        _, want_first, want_inverse = np.unique(
            rows, axis=0, return_index=True, return_inverse=True
        )
        order = np.argsort(want_first)
        rank = np.empty_like(order)
        rank[order] = np.arange(order.size)
        np.testing.assert_array_equal(first, want_first[order])  # smallest index, ascending
        np.testing.assert_array_equal(inverse, rank[want_inverse.ravel()])


@pytest.mark.parametrize("q", [2, 3, 4, 5, 7, 8, 100, 127, 128])
def test_lane_packing_adds_mod_q(q):
    rng = np.random.default_rng(q)
    for n in (1, 7, 33, 100):
        packing = _LanePacking(q, n)
        a, b = rng.integers(0, q, size=(2, 50, n))
        np.testing.assert_array_equal(
            packing.add(packing.pack(a), packing.pack(b)), packing.pack((a + b) % q)
        )
        assert len({w.tobytes() for w in packing.pack(a)}) == len({r.tobytes() for r in a})


def test_group_hashes_with_equal_leading_bits():
    """Hashes that agree on their top 32 bits but not below are different rows."""
    rng = np.random.default_rng(2)
    for _ in range(50):
        top = rng.integers(0, 4, size=200).astype(np.uint64) << np.uint64(32)
        low = rng.integers(0, 2**32, size=200).astype(np.uint64)
        low[rng.random(200) < 0.3] = 7  # some real repeats
        hashed = top | low
        first, inverse, shared = _group_hashes(hashed)
        _, expected_first = np.unique(hashed, return_index=True)
        np.testing.assert_array_equal(first, np.sort(expected_first))
        np.testing.assert_array_equal(hashed[first][inverse], hashed)
        counts = {h: int((hashed == h).sum()) for h in hashed}
        np.testing.assert_array_equal(shared, [i for i, h in enumerate(hashed) if counts[h] > 1])


