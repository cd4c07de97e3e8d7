"""Image value functions: an image (and a question) masked region by region, scored by a model.

The features are the regions of an :class:`~interplay.values.image_features.ImageFeatures`
(a patch grid or superpixels); a removed region shows the baseline (mean colour, blur,
black, or a given image). The value of a masked image is

- for an image classifier (:class:`ImageClassifierValue`): the logit (or probability) of the
  class predicted on the full image. A CLIP-style model is such a classifier over the texts
  it is given (:class:`~interplay.models.hf_vision.HFCLIPClassifier`): the value is the
  image–text similarity of the target text, or its probability among the texts;
- for a vision-language model (:class:`VisionLanguageValue`): the log-probability of the
  model's answer (generated once, greedily, on the full image and question) given the masked
  image and the masked question. The image's regions and the question's words are features
  of one function, so interactions across the two modalities are found like any others.

Masks are rendered ``chunk_size`` rows at a time, so a large batch of masks never holds more
than ``chunk_size`` full-size images in memory. Both value functions expose
``fingerprint()`` for caches.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import numpy as np

from interplay.values import class_scores
from interplay.values.base import check_masks, check_outputs
from interplay.values.image_features import ImageFeatures, check_positive_int
from interplay.values.text import TextFeatures

if TYPE_CHECKING:  # pragma: no cover
    from interplay.models.image_base import ImageClassifier, ImageModel, VisionLanguageModel

__all__ = ["ImageClassifierValue", "ImageValueFunction", "VisionLanguageValue"]



class ImageValueFunction:
    """Shared part of the image value functions: features, chunked scoring, fingerprint.

    Subclasses implement :meth:`_score_masks` ((M, n) masks -> (M,) values) and
    ``_identity``.
    """

    kind: str = ""

    def __init__(self, model: ImageModel, features: ImageFeatures, *, chunk_size: int) -> None:
        if not isinstance(features, ImageFeatures):
            raise TypeError(
                f"features must be an ImageFeatures (ImageFeatures.grid(image, rows, cols) or "
                f".superpixels(image)), got {type(features).__name__}"
            )
        self.model, self.features = model, features
        self.chunk_size = check_positive_int(chunk_size, "chunk_size")
        #: masks scored so far (the full input scored at construction is not counted)
        self.n_rows = 0

    @property
    def n_features(self) -> int:
        return self.features.n_features

    @property
    def feature_names(self) -> list[str]:
        return self.features.names()

    def __call__(self, masks: Any) -> np.ndarray:
        """(N,) float array: the values of (N, n) bool masks (True keeps a feature)."""
        masks = check_masks(masks, self.n_features)
        values = np.zeros(masks.shape[0])
        for start in range(0, masks.shape[0], self.chunk_size):
            rows = masks[start : start + self.chunk_size]
            values[start : start + rows.shape[0]] = check_outputs(
                self._score_masks(rows), rows.shape[0]
            )
        self.n_rows += masks.shape[0]
        return values

    def fingerprint(self) -> str:
        """SHA-256 of the model identity, the features and the target or answer."""
        identity = getattr(self.model, "identity", None)
        payload = {
            "kind": self.kind,
            "model": identity() if callable(identity) else repr(self.model),
            "features": self._features_dict(),
            "target": self._identity(),
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _features_dict(self) -> dict:
        return self.features.to_dict()

    def _identity(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _score_masks(self, masks: np.ndarray) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n_features={self.n_features}, features={self.features!r})"


class ImageClassifierValue(ImageValueFunction):
    """Value of a masked image for a classifier: a score of one class.

    Parameters
    ----------
    model : ImageClassifier
        ``model.predict_logits(images) -> (N, K)`` logits; ``model.labels`` names classes
        (for a CLIP-style model, the texts).
    features : ImageFeatures
        The image's regions and baseline.
    target : int or str, optional
        The class whose score is the value; default: the class predicted on the full image.
    output : {"logit", "probability", "log_probability"}
        Which score of the target class.
    chunk_size : int
        Masked images rendered and sent to the model at a time.

    Attributes
    ----------
    target : int
        Index of the explained class.
    target_label : str
        Its name.
    full_logits : (K,) float array
        The classifier's logits on the full image.
    """

    kind = "image-classifier"

    def __init__(
        self,
        model: ImageClassifier,
        features: ImageFeatures,
        *,
        target: int | str | None = None,
        output: str = "logit",
        chunk_size: int = 64,
    ) -> None:
        super().__init__(model, features, chunk_size=chunk_size)
        self.output = class_scores.check_classifier_output(output)
        labels = [str(x) for x in (getattr(model, "labels", None) or [])]
        class_scores.check_target(target, labels)  # before the first model call
        self.full_logits = self._logits(features.image[None])[0]
        self.target, self.target_label = class_scores.resolve_target(
            target, labels, self.full_logits
        )

    def _logits(self, images: np.ndarray) -> np.ndarray:
        logits = self.model.predict_logits(images)
        return class_scores.check_logits(logits, images.shape[0], "images")

    def _score_masks(self, masks: np.ndarray) -> np.ndarray:
        logits = self._logits(self.features.render(masks))
        return class_scores.class_score(logits, self.target, self.output)

    def _identity(self) -> Any:
        return {"target": self.target, "output": self.output}


class VisionLanguageValue(ImageValueFunction):
    """Value of a masked image and question for a vision-language model: log p(answer).

    The features are the image's n_image regions followed by the question's n_words words
    (``question_features=True``), so masks are (N, n_image + n_words): interactions between a
    region and a word are terms like any others.

    Parameters
    ----------
    model : VisionLanguageModel
        ``model.generate(image, question, max_new_tokens=...)`` (greedy) and
        ``model.answer_logprobs(images, questions, answer) -> (N,)``.
    features : ImageFeatures
        The image's regions and baseline.
    question : str or TextFeatures
        The question (a str is split into words).
    answer : str, optional
        The answer to explain; default: generated once, greedily, on the full image and
        question.
    max_new_tokens : int
        Length limit of the generated answer.
    question_features : bool
        Whether the question's words are features (True) or the question is always shown
        whole (False: the features are the image's regions only).
    mask_string : str, optional
        ``None`` removes masked words; a string replaces each of them.
    chunk_size : int
        Masked inputs rendered and sent to the model at a time.

    Attributes
    ----------
    answer : str
        The explained answer.
    full_value : float
        log p(answer | full image, full question).
    n_image_features, n_text_features : int
        How many features are image regions and question words.
    """

    kind = "vision-language"

    def __init__(
        self,
        model: VisionLanguageModel,
        features: ImageFeatures,
        question: str | TextFeatures,
        *,
        answer: str | None = None,
        max_new_tokens: int = 32,
        question_features: bool = True,
        mask_string: str | None = None,
        chunk_size: int = 16,
    ) -> None:
        super().__init__(model, features, chunk_size=chunk_size)
        if isinstance(question, str):
            question = TextFeatures.from_text(question, "word")
        if not isinstance(question, TextFeatures):
            raise TypeError(
                f"question must be a str or a TextFeatures, got {type(question).__name__}"
            )
        if mask_string is not None and not isinstance(mask_string, str):
            raise TypeError(f"mask_string must be a str or None, got {type(mask_string).__name__}")
        self.question = question
        self.question_features = bool(question_features)
        self.mask_string = mask_string
        if answer is None:
            if isinstance(max_new_tokens, bool) or int(max_new_tokens) < 1:
                raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
            answer = model.generate(
                features.image, question.text, max_new_tokens=int(max_new_tokens)
            )
        if not (isinstance(answer, str) and answer.strip()):
            raise ValueError(
                f"the answer to explain must be a non-empty str, got {answer!r} (when the "
                "model generated nothing: pass answer=... or raise max_new_tokens)"
            )
        self.answer = answer
        self.full_value = float(self._score_masks(np.ones((1, self.n_features), dtype=bool))[0])

    @property
    def n_image_features(self) -> int:
        return self.features.n_features

    @property
    def n_text_features(self) -> int:
        return self.question.n_features if self.question_features else 0

    @property
    def n_features(self) -> int:
        return self.n_image_features + self.n_text_features

    @property
    def feature_names(self) -> list[str]:
        words = self.question.names() if self.question_features else []
        return self.features.names() + words

    def render(self, masks: Any) -> tuple[np.ndarray, list[str]]:
        """The masked inputs: (N, H, W, C) images and N questions."""
        masks = check_masks(masks, self.n_features)
        images = self.features.render(masks[:, : self.n_image_features])
        if self.question_features:
            questions = self.question.render(masks[:, self.n_image_features :], self.mask_string)
        else:
            questions = [self.question.text] * masks.shape[0]
        return images, questions

    def _score_masks(self, masks: np.ndarray) -> np.ndarray:
        images, questions = self.render(masks)
        return np.asarray(
            self.model.answer_logprobs(images, questions, self.answer), dtype=np.float64
        )

    def _features_dict(self) -> dict:
        return {
            "image": self.features.to_dict(),
            "question": self.question.to_dict(),
            "question_features": self.question_features,
            "mask_string": self.mask_string,
        }

    def _identity(self) -> Any:
        return {"answer": self.answer}
