"""The Fourier transform of LightGBM ensembles, checked against the booster and brute force."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from interplay.solvers.tree_fourier import (
    booster_to_interactions,
    ensemble_fourier,
    parse_booster,
)


def _all_masks(n: int) -> np.ndarray:
    return ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)


def _brute_wht(values: np.ndarray, n: int) -> np.ndarray:
    """F(k) = 2^-n Σ_m f(m) (−1)^<m,k>, indexed like _all_masks."""
    masks = _all_masks(n).astype(np.int64)
    signs = 1 - 2 * ((masks @ masks.T) & 1)
    return signs @ values / 2**n


def _train(n, n_rows, depth, rounds, seed, **extra):
    rng = np.random.default_rng(seed)
    x = rng.random((n_rows, n)) < 0.5
    y = (
        2.0 * x[:, 0]
        + 1.5 * x[:, 1] * x[:, 2]
        - x[:, 3] * x[:, 4] * x[:, 0]
        + x[:, 5 % n] * x[:, 6 % n] * x[:, 7 % n] * x[:, 1]
        + rng.normal(0, 0.3, n_rows)
    )
    params = dict(
        objective="regression", max_depth=depth, num_leaves=2**depth, verbose=-1,
        min_data_in_leaf=3, num_threads=1, seed=seed, **extra,
    )
    return lgb.train(params, lgb.Dataset(x.astype(np.float64), y), num_boost_round=rounds)


@pytest.mark.parametrize(
    ("n", "depth", "rounds", "extra"),
    [
        (8, 3, 20, {}),
        (40, 5, 60, {}),
        (40, 6, 30, {"zero_as_missing": True}),  # zeros take the default direction
        (25, 4, 30, {"learning_rate": 0.3, "lambda_l2": 1.0}),
    ],
)
def test_expansion_predicts_booster_outputs(n, depth, rounds, extra):
    booster = _train(n, 800, depth, rounds, seed=n + depth, **extra)
    expansion = booster_to_interactions(booster)
    masks = np.random.default_rng(1).random((500, n)) < 0.5
    masks[0] = True
    masks[1] = False
    np.testing.assert_allclose(
        expansion.predict(masks), booster.predict(masks.astype(np.float64)), rtol=0, atol=1e-9
    )
    assert expansion.basis == "fourier"
    assert expansion.degrees.max() <= depth


def test_coefficients_equal_brute_force_walsh_hadamard():
    n = 8
    booster = _train(n, 600, 4, 25, seed=3)
    masks = _all_masks(n)
    brute = _brute_wht(booster.predict(masks.astype(np.float64)), n)
    expansion = booster_to_interactions(booster)
    dense = np.zeros(2**n)
    codes = [sum(1 << i for i in s) for s in expansion.subsets]
    dense[codes] = expansion.coefficients
    np.testing.assert_allclose(dense, brute, atol=1e-12)


@pytest.mark.parametrize("max_order", [0, 1, 2, 3])
def test_max_order_is_the_truncated_transform(max_order):
    n = 8
    booster = _train(n, 600, 5, 15, seed=4)
    brute = _brute_wht(booster.predict(_all_masks(n).astype(np.float64)), n)
    degree = _all_masks(n).sum(axis=1)
    brute[degree > max_order] = 0.0
    idx, coef, n_out = ensemble_fourier(booster, max_order=max_order)
    assert n_out == n
    dense = np.zeros(2**n)
    for row, c in zip(idx, coef, strict=True):
        dense[sum(1 << int(i) for i in row if i < n)] += c
    np.testing.assert_allclose(dense, brute, atol=1e-12)


def test_single_leaf_trees_and_sklearn_wrapper():
    rng = np.random.default_rng(0)
    x = (rng.random((200, 5)) < 0.5).astype(np.float64)
    model = lgb.LGBMRegressor(n_estimators=5, verbose=-1, num_threads=1).fit(x, np.full(200, 3.0))
    expansion = booster_to_interactions(model)
    assert len(expansion) == 1
    assert expansion.baseline == pytest.approx(model.predict(x[:1])[0], abs=1e-12)


def _handmade_booster(left_feature_again: bool) -> lgb.Booster:
    """Root splits on x0; its right child splits on x0 again (and then on x1)."""
    tree = f"""tree
version=v4
num_class=1
num_tree_per_iteration=1
label_index=0
max_feature_idx=2
objective=regression
feature_names=a b c
feature_infos=[0:1] [0:1] [0:1]
tree_sizes=400

Tree=0
num_leaves=4
num_cat=0
split_feature=0 {0 if left_feature_again else 2} 1
split_gain=1 1 1
threshold=0.5 0.5 0.5
decision_type=2 2 2
left_child=-1 -2 -3
right_child=1 2 -4
leaf_value=1.5 -2.25 0.75 4
leaf_weight=1 1 1 1
leaf_count=1 1 1 1
internal_value=0 0 0
internal_weight=1 1 1
internal_count=4 3 2
is_linear=0
shrinkage=1


end of trees

pandas_categorical:null
"""
    return lgb.Booster(model_str=tree)


@pytest.mark.parametrize("again", [True, False])
def test_feature_used_twice_on_a_path(again):
    booster = _handmade_booster(again)
    masks = _all_masks(3)
    expected = booster.predict(masks.astype(np.float64))
    expansion = booster_to_interactions(booster)
    np.testing.assert_allclose(expansion.predict(masks), expected, atol=1e-12)
    if again:  # the leaf needing x0 = 0 below a node needing x0 = 1 is unreachable
        assert -2.25 not in set(np.round(expected, 6))


def test_parse_booster_counts_nodes():
    booster = _train(10, 300, 3, 7, seed=2)
    trees = parse_booster(booster)
    assert trees.n_trees == 7
    assert trees.n_features == 10
    assert trees.leaf_value.size == trees.feature.size + trees.n_trees
    # every internal node sends 0 and 1 to different children on 0/1 features
    assert np.all(trees.zero_left != trees.one_left)


def test_rejects_non_boosters_and_multiclass():
    with pytest.raises(TypeError, match="lightgbm.Booster"):
        booster_to_interactions(object())
    rng = np.random.default_rng(0)
    x = (rng.random((150, 4)) < 0.5).astype(np.float64)
    y = rng.integers(0, 3, 150)
    model = lgb.LGBMClassifier(n_estimators=2, verbose=-1, num_threads=1).fit(x, y)
    with pytest.raises(ValueError, match="single-output"):
        booster_to_interactions(model)
    with pytest.raises(ValueError, match="max_order"):
        ensemble_fourier(_train(5, 100, 2, 2, seed=0), max_order=-1)
