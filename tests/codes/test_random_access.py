"""Random-access comparison: feedback code, index listing and slotted ALOHA."""

from __future__ import annotations

import math

import numpy as np
import pytest

from interplay.cli import main
from interplay.codes.feedback_bounds import naive_bits
from interplay.codes.random_access import aloha_delivered_fraction, simulate_random_access

N = 10**9


def test_aloha_matches_its_closed_form():
    for k, slots, m in ((50, 50, 1), (50, 100, 1), (60, 30, 2)):
        result = simulate_random_access(N, k, slots, m, protocol="aloha", trials=400, random_state=k)
        expected = aloha_delivered_fraction(k, slots, m)
        if m == 1:
            assert expected == pytest.approx((1 - 1 / slots) ** (k - 1))
        # users of one trial are dependent; 400 trials of k users still give a tight mean
        assert abs(result.delivered - expected) < 4 * math.sqrt(expected * (1 - expected) / 400)
        assert result.feedback_bits == 0 and result.slots_used == slots


def test_brute_force_aloha_fraction_small():
    # k = 3 users, 2 slots, m = 1: a user gets through iff both others pick the other slot
    assert aloha_delivered_fraction(3, 2, 1) == pytest.approx(0.25)
    assert aloha_delivered_fraction(3, 2, 2) == pytest.approx(0.75)


def test_code_and_listing_deliver_everyone_and_cost_what_they_should():
    code = simulate_random_access(N, 40, 80, protocol="code", trials=3, random_state=1)
    naive = simulate_random_access(N, 40, 80, protocol="naive", trials=3, random_state=1)
    assert code.delivered == naive.delivered == 1.0
    assert code.bound_bits <= code.feedback_bits < naive.feedback_bits == naive_bits(40, N)
    assert naive.slots_used == 40 and code.slots_used == 80
    assert code.total_bits(10) == code.feedback_bits + 800
    assert naive.bits_per_delivered(10) == pytest.approx((naive_bits(40, N) + 400) / 40)


def test_bad_arguments():
    with pytest.raises(ValueError, match="protocol"):
        simulate_random_access(N, 4, 4, protocol="csma")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="trials"):
        simulate_random_access(N, 4, 4, protocol="aloha", trials=0)
    with pytest.raises(ValueError, match="cannot fit"):
        simulate_random_access(N, 5, 4, protocol="naive")


def test_cli_compares_the_three(capsys):
    assert main(["feedback", "simulate", "--k", "30", "--slots", "60", "--protocol", "all", "--trials", "2"]) == 0
    out = capsys.readouterr().out
    lines = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert set(lines) == {"code", "naive", "aloha"}
    assert float(lines["code"][3]) == 1.0 and float(lines["aloha"][3]) < 1.0
    assert main(["feedback", "simulate", "--k", "30", "--slots", "60", "--protocol", "aloha", "--slot-bits", "-1"]) == 2
    assert "slot-bits" in capsys.readouterr().err
    np.testing.assert_equal(float(lines["naive"][1]), 30.0)
