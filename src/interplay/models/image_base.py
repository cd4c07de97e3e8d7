"""The interface of image models: a batch of images (and questions) in, numbers out.

Two kinds of model:

- :class:`ImageClassifier`: ``predict_logits(images) -> (N, K)`` logits, ``labels``. An image
  classifier, and also a CLIP-style model read as a zero-shot classifier over given texts
  (its logits are the image–text similarities);
- :class:`VisionLanguageModel`: ``generate(image, question) -> answer`` (greedy, once) and
  ``answer_logprobs(images, questions, answer) -> (N,)`` — log p(answer | image, question)
  summed over the answer's tokens, by teacher forcing.

Images are (N, H, W, C) arrays, channels last, uint8 (0–255) or float, as
:class:`~interplay.values.image_features.ImageFeatures` renders them.
:class:`FunctionImageClassifier` and :class:`FunctionVisionLanguageModel` wrap plain Python
functions, so any model plugs in without subclassing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "FunctionImageClassifier",
    "FunctionVisionLanguageModel",
    "ImageClassifier",
    "ImageModel",
    "VisionLanguageModel",
]


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


class FunctionImageClassifier(ImageClassifier):
    """An image classifier given by a function ``images -> (N, K) logits``.

    Parameters
    ----------
    function : callable
        ``function((N, H, W, C) array) -> (N, K)`` array (a (N,) array is read as the logit
        of one positive class against a zero baseline: K = 2).
    labels : sequence of str, optional
        Class names.
    name : str
        Identity used in cache fingerprints: change it when the function changes.
    """

    def __init__(
        self,
        function: Callable[[np.ndarray], Any],
        *,
        labels: Sequence[str] | None = None,
        name: str = "function",
    ) -> None:
        if not callable(function):
            raise TypeError(f"function must be callable, got {type(function).__name__}")
        self.function = function
        self.labels = [str(x) for x in labels] if labels is not None else []
        self.name = str(name)

    def predict_logits(self, images: np.ndarray) -> np.ndarray:
        out = np.asarray(self.function(images), dtype=np.float64)
        if out.ndim == 1:
            out = np.stack([np.zeros_like(out), out], axis=1)
        return out

    def identity(self) -> str:
        return f"function-image-classifier:{self.name}"


class FunctionVisionLanguageModel(VisionLanguageModel):
    """A vision-language model given by two functions.

    Parameters
    ----------
    generate : callable
        ``generate(image, question) -> str``.
    answer_logprobs : callable
        ``answer_logprobs(images, questions, answer) -> (N,)`` floats, with ``images`` an
        (N, H, W, C) array and ``questions`` a list of N str.
    name : str
        Identity used in cache fingerprints.
    """

    def __init__(
        self,
        generate: Callable[[np.ndarray, str], str],
        answer_logprobs: Callable[[np.ndarray, list[str], str], Any],
        *,
        name: str = "function",
    ) -> None:
        if not callable(generate) or not callable(answer_logprobs):
            raise TypeError("generate and answer_logprobs must be callable")
        self._generate = generate
        self._answer_logprobs = answer_logprobs
        self.name = str(name)

    def generate(self, image: np.ndarray, question: str, *, max_new_tokens: int = 32) -> str:
        return str(self._generate(image, question))

    def answer_logprobs(
        self, images: np.ndarray, questions: Sequence[str], answer: str
    ) -> np.ndarray:
        return np.asarray(
            self._answer_logprobs(images, list(questions), answer), dtype=np.float64
        )

    def identity(self) -> str:
        return f"function-vlm:{self.name}"
