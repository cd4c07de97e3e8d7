"""Kernel ridge on every first-order term and pair: the primal ridge fit, in the Fourier basis."""

from __future__ import annotations

import numpy as np
from sklearn.linear_model import Ridge

from interplay.solvers.kernel_ridge import pair_kernel_ridge
from interplay.spectral.interactions import Interactions
from interplay.values.planted import PlantedFunction


def explicit_features(masks: np.ndarray, gamma: float) -> np.ndarray:
    """Every single and pair monomial of ±1 features, scaled as the kernel weights them."""
    z = 1.0 - 2.0 * masks.astype(np.float64)
    n = z.shape[1]
    i, j = np.triu_indices(n, k=1)
    pairs = z[:, i] * z[:, j] * np.sqrt(gamma / (n * (n - 1) / 2))
    return np.hstack([z / np.sqrt(n), pairs])


def test_predicts_what_the_primal_ridge_on_all_pairs_predicts():
    rng = np.random.default_rng(0)
    masks = rng.random((40, 7)) < 0.5
    values = rng.normal(size=40)
    fit = pair_kernel_ridge(masks, values, pair_weights=(2.0,))
    primal = Ridge(alpha=fit.penalty).fit(explicit_features(masks, 2.0), values)
    test = rng.random((200, 7)) < 0.5
    np.testing.assert_allclose(fit.expansion.predict(test),
                               primal.predict(explicit_features(test, 2.0)), atol=1e-8)


def test_recovers_a_function_of_pairs_from_enough_masks():
    truth = Interactions([(), (0,), (1, 2), (3, 4), (0, 5)], [1.0, 0.5, 2.0, -1.5, 1.0],
                         n_features=8, basis="fourier")
    rng = np.random.default_rng(1)
    masks = rng.random((200, 8)) < 0.5
    fit = pair_kernel_ridge(masks, PlantedFunction(truth)(masks))
    test = rng.random((500, 8)) < 0.5
    values = PlantedFunction(truth)(test)
    residual = values - fit.expansion.predict(test)
    assert fit.pair_weight > 0
    assert 1 - residual.var() / values.var() > 0.99
    assert fit.cv_r2 > 0.99


def test_an_additive_function_gets_no_pairs_weight_above_the_singles():
    rng = np.random.default_rng(2)
    weights = rng.normal(size=10)
    truth = Interactions([(), *[(i,) for i in range(10)]], [0.0, *weights], n_features=10,
                         basis="fourier")
    masks = rng.random((150, 10)) < 0.5
    fit = pair_kernel_ridge(masks, PlantedFunction(truth)(masks))
    assert fit.pair_weight <= 0.25
    assert fit.cv_r2 > 0.99
