"""Regression baselines against brute-force Shapley, Banzhaf, FSII and FBII on small n."""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np
import pytest

import interplay
from interplay.solvers.regression import (
    FaithShap,
    all_masks,
    draw_distinct,
    lime_masks,
    shapley_kernel_masks,
)
from interplay.values.base import as_value_function
from interplay.values.planted import PlantedFunction, random_hierarchical

N_SMALL = 6


@pytest.fixture(scope="module")
def game():
    truth = random_hierarchical(N_SMALL, 4, max_degree=3, random_state=11)
    f = PlantedFunction(truth)
    masks = all_masks(N_SMALL)
    table = {tuple(m): v for m, v in zip(masks.tolist(), f(masks), strict=True)}
    return f, table


def _brute_values(table, n):
    """Shapley and Banzhaf values from their definitions (marginal contributions)."""
    shap, banz = np.zeros(n), np.zeros(n)
    for m, v in table.items():
        s = sum(m)
        for i in range(n):
            if m[i]:
                continue
            with_i = list(m)
            with_i[i] = True
            delta = table[tuple(with_i)] - v
            shap[i] += math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) * delta
            banz[i] += delta / 2 ** (n - 1)
    return shap, banz


def _design2(masks):
    n = masks.shape[1]
    pairs = list(combinations(range(n), 2))
    cols = [np.ones(len(masks))] + [masks[:, i] for i in range(n)]
    cols += [masks[:, i] & masks[:, j] for i, j in pairs]
    return np.column_stack(cols).astype(float), [()] + [(i,) for i in range(n)] + pairs


def _as_dict(result):
    return dict(zip(result.subsets, result.coefficients, strict=True))


@pytest.mark.parametrize("method", ["kernelshap", "faith_shap"])
def test_shapley_methods_equal_brute_force_shapley(game, method):
    f, table = game
    shap, _ = _brute_values(table, N_SMALL)
    result = interplay.explain(f, N_SMALL, method=method, budget=2**N_SMALL, random_state=0)
    assert result.n_queries == 2**N_SMALL
    np.testing.assert_allclose(result.shapley_values(), shap, atol=1e-10)


@pytest.mark.parametrize("method", ["banzhaf", "faith_banzhaf"])
def test_banzhaf_methods_equal_brute_force_banzhaf(game, method):
    f, table = game
    _, banz = _brute_values(table, N_SMALL)
    result = interplay.explain(f, N_SMALL, method=method, budget=2**N_SMALL, random_state=0)
    np.testing.assert_allclose(result.banzhaf_values(), banz, atol=1e-10)


def test_kernelshap_with_every_mask_is_the_exact_expansion(game):
    f, table = game
    result = interplay.explain(f, N_SMALL, method="kernelshap", budget=2**N_SMALL)
    assert result.metadata["exact"] is True and result.basis == "mobius"
    masks = all_masks(N_SMALL)
    np.testing.assert_allclose(result.predict(masks), f(masks), atol=1e-10)
    assert _as_dict(result)[()] == pytest.approx(table[(False,) * N_SMALL])


def test_kernelshap_below_every_mask_is_a_first_order_shapley_surrogate(game):
    f, _ = game
    result = interplay.explain(f, N_SMALL, method="kernelshap", budget=40, random_state=0)
    assert "exact" not in result.metadata
    assert result.metadata["diagnostics"]["index"] == "shapley"
    assert result.degrees.max() == 1


def test_faith_banzhaf_is_uniform_least_squares_on_all_pairs(game):
    f, _table = game
    masks = all_masks(N_SMALL)
    x, names = _design2(masks)
    beta, *_ = np.linalg.lstsq(x, f(masks), rcond=None)
    exact = interplay.explain(f, N_SMALL, method="faith_banzhaf", budget=64)
    result = _as_dict(exact.index("FBII", 2))
    np.testing.assert_allclose([result.get(s, 0.0) for s in names], beta, atol=1e-10)


def test_faith_shap_is_kernel_least_squares_with_exact_ends(game):
    """FSII by brute force: Shapley-kernel WLS with a huge weight on the empty/full masks."""
    f, _table = game
    n = N_SMALL
    masks = all_masks(n)
    size = masks.sum(axis=1)
    w = np.full(len(masks), 1e9)
    inner = (size > 0) & (size < n)
    w[inner] = (n - 1) / (np.array([math.comb(n, s) for s in size[inner]]) * size[inner]
                          * (n - size[inner]))
    x, names = _design2(masks)
    sw = np.sqrt(w)[:, None]
    beta, *_ = np.linalg.lstsq(x * sw, f(masks) * sw[:, 0], rcond=None)
    result = interplay.explain(f, n, method="faith_shap", budget=64)
    got = _as_dict(result.index("FSII", 2))
    np.testing.assert_allclose([got.get(s, 0.0) for s in names], beta, atol=1e-6)
    sampled = interplay.explain(f, n, method="faith_shap", budget=40, random_state=0)
    assert sampled.metadata["diagnostics"]["index"] == "FSII"


def test_sampled_estimates_approach_the_truth():
    n = 40
    truth = random_hierarchical(n, 10, max_degree=2, random_state=5)
    f = PlantedFunction(truth)
    shap = truth.shapley_values()
    banz = truth.banzhaf_values()
    ks = interplay.explain(f, n, method="kernelshap", budget=3000, random_state=0)
    bz = interplay.explain(f, n, method="banzhaf", budget=3000, random_state=0)
    assert np.abs(ks.shapley_values() - shap).max() < 0.1 * np.abs(shap).max()
    assert np.abs(bz.banzhaf_values() - banz).max() < 0.1 * np.abs(banz).max()
    # efficiency holds exactly for KernelSHAP
    ends = f(np.array([[False] * n, [True] * n]))
    assert ks.shapley_values().sum() == pytest.approx(ends[1] - ends[0], abs=1e-9)


def test_faith_methods_exact_on_degree_two_functions_once_queries_exceed_unknowns():
    n = 20  # 211 unknowns
    truth = random_hierarchical(n, 8, max_degree=2, random_state=6)
    # paired (m, ~m) samples of the Shapley kernel are less informative: it needs more
    for method, budget in (("faith_banzhaf", 300), ("faith_shap", 600)):
        fit = interplay.explain(PlantedFunction(truth), n, method=method, budget=budget,
                                random_state=0)
        assert fit.n_queries <= budget
        assert fit.to_fourier().allclose(truth.to_fourier(), atol=1e-7)


def test_lime_recovers_a_linear_function_exactly_without_ridge():
    n = 30
    w = np.random.default_rng(0).normal(size=n)

    def linear(masks):
        return 0.5 + masks @ w

    result = interplay.explain(linear, n, method="lime", budget=300, random_state=0,
                               solver_options={"alpha": 0.0})
    coefs = _as_dict(result)
    np.testing.assert_allclose([coefs.get((i,), 0.0) for i in range(n)], w, atol=1e-8)
    assert coefs[()] == pytest.approx(0.5)
    assert result.n_queries <= 300


def test_order_two_refused_for_large_n_and_underdetermined_warns():
    vf = as_value_function(lambda m: m.sum(axis=1).astype(float), 129)
    with pytest.raises(ValueError, match="n <= 128"):
        FaithShap(budget=10_000).fit(vf, 129)
    vf = as_value_function(lambda m: m.sum(axis=1).astype(float), 20)
    exact_hint = r"2\^20 = 1048576 queries covers every mask"
    with pytest.warns(UserWarning, match=f"under-determined.*{exact_hint}"):
        interplay.explain(vf, 20, method="faith_banzhaf", budget=100, random_state=0)
    # first order works at any n
    res = interplay.explain(lambda m: m.sum(axis=1).astype(float), 300, method="banzhaf",
                            budget=400, random_state=0)
    np.testing.assert_allclose(res.banzhaf_values(), 1.0, atol=1e-8)


def test_samplers():
    rng = np.random.default_rng(0)
    m = shapley_kernel_masks(rng, 1000, 20, paired=True)
    sizes = m.sum(axis=1)
    assert sizes.min() >= 1 and sizes.max() <= 19
    assert np.array_equal(m[1::2], ~m[0::2])
    # P(s) ∝ 1/(s(n−s)): the extreme sizes are the most frequent
    assert np.mean((sizes == 1) | (sizes == 19)) > np.mean((sizes == 10) | (sizes == 9))
    lm = lime_masks(rng, 500, 10)
    assert lm.sum(axis=1).max() <= 9
    masks, counts = draw_distinct(lambda k: rng.random((k, 4)) < 0.5, 10)
    assert len(masks) == 10 and len(np.unique(masks, axis=0)) == 10
    assert counts.min() >= 1
    masks, counts = draw_distinct(lambda k: rng.random((k, 3)) < 0.5, 100)
    assert len(masks) == 8  # only 2^3 masks exist


def test_bad_parameters():
    from interplay.solvers.regression import WeightedRegression

    vf = as_value_function(lambda m: m.sum(axis=1).astype(float), 5)
    with pytest.raises(ValueError, match="kernel"):
        WeightedRegression(kernel="gaussian").fit(vf, 5)
    with pytest.raises(ValueError, match="order"):
        WeightedRegression(order=3).fit(vf, 5)
    with pytest.raises(ValueError, match="alpha"):
        WeightedRegression(alpha=-1.0).fit(vf, 5)
