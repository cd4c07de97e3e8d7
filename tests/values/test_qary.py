"""q-ary value functions: planted spectra, categorical tabular inputs, text with alternatives."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from interplay.values.base import as_value_function
from interplay.values.planted import PlantedFunction
from interplay.values.qary import CategoricalTabular, TextAlternatives, random_sparse_qary


@pytest.mark.parametrize("q", [2, 3, 4, 5])
def test_random_sparse_qary_is_real_sparse_and_low_degree(q):
    truth = random_sparse_qary(12, q, 15, max_degree=3, random_state=q)
    assert truth.is_real
    degrees = truth.degrees
    assert degrees.max() <= 3 and degrees[degrees > 0].min() >= 1
    # 15 conjugate pairs (one member when k = -k) plus the offset.
    nonzero = truth.frequencies[degrees > 0]
    classes = {min(k.tobytes(), ((-k) % q).tobytes()) for k in nonzero.astype(np.int64)}
    assert len(classes) == 15
    assert len(truth) <= 2 * 15 + 1
    again = random_sparse_qary(12, q, 15, max_degree=3, random_state=q)
    assert again.allclose(truth, atol=0)
    # The function it describes is real on every state.
    states = np.random.default_rng(0).integers(0, q, size=(50, 12))
    assert np.isrealobj(truth.predict(states))


def test_random_sparse_qary_rejects_bad_degrees_and_too_many_terms():
    with pytest.raises(ValueError, match="min_degree"):
        random_sparse_qary(3, 3, 2, max_degree=4)
    # n=3, q=4, degree 1: 9 vectors, 3 self-conjugate (entry 2) -> 3 + 3 pairs = 6 classes.
    assert len(random_sparse_qary(3, 4, 6, max_degree=1, random_state=0).top(10)) == 6
    with pytest.raises(ValueError, match="only 6 distinct"):
        random_sparse_qary(3, 4, 7, max_degree=1)


def test_planted_function_evaluates_truth_and_adds_noise():
    truth = random_sparse_qary(6, 3, 5, random_state=0)
    states = np.array(list(itertools.product(range(3), repeat=6)))
    clean = PlantedFunction(truth)
    np.testing.assert_allclose(clean(states), truth.predict(states))
    assert (clean.n_calls, clean.n_rows) == (1, 3**6)
    # Parseval: the variance of the table is the planted variance.
    assert clean(states).var() == pytest.approx(clean.signal_variance())
    sd = PlantedFunction.noise_sd_for_snr(truth, 10.0)
    assert sd**2 == pytest.approx(truth.variance() / 10)
    noisy = PlantedFunction(truth, noise_sd=sd, random_state=1)
    resid = noisy(states) - clean(states)
    assert resid.std() == pytest.approx(sd, rel=0.1)
    with pytest.raises(ValueError, match="0..2"):
        clean(np.full((1, 6), 3))


def test_complex_planted_function_is_complex_valued_with_complex_noise():
    truth = random_sparse_qary(6, 3, 5, real=False, random_state=0)
    assert not truth.is_real and len(truth) == 6
    states = np.array(list(itertools.product(range(3), repeat=6)))
    clean = PlantedFunction(truth)
    values = clean(states)
    assert np.iscomplexobj(values) and np.abs(values.imag).max() > 0.1
    # a q-ary value function may be complex; the checked wrapper keeps the imaginary part
    np.testing.assert_array_equal(as_value_function(clean, 6, 3)(states), values)
    assert values.var() == pytest.approx(clean.signal_variance())  # Parseval, |.|^2
    sd = PlantedFunction.noise_sd_for_snr(truth, 10.0)
    resid = PlantedFunction(truth, noise_sd=sd, random_state=1)(states) - values
    assert np.mean(np.abs(resid) ** 2) == pytest.approx(sd**2, rel=0.1)
    assert resid.real.std() == pytest.approx(resid.imag.std(), rel=0.15)  # circular
    with pytest.raises(ValueError, match="needs q > 2"):
        random_sparse_qary(6, 2, 5, real=False)


def test_binary_value_functions_refuse_complex_values_in_one_line():
    f = as_value_function(lambda m: m.sum(axis=1) * (1 + 1j), 3)
    with pytest.raises(ValueError, match=r"binary \(q=2\) methods .* need real numbers") as info:
        f(np.ones((2, 3), dtype=bool))
    assert "\n" not in str(info.value)


def test_categorical_tabular_maps_states_to_categories():
    categories = [["a", "b", "c"], ["x", "y", "z"]]
    seen = []

    def model(rows):
        seen.append(rows)
        return np.array([[float(r[0] == "b"), float(r[1] == "z")] for r in rows])

    f = CategoricalTabular(model, categories, output=1)
    assert (f.n_features, f.q) == (2, 3)
    out = f(np.array([[0, 2], [1, 1]]))
    np.testing.assert_array_equal(out, [1.0, 0.0])
    np.testing.assert_array_equal(seen[0], [["a", "z"], ["b", "y"]])
    with pytest.raises(ValueError, match="output="):
        CategoricalTabular(model, categories)(np.array([[0, 0]]))
    with pytest.raises(ValueError, match="0..2"):
        f(np.array([[0, 3]]))
    with pytest.raises(ValueError, match=r"\(n, q\)"):
        CategoricalTabular(model, ["a", "b"])


def test_categorical_from_quantiles_and_a_linear_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 3))
    weights = np.array([1.0, -2.0, 0.5])
    f = CategoricalTabular.from_quantiles(lambda rows: rows @ weights, X, q=4)
    assert f.categories.shape == (3, 4)
    assert np.all(np.diff(f.categories, axis=1) > 0)  # levels increase
    states = np.array([[0, 3, 1]])
    expected = f.categories[[0, 1, 2], [0, 3, 1]] @ weights
    np.testing.assert_allclose(f(states), [expected])


def test_text_alternatives_states():
    words = ["the", "movie", "was", "great"]
    alts = [["a", "this"], ["film", "show"], ["is", "seemed"], ["bad", "fine"]]
    got = []

    def model(texts):
        got.extend(texts)
        return [float("great" in t) - float("bad" in t) for t in texts]

    f = TextAlternatives(model, words, alts)
    assert (f.n_features, f.q) == (4, 4)
    states = np.array([[1, 1, 1, 1], [0, 1, 1, 1], [1, 2, 3, 3], [1, 1, 1, 2]])
    out = f(states)
    assert got == [
        "the movie was great",
        "[MASK] movie was great",
        "the film seemed fine",
        "the movie was bad",
    ]
    np.testing.assert_array_equal(out, [1.0, 1.0, 0.0, -1.0])
    dropped = TextAlternatives(model, words, alts, mask_token=None)
    assert dropped.texts(np.array([[0, 1, 0, 1]])) == ["movie great"]


def test_text_without_alternatives_is_the_binary_convention():
    f = TextAlternatives(lambda texts: [len(t) for t in texts], ["a", "bb"])
    assert f.q == 2
    assert f.texts(np.array([[True, False]])) == ["a [MASK]"]


def test_text_alternatives_refuses_ragged_lists():
    with pytest.raises(ValueError, match="same number"):
        TextAlternatives(len, ["a", "b"], [["x"], []])
    with pytest.raises(ValueError, match="alternative lists"):
        TextAlternatives(len, ["a", "b"], [["x"]])
    f = TextAlternatives(lambda texts: [1.0], ["a", "b"], [["x"], ["y"]])
    with pytest.raises(ValueError, match="1 scores for 2 texts"):
        f(np.array([[1, 1], [0, 0]]))
