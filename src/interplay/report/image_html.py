"""The image part of the HTML report: the photo with each region's effect overlaid, and one
outline a region that the report's click handler shows for the selected interaction.

The overlay is one embedded PNG (the image blended with each region's colour, the colours of
:func:`interplay.display.colours.signed_rgba`, the same as the text features'); on it lies an
inline SVG with one ``<path class="f region" data-f="i">`` a region: its outline, traced from
the segment map, drawn only while an interaction containing region ``i`` is selected (the
report's script marks it ``sel`` as it marks a word). Nothing is fetched over the network.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Sequence

import numpy as np

from interplay.display.colours import signed_rgba
from interplay.values.image_features import ImageFeatures

__all__ = ["IMAGE_CSS", "image_input_html", "overlay_png", "region_outline_paths"]

#: Styles of the image card: an outline is invisible until its region is selected.
IMAGE_CSS = """
.imgwrap{position:relative;display:inline-block;width:100%;max-width:640px;line-height:0}
.imgwrap img{display:block;width:100%;height:auto}
.imgwrap svg{position:absolute;left:0;top:0;width:100%;height:100%;pointer-events:none}
.imgwrap path.region{fill:none;stroke:none}
.prompt.selecting .imgwrap path.region{opacity:1;outline:none}
.prompt.selecting .imgwrap path.region.sel{stroke:#ffd400;stroke-width:3;
vector-effect:non-scaling-stroke}
.prompt.selecting .imgwrap img{opacity:.75}
.question{margin-top:8px}
"""


def _runs(edge: np.ndarray, label: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                       np.ndarray]:
    """Runs of consecutive edges along axis 1 with the same label.

    Parameters
    ----------
    edge : (L, M) bool array
        Whether a unit edge is on a region's border.
    label : (L, M) int array
        The region the edge belongs to (< 0: none).

    Returns
    -------
    line, start, length, region : (R,) int arrays
    """
    on = edge & (label >= 0)
    prev_on = np.zeros_like(on)
    prev_on[:, 1:] = on[:, :-1] & (label[:, 1:] == label[:, :-1])
    line, start = np.nonzero(on & ~prev_on)
    next_on = np.zeros_like(on)
    next_on[:, :-1] = on[:, 1:] & (label[:, :-1] == label[:, 1:])
    _end_line, end = np.nonzero(on & ~next_on)  # same row-major order as the starts
    return line, start, end - start + 1, label[line, start]


def region_outline_paths(segments: np.ndarray) -> list[str]:
    """One SVG path (``d`` attribute, pixel units) a region: the region's border.

    Parameters
    ----------
    segments : (H, W) int array
        Region label of every pixel, labels ``0 .. n - 1``.

    Returns
    -------
    list of str
        ``n`` paths; path ``i`` traces the pixel edges between region ``i`` and any other
        region or the image's border.
    """
    segments = np.asarray(segments, dtype=np.int64)
    n = int(segments.max()) + 1
    padded = np.pad(segments, 1, constant_values=-1)
    pieces: list[list[str]] = [[] for _ in range(n)]
    # horizontal edges: line y between rows y - 1 and y, unit x; vertical ones transposed
    for grid, horizontal in ((padded, True), (padded.T, False)):
        before, after = grid[:-1, 1:-1], grid[1:, 1:-1]
        edge = before != after
        for label in (before, after):
            line, start, length, region = _runs(edge, label)
            for li, st, ln, r in zip(line.tolist(), start.tolist(), length.tolist(),
                                     region.tolist()):
                pieces[r].append(f"M{st} {li}h{ln}" if horizontal else f"M{li} {st}v{ln}")
    return ["".join(p) for p in pieces]


def overlay_png(features: ImageFeatures, effects: np.ndarray) -> bytes:
    """The image blended with each region's colour, as PNG bytes.

    Parameters
    ----------
    features : ImageFeatures
        The image and its segment map.
    effects : (n_regions,) float array
        The value coloured (blue raises the output, red lowers it; opacity by magnitude).
    """
    from PIL import Image

    image = features.image.astype(np.float64)
    image = image / (255.0 if features.image.dtype == np.uint8 else 1.0)
    image = np.clip(image, 0.0, 1.0)
    if image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    rgba = signed_rgba(np.asarray(effects, dtype=np.float64))[features.segments]
    alpha = 0.8 * rgba[..., 3:]
    blended = image[..., :3] * (1.0 - alpha) + rgba[..., :3] * alpha
    buf = io.BytesIO()
    Image.fromarray(np.round(blended * 255).astype(np.uint8)).save(buf, format="PNG")
    return buf.getvalue()


def image_input_html(
    features: ImageFeatures,
    effects: np.ndarray,
    feature_names: Sequence[str],
    quantity: str,
    word_html: Callable[[int, str], str],
    question_words: Sequence[str] = (),
) -> str:
    """The input card of an image explanation.

    Parameters
    ----------
    features : ImageFeatures
        The image's regions (features ``0 .. n_regions - 1``).
    effects : (n_features,) float array
        Order-1 values of all features (regions first, then question words).
    feature_names : sequence of str
        Names of all features.
    quantity : str
        What ``effects`` are (shown in each region's tooltip).
    word_html : callable (index, text) -> str
        The report's coloured, selectable span of a text feature.
    question_words : sequence of str
        The question's words, features ``n_regions ..`` (a vision-language explanation).
    """
    n = features.n_features
    height, width = features.segments.shape
    png = base64.b64encode(overlay_png(features, np.asarray(effects)[:n])).decode("ascii")
    paths = "".join(
        f'<path class="f region" data-f="{i}" d="{d}"><title>'
        f"{html.escape(f'{feature_names[i]}: {quantity} {effects[i]:+.4g}')}</title></path>"
        for i, d in enumerate(region_outline_paths(features.segments))
    )
    words = " ".join(word_html(n + j, w) for j, w in enumerate(question_words))
    question = f'<div class="question">question: {words}</div>' if words else ""
    return (
        f'<div class="imgwrap"><img alt="the image, each region coloured by its {quantity}" '
        f'width="{width}" height="{height}" src="data:image/png;base64,{png}">'
        f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
        f'xmlns="http://www.w3.org/2000/svg">{paths}</svg></div>{question}'
    )
