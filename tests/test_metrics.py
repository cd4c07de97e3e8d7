"""Metrics: faithfulness, top-r removal, support recovery and NMSE."""

from __future__ import annotations

import warnings
from itertools import combinations

import numpy as np
import pytest

import interplay
from interplay import Interactions
from interplay.metrics import (
    faithfulness,
    nmse,
    r2_score,
    sample_masks,
    support_recovery,
    top_removal,
)
from interplay.solvers.queried_masks import QueriedMasks
from interplay.values.planted import PlantedFunction, random_hierarchical


def test_r2_of_a_constant_target_is_one_when_fitted_and_never_minus_infinity():
    y = np.full(6, 3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert r2_score(y, y + 1e-15) == 1.0  # round-off of a perfect fit
        assert r2_score(y, y + np.array([0, 0, 0, 0, 0, 1.0])) == 0.0  # finite, not -inf
        assert r2_score(np.zeros(4), np.zeros(4)) == 1.0
        assert r2_score(1e6 + np.array([0, 1e-11, 0, 0]), np.full(4, 1e6)) == 1.0


@pytest.mark.parametrize("scale", [1e300, 1e-300, 1e-320])
def test_r2_is_scale_free(scale):
    rng = np.random.default_rng(0)
    y, y_hat = rng.normal(size=50), rng.normal(size=50)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert r2_score(scale * y, scale * (y + 0.1 * y_hat)) == pytest.approx(
            r2_score(y, y + 0.1 * y_hat), rel=1e-6 if scale > 1e-310 else 1e-2)


def test_r2_of_complex_values_uses_squared_moduli():
    rng = np.random.default_rng(1)
    y = rng.normal(size=40) + 1j * rng.normal(size=40)
    y_hat = y + 0.3 * (rng.normal(size=40) + 1j * rng.normal(size=40))
    expected = 1 - np.sum(np.abs(y - y_hat) ** 2) / np.sum(np.abs(y - y.mean()) ** 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no ComplexWarning: the imaginary part is kept
        assert r2_score(y, y_hat) == pytest.approx(expected, rel=1e-12)
        assert r2_score(y, y.real) < r2_score(y, y_hat)


def test_r2_score():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert r2_score(y, y) == 1.0
    assert r2_score(y, np.full(4, y.mean())) == 0.0
    assert r2_score(y, y + 1) == pytest.approx(1 - 4 / 5)
    assert r2_score(np.ones(3), np.ones(3)) == 1.0
    with pytest.raises(ValueError, match="shapes"):
        r2_score(y, y[:3])


def test_sample_masks_distributions():
    uniform = sample_masks(200, 500, random_state=0)
    assert uniform.shape == (500, 200)
    assert abs(uniform.mean() - 0.5) < 0.01
    few = sample_masks(200, 500, distribution="few_removed", random_state=0)
    removed = (~few).sum(axis=1)
    assert removed.min() >= 1 and removed.max() <= 20
    assert removed.max() > 15  # spans the range
    assert np.array_equal(few, sample_masks(200, 500, distribution="few_removed", random_state=0))
    with pytest.raises(ValueError, match="distribution"):
        sample_masks(5, 5, distribution="gaussian")


def test_faithfulness_of_truth_and_of_a_constant():
    truth = random_hierarchical(30, 5, random_state=0)
    f = PlantedFunction(truth)
    assert faithfulness(truth, f, random_state=1).r2 == pytest.approx(1.0)
    few = faithfulness(truth, f, distribution="few_removed", random_state=1)
    assert few.r2 == pytest.approx(1.0)
    constant = Interactions([()], [truth.to_fourier().baseline], n_features=30)
    assert faithfulness(constant, f, n_masks=4000, random_state=2).r2 == pytest.approx(0.0,
                                                                                      abs=0.05)
    masks = sample_masks(30, 100, random_state=3)
    assert faithfulness(truth, None, masks=masks, values=f(masks)).r2 == pytest.approx(1.0)
    with pytest.raises(ValueError, match="values"):
        faithfulness(truth, None, masks=masks, values=np.zeros(5))


def test_top_removal_matches_brute_force_on_an_additive_function():
    n = 8
    w = np.array([3.0, -1.0, 0.5, 2.0, -4.0, 1.5, 0.1, -0.2])
    expl = Interactions([(i,) for i in range(n)] + [()], np.append(w, 1.0), n_features=n,
                        basis="mobius")

    def f(masks):
        return 1.0 + masks @ w

    for r in (1, 2, 3):
        out = top_removal(expl, f, r, direction="down")
        # brute force: the r-subset whose removal decreases f most
        best = min(combinations(range(n), r), key=lambda s: -sum(w[list(s)]))
        assert set(out.features) == set(best)
        assert out.true_change == pytest.approx(-sum(w[list(best)]))
        assert out.predicted_change == pytest.approx(out.true_change)
    up = top_removal(expl, f, 1, direction="up")
    assert up.features == (4,)
    assert top_removal(expl, f, 1, direction="abs").features == (4,)
    # default: the largest absolute change (removing x4 raises f by 4, removing x0 drops 3)
    assert top_removal(expl, f, 1).features == (4,)
    with pytest.raises(ValueError, match="r must be"):
        top_removal(expl, f, 0)


def test_top_removal_sees_interactions():
    # f = 5·x0·x1 − 1·x2: removing x0 or x1 drops 5, removing x2 raises by 1
    expl = Interactions([(0, 1), (2,)], [5.0, -1.0], n_features=3, basis="mobius")
    out = top_removal(expl, expl.predict, 1)  # |−5| > |+1|
    assert out.features[0] in (0, 1)
    assert out.true_change == pytest.approx(-5.0)


def test_top_removal_chooses_greedily_or_the_best_set():
    # f = 4·x0 + 6·(x1 or x2): the greedy pair starts with x0 (−4), the best is x1, x2 (−6)
    expl = Interactions([(0,), (1,), (2,), (1, 2)], [4.0, 6.0, 6.0, -6.0], n_features=4,
                        basis="mobius")
    best = top_removal(expl, expl.predict, 2, search="best")
    assert best.features == (1, 2) and best.true_change == pytest.approx(-6.0)
    greedy = top_removal(expl, expl.predict, 2)
    assert greedy.features[0] == 0 and greedy.true_change == pytest.approx(-4.0)
    # first order, mixed signs: the largest absolute change of two removals is +8 (the two
    # negative weights), greedy starts from the +5 one and ends at −1
    mixed = Interactions([(0,), (1,), (2,)], [5.0, -4.0, -4.0], n_features=3, basis="mobius")
    assert top_removal(mixed, mixed.predict, 2, search="best").true_change == pytest.approx(8.0)
    assert top_removal(mixed, mixed.predict, 2).true_change == pytest.approx(-1.0)
    with pytest.raises(ValueError, match="search must be"):
        top_removal(expl, expl.predict, 2, search="exhaustive")


def test_support_recovery_and_nmse():
    truth = Interactions([(0,), (1, 2), ()], [1.0, -2.0, 3.0], n_features=4)
    same = Interactions([(0,), (1, 2), ()], [1.0, -2.0, 0.0], n_features=4)
    assert support_recovery(same, truth) == (1.0, 1.0)
    assert nmse(same, truth) == 0.0
    assert nmse(same, truth, include_empty=True) == pytest.approx(9 / 14)
    partial = Interactions([(0,), (3,)], [1.0, 0.5], n_features=4)
    precision, recall = support_recovery(partial, truth)
    assert (precision, recall) == (0.5, 0.5)
    assert nmse(partial, truth) == pytest.approx((4 + 0.25) / 5)
    # a tiny coefficient is below the tolerance
    assert support_recovery(Interactions([(0,), (2,)], [1.0, 1e-9], n_features=4), truth) == (
        1.0, 0.5)
    # the comparison is made in the Fourier basis: x0·x1 in Möbius has 3 Fourier terms
    mob = Interactions([(0, 1)], [4.0], n_features=4, basis="mobius")
    assert support_recovery(mob, mob.to_fourier()) == (1.0, 1.0)
    assert nmse(mob, mob.to_fourier()) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="features"):
        nmse(Interactions([()], [0.0], n_features=3), truth)


# ---------------------------------------------------------------- honest faithfulness
class Recorder:
    """A planted function remembering every mask it was asked for."""

    def __init__(self, truth):
        self.inner = PlantedFunction(truth)
        self.seen = []

    def __call__(self, masks):
        self.seen.append(np.asarray(masks, dtype=bool).copy())
        return self.inner(masks)

    def asked(self):
        return {m.tobytes() for m in np.concatenate(self.seen)}


def test_heldout_masks_of_a_ten_word_text_are_never_training_masks():
    """Observed: 50 of 64 "held-out" masks of a 10-word text were training masks."""
    truth = random_hierarchical(10, 4, max_degree=3, random_state=0)
    f = Recorder(truth)
    result = interplay.explain(f, 10, method="proxyspex", budget=800, random_state=0)
    training = f.asked()
    fit = faithfulness(result, f, n_masks=64, random_state=7)
    assert fit.kind == "held-out" and fit.n_in_sample == 0 and fit.n_masks == 64
    assert not {m.tobytes() for m in fit.masks} & training
    assert len({m.tobytes() for m in fit.masks}) == 64  # drawn without replacement
    assert "none of which the solver queried" in fit.note


def test_heldout_set_smaller_than_asked_when_few_masks_are_left():
    truth = random_hierarchical(10, 4, max_degree=3, random_state=0)
    result = interplay.explain(PlantedFunction(truth), 10, method="proxyspex", budget=1000,
                               random_state=0)
    fit = faithfulness(result, PlantedFunction(truth), n_masks=64, random_state=7)
    assert fit.n_masks == 24 and fit.kind == "held-out"
    assert "only 24 masks were never queried" in fit.note


@pytest.mark.parametrize("n", [1, 3, 6])
def test_no_heldout_set_exists_when_every_mask_was_queried(n):
    truth = random_hierarchical(n, min(n, 2), max_degree=min(n, 2), random_state=n)
    result = interplay.explain(PlantedFunction(truth), n, method="spex", budget=2**n)
    fit = faithfulness(result, PlantedFunction(truth), n_masks=64, random_state=0)
    assert fit.kind == "in-sample" and fit.n_masks == min(64, 2**n) == fit.n_in_sample
    assert "no held-out set exists" in fit.note and "in-sample" in fit.note
    assert fit.r2 == pytest.approx(1.0)


def test_a_loaded_result_is_unchecked_and_given_masks_are_counted(tmp_path):
    truth = random_hierarchical(30, 4, random_state=1)
    f = Recorder(truth)
    result = interplay.explain(f, 30, method="banzhaf", budget=200, random_state=0)
    loaded = Interactions.load(result.save(tmp_path / "r.json"))
    fit = faithfulness(loaded, f, n_masks=50, random_state=0)
    assert fit.kind == "unchecked" and fit.n_in_sample is None and "no record" in fit.note
    training = np.concatenate(f.seen[:1])[:10]
    given = np.concatenate([training, sample_masks(30, 20, random_state=5)])
    mixed = faithfulness(result, f, masks=given)
    assert mixed.kind == "partly in-sample" and mixed.n_in_sample == 10
    assert faithfulness(result, f, masks=given, queried=result.queried_masks).n_in_sample == 10


@pytest.mark.parametrize("distribution", ["uniform", "few_removed"])
def test_heldout_masks_at_a_thousand_features_and_ten_thousand_queries(distribution):
    n = 1000
    rng = np.random.default_rng(0)
    queried = QueriedMasks(n)
    training = sample_masks(n, 10_000, distribution=distribution, random_state=rng)
    queried.add(training)
    distinct = np.unique(np.packbits(training, axis=1), axis=0).shape[0]
    assert len(queried) == distinct and queried.sorted_fingerprints.nbytes == 8 * distinct
    assert queried.contains(training).all()
    explanation = Interactions([(), (3,)], [1.0, 2.0], n_features=n)
    fit = faithfulness(explanation, explanation.predict, n_masks=500, queried=queried,
                       distribution=distribution, random_state=1)
    assert fit.kind == "held-out" and fit.n_masks == 500
    assert not queried.contains(fit.masks).any()


def test_few_removed_masks_all_queried_fall_back_to_in_sample():
    n = 6  # few_removed with max_removed 0.1 reaches the 6 masks missing one feature
    reach = ~np.eye(n, dtype=bool)
    queried = QueriedMasks(n)
    queried.add(reach)
    explanation = Interactions([()], [1.0], n_features=n)
    fit = faithfulness(explanation, explanation.predict, n_masks=20, queried=queried,
                       distribution="few_removed", random_state=0)
    assert fit.kind == "in-sample" and "every mask the test draws reach" in fit.note


@pytest.mark.parametrize("complex_values", [False, True])
def test_faithfulness_of_a_qary_result_draws_every_state_never_queried(complex_values):
    from interplay.values.planted import PlantedFunction
    from interplay.values.qary import random_sparse_qary

    n, q = 9, 3
    truth = random_sparse_qary(n, q, 12, max_degree=2, random_state=5,
                               real=not complex_values)
    f = PlantedFunction(truth)
    result = interplay.explain(f, n, method="qsft", q=q, budget=6000, max_order=2,
                               random_state=0)
    assert 0 < result.n_queries < q**n  # a held-out set exists
    fit = faithfulness(result, f, n_masks=300, random_state=1)
    assert fit.kind == "held-out" and fit.n_masks == 300
    assert fit.masks.dtype == np.int64 and set(np.unique(fit.masks)) == {0, 1, 2}
    assert fit.r2 == pytest.approx(1.0, abs=1e-9)
    mean_only = interplay.Interactions([{}], [fit.values.mean()], n_features=n, q=q)
    assert faithfulness(mean_only, f, n_masks=300, random_state=1).r2 < 0.2
    with pytest.raises(ValueError, match="few_removed"):
        faithfulness(result, f, distribution="few_removed")
