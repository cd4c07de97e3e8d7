"""interplay: find the combinations of features that drive a model's output.

The public API::

    import interplay
    result = interplay.explain(value_function, n)  # stacked, 800 queries by default
    result.top(10)

    # text: the context's sentences, the query kept unmasked, the embedded SmolLM2
    result = interplay.explain_text(None, context, query="Where was she born?", budget=200)
    result.to_pandas(); result.plot_network()
"""

from interplay.explain import explain
from interplay.explain_text import explain_text
from interplay.runtime import EngineOptions, QueryEngine
from interplay.solvers import BudgetError, available_methods
from interplay.spectral.interactions import Interactions, Term
from interplay.values.base import CheckedValueFunction, as_value_function

__version__ = "0.1.0"

__all__ = [
    "BudgetError",
    "CheckedValueFunction",
    "EngineOptions",
    "Interactions",
    "QueryEngine",
    "Term",
    "__version__",
    "as_value_function",
    "available_methods",
    "explain",
    "explain_text",
]
