"""ProxySPEX: faithfulness on planted functions, its pieces, and its parameters."""

from __future__ import annotations

import numpy as np
import pytest

import interplay
from interplay.metrics import faithfulness
from interplay.solvers import BudgetError
from interplay.solvers.proxyspex import ProxySPEX, fourier_design, ridge_cv, select_energy
from interplay.values.base import as_value_function
from interplay.values.planted import PlantedFunction, random_hierarchical


def test_recovers_planted_hierarchical_function():
    n = 60
    truth = random_hierarchical(n, 8, max_degree=3, random_state=0)
    f = PlantedFunction(truth)
    result = interplay.explain(f, n, method="proxyspex", budget=1500, random_state=0)
    assert result.method == "proxyspex"
    assert result.basis == "fourier"
    assert result.n_queries <= 1500
    assert f.n_rows == result.n_queries
    assert faithfulness(result, f, random_state=1).r2 > 0.97
    # the biggest planted interactions are found
    planted = truth.to_fourier()
    top_true = {t.features for t in planted.top(5)}
    found = set(result.subsets)
    assert top_true <= found


def test_max_order_is_respected():
    n = 30
    truth = random_hierarchical(n, 6, max_degree=4, random_state=2)
    result = interplay.explain(
        PlantedFunction(truth), n, method="proxyspex", budget=600, max_order=2, random_state=0
    )
    assert result.degrees.max() <= 2


def test_small_n_queries_every_mask_once():
    n = 6
    truth = random_hierarchical(n, 3, max_degree=3, random_state=1)
    f = PlantedFunction(truth)
    result = interplay.explain(f, n, method="proxyspex", budget=5000, random_state=0)
    assert result.n_queries == 2**n == f.n_rows


def test_same_seed_same_result():
    n = 25
    truth = random_hierarchical(n, 5, random_state=3)
    runs = [
        interplay.explain(PlantedFunction(truth), n, method="proxyspex", budget=400,
                          random_state=7)
        for _ in range(2)
    ]
    assert runs[0].allclose(runs[1], atol=0)


def test_no_refit_returns_the_truncated_proxy():
    n = 20
    truth = random_hierarchical(n, 4, random_state=4)
    solver = ProxySPEX(budget=400, random_state=0, refit=False, energy=1.0)
    result = solver.fit(as_value_function(PlantedFunction(truth), n), n)
    assert result.metadata["diagnostics"]["ridge_alpha"] is None
    assert result.metadata["diagnostics"]["kept_terms"] == len(result) - 1


def test_parameter_errors():
    vf = as_value_function(lambda m: m.sum(axis=1).astype(float), 30)
    with pytest.raises(BudgetError, match="at least 20"):
        ProxySPEX(budget=10).fit(vf, 30)
    with pytest.raises(ValueError, match="energy"):
        ProxySPEX(budget=100, energy=1.5).fit(vf, 30)
    with pytest.raises(ValueError, match="candidate"):
        ProxySPEX(budget=100, candidates=((0, 0.1),)).fit(vf, 30)
    with pytest.raises(ValueError, match="validation_fraction"):
        ProxySPEX(budget=100, validation_fraction=1.0).fit(vf, 30)
    with pytest.raises(TypeError):
        ProxySPEX(100)  # keyword-only


def test_fourier_design_matches_predict():
    n = 12
    truth = random_hierarchical(n, 4, random_state=5).to_fourier()
    masks = np.random.default_rng(0).random((50, n)) < 0.5
    design = fourier_design(masks, truth._idx, n)
    np.testing.assert_allclose(design @ truth.coefficients, truth.predict(masks), atol=1e-12)


def test_ridge_cv_is_ridge_and_picks_small_penalty_on_clean_data():
    rng = np.random.default_rng(0)
    x = rng.choice([-1.0, 1.0], size=(200, 10))
    beta = rng.normal(size=10)
    y = 3.0 + x @ beta
    coef, intercept, alpha, _ = ridge_cv(x, y, np.array([1e-8, 1.0, 10.0]))
    assert alpha == 1e-8
    np.testing.assert_allclose(coef, beta, atol=1e-6)
    assert intercept == pytest.approx(3.0, abs=1e-6)
    # one alpha: the closed form (X_c'X_c + alpha N I)^-1 X_c'y_c
    coef, intercept, _, _ = ridge_cv(x, y, np.array([0.5]))
    xc, yc = x - x.mean(axis=0), y - y.mean()
    expected = np.linalg.solve(xc.T @ xc + 0.5 * 200 * np.eye(10), xc.T @ yc)
    np.testing.assert_allclose(coef, expected, atol=1e-10)
    assert intercept == pytest.approx(y.mean() - x.mean(axis=0) @ expected)


def test_select_energy():
    coef = np.array([5.0, 3.0, -4.0, 0.1, 1.0])
    empty = np.array([True, False, False, False, False])
    # non-constant energy 9 + 16 + 0.01 + 1 = 26.01; 16 + 9 = 25 is 96 %
    assert select_energy(coef, empty, 0.95, None).tolist() == [1, 2]
    assert select_energy(coef, empty, 0.5, None).tolist() == [2]
    assert select_energy(coef, empty, 1.0, None).tolist() == [1, 2, 3, 4]
    assert select_energy(coef, empty, 1.0, 2).tolist() == [1, 2]
