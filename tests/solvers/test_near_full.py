"""Near-full masks: what they remove, their own stream, and the order they are fitted in."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.solvers.near_full import mix_masks, near_full_design, near_full_masks
from interplay.solvers.stacked import uniform_design


@pytest.mark.parametrize(("n", "top"), [(80, 8), (10, 1), (25, 2)])
def test_each_mask_removes_one_to_a_tenth_of_the_features(n, top):
    masks = near_full_masks(np.random.default_rng(0), 4000, n)
    removed = n - masks.sum(axis=1)
    assert removed.min() == 1
    assert removed.max() == top
    # every count of removed features is drawn about equally often
    counts = np.bincount(removed, minlength=top + 1)[1:]
    assert counts.min() > 0.8 * 4000 / top


def test_every_feature_is_removed_about_equally_often():
    masks = near_full_masks(np.random.default_rng(1), 20000, 40)
    share = (~masks).mean(axis=0)
    assert np.allclose(share, share.mean(), atol=0.01)


def test_a_longer_draw_begins_with_a_shorter_one():
    a = near_full_masks(np.random.default_rng(2), 30, 50)
    rng = np.random.default_rng(2)
    b = np.vstack([near_full_masks(rng, 10, 50), near_full_masks(rng, 25, 50)])
    np.testing.assert_array_equal(a, b[:30])


def test_a_smaller_design_is_a_prefix_of_a_larger_one():
    small = near_full_design(5, 40, 60)
    large = near_full_design(5, 200, 60)
    assert small.shape == (40, 60)
    assert np.unique(large, axis=0).shape[0] == 200
    np.testing.assert_array_equal(small, large[:40])


def test_the_stream_is_not_the_uniform_one_and_depends_on_the_seed():
    near = near_full_design(3, 50, 60)
    assert not np.array_equal(near, near_full_design(4, 50, 60))
    uniform, _ = uniform_design(3, 50, 60)
    assert (near.sum(axis=1) >= 54).all() and (uniform.sum(axis=1) < 54).all()


def test_few_features_give_only_the_masks_that_exist_and_none_already_queried():
    near = near_full_design(0, 50, 10)  # one feature removed: ten masks exist
    assert near.shape == (10, 10)
    np.testing.assert_array_equal(np.sort(near.sum(axis=1)), np.full(10, 9))
    fewer = near_full_design(0, 50, 10, exclude=near[:3])
    assert fewer.shape == (7, 10)
    assert not {bytes(r) for r in np.packbits(fewer, axis=1)} & {
        bytes(r) for r in np.packbits(near[:3], axis=1)}


def test_nothing_is_drawn_for_a_size_of_zero():
    assert near_full_design(0, 0, 30).shape == (0, 30)


def test_the_mixed_order_spreads_both_kinds_over_the_rows():
    uniform, near = np.zeros((300, 5), bool), np.ones((100, 5), bool)
    order = mix_masks(uniform, near, 0)
    np.testing.assert_array_equal(np.sort(order), np.arange(400))
    is_near = order >= 300
    for quarter in np.split(is_near, 4):  # every quarter holds about its share
        assert 10 <= quarter.sum() <= 40
