"""One call for the common case: explain what in a context drives a model's answer."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from interplay.explain import DEFAULT_METHOD, explain
from interplay.solvers import get_solver
from interplay.values.text import TextFeatures, split_text

if TYPE_CHECKING:  # pragma: no cover
    from interplay.runtime.engine import EngineOptions
    from interplay.spectral.interactions import Interactions

__all__ = [
    "ExplainedOutput",
    "check_design",
    "context_features",
    "explain_text",
    "explained_output",
]

_DESCRIBED_ANSWER = 60  # characters of the answer quoted in the output description


def context_features(
    context: str | None = None,
    *,
    documents: Sequence[str] | None = None,
    query: str | None = None,
    unit: str | None = None,
    query_separator: str = "\n\n",
    document_separator: str = "\n\n",
) -> TextFeatures:
    """The maskable features of a context (or of documents), with the query kept unmasked.

    Parameters
    ----------
    context : str, optional
        The text to cut into features.
    documents : sequence of str, optional
        Instead of ``context``: documents (e.g. retrieved passages) placed one after the
        other, ``document_separator`` between them.
    query : str, optional
        Text after the context, never masked (a question, an instruction).
    unit : {"word", "sentence", "paragraph", "document"}, optional
        The feature unit: default ``"document"`` (one feature per document) with
        ``documents``, ``"sentence"`` with ``context``. With documents, ``"word"``,
        ``"sentence"`` and ``"paragraph"`` cut inside each document.
    query_separator : str
        Text between the context and the query.
    document_separator : str
        Text between documents.

    Returns
    -------
    TextFeatures
        ``suffix`` holds ``query_separator + query``.
    """
    if (context is None) == (documents is None):
        raise ValueError("give the text to explain as context='...' or documents=[...], not both")
    if query is not None and not isinstance(query, str):
        raise TypeError(f"query must be a str, got {type(query).__name__}")
    suffix = "" if not query else str(query_separator) + query
    if context is not None:
        if not isinstance(context, str):
            raise TypeError(f"context must be a str, got {type(context).__name__}")
        unit = "sentence" if unit is None else unit
        if unit == "document":
            raise ValueError("unit='document' needs documents=[...]; use another unit for context")
        return TextFeatures.from_text(context, unit, suffix=suffix)
    if isinstance(documents, str):
        raise TypeError("documents must be a list of str; pass one text as context='...'")
    documents = [str(d) for d in documents]
    if not documents or any(not d.strip() for d in documents):
        raise ValueError("documents must be a non-empty list of non-empty texts")
    unit = "document" if unit is None else unit
    if unit == "document":
        return TextFeatures.from_documents(documents, separator=document_separator, suffix=suffix)
    pieces: list[str] = []
    separators: list[str] = []
    for k, doc in enumerate(documents):
        doc_pieces, doc_seps = split_text(doc, unit)
        lead = doc_seps[0] if k == 0 else separators.pop() + document_separator + doc_seps[0]
        separators += [lead, *doc_seps[1:]]
        pieces += doc_pieces
    return TextFeatures(tuple(pieces), tuple(separators), unit, "", suffix)


def _check_budget(budget: Any) -> int | None:
    if budget is None:
        return None
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be a positive number of model queries, got {budget!r}")
    return int(budget)


class _FirstQuery(Exception):
    """Raised by the probe of :func:`check_design` at the solver's first query."""


def check_design(n: int, method: str, budget: int | None, max_order: int,
                 random_state: Any) -> None:
    """Run the solver up to its first query on a probe, so that a budget too small for its
    design (a :class:`~interplay.BudgetError`) is reported before the model is loaded."""

    def probe(masks: np.ndarray) -> np.ndarray:
        raise _FirstQuery

    try:
        explain(probe, n, method=method, budget=budget, max_order=max_order,
                random_state=copy.deepcopy(random_state))
    except _FirstQuery:
        return


@dataclass(frozen=True)
class ExplainedOutput:
    """The number an explanation of a text explains, and how to name it.

    Attributes
    ----------
    value : GenerativeValue or ClassifierValue
        The value function of the masks (the thing handed to :func:`interplay.explain`).
    output : str
        What its number is, in words: ``"log-probability of 'Paris' given the prompt"``,
        ``"logit of class 'positive'"``.
    record : dict
        ``answer`` and ``full_value`` (language model) or ``target`` (classifier).
    """

    value: Any
    output: str
    record: dict[str, Any]

    @property
    def features(self) -> TextFeatures:
        """The features explained: those that fit in the model's context."""
        return self.value.features

    def metadata(self, model_name: str, query: str | None) -> dict[str, Any]:
        """What a result records about its output, text and model (see :func:`explain_text`)."""
        adapter = self.value.model
        return {
            "output": self.output,
            **self.record,
            "features": self.features.to_dict(),
            "features_cut": list(self.value.features_cut),
            "query": query,
            "model_name": model_name,
            "model": adapter.identity(),
            "kind": adapter.kind,
            "mask_mode": self.value.mask_mode,
        }


def explained_output(
    adapter: Any,
    features: TextFeatures,
    *,
    answer: str | None = None,
    target: int | str | None = None,
    max_new_tokens: int = 24,
    mask_mode: str = "auto",
    mask_string: str | None = None,
    truncate: bool = False,
) -> ExplainedOutput:
    """The value function of ``features`` for a loaded model, and its output named in words.

    Generates the answer once (a language model without ``answer``) or runs the classifier
    once on the full text. Shared by :func:`explain_text` and the command line.

    Parameters
    ----------
    adapter : LanguageModel or TextClassifier
        A loaded model (:func:`~interplay.models.resolve.resolve_model`).
    features : TextFeatures
        The maskable text.
    answer, target, max_new_tokens
        As in :func:`explain_text`.
    mask_mode, mask_string, truncate
        How a masked feature is hidden, and whether features past the model's context are
        cut (see :class:`~interplay.values.text.GenerativeValue`).

    Returns
    -------
    ExplainedOutput
    """
    from interplay.values.text import ClassifierValue, GenerativeValue

    masking = {"mask_mode": mask_mode, "mask_string": mask_string, "truncate": truncate}
    if adapter.kind == "classifier":
        if answer is not None:
            raise ValueError("answer= is for language models; a classifier takes target=")
        value: Any = ClassifierValue(adapter, features, target=target, **masking)
        return ExplainedOutput(value, f"logit of class {value.target_label!r}",
                               {"target": value.target_label})
    if target is not None:
        raise ValueError("target= is for classifiers; a language model takes answer=")
    value = GenerativeValue(adapter, features, answer=answer, max_new_tokens=max_new_tokens,
                            **masking)
    quoted = value.answer if len(value.answer) <= _DESCRIBED_ANSWER else (
        value.answer[: _DESCRIBED_ANSWER - 1] + "…")
    return ExplainedOutput(value, f"log-probability of {quoted!r} given the prompt",
                           {"answer": value.answer, "full_value": value.full_value})


def explain_text(
    model: Any = None,
    context: str | None = None,
    *,
    query: str | None = None,
    documents: Sequence[str] | None = None,
    unit: str | None = None,
    answer: str | None = None,
    target: int | str | None = None,
    budget: int | None = 800,
    method: str = DEFAULT_METHOD,
    max_order: int = 4,
    random_state: int | np.random.Generator | None = 0,
    system_prompt: str | None = None,
    api_model: str | None = None,
    max_new_tokens: int = 24,
    model_options: dict[str, Any] | None = None,
    engine: EngineOptions | dict[str, Any] | None = None,
) -> Interactions:
    """Explain which parts of a context (and which combinations) drive a model's output.

    Parameters
    ----------
    model : None, str, Path, model object
        ``None``/``"smollm2"`` (embedded SmolLM2-135M-Instruct), ``"sentiment"`` (embedded
        MiniLM classifier), a local Hugging Face directory, a ``.gguf`` file, an
        OpenAI-compatible URL (with ``api_model``), a loaded transformers model (with
        ``model_options={"tokenizer": tok}``), or an interplay adapter (see
        :func:`interplay.models.resolve.resolve_model`).
    context : str, optional
        The text whose parts are explained (or give ``documents``).
    query : str, optional
        A question or instruction placed after the context and never masked.
    documents : sequence of str, optional
        Retrieved documents instead of ``context`` (one feature each by default).
    unit : {"word", "sentence", "paragraph", "document"}, optional
        Feature unit; default ``"sentence"`` for a context, ``"document"`` for documents.
    answer : str, optional
        Language model: the answer to explain (default: generated greedily once).
    target : int or str, optional
        Classifier: the class to explain (default: the predicted one).
    budget : int, optional
        Model queries to spend.
    method, max_order, random_state
        As in :func:`interplay.explain`.
    system_prompt : str, optional
        Language model: a system turn (never masked, like the chat template).
    api_model : str, optional
        The served model's name, for an endpoint URL.
    max_new_tokens : int
        Length limit of the generated answer.
    model_options : dict, optional
        More :func:`~interplay.models.resolve.resolve_model` options: ``tokenizer``,
        ``api_key``, ``api_mode``, ``device``, ``batch_size``.
    engine : EngineOptions or dict, optional
        Cache, batching and progress (see :func:`interplay.explain`).

    Returns
    -------
    Interactions
        ``metadata`` holds ``output`` (what the explained number is, in words, e.g.
        ``"log-probability of 'Paris' given the prompt"``), ``answer`` or ``target``,
        ``features`` (the text and how it was cut), ``features_cut`` (none here: a text
        longer than the model reads is an error), ``model_name`` (the model as given),
        ``model`` (its identity, for caches), ``kind``, ``mask_mode`` and ``query``.
        Displays: ``to_pandas()``, notebook HTML, ``plot_network()``, ``plot_text()``.

    Raises
    ------
    ValueError, TypeError
        Bad text, unit, budget, method or options, and
        :class:`~interplay.BudgetError` for a budget too small for the method's design:
        all before the model is loaded or queried.
    """
    from interplay.models.resolve import describe_model, resolve_model

    # everything the user typed is checked before the model is loaded or queried
    features = context_features(context, documents=documents, query=query, unit=unit)
    get_solver(method)
    budget = _check_budget(budget)
    check_design(features.n_features, method, budget, max_order, random_state)
    options = dict(model_options or {})
    unknown = sorted(set(options) - {"tokenizer", "api_key", "api_mode", "device", "batch_size"})
    if unknown:
        raise ValueError(f"model_options has unknown keys {unknown}; valid: tokenizer, "
                         "api_key, api_mode, device, batch_size")
    adapter = resolve_model(model, api_model=api_model, system_prompt=system_prompt, **options)
    explained = explained_output(adapter, features, answer=answer, target=target,
                                 max_new_tokens=max_new_tokens)
    result = explain(explained.value, explained.features.n_features, method=method,
                     budget=budget, max_order=max_order, random_state=random_state,
                     feature_names=explained.features.names(), engine=engine)
    result.metadata.update(explained.metadata(describe_model(model, api_model), query))
    return result
