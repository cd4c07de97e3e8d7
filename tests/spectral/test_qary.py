"""Interactions over q states against brute force on full tables of small q-ary functions."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from interplay.spectral.interactions import Interactions
from interplay.spectral.subsets import canonical_spectrum


def all_states(n: int, q: int) -> np.ndarray:
    return np.array(list(itertools.product(range(q), repeat=n)), dtype=np.int64)


def full_spectrum(values: np.ndarray, n: int, q: int) -> Interactions:
    """Exact spectrum of a function given on all states (C order): F = FFT(f) / q^n."""
    spec = (np.fft.fftn(values.reshape([q] * n)) / q**n).ravel()
    if q == 2:  # binary: real coefficients, the frequency vectors are membership vectors
        return Interactions(all_states(n, 2).astype(bool), spec.real, n_features=n)
    return Interactions(all_states(n, q), spec, n_features=n, q=q)


def brute_predict(freq: np.ndarray, coef: np.ndarray, states: np.ndarray, q: int) -> np.ndarray:
    out = np.zeros(states.shape[0], dtype=complex)
    for k, c in zip(freq, coef, strict=True):
        out += c * np.exp(2j * np.pi * (states @ k) / q)
    return out


@pytest.fixture(params=[(3, 3), (4, 3), (5, 2), (2, 4)])
def table(request):
    q, n = request.param
    rng = np.random.default_rng(q * 10 + n)
    states = all_states(n, q)
    values = rng.normal(size=states.shape[0])
    return q, n, states, values


def test_full_spectrum_predicts_the_function_and_is_real(table):
    q, n, states, values = table
    spec = full_spectrum(values, n, q)
    assert spec.is_real
    pred = spec.predict(states)
    assert pred.dtype == np.float64
    np.testing.assert_allclose(pred, values, atol=1e-10)
    assert spec.baseline == pytest.approx(values.mean())
    assert spec.variance() == pytest.approx(values.var())


def test_predict_matches_definition_for_complex_spectrum():
    rng = np.random.default_rng(0)
    q, n = 3, 4
    freq = rng.integers(0, q, size=(6, n))
    coef = rng.normal(size=6) + 1j * rng.normal(size=6)
    spec = Interactions(freq, coef, n_features=n, q=q)
    states = all_states(n, q)
    expected = brute_predict(freq, coef, states, q)
    got = spec.predict(states)
    assert np.iscomplexobj(got)  # not conjugate-symmetric
    np.testing.assert_allclose(got, expected, atol=1e-12)
    assert spec.predict(states[5]) == pytest.approx(expected[5])


def test_duplicates_are_summed_and_sorted():
    spec = Interactions(
        [[0, 2, 0], [1, 0, 0], [0, 2, 0], [0, 0, 0]], [1.0, 2.0, 0.5j, 3.0], n_features=3, q=3
    )
    assert len(spec) == 3
    assert spec[{1: 2}] == pytest.approx(1 + 0.5j)
    assert spec[{"x1": 2, 0: 0}] == pytest.approx(1 + 0.5j)  # by name; a zero entry is no entry
    assert spec[{2: 1}] == 0
    assert spec[(0,)] == 2.0  # a subset: exponent 1 on each of its features
    assert list(spec.degrees) == [0, 1, 1]
    assert spec.subsets == [(), (0,), (1,)]
    np.testing.assert_array_equal(spec.frequencies, [[0, 0, 0], [1, 0, 0], [0, 2, 0]])


def test_main_effects_are_conditional_means(table):
    q, n, states, values = table
    spec = full_spectrum(values, n, q)
    effects = spec.main_effects()
    assert effects.shape == (n, q)
    for i in range(n):
        for a in range(q):
            expected = values[states[:, i] == a].mean() - values.mean()
            assert effects[i, a] == pytest.approx(expected, abs=1e-10)
    np.testing.assert_allclose(effects.sum(axis=1), 0, atol=1e-10)


def test_pairwise_effects_are_anova_interactions(table):
    q, n, states, values = table
    spec = full_spectrum(values, n, q)
    main = spec.main_effects()
    pairs = spec.pairwise_effects()
    assert set(pairs) == set(itertools.combinations(range(n), 2))
    mean = values.mean()
    for i, j in itertools.combinations(range(n), 2):
        table_ij = spec.pairwise_effect(i, j)
        np.testing.assert_allclose(table_ij, pairs[(i, j)])
        np.testing.assert_allclose(spec.pairwise_effect(j, i), table_ij.T)
        for a in range(q):
            for b in range(q):
                sel = (states[:, i] == a) & (states[:, j] == b)
                expected = values[sel].mean() - main[i, a] - main[j, b] - mean
                assert table_ij[a, b] == pytest.approx(expected, abs=1e-10)
    with pytest.raises(ValueError, match="two different features"):
        spec.pairwise_effect(0, 0)


def test_interaction_variance_is_an_anova_decomposition(table):
    q, n, _states, values = table
    spec = full_spectrum(values, n, q)
    terms = spec.interaction_variance()
    assert len(terms) == 2**n - 1
    assert sum(t.value for t in terms) == pytest.approx(values.var())
    assert [t.value for t in terms] == sorted((t.value for t in terms), reverse=True)
    # Variance of the pure main effect of position 0 from the effect table.
    single = {t.features: t.value for t in terms}
    assert single[(0,)] == pytest.approx(np.mean(spec.main_effects()[0] ** 2))
    assert all(len(t.features) <= 1 for t in spec.interaction_variance(max_order=1))


def test_top_lists_each_conjugate_pair_once():
    q, n = 5, 4
    freq = np.array([[1, 0, 2, 0], [0, 0, 0, 3]])
    coef = np.array([2.0 + 1.0j, 0.5j])
    neg = (-freq) % q
    spec = Interactions(
        np.vstack([freq, neg, np.zeros((1, n), int)]),
        np.concatenate([coef, np.conj(coef), [7.0]]),
        n_features=n,
        q=q,
        feature_names=list("abcd"),
    )
    assert spec.is_real
    terms = spec.top(10)
    assert len(terms) == 2
    assert terms[0].features == (0, 2) and terms[0].names == ("a", "c")
    assert terms[0].paired
    assert terms[0].amplitude == pytest.approx(2 * abs(coef[0]))
    assert terms[1].features == (3,)
    assert len(spec.top(10, include_empty=True)) == 3
    assert str(terms[0]) == "2+1j  a × c^2 (+ conjugate)"  # exponent 1 is not written


def test_top_of_non_symmetric_spectrum_lists_every_term():
    spec = Interactions([[1, 0], [2, 0]], [1.0, 3.0], n_features=2, q=3)
    assert not spec.is_real
    assert [t.frequency for t in spec.top(5)] == [(2,), (1,)]
    assert not spec.top(5)[0].paired


def test_json_round_trip(tmp_path, table):
    q, n, _, values = table
    spec = full_spectrum(values, n, q)
    spec.method = "qsft"
    spec.n_queries = 123
    spec.metadata = {"b": 2}
    path = spec.save(tmp_path / "sub" / "spec.json")
    back = Interactions.load(path)
    assert back.allclose(spec, atol=0)
    assert (back.q, back.n_queries, back.method, back.metadata) == (q, 123, "qsft", {"b": 2})
    assert back.feature_names == spec.feature_names
    data = json.loads(path.read_text())
    data["format"] = "something else"
    with pytest.raises(ValueError, match="not an interplay interactions document"):
        Interactions.from_dict(data)
    data["format"] = "interplay.qary_interactions"
    data["version"] = 99
    with pytest.raises(ValueError, match="version"):
        Interactions.from_dict(data)


def test_canonical_spectrum_merges_and_sorts():
    freq, coef = canonical_spectrum(np.array([[3, 0], [0, 0], [-4, 0]]), [1, 2, 3], 7)
    np.testing.assert_array_equal(freq, [[0, 0], [3, 0]])
    np.testing.assert_allclose(coef, [2, 4])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"frequencies": [[0, 1]], "coefficients": [1.0], "n_features": 3, "q": 3}, "shape"),
        (
            {"frequencies": [[0, 1, 0]], "coefficients": [1.0, 2.0], "n_features": 3, "q": 3},
            "2 coe",
        ),
        ({"frequencies": [[0, 1, 0]], "coefficients": [np.nan], "n_features": 3, "q": 3}, "finite"),
        ({"frequencies": [[0, 1, 0]], "coefficients": [1.0], "n_features": 3, "q": 1}, "q must"),
        ({"frequencies": [{5: 1}], "coefficients": [1.0], "n_features": 3, "q": 3}, "feature 5"),
        ({"frequencies": [[0.5, 1, 0]], "coefficients": [1.0], "n_features": 3, "q": 3}, "integers"),
        (
            {
                "frequencies": [[0, 1, 0]],
                "coefficients": [1],
                "n_features": 3,
                "q": 3,
                "feature_names": ["a"],
            },
            "feature names",
        ),
        (
            {
                "frequencies": [[0, 1, 0]],
                "coefficients": [1],
                "n_features": 3,
                "q": 3,
                "state_names": "AC",
            },
            "state names",
        ),
    ],
)
def test_bad_input_is_refused(kwargs, message):
    freq = kwargs.pop("frequencies")
    coef = kwargs.pop("coefficients")
    with pytest.raises(ValueError, match=message):
        Interactions(freq, coef, **kwargs)


def test_predict_refuses_bad_states():
    spec = Interactions([[1, 0]], [1.0], n_features=2, q=3)
    with pytest.raises(ValueError, match="shape"):
        spec.predict(np.zeros((2, 3), int))
    with pytest.raises(ValueError, match="0..2"):
        spec.predict(np.array([[0, 3]]))


def test_complex_valued_function_round_trips_and_predicts():
    """A complex-valued f: no conjugate symmetry, complex predictions, effects and baseline."""
    rng = np.random.default_rng(5)
    q, n = 3, 3
    states = all_states(n, q)
    values = rng.normal(size=states.shape[0]) + 1j * rng.normal(size=states.shape[0])
    spec = full_spectrum(values, n, q)
    assert not spec.is_real
    np.testing.assert_allclose(spec.predict(states), values, atol=1e-10)
    assert spec.baseline == pytest.approx(values.mean())
    assert spec.variance() == pytest.approx(np.mean(np.abs(values - values.mean()) ** 2))
    effects = spec.main_effects()
    assert np.iscomplexobj(effects)
    for a in range(q):
        assert effects[1, a] == pytest.approx(values[states[:, 1] == a].mean() - values.mean())
    back = Interactions.from_json(spec.to_json())
    np.testing.assert_array_equal(back.coefficients, spec.coefficients)  # re and im kept
    assert not any(t.paired for t in spec.top(50))


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.to_mobius(),
        lambda r: r.index("SII"),
        lambda r: r.shapley_values(),
        lambda r: r.banzhaf_values(),
        lambda r: Interactions([[1, 0]], [1.0], n_features=2, q=3, basis="mobius"),
    ],
)
def test_binary_only_quantities_refuse_q_above_two_in_one_line(call):
    spec = Interactions([[1, 0], [2, 0]], [1 + 1j, 1 - 1j], n_features=2, q=3)
    with pytest.raises(ValueError, match=r"defined for binary features \(q=2\).*q=3") as info:
        call(spec)
    assert "\n" not in str(info.value)
    assert spec.to_fourier() is spec


def test_from_arrays_and_index_arrays_round_trip():
    n, q = 5, 4
    index = np.array([[3, 1], [5, 5], [1, 3], [2, 5]])  # padded with n = 5, any order
    exponents = np.array([[2, 1], [0, 0], [1, 2], [7, 0]])  # taken mod q; 7 -> 3
    coef = np.array([1.0 + 1j, 2.0, 0.5, -1j])
    spec = Interactions.from_arrays(index, coef, n_features=n, q=q, exponents=exponents)
    assert spec[{1: 1, 3: 2}] == pytest.approx(1.5 + 1j)  # rows 0 and 2 are one term
    assert spec[{2: 3}] == pytest.approx(-1j) and spec[()] == pytest.approx(2.0)
    got_index, got_exponents = spec.index_arrays()
    again = Interactions.from_arrays(got_index, spec.coefficients, n_features=n, q=q,
                                     exponents=got_exponents)
    assert again.allclose(spec, atol=0)
    dense = Interactions(spec.frequencies, spec.coefficients, n_features=n, q=q)
    assert dense.allclose(spec, atol=0)


def test_align_pairs_the_union_of_two_q_ary_spectra():
    a = Interactions([{0: 1}, {0: 2, 1: 1}], [1.0, 2.0], n_features=2, q=3)
    b = Interactions([{0: 1}, {1: 2}], [0.5, 3j], n_features=2, q=3)
    mine, theirs = a.align(b)
    assert set(zip(mine.tolist(), theirs.tolist(), strict=True)) == {(1, 0.5), (2, 0), (0, 3j)}
    assert not a.allclose(b)
    with pytest.raises(ValueError, match="q=3 and q=4 states"):
        a.align(Interactions([{0: 1}], [1.0], n_features=2, q=4))


def test_binary_expansion_refuses_complex_coefficients():
    with pytest.raises(ValueError, match="binary .q=2. expansion has real coefficients"):
        Interactions([(0,)], [1 + 1j], n_features=2)
