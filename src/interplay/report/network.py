"""The interaction network: a matplotlib figure of the strongest interactions.

Nodes are the features that take part in the strongest terms, placed on a circle in input
order, sized by the magnitude of their first-order effect and coloured by its sign. A pair
interaction is an edge; a higher-order interaction is a small hub joined to its members.
Edge width follows the magnitude, colour the sign.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from interplay.spectral.interactions import Interactions

__all__ = ["network_png", "plot_interaction_network"]

POSITIVE = "#2166ac"
NEGATIVE = "#b2182b"


def _label(name: str, width: int = 18) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def plot_interaction_network(
    interactions: Interactions,
    first_order: np.ndarray,
    *,
    top: int = 12,
    title: str | None = None,
) -> Figure:
    """Draw the network of the ``top`` strongest interactions (order ≥ 2).

    Parameters
    ----------
    interactions : Interactions
        Terms to draw (any basis with subsets; typically Möbius).
    first_order : (n,) float array
        First-order effect of each feature (node size and colour).
    top : int
        Number of interactions of order ≥ 2 drawn.
    title : str, optional
        Figure title.

    Returns
    -------
    matplotlib.figure.Figure
        Made with the object-oriented API (no global pyplot state).
    """
    from matplotlib.figure import Figure

    first_order = np.asarray(first_order, dtype=np.float64)
    n = interactions.n_features
    if first_order.shape != (n,):
        raise ValueError(f"first_order must have shape ({n},), got {first_order.shape}")
    terms = interactions.top(top, min_order=2)
    fig = Figure(figsize=(7.5, 6.0), dpi=110)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=11)
    nodes = sorted({i for t in terms for i in t.features})
    if not nodes:  # no interactions: show the strongest single features instead
        nodes = list(np.argsort(-np.abs(first_order))[: min(n, 8)])
        nodes.sort()
    angle = np.linspace(0.5 * np.pi, 2.5 * np.pi, len(nodes), endpoint=False)
    pos = {f: (np.cos(a), np.sin(a)) for f, a in zip(nodes, angle)}
    strongest = max((abs(t.value) for t in terms), default=1.0) or 1.0
    for term in terms:
        colour = POSITIVE if term.value > 0 else NEGATIVE
        width = 0.8 + 5.0 * abs(term.value) / strongest
        pts = np.array([pos[f] for f in term.features])
        if len(term.features) == 2:
            ax.plot(pts[:, 0], pts[:, 1], color=colour, lw=width, alpha=0.7, zorder=1)
        else:
            hub = pts.mean(axis=0) * 0.85
            for p in pts:
                ax.plot([hub[0], p[0]], [hub[1], p[1]], color=colour, lw=width, alpha=0.55,
                        zorder=1, ls="--")
            ax.scatter([hub[0]], [hub[1]], marker="D", s=40, color=colour, zorder=2)
            ax.annotate(f"{len(term.features)}-way", hub, fontsize=7, ha="center",
                        va="bottom", xytext=(0, 5), textcoords="offset points")
    scale = float(np.abs(first_order[nodes]).max()) if nodes else 1.0
    scale = scale or 1.0
    for f in nodes:
        x, y = pos[f]
        effect = first_order[f]
        size = 150 + 900 * abs(effect) / scale
        ax.scatter([x], [y], s=size, color=POSITIVE if effect >= 0 else NEGATIVE, alpha=0.85,
                   edgecolors="white", linewidths=1.5, zorder=3)
        ax.annotate(_label(interactions.feature_names[f]), (x, y), xytext=(x * 1.22, y * 1.16),
                    fontsize=10, ha="center", va="center", zorder=4)
    ax.set_xlim(-1.55, 1.55)
    ax.set_ylim(-1.4, 1.4)
    fig.text(0.01, 0.01, "node: first-order effect · edge/hub: interaction · "
             "blue positive, red negative", fontsize=7.5, color="#555555")
    fig.tight_layout()
    return fig


def network_png(interactions: Interactions, first_order: np.ndarray, **kwargs) -> bytes:
    """PNG bytes of :func:`plot_interaction_network`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = plot_interaction_network(interactions, first_order, **kwargs)
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
