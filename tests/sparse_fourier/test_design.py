"""Design pieces of the sparse-Fourier engine against brute force: rank mod q, groups,
lattices, delays and the bin transform."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from interplay.solvers.base import check_random_state
from interplay.sparse_fourier.bins import bin_transform
from interplay.sparse_fourier.delays import UnitDelays
from interplay.sparse_fourier.design import is_full_rank_mod_q, lattice, subsample_groups
from interplay.values.qary import random_sparse_qary


@pytest.mark.parametrize("q", [2, 3, 4, 6])
def test_full_rank_check_is_surjectivity(q):
    """Full rank <=> the hash k -> M^T k reaches every one of the q^b bins."""
    rng = np.random.default_rng(q)
    n, b = 3, 2
    all_k = np.array(list(itertools.product(range(q), repeat=n)))
    verdicts = set()
    for _ in range(40):
        m = rng.integers(0, q, size=(n, b))
        if rng.random() < 0.3:  # force some rank-deficient matrices
            m[:, 1] = (m[:, 0] * rng.integers(0, q)) % q
        image = {tuple(v) for v in (all_k @ m) % q}
        onto = len(image) == q**b
        assert is_full_rank_mod_q(m, q) == onto
        verdicts.add(onto)
    assert verdicts == {True, False}


def test_subsample_groups_are_full_rank_and_seeded():
    groups = subsample_groups(10, (3, 3, 2), 4, check_random_state(0))
    assert [g.shape for g in groups] == [(10, 3), (10, 3), (10, 2)]  # sizes may differ
    assert all(is_full_rank_mod_q(m, 4) for m in groups)
    again = subsample_groups(10, (3, 3, 2), 4, check_random_state(0))
    for g, h in zip(groups, again, strict=True):
        np.testing.assert_array_equal(g, h)
    with pytest.raises(ValueError, match="cannot exceed"):
        subsample_groups(2, (3,), 4, check_random_state(0))


def test_delay_blocks():
    ident = UnitDelays(4, 3).delays
    np.testing.assert_array_equal(ident, np.vstack([np.zeros(4, int), np.eye(4, dtype=int)]))
    robust = UnitDelays(4, 3, 2, np.random.default_rng(0)).delays.reshape(2, 5, 4)
    for block in robust:
        np.testing.assert_array_equal((block[1:] - block[0]) % 3, np.eye(4, dtype=int))


@pytest.mark.parametrize("q", [2, 3])
def test_bin_transform_hashes_the_spectrum(q):
    """U(j) = sum over k with M^T k = j of F(k) omega^<d, k>, checked term by term (q = 2:
    the Walsh–Hadamard fast path, real)."""
    n, b = 4, 2
    rng = np.random.default_rng(1)
    truth = random_sparse_qary(n, q, 6, max_degree=3, random_state=2)
    m = subsample_groups(n, (b,), q, rng)[0]
    d = rng.integers(0, q, size=n)
    ells = np.array(list(itertools.product(range(q), repeat=b)))  # C order
    samples = truth.predict((ells @ m.T + d) % q)
    bins = bin_transform(samples, q, b)
    assert np.isrealobj(bins) == (q == 2)
    expected = np.zeros(q**b, dtype=complex)
    for k, c in zip(truth.frequencies, truth.coefficients, strict=True):
        j = ((k @ m) % q) @ (q ** np.arange(b - 1, -1, -1))
        expected[j] += c * np.exp(2j * np.pi * ((d @ k) % q) / q)
    np.testing.assert_allclose(bins, expected, atol=1e-12)


@pytest.mark.parametrize("q", [2, 3, 4, 5, 6, 127, 128])
def test_lattice_is_the_hashed_subspace(q):
    """lattice(M) lists (M l) mod q for l in C order, as the bin transform expects."""
    rng = np.random.default_rng(q)
    for b in (1, 2, 3):
        if q**b > 5000:
            continue
        m = rng.integers(0, q, size=(2, 7, b))
        ells = np.array(list(itertools.product(range(q), repeat=b)))  # C order
        want = np.stack([(ells @ mc.T) % q for mc in m])
        np.testing.assert_array_equal(lattice(m, q), want)
        np.testing.assert_array_equal(lattice(m[0], q), want[0])
