"""Planted functions produce what they claim, checked on full tables."""

from __future__ import annotations

import itertools

import bruteforce as bf
import numpy as np
import pytest

from interplay import Interactions
from interplay.values.base import as_value_function
from interplay.values.planted import PlantedFunction, random_hierarchical, random_sparse_fourier


# --------------------------------------------------------------------- sparse Fourier
@pytest.mark.parametrize(
    ("n", "n_terms", "min_degree", "max_degree"), [(10, 20, 1, 4), (8, 5, 3, 3), (30, 50, 2, 6)]
)
def test_random_sparse_fourier_shape(n, n_terms, min_degree, max_degree):
    truth = random_sparse_fourier(
        n,
        n_terms,
        min_degree=min_degree,
        max_degree=max_degree,
        magnitude=(0.5, 1.5),
        random_state=0,
    )
    assert truth.basis == "fourier" and truth.n_features == n and truth.method == "planted"
    assert len(truth) == n_terms + 1  # distinct supports plus the offset
    degrees = truth.degrees
    assert np.sum(degrees == 0) == 1
    assert np.all((degrees[degrees > 0] >= min_degree) & (degrees[degrees > 0] <= max_degree))
    magnitudes = np.abs(truth.coefficients[degrees > 0])
    assert np.all((magnitudes >= 0.5) & (magnitudes <= 1.5))


def test_random_sparse_fourier_is_reproducible():
    a = random_sparse_fourier(12, 10, random_state=3)
    b = random_sparse_fourier(12, 10, random_state=np.random.default_rng(3))
    c = random_sparse_fourier(12, 10, random_state=4)
    assert a.allclose(b, atol=0.0)
    assert not a.allclose(c)


def test_random_sparse_fourier_exhausting_small_n():
    """Every subset of a small n can be asked for; asking for more is an error, not a hang."""
    truth = random_sparse_fourier(3, 7, max_degree=3, random_state=0)
    assert sorted(truth.subsets) == sorted(bf.subsets_up_to(3, 3))
    truth = random_sparse_fourier(4, 6, min_degree=2, max_degree=2, random_state=1)
    assert sorted(truth.subsets[1:]) == list(itertools.combinations(range(4), 2))
    with pytest.raises(ValueError, match="only 7 exist"):
        random_sparse_fourier(3, 8, max_degree=3)
    with pytest.raises(ValueError, match="only 3 exist"):
        random_sparse_fourier(3, 4, max_degree=1)


def test_random_sparse_fourier_caps_the_degree_at_n():
    truth = random_sparse_fourier(3, 5, max_degree=6, random_state=2)
    assert truth.degrees.max() <= 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 0, "n_terms": 1},
        {"n": 5, "n_terms": -1},
        {"n": 5, "n_terms": 3, "min_degree": 0},
        {"n": 5, "n_terms": 3, "min_degree": 3, "max_degree": 2},
        {"n": 5, "n_terms": 3, "min_degree": 6, "max_degree": 6},
        {"n": 5, "n_terms": 3, "magnitude": (2.0, 1.0)},
    ],
)
def test_random_sparse_fourier_rejects(kwargs):
    with pytest.raises(ValueError):
        random_sparse_fourier(**kwargs)


# ----------------------------------------------------------------------- hierarchical
@pytest.mark.parametrize(("n", "n_top", "max_degree"), [(10, 4, 4), (20, 8, 5), (4, 15, 4)])
def test_random_hierarchical_is_closed_under_subsets(n, n_top, max_degree):
    decay = 0.6
    truth = random_hierarchical(n, n_top, max_degree=max_degree, decay=decay, random_state=5)
    assert truth.basis == "mobius" and truth.n_features == n
    support = set(truth.subsets)
    assert () in support
    for s in support:
        for size in range(len(s)):
            for t in itertools.combinations(s, size):
                assert t in support, f"{t} ⊂ {s} is missing"
    assert max(len(s) for s in support) <= max_degree
    # magnitudes decay with the order: |a(T)| in decay^(|T|-1) * [0.5, 1.5]
    coef, degrees = truth.coefficients, truth.degrees
    scale = decay ** (degrees[degrees > 0] - 1.0)
    ratio = np.abs(coef[degrees > 0]) / scale
    assert np.all((ratio >= 0.5) & (ratio <= 1.5))
    # the maximal supports: at most n_top of them
    maximal = [s for s in support if not any(set(s) < set(o) for o in support)]
    assert len(maximal) <= n_top


def test_random_hierarchical_rejects():
    with pytest.raises(ValueError, match="only 3 exist"):
        random_hierarchical(3, 4, max_degree=1)
    with pytest.raises(ValueError, match="decay"):
        random_hierarchical(5, 2, decay=0.0)
    with pytest.raises(ValueError, match="n_top"):
        random_hierarchical(5, -1)


# ---------------------------------------------------------------------- PlantedFunction
@pytest.mark.parametrize("make", [random_sparse_fourier, random_hierarchical])
def test_planted_function_evaluates_the_truth(make):
    truth = make(8, 6, random_state=6)
    f = PlantedFunction(truth)
    assert f.n_features == 8
    masks = bf.all_masks(8)
    values = f(masks)
    np.testing.assert_allclose(values, truth.predict(masks))
    # and the table is that of the planted coefficients, from the definition
    vec = np.zeros(2**8)
    np.add.at(vec, [bf.subset_code(s) for s in truth.subsets], truth.coefficients)
    oracle = bf.inverse_walsh_hadamard(vec) if truth.basis == "fourier" else bf.inverse_mobius(vec)
    np.testing.assert_allclose(values, oracle, atol=1e-10)
    assert (f.n_calls, f.n_rows) == (1, 256)
    f(masks[:10])
    assert (f.n_calls, f.n_rows) == (2, 266)
    # it satisfies the value-function contract
    checked = as_value_function(f, 8)
    np.testing.assert_allclose(checked(masks[:5]), values[:5])


@pytest.mark.parametrize("make", [random_sparse_fourier, random_hierarchical])
def test_signal_variance_is_the_variance_over_all_masks(make):
    truth = make(9, 7, random_state=7)
    table = bf.table(truth, 9)
    f = PlantedFunction(truth)
    assert f.signal_variance() == pytest.approx(np.var(table), rel=1e-12)


@pytest.mark.parametrize("snr_db", [-10.0, 0.0, 3.0, 20.0])
def test_noise_sd_for_snr(snr_db):
    truth = random_hierarchical(9, 5, random_state=8)
    sd = PlantedFunction.noise_sd_for_snr(truth, snr_db)
    var = np.var(bf.table(truth, 9))
    assert 10 * np.log10(var / sd**2) == pytest.approx(snr_db, abs=1e-9)


def test_noise_has_the_requested_sd_and_is_seeded():
    truth = random_sparse_fourier(6, 4, random_state=9)
    masks = np.repeat(bf.all_masks(6), 300, axis=0)  # 19 200 rows
    clean = truth.predict(masks)
    f = PlantedFunction(truth, noise_sd=0.25, random_state=1)
    noise = f(masks) - clean
    assert abs(noise.mean()) < 0.01
    assert noise.std() == pytest.approx(0.25, rel=0.03)
    again = PlantedFunction(truth, noise_sd=0.25, random_state=1)(masks)
    np.testing.assert_array_equal(again - clean, noise)
    assert not np.array_equal(f(masks) - clean, noise)  # fresh noise on the next call


def test_fingerprint_identifies_the_noiseless_function():
    truth = random_sparse_fourier(6, 4, random_state=9)
    same = Interactions.from_json(truth.to_json())
    other = random_sparse_fourier(6, 4, random_state=10)
    fp = PlantedFunction(truth).fingerprint()
    assert fp == PlantedFunction(same, random_state=5).fingerprint()
    assert fp != PlantedFunction(other).fingerprint()
    assert fp != PlantedFunction(truth, noise_sd=0.1).fingerprint()
    assert fp.startswith("planted:")
