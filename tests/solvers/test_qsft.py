"""q-SFT: design pieces against brute force, exact recovery, noise, q = 2 against SPEX."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import pytest

import interplay
from interplay.metrics import nmse
from interplay.solvers import BudgetError
from interplay.solvers.normalised import NormalisedValueFunction
from interplay.solvers.qsft import QSFT
from interplay.sparse_fourier import low_order_frequencies
from interplay.spectral.interactions import Interactions
from interplay.spectral.subsets import canonical_spectrum
from interplay.values.base import as_value_function
from interplay.values.planted import PlantedFunction, random_sparse_fourier
from interplay.values.qary import random_sparse_qary


def spectrum_nmse(result: Interactions, truth: Interactions) -> float:
    return nmse(result, truth, include_empty=True)


def support(result: Interactions) -> set[bytes]:
    return {k.tobytes() for k in result.frequencies.astype(np.int64)}


# ------------------------------------------------------------------ design pieces


# ------------------------------------------------------------------ recovery


@pytest.mark.parametrize(("q", "n"), [(3, 100), (4, 100), (5, 100)])
def test_exact_recovery_noiseless(q, n):
    truth = random_sparse_qary(n, q, 50, max_degree=3, random_state=q + n)
    f = PlantedFunction(truth)
    result = interplay.explain(f, n, method="qsft", q=q, random_state=1)
    assert isinstance(result, Interactions)
    assert support(result) == support(truth)
    assert result.allclose(truth, atol=1e-8)
    assert result.n_queries == f.n_rows  # every distinct query counted once
    assert result.n_queries <= result.metadata["diagnostics"]["design"]["max_queries"]
    assert result.method == "qsft"
    assert result.is_real


def test_noisy_recovery_with_robust_delays():
    q, n = 4, 20
    truth = random_sparse_qary(n, q, 50, max_degree=3, random_state=7)
    sd = PlantedFunction.noise_sd_for_snr(truth, 10.0)
    f = PlantedFunction(truth, noise_sd=sd, random_state=8)
    result = interplay.explain(
        f, n, method="qsft", q=q, random_state=2, solver_options={"delays": "robust"}
    )
    assert support(result) == support(truth)
    assert spectrum_nmse(result, truth) <= 1e-3
    assert result.metadata["diagnostics"]["noise_sd_per_query"] == pytest.approx(sd, rel=0.1)


@pytest.mark.parametrize(("q", "n"), [(3, 60), (4, 40), (5, 30)])
def test_complex_valued_planted_function_is_recovered_exactly(q, n):
    """A complex f on Z_q^n: no conjugate pairs to lean on; every term is found alone."""
    truth = random_sparse_qary(n, q, 30, max_degree=3, real=False, random_state=q)
    f = PlantedFunction(truth)
    result = interplay.explain(f, n, method="qsft", q=q, random_state=1,
                               solver_options={"sparsity": 15})  # 30 terms: one per interaction
    assert not result.is_real and len(result) == len(truth)
    assert support(result) == support(truth)
    assert result.allclose(truth, atol=1e-8)
    assert result.metadata["diagnostics"]["sample_r2"] == pytest.approx(1.0, abs=1e-9)
    states = np.random.default_rng(0).integers(0, q, size=(200, n))
    np.testing.assert_allclose(result.predict(states), f(states), atol=1e-8)


def test_complex_valued_function_under_noise_with_robust_delays():
    q, n = 3, 30
    truth = random_sparse_qary(n, q, 20, max_degree=2, real=False, random_state=4)
    sd = PlantedFunction.noise_sd_for_snr(truth, 10.0)
    f = PlantedFunction(truth, noise_sd=sd, random_state=5)
    result = interplay.explain(f, n, method="qsft", q=q, random_state=6,
                               solver_options={"delays": "robust", "sparsity": 10})
    assert support(result) == support(truth)
    assert spectrum_nmse(result, truth) <= 1e-2
    assert 0.8 < result.metadata["diagnostics"]["sample_r2"] < 1.0


def test_identity_delays_are_worse_than_robust_under_noise():
    """The robust design is what makes noisy recovery work (the test can fail)."""
    q, n = 4, 40
    truth = random_sparse_qary(n, q, 30, max_degree=3, random_state=3)
    sd = PlantedFunction.noise_sd_for_snr(truth, 5.0)
    errors = {}
    for delays in ("identity", "robust"):
        f = PlantedFunction(truth, noise_sd=sd, random_state=4)
        result = QSFT(q=q, delays=delays, random_state=5, sparsity=30).fit(
            as_value_function(f, n, q), n
        )
        errors[delays] = spectrum_nmse(result, truth)
    assert errors["robust"] < 1e-2
    assert errors["robust"] < errors["identity"]


def test_q2_equals_spex():
    n = 30
    truth = random_sparse_fourier(n, 20, max_degree=3, random_state=0)
    spex = interplay.explain(PlantedFunction(truth), n, method="spex", random_state=0, max_order=3)
    qsft = interplay.explain(
        PlantedFunction(truth), n, method="qsft", q=2, random_state=0, max_order=3
    )
    assert isinstance(qsft, Interactions)
    assert qsft.allclose(spex, atol=1e-8)
    assert qsft.allclose(truth, atol=1e-8)


def test_q2_equals_brute_force_walsh_hadamard():
    n = 8
    rng = np.random.default_rng(0)
    masks = np.array(list(itertools.product([0, 1], repeat=n)), dtype=bool)
    truth = random_sparse_fourier(n, 6, max_degree=3, random_state=1)
    values = truth.predict(masks)
    # Brute-force WHT: F(k) = 2^-n sum_m f(m) (-1)^<m, k>.
    signs = 1 - 2 * ((masks.astype(int) @ masks.astype(int).T) % 2)
    wht = signs @ values / 2**n
    result = QSFT(q=2, random_state=rng, b=4, max_order=n).fit(
        as_value_function(PlantedFunction(truth), n), n
    )
    dense = np.zeros(2**n)
    rows = {tuple(m): i for i, m in enumerate(masks.astype(int))}
    for s, c in zip(result.subsets, result.coefficients, strict=True):
        k = np.zeros(n, dtype=int)
        k[list(s)] = 1
        dense[rows[tuple(k)]] = c
    np.testing.assert_allclose(dense, wht, atol=1e-10)


def test_effects_of_recovered_function_match_truth():
    q, n = 4, 12
    truth = random_sparse_qary(n, q, 15, max_degree=2, random_state=11)
    result = interplay.explain(PlantedFunction(truth), n, method="qsft", q=q, random_state=0)
    np.testing.assert_allclose(result.main_effects(), truth.main_effects(), atol=1e-8)
    got, want = result.pairwise_effects(), truth.pairwise_effects()
    assert set(got) == set(want)
    for key in want:
        np.testing.assert_allclose(got[key], want[key], atol=1e-8)


# ------------------------------------------------------------------ contract


def test_budget_is_respected_and_too_small_budget_refused():
    q, n = 3, 15
    truth = random_sparse_qary(n, q, 10, max_degree=2, random_state=0)
    f = PlantedFunction(truth)
    result = interplay.explain(f, n, method="qsft", q=q, budget=5000, random_state=0)
    assert result.n_queries <= 5000
    assert result.metadata["diagnostics"]["design"]["max_queries"] <= 5000
    with pytest.raises(BudgetError, match=r"smallest design needs .* 3\^15 = 14348907"):
        interplay.explain(f, n, method="qsft", q=q, budget=50)


def test_plan_reports_the_design_and_fit_logs_it(caplog):
    solver = QSFT(q=4, sparsity=20)
    design = solver.plan(30)
    assert 4**design.b >= 80 and 4 ** (design.b - 1) < 80
    assert design.max_queries == 3 * 31 * (4**design.b - 1) + 31
    truth = random_sparse_qary(30, 4, 5, random_state=0)
    with caplog.at_level(logging.INFO, logger="interplay.solvers.qsft"):
        solver.fit(as_value_function(PlantedFunction(truth), 30, 4), 30)
    assert f"at most {design.max_queries} queries" in caplog.text


def test_same_seed_same_result():
    q, n = 3, 20
    truth = random_sparse_qary(n, q, 10, random_state=0)
    sd = PlantedFunction.noise_sd_for_snr(truth, 10.0)
    runs = [
        interplay.explain(
            PlantedFunction(truth, noise_sd=sd, random_state=1),
            n,
            method="qsft",
            q=q,
            random_state=3,
            solver_options={"delays": "robust"},
        )
        for _ in range(2)
    ]
    assert runs[0].allclose(runs[1], atol=0)
    assert runs[0].n_queries == runs[1].n_queries


def test_bad_values_and_parameters_are_refused():
    n = 6

    def nan_function(states):
        return np.full(states.shape[0], np.nan)

    with pytest.raises(ValueError, match="NaN"):
        interplay.explain(nan_function, n, method="qsft", q=3)
    with pytest.raises(ValueError, match=r"q must be an int in \[2, 128\]"):
        interplay.explain(lambda s: s.sum(1), n, method="qsft", q=1)
    with pytest.raises(ValueError, match="delays"):
        QSFT(q=3, delays="coded").plan(n)
    checked = as_value_function(lambda s: s.sum(1), n, alphabet_size=3)
    with pytest.raises(ValueError, match="3-ary masks"):
        QSFT(q=4).fit(checked, n)


def test_value_function_receives_integer_states():
    seen = []

    def f(states):
        seen.append(states)
        return states.sum(axis=1).astype(float)

    n, q = 5, 3
    result = interplay.explain(f, n, method="qsft", q=q, random_state=0, solver_options={"b": 3})
    batch = np.concatenate(seen)
    assert batch.dtype == np.int64 and batch.min() >= 0 and batch.max() <= q - 1
    # f is additive: only degree-1 terms and the offset, and it is predicted exactly.
    assert result.degrees.max() == 1
    states = np.random.default_rng(0).integers(0, q, size=(30, n))
    np.testing.assert_allclose(result.predict(states), states.sum(axis=1), atol=1e-9)


def test_small_n_design_is_deduplicated_exactly():
    """At n = 3 many design points coincide; each distinct state is queried once."""
    seen = []

    def f(states):
        seen.append(states.copy())
        return np.cos(states @ np.array([1.0, 2.0, 0.5]))

    # fit_sampled: the design itself (fit would query all 27 states: the design costs more)
    view = NormalisedValueFunction(as_value_function(f, 3, 3))
    result = QSFT(q=3, b=2, random_state=0).fit_sampled(view, 3)
    batch = np.concatenate(seen)
    assert len({r.tobytes() for r in batch}) == batch.shape[0]  # no state twice
    assert result.n_queries == batch.shape[0] <= 27
    # fit_sampled is the method alone: its metadata is what fit files under "diagnostics"
    assert result.n_queries < result.metadata["design"]["max_queries"]


def test_low_order_frequencies_and_completed_refit():
    freq = low_order_frequencies(4, 3, 2)
    assert freq.shape == (4 * 2 + 6 * 4, 4)
    assert len({r.tobytes() for r in freq}) == freq.shape[0]
    assert set((freq != 0).sum(axis=1)) == {1, 2}
    # complete_order=2 with too few bins for peeling: every weight <= 2 term is still
    # estimated exactly by the refit (each bin of each group and delay is one equation).
    q, n = 3, 6
    truth = random_sparse_qary(n, q, 30, max_degree=2, random_state=4)
    f = PlantedFunction(truth)
    with pytest.warns(UserWarning, match="explains only"):
        plain = QSFT(q=q, b=3, random_state=0).fit(as_value_function(f, n, q), n)
    complete = QSFT(q=q, b=3, random_state=0, complete_order=2).fit(as_value_function(f, n, q), n)
    assert complete.allclose(truth, atol=1e-8)
    assert not plain.allclose(truth, atol=1e-8)


def test_sample_r2_is_reported_and_a_dense_function_warns():
    q, n = 4, 12
    truth = random_sparse_qary(n, q, 10, random_state=0)
    result = interplay.explain(PlantedFunction(truth), n, method="qsft", q=q, random_state=0)
    assert result.metadata["diagnostics"]["sample_r2"] == pytest.approx(1.0, abs=1e-9)
    weights = np.random.default_rng(0).normal(size=(n, n))

    def dense(states):
        return np.sin(states @ weights).sum(axis=1)

    with pytest.warns(UserWarning, match="explains only"):
        result = interplay.explain(
            dense, n, method="qsft", q=q, random_state=0, solver_options={"b": 2}
        )
    assert result.metadata["diagnostics"]["sample_r2"] < 0.5


def test_queries_arrive_in_bounded_batches():
    """Each call gets at most _QUERY_BYTES of int64 states, and every state exactly once."""
    from interplay.sparse_fourier import engine

    seen = []

    def f(states):
        seen.append(states.copy())
        return states.sum(axis=1).astype(float)

    n, q = 40, 4
    QSFT(q=q, b=4, random_state=0).fit(as_value_function(f, n, q), n)
    assert len(seen) > 1
    assert all(s.nbytes <= engine._QUERY_BYTES for s in seen)
    batch = np.concatenate(seen)
    assert len({r.tobytes() for r in batch}) == batch.shape[0]


def test_canonical_spectrum_order_and_merge_against_python():
    """Degree, then support positions, then values; duplicates summed (frequency_groups)."""
    rng = np.random.default_rng(0)
    for _ in range(200):
        q, n, k = int(rng.integers(2, 7)), int(rng.integers(1, 9)), int(rng.integers(0, 30))
        freq = rng.integers(0, q, size=(k, n)) * (rng.random((k, n)) < rng.random())
        if k > 2:
            freq[rng.integers(0, k, k // 2)] = freq[rng.integers(0, k, k // 2)]
        coef = rng.normal(size=k) + 1j * rng.normal(size=k)
        merged: dict[tuple[int, ...], complex] = {}
        for row, c in zip(freq, coef, strict=True):
            merged[tuple(int(v) for v in row)] = merged.get(tuple(int(v) for v in row), 0) + c

        def key(row):
            support = [i for i, v in enumerate(row) if v]
            return (len(support), support, [row[i] for i in support])

        want = sorted(merged, key=key)
        got_freq, got_coef = canonical_spectrum(freq + q * rng.integers(-1, 2, (k, n)), coef, q)
        assert [tuple(int(v) for v in r) for r in got_freq] == want
        np.testing.assert_allclose(got_coef, [merged[w] for w in want], atol=1e-12)


@pytest.mark.parametrize("snr", [None, 10.0])
@pytest.mark.parametrize("q", [3, 4, 5])
def test_bch_coded_delays_need_several_times_fewer_queries(q, snr):
    """n = 100: BCH-coded delays read the same spectrum from > 3x fewer queries."""
    n = 100
    truth = random_sparse_qary(n, q, 20, max_degree=3, random_state=5)
    sd = 0.0 if snr is None else PlantedFunction.noise_sd_for_snr(truth, snr)
    delays = "identity" if snr is None else "robust"
    results = {}
    for code in ("unit", "bch"):
        f = PlantedFunction(truth, noise_sd=sd, random_state=1)
        b = QSFT(q=q, sparsity=20).plan(n).b  # q**b >= 4 * 20 bins
        solver = QSFT(q=q, b=b, delays=delays, delay_code=code, max_order=3, random_state=0)
        results[code] = solver.fit(as_value_function(f, n, q), n)
    assert results["bch"].n_queries * 3 < results["unit"].n_queries
    assert support(results["bch"]) == support(truth)
    assert spectrum_nmse(results["bch"], truth) < (1e-20 if snr is None else 1e-3)


def test_bch_coded_delays_refuse_a_q_that_is_neither_prime_nor_a_power_of_two():
    with pytest.raises(ValueError, match="power of two or a prime"):
        QSFT(q=6, delay_code="bch").plan(20)
    with pytest.raises(ValueError, match="delay_code must be"):
        QSFT(q=4, delay_code="gf").plan(20)
