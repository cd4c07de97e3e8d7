"""Model adapters: a batch of texts in, numbers out (see :mod:`interplay.models.base`).

The light interface classes are imported here; the adapters that need torch, transformers or
openai are loaded on first access (``interplay.models.HFCausalLM`` imports
:mod:`interplay.models.hf`).
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from interplay.models.base import (
    FunctionClassifier,
    FunctionLanguageModel,
    LanguageModel,
    TextClassifier,
    TextModel,
)

_LAZY = {
    "HFCausalLM": "hf",
    "HFClassifier": "hf",
    "GGUFCausalLM": "gguf",
    "OpenAICompatLM": "openai_compat",
    "MiniLMSentiment": "embedded",
    "load_smollm2": "embedded",
    "HFImageClassifier": "hf_vision",
    "HFCLIPClassifier": "hf_vision",
    "HFVisionLanguageModel": "hf_vision",
    "EfficientNetLite0": "efficientnet",
}

__all__ = [
    "EfficientNetLite0",
    "FunctionClassifier",
    "FunctionLanguageModel",
    "GGUFCausalLM",
    "HFCLIPClassifier",
    "HFCausalLM",
    "HFClassifier",
    "HFImageClassifier",
    "HFVisionLanguageModel",
    "LanguageModel",
    "MiniLMSentiment",
    "OpenAICompatLM",
    "TextClassifier",
    "TextModel",
    "load_smollm2",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"interplay.models.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'interplay.models' has no attribute {name!r}")
