"""Solver parameters: declared constraints, their words, and the one place they are checked."""

from __future__ import annotations

import time

import numpy as np
import pytest

import interplay
from interplay.solvers import BudgetError
from interplay.solvers.parameters import (
    boolean,
    integer,
    integers,
    one_of,
    random_state,
    real,
    reals,
    satisfies,
)
from interplay.solvers.proxyspex import ProxySPEX
from interplay.solvers.regression import Banzhaf


@pytest.mark.parametrize(("constraint", "good", "bad", "words"), [
    (integer(1), [1, 7, np.int64(3)], [0, 1.0, True, "2", None], "an int >= 1"),
    (integer(2, 128), [2, 128], [1, 129], "an int in [2, 128]"),
    (integer(1, optional=True), [None, 4], [0], "an int >= 1 or None"),
    (real(0, 1, low_open=True, high_open=True), [0.5, 0.999], [0, 1, float("nan"), True],
     "a number in (0, 1)"),
    (real(high=1), [-3.0, 1], [1.01, float("inf")], "a number <= 1"),
    (reals(0, 1, low_open=True), [1.0, (0.9, 1.0), [0.5]], [(), (0.5, 0), 0],
     "a number in (0, 1], or a non-empty tuple of them"),
    (integers(1, optional=True), [None, 3, (3, 4)], [(3, 0), ()],
     "an int >= 1, or a non-empty tuple of them or None"),
    (boolean(), [True, False], [0, 1, "yes", None], "True or False"),
    (one_of(1, 2), [1, 2], [3, True, "1"], "one of 1, 2"),
    (one_of("unit", "bch"), ["bch"], ["BCH", None], "one of 'unit', 'bch'"),
    (random_state(), [None, 0, np.random.default_rng(1)], [-1, 1.5, "seed"],
     "None, an int >= 0 or a numpy Generator or None"),
    (satisfies("an even int", lambda v: v % 2 == 0), [4], [3, "x"], "an even int"),
])
def test_constraints_accept_and_refuse_and_say_what_they_want(constraint, good, bad, words):
    assert all(constraint.allows(v) for v in good)
    assert not any(constraint.allows(v) for v in bad)
    assert constraint.described() == words


def test_the_error_names_the_solver_the_parameter_and_the_value():
    with pytest.raises(ValueError, match=r"^ProxySPEX: validation_fraction must be a number "
                                         r"in \(0, 1\), got 1\.5$"):
        ProxySPEX(validation_fraction=1.5).check_parameters()
    with pytest.raises(BudgetError, match=r"^Banzhaf: budget must be an int >= 1 or None"):
        Banzhaf(budget=0).check_parameters()


def test_a_configured_solver_prints_what_differs_from_the_defaults_and_runs():
    solver = ProxySPEX(budget=64, energy=(0.9, 1.0), random_state=3)
    assert repr(solver) == "ProxySPEX(budget=64, random_state=3, energy=(0.9, 1.0))"
    assert solver.get_params()["energy"] == (0.9, 1.0)
    result = interplay.explain(lambda m: m[:, 0] * 2.0 + m[:, 1], 12, method=solver)
    assert result.method == "proxyspex" and result.n_queries == 64


def test_query_and_solver_seconds_are_measured_in_one_place():
    calls = []

    def slow(masks):
        calls.append(len(masks))
        time.sleep(0.02)
        return masks[:, 0].astype(float)

    for method in ("banzhaf", "spex", "proxyspex", "stacked"):
        calls.clear()
        started = time.perf_counter()
        result = interplay.explain(slow, 20, method=method, budget=1500, max_order=2,
                                   random_state=0)
        wall = time.perf_counter() - started
        query, solver = result.metadata["query_seconds"], result.metadata["solver_seconds"]
        assert query >= 0.02 * len(calls) and solver > 0
        assert query + solver <= wall
