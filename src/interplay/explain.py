"""The public entry point: :func:`explain`, and the library's one default method and budget.

The command line (``interplay explain``) uses the same :data:`DEFAULT_METHOD` and
:data:`DEFAULT_BUDGET`.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Callable, Sequence  # noqa: UP035

import numpy as np

from interplay.solvers import DEFAULT_BUDGET, DEFAULT_METHOD, Solver, get_solver
from interplay.spectral.interactions import Interactions, check_feature_names
from interplay.values.base import as_value_function

if TYPE_CHECKING:
    from interplay.runtime.engine import EngineOptions

__all__ = ["DEFAULT_BUDGET", "DEFAULT_METHOD", "explain"]

#: max_order of a method given by name when explain() is not told one.
DEFAULT_MAX_ORDER = 5

#: Parameters explain() passes to a solver it builds; a configured solver already holds them.
_SHARED_PARAMETERS = ("budget", "max_order", "random_state", "q")


def explain(
    value_function: Callable[[np.ndarray], Any],
    n: int,
    *,
    method: str | Solver = DEFAULT_METHOD,
    budget: int | None = None,
    max_order: int | None = None,
    random_state: int | np.random.Generator | None = None,
    feature_names: Sequence[str] | None = None,
    q: int | None = None,
    solver_options: dict[str, Any] | None = None,
    engine: EngineOptions | dict[str, Any] | None = None,
) -> Interactions:
    """Find the interactions among ``n`` features that drive ``value_function``.

    Parameters
    ----------
    value_function : callable
        ``value_function(masks) -> values`` with ``masks`` a (N, n) bool array (True keeps a
        feature) and ``values`` N finite floats. For ``method="qsft"`` with ``q > 2`` masks
        are (N, n) int arrays with entries in ``0..q-1`` and values may be complex.
    n : int
        Number of features.
    method : str or Solver
        ``"stacked"`` (:data:`DEFAULT_METHOD`), ``"proxyspex"``, ``"spex"``, ``"qsft"``, or
        a baseline: ``"lime"``, ``"kernelshap"``, ``"banzhaf"``, ``"faith_banzhaf"``,
        ``"faith_shap"``; or a configured solver such as ``SPEX(budget=2000, n_groups=4)``,
        which holds its own budget, max_order, random_state and q: giving explain() a
        different value for one of them is a ValueError, and so is ``solver_options``.
    budget : int, optional
        Largest number of queries to spend. ``None``: the method's own default; for the
        default method, Stacked, that is :data:`DEFAULT_BUDGET` = 800 queries, as on the
        command line. When every mask fits (2^n <=
        budget, q^n for q-ary methods) or the method's design would cost as many, all masks
        are queried once and the exact expansion is returned (``metadata["exact"]``).
    max_order : int, optional
        Largest interaction size looked for (5 when ``method`` is a name and none is given).
    random_state : None, int or numpy Generator
        Seed for every random choice (same seed, same queries, same result).
    feature_names : sequence of str, optional
        Names of the n features.
    q : int, optional
        Alphabet size for q-ary methods (``method="qsft"``). The other methods, the default
        among them, are binary: they accept ``q=2`` and refuse a larger q (before any query)
        with a ValueError that names ``method="qsft"``.
    solver_options : dict, optional
        Extra keyword parameters of the chosen solver (see its class docstring).
    engine : EngineOptions or dict, optional
        Run the value function through a :class:`~interplay.runtime.QueryEngine`: on-disk
        cache and resume (``cache_dir``), batching, progress bar, retries, Ray backend. For
        example ``engine=EngineOptions(cache_dir="runs/cache", progress=True)``. The engine's
        counters are recorded in ``metadata["engine"]``.

    Returns
    -------
    Interactions
        The sparse expansion, with ``n_queries`` and ``method`` recorded, and
        ``queried_masks`` (the masks sent, for :func:`interplay.metrics.faithfulness`). For
        ``method="qsft"`` with ``q > 2`` its features have q states (``result.q``), its terms
        are frequency vectors in Z_q^n with complex coefficients, and a complex-valued
        function is accepted.
    """
    # Checked before any query is spent, so a wrong name list costs nothing.
    names = None if feature_names is None else check_feature_names(feature_names, n)
    shared = {"budget": budget, "max_order": max_order, "random_state": random_state, "q": q}
    if isinstance(method, Solver):
        solver = _configured(method, shared, solver_options)
    else:
        solver = _built(method, shared, solver_options)
    alphabet_size = solver.alphabet_size()
    query_engine = None
    if engine is not None:
        from interplay.runtime.engine import QueryEngine

        if isinstance(value_function, QueryEngine):
            raise ValueError("value_function is already a QueryEngine; give no engine options")
        query_engine = QueryEngine(
            value_function, n, options=engine, alphabet_size=alphabet_size
        )
        value_function = query_engine
    checked = as_value_function(value_function, n, alphabet_size=alphabet_size)
    try:
        result = solver.fit(checked, n)
    finally:
        if query_engine is not None:
            query_engine.close()
    if query_engine is not None:
        result.metadata["engine"] = query_engine.stats.as_dict()
    if names is not None:
        result.feature_names = names
    return result


def _built(method: str, shared: dict[str, Any], solver_options: dict | None) -> Solver:
    """The solver registered as ``method``, built from explain()'s arguments."""
    if not isinstance(method, str):
        raise TypeError(
            f"method must be a method name or a Solver instance such as SPEX(), got {method!r}"
        )
    solver_cls = get_solver(method)
    options = dict(solver_options or {})
    repeated = sorted(set(options) & set(_SHARED_PARAMETERS))
    if repeated:
        raise ValueError(
            f"solver_options repeats {', '.join(repeated)}: pass them as explain() arguments"
        )
    accepted = inspect.signature(solver_cls.__init__).parameters
    unknown = sorted(k for k in options if k not in accepted)
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        valid = sorted(k for k in accepted if k != "self" and k not in _SHARED_PARAMETERS)
        raise ValueError(
            f"method {method!r} has no option {', '.join(unknown)}; valid: {', '.join(valid)}"
        )
    if shared["q"] is not None and "q" in accepted:
        options["q"] = shared["q"]
    elif shared["q"] is not None and not _same(shared["q"], 2):
        raise ValueError(
            f"method {method!r} works on binary features (q=2), got q={shared['q']!r}; for "
            "features with q > 2 states use method='qsft'"
        )
    max_order = DEFAULT_MAX_ORDER if shared["max_order"] is None else shared["max_order"]
    return solver_cls(
        budget=shared["budget"],
        max_order=max_order,
        random_state=shared["random_state"],
        **options,
    )


def _configured(solver: Solver, shared: dict[str, Any], solver_options: dict | None) -> Solver:
    """A configured solver, checked against what explain() was also told."""
    if solver_options:
        raise ValueError(
            "solver_options applies to a method given by name; set them on the "
            f"{type(solver).__name__} instance instead"
        )
    held = {"budget": solver.budget, "max_order": solver.max_order}
    held |= {"random_state": solver.random_state, "q": solver.alphabet_size()}
    conflicts = [
        f"{key}={shared[key]!r} (the solver has {held[key]!r})"
        for key in _SHARED_PARAMETERS
        if shared[key] is not None and not _same(shared[key], held[key])
    ]
    if conflicts:
        raise ValueError(
            f"explain() and the {type(solver).__name__} instance disagree on "
            f"{', '.join(conflicts)}: set them in one place"
        )
    return solver


def _same(given: Any, held: Any) -> bool:
    """True when explain()'s value equals the solver's (a Generator only equals itself)."""
    if isinstance(given, np.random.Generator) or isinstance(held, np.random.Generator):
        return given is held
    return bool(given == held)
