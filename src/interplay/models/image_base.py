"""The interface of image models: a batch of images (and questions) in, numbers out.

Two kinds of model:

- :class:`ImageClassifier`: ``predict_logits(images) -> (N, K)`` logits, ``labels``. An image
  classifier, and also a CLIP-style model read as a zero-shot classifier over given texts
  (its logits are the image–text similarities);
- :class:`VisionLanguageModel`: ``generate(image, question) -> answer`` (greedy, once) and
  ``answer_logprobs(images, questions, answer) -> (N,)`` — log p(answer | image, question)
  summed over the answer's tokens, by teacher forcing.

Images are (N, H, W, C) arrays, channels last, uint8 (0–255) or float, as
:class:`~interplay.values.image_features.ImageFeatures` renders them. The value functions only
call these methods, so any object that has them plugs in without subclassing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np

__all__ = ["ImageClassifier", "ImageModel", "VisionLanguageModel"]


class ImageModel(ABC):
    """Base of the image adapters."""

    kind: str = ""

    def identity(self) -> str:
        """A stable description of the model (name, weights) used in cache fingerprints."""
        return f"{type(self).__module__}.{type(self).__qualname__}"


class ImageClassifier(ImageModel):
    """A classifier of images (or a scorer of images against K texts)."""

    kind = "image-classifier"
    #: class names, index-aligned with the logits
    labels: list[str] = []  # noqa: RUF012 - overridden per instance

    @abstractmethod
    def predict_logits(self, images: np.ndarray) -> np.ndarray:
        """(N, K) float array of logits for (N, H, W, C) images."""

    def __call__(self, images: np.ndarray) -> np.ndarray:
        return self.predict_logits(images)


class VisionLanguageModel(ImageModel):
    """A generative model that reads an image and a question, scored by teacher forcing."""

    kind = "vision-language"

    @abstractmethod
    def generate(self, image: np.ndarray, question: str, *, max_new_tokens: int = 32) -> str:
        """The greedy answer to ``question`` about the (H, W, C) ``image``."""

    @abstractmethod
    def answer_logprobs(
        self, images: np.ndarray, questions: Sequence[str], answer: str
    ) -> np.ndarray:
        """(N,) float array: log p(answer | image i, question i), summed over its tokens."""
