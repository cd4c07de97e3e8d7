"""What every solver shares: the constructor contract, seeding, the exact path, scaling.

:meth:`Solver.fit` is the one entry point. It checks the parameters, and then either

- queries all q^n masks once and returns the exact expansion (:mod:`.exact`), when they fit
  in the budget or the method's own design would cost as much; or
- runs the method's own design (:meth:`Solver.fit_sampled`).

Either way the solver sees values divided by one power of two (:mod:`.normalised`), so its
result does not depend on the scale of the values, and the result records the masks queried
(``result.queried_masks``) so that faithfulness can be measured on masks never queried.
"""

from __future__ import annotations

import inspect
import time
from abc import ABC
from typing import Any, ClassVar

import numpy as np

from interplay.random_state import check_random_state  # re-exported for callers of solvers
from interplay.solvers.exact import MAX_EXACT_MASKS, exact_budget_hint, exact_expansion
from interplay.solvers.normalised import NormalisedValueFunction
from interplay.solvers.parameters import Constraint, check_parameters, integer, random_state
from interplay.spectral.interactions import Interactions
from interplay.values.base import CheckedValueFunction, as_value_function

__all__ = ["VALUE_UNIT_METADATA", "BudgetError", "Solver", "check_random_state", "query_unique"]

#: Solver metadata in the units of the values (key -> power): scaled back after a fit.
VALUE_UNIT_METADATA: dict[str, int] = {"noise_var": 2, "noise_sd_per_query": 1, "val_mse": 2}


class BudgetError(ValueError):
    """The query budget is too small for any design of the requested method."""


def query_unique(value_function: CheckedValueFunction, masks: np.ndarray) -> np.ndarray:
    """Query each distinct mask once, in one batch, and return values for every row."""
    packed = np.packbits(masks, axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    values = value_function(masks[first])
    return values[inverse.ravel()]


def _rescale_metadata(value: Any, scale: float) -> Any:
    """Copy of solver metadata with the entries named in VALUE_UNIT_METADATA scaled back."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in VALUE_UNIT_METADATA and isinstance(item, (int, float)):
                # repeated products: a variance of values near 1e300 is +inf, not an error
                for _ in range(VALUE_UNIT_METADATA[key]):
                    item = float(item) * scale
                out[key] = item
            else:
                out[key] = _rescale_metadata(item, scale)
        return out
    if isinstance(value, list):
        return [_rescale_metadata(v, scale) for v in value]
    return value


def _rescaled(result: Interactions, scale: float) -> Interactions:
    """The result with every coefficient multiplied by ``scale`` (a power of two: exact)."""
    if scale == 1.0:
        return result
    scaled = result.scaled(scale)
    scaled.metadata = _rescale_metadata(result.metadata, scale)
    return scaled


class Solver(ABC):
    """Base class of all solvers.

    Subclasses store their parameters in ``__init__`` (keyword-only, no work) and declare
    each one's constraint once in ``parameters`` (see :mod:`.parameters`); they say what
    their design costs in :meth:`planned_queries` and run it in :meth:`fit_sampled`.
    :meth:`fit` (shared) checks every parameter, plans, queries, solves, and returns an
    :class:`~interplay.Interactions` whose ``n_queries`` is the number of distinct masks the
    value function really received, and whose ``metadata`` has one schema for every method:
    ``query_seconds`` and ``solver_seconds`` (measured here), the exact path's keys
    (``exact``, notes) and, under ``diagnostics``, whatever the method itself records.
    """

    #: The name used as ``method=`` in :func:`interplay.explain`.
    name: str = ""
    #: Basis of the exact expansion returned when all masks fit in the budget.
    exact_basis: str = "fourier"
    #: Constraint of each constructor parameter this class adds (merged along the MRO).
    parameters: ClassVar[dict[str, Constraint]] = {
        "budget": integer(1, optional=True, error=BudgetError),
        "max_order": integer(1),
        "random_state": random_state(),
    }

    def __init__(
        self,
        *,
        budget: int | None = None,
        max_order: int = 5,
        random_state: Any = None,
    ) -> None:
        self.budget = budget
        self.max_order = max_order
        self.random_state = random_state

    @classmethod
    def parameter_constraints(cls) -> dict[str, Constraint]:
        """The constraint of each constructor parameter (declared here or in a base class)."""
        merged: dict[str, Constraint] = {}
        for klass in reversed(cls.__mro__):
            merged.update(vars(klass).get("parameters", {}))
        return {name: merged[name] for name in _constructor_parameters(cls) if name in merged}

    def check_parameters(self) -> None:
        """Check every constructor parameter; raise one error naming the first bad one.

        Raises
        ------
        ValueError
            ``"<Class>: <name> must be <what>, got <value>"``
            (:class:`BudgetError` for the budget).
        """
        check_parameters(self, self.parameter_constraints().items())

    def get_params(self) -> dict[str, Any]:
        """The constructor's parameters and their current values (as scikit-learn's)."""
        return {name: getattr(self, name) for name in _constructor_parameters(type(self))}

    def __repr__(self) -> str:
        defaults = {p.name: p.default
                    for p in inspect.signature(type(self).__init__).parameters.values()}
        changed = [f"{k}={v!r}" for k, v in self.get_params().items()
                   if not _same(v, defaults.get(k, inspect.Parameter.empty))]
        return f"{type(self).__name__}({', '.join(changed)})"

    def alphabet_size(self) -> int:
        """Number of states q of each feature (2: bool masks)."""
        return 2

    def planned_queries(self, n: int) -> int:
        """Queries the method's own design would send for n features (an upper bound).

        Subclasses check their parameters here and raise :class:`BudgetError`, naming the
        smallest design in plain words, when the budget is below it. The default is the
        budget itself (0 without one: then only a budget of q^n makes the fit exact).
        """
        return 0 if self.budget is None else int(self.budget)

    def fit_sampled(self, value_function: NormalisedValueFunction, n: int) -> Interactions:
        """Run the method's own design (values on a unit scale); see :meth:`fit`.

        Every registered solver implements it; a subclass may instead override :meth:`fit`
        itself (it then forgoes the shared exact path and scaling).
        """
        raise NotImplementedError(f"{type(self).__name__} implements neither fit nor fit_sampled")

    def fit(self, value_function: CheckedValueFunction, n: int) -> Interactions:
        """Query ``value_function`` and return the expansion it recovers.

        When all q^n masks fit in the budget, or the method's design would cost at least as
        many queries (and q^n <= 2^24), every mask is queried once and the exact expansion is
        returned
        (``metadata["exact"]`` is True; ``max_order`` is not applied, see :mod:`.exact`).
        Otherwise the method's own design runs.

        Parameters
        ----------
        value_function : CheckedValueFunction or callable
            ``f(masks) -> values``; masks are (N, n) bool arrays (int states for q > 2).
        n : int
            Number of features.

        Returns
        -------
        Interactions
            Over q states per feature (q = :meth:`alphabet_size`), with ``n_queries`` and ``queried_masks`` (a
            :class:`~interplay.solvers.queried_masks.QueriedMasks`: the masks sent, kept as
            fingerprints; not saved to JSON).

        Raises
        ------
        BudgetError
            When the budget is below the method's smallest design and below q^n; the
            message names both.
        """
        started = time.perf_counter()
        self.check_parameters()
        if int(n) != n or int(n) < 1:
            raise ValueError(f"n must be a positive number of features, got {n}")
        n = int(n)
        q = self.alphabet_size()
        checked = as_value_function(value_function, n, alphabet_size=q)
        size = q**n
        budget = None if self.budget is None else int(self.budget)
        enumerable = size <= MAX_EXACT_MASKS
        try:
            planned = self.planned_queries(n)
        except BudgetError as exc:
            if not enumerable:
                raise
            if budget is None or size > budget:
                raise BudgetError(f"{exc}; {exact_budget_hint(n, q)}") from None
            planned = size
        view = NormalisedValueFunction(checked)
        if enumerable and size <= max(planned, budget or 0):
            result = exact_expansion(
                view, n, q=q, basis=self.exact_basis, max_order=int(self.max_order),
                method=self.name,
            )
        else:
            result = self.fit_sampled(view, n)
        result = _rescaled(result, view.value_scale)
        result.queried_masks = view.queried
        result.n_queries = len(view.queried)
        result.metadata = _schema(result.metadata, view.query_seconds,
                                  time.perf_counter() - started - view.query_seconds)
        return result


#: Metadata keys every result may carry at the top level (the exact path's among them);
#: everything else a method records goes under ``metadata["diagnostics"]``.
COMMON_METADATA = ("exact", "exact_note", "max_order_note", "terms_above_max_order")


def _schema(metadata: dict[str, Any], query_seconds: float,
            solver_seconds: float) -> dict[str, Any]:
    """The one metadata schema: the common keys, the two timings, ``diagnostics``."""
    out = {key: metadata[key] for key in COMMON_METADATA if key in metadata}
    out["query_seconds"] = query_seconds
    out["solver_seconds"] = solver_seconds
    out["diagnostics"] = {k: v for k, v in metadata.items() if k not in COMMON_METADATA}
    return out


def _constructor_parameters(cls: type) -> list[str]:
    """Names of the keyword-only parameters of ``cls.__init__``."""
    return [p.name for p in inspect.signature(cls.__init__).parameters.values()
            if p.kind is p.KEYWORD_ONLY]


def _same(value: Any, default: Any) -> bool:
    """Whether a parameter still has its default (arrays and odd types count as changed)."""
    try:
        return bool(value is default or value == default)
    except (TypeError, ValueError):
        return False
