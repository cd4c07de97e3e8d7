"""The public entry point: :func:`explain`, and the library's one default method and budget.

The command line (``interplay explain``) uses the same :data:`DEFAULT_METHOD` and
:data:`DEFAULT_BUDGET`.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, Callable, Sequence  # noqa: UP035

import numpy as np

from interplay.solvers import DEFAULT_BUDGET, DEFAULT_METHOD, get_solver
from interplay.spectral.interactions import Interactions, check_feature_names
from interplay.values.base import as_value_function

if TYPE_CHECKING:
    from interplay.runtime.engine import EngineOptions

__all__ = ["DEFAULT_BUDGET", "DEFAULT_METHOD", "explain"]



def explain(
    value_function: Callable[[np.ndarray], Any],
    n: int,
    *,
    method: str = DEFAULT_METHOD,
    budget: int | None = None,
    max_order: int = 5,
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
        feature) and ``values`` N finite floats. For ``method="qsft"`` masks are (N, n) int
        arrays with entries in ``0..q-1``.
    n : int
        Number of features.
    method : str
        ``"proxyspex"`` (:data:`DEFAULT_METHOD`), ``"spex"``, ``"qsft"``, ``"stacked"``, or a
        baseline:
        ``"lime"``, ``"kernelshap"``, ``"banzhaf"``, ``"faith_banzhaf"``, ``"faith_shap"``.
    budget : int, optional
        Largest number of queries to spend. ``None``: the method's own default; for the
        default method, ProxySPEX, that is :data:`DEFAULT_BUDGET` = 800 queries, as on the
        command line. When every mask fits (2^n <=
        budget, q^n for q-ary methods) or the method's design would cost as many, all masks
        are queried once and the exact expansion is returned (``metadata["exact"]``).
    max_order : int
        Largest interaction size looked for.
    random_state : None, int or numpy Generator
        Seed for every random choice (same seed, same queries, same result).
    feature_names : sequence of str, optional
        Names of the n features.
    q : int, optional
        Alphabet size for q-ary methods (``method="qsft"``).
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
        ``method="qsft"`` with ``q > 2`` it is a :class:`~interplay.spectral.qary.QaryInteractions`
        (frequency vectors in Z_q^n) with the same reading methods.
    """
    solver_cls = get_solver(method)
    # Checked before any query is spent, so a wrong name list costs nothing.
    names = None if feature_names is None else check_feature_names(feature_names, n)
    options = dict(solver_options or {})
    repeated = sorted(set(options) & {"budget", "max_order", "random_state", "q"})
    if repeated:
        raise ValueError(
            f"solver_options repeats {', '.join(repeated)}: pass them as explain() arguments"
        )
    accepted = inspect.signature(solver_cls.__init__).parameters
    unknown = sorted(k for k in options if k not in accepted)
    if unknown and not any(p.kind is p.VAR_KEYWORD for p in accepted.values()):
        valid = sorted(k for k in accepted if k not in ("self", "budget", "max_order",
                                                         "random_state", "q"))
        raise ValueError(
            f"method {method!r} has no option {', '.join(unknown)}; valid: {', '.join(valid)}"
        )
    if q is not None:
        if "q" not in inspect.signature(solver_cls.__init__).parameters:
            raise ValueError(f"method {method!r} works on binary features and takes no q")
        options["q"] = q
    solver = solver_cls(budget=budget, max_order=max_order, random_state=random_state, **options)
    query_engine = None
    if engine is not None:
        from interplay.runtime.engine import QueryEngine

        if isinstance(value_function, QueryEngine):
            raise ValueError("value_function is already a QueryEngine; give no engine options")
        alphabet_size = 2 if q is None else q
        query_engine = QueryEngine.from_options(
            value_function, n, engine, alphabet_size=alphabet_size
        )
        value_function = query_engine
    checked = as_value_function(value_function, n, alphabet_size=2 if q is None else q)
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
