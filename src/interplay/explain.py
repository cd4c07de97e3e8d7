"""The public entry point: :func:`explain`."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

import numpy as np

from interplay.solvers import get_solver
from interplay.spectral.interactions import Interactions
from interplay.values.base import as_value_function

__all__ = ["explain"]


def explain(
    value_function: Callable[[np.ndarray], Any],
    n: int,
    *,
    method: str = "spex",
    budget: int | None = None,
    max_order: int = 5,
    random_state: int | np.random.Generator | None = None,
    feature_names: Sequence[str] | None = None,
    q: int | None = None,
    solver_options: dict[str, Any] | None = None,
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
        ``"spex"`` (default), ``"proxyspex"``, ``"qsft"``, or a baseline: ``"lime"``,
        ``"kernelshap"``, ``"banzhaf"``, ``"faith_banzhaf"``, ``"faith_shap"``.
    budget : int, optional
        Largest number of queries to spend. ``None`` lets the method pick a default design.
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

    Returns
    -------
    Interactions
        The sparse expansion, with ``n_queries`` and ``method`` recorded. For
        ``method="qsft"`` with ``q > 2`` it is a :class:`~interplay.spectral.qary.QaryInteractions`
        (frequency vectors in Z_q^n) with the same reading methods.
    """
    solver_cls = get_solver(method)
    options = dict(solver_options or {})
    if q is not None:
        if "q" not in inspect.signature(solver_cls.__init__).parameters:
            raise ValueError(f"method {method!r} works on binary features and takes no q")
        options["q"] = q
    solver = solver_cls(budget=budget, max_order=max_order, random_state=random_state, **options)
    checked = as_value_function(value_function, n, alphabet_size=2 if q is None else q)
    result = solver.fit(checked, n)
    if feature_names is not None:
        names = [str(x) for x in feature_names]
        if len(names) != n:
            raise ValueError(f"{len(names)} feature names given for n={n} features")
        result.feature_names = names
    return result
