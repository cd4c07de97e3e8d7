"""GGUF model files (llama.cpp's format) through transformers' own GGUF loader.

No compiled llama.cpp is needed: ``from_pretrained(dir, gguf_file=name)`` dequantizes the
weights into a regular torch model (this needs the ``gguf`` and ``accelerate`` packages and
takes ~15–60 s for a 135M model on a busy CPU). The dequantized model and its tokenizer are
then saved to a local cache directory, so later runs load them in about a second.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from interplay.models.hf import HFCausalLM

__all__ = ["GGUFCausalLM", "default_cache_dir", "gguf_cache_key", "load_gguf"]


def default_cache_dir() -> Path:
    """``$INTERPLAY_CACHE`` if set, else ``$XDG_CACHE_HOME/interplay`` (``~/.cache/interplay``)."""
    env = os.environ.get("INTERPLAY_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "interplay"


def gguf_cache_key(path: str | Path) -> str:
    """A content key of a GGUF file: its size and hashes of its first and last MiB."""
    path = Path(path)
    size = path.stat().st_size
    digest = hashlib.sha256(str(size).encode())
    with path.open("rb") as fh:
        digest.update(fh.read(1 << 20))
        fh.seek(max(0, size - (1 << 20)))
        digest.update(fh.read(1 << 20))
    return f"{path.stem}-{digest.hexdigest()[:16]}"


def load_gguf(
    path: str | Path, *, cache_dir: str | Path | None = None, use_cache: bool = True
) -> tuple[Any, Any]:
    """Load a GGUF file as a float32 transformers causal LM and its tokenizer.

    Parameters
    ----------
    path : str or Path
        The ``.gguf`` file.
    cache_dir : str or Path, optional
        Where the dequantized copy lives (default :func:`default_cache_dir` ``/gguf``).
    use_cache : bool
        Read and write the dequantized copy. ``False`` always dequantizes.

    Returns
    -------
    model, tokenizer
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no GGUF file at {str(path)!r}")
    cached = None
    if use_cache:
        root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
        cached = root / "gguf" / gguf_cache_key(path)
        if (cached / "config.json").is_file() and (cached / "tokenizer_config.json").is_file():
            model = AutoModelForCausalLM.from_pretrained(
                cached, local_files_only=True, dtype=torch.float32
            )
            tokenizer = AutoTokenizer.from_pretrained(cached, local_files_only=True)
            return model, tokenizer
    try:
        import accelerate  # noqa: F401
        import gguf  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "loading GGUF files needs the gguf and accelerate packages: "
            "pip install gguf accelerate"
        ) from exc
    directory, name = str(path.parent), path.name
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        directory, gguf_file=name, local_files_only=True, dtype=torch.float32
    )
    # a dequantized model is a plain float model: drop the GGUF quantizer before saving
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    if hasattr(model, "is_quantized"):
        try:
            model.is_quantized = False
        except AttributeError:  # a read-only property in some versions
            pass
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=cached.parent, prefix=".tmp-"))
        try:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            if cached.exists():  # another process won the race
                shutil.rmtree(tmp)
            else:
                tmp.replace(cached)
        except Exception:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return model, tokenizer


class GGUFCausalLM(HFCausalLM):
    """A causal LM from a GGUF file, scored by teacher forcing like :class:`HFCausalLM`.

    Parameters
    ----------
    path : str or Path
        The ``.gguf`` file.
    cache_dir : str or Path, optional
        Directory of the dequantized copy (see :func:`load_gguf`).
    use_cache : bool
        Keep a dequantized copy for fast later loads.
    **kwargs
        :class:`HFCausalLM` options (``device``, ``batch_size``, ``chat_template``,
        ``system_prompt``, ``num_threads``).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        cache_dir: str | Path | None = None,
        use_cache: bool = True,
        **kwargs: Any,
    ) -> None:
        model, tokenizer = load_gguf(path, cache_dir=cache_dir, use_cache=use_cache)
        self.gguf_path = Path(path)
        super().__init__(model, tokenizer, **kwargs)
