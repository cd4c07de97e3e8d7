"""An explanation drawn on its image: first-order effects per region, an interaction outlined.

Each region of an :class:`~interplay.values.image_features.ImageFeatures` is tinted with its
first-order effect on a diverging colour map (blue raises the value, red lowers it, white is
no effect; the scale is symmetric around zero) over a faded copy of the image; thin lines
mark the regions. A selected interaction — a set of features, e.g. two patches, or patches
and question words for a vision-language value — has its image regions outlined, and its
members and coefficient are written in the title.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from interplay.display.quantity import displayed_expansion

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from interplay.spectral.interactions import Interactions
    from interplay.values.image_features import ImageFeatures

__all__ = ["OUTLINE_GID", "plot_image", "region_borders", "resolve_interaction"]

#: ``gid`` of the interaction's outline (a matplotlib ContourSet), to find it in an Axes
OUTLINE_GID = "interplay-interaction-outline"


def region_borders(segments: np.ndarray) -> np.ndarray:
    """(H, W) bool array: pixels whose right or lower neighbour is in another region."""
    borders = np.zeros(segments.shape, dtype=bool)
    borders[:, :-1] |= segments[:, :-1] != segments[:, 1:]
    borders[:-1, :] |= segments[:-1, :] != segments[1:, :]
    return borders


def resolve_interaction(
    result: Interactions, interaction: Any, n_image: int
) -> tuple[tuple[int, ...], float]:
    """The feature indices of ``interaction`` and its Möbius coefficient (0 if absent).

    Parameters
    ----------
    result : Interactions
        The explanation.
    interaction : "top", Term, or sequence of int / str
        ``"top"``: the strongest Möbius term of order ≥ 2 with at least one image region;
        a :class:`~interplay.spectral.interactions.Term` (from ``result.top()``); or feature
        indices or names.
    n_image : int
        Features ``0..n_image-1`` are the image's regions.
    """
    mobius = result.to_mobius()
    if isinstance(interaction, str):
        if interaction != "top":
            raise ValueError(
                f"interaction must be 'top', a Term, or feature indices or names, got "
                f"{interaction!r}"
            )
        terms = [t for t in mobius.top(len(mobius), min_order=2) if min(t.features) < n_image]
        if not terms:
            raise ValueError("the explanation has no interaction (order ≥ 2) among image regions")
        return terms[0].features, terms[0].value
    members = getattr(interaction, "features", interaction)
    if not isinstance(members, Sequence) or not members:
        raise ValueError("interaction must be 'top', a Term, or a non-empty list of features")
    names = result.feature_names
    indices = []
    for member in members:
        if isinstance(member, str):
            if member not in names:
                raise ValueError(f"unknown feature {member!r} in the interaction")
            indices.append(names.index(member))
        elif isinstance(member, (int, np.integer)) and 0 <= member < result.n_features:
            indices.append(int(member))
        else:
            raise ValueError(
                f"interaction member {member!r} is not a feature index in "
                f"0..{result.n_features - 1} or a feature name"
            )
    features = tuple(sorted(set(indices)))
    if min(features) >= n_image:
        raise ValueError(f"the interaction {features} has no image region (indices < {n_image})")
    return features, mobius[features]


def _display_image(image: np.ndarray) -> np.ndarray:
    """The image as floats in 0..1 for ``imshow`` (one channel becomes grey)."""
    pixels = image.astype(np.float64) / (255.0 if image.dtype == np.uint8 else 1.0)
    pixels = np.clip(pixels, 0.0, 1.0)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return pixels[..., :3]


def plot_image(
    result: Interactions,
    features: ImageFeatures,
    *,
    interaction: Any = None,
    ax: Axes | None = None,
    effects: Any = None,
    index: str | None = None,
    cmap: str = "RdBu",
    alpha: float = 0.6,
    outline_color: str = "#ffd700",
    linewidth: float = 2.5,
    colorbar: bool = True,
    title: str | None = None,
) -> Axes:
    """Overlay first-order effects on the image and outline one interaction's regions.

    Parameters
    ----------
    result : Interactions
        The explanation. Its first ``features.n_features`` features are the image's regions
        (any further ones, e.g. question words, are named in the title only).
    features : ImageFeatures
        The regions the explanation is about.
    interaction : "top", Term, or sequence of int / str, optional
        The interaction whose image regions are outlined (see :func:`resolve_interaction`).
    ax : matplotlib Axes, optional
        Where to draw; default: a new Figure (no pyplot state) with one Axes.
    effects : (n_image,) or (n,) float array, optional
        Effect of each region; default: the order-1 term of each region in the expansion
        every display shows (:func:`interplay.display.displayed_expansion`: Möbius unless
        ``index`` says otherwise), the same number the report and ``to_pandas`` list.
    index : str, optional
        The expansion or index of the default effects (``"mobius"``, ``"shapley"``,
        ``"banzhaf"``, ...).
    cmap : str
        A diverging colour map (blue positive with the default ``"RdBu"``).
    alpha : float
        Opacity of the effect overlay.
    outline_color, linewidth
        Style of the interaction's outline.
    colorbar : bool
        Add a colour bar labelled with the effect's scale.
    title : str, optional
        Default: the interaction's members and Möbius coefficient, when one is given.

    Returns
    -------
    matplotlib.axes.Axes
        With, in order, the image, the effect overlay and the region borders as images,
        and the interaction's outline as a ContourSet with ``gid`` :data:`OUTLINE_GID`.
    """
    n_image = features.n_features
    if result.n_features < n_image:
        raise ValueError(
            f"the explanation has {result.n_features} features but the image has {n_image} "
            "regions: pass the ImageFeatures the value function was built with"
        )
    shown = displayed_expansion(result, index) if effects is None else None
    values = shown.first_order if shown is not None else np.asarray(effects, float)
    if values.shape not in ((n_image,), (result.n_features,)):
        raise ValueError(
            f"effects must have shape ({n_image},) or ({result.n_features},), got {values.shape}"
        )
    members, coefficient = (
        ((), 0.0) if interaction is None else resolve_interaction(result, interaction, n_image)
    )
    if ax is None:
        from matplotlib.figure import Figure

        ax = Figure(figsize=(7.0, 7.0 * features.shape[0] / features.shape[1] + 0.6)).add_subplot()
    values = values[:n_image]
    scale = float(np.max(np.abs(values))) or 1.0
    ax.imshow(_display_image(features.image), interpolation="nearest")
    overlay = ax.imshow(values[features.segments], cmap=cmap, vmin=-scale, vmax=scale,
                        alpha=alpha, interpolation="nearest")
    borders = np.zeros((*features.segments.shape, 4))
    borders[region_borders(features.segments)] = (1.0, 1.0, 1.0, 0.5)
    ax.imshow(borders, interpolation="nearest")
    if members:
        # padded with a ring of "outside" so that a region on the image's edge is closed there
        region = np.pad(features.region([i for i in members if i < n_image]), 1).astype(float)
        height, width = features.segments.shape
        outline = ax.contour(np.arange(-1, width + 1), np.arange(-1, height + 1), region,
                             levels=[0.5], colors=[outline_color], linewidths=linewidth)
        outline.set_gid(OUTLINE_GID)
        ax.set_xlim(-0.5, width - 0.5)
        ax.set_ylim(height - 0.5, -0.5)
        if title is None:
            label = " × ".join(result.feature_names[i] for i in members)
            title = f"{coefficient:+.3g}  {label}"
    if colorbar:
        ax.figure.colorbar(overlay, ax=ax, shrink=0.8,
                           label="first-order effect" if shown is None
                           else f"{shown.quantity} of each region")
    if title:
        ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return ax
