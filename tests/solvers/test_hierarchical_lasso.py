"""The relaxed hierarchical Fourier Lasso: unshrunk coefficients, interactions where parts matter."""

from __future__ import annotations

import numpy as np

from interplay.metrics import faithfulness
from interplay.solvers import hierarchical_lasso
from interplay.solvers.first_order import first_order_lasso, kfold_splits
from interplay.solvers.hierarchical_lasso import (
    PursuitPath,
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


def _pursuit_data(seed: int, rows: int = 150, columns: int = 80) -> tuple[np.ndarray, np.ndarray]:
    """±1 columns and values of (at most) eight decaying terms plus noise."""
    rng = np.random.default_rng(seed)
    x = rng.choice([-1.0, 1.0], size=(rows, columns))
    terms = min(8, columns)
    y = x[:, :terms] @ (0.7 ** np.arange(terms)) + 0.3 * rng.normal(size=rows) + 2.0
    return x, y


def test_the_pursuit_path_is_scikit_learns_orthogonal_matching_pursuit():
    from sklearn.linear_model import orthogonal_mp

    x, y = _pursuit_data(5)
    steps = 30
    path = PursuitPath(x, y, steps)
    xc = x - x.mean(axis=0)
    norm = np.linalg.norm(xc, axis=0)
    reference = orthogonal_mp(xc / norm, y - y.mean(), n_nonzero_coefs=steps,
                              return_path=True) / norm[:, None]
    for k in range(steps):
        path.step()
        coef, intercept = path.coefficients()
        np.testing.assert_allclose(coef, reference[:, k], atol=1e-10)
        assert abs(intercept - (y.mean() - x.mean(axis=0) @ reference[:, k])) < 1e-10


def test_the_pursuit_path_scores_its_validation_rows_at_every_step():
    x, y = _pursuit_data(6, rows=200)
    train, val = np.arange(150), np.arange(150, 200)
    path = PursuitPath(x[train], y[train], 20, x[val], y[val])
    for _ in range(20):
        err = path.step()
        coef, intercept = path.coefficients()
        assert abs(err - float(((y[val] - x[val] @ coef - intercept) ** 2).sum())) < 1e-9


def test_the_pursuit_path_ends_when_no_independent_column_is_left():
    x, y = _pursuit_data(7, rows=60, columns=4)
    x = np.hstack([x, x[:, :2]])  # two repeated columns add nothing
    path = PursuitPath(x, y, 6)
    errors = [path.step() for _ in range(6)]
    assert len(path.active) == 4 and sorted(path.active) == [0, 1, 2, 3]
    assert errors == [0.0] * 6  # no validation rows


def test_the_pursuits_early_stop_chooses_the_length_of_the_full_path():
    from sklearn.linear_model import orthogonal_mp

    for seed in range(4):
        x, y = _pursuit_data(seed, rows=240, columns=200)
        folds = kfold_splits(240, 4, seed)
        steps = int(hierarchical_lasso.MAX_RELAXED_SHARE * min(t.size for t, _ in folds))
        total = np.zeros(steps)
        for train, val in folds:  # the validation error of every length, without stopping
            xm, ym = x[train].mean(axis=0), y[train].mean()
            xc = x[train] - xm
            norm = np.linalg.norm(xc, axis=0)
            coefs = orthogonal_mp(xc / norm, y[train] - ym, n_nonzero_coefs=steps,
                                  return_path=True) / norm[:, None]
            total += (((y[val] - ym)[:, None] - (x[val] - xm) @ coefs) ** 2).sum(axis=0)
        coef, _, cv_r2 = omp_cv(x, y, folds)
        assert np.count_nonzero(coef) == int(np.argmin(total)) + 1
        assert abs(cv_r2 - (1 - total.min() / 240 / np.var(y))) < 1e-10


def test_least_squares_falls_back_to_the_minimum_norm_solution_on_repeated_columns():
    x, y = _pursuit_data(8, rows=50, columns=6)
    np.testing.assert_allclose(hierarchical_lasso._least_squares(x, y),
                               np.linalg.lstsq(x, y, rcond=None)[0], atol=1e-10)
    repeated = np.hstack([x, x[:, :1]])
    np.testing.assert_allclose(hierarchical_lasso._least_squares(repeated, y),
                               np.linalg.lstsq(repeated, y, rcond=None)[0], atol=1e-10)


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
