"""Results where people look: DataFrames, notebook HTML, matplotlib figures, shapiq objects.

The :class:`~interplay.Interactions` methods ``to_pandas``, ``_repr_html_``,
``plot_network``, ``plot_waterfall``, ``plot_text``, ``to_shapiq`` and ``from_shapiq``
call these functions.
"""

from interplay.display.frames import interactions_frame
from interplay.display.html import interactions_html
from interplay.display.plots import plot_network, plot_text, plot_waterfall
from interplay.display.quantity import DisplayedExpansion, displayed_expansion
from interplay.display.safe_text import plain_text, safe_html
from interplay.display.shapiq_io import from_shapiq, to_shapiq

__all__ = [
    "DisplayedExpansion",
    "displayed_expansion",
    "from_shapiq",
    "interactions_frame",
    "interactions_html",
    "plain_text",
    "plot_network",
    "plot_text",
    "plot_waterfall",
    "safe_html",
    "to_shapiq",
]
