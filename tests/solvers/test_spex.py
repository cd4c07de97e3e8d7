"""SPEX against planted sparse functions (n = 1000) and brute force (small n)."""

import itertools

import numpy as np
import pytest

import interplay
from interplay.metrics import r2_score
from interplay.solvers.spex import SPEX, SPEXDesign
from interplay.values.planted import PlantedFunction, random_sparse_fourier


def _fresh_masks(n, count=2000, seed=123):
    return np.random.default_rng(seed).random((count, n)) < 0.5


def test_recovers_planted_function_exactly_at_n_1000():
    truth = random_sparse_fourier(1000, 40, max_degree=4, random_state=11)
    f = PlantedFunction(truth)
    result = interplay.explain(f, 1000, method="spex", budget=12_000, max_order=4,
                               random_state=0)
    assert result.n_queries <= 12_000
    assert result.n_queries == f.n_rows  # every query counted, each distinct mask once
    assert f.n_calls == 1  # one batch
    kept = result.truncate(4)
    big = np.abs(kept.coefficients) > 1e-8
    assert set(np.array(kept.subsets, dtype=object)[big]) == set(truth.subsets)
    for subset, value in zip(truth.subsets, truth.coefficients):
        assert result[subset] == pytest.approx(value, abs=1e-8)
    masks = _fresh_masks(1000)
    assert r2_score(truth.predict(masks), result.predict(masks)) > 1 - 1e-10


def _noisy_spex(seed, snr_db, noise_seed, budget, solver_seed=1):
    """A planted function (n = 1000, 40 terms of degree <= 4) with noise, and SPEX's result."""
    truth = random_sparse_fourier(1000, 40, max_degree=4, random_state=seed)
    sd = PlantedFunction.noise_sd_for_snr(truth, snr_db)
    f = PlantedFunction(truth, noise_sd=sd, random_state=noise_seed)
    result = interplay.explain(f, 1000, method="spex", budget=budget, max_order=4,
                               random_state=solver_seed)
    return truth, f, result


def test_noisy_planted_function_at_20_db():
    truth, f, result = _noisy_spex(12, 20.0, 3, 12_000)
    masks = _fresh_masks(1000, seed=7)
    assert r2_score(truth.predict(masks), result.predict(masks)) >= 0.95
    # and against the noisy function itself, as a user would measure it
    assert r2_score(f(masks), result.predict(masks)) >= 0.95


def test_noisy_planted_function_at_10_db_is_recovered_exactly_within_3000_queries():
    # weak terms (|F| near 0.5, noise sd 2.1) are read from sums of bins of several groups
    truth, _, result = _noisy_spex(1, 10.0, 2, 3000)
    assert result.n_queries <= 3000
    found = {s for s, c in zip(result.subsets, result.coefficients) if abs(c) > 1e-6}
    assert set(truth.subsets) <= found
    masks = _fresh_masks(1000, seed=8)
    assert r2_score(truth.predict(masks), result.predict(masks)) >= 0.99


def test_two_weak_terms_sharing_two_bins_are_found_by_the_matched_search():
    # benchmark seed 4: the two weakest terms (|F| 0.51, 0.56, noise sd 2.2) share two of
    # their three bins; no sum of bins decodes them, the matched-filter search does
    truth, _, result = _noisy_spex(4, 10.0, 5, 3000, solver_seed=4)
    assert result.n_queries <= 3000
    found = {s for s, c in zip(result.subsets, result.coefficients) if abs(c) > 1e-6}
    assert set(truth.subsets) - {()} <= found


def test_small_n_matches_brute_force_transform():
    n = 10
    truth = random_sparse_fourier(n, 12, max_degree=3, random_state=4)
    table_masks = np.array(list(itertools.product([0, 1], repeat=n)), dtype=bool)
    values = truth.predict(table_masks)
    # brute-force WHT from the definition
    signs = 1 - 2 * ((table_masks.astype(int) @ table_masks.T.astype(int)) % 2)
    brute = signs @ values / 2**n
    # 1000 < 2^10: SPEX's own design (a budget of 1024 would query every mask: exact)
    result = interplay.explain(lambda m: truth.predict(m), n, method="spex", budget=1000,
                               max_order=3, random_state=5)
    assert "exact" not in result.metadata
    recovered = np.zeros(2**n)
    support = result.support_matrix()
    rows = support.astype(int) @ (1 << np.arange(n))[::-1]
    recovered[rows] = result.coefficients
    table_rows = table_masks.astype(int) @ (1 << np.arange(n))[::-1]
    np.testing.assert_allclose(recovered[table_rows], brute, atol=1e-9)


def test_budget_too_small_names_the_minimum():
    minimum = SPEXDesign.minimum_budget(1000, 4)
    with pytest.raises(interplay.BudgetError, match=str(minimum)):
        interplay.explain(lambda m: np.zeros(len(m)), 1000, method="spex", budget=minimum - 1,
                          max_order=4)
    design = SPEX(budget=minimum, max_order=4).design(1000)
    assert design.n_queries <= minimum


def test_budget_is_respected_and_seed_reproducible():
    truth = random_sparse_fourier(300, 20, max_degree=3, random_state=6)
    runs = [
        interplay.explain(PlantedFunction(truth), 300, method="spex", budget=5000, max_order=3,
                          random_state=9)
        for _ in range(2)
    ]
    assert runs[0].n_queries <= 5000
    assert runs[0].subsets == runs[1].subsets
    np.testing.assert_array_equal(runs[0].coefficients, runs[1].coefficients)
    other_seed = interplay.explain(PlantedFunction(truth), 300, method="spex", budget=5000,
                                   max_order=3, random_state=10)
    assert other_seed.metadata["diagnostics"]["b"] == runs[0].metadata["diagnostics"]["b"]


def test_bad_value_function_output_is_a_clear_error():
    def nan_at_row_3(masks):
        out = np.zeros(len(masks))
        out[3] = np.nan
        return out

    with pytest.raises(ValueError, match="NaN"):
        interplay.explain(nan_at_row_3, 50, method="spex", budget=3000, max_order=2)
    with pytest.raises(ValueError, match="shape"):
        interplay.explain(lambda m: np.zeros((len(m), 2)), 50, method="spex", budget=3000,
                          max_order=2)


def test_solver_options_are_checked():
    f = lambda m: np.zeros(len(m))
    with pytest.raises(ValueError, match="repeats max_order"):
        interplay.explain(f, 20, method="spex", solver_options={"max_order": 3})
    with pytest.raises(ValueError, match="no option chase_dept"):
        interplay.explain(f, 20, method="spex", solver_options={"chase_dept": 3})


def test_wrong_feature_names_fail_before_any_query():
    calls = []

    def f(masks):
        calls.append(len(masks))
        return np.zeros(len(masks))

    with pytest.raises(ValueError, match="2 feature names given for 20 features"):
        interplay.explain(f, 20, method="spex", budget=3000, max_order=2,
                          feature_names=["a", "b"])
    assert calls == []


def test_groups_of_unequal_size_and_a_crowded_design_recover_exactly():
    """40 terms at n = 1000 from 1 350 queries: 16 + 8 + 8 bins; bins of two or three
    terms are resolved by successive cancellation."""
    truth = random_sparse_fourier(1000, 40, max_degree=4, random_state=3)
    f = PlantedFunction(truth)
    result = interplay.explain(f, 1000, method="spex", budget=1500, max_order=4,
                               random_state=3)
    assert result.metadata["diagnostics"]["b"] == [4, 3, 3]
    assert result.n_queries <= 1500
    masks = _fresh_masks(1000, seed=4)
    assert r2_score(truth.predict(masks), result.predict(masks)) > 1 - 1e-10
    explicit = SPEX(b=(5, 3), max_order=4).design(1000)
    assert explicit.b == (5, 3) and explicit.n_groups == 2
