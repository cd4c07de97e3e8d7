"""The score of one class of a classifier, shared by the text and image classifier values.

A classifier value explains one class: the one the user names (by index or label) or the one
predicted on the whole input. Its score is that class's logit, probability or log-probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

import numpy as np
from scipy.special import log_softmax

__all__ = [
    "CLASSIFIER_OUTPUTS",
    "ClassifierOutput",
    "check_classifier_output",
    "check_logits",
    "check_target",
    "class_score",
    "resolve_target",
]

ClassifierOutput = Literal["logit", "probability", "log_probability"]
CLASSIFIER_OUTPUTS: tuple[str, ...] = get_args(ClassifierOutput)


def check_classifier_output(output: Any) -> str:
    """``output`` when it names a score (:data:`CLASSIFIER_OUTPUTS`); else a ValueError."""
    if output not in CLASSIFIER_OUTPUTS:
        raise ValueError(f"unknown output {output!r}; valid: {', '.join(CLASSIFIER_OUTPUTS)}")
    return str(output)


def check_target(target: Any, labels: Sequence[str]) -> None:
    """Refuse a target that is not None, a known label or a class index (before any query)."""
    if isinstance(target, str):
        if target not in labels:
            raise ValueError(f"unknown class {target!r}; the model's labels: {list(labels)}")
        return
    if target is not None and (
        isinstance(target, bool) or not isinstance(target, (int, np.integer))
    ):
        raise TypeError(f"target must be an int, a label or None, got {target!r}")
    if labels and target is not None and not 0 <= int(target) < len(labels):
        raise ValueError(f"target class {target} outside range(0, {len(labels)})")


def resolve_target(
    target: int | str | None, labels: Sequence[str], full_logits: np.ndarray
) -> tuple[int, str]:
    """The explained class as ``(index, label)``.

    Parameters
    ----------
    target : int, str or None
        A class index, a label, or None for the class predicted on the whole input.
    labels : sequence of str
        The model's class names (may be empty).
    full_logits : (C,) float array
        The logits on the whole input.
    """
    check_target(target, labels)
    n_classes = int(full_logits.shape[0])
    if target is None:
        index = int(np.argmax(full_logits))
    elif isinstance(target, str):
        index = list(labels).index(target)
    else:
        index = int(target)
    if not 0 <= index < n_classes:
        raise ValueError(f"target class {index} outside range(0, {n_classes})")
    return index, (str(labels[index]) if index < len(labels) else str(index))


def check_logits(logits: Any, n_inputs: int, what: str) -> np.ndarray:
    """``logits`` as an (n_inputs, C) float array; a ValueError naming ``what`` otherwise."""
    array = np.asarray(logits, dtype=np.float64)
    if array.ndim != 2 or array.shape[0] != n_inputs:
        raise ValueError(
            f"the classifier returned logits of shape {array.shape} for {n_inputs} {what}; "
            "expected (N, n_classes)"
        )
    return array


def class_score(logits: np.ndarray, target: int, output: str) -> np.ndarray:
    """(N,) score of class ``target`` from (N, C) ``logits``: logit, probability or log p."""
    if output == "logit":
        return logits[:, target]
    column = log_softmax(logits, axis=1)[:, target]
    return np.exp(column) if output == "probability" else column
