"""One contract, every registered solver (scikit-learn's ``parametrize_with_checks`` idea).

Every method must pass every check at n = 12 with a budget of 1 500 queries.
"""

from __future__ import annotations

import copy
import inspect

import numpy as np
import pytest

import interplay
from interplay.solvers import REGISTRY, Solver, get_solver
from interplay.values.planted import PlantedFunction, random_hierarchical

N = 12
BUDGET = 1500
MAX_ORDER = 2


def _solver(method: str) -> type[Solver]:
    return get_solver(method)


class Recorder:
    """A planted value function that remembers every mask it received."""

    def __init__(self, truth, nan_rows: bool = False):
        self.inner = PlantedFunction(truth)
        self.nan_rows = nan_rows
        self.seen: list[np.ndarray] = []

    def __call__(self, masks):
        masks = np.asarray(masks)
        self.seen.append(masks.copy())
        out = self.inner(masks.astype(bool))
        if self.nan_rows:
            out = out.copy()
            out[::3] = np.nan
        return out

    def distinct(self) -> int:
        if not self.seen:
            return 0
        return int(np.unique(np.concatenate(self.seen).astype(np.uint8), axis=0).shape[0])


@pytest.fixture(scope="module")
def truth():
    return random_hierarchical(N, 5, max_degree=2, random_state=0)


def _run(method, f, seed=0):
    return interplay.explain(f, N, method=method, budget=BUDGET, max_order=MAX_ORDER,
                             random_state=seed)


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_returns_interactions_within_budget_and_counts_queries(method, truth):
    _solver(method)
    f = Recorder(truth)
    result = _run(method, f)
    assert isinstance(result, interplay.Interactions)
    assert result.n_features == N
    assert result.method == method
    assert result.n_queries is not None
    assert 1 <= result.n_queries <= BUDGET
    assert result.n_queries == f.distinct(), "n_queries must be the distinct masks really sent"
    assert np.all(np.isfinite(result.coefficients))
    # one metadata schema: the timings, the exact path's keys, the rest under "diagnostics"
    from interplay.solvers.base import COMMON_METADATA

    meta = result.metadata
    assert set(meta) <= {*COMMON_METADATA, "query_seconds", "solver_seconds", "diagnostics"}
    assert meta["query_seconds"] >= 0 and meta["solver_seconds"] > 0
    assert isinstance(meta["diagnostics"], dict)


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_reproducible_with_a_seed(method, truth):
    _solver(method)
    first = _run(method, Recorder(truth), seed=123)
    second = _run(method, Recorder(truth), seed=123)
    assert first.basis == second.basis
    assert first.allclose(second, atol=0.0)
    assert first.n_queries == second.n_queries


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_rejects_nan_values_with_the_same_error(method, truth):
    _solver(method)
    with pytest.raises(ValueError, match=r"returned NaN values for \d+ of \d+ masks"):
        _run(method, Recorder(truth, nan_rows=True))


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_constructor_is_keyword_only_stores_and_fit_does_not_mutate(method, truth):
    cls = _solver(method)
    params = inspect.signature(cls.__init__).parameters
    for name, p in params.items():
        if name != "self":
            assert p.kind is inspect.Parameter.KEYWORD_ONLY, f"{name} must be keyword-only"
    for name in ("budget", "max_order", "random_state"):
        assert name in params
    solver = cls(budget=0)  # no validation in __init__ ...
    with pytest.raises(ValueError):  # ... but in fit (BudgetError is a ValueError)
        solver.fit(interplay.as_value_function(Recorder(truth), N), N)
    solver = cls(budget=BUDGET, max_order=MAX_ORDER, random_state=0)
    before = copy.deepcopy(vars(solver))
    solver.fit(interplay.as_value_function(Recorder(truth), N), N)
    after = vars(solver)
    for key, value in before.items():
        assert key in after and repr(after[key]) == repr(value), f"fit changed {key}"


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_every_mask_within_budget_gives_the_exact_expansion(method):
    _solver(method)
    n = 6
    table = np.random.default_rng(0).normal(size=2**n)
    masks = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)

    def f(m):
        return table[m.astype(np.int64) @ (1 << np.arange(n))]

    result = interplay.explain(f, n, method=method, budget=2**n, max_order=MAX_ORDER)
    assert result.metadata["exact"] is True and result.n_queries == 2**n
    np.testing.assert_allclose(result.predict(masks), table, atol=1e-9)


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_the_result_records_every_mask_it_queried(method, truth):
    _solver(method)
    f = Recorder(truth)
    result = _run(method, f)
    assert len(result.queried_masks) == result.n_queries == f.distinct()
    assert result.queried_masks.contains(np.concatenate(f.seen).astype(bool)).all()


#: Values tried against each declared parameter: at least one must be refused.
_BAD_VALUES = (object(), "nonsense", -7, 1.5, float("nan"), (), True)


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_every_parameter_is_declared_once_with_a_constraint(method):
    cls = _solver(method)
    names = {name for name, p in inspect.signature(cls.__init__).parameters.items()
             if p.kind is inspect.Parameter.KEYWORD_ONLY}
    assert set(cls.parameter_constraints()) == names
    cls().check_parameters()  # the defaults are valid
    assert repr(cls()) == f"{cls.__name__}()"
    configured = cls(budget=BUDGET, max_order=MAX_ORDER)
    assert repr(configured) == f"{cls.__name__}(budget={BUDGET}, max_order={MAX_ORDER})"
    assert repr(cls(**configured.get_params())) == repr(configured)


@pytest.mark.parametrize("method", sorted(REGISTRY))
def test_a_bad_parameter_is_refused_by_name_before_any_query(method, truth):
    cls = _solver(method)
    for name, constraint in cls.parameter_constraints().items():
        bad = next((v for v in _BAD_VALUES if not constraint.allows(v)), None)
        assert bad is not None, f"{name} accepts every value tried"
        f = Recorder(truth)
        solver = cls(**{"budget": BUDGET, "max_order": MAX_ORDER, name: bad})
        with pytest.raises(ValueError, match=rf"^{cls.__name__}: {name} must be "):
            solver.fit(interplay.as_value_function(f, N), N)
        assert f.seen == [], f"a bad {name} cost queries"
