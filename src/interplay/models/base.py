"""The small interface every model adapter implements: a batch of texts in, numbers out.

Two kinds of model:

- :class:`TextClassifier`: ``predict_logits(texts) -> (N, C)`` logits, ``labels``;
- :class:`LanguageModel`: ``generate(prompt) -> answer`` (greedy, once) and
  ``answer_logprobs(prompts, answer) -> (N,)`` — log p(answer | prompt) summed over the
  answer's tokens, by teacher forcing.

:class:`FunctionClassifier` and :class:`FunctionLanguageModel` wrap plain Python functions,
so any model (a REST service, a scikit-learn pipeline) plugs in without subclassing.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

__all__ = [
    "FunctionClassifier",
    "FunctionLanguageModel",
    "LanguageModel",
    "TextClassifier",
    "TextModel",
]


class TextModel(ABC):
    """Base of all adapters.

    Attributes
    ----------
    kind : str
        ``"classifier"`` or ``"generative"``.
    default_mask_mode : str
        How a masked feature is hidden unless the user says otherwise: ``"remove"`` or
        ``"replace"`` (with :attr:`mask_token`).
    mask_token : str or None
        The replacement text for ``"replace"`` (e.g. ``"[MASK]"`` for BERT-like encoders).
    """

    kind: str = ""
    default_mask_mode: str = "remove"
    mask_token: str | None = None

    def identity(self) -> str:
        """A stable description of the model (name, weights) used in cache fingerprints."""
        return f"{type(self).__module__}.{type(self).__qualname__}"


class TextClassifier(TextModel):
    """A classifier of texts."""

    kind = "classifier"
    #: class names, index-aligned with the logits
    labels: ClassVar[list[str]] = []

    @abstractmethod
    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        """(N, C) float array of class logits for N texts."""

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_logits(texts)


class LanguageModel(TextModel):
    """A generative language model scored by teacher forcing."""

    kind = "generative"

    @abstractmethod
    def generate(self, prompt: str, *, max_new_tokens: int = 32) -> str:
        """The greedy answer to ``prompt`` (without end-of-turn tokens)."""

    @abstractmethod
    def answer_logprobs(self, prompts: Sequence[str], answer: str) -> np.ndarray:
        """(N,) float array: log p(answer | prompt) summed over the answer's tokens."""


class FunctionClassifier(TextClassifier):
    """A classifier given by a function ``texts -> (N, C) logits``.

    Parameters
    ----------
    function : callable
        ``function(list_of_str) -> (N, C)`` array (a (N,) array is read as the logit of one
        positive class against a zero baseline: C = 2).
    labels : sequence of str, optional
        Class names.
    name : str
        Identity used in cache fingerprints: change it when the function changes.
    mask_token : str, optional
        If given, masked features are replaced by it by default.
    """

    def __init__(
        self,
        function: Callable[[list[str]], Any],
        *,
        labels: Sequence[str] | None = None,
        name: str = "function",
        mask_token: str | None = None,
    ) -> None:
        if not callable(function):
            raise TypeError(f"function must be callable, got {type(function).__name__}")
        self.function = function
        self.labels = [str(x) for x in labels] if labels is not None else []
        self.name = str(name)
        self.mask_token = mask_token
        self.default_mask_mode = "replace" if mask_token else "remove"

    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        out = np.asarray(self.function(list(texts)), dtype=np.float64)
        if out.ndim == 1:
            out = np.stack([np.zeros_like(out), out], axis=1)
        return out

    def identity(self) -> str:
        return f"function-classifier:{self.name}"


class FunctionLanguageModel(LanguageModel):
    """A language model given by two functions.

    Parameters
    ----------
    generate : callable
        ``generate(prompt: str) -> str``.
    answer_logprobs : callable
        ``answer_logprobs(prompts: list[str], answer: str) -> (N,)`` floats.
    name : str
        Identity used in cache fingerprints.
    """

    def __init__(
        self,
        generate: Callable[[str], str],
        answer_logprobs: Callable[[list[str], str], Any],
        *,
        name: str = "function",
    ) -> None:
        if not callable(generate) or not callable(answer_logprobs):
            raise TypeError("generate and answer_logprobs must be callable")
        self._generate = generate
        self._answer_logprobs = answer_logprobs
        self.name = str(name)

    def generate(self, prompt: str, *, max_new_tokens: int = 32) -> str:
        return str(self._generate(prompt))

    def answer_logprobs(self, prompts: Sequence[str], answer: str) -> np.ndarray:
        return np.asarray(self._answer_logprobs(list(prompts), answer), dtype=np.float64)

    def identity(self) -> str:
        return f"function-lm:{self.name}"
