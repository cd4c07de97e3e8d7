"""The relaxed hierarchical Fourier Lasso: unshrunk coefficients, interactions where parts matter."""

from __future__ import annotations

import numpy as np

from interplay.metrics import faithfulness
from interplay.solvers import hierarchical_lasso
from interplay.solvers.first_order import first_order_lasso, kfold_splits
from interplay.solvers.hierarchical_lasso import (
    hierarchical_fourier_lasso,
    omp_cv,
    relaxed_lasso_cv,
    screened_pairs,
)
from interplay.solvers.stacked import uniform_design
from interplay.spectral.interactions import Interactions
from interplay.values.planted import PlantedFunction, random_hierarchical


def test_the_relaxed_lasso_refits_its_support_without_shrinkage():
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], size=(200, 40))
    y = 3.0 * x[:, 0] - 2.0 * x[:, 5] + 0.5 * x[:, 9] + 1.0
    coef, intercept, cv_r2 = relaxed_lasso_cv(x, y, kfold_splits(200, 4, 0))
    expected = np.zeros(40)
    expected[[0, 5, 9]] = [3.0, -2.0, 0.5]
    np.testing.assert_allclose(coef, expected, atol=1e-8)
    assert abs(intercept - 1.0) < 1e-8
    assert cv_r2 > 1 - 1e-10


def test_a_constant_is_returned_as_its_mean():
    x = np.random.default_rng(1).choice([-1.0, 1.0], size=(50, 5))
    coef, intercept, cv_r2 = relaxed_lasso_cv(x, np.full(50, 2.5), kfold_splits(50, 4, 0))
    assert not coef.any()
    assert intercept == 2.5
    assert cv_r2 == 1.0


def test_an_additive_function_gets_no_interaction():
    truth = Interactions([(), (0,), (3,), (7,)], [0.2, 1.0, -0.7, 0.4], n_features=30,
                         basis="mobius")
    masks, seed = uniform_design(0, 150, 30)
    fit = hierarchical_fourier_lasso(masks, PlantedFunction(truth)(masks),
                                     kfold_splits(150, 4, seed))
    assert fit.order == 1
    assert fit.expansion.basis == "fourier"
    np.testing.assert_allclose(fit.expansion.predict(masks), PlantedFunction(truth)(masks),
                               atol=1e-8)


def test_recovers_a_hierarchical_function_a_first_order_fit_cannot():
    truth = random_hierarchical(200, 6, max_degree=3, random_state=3)
    f = PlantedFunction(truth)
    masks, seed = uniform_design(1, 400, 200)
    fit = hierarchical_fourier_lasso(masks, f(masks), kfold_splits(400, 4, seed), max_order=3)
    linear = first_order_lasso(masks, f(masks))
    r2 = faithfulness(fit.expansion, f, random_state=2).r2
    assert fit.order >= 2
    assert r2 > 0.97
    assert r2 > faithfulness(linear.expansion, f, random_state=2).r2 + 0.02


def test_matching_pursuit_finds_a_sparse_support_and_refits_it_without_shrinkage():
    rng = np.random.default_rng(4)
    x = rng.choice([-1.0, 1.0], size=(120, 300))
    y = 2.0 * x[:, 3] - 1.5 * x[:, 70] + 0.25 * x[:, 200] - 0.5
    coef, intercept, cv_r2 = omp_cv(x, y, kfold_splits(120, 4, 0))
    support = [3, 70, 200]
    oracle, *_ = np.linalg.lstsq(np.c_[np.ones(120), x[:, support]], y, rcond=None)
    expected = np.zeros(300)
    expected[support] = oracle[1:]
    np.testing.assert_allclose(coef, expected, atol=1e-8)
    assert abs(intercept - oracle[0]) < 1e-8
    assert cv_r2 > 1 - 1e-10


def test_matching_pursuit_of_a_constant_is_its_mean():
    x = np.random.default_rng(1).choice([-1.0, 1.0], size=(40, 6))
    coef, intercept, cv_r2 = omp_cv(x, np.full(40, -1.5), kfold_splits(40, 4, 0))
    assert not coef.any()
    assert intercept == -1.5
    assert cv_r2 == 1.0


def _planted_pair_fit(n: int, singles: int, weak_pair: tuple[int, int], design_seed: int
                      ) -> tuple[set[tuple[int, ...]], float]:
    """Kept terms and R² of the fit (300 masks, order 2) of ``singles`` decaying first-order
    terms, the strong pair (0, 1) and ``weak_pair`` (coefficient 0.8), in the Fourier basis."""
    terms = [(i,) for i in range(singles)] + [(0, 1), weak_pair]
    coef = [0.3, *(2.0 * 0.85 ** np.arange(singles)), 1.5, 0.8]
    f = PlantedFunction(Interactions([(), *terms], coef, n_features=n, basis="fourier"))
    masks, seed = uniform_design(design_seed, 300, n)
    fit = hierarchical_fourier_lasso(masks, f(masks), kfold_splits(300, 4, seed), max_order=2)
    kept = {tuple(int(i) for i in np.flatnonzero(row)) for row in fit.expansion.support_matrix()}
    return kept, faithfulness(fit.expansion, f, random_state=3).r2


def test_a_later_round_offers_the_pairs_of_weaker_features(monkeypatch):
    # the first round offers the pairs of the 8 strongest features only (PAIR_WIDTH tiny),
    # so the pair (10, 12) of the 11th and 13th strongest is offered only by a later round
    monkeypatch.setattr(hierarchical_lasso, "PAIR_WIDTH", 0.01)
    kept, r2 = _planted_pair_fit(30, 14, (10, 12), design_seed=2)
    assert {(0, 1), (10, 12)} <= kept
    assert r2 > 1 - 1e-8


def test_screened_pairs_are_the_most_correlated_pairs_not_yet_offered():
    rng = np.random.default_rng(5)
    z = rng.choice([-1.0, 1.0], size=(80, 9))
    residual = rng.normal(size=80)
    features = np.array([1, 4, 6])
    offered = {(1, 4), (0, 6)}
    got = screened_pairs(z, residual, features, 7, offered)
    # brute force: every pair with a member in features, scored by |<z_i z_j, residual>|
    score = {}
    for i in features.tolist():
        for j in range(9):
            if j != i:
                pair = (min(i, j), max(i, j))
                score[pair] = abs(float((z[:, i] * z[:, j]) @ residual))
    ranked = sorted((p for p in score if p not in offered), key=lambda p: -score[p])
    assert got == ranked[:7]
    assert screened_pairs(z, residual, features, 0, offered) == []
    assert len(screened_pairs(z, residual, features, 100, offered)) == len(ranked)


def test_a_pair_whose_second_feature_has_no_first_order_effect_is_found():
    # feature 40 has no first-order term, so it is never among the strongest features;
    # only its correlation with the residual of the first pair round finds (2, 40)
    kept, r2 = _planted_pair_fit(60, 10, (2, 40), design_seed=3)
    assert {(0, 1), (2, 40)} <= kept
    assert r2 > 1 - 1e-8


def test_pairs_are_not_screened_below_the_fewest_masks(monkeypatch):
    # the same 300 masks, one short of the screening threshold
    monkeypatch.setattr(hierarchical_lasso, "MIN_SCREENED_MASKS", 301)
    kept, _ = _planted_pair_fit(60, 10, (2, 40), design_seed=3)
    assert (0, 1) in kept
    assert (2, 40) not in kept
