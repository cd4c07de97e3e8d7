"""Near-full masks: what they remove, their own stream, and the order they are fitted in."""

from __future__ import annotations

import numpy as np
import pytest

from interplay.solvers import near_full
from interplay.solvers.near_full import (
    mix_masks,
    near_full_design,
    near_full_masks,
    path_design,
    removal_path,
    removal_set,
)
from interplay.solvers.stacked import uniform_design
from interplay.spectral.interactions import Interactions
from interplay.values.planted import random_hierarchical


@pytest.mark.parametrize(("n", "top"), [(80, 16), (10, 2), (25, 6), (400, 40), (3, 1)])
def test_each_mask_removes_one_to_a_tenth_or_sixteen_or_a_quarter_of_the_features(n, top):
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
    assert (near.sum(axis=1) >= 45).all() and (uniform.sum(axis=1) < 45).all()


def test_few_features_give_only_the_masks_that_exist_and_none_already_queried():
    near = near_full_design(0, 50, 7)  # one feature removed: seven masks exist
    assert near.shape == (7, 7)
    np.testing.assert_array_equal(np.sort(near.sum(axis=1)), np.full(7, 6))
    fewer = near_full_design(0, 50, 7, exclude=near[:3])
    assert fewer.shape == (4, 7)
    assert not {bytes(r) for r in np.packbits(fewer, axis=1)} & {
        bytes(r) for r in np.packbits(near[:3], axis=1)}


def test_nothing_is_drawn_for_a_size_of_zero():
    assert near_full_design(0, 0, 30).shape == (0, 30)


def test_the_mixed_order_spreads_both_kinds_over_the_rows_each_in_its_own_order():
    uniform, near = np.zeros((300, 5), bool), np.ones((100, 5), bool)
    order = mix_masks(uniform, near, 0)
    np.testing.assert_array_equal(np.sort(order), np.arange(400))
    is_near = order >= 300
    for quarter in np.split(is_near, 4):  # every quarter holds about its share
        assert 10 <= quarter.sum() <= 40
    # every prefix of the rows holds a prefix of the uniform masks (ProxySPEX's design)
    np.testing.assert_array_equal(order[~is_near], np.arange(300))
    np.testing.assert_array_equal(order[is_near], np.arange(300, 400))


def greedy_by_brute_force(expansion: Interactions, length: int) -> list[int]:
    n = expansion.n_features
    kept, chosen = np.ones(n, dtype=bool), []
    base = expansion.predict(kept[None, :])[0]
    for _ in range(length):
        best, pick = -1.0, -1
        for i in np.flatnonzero(kept):
            trial = kept.copy()
            trial[i] = False
            change = abs(expansion.predict(trial[None, :])[0] - base)
            if change > best:
                best, pick = change, int(i)
        chosen.append(pick)
        kept[pick] = False
    return chosen


@pytest.mark.parametrize("seed", range(3))
def test_the_removal_path_is_the_greedy_choice_of_the_expansion(seed):
    truth = random_hierarchical(12, 6, max_degree=3, random_state=seed)
    assert removal_path(truth, 6).tolist() == greedy_by_brute_force(truth, 6)
    assert removal_path(truth, 50).size == 12  # never more than n


def predicted_change(expansion, removed):
    full = np.ones(expansion.n_features, dtype=bool)
    kept = full.copy()
    kept[list(removed)] = False
    return float(expansion.predict(kept[None, :])[0] - expansion.predict(full[None, :])[0])


def test_the_removal_set_finds_two_features_that_matter_only_together():
    # f = 4·x0 + 6·(x1 or x2): removing x1 or x2 alone changes nothing, so greedy removal of
    # two features takes x0 first (−4); the best pair is x1 and x2 (−6)
    f = Interactions([(0,), (1,), (2,), (1, 2)], [4.0, 6.0, 6.0, -6.0], n_features=5,
                     basis="mobius")
    assert predicted_change(f, removal_path(f, 2)) == pytest.approx(-4.0)
    assert removal_set(f, 2).tolist() == [1, 2]
    with pytest.MonkeyPatch.context() as patch:  # the exchange search, not every choice
        patch.setattr(near_full, "EXHAUSTIVE_REMOVALS", 0)
        assert removal_set(f, 2).tolist() == [1, 2]
        assert removal_set(f, 2, "up").tolist() != [1, 2]


@pytest.mark.parametrize("seed", range(6))
def test_the_removal_set_is_the_best_choice_and_the_exchanges_beat_greedy(seed):
    from itertools import combinations

    truth = random_hierarchical(9, 8, max_degree=3, random_state=seed)
    for size in (1, 2, 4, 6):
        for direction in ("abs", "down", "up"):
            def score(removed, direction=direction):
                change = predicted_change(truth, removed)
                return {"abs": abs(change), "down": -change, "up": change}[direction]

            best = max(score(c) for c in combinations(range(9), size))
            chosen = removal_set(truth, size, direction)
            assert chosen.size == size and score(chosen) == pytest.approx(best)
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(near_full, "EXHAUSTIVE_REMOVALS", 0)
                swapped = removal_set(truth, size, direction)
            assert np.unique(swapped).size == size
            assert score(removal_path(truth, size, direction)) <= score(swapped) + 1e-9
            assert score(swapped) <= best + 1e-9


def test_path_masks_remove_one_to_all_of_the_path_and_nothing_else():
    path = np.array([7, 2, 30, 11])
    masks = path_design(0, 15, 40, path)  # 2^4 - 1 = 15 non-empty subsets exist
    assert masks.shape == (15, 40)
    assert np.unique(masks, axis=0).shape[0] == 15
    others = np.setdiff1d(np.arange(40), path)
    assert masks[:, others].all()
    removed = (~masks[:, path]).sum(axis=1)
    assert removed.min() == 1 and removed.max() == 4


def test_path_masks_are_reproducible_replace_those_queried_and_grow_by_prefix():
    path = np.arange(0, 60, 4)
    small, large = path_design(3, 30, 60, path), path_design(3, 100, 60, path)
    np.testing.assert_array_equal(small, large[:30])
    assert not np.array_equal(small, path_design(4, 30, 60, path))
    others = path_design(3, 90, 60, path, exclude=small[:10])  # the next ten replace them
    np.testing.assert_array_equal(others, large[10:100])


def test_path_masks_begin_with_its_nested_prefixes_and_each_round_draws_its_own():
    path = np.array([7, 2, 30, 11, 5, 9])
    masks = path_design(0, 20, 40, path)
    for j in range(path.size):  # the inputs greedy removal along the path asks about
        expected = np.ones(40, dtype=bool)
        expected[path[:j + 1]] = False
        np.testing.assert_array_equal(masks[j], expected)
    again = path_design(0, 20, 40, path, round_index=1)
    np.testing.assert_array_equal(again[:path.size], masks[:path.size])
    assert not np.array_equal(again[path.size:], masks[path.size:])
    assert (~path_design(0, 20, 40, path, exclude=masks[:3])[:3, path]).sum(1).tolist() == [
        4, 5, 6]  # prefixes already queried are replaced by the next ones


def test_near_full_masks_already_queried_are_replaced_by_the_next_ones():
    large = near_full_design(2, 60, 50)
    np.testing.assert_array_equal(near_full_design(2, 40, 50, exclude=large[5:15]),
                                  np.vstack([large[:5], large[15:50]]))
