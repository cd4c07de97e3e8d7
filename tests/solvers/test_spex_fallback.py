"""SPEX on a function denser than its budget resolves falls back to a first-order fit."""

import warnings

import numpy as np
import pytest

import interplay
from interplay.metrics import r2_score
from interplay.solvers.first_order import first_order_lasso
from interplay.values.planted import (
    PlantedFunction,
    random_hierarchical,
    random_sparse_fourier,
)


def test_a_dense_function_gets_the_first_order_fit():
    # 300 planted interactions of up to 4 features, each with all its subsets: thousands of
    # Fourier terms, far more than 1 500 queries resolve; most variance is first order
    n = 150
    f = PlantedFunction(random_hierarchical(n, 300, max_degree=4, random_state=0))
    with pytest.warns(UserWarning, match="first-order fit of the same samples"):
        result = interplay.explain(f, n, method="spex", budget=1500, max_order=3,
                                   random_state=0)
    assert result.metadata["diagnostics"]["fallback"]["surrogate"] == "first-order LassoCV"
    assert result.metadata["diagnostics"]["fallback"]["cv_r2"] > result.metadata["diagnostics"]["sample_r2"]
    fresh = np.random.default_rng(1).random((2000, n)) < 0.5
    with_fallback = r2_score(f(fresh), result.predict(fresh))
    # without the fallback, the same queries explain much less
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sparse = interplay.explain(f, n, method="spex", budget=1500, max_order=3,
                                   random_state=0, solver_options={"dense_fallback": False})
    assert "fallback" not in sparse.metadata
    assert sparse.n_queries == result.n_queries
    assert with_fallback > 0.6 > r2_score(f(fresh), sparse.predict(fresh)) + 0.3


def test_a_sparse_function_keeps_the_sparse_transform():
    truth = random_sparse_fourier(200, 10, max_degree=3, random_state=3)
    f = PlantedFunction(truth)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = interplay.explain(f, 200, method="spex", budget=3000, max_order=3,
                                   random_state=0)
    assert "fallback" not in result.metadata
    assert result.basis == "fourier"
    fresh = np.random.default_rng(2).random((500, 200)) < 0.5
    assert r2_score(f(fresh), result.predict(fresh)) > 0.999


def test_first_order_lasso_recovers_an_additive_function():
    rng = np.random.default_rng(4)
    masks = rng.random((400, 10)) < 0.5
    weights = rng.normal(size=10)
    fit = first_order_lasso(masks, masks @ weights + 2.0, seed=0)
    assert fit.cv_r2 > 0.99
    assert r2_score(masks @ weights + 2.0, fit.expansion.predict(masks)) > 0.99  # Lasso shrinks
    constant = first_order_lasso(masks, np.full(400, 3.0))
    assert constant.cv_r2 == 1.0
    np.testing.assert_allclose(constant.expansion.predict(masks), 3.0)
