"""explain() with a configured solver: it runs that solver, and refuses two answers to one setting.

The oracle is the planted expansion itself (recovered exactly) and the same solver run by name.
"""

from __future__ import annotations

import numpy as np
import pytest

import interplay
from interplay.solvers.qsft import QSFT
from interplay.solvers.spex import SPEX
from interplay.spectral.interactions import Interactions
from interplay.values.planted import random_sparse_fourier
from interplay.values.qary import random_sparse_qary

N = 60
TRUTH = random_sparse_fourier(N, 8, max_degree=2, random_state=3)


class CountingFunction:
    """The planted function, counting the masks it is asked for."""

    def __init__(self, truth):
        self.truth = truth
        self.queries = 0

    def __call__(self, masks):
        self.queries += len(masks)
        return self.truth.predict(masks)


def test_a_configured_solver_runs_with_its_own_settings():
    solver = SPEX(budget=3000, max_order=2, random_state=7, n_groups=4)
    result = interplay.explain(TRUTH.predict, N, method=solver)
    by_name = interplay.explain(
        TRUTH.predict, N, method="spex", budget=3000, max_order=2, random_state=7,
        solver_options={"n_groups": 4},
    )
    assert result.allclose(TRUTH, atol=1e-8)
    assert result.allclose(by_name, atol=0.0)
    assert result.n_queries == by_name.n_queries <= 3000


def test_equal_settings_given_twice_are_accepted():
    solver = SPEX(budget=3000, max_order=2, random_state=7)
    result = interplay.explain(
        TRUTH.predict, N, method=solver, budget=3000, max_order=2, random_state=7, q=2
    )
    assert result.allclose(TRUTH, atol=1e-8)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"budget": 2000}, r"budget=2000 \(the solver has 3000\)"),
        ({"max_order": 3}, r"max_order=3 \(the solver has 2\)"),
        ({"random_state": 8}, r"random_state=8 \(the solver has 7\)"),
        ({"random_state": np.random.default_rng(7)}, "random_state=Generator"),
        ({"q": 3}, r"q=3 \(the solver has 2\)"),
        ({"solver_options": {"n_groups": 4}}, "set them on the SPEX instance"),
    ],
)
def test_conflicting_settings_are_refused_before_any_query(extra, message):
    f = CountingFunction(TRUTH)
    solver = SPEX(budget=3000, max_order=2, random_state=7)
    with pytest.raises(ValueError, match=message):
        interplay.explain(f, N, method=solver, **extra)
    assert f.queries == 0


def test_a_solver_class_is_not_an_instance():
    with pytest.raises(TypeError, match="a Solver instance such as SPEX()"):
        interplay.explain(TRUTH.predict, N, method=SPEX)


def test_a_configured_qary_solver_brings_its_alphabet():
    truth = random_sparse_qary(8, 3, 6, max_degree=2, random_state=2)
    seen = []

    def f(states):
        seen.append(states)
        return truth.predict(states)

    result = interplay.explain(f, 8, method=QSFT(q=3, budget=3**8, max_order=2))
    assert result.allclose(truth, atol=1e-8)
    assert type(result) is Interactions and result.q == 3  # the annotated type, for any q
    assert max(int(s.max()) for s in seen) == 2
