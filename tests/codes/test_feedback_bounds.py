"""Bounds of interplay.codes.feedback_bounds against brute force and closed forms."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import pytest

from interplay.codes.feedback_bounds import (
    check_problem,
    feedback_bounds,
    fixed_length_lower_bound,
    fixed_length_upper_bound,
    log2_success_probability,
    naive_bits,
    seed_search_lower_bound,
    set_listing_bits,
    variable_length_lower_bound,
)


def brute_success(k: int, b: int, m: int) -> float:
    ok = sum(
        1
        for t in itertools.product(range(b), repeat=k)
        if max(t.count(j) for j in range(b)) <= m
    )
    return math.log2(ok / b**k)


def exact_success(k: int, b: int, m: int) -> float:
    """Exact rational DP over slots: ways[t] = labelled placements of t users so far."""
    ways = [0] * (k + 1)
    ways[0] = 1
    for _ in range(b):
        new = [0] * (k + 1)
        for t, w in enumerate(ways):
            if w:
                for j in range(min(m, k - t) + 1):
                    new[t + j] += w * math.comb(t + j, j)
        ways = new
    return math.log2(Fraction(ways[k], b**k))


@pytest.mark.parametrize(
    "k,b,m",
    [(1, 1, 1), (2, 2, 1), (4, 4, 1), (5, 7, 1), (4, 4, 2), (5, 3, 2), (6, 4, 3), (6, 3, 2), (6, 2, 3), (3, 1, 3)],
)
def test_success_probability_matches_enumeration(k, b, m):
    assert log2_success_probability(k, b, m) == pytest.approx(brute_success(k, b, m), abs=1e-9)


@pytest.mark.parametrize("k,b,m", [(200, 150, 2), (300, 300, 2), (120, 50, 3), (400, 250, 2)])
def test_success_probability_large_k_matches_exact_dp(k, b, m):
    assert log2_success_probability(k, b, m) == pytest.approx(exact_success(k, b, m), rel=1e-9, abs=1e-6)


def test_impossible_and_trivial_cases():
    assert log2_success_probability(5, 2, 2) == -math.inf
    assert log2_success_probability(3, 10, 3) == 0.0
    assert log2_success_probability(0, 4, 1) == 0.0


def test_variable_bound_tends_to_k_log2_e():
    k = 100_000
    bound = variable_length_lower_bound(k, 10**12, k)
    stirling = k * math.log2(math.e) - 0.5 * math.log2(2 * math.pi * k)
    assert bound == pytest.approx(stirling, abs=0.01)
    assert bound / k < math.log2(math.e)


def test_variable_bound_finite_n_correction():
    # for n close to k the correction is large; the bound can only shrink with smaller n
    big = variable_length_lower_bound(8, 10**9, 8)
    small = variable_length_lower_bound(8, 16, 8)
    assert small < big
    assert big == pytest.approx(-log2_success_probability(8, 8, 1), abs=1e-6)


def test_more_slots_or_capacity_need_fewer_bits():
    k, n = 64, 10**9
    b_k = variable_length_lower_bound(k, n, k)
    assert variable_length_lower_bound(k, n, 2 * k) < b_k
    assert variable_length_lower_bound(k, n, k, 2) < b_k


def test_seed_search_bound_is_geometric_entropy():
    p = 2.0 ** log2_success_probability(8, 8)
    entropy = sum(-p * (1 - p) ** g * math.log2(p * (1 - p) ** g) for g in range(200_000))
    assert seed_search_lower_bound(8, 8) == pytest.approx(entropy, rel=1e-6)
    assert seed_search_lower_bound(64, 64) - variable_length_lower_bound(64, 10**9, 64) == pytest.approx(
        math.log2(math.e), abs=1e-3
    )


def test_fixed_length_bounds_bracket_and_grow_like_log_log_n():
    for k, b, m in [(8, 8, 1), (16, 32, 1), (12, 6, 2)]:
        previous = None
        for n in (10**3, 10**6, 10**12):
            lo = fixed_length_lower_bound(k, n, b, m)
            hi = fixed_length_upper_bound(k, n, b, m)
            assert lo <= hi
            assert hi >= variable_length_lower_bound(k, n, b, m)
            if previous is not None:
                assert hi >= previous
            previous = hi
    # log log n growth: squaring n adds about one bit to the upper bound
    assert fixed_length_upper_bound(64, 10**18, 64) - fixed_length_upper_bound(64, 10**9, 64) in (0.0, 1.0, 2.0)


def test_fixed_length_bounds_exact_for_pairs():
    # k = 2, b = 2: a perfect family is a set of bit positions separating every pair of ids,
    # so the optimal family has ceil(log2 n) members.
    for n in (4, 16, 1000):
        optimal = math.log2(math.ceil(math.log2(n)))
        assert fixed_length_lower_bound(2, n, 2) <= optimal + 1e-9
        assert fixed_length_upper_bound(2, n, 2) >= optimal - 1e-9


def test_naive_and_set_listing():
    assert naive_bits(8, 10**9) == 8 * 30
    assert set_listing_bits(8, 10**9) == math.ceil(math.log2(math.comb(10**9, 8)))
    bounds = feedback_bounds(8, 10**9, 8)
    per_user = bounds.per_user()
    assert per_user["naive"] == 30
    assert per_user["variable_length_lower"] < per_user["set_listing"] < per_user["naive"]


@pytest.mark.parametrize(
    "args",
    [(5, 10, 4, 1), (-1, 10, 4, 1), (11, 10, 20, 1), (2, 0, 4, 1), (2, 10, 0, 1), (2, 10, 2, 0), (2.5, 10, 4, 1), (True, 10, 4, 1)],
)
def test_check_problem_rejects(args):
    with pytest.raises(ValueError):
        check_problem(*args)
