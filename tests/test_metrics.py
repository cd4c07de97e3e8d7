"""Metrics: faithfulness, top-r removal, support recovery and NMSE."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from interplay import Interactions
from interplay.metrics import (
    faithfulness,
    nmse,
    r2_score,
    sample_masks,
    support_recovery,
    top_removal,
)
from interplay.values.planted import PlantedFunction, random_hierarchical


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
    assert faithfulness(truth, f, random_state=1) == pytest.approx(1.0)
    assert faithfulness(truth, f, distribution="few_removed", random_state=1) == pytest.approx(1.0)
    constant = Interactions([()], [truth.to_fourier().baseline], n_features=30)
    assert faithfulness(constant, f, n_masks=4000, random_state=2) == pytest.approx(0.0, abs=0.05)
    masks = sample_masks(30, 100, random_state=3)
    assert faithfulness(truth, None, masks=masks, values=f(masks)) == pytest.approx(1.0)
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
