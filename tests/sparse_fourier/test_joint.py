"""Joint reads: a weak term read from the sum of its bins in several groups."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.sparse_fourier import BCHDelays, subsample_groups
from interplay.sparse_fourier.joint import joint_reads
from interplay.sparse_fourier.layout import BinLayout


def _noisy_bins(layout, freq, coef, noise_sd, rng):
    """Bins of one term plus Gaussian noise of variance noise_sd^2 / B_c in group c."""
    rows = layout.n_rows
    scale = noise_sd / np.sqrt(layout.sizes[layout.group_of].astype(float))
    bins = rng.normal(size=(rows, layout.n_delays)) * scale[:, None]
    where, values = layout.bin_sums(freq[None], np.array([coef]))
    bins[where] += values
    return bins


def test_joint_reads_find_a_term_no_single_bin_reads():
    rng = np.random.default_rng(0)
    n, t = 200, 3
    code = BCHDelays(n, t)
    groups = subsample_groups(n, [4, 4, 4], 2, rng)
    layout = BinLayout(groups, code.delays, 2, real=True)
    # per-delay noise sd 0.75 / 4 = 0.19 per bin against |F| = 0.25: about 9% of the
    # signs of one bin are wrong, a third as many in the sum of three
    single, joint = 0, 0
    for _ in range(20):
        freq = np.zeros(n, dtype=np.int64)
        freq[rng.choice(n, size=t, replace=False)] = 1
        bins = _noisy_bins(layout, freq, 0.25 * rng.choice([-1, 1]), 0.75, rng)
        rows = layout.rows(freq[None])[:, 0]
        read, ok = code.decode(bins[rows])
        single += int(((read == freq).all(axis=1) & ok).any())
        # candidates: the term's bin and the three strongest others of each group
        candidates = []
        for c in range(len(groups)):
            own = np.arange(layout.start[c], layout.start[c + 1])
            power = np.mean(bins[own] ** 2, axis=1)
            strongest = own[np.argsort(-power)][:4]
            candidates.append(np.unique(np.concatenate([[rows[c]], strongest])))
        found = joint_reads(bins, layout, code, candidates, max_order=t, max_combinations=2048)
        joint += int((found == freq).all(axis=1).any())
        # every read hashes back to one candidate bin of at least two groups
        hits = np.stack([np.isin(r, cand) for r, cand in zip(layout.rows(found), candidates)])
        assert (hits.sum(axis=0) >= 2).all()
    assert single <= 12
    assert joint >= 18


def test_joint_reads_respect_the_combination_limit():
    rng = np.random.default_rng(1)
    n, t = 60, 2
    code = BCHDelays(n, t)
    groups = subsample_groups(n, [4, 4, 4, 4], 2, rng)
    layout = BinLayout(groups, code.delays, 2, real=True)
    bins = rng.normal(size=(layout.n_rows, layout.n_delays))
    candidates = [np.arange(layout.start[c], layout.start[c + 1]) for c in range(4)]
    calls = []

    class Counting:
        delays = code.delays
        checks_reads = True

        def decode(self, observations):
            calls.append(observations.shape[0])
            return code.decode(observations)

    joint_reads(bins, layout, Counting(), candidates, max_order=t, max_combinations=300)
    assert 0 < sum(calls) <= 2 * 300  # both polarities of each combination


def test_deep_code_must_read_the_same_delays():
    from interplay.sparse_fourier.peeling import Peeler

    rng = np.random.default_rng(2)
    code = BCHDelays(60, 2)
    groups = subsample_groups(60, [3, 3], 2, rng)
    layout = BinLayout(groups, code.delays, 2, real=True)
    bins = np.zeros((layout.n_rows, layout.n_delays))
    with pytest.raises(ValueError, match="deep_code must read the same delays"):
        Peeler(bins, layout, code, max_order=2, deep_code=BCHDelays(60, 3))
    Peeler(bins, layout, code, max_order=2, deep_code=BCHDelays(60, 2, chase_depth=6))
