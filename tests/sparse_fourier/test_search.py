"""Matched-filter search: a weak term found by correlating every candidate of its bins."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from interplay.sparse_fourier import BCHDelays, subsample_groups
from interplay.sparse_fourier.joint import joint_reads
from interplay.sparse_fourier.layout import BinLayout
from interplay.sparse_fourier.search import LowWeightIndex, matched_search, popcount


def _layout(n, t, sizes, rng):
    code = BCHDelays(n, t)
    return code, BinLayout(subsample_groups(n, sizes, 2, rng), code.delays, 2, real=True)


def _noisy_bins(layout, freq, coef, noise_sd, rng):
    """Bins of the terms plus Gaussian noise of variance noise_sd^2 / B_c in group c."""
    scale = noise_sd / np.sqrt(layout.sizes[layout.group_of].astype(float))
    bins = rng.normal(size=(layout.n_rows, layout.n_delays)) * scale[:, None]
    where, values = layout.bin_sums(freq, coef)
    np.add.at(bins, where, values)
    return bins


def _all_frequencies(n, max_weight):
    rows = [np.zeros((1, n), dtype=np.int64)]
    for w in range(1, max_weight + 1):
        for support in itertools.combinations(range(n), w):
            f = np.zeros(n, dtype=np.int64)
            f[list(support)] = 1
            rows.append(f[None])
    return np.concatenate(rows)


def test_best_is_the_brute_force_argmax_among_frequencies_of_the_tuple():
    rng = np.random.default_rng(0)
    n = 24
    _, layout = _layout(n, 4, [3, 2, 2], rng)
    index = LowWeightIndex(layout)
    everything = _all_frequencies(n, 4)
    tuples = layout.rows(everything)  # (C, K)
    weight = layout.sizes.astype(float)
    for trial in range(6):
        truth = np.zeros((1, n), dtype=np.int64)
        truth[0, rng.choice(n, size=1 + trial % 4, replace=False)] = 1
        bins = _noisy_bins(layout, truth, np.array([1.0]), 1.0, rng)
        rows = layout.rows(truth)[:, 0]
        observation = weight @ bins[rows]
        mine = (tuples == rows[:, None]).all(axis=0)
        corr = np.abs(layout.signature(everything[mine]) @ observation)
        expected = everything[mine][np.argmax(corr)]
        found, best = index.best(observation, index.tuple_hash(rows), 0.9 * corr.max())
        np.testing.assert_array_equal(found, expected)
        assert best == pytest.approx(corr.max())
        # nothing reaches a correlation above the best one
        none, zero = index.best(observation, index.tuple_hash(rows), 1.01 * corr.max())
        assert zero == 0.0 and not none.any()


def test_search_finds_a_weak_term_sharing_bins_that_joint_reads_miss():
    rng = np.random.default_rng(1)
    n, t = 300, 4
    code, layout = _layout(n, t, [4, 4, 4], rng)
    index = LowWeightIndex(layout)
    found_joint, found_search = 0, 0
    for _ in range(10):
        # two terms of weight t in the same bins of groups 1 and 2, different bins of group 0
        shared = np.zeros((2, n), dtype=np.int64)
        shared[0, rng.choice(n, size=t, replace=False)] = 1
        first = layout.rows(shared[:1])[:, 0]
        while True:
            k = np.zeros(n, dtype=np.int64)
            k[rng.choice(n, size=t, replace=False)] = 1
            r = layout.rows(k[None])[:, 0]
            if r[1] == first[1] and r[2] == first[2] and r[0] != first[0]:
                shared[1] = k
                break
        bins = _noisy_bins(layout, shared, np.array([0.5, 0.55]), 2.2, rng)
        candidates = [np.unique(layout.rows(shared)[c]) for c in range(3)]
        joint = joint_reads(bins, layout, code, candidates, max_order=t, max_combinations=2048)
        found_joint += int(any((joint == k).all(axis=1).any() for k in shared))
        freq_found, _ = matched_search(
            bins, index, candidates, max_tuples=16, noise_var=2.2**2, min_z=8.0
        )
        assert freq_found.shape[0] <= 1
        found_search += int(any((freq_found == k).all(axis=1).any() for k in shared))
    assert found_joint <= 5
    assert found_search >= 9


def test_index_rejects_layouts_it_cannot_pack():
    rng = np.random.default_rng(2)
    _, layout = _layout(40, 2, [21, 21, 21], rng)
    with pytest.raises(ValueError, match="62 hash bits"):
        LowWeightIndex(layout)


@pytest.mark.parametrize("numpy_has_bitwise_count", [True, False])
def test_popcount_counts_the_set_bits_of_every_word(monkeypatch, numpy_has_bitwise_count):
    if not numpy_has_bitwise_count:  # the byte-table path of numpy < 2
        monkeypatch.delattr(np, "bitwise_count", raising=False)
    words = np.random.default_rng(3).integers(0, 2**63, size=200, dtype=np.uint64)
    expected = [int(w).bit_count() for w in words]
    assert popcount(words).tolist() == expected
