"""Exact when it is cheap: every registered method, brute force as the oracle.

When every mask fits in the budget (or the method's own design would cost as many queries),
every method queries each mask once and returns the exact expansion. These tests started as
the observed failures: a 2-feature function explained by a baseline term only, one feature
giving no terms, ProxySPEX off by up to 1.7 at n <= 5, SPEX dropping terms at n <= 2 and
refusing n = 3 with budget 100 although only 8 masks exist.
"""

from __future__ import annotations

import itertools
import warnings

import bruteforce as bf
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import interplay
from interplay.metrics import r2_score
from interplay.solvers import REGISTRY, BudgetError
from interplay.solvers.exact import all_states
from interplay.spectral.interactions import Interactions
from interplay.values.planted import PlantedFunction, random_sparse_fourier
from interplay.values.qary import random_sparse_qary

METHODS = sorted(REGISTRY)


class TableFunction:
    """f given by its full table (index: the integer code of the mask)."""

    def __init__(self, table):
        self.table = np.asarray(table, dtype=np.float64)
        self.n = bf.n_of(self.table) if self.table.size > 1 else 0

    def __call__(self, masks):
        codes = np.asarray(masks, dtype=np.int64) @ (1 << np.arange(masks.shape[1]))
        return self.table[codes]


def dense(result, n):
    """(2^n,) coefficient vector of a binary result, indexed by subset code."""
    out = np.zeros(2**n)
    codes = result.support_matrix().astype(np.int64) @ (1 << np.arange(n))
    np.add.at(out, codes, result.coefficients)
    return out


def oracle(result, table):
    """The brute-force transform in the result's basis."""
    return bf.walsh_hadamard(table) if result.basis == "fourier" else bf.mobius(table)


def assert_exact(result, table, n):
    masks = bf.all_masks(n)
    assert result.metadata["exact"] is True
    assert "exact" in result.metadata["exact_note"]
    assert result.n_queries == 2**n
    np.testing.assert_allclose(result.predict(masks), table, rtol=0, atol=1e-9)
    np.testing.assert_allclose(dense(result, n), oracle(result, table), rtol=0, atol=1e-9)


# ------------------------------------------------------------ the observed failures
SENTIMENT = np.array([0.86, 2.56, -1.54, 0.30])  # f(0,0), f(1,0), f(0,1), f(1,1)


@pytest.mark.parametrize("method", METHODS)
def test_two_sentences_are_explained_exactly_not_by_a_baseline(method):
    result = interplay.explain(TableFunction(SENTIMENT), 2, method=method, budget=100)
    assert_exact(result, SENTIMENT, 2)
    assert len(result) == 4  # every coefficient of this function is non-zero


@pytest.mark.parametrize("method", METHODS)
def test_one_feature_gives_its_terms(method):
    table = np.array([-0.4, 1.1])
    result = interplay.explain(TableFunction(table), 1, method=method, budget=100)
    assert_exact(result, table, 1)
    assert len(result) == 2


@pytest.mark.parametrize("method", METHODS)
def test_five_features_on_all_32_masks_leave_no_feature_at_zero(method):
    rng = np.random.default_rng(5)
    table = bf.random_dense_table(5, rng)
    result = interplay.explain(TableFunction(table), 5, method=method, budget=32)
    assert_exact(result, table, 5)
    assert np.all(np.abs(result.banzhaf_values() - bf.banzhaf_values(table)) < 1e-9)
    assert np.all(result.banzhaf_values() != 0.0)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5])
def test_proxyspex_is_exact_at_small_n_with_its_default_budget(n):
    table = bf.random_dense_table(n, np.random.default_rng(n))
    result = interplay.explain(TableFunction(table), n, method="proxyspex", budget=None)
    assert_exact(result, table, n)


def test_spex_at_three_features_with_budget_100_queries_the_eight_masks():
    table = bf.random_dense_table(3, np.random.default_rng(3))
    result = interplay.explain(TableFunction(table), 3, method="spex", budget=100)
    assert result.n_queries == 8
    assert_exact(result, table, 3)


def test_the_method_design_costing_more_than_every_mask_is_exact():
    """SPEX's default design at n = 8 costs thousands of queries; 256 masks are cheaper."""
    table = bf.random_dense_table(8, np.random.default_rng(8))
    result = interplay.explain(TableFunction(table), 8, method="spex", budget=None)
    assert_exact(result, table, 8)


# ------------------------------------------------- the contract: every method, n = 1..8
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", range(1, 9))
def test_every_method_equals_brute_force_when_every_mask_fits(method, n):
    table = bf.random_dense_table(n, np.random.default_rng(100 + n))
    for budget in (2**n, 2**n + 37):
        result = interplay.explain(TableFunction(table), n, method=method, budget=budget,
                                   max_order=2, random_state=0)
        assert_exact(result, table, n)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    method=st.sampled_from(METHODS),
    n=st.integers(1, 6),
    seed=st.integers(0, 2**32 - 1),
    extra=st.integers(0, 1000),
    max_order=st.integers(1, 6),
    scale=st.sampled_from([1e-300, 1e-6, 1.0, 1e6, 1e300]),
)
def test_property_random_small_functions_are_exact(method, n, seed, extra, max_order, scale):
    rng = np.random.default_rng(seed)
    table = bf.random_dense_table(n, rng)
    table[rng.random(2**n) < 0.3] = 0.0  # ties and zeros
    result = interplay.explain(TableFunction(table * scale), n, method=method,
                               budget=2**n + extra, max_order=max_order, random_state=seed)
    masks = bf.all_masks(n)
    assert result.metadata["exact"] is True and result.n_queries == 2**n
    np.testing.assert_allclose(result.predict(masks) / scale, table, rtol=0, atol=1e-9)
    np.testing.assert_allclose(dense(result, n) / scale, oracle(result, table), rtol=0,
                               atol=1e-9)


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_qsft_qary_is_exact_when_every_state_fits(n):
    q = 3
    rng = np.random.default_rng(n)
    table = rng.normal(size=q**n)
    states = all_states(n, q)

    def f(x):
        return table[np.asarray(x) @ (q ** np.arange(n))]

    result = interplay.explain(f, n, method="qsft", q=q, budget=q**n)
    assert isinstance(result, Interactions)
    assert result.metadata["exact"] is True and result.n_queries == q**n
    np.testing.assert_allclose(result.predict(states), table, rtol=0, atol=1e-9)
    # F(k) = q^-n Σ_x f(x) ω^{-<k, x>} from the definition
    omega = np.exp(-2j * np.pi / q)
    for k in itertools.islice(states, 0, None, 5):
        truth = np.mean(table * omega ** (states @ k))
        assert abs(result[k] - truth) < 1e-9


@pytest.mark.parametrize(("q", "n"), [(3, 3), (4, 2), (5, 2)])
def test_qsft_exact_path_takes_complex_values(q, n):
    """A complex-valued f on Z_q^n: the exact path's coefficients are the q-ary FFT's, by
    the definition, and the expansion reproduces every complex value."""
    rng = np.random.default_rng(q)
    table = rng.normal(size=q**n) + 1j * rng.normal(size=q**n)
    states = all_states(n, q)

    def f(x):
        return table[np.asarray(x) @ (q ** np.arange(n))]

    result = interplay.explain(f, n, method="qsft", q=q, budget=q**n)
    assert result.metadata["exact"] is True and not result.is_real
    np.testing.assert_allclose(result.predict(states), table, rtol=0, atol=1e-9)
    omega = np.exp(-2j * np.pi / q)
    for k in states:
        assert abs(result[k] - np.mean(table * omega ** (states @ k))) < 1e-9
    back = Interactions.from_json(result.to_json())
    np.testing.assert_allclose(back.predict(states), table, rtol=0, atol=1e-9)


def test_binary_solvers_refuse_complex_values_before_a_second_query():
    calls = []

    def f(masks):
        calls.append(len(masks))
        return masks.sum(axis=1) * (1 + 1j)

    for method in ("spex", "proxyspex", "qsft"):
        calls.clear()
        with pytest.raises(ValueError, match=r"binary \(q=2\) methods .* need real numbers"):
            interplay.explain(f, 12, method=method, budget=2000, random_state=0)
        assert len(calls) == 1


# -------------------------------------------------------- max_order and below exactness
def test_max_order_is_not_applied_to_the_exact_expansion_and_metadata_says_so():
    table = bf.random_dense_table(5, np.random.default_rng(0))
    result = interplay.explain(TableFunction(table), 5, method="spex", budget=32, max_order=2)
    assert result.degrees.max() == 5
    above = int(np.sum(result.degrees > 2))
    assert result.metadata["terms_above_max_order"] == above > 0
    assert "truncate(2)" in result.metadata["max_order_note"]
    assert result.truncate(2).degrees.max() == 2


@pytest.mark.parametrize(
    ("method", "budget", "design"),
    [
        ("spex", 100, "the smallest design needs"),
        ("proxyspex", 10, "needs at least 20 distinct random masks"),
        ("qsft", 10, "the smallest design needs"),
        ("kernelshap", 1, "the smallest design is 2 queries"),
        ("faith_shap", 1, "the smallest design is 2 queries"),
    ],
)
def test_below_exactness_the_error_names_the_smallest_design_and_the_exact_budget(
    method, budget, design
):
    with pytest.raises(BudgetError, match=design) as info:
        interplay.explain(TableFunction(np.zeros(2**10)), 10, method=method, budget=budget)
    assert "2^10 = 1024" in str(info.value) and "exact" in str(info.value)


def test_a_sampled_design_is_not_marked_exact():
    truth = random_sparse_fourier(12, 4, max_degree=2, random_state=0)
    result = interplay.explain(PlantedFunction(truth), 12, method="spex", budget=2000,
                               max_order=2, random_state=0)
    assert result.n_queries < 2**12 and "exact" not in result.metadata


def test_the_result_records_the_masks_it_queried():
    truth = random_sparse_fourier(20, 4, max_degree=2, random_state=1)
    sent = []

    def f(masks):
        sent.append(masks.copy())
        return PlantedFunction(truth)(masks)

    result = interplay.explain(f, 20, method="proxyspex", budget=300, random_state=0)
    queried = np.concatenate(sent)
    assert len(result.queried_masks) == result.n_queries == 300
    assert result.queried_masks.contains(queried).all()
    fresh = np.random.default_rng(9).random((200, 20)) < 0.5
    unseen = ~(fresh[:, None, :] == queried[None]).all(axis=2).any(axis=1)
    assert not result.queried_masks.contains(fresh[unseen]).any()


# ------------------------------------------------------------------ scale invariance
SAMPLED = [("spex", 2500), ("proxyspex", 600), ("qsft", 2500), ("banzhaf", 600),
           ("kernelshap", 600), ("faith_banzhaf", 600), ("faith_shap", 600), ("lime", 600)]


@pytest.mark.parametrize(("method", "budget"), SAMPLED)
@pytest.mark.parametrize("scale", [1e300, 1e-300])
def test_solvers_are_scale_invariant(method, budget, scale):
    n = 12
    truth = random_sparse_fourier(n, 5, max_degree=2, random_state=3)
    f = PlantedFunction(truth)
    reference = interplay.explain(f, n, method=method, budget=budget, max_order=2,
                                  random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow, underflow or "less sparse" warnings
        scaled = interplay.explain(lambda m: scale * f(m), n, method=method, budget=budget,
                                   max_order=2, random_state=0)
    assert "exact" not in scaled.metadata
    masks = np.random.default_rng(1).random((300, n)) < 0.5
    np.testing.assert_allclose(scaled.predict(masks) / scale, reference.predict(masks),
                               rtol=1e-6, atol=1e-9 * np.abs(reference.predict(masks)).max())
    assert len(scaled) == len(reference)


@pytest.mark.parametrize("method", ["spex", "qsft", "proxyspex"])
def test_a_constant_function_is_fitted_without_warnings(method):
    n = 12
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = interplay.explain(lambda m: np.full(len(m), 3.25), n, method=method,
                                   budget=2500, max_order=2, random_state=0)
    masks = np.random.default_rng(0).random((100, n)) < 0.5
    np.testing.assert_allclose(result.predict(masks), 3.25, atol=1e-9)
    if "sample_r2" in result.metadata:
        assert result.metadata["diagnostics"]["sample_r2"] == 1.0


def test_qsft_known_noise_level_is_read_in_the_values_units():
    q, n = 4, 12
    truth = random_sparse_qary(n, q, 10, max_degree=2, random_state=7)
    sd = PlantedFunction.noise_sd_for_snr(truth, 10.0)
    options = {"delays": "robust", "sparsity": 10}
    f = PlantedFunction(truth, noise_sd=sd, random_state=8)
    reference = interplay.explain(f, n, method="qsft", q=q, random_state=2,
                                  solver_options={**options, "noise_sd": sd})
    f = PlantedFunction(truth, noise_sd=sd, random_state=8)  # the same noise again
    scaled = interplay.explain(lambda x: 1e6 * f(x), n, method="qsft", q=q, random_state=2,
                               solver_options={**options, "noise_sd": 1e6 * sd})
    states = np.random.default_rng(0).integers(0, q, size=(200, n))
    assert r2_score(truth.predict(states), reference.predict(states)) > 0.9
    assert len(scaled) == len(reference)
    np.testing.assert_allclose(scaled.predict(states) / 1e6, reference.predict(states),
                               rtol=1e-6, atol=1e-9)


def test_no_exact_offer_beyond_two_to_the_24_masks():
    with pytest.raises(BudgetError, match="the smallest design needs") as info:
        interplay.explain(TableFunction(np.zeros(2)), 30, method="spex", budget=10)
    assert "covers every mask" not in str(info.value)
