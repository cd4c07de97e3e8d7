"""Turn what a user names as "the model" into a model adapter.

One function, :func:`resolve_model`, for the Python API and the command line: a name of an
embedded model, a local Hugging Face directory, a ``.gguf`` file, the URL of an
OpenAI-compatible server, a loaded transformers model, or an adapter (returned as is).
Nothing is ever downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interplay.models.base import TextModel

__all__ = [
    "EMBEDDED_CLASSIFIER",
    "EMBEDDED_IMAGE_CLASSIFIER",
    "EMBEDDED_LM",
    "describe_model",
    "image_model_kind",
    "model_kind",
    "resolve_image_model",
    "resolve_model",
]

EMBEDDED_LM = "smollm2"
EMBEDDED_CLASSIFIER = "sentiment"
EMBEDDED_IMAGE_CLASSIFIER = "efficientnet"


def _is_endpoint(model: Any) -> bool:
    return isinstance(model, str) and model.startswith(("http://", "https://"))


def _names_classifier(architectures: Any) -> bool:
    return any(str(a).endswith("ForSequenceClassification") for a in architectures or [])


def _architectures(path: Path) -> list[str]:
    """The ``architectures`` of a model directory's ``config.json`` (none: ``[]``)."""
    config = path / "config.json"
    if not config.is_file():
        return []
    try:
        architectures = json.loads(config.read_text(encoding="utf-8")).get("architectures")
    except (ValueError, AttributeError) as exc:
        raise ValueError(f"{config} is not a valid model config ({exc})") from None
    return [str(a) for a in architectures or []]


def _directory_is_classifier(path: Path) -> bool:
    return _names_classifier(_architectures(path))


def _checked_path(path: Path, name: str) -> Path:
    """``path`` when it names an existing .gguf file or model directory, else a clear error."""
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(f"no GGUF file at {name!r}")
        return path
    if not path.exists():
        raise FileNotFoundError(
            f"model {name!r} is neither '{EMBEDDED_LM}', '{EMBEDDED_CLASSIFIER}', an endpoint "
            "URL, a local model directory nor a .gguf file (interplay never downloads models)"
        )
    return path


def model_kind(model: Any = None) -> str:
    """``"generative"`` or ``"classifier"``: what :func:`resolve_model` would return for a
    name, a path or an endpoint URL, found without loading anything.

    Raises
    ------
    FileNotFoundError
        A path that does not exist.
    ValueError
        A model directory whose ``config.json`` cannot be read.
    TypeError
        ``model`` is not a name, a path or a URL (ask the loaded object instead).
    """
    if model is None or model == EMBEDDED_LM or _is_endpoint(model):
        return "generative"
    if model == EMBEDDED_CLASSIFIER:
        return "classifier"
    if not isinstance(model, (str, Path)):
        raise TypeError(f"model_kind takes a name, path or URL, got {type(model).__name__}")
    path = _checked_path(Path(model).expanduser(), str(model))
    if path.suffix != ".gguf" and _directory_is_classifier(path):
        return "classifier"
    return "generative"


def resolve_model(
    model: Any = None,
    *,
    tokenizer: Any = None,
    api_model: str | None = None,
    api_key: str | None = None,
    api_mode: str = "completions",
    system_prompt: str | None = None,
    device: Any = None,
    batch_size: int | None = None,
    timeout: float = 30.0,
    max_retry_time: float | None = None,
) -> TextModel:
    """The model adapter ``model`` names.

    Parameters
    ----------
    model : None, str, Path, TextModel or transformers model
        ``None`` or ``"smollm2"``: the embedded SmolLM2-135M-Instruct; ``"sentiment"``: the
        embedded MiniLM sentiment classifier; a local Hugging Face model directory (a
        sequence classifier when its config says so, else a causal LM); a ``.gguf`` file;
        ``"http(s)://host/v1"``: an OpenAI-compatible server (needs ``api_model``); a
        loaded transformers model (needs ``tokenizer``); or a
        :class:`~interplay.models.base.TextModel` adapter, returned unchanged.
    tokenizer : optional
        The tokenizer of a loaded transformers model (or a path to one).
    api_model : str, optional
        The model name served at the endpoint.
    api_key : str, optional
        The endpoint's key (default ``$OPENAI_API_KEY``).
    api_mode : {"completions", "chat"}
        How the endpoint scores an answer (see :class:`~interplay.models.OpenAICompatLM`).
    system_prompt : str, optional
        A system turn before the user turn (language models with a chat template).
    device : str, optional
        ``"cpu"``, ``"cuda"``, ... (default: CUDA when available).
    batch_size : int, optional
        Texts per forward pass (default: language models choose it from free memory on
        each call, classifiers use 32).
    timeout : float
        Endpoint: seconds one request may take.
    max_retry_time : float, optional
        Endpoint: seconds a failing server is retried before giving up (default: the
        adapter's own).

    Returns
    -------
    TextModel
        A :class:`~interplay.models.base.LanguageModel` or
        :class:`~interplay.models.base.TextClassifier`.

    Raises
    ------
    ValueError
        ``api_model`` missing for an endpoint, or given for something else.
    FileNotFoundError
        A path that does not exist, or an embedded model that is not installed.
    TypeError
        An object that is none of the above.
    """
    if _is_endpoint(model):
        if not api_model:
            raise ValueError(f"the endpoint {model!r} needs api_model='NAME' (the served model)")
        from interplay.models.openai_compat import OpenAICompatLM

        retry = {} if max_retry_time is None else {"max_retry_time": max_retry_time}
        return OpenAICompatLM(model, api_model, api_key=api_key, mode=api_mode,
                              system_prompt=system_prompt, timeout=timeout, **retry)
    if api_model is not None:
        raise ValueError("api_model is only used with an endpoint URL (model='http://.../v1')")
    if isinstance(model, TextModel):
        if tokenizer is not None:
            raise ValueError("tokenizer is only used with a loaded transformers model")
        return model
    common = {"device": device, "batch_size": batch_size}
    if model is None or model == EMBEDDED_LM:
        from interplay.models.embedded import load_smollm2

        return load_smollm2(system_prompt=system_prompt, **common)
    if model == EMBEDDED_CLASSIFIER:
        from interplay.models.embedded import MiniLMSentiment

        return MiniLMSentiment(device=device, batch_size=max(batch_size or 32, 32))
    if isinstance(model, (str, Path)):
        return _from_path(Path(model).expanduser(), str(model), tokenizer, system_prompt, common)
    if hasattr(model, "config") and hasattr(model, "forward"):
        from interplay.models.hf import HFCausalLM, HFClassifier

        config = model.config
        if _names_classifier(getattr(config, "architectures", None)) or type(
            model
        ).__name__.endswith("ForSequenceClassification"):
            return HFClassifier(model, tokenizer, **_classifier_options(common))
        return HFCausalLM(model, tokenizer, system_prompt=system_prompt, **common)
    raise TypeError(
        f"model must be None, '{EMBEDDED_LM}', '{EMBEDDED_CLASSIFIER}', a path, an endpoint URL, "
        f"a transformers model or an interplay TextModel; got {type(model).__name__}"
    )


def _classifier_options(common: dict[str, Any]) -> dict[str, Any]:
    """``common`` with a classifier's default batch size (32) where none was given."""
    return {**common, "batch_size": common["batch_size"] or 32}


def _from_path(path: Path, name: str, tokenizer: Any, system_prompt: str | None,
               common: dict[str, Any]) -> TextModel:
    path = _checked_path(path, name)
    if path.suffix == ".gguf":
        from interplay.models.gguf import GGUFCausalLM

        return GGUFCausalLM(path, system_prompt=system_prompt, **common)
    from interplay.models.hf import HFCausalLM, HFClassifier

    if _directory_is_classifier(path):
        return HFClassifier(path, tokenizer, **_classifier_options(common))
    return HFCausalLM(path, tokenizer, system_prompt=system_prompt, **common)


def describe_model(model: Any, api_model: str | None = None) -> str:
    """The model as the user named it: the string or path given, ``"smollm2"`` for None,
    ``"NAME at URL"`` for an endpoint, else the object's ``name_or_path`` or identity."""
    if model is None:
        return EMBEDDED_LM
    if _is_endpoint(model):
        return f"{api_model} at {model}"
    if isinstance(model, (str, Path)):
        return str(model)
    config = getattr(model, "config", None)
    name = getattr(config, "name_or_path", None) or getattr(model, "name_or_path", None)
    if name:
        return str(name)
    identity = getattr(model, "identity", None)
    return identity() if callable(identity) else type(model).__name__


def image_model_kind(model: Any = None) -> str:
    """``"classifier"`` or ``"vision-language"``: what :func:`resolve_image_model` would
    return for a name or a directory, found without loading anything.

    Raises
    ------
    FileNotFoundError
        A directory that does not exist.
    ValueError
        A directory whose ``config.json`` names neither an image classifier
        (``...ForImageClassification``) nor a vision-language model
        (``...ForConditionalGeneration``, ``...ForImageTextToText``).
    """
    if model is None or model == EMBEDDED_IMAGE_CLASSIFIER:
        return "classifier"
    path = Path(model).expanduser()
    if not path.is_dir():
        raise FileNotFoundError(
            f"image model {str(model)!r} is neither '{EMBEDDED_IMAGE_CLASSIFIER}' nor a local "
            "model directory (interplay never downloads models)"
        )
    architectures = _architectures(path)
    if any(a.endswith("ForImageClassification") for a in architectures):
        return "classifier"
    if any(a.endswith(("ForConditionalGeneration", "ForImageTextToText"))
           for a in architectures):
        return "vision-language"
    raise ValueError(
        f"the model directory {str(model)!r} is not an image classifier or a vision-language "
        f"model (its config names {architectures or 'no architecture'})"
    )


def resolve_image_model(model: Any = None, *, device: Any = None, batch_size: int = 16,
                        num_threads: int | None = None) -> Any:
    """The image model adapter ``model`` names.

    Parameters
    ----------
    model : None, str or Path
        ``None`` or ``"efficientnet"``: the embedded EfficientNet-Lite0 (ImageNet); a local
        Hugging Face image-classification directory; or a local vision-language model
        directory (see :func:`image_model_kind`).
    device, batch_size, num_threads
        As in the adapters.

    Returns
    -------
    ImageClassifier or VisionLanguageModel
    """
    kind = image_model_kind(model)
    common = {"device": device, "batch_size": batch_size, "num_threads": num_threads}
    if model is None or model == EMBEDDED_IMAGE_CLASSIFIER:
        from interplay.models.efficientnet import EfficientNetLite0

        return EfficientNetLite0(**common)
    from interplay.models.hf_vision import HFImageClassifier, HFVisionLanguageModel

    path = Path(model).expanduser()
    return HFImageClassifier(path, **common) if kind == "classifier" \
        else HFVisionLanguageModel(path, **common)
