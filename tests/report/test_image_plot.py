"""plot_image on the Agg backend: the overlay, the borders and the interaction's outline."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

from interplay import Interactions
from interplay.display.quantity import displayed_expansion
from interplay.report.image_plot import (
    OUTLINE_GID,
    plot_image,
    region_borders,
    resolve_interaction,
)
from interplay.values.image_features import ImageFeatures


def _features(rows: int = 3, cols: int = 4) -> ImageFeatures:
    image = (np.random.default_rng(0).random((30, 40, 3)) * 255).astype(np.uint8)
    return ImageFeatures.grid(image, rows, cols)


def _result(n: int, names=None) -> Interactions:
    """Möbius terms: patch 1 +2, patch 6 -1, pair (1, 6) +3, pair (0, 11) -0.5."""
    return Interactions([(1,), (6,), (1, 6), (0, 11)], [2.0, -1.0, 3.0, -0.5], n_features=n,
                        basis="mobius", feature_names=names)


def _outline(ax) -> ContourSet:
    found = [a for a in ax.get_children() if a.get_gid() == OUTLINE_GID]
    assert len(found) == 1 and isinstance(found[0], ContourSet)
    return found[0]


def _vertices(outline: ContourSet) -> np.ndarray:
    return np.concatenate([p.vertices for p in outline.get_paths() if len(p.vertices)])


def _assert_outline_traces(region: np.ndarray, vertices: np.ndarray) -> None:
    """Every vertex lies between a pixel of the region and one outside it, and every pixel
    on the region's edge has a vertex within one pixel."""
    height, width = region.shape
    padded = np.pad(region, 1)  # outside the image counts as outside the region
    for x, y in vertices:
        # a level-0.5 contour vertex sits between two neighbouring pixel centres
        r0, r1 = int(np.floor(y)), int(np.ceil(y))
        c0, c1 = int(np.floor(x)), int(np.ceil(x))
        around = {bool(padded[r + 1, c + 1]) for r in (r0, r1) for c in (c0, c1)
                  if -1 <= r <= height and -1 <= c <= width}
        assert around == {True, False}, (x, y)
    inside = np.argwhere(region)
    edge = [(r, c) for r, c in inside
            if not (padded[r : r + 3, c + 1].all() and padded[r + 1, c : c + 3].all())]
    for r, c in edge:
        assert np.min(np.hypot(vertices[:, 0] - c, vertices[:, 1] - r)) <= 1.0


def test_overlay_shows_each_regions_effect_with_a_symmetric_scale():
    features = _features()
    result = _result(12)
    ax = plot_image(result, features)
    images = ax.get_images()
    assert len(images) == 3  # photo, effect overlay, region borders
    overlay = images[1]
    effects = displayed_expansion(result).first_order  # the quantity every display shows
    np.testing.assert_allclose(overlay.get_array(), effects[features.segments])
    low, high = overlay.get_clim()
    assert low == -high == -np.max(np.abs(effects))
    borders = images[2].get_array()
    np.testing.assert_array_equal(borders[..., 3] > 0, region_borders(features.segments))
    assert not [a for a in ax.get_children() if a.get_gid() == OUTLINE_GID]
    assert len(ax.figure.axes) == 2  # the image and its colour bar
    ax.figure.savefig(__import__("io").BytesIO(), format="png")


def test_outline_follows_the_interactions_regions():
    features = _features()
    ax = plot_image(_result(12, features.names()), features, interaction="top", colorbar=False)
    members, value = resolve_interaction(_result(12), "top", 12)
    assert members == (1, 6) and value == 3.0
    assert ax.get_title() == "+3  patch r0c1 × patch r1c2"
    _assert_outline_traces(features.region([1, 6]), _vertices(_outline(ax)))
    assert len(ax.figure.axes) == 1


def test_outline_of_a_chosen_pair_by_name_on_a_given_axes():
    features = _features()
    fig = Figure()
    given = fig.add_subplot()
    ax = plot_image(_result(12, features.names()), features,
                    interaction=["patch r0c0", "patch r2c3"], ax=given,
                    effects=np.arange(12.0), title="chosen")
    assert ax is given and ax.get_title() == "chosen"
    _assert_outline_traces(features.region([0, 11]), _vertices(_outline(ax)))
    np.testing.assert_allclose(ax.get_images()[1].get_array(), np.arange(12.0)[features.segments])


def test_superpixel_outline_and_words_of_a_cross_modal_term():
    image = np.zeros((24, 24, 3), np.uint8)
    image[:12] = (200, 30, 30)
    image[12:, :12] = (30, 200, 30)
    features = ImageFeatures.superpixels(image, n_segments=3, compactness=1.0)
    names = [*features.names(), "is", "it", "red?"]
    n = len(names)
    result = Interactions([(0, n - 1), (1,)], [1.5, 0.5], n_features=n, basis="mobius",
                          feature_names=names)
    term = result.to_mobius().top(1, min_order=2)[0]
    ax = plot_image(result, features, interaction=term)
    assert ax.get_title() == "+1.5  segment 0 × red?"
    _assert_outline_traces(features.region([0]), _vertices(_outline(ax)))


def test_bad_arguments_are_refused():
    features = _features()
    with pytest.raises(ValueError, match="has 5 features but the image has 12 regions"):
        plot_image(Interactions([(1,)], [1.0], n_features=5), features)
    with pytest.raises(ValueError, match=r"effects must have shape \(12,\)"):
        plot_image(_result(12), features, effects=np.ones(3))
    with pytest.raises(ValueError, match="unknown feature 'sky'"):
        plot_image(_result(12), features, interaction=["sky"])
    with pytest.raises(ValueError, match="not a feature index"):
        plot_image(_result(12), features, interaction=[12])
    with pytest.raises(ValueError, match="interaction must be 'top'"):
        plot_image(_result(12), features, interaction="best")
    with pytest.raises(ValueError, match="no interaction"):
        plot_image(Interactions([(1,)], [1.0], n_features=12), features, interaction="top")
    names = [*features.names(), "word"]
    with pytest.raises(ValueError, match="has no image region"):
        plot_image(Interactions([(12,)], [1.0], n_features=13, feature_names=names), features,
                   interaction=[12])
