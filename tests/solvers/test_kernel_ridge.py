"""Kernel ridge on every Fourier term up to some order: the primal ridge fit, in the Fourier basis."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from interplay.solvers.exact import all_states
from interplay.solvers.kernel_ridge import (
    fourier_term_count,
    kernel_ridge,
    order_kernel_ridge,
    pair_kernel_ridge,
    symmetric_characters,
)
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


def all_terms(masks: np.ndarray, max_order: int, decay: float) -> np.ndarray:
    """Every Fourier monomial up to ``max_order``, a term of order k scaled by √(ρ^(k−1)/n)."""
    z = 1.0 - 2.0 * masks.astype(np.float64)
    n = z.shape[1]
    columns = [np.prod(z[:, list(s)], axis=1) * np.sqrt(decay ** (len(s) - 1) / n)
               for k in range(1, max_order + 1) for s in combinations(range(n), k)]
    return np.column_stack(columns)


def test_symmetric_characters_sum_every_subsets_character():
    n, max_order = 6, 4
    z = 1.0 - 2.0 * all_states(n)
    expected = np.zeros((n + 1, max_order + 1))
    for row in z:
        d = int((row < 0).sum())
        expected[d] = [sum(np.prod(row[list(s)]) for s in combinations(range(n), k))
                       for k in range(max_order + 1)]
    np.testing.assert_allclose(symmetric_characters(n, max_order), expected, atol=1e-9)


@pytest.mark.parametrize("n_masks", [30, 120])  # fewer masks than terms, and more
def test_order_kernel_predicts_what_the_primal_ridge_on_every_term_predicts(n_masks):
    rng = np.random.default_rng(3)
    masks = rng.random((n_masks, 6)) < 0.5
    values = rng.normal(size=n_masks) + 2.0 * masks[:, 0] * masks[:, 1] * masks[:, 2]
    fit = order_kernel_ridge(masks, values, max_order=3, decays=(0.3,))
    assert fourier_term_count(6, 3) == len(fit.expansion) - 1 == 41
    primal = Ridge(alpha=fit.penalty).fit(all_terms(masks, 3, 0.3), values)
    test = rng.random((200, 6)) < 0.5
    np.testing.assert_allclose(fit.expansion.predict(test),
                               primal.predict(all_terms(test, 3, 0.3)), atol=1e-8)


def test_order_kernel_fits_an_and_of_four_features_better_than_pairs():
    # an AND of four facts spreads equal weight over orders 1-4 (pairs cannot reach 3 and 4)
    rng = np.random.default_rng(4)

    def f(m: np.ndarray) -> np.ndarray:
        return 3.0 * m[:, :4].all(axis=1) + m[:, 4] - 0.5 * m[:, 5] + 1.5 * m[:, 6] * m[:, 7]

    masks = rng.random((250, 10)) < 0.5
    test = rng.random((1000, 10)) < 0.5
    orders = order_kernel_ridge(masks, f(masks), max_order=4)
    pairs = pair_kernel_ridge(masks, f(masks))
    r2_orders = 1 - np.mean((f(test) - orders.expansion.predict(test)) ** 2) / f(test).var()
    r2_pairs = 1 - np.mean((f(test) - pairs.expansion.predict(test)) ** 2) / f(test).var()
    assert r2_orders > 0.92
    assert r2_orders > r2_pairs + 0.08
    assert orders.cv_r2 > 0.92
    assert orders.expansion.degrees.max() == 4


@pytest.mark.parametrize("call", [
    lambda m, y: order_kernel_ridge(m, y, max_order=0),
    lambda m, y: kernel_ridge(m, y, []),
    lambda m, y: kernel_ridge(m, y, [(0.0, 0.0)]),
    lambda m, y: kernel_ridge(m, y, [(1.0, -1.0)]),
])
def test_bad_orders_or_weights_are_refused_with_a_clear_error(call):
    masks = np.random.default_rng(5).random((20, 4)) < 0.5
    with pytest.raises(ValueError, match="max_order|order_weights"):
        call(masks, masks.sum(axis=1).astype(float))
