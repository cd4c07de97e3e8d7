"""Text value functions: a prompt split into features, masked, and scored by a model.

A prompt is split into n features at a chosen unit (words, sentences, paragraphs, or a list
of documents the user gives). A mask keeps or removes each feature; a removed feature is
either dropped or replaced by a mask string. The value of a masked prompt is

- for a classifier: the logit (or probability) of the class predicted on the full prompt;
- for a generative LM: the log-probability of the model's original answer (generated once,
  greedily, on the full prompt), summed over its tokens, given the masked prompt (teacher
  forcing: one forward pass per mask, no generation per mask).

Both value functions expose ``fingerprint()`` (for caches) and ``cost(masks)`` (an estimate
of the length of each masked prompt, for batching by length).

Input limits are explicit: when the model reports a context limit, the longest prompt (plus,
for an LM, the answer) is measured in the model's own tokens before any query. Past the limit
the model would silently cut the text (the last features would then "change nothing"), so
this is a :class:`ContextLengthError` naming the limit and the excess; with
``truncate=True`` the features that do not fit are cut instead, with a warning listing them,
and are excluded from the explanation (``features_cut``).
"""

from __future__ import annotations

import hashlib
import json
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import numpy as np

from interplay.spectral.names import unique_names
from interplay.values.base import check_masks, check_outputs
from interplay.values.class_scores import (
    check_classifier_output,
    check_logits,
    check_target,
    class_score,
    resolve_target,
)

if TYPE_CHECKING:  # pragma: no cover
    from interplay.models.base import LanguageModel, TextClassifier, TextModel

__all__ = [
    "ClassifierValue",
    "ContextLengthError",
    "GenerativeValue",
    "MaskMode",
    "TextFeatures",
    "TextValueFunction",
    "Unit",
    "fit_to_context",
    "split_text",
]

Unit = Literal["word", "sentence", "paragraph", "document"]
MaskMode = Literal["auto", "remove", "replace"]

_UNITS: tuple[str, ...] = get_args(Unit)
_MASK_MODES: tuple[str, ...] = get_args(MaskMode)

#: Separators between features, by unit ("document" features are given, never split).
_SEPARATORS: dict[str, str] = {
    "word": r"\s+",
    # end of sentence (., !, ? possibly followed by a closing quote or bracket) then spaces,
    # or a line break
    "sentence": r"(?<=[.!?])\s+|(?<=[.!?][\"')\]])\s+|\s*\n\s*",
    "paragraph": r"\s*\n[ \t\r\f\v]*\n\s*",
}


def split_text(text: str, unit: str = "word") -> tuple[list[str], list[str]]:
    """Split ``text`` into feature pieces and the separators around them.

    Parameters
    ----------
    text : str
        The text to split.
    unit : {"word", "sentence", "paragraph"}
        ``word``: runs of non-space characters (punctuation stays attached);
        ``sentence``: ends at ``.``, ``!`` or ``?`` followed by white space, or at a line
        break (abbreviations such as "Dr." also end a sentence);
        ``paragraph``: blocks separated by a blank line.

    Returns
    -------
    pieces : list of str, length n
        The features, without surrounding white space.
    separators : list of str, length n + 1
        ``separators[i]`` is the text before piece i, ``separators[n]`` the text after the
        last piece; ``"".join(s + p for s, p in zip(separators, pieces)) + separators[-1]``
        gives back ``text``.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    if unit not in _SEPARATORS:
        raise ValueError(f"unknown unit {unit!r}; valid: {', '.join(_SEPARATORS)}")
    pieces: list[str] = []
    separators: list[str] = []
    pending = ""  # separator text accumulated before the next piece
    pos = 0
    bounds = [(m.start(), m.end()) for m in re.finditer(_SEPARATORS[unit], text)]
    bounds.append((len(text), len(text)))
    for start, end in bounds:
        chunk = text[pos:start]
        core = chunk.strip()
        if core:
            lead = chunk[: len(chunk) - len(chunk.lstrip())]
            trail = chunk[len(chunk.rstrip()) :]
            separators.append(pending + lead)
            pieces.append(core)
            pending = trail
        else:
            pending += chunk
        pending += text[start:end]
        pos = end
    separators.append(pending)
    return pieces, separators


@dataclass(frozen=True)
class TextFeatures:
    """A prompt cut into n maskable features, with fixed text around them.

    Build one with :meth:`from_text` or :meth:`from_documents`.

    Attributes
    ----------
    pieces : tuple of str, length n
        The text of each feature.
    separators : tuple of str, length n + 1
        Text before each piece and after the last one (kept whatever the mask).
    unit : str
        How the features were made: ``word``, ``sentence``, ``paragraph`` or ``document``.
    prefix, suffix : str
        Fixed text before and after the features (an instruction, a question), never masked.
    """

    pieces: tuple[str, ...]
    separators: tuple[str, ...]
    unit: str = "word"
    prefix: str = ""
    suffix: str = ""

    def __post_init__(self) -> None:
        if len(self.pieces) < 1:
            raise ValueError("the text has no features to explain (it is empty); give a non-empty text")
        if len(self.separators) != len(self.pieces) + 1:
            raise ValueError(
                f"{len(self.separators)} separators for {len(self.pieces)} pieces; "
                "expected one more separator than pieces"
            )
        if self.unit not in _UNITS:
            raise ValueError(f"unknown unit {self.unit!r}; valid: {', '.join(_UNITS)}")

    @classmethod
    def from_text(
        cls, text: str, unit: str = "word", *, prefix: str = "", suffix: str = ""
    ) -> TextFeatures:
        """Split ``text`` at ``unit`` (``word``, ``sentence`` or ``paragraph``)."""
        if unit == "document":
            raise ValueError("unit='document' needs a list of documents: use from_documents")
        pieces, separators = split_text(text, unit)
        return cls(tuple(pieces), tuple(separators), unit, prefix, suffix)

    @classmethod
    def from_documents(
        cls,
        documents: Sequence[str],
        *,
        separator: str = "\n\n",
        prefix: str = "",
        suffix: str = "",
    ) -> TextFeatures:
        """One feature per document (or paragraph, or any chunk the user made).

        Parameters
        ----------
        documents : sequence of str
            The n features, in order.
        separator : str
            Text placed between consecutive documents.
        """
        if isinstance(documents, str):
            raise TypeError("documents must be a sequence of str, not one str")
        docs = [str(d) for d in documents]
        if any(not d.strip() for d in docs):
            raise ValueError("documents must not be empty")
        separators = ("",) + (str(separator),) * (len(docs) - 1) + ("",)
        return cls(tuple(docs), separators if docs else ("",), "document", prefix, suffix)

    # ------------------------------------------------------------------ reading
    @property
    def n_features(self) -> int:
        return len(self.pieces)

    @property
    def text(self) -> str:
        """The full prompt (every feature kept)."""
        return self.render(np.ones((1, self.n_features), bool))[0]

    def names(self, width: int = 40) -> list[str]:
        """Readable, unique feature names: the piece, shortened to ``width`` characters;
        a piece that occurs more than once gets its feature index, e.g. ``"Curie[24]"``."""
        out = []
        for piece in self.pieces:
            flat = " ".join(piece.split())
            out.append(flat if len(flat) <= width else flat[: width - 1] + "…")
        return unique_names(out)

    def lengths(self) -> np.ndarray:
        """(n,) int array: number of characters of each piece with its separator."""
        return np.array(
            [len(s) + len(p) for s, p in zip(self.separators, self.pieces)], dtype=np.int64
        )

    # ---------------------------------------------------------------- rendering
    def render(self, masks: Any, mask_string: str | None = None) -> list[str]:
        """The masked prompts.

        Parameters
        ----------
        masks : (N, n) bool array
            True keeps a feature.
        mask_string : str, optional
            ``None`` removes masked features (with the separator before them); a string
            replaces each masked feature by it (separators kept).

        Returns
        -------
        list of N str
        """
        masks = check_masks(masks, self.n_features)
        seps = self.separators
        head = self.prefix + seps[0]
        tail = seps[-1] + self.suffix
        # "separator before i" + "piece i": the first piece's separator is in head
        kept = np.array([""] + [s + p for s, p in zip(seps[1:-1], self.pieces[1:])], object)
        kept[0] = self.pieces[0]
        out = []
        if mask_string is None:
            for row in masks:
                idx = np.flatnonzero(row)
                if idx.size == 0:
                    out.append(head + tail)
                    continue
                body = "".join(kept[idx])
                first = idx[0]
                if first > 0:  # drop the separator of the first kept piece
                    body = body[len(seps[first]) :]
                out.append(head + body + tail)
        else:
            masked = np.array(
                [mask_string] + [s + mask_string for s in seps[1:-1]], dtype=object
            )
            for row in masks:
                out.append(head + "".join(np.where(row, kept, masked)) + tail)
        return out

    def to_dict(self) -> dict:
        """JSON-serialisable description (used in fingerprints and reports)."""
        return {
            "pieces": list(self.pieces),
            "separators": list(self.separators),
            "unit": self.unit,
            "prefix": self.prefix,
            "suffix": self.suffix,
        }


class ContextLengthError(ValueError):
    """The prompt does not fit in the model's context (it would be cut silently)."""


def _token_budget(
    model: TextModel, features: TextFeatures, mask_string: str | None
) -> tuple[int, np.ndarray]:
    """Tokens of the text around the features, and the most each feature can add.

    Returns
    -------
    fixed : int
        Tokens of the prompt with every feature removed (template, special tokens, prefix).
    extra : (n,) int array
        Feature i's share: the tokens it adds kept, or replaced by ``mask_string``, whichever
        is more. ``fixed + extra.sum()`` bounds every masked prompt: tokenisers split at the
        white space between features, so a prompt's tokens are the sum of its parts.
    """
    n = features.n_features
    fixed = model.count_tokens(features.render(np.zeros((1, n), bool))[0])
    alone = features.render(np.eye(n, dtype=bool))
    extra = np.array([model.count_tokens(text) for text in alone]) - fixed
    if mask_string is not None:
        masks_only = TextFeatures((mask_string,) * n, features.separators, features.unit,
                                  features.prefix, features.suffix)
        replaced = masks_only.render(np.eye(n, dtype=bool))
        extra = np.maximum(extra, np.array([model.count_tokens(t) for t in replaced]) - fixed)
    return int(fixed), np.maximum(extra, 0)


def _first_features(features: TextFeatures, k: int) -> TextFeatures:
    """The first ``k`` features, with the same fixed text around them."""
    return TextFeatures(
        features.pieces[:k],
        features.separators[:k] + features.separators[-1:],
        features.unit,
        features.prefix,
        features.suffix,
    )


def fit_to_context(
    model: TextModel,
    features: TextFeatures,
    *,
    mask_string: str | None = None,
    reserve: int = 0,
    truncate: bool = False,
) -> tuple[TextFeatures, tuple[str, ...]]:
    """Check that every masked prompt fits in the model's context; cut features if allowed.

    Parameters
    ----------
    model : TextModel
        Its ``context_limit()`` (``None``: nothing to check) and ``count_tokens(text)``.
    features : TextFeatures
        The prompt's features.
    mask_string : str, optional
        Replacement of masked features (``None``: removed).
    reserve : int
        Tokens needed after the prompt (an LM's answer).
    truncate : bool
        Past the limit, keep the longest run of leading features that fits (with a
        ``UserWarning`` listing those cut) instead of raising.

    Returns
    -------
    features : TextFeatures
        ``features``, or its first k features when some were cut.
    cut : tuple of str
        Names of the features cut (empty when everything fits).

    Raises
    ------
    ContextLengthError
        When the prompt is too long (without ``truncate``), or when even the text around the
        features leaves no room.
    """
    context_limit = getattr(model, "context_limit", None)
    limit = context_limit() if callable(context_limit) else None
    if limit is None:
        return features, ()
    reserve = int(reserve)
    fixed, extra = _token_budget(model, features, mask_string)
    needed = fixed + reserve + np.cumsum(extra)  # the longest prompt with the first k features
    used = int(needed[-1])
    if used <= limit:
        return features, ()
    n = features.n_features
    lo = int(np.searchsorted(needed, limit, side="right"))  # the first lo features fit
    answer = f" ({used - reserve} for the text + {reserve} for the answer)" if reserve else ""
    what = (
        f"the longest masked prompt needs {used} tokens{answer}, over the model's limit of "
        f"{limit} by {used - limit}"
    )
    if lo == 0:
        raise ContextLengthError(f"{what}; even its first feature does not fit: shorten the text")
    if not truncate:
        raise ContextLengthError(
            f"{what}; the model would silently ignore the end of the text. Shorten it, or "
            f"pass truncate=True (CLI: --truncate) to explain only the first {lo} of {n} "
            "features"
        )
    cut = tuple(features.names()[lo:])
    listed = [repr(name) for name in cut]
    shown = ", ".join(listed if len(cut) <= 10 else [*listed[:5], "...", *listed[-5:]])
    warnings.warn(
        f"{what}: the last {len(cut)} of {n} features are cut and excluded from the "
        f"explanation: {shown}",
        UserWarning,
        stacklevel=3,
    )
    return _first_features(features, lo), cut


def _check_mask_mode(mask_mode: str, mask_string: str | None, model: TextModel) -> str | None:
    """Resolve ``(mask_mode, mask_string)`` into the replacement string (None: remove)."""
    if mask_mode not in _MASK_MODES:
        raise ValueError(f"unknown mask_mode {mask_mode!r}; valid: {', '.join(_MASK_MODES)}")
    if mask_mode == "auto":
        mask_mode = getattr(model, "default_mask_mode", "remove")
    if mask_mode == "remove":
        if mask_string is not None:
            raise ValueError("mask_string is only used with mask_mode='replace'")
        return None
    if mask_string is None:
        mask_string = getattr(model, "mask_token", None) or "___"
    if not isinstance(mask_string, str):
        raise TypeError(f"mask_string must be a str, got {type(mask_string).__name__}")
    return mask_string


class TextValueFunction:
    """Shared part of the text value functions: features, masking, fingerprint, cost.

    Subclasses implement :meth:`_score` (masked prompts -> values) and ``_identity``.
    """

    kind: str = ""

    def __init__(
        self,
        model: TextModel,
        features: TextFeatures | str,
        *,
        unit: str = "word",
        mask_mode: str = "auto",
        mask_string: str | None = None,
        truncate: bool = False,
    ) -> None:
        if isinstance(features, str):
            features = TextFeatures.from_text(features, unit)
        if not isinstance(features, TextFeatures):
            raise TypeError(
                f"features must be a TextFeatures or a str, got {type(features).__name__}"
            )
        self.model = model
        self.features = features
        self.mask_string = _check_mask_mode(mask_mode, mask_string, model)
        self.mask_mode = "remove" if self.mask_string is None else "replace"
        self.truncate = bool(truncate)
        #: names of the features cut because they did not fit in the model's context
        self.features_cut: tuple[str, ...] = ()
        self.n_calls = 0
        self.n_rows = 0

    def _fit_to_context(self, reserve: int = 0) -> None:
        """Check the prompt against the model's context before any query (see
        :func:`fit_to_context`); keep only the features that fit when truncating."""
        self.features, self.features_cut = fit_to_context(
            self.model, self.features, mask_string=self.mask_string, reserve=reserve,
            truncate=self.truncate,
        )

    @property
    def n_features(self) -> int:
        return self.features.n_features

    @property
    def feature_names(self) -> list[str]:
        return self.features.names()

    def render(self, masks: Any) -> list[str]:
        """The masked prompts, as the model sees them (before any chat template)."""
        return self.features.render(masks, self.mask_string)

    def __call__(self, masks: Any) -> np.ndarray:
        """Score masked prompts.

        Parameters
        ----------
        masks : (N, n) bool array
            True keeps a feature.

        Returns
        -------
        (N,) float array
        """
        masks = check_masks(masks, self.n_features)
        if masks.shape[0] == 0:
            return np.zeros(0)
        values = check_outputs(self._score(self.render(masks)), masks.shape[0])
        self.n_calls += 1
        self.n_rows += masks.shape[0]
        return values

    def cost(self, masks: Any) -> np.ndarray:
        """(N,) float array: characters in each masked prompt (a proxy for its tokens)."""
        masks = check_masks(masks, self.n_features)
        lengths = self.features.lengths().astype(np.float64)
        fixed = len(self.features.prefix) + len(self.features.suffix) + len(
            self.features.separators[-1]
        )
        kept = masks.astype(np.float64) @ lengths
        if self.mask_string is not None:
            kept += (~masks).astype(np.float64) @ np.full(
                self.n_features, float(len(self.mask_string) + 1)
            )
        return kept + fixed

    def fingerprint(self) -> str:
        """SHA-256 of model identity, prompt, unit, mask mode and target/answer."""
        identity = getattr(self.model, "identity", None)
        payload = {
            "kind": self.kind,
            "model": identity() if callable(identity) else repr(self.model),
            "features": self.features.to_dict(),
            "mask_mode": self.mask_mode,
            "mask_string": self.mask_string,
            "target": self._identity(),
        }
        text = json.dumps(payload, sort_keys=True, ensure_ascii=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def _identity(self) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError

    def _score(self, prompts: list[str]) -> np.ndarray:  # pragma: no cover - overridden
        raise NotImplementedError

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_features={self.n_features}, unit={self.features.unit!r}, "
            f"mask_mode={self.mask_mode!r})"
        )


class ClassifierValue(TextValueFunction):
    """Value of a masked prompt for a classifier: a score of one class.

    Parameters
    ----------
    model : TextClassifier
        ``model.predict_logits(texts) -> (N, C)`` logits; ``model.labels`` names classes.
    features : TextFeatures or str
        The prompt's features (a str is split at ``unit``).
    target : int or str, optional
        The class whose score is the value; default: the class predicted on the full prompt.
    output : {"logit", "probability", "log_probability"}
        Which score of the target class.
    unit : str
        Used when ``features`` is a str.
    mask_mode : {"auto", "remove", "replace"}
        ``auto`` takes the model's default (``replace`` with its mask token when it has one).
    mask_string : str, optional
        Replacement text for ``mask_mode="replace"``.
    truncate : bool
        When the prompt is longer than the model reads, explain only the features that fit
        (with a warning naming those cut, see ``features_cut``) instead of raising
        :class:`ContextLengthError`.

    Attributes
    ----------
    target : int
        Index of the explained class.
    full_logits : (C,) float array
        The classifier's logits on the full prompt.
    """

    kind = "classifier"

    def __init__(
        self,
        model: TextClassifier,
        features: TextFeatures | str,
        *,
        target: int | str | None = None,
        output: str = "logit",
        unit: str = "word",
        mask_mode: str = "auto",
        mask_string: str | None = None,
        truncate: bool = False,
    ) -> None:
        super().__init__(model, features, unit=unit, mask_mode=mask_mode, mask_string=mask_string,
                         truncate=truncate)
        self.output = check_classifier_output(output)
        labels = [str(x) for x in (getattr(model, "labels", None) or [])]
        check_target(target, labels)  # before the first model call
        self._fit_to_context()
        self.full_logits = self._logits([self.features.text])[0]
        self.target, self.target_label = resolve_target(target, labels, self.full_logits)

    def _logits(self, prompts: list[str]) -> np.ndarray:
        return check_logits(self.model.predict_logits(prompts), len(prompts), "texts")

    def _score(self, prompts: list[str]) -> np.ndarray:
        return class_score(self._logits(prompts), self.target, self.output)

    def _identity(self) -> Any:
        return {"target": self.target, "output": self.output}


#: How many nats more likely the answer without its leading whitespace must be, on the full
#: prompt, for :class:`GenerativeValue` to warn that the whitespace is probably a mistake.
LEADING_WHITESPACE_NATS = 2.0


class GenerativeValue(TextValueFunction):
    """Value of a masked prompt for a generative LM: log p(original answer | masked prompt).

    Parameters
    ----------
    model : LanguageModel
        ``model.generate(prompt, max_new_tokens=...) -> str`` (greedy) and
        ``model.answer_logprobs(prompts, answer) -> (N,)``.
    features : TextFeatures or str
        The prompt's features (a str is split at ``unit``).
    answer : str, optional
        The answer to explain; default: generated once, greedily, on the full prompt. A given
        answer is scored on the same token ids as the model's own generation of it (see
        ``LanguageModel.prepare_answer``); one that starts with whitespace is also scored
        without it, once, and a warning says so when that is more than
        :data:`LEADING_WHITESPACE_NATS` more likely (" Lisbon" at the start of a chat reply).
    max_new_tokens : int
        Length limit of the generated answer.
    unit, mask_mode, mask_string, truncate
        As in :class:`ClassifierValue` (``auto`` removes masked features for most LMs); the
        room the answer needs (its tokens, or ``max_new_tokens`` before it is generated)
        counts against the context.

    Attributes
    ----------
    answer : str
        The explained answer.
    full_value : float
        log p(answer | full prompt).
    """

    kind = "generative"

    def __init__(
        self,
        model: LanguageModel,
        features: TextFeatures | str,
        *,
        answer: str | None = None,
        max_new_tokens: int = 32,
        unit: str = "word",
        mask_mode: str = "auto",
        mask_string: str | None = None,
        truncate: bool = False,
    ) -> None:
        super().__init__(model, features, unit=unit, mask_mode=mask_mode, mask_string=mask_string,
                         truncate=truncate)
        if int(max_new_tokens) < 1:
            raise ValueError(f"max_new_tokens must be positive, got {max_new_tokens}")
        if answer is not None and not isinstance(answer, str):
            raise TypeError(f"answer must be a str, got {type(answer).__name__}")
        given = answer is not None
        if answer is None:
            self._fit_to_context(reserve=int(max_new_tokens))
            answer = model.generate(self.features.text, max_new_tokens=int(max_new_tokens))
        elif answer.strip():
            own_ids = getattr(model, "answer_token_ids", None)
            self._fit_to_context(reserve=len(own_ids(answer)) if callable(own_ids) else 0)
            prepare = getattr(model, "prepare_answer", None)
            if callable(prepare):
                prepare(self.features.text, answer, max_new_tokens=int(max_new_tokens))
        if not answer.strip():
            raise ValueError(
                "the answer to explain is empty (the model generated nothing); "
                "pass answer=... or raise max_new_tokens"
            )
        self.answer = answer
        self.full_value = float(self._score([self.features.text])[0])
        if given and answer != answer.lstrip():
            self._check_leading_whitespace(int(max_new_tokens))

    def _check_leading_whitespace(self, max_new_tokens: int) -> None:
        """Warn when the given answer's leading whitespace makes it far less likely than
        without (a chat model begins its reply without one): the explanation would then be
        of a token sequence the model does not write. One extra query, on the full prompt."""
        stripped = self.answer.lstrip()
        prepare = getattr(self.model, "prepare_answer", None)
        if callable(prepare):
            prepare(self.features.text, stripped, max_new_tokens=max_new_tokens)
        plain = float(np.asarray(self.model.answer_logprobs([self.features.text], stripped))[0])
        if plain - self.full_value > LEADING_WHITESPACE_NATS:
            warnings.warn(
                f"the answer {self.answer!r} starts with whitespace, which makes it far less "
                f"likely on the full prompt (log p {self.full_value:.1f}) than {stripped!r} "
                f"({plain:.1f}); pass answer={stripped!r} (CLI: --answer {stripped!r}) to "
                "explain the answer as the model writes it",
                UserWarning,
                stacklevel=3,
            )

    def _score(self, prompts: list[str]) -> np.ndarray:
        return np.asarray(self.model.answer_logprobs(prompts, self.answer), dtype=np.float64)

    def _identity(self) -> Any:
        return {"answer": self.answer}
