"""Image features: grids, superpixels, baselines and rendering, against per-pixel loops."""

from __future__ import annotations

import json

import numpy as np
import pytest

from interplay.values.image_features import ImageFeatures, as_image, make_baseline


def _photo(height: int = 24, width: int = 36, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)


def _render_by_loop(features: ImageFeatures, masks: np.ndarray) -> np.ndarray:
    """The oracle: pixel by pixel, the image where its region is kept, else the baseline."""
    n_rows = masks.shape[0]
    height, width, _ = features.shape
    out = np.empty((n_rows, *features.shape), dtype=features.image.dtype)
    for k in range(n_rows):
        for y in range(height):
            for x in range(width):
                kept = masks[k, features.segments[y, x]]
                out[k, y, x] = features.image[y, x] if kept else features.baseline[y, x]
    return out


def test_grid_patches_are_the_expected_rectangles():
    features = ImageFeatures.grid(_photo(24, 36), 3, 4)
    assert features.n_features == 12 and features.grid_shape == (3, 4)
    for r in range(3):
        for c in range(4):
            block = features.segments[8 * r : 8 * r + 8, 9 * c : 9 * c + 9]
            assert np.all(block == 4 * r + c)
    assert features.names()[6] == "patch r1c2"
    assert features.areas().tolist() == [72] * 12
    np.testing.assert_allclose(features.centroids()[6], [8 + 3.5, 18 + 4.0])


def test_uneven_grid_covers_every_pixel_with_near_equal_patches():
    features = ImageFeatures.grid(_photo(25, 37), 4, 5)
    assert features.n_features == 20
    heights = [np.count_nonzero(features.segments[:, 0] == 5 * r) for r in range(4)]
    widths = [np.count_nonzero(features.segments[0] == c) for c in range(5)]
    assert sum(heights) == 25 and max(heights) - min(heights) <= 1
    assert sum(widths) == 37 and max(widths) - min(widths) <= 1
    # one pixel per patch is the finest grid
    assert ImageFeatures.grid(_photo(3, 2), 3, 2).n_features == 6


@pytest.mark.parametrize("baseline", ["mean", "zeros", "blur"])
def test_render_keeps_patches_and_fills_the_rest_with_the_baseline(baseline):
    features = ImageFeatures.grid(_photo(12, 15), 3, 5, baseline=baseline)
    rng = np.random.default_rng(1)
    masks = rng.random((6, features.n_features)) < 0.5
    masks[0], masks[1] = True, False
    rendered = features.render(masks)
    assert rendered.shape == (6, 12, 15, 3) and rendered.dtype == np.uint8
    np.testing.assert_array_equal(rendered, _render_by_loop(features, masks))
    np.testing.assert_array_equal(rendered[0], features.image)
    np.testing.assert_array_equal(rendered[1], features.baseline)


def test_baselines_have_the_promised_values():
    image = _photo(10, 14)
    mean, name = make_baseline(image, "mean")
    assert name == "mean"
    np.testing.assert_array_equal(mean[3, 7], np.rint(image.reshape(-1, 3).mean(axis=0)))
    assert np.all(mean == mean[0, 0])
    zeros, _ = make_baseline(image, "zeros")
    assert not zeros.any()
    flat = np.full((10, 14, 3), 77, dtype=np.uint8)
    np.testing.assert_array_equal(make_baseline(flat, "blur")[0], flat)  # blur keeps a constant
    blurred, _ = make_baseline(image, "blur", blur_sigma=2.0)
    assert blurred.astype(float).std() < 0.5 * image.astype(float).std()
    other = _photo(10, 14, seed=5)
    given, name = make_baseline(image, other)
    assert name == "image"
    np.testing.assert_array_equal(given, other)


def test_float_images_keep_their_dtype_and_values():
    image = np.random.default_rng(2).random((8, 8, 3)).astype(np.float32)
    features = ImageFeatures.grid(image, 2, baseline="mean")
    assert features.baseline.dtype == np.float32
    np.testing.assert_allclose(features.baseline[0, 0], image.mean(axis=(0, 1)), rtol=1e-6)
    out = features.render(np.array([[1, 0, 0, 1]], bool))
    np.testing.assert_array_equal(out[0, :4, :4], image[:4, :4])
    np.testing.assert_array_equal(out[0, :4, 4:], features.baseline[:4, 4:])


def test_grayscale_image_becomes_one_channel():
    features = ImageFeatures.grid(np.zeros((6, 6), np.uint8), 2)
    assert features.shape == (6, 6, 1)


def test_superpixels_follow_colour_edges():
    image = np.zeros((40, 40, 3), np.uint8)
    image[:20, :20] = (255, 0, 0)
    image[:20, 20:] = (0, 255, 0)
    image[20:, :20] = (0, 0, 255)
    image[20:, 20:] = (255, 255, 0)
    features = ImageFeatures.superpixels(image, n_segments=4, compactness=1.0)
    assert features.kind == "superpixels" and features.n_features == 4
    quadrants = [features.segments[:20, :20], features.segments[:20, 20:],
                 features.segments[20:, :20], features.segments[20:, 20:]]
    labels = [np.unique(q) for q in quadrants]
    assert all(lab.size == 1 for lab in labels)  # each quadrant is one superpixel
    assert sorted(int(lab[0]) for lab in labels) == [0, 1, 2, 3]
    assert features.names()[0] == "segment 0"


def test_from_segments_relabels_in_label_order():
    labels = np.array([[9, 9, 5], [5, 42, 42]])
    features = ImageFeatures.from_segments(np.zeros((2, 3, 3), np.uint8), labels)
    np.testing.assert_array_equal(features.segments, [[1, 1, 0], [0, 2, 2]])
    np.testing.assert_array_equal(features.region([0, 2]), [[False, False, True], [True] * 3])


def test_to_dict_is_json_and_tells_images_and_baselines_apart():
    image = _photo(8, 8)
    first = ImageFeatures.grid(image, 2).to_dict()
    assert json.loads(json.dumps(first)) == first
    assert first["grid"] == [2, 2] and first["n_features"] == 4 and first["baseline"] == "mean"
    assert ImageFeatures.grid(image, 2).to_dict() == first
    assert ImageFeatures.grid(image, 2, baseline="zeros").to_dict() != first
    assert ImageFeatures.grid(_photo(8, 8, seed=3), 2).to_dict()["image_sha256"] != (
        first["image_sha256"]
    )


def test_features_are_read_only_copies():
    image = _photo(8, 8)
    features = ImageFeatures.grid(image, 2)
    image[:] = 0  # the caller's array changes; the features do not
    assert features.image.any()
    with pytest.raises(ValueError):
        features.image[0, 0, 0] = 1


@pytest.mark.parametrize(
    ("image", "error", "match"),
    [
        (np.zeros(5, np.uint8), ValueError, r"shape \(H, W\) or \(H, W, C\)"),
        (np.zeros((2, 4, 4, 3), np.uint8), ValueError, r"shape \(H, W\) or \(H, W, C\)"),
        (np.zeros((3, 16, 16), np.uint8), ValueError, "channels-first"),
        (np.zeros((4, 4, 3), bool), TypeError, "uint8 or float"),
        (np.zeros((4, 4, 3), np.int64), TypeError, "uint8 or float"),
        (np.full((4, 4, 3), np.nan), ValueError, "NaN or infinite"),
        (np.zeros((0, 4, 3), np.uint8), ValueError, "empty"),
    ],
)
def test_bad_images_are_refused_with_a_clear_error(image, error, match):
    with pytest.raises(error, match=match):
        ImageFeatures.grid(image, 1)
    with pytest.raises(error, match=match):
        as_image(image)


def test_bad_grids_baselines_and_segments_are_refused():
    image = _photo(6, 8)
    with pytest.raises(ValueError, match="rows=7 is larger than the image's height"):
        ImageFeatures.grid(image, 7, 2)
    with pytest.raises(ValueError, match="cols=9 is larger than the image's width"):
        ImageFeatures.grid(image, 2, 9)
    for rows, error in ((0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="rows must be a positive int"):
            ImageFeatures.grid(image, rows, 2)
    with pytest.raises(ValueError, match="unknown baseline 'grey'; valid: mean, blur, zeros"):
        ImageFeatures.grid(image, 2, baseline="grey")
    with pytest.raises(ValueError, match="baseline image has shape"):
        ImageFeatures.grid(image, 2, baseline=_photo(6, 9))
    with pytest.raises(ValueError, match="blur_sigma is only used"):
        ImageFeatures.grid(image, 2, baseline="mean", blur_sigma=3.0)
    with pytest.raises(ValueError, match="blur_sigma must be positive"):
        ImageFeatures.grid(image, 2, baseline="blur", blur_sigma=0.0)
    with pytest.raises(ValueError, match="n_segments must be a positive int"):
        ImageFeatures.superpixels(image, n_segments=0)
    with pytest.raises(ValueError, match="n_segments=49 must be between 1 and the number"):
        ImageFeatures.superpixels(image, n_segments=49)
    with pytest.raises(ValueError, match="height and width"):
        ImageFeatures.from_segments(image, np.zeros((6, 7), int))
    with pytest.raises(TypeError, match="integer label array"):
        ImageFeatures.from_segments(image, np.zeros((6, 8)))
    with pytest.raises(ValueError, match="each with at least one pixel"):
        ImageFeatures(image, np.full((6, 8), 1), image)
    with pytest.raises(ValueError, match=r"grid_shape \(2, 2\) does not match 1 regions"):
        ImageFeatures(image, np.zeros((6, 8), int), image, "grid", "image", (2, 2))
    with pytest.raises(ValueError, match=r"masks must have shape \(N, 4\)"):
        ImageFeatures.grid(image, 2).render(np.ones((1, 5), bool))
    with pytest.raises(ValueError, match="region indices"):
        ImageFeatures.grid(image, 2).region([4])
