"""Solvers: each turns queries of a value function into an :class:`~interplay.Interactions`.

Solvers are looked up by name through :func:`get_solver`; modules are imported lazily so that
an unused heavy dependency (LightGBM, for instance) costs nothing.
"""

from __future__ import annotations

from importlib import import_module

from interplay.solvers.base import BudgetError, Solver, check_random_state, query_unique

#: method name -> "module:Class" (relative to ``interplay.solvers``).
REGISTRY: dict[str, str] = {
    "spex": "spex:SPEX",
    "proxyspex": "proxyspex:ProxySPEX",
    "lime": "regression:LIME",
    "kernelshap": "regression:KernelSHAP",
    "banzhaf": "regression:Banzhaf",
    "faith_banzhaf": "regression:FaithBanzhaf",
    "faith_shap": "regression:FaithShap",
    "qsft": "qsft:QSFT",
    "stacked": "stacked:Stacked",
}


#: The method used when none is named (``explain()``, ``explain_text()`` and ``interplay
#: explain``): Stacked fits several surrogates to one set of uniform masks and keeps the
#: weighted mix that best predicts held-out masks, the most faithful explanation of the real
#: models measured (docs/faithfulness.md); it works on binary features (``qsft`` for q > 2).
DEFAULT_METHOD = "stacked"
#: The default method's budget when none is given, and the command line's for every method
#: (all 2^n masks, hence an exact answer, for n <= 9).
DEFAULT_BUDGET = 800


def available_methods() -> list[str]:
    """Names accepted as ``method=``."""
    return sorted(REGISTRY)


def get_solver(method: str) -> type[Solver]:
    """The solver class registered under ``method``."""
    key = str(method).lower()
    if key not in REGISTRY:
        raise ValueError(f"unknown method {method!r}; valid: {', '.join(available_methods())}")
    module_name, class_name = REGISTRY[key].split(":")
    module = import_module(f"interplay.solvers.{module_name}")
    return getattr(module, class_name)


__all__ = [
    "DEFAULT_BUDGET",
    "DEFAULT_METHOD",
    "REGISTRY",
    "BudgetError",
    "Solver",
    "available_methods",
    "check_random_state",
    "get_solver",
    "query_unique",
]
