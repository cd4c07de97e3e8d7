"""Matplotlib figures of a result: the interaction network, a waterfall, the coloured text.

Every function draws one quantity (see :mod:`interplay.display.quantity`, default the
Möbius coefficients), names it in the figure, takes ``ax=`` (a new figure otherwise) and
returns the Axes; nothing is shown (no ``plt.show()``). User text is drawn with math
parsing off, after :func:`~interplay.display.safe_text.plain_text`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import numpy as np

from interplay.display.colours import NEGATIVE, POSITIVE, signed_rgba
from interplay.display.label_layout import spread_positions
from interplay.display.quantity import displayed_expansion, output_description, plural
from interplay.display.safe_text import plain_text
from interplay.display.text_source import stored_text_features
from interplay.spectral.indices import MOBIUS_LIKE

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from interplay.spectral.interactions import Interactions

__all__ = ["plot_network", "plot_text", "plot_waterfall"]

_LABEL_COLUMN = 1.16  # |x| of the label columns, in circle radii (nodes reach about 1.1)


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize)
    return ax


def _short(name: str, width: int) -> str:
    """``name`` made plain and cut to ``width`` characters, keeping a ``[i]`` suffix (which
    tells repeated pieces apart)."""
    name = " ".join(plain_text(name).split())
    if len(name) <= width:
        return name
    suffix = re.search(r"\[\d+\]$", name)
    tail = suffix.group(0) if suffix else ""
    return name[: max(1, width - 1 - len(tail))] + "…" + tail


# ------------------------------------------------------------------ network
def plot_network(
    result: Interactions,
    *,
    index: str | None = None,
    order: int | None = None,
    top: int = 12,
    ax: Axes | None = None,
    fontsize: float = 10.0,
    label_width: int = 28,
) -> Axes:
    """The strongest interactions as a network.

    Features are nodes on a circle in input order, sized and coloured by their order-1
    value; a pair is an edge, a larger interaction a diamond hub joined to its members.
    Width follows ``|value|``, colour the sign (blue raises the output, red lowers it).
    Labels stand in two columns outside the circle, spread vertically so that none
    overlaps another or a node, each joined to its node by a thin line; the legend uses
    the labels' font size.

    Parameters
    ----------
    result : Interactions
    index, order
        The quantity drawn (default Möbius; see
        :func:`~interplay.display.quantity.displayed_expansion`).
    top : int
        Interactions of order >= 2 drawn (the strongest single features are drawn when
        there is none).
    ax : matplotlib Axes, optional
    fontsize : float
        Size of the labels and the legend, in points.
    label_width : int
        Characters of a feature name kept in its label.

    Returns
    -------
    matplotlib.axes.Axes
        Artists carry gids: ``"node"`` (one scatter of all nodes), ``"edge"`` (pairs),
        ``"hub"`` and ``"spoke"`` (larger interactions), ``"label"`` (one per node).
    """
    from matplotlib.lines import Line2D

    shown = displayed_expansion(result, index, order)
    first = shown.first_order
    terms = shown.terms.top(int(top), min_order=2)
    nodes = sorted({i for t in terms for i in t.features})
    if not nodes:
        nodes = sorted(int(i) for i in np.argsort(-np.abs(first))[: min(result.n_features, 8)])
    ax = _axes(ax, (9.0, 7.0))
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.set_xlim(-2.1, 2.1)
    ax.set_ylim(-1.45, 1.45)
    angle = 0.5 * np.pi - 2 * np.pi * np.arange(len(nodes)) / len(nodes)
    xy = np.column_stack([np.cos(angle), np.sin(angle)])
    where = {f: k for k, f in enumerate(nodes)}
    strongest = max((abs(t.value) for t in terms), default=1.0) or 1.0
    for term in terms:
        colour = POSITIVE if term.value >= 0 else NEGATIVE
        width = 1.0 + 5.0 * abs(term.value) / strongest
        pts = xy[[where[f] for f in term.features]]
        if len(term.features) == 2:
            ax.add_line(Line2D(pts[:, 0], pts[:, 1], color=colour, lw=width, alpha=0.7,
                               zorder=1, gid="edge"))
            continue
        hub = pts.mean(axis=0) * 0.8
        for p in pts:
            ax.add_line(Line2D([hub[0], p[0]], [hub[1], p[1]], color=colour, lw=width,
                               alpha=0.55, ls="--", zorder=1, gid="spoke"))
        ax.scatter([hub[0]], [hub[1]], marker="D", s=60, color=colour, zorder=2, gid="hub")
    scale = float(np.abs(first[nodes]).max(initial=0.0)) or 1.0
    ax.scatter(xy[:, 0], xy[:, 1], s=120 + 700 * np.abs(first[nodes]) / scale,
               c=[POSITIVE if first[f] >= 0 else NEGATIVE for f in nodes], alpha=0.9,
               edgecolors="white", linewidths=1.5, zorder=3, gid="node")
    _place_labels(ax, xy, [_short(result.feature_names[f], label_width) for f in nodes],
                  fontsize)
    handles = [
        Line2D([], [], color=POSITIVE, lw=3, label="interaction raises the output"),
        Line2D([], [], color=NEGATIVE, lw=3, label="interaction lowers the output"),
        Line2D([], [], color="#555555", lw=1.5, ls="--", marker="D",
               label="3 or more features (hub)"),
        Line2D([], [], color="#555555", lw=0, marker="o", markersize=9,
               label=f"feature: size = |order-1 {shown.quantity}|"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2,
              fontsize=fontsize, frameon=False)
    ax.set_title(f"Top {len(terms)} interactions ({plural(shown.quantity)})",
                 fontsize=fontsize + 2)
    return ax


def _place_labels(ax: Axes, xy: np.ndarray, labels: list[str], fontsize: float) -> None:
    """Labels in two columns just outside the circle (left-aligned on the right of it,
    right-aligned on the left), each as near its node's height as the others allow, so
    that no label overlaps another or a node; a thin leader line joins label and node."""
    from matplotlib.lines import Line2D

    if not labels:
        return
    right = xy[:, 0] >= -1e-9
    column = np.where(right, _LABEL_COLUMN, -_LABEL_COLUMN)
    texts = [
        ax.text(x, y, label, fontsize=fontsize, ha="left" if is_right else "right",
                va="center", zorder=4, gid="label", parse_math=False)
        for x, y, label, is_right in zip(column, xy[:, 1], labels, right, strict=True)
    ]
    ax.apply_aspect()  # the equal aspect resizes the box at draw time: fix it before measuring
    to_pixels = ax.transData
    heights = np.array([t.get_window_extent().height for t in texts])
    wanted = to_pixels.transform(np.column_stack([column, xy[:, 1]]))
    for side in (right, ~right):
        rows = np.flatnonzero(side)
        if rows.size == 0:
            continue
        centres = spread_positions(wanted[rows, 1], heights[rows], gap=0.15 * fontsize)
        for r, cy in zip(rows, centres, strict=True):
            x_data, y_data = to_pixels.inverted().transform((wanted[r, 0], cy))
            texts[r].set_position((x_data, y_data))
            end = x_data - np.sign(x_data) * 0.02
            ax.add_line(Line2D([xy[r, 0], end], [xy[r, 1], y_data], color="#aaaaaa", lw=0.6,
                               zorder=0, gid="leader"))


# ---------------------------------------------------------------- waterfall
def plot_waterfall(
    result: Interactions,
    *,
    index: str | None = None,
    order: int | None = None,
    top: int = 10,
    ax: Axes | None = None,
    fontsize: float = 10.0,
    label_width: int = 40,
) -> Axes:
    """How the strongest terms add up from the empty input to the full input.

    Starts at the empty-set term (for Möbius: the output with every feature removed),
    adds the ``top`` terms by decreasing ``|value|``, then one bar for all other terms,
    and ends at the sum of all terms (for Möbius: the output with every feature kept).

    Parameters
    ----------
    result : Interactions
    index, order
        An additive expansion: ``"mobius"`` (default), ``"shapley"``, ``"banzhaf"``,
        ``"STII"``, ``"FSII"`` or ``"FBII"``.
    top : int
        Terms drawn one by one.
    ax : matplotlib Axes, optional
    fontsize : float
    label_width : int
        Characters of a term's label kept.

    Returns
    -------
    matplotlib.axes.Axes
        One bar (gid ``"term"``) per term drawn and one (gid ``"rest"``) for the others
        (none when every term is drawn).
    """
    shown = displayed_expansion(result, index, order)
    if shown.basis not in MOBIUS_LIKE:
        raise ValueError(
            f"a waterfall adds terms up, and {shown.basis} terms do not add up to the output: "
            "use index='mobius' (default), 'shapley', 'banzhaf', 'STII', 'FSII' or 'FBII'"
        )
    terms = shown.terms.top(int(top))
    start = shown.terms.baseline
    end = float(shown.terms.coefficients.sum())
    n_rest = len(shown.terms.top(len(shown.terms))) - len(terms)
    values = np.array([t.value for t in terms])
    labels = [_short(" × ".join(t.names), label_width) for t in terms]
    if n_rest:
        values = np.append(values, end - start - values.sum())
        labels.append(f"{n_rest} other terms")
    gids = ["term"] * len(terms) + ["rest"] * (len(values) - len(terms))
    ax = _axes(ax, (8.0, 0.45 * len(values) + 1.6))
    lefts = start + np.concatenate([[0.0], np.cumsum(values)[:-1]])
    rows = np.arange(len(values))[::-1]
    colours = [POSITIVE if v >= 0 else NEGATIVE for v in values]
    for row, left, v, c, gid in zip(rows, lefts, values, colours, gids, strict=True):
        ax.barh(row, v, left=left, color=c, alpha=0.85 if gid == "term" else 0.45,
                height=0.7, gid=gid)
        ax.text(left + v, row, f" {v:+.3g} ", va="center", ha="left" if v >= 0 else "right",
                fontsize=fontsize - 1, parse_math=False)
    ax.set_yticks(rows, labels, fontsize=fontsize, parse_math=False)
    ax.axvline(start, color="#777777", lw=0.8, ls=":")
    ax.axvline(end, color="#333333", lw=0.8)
    ax.set_xlabel(f"sum of {plural(shown.quantity)}: {start:+.3g} (empty set) → "
                  f"{end:+.3g} (all terms)", fontsize=fontsize)
    output = output_description(result.metadata)
    title = f"Top {len(terms)} terms ({plural(shown.quantity)})"
    ax.set_title(title + (f"\n{_short(output, 90)}" if output else ""), fontsize=fontsize + 1,
                 parse_math=False)
    ax.use_sticky_edges = False
    ax.margins(x=0.15)
    return ax


# --------------------------------------------------------------------- text
def plot_text(
    result: Interactions,
    *,
    index: str | None = None,
    order: int | None = None,
    ax: Axes | None = None,
    fontsize: float = 11.0,
    width: float = 9.0,
) -> Axes:
    """The input text with each feature's words coloured by its order-1 value.

    Uses the text recorded in ``metadata["features"]`` (by :func:`interplay.explain_text`
    and the command line); without it, the feature names in a row.

    Parameters
    ----------
    result : Interactions
    index, order
        The quantity (default Möbius; see
        :func:`~interplay.display.quantity.displayed_expansion`).
    ax : matplotlib Axes, optional
        Drawn into its area from the top-left corner; a new figure ``width`` inches wide
        and as tall as the text needs otherwise.
    fontsize : float
    width : float
        Width of a new figure, inches.

    Returns
    -------
    matplotlib.axes.Axes
        One text artist per word, with gid ``"feature-i"`` for words of feature i,
        ``"fixed"`` for text that is never masked and ``"title"`` for the legend above.
    """
    from matplotlib.transforms import offset_copy

    shown = displayed_expansion(result, index, order)
    features = stored_text_features(result.metadata, result.n_features)
    if features is None:
        chunks = [(i, name) for i, name in enumerate(result.feature_names)]
        seps = [""] + [" "] * (len(chunks) - 1) + [""]
        prefix = suffix = ""
    else:
        chunks = list(enumerate(features.pieces))
        seps = list(features.separators)
        prefix, suffix = features.prefix, features.suffix
    new_figure = ax is None
    ax = _axes(ax, (width, 2.0))
    ax.set_axis_off()
    fig = ax.figure
    if new_figure:
        ax.set_position((0.02, 0.02, 0.96, 0.96))
    colours = signed_rgba(shown.first_order)
    line_pts = 1.9 * fontsize
    box_pts = ax.get_window_extent().width * 72.0 / fig.dpi
    x = y = 0.0  # points from the axes' top-left corner

    def place(artist: Any) -> float:
        """Put ``artist`` at (x, y), on a new line when it does not fit; its width."""
        nonlocal x, y
        artist.set_transform(offset_copy(ax.transAxes, fig=fig, x=x, y=-y, units="points"))
        w = artist.get_window_extent().width * 72.0 / fig.dpi
        if x > 0 and x + w > box_pts:
            x, y = 0.0, y + line_pts
            artist.set_transform(offset_copy(ax.transAxes, fig=fig, x=x, y=-y, units="points"))
        return w

    def emit(text: str, gid: str, face: Any = None, colour: str = "black") -> None:
        nonlocal x, y
        for k, line in enumerate(plain_text(text).split("\n")):
            if k:
                x, y = 0.0, y + line_pts
            for word in line.split(" "):
                if word:
                    artist = ax.text(0, 1, word, fontsize=fontsize, va="top", ha="left",
                                     parse_math=False, gid=gid, color=colour)
                    w = place(artist)
                    x += w
                    if face is not None:
                        artist.set_bbox({"facecolor": face, "edgecolor": "none",
                                         "boxstyle": "round,pad=0.15"})
                x += space
            x -= space

    probe = ax.text(0, 0, "a a", fontsize=fontsize)
    probe_narrow = ax.text(0, 0, "aa", fontsize=fontsize)
    space = (probe.get_window_extent().width - probe_narrow.get_window_extent().width) * 72.0
    space /= fig.dpi
    probe.remove()
    probe_narrow.remove()
    output = output_description(result.metadata)
    emit(f"Colour: each feature's {shown.quantity} (order 1); blue raises, red lowers the "
         f"output.\nOutput: {_short(output, 120) if output else 'not recorded'}", "title",
         colour="#444444")
    x, y = 0.0, y + 1.6 * line_pts
    emit(prefix + seps[0], "fixed")
    for i, piece in chunks:
        if i:
            emit(seps[i], "fixed")
        emit(piece, f"feature-{i}", colours[i])
    emit(seps[-1] + suffix, "fixed")
    if new_figure:
        fig.set_size_inches(width, (y + 1.5 * line_pts) / 72.0 / 0.96)
    return ax
