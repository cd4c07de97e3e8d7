"""Hugging Face transformers adapters: sequence classifiers and causal LMs.

Both load from a local path (``from_pretrained``, never a model hub download: they pass
``local_files_only=True``) or take an already-loaded model and tokenizer. Inputs are batched
with padding under ``torch.inference_mode`` on the chosen device.

The causal-LM value is log p(answer | prompt) by teacher forcing: every masked prompt is
tokenised, the answer's token ids appended, the batch left-padded with an attention mask and
explicit position ids, and one forward pass gives the log-softmax at the answer positions.
Batches are cut from the prompts sorted by token length, their size is chosen from free
memory unless given (:func:`auto_batch_size`), and the keys and values of the tokens every
prompt starts with are computed once and reused.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from interplay.models.base import LanguageModel, TextClassifier

__all__ = [
    "HFCausalLM",
    "HFClassifier",
    "auto_batch_size",
    "check_model_path",
    "free_memory_bytes",
    "model_identity",
    "resolve_device",
]

#: Largest batch :func:`auto_batch_size` picks per device type. The engine commits results
#: per batch, and on a CPU a batch of 32 short prompts already takes seconds; on a GPU the
#: memory estimate decides, up to 512 rows.
MAX_AUTO_BATCH = {"cpu": 32, "cuda": 512}


def _torch():
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the Hugging Face adapters need torch and transformers: "
            "pip install 'interplay[llm]'"
        ) from exc
    return torch


def resolve_device(device: Any = None):
    """A ``torch.device``: ``None``/``"auto"`` picks CUDA when available, else the CPU."""
    torch = _torch()
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def free_memory_bytes(device: Any) -> int:
    """Bytes free for activations on ``device``: ``torch.cuda.mem_get_info`` on a GPU, the
    kernel's ``MemAvailable`` (or free physical pages) on the CPU."""
    torch = _torch()
    device = resolve_device(device)
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import os

    return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))


def auto_batch_size(
    model: Any,
    n_tokens: int,
    *,
    device: Any = None,
    n_answer: int = 1,
    free_bytes: int | None = None,
    memory_fraction: float = 0.5,
) -> int:
    """Rows per forward pass that fit in ``memory_fraction`` of the free memory.

    The estimate per row of ``n_tokens`` tokens is the keys and values of every layer, the
    widest activations of one layer (MLP and attention scores) and the float32 log-softmax
    over the vocabulary at the ``n_answer + 1`` kept positions, doubled for allocator slack.

    Parameters
    ----------
    model : PreTrainedModel
        Its config gives layers, widths, heads and vocabulary; its parameters the dtype.
    n_tokens : int
        Tokens of the longest row (prompt + answer).
    device : str or torch.device, optional
        Where the model runs (default: the model's own device).
    n_answer : int
        Answer tokens scored per row.
    free_bytes : int, optional
        Free memory to plan for (default: :func:`free_memory_bytes` of ``device``).
    memory_fraction : float
        Share of the free memory the batch may use, in (0, 1].

    Returns
    -------
    int
        Between 1 and ``MAX_AUTO_BATCH`` for the device type (32 on a CPU, 512 on a GPU).
    """
    if int(n_tokens) < 1:
        raise ValueError(f"n_tokens must be positive, got {n_tokens}")
    if not 0 < float(memory_fraction) <= 1:
        raise ValueError(f"memory_fraction must be in (0, 1], got {memory_fraction}")
    if device is None:
        device = next(iter(model.parameters())).device
    device = resolve_device(device)
    if free_bytes is None:
        free_bytes = free_memory_bytes(device)
    config = model.config
    hidden = int(getattr(config, "hidden_size", None) or getattr(config, "n_embd", 1))
    layers = int(getattr(config, "num_hidden_layers", None) or getattr(config, "n_layer", 1))
    heads = int(getattr(config, "num_attention_heads", None) or getattr(config, "n_head", 1))
    kv_heads = int(getattr(config, "num_key_value_heads", None) or heads)
    inner = int(getattr(config, "intermediate_size", None) or getattr(config, "n_inner", None)
                or 4 * hidden)
    vocab = int(getattr(config, "vocab_size", 1))
    item = next(iter(model.parameters())).element_size()
    t = int(n_tokens)
    kv = 2 * layers * kv_heads * (hidden // heads) * t * item
    activations = (4 * hidden + 3 * inner) * t * item + heads * t * t * 4
    logits = 2 * (int(n_answer) + 1) * vocab * 4
    per_row = 2 * (kv + activations + logits)
    fits = int(float(memory_fraction) * int(free_bytes) // per_row)
    return max(1, min(fits, MAX_AUTO_BATCH.get(device.type, MAX_AUTO_BATCH["cuda"])))


def check_batch_size(batch_size: Any, *, allow_auto: bool) -> int | None:
    """``batch_size`` as a positive int (or ``None`` = chosen from free memory, where allowed)."""
    if batch_size is None and allow_auto:
        return None
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
        batch_size < 1
    ):
        auto = " or None (chosen from free memory)" if allow_auto else ""
        raise ValueError(f"batch_size must be a positive int{auto}, got {batch_size!r}")
    return int(batch_size)


def model_identity(model: Any, kind: str) -> str:
    """A stable identity string of a loaded model: name, config, and a sample of its weights."""
    config = getattr(model, "config", None)
    name = str(getattr(config, "_name_or_path", "") or type(model).__name__)
    digest = hashlib.sha256()
    if config is not None:
        digest.update(config.to_json_string(use_diff=False).encode("utf-8"))
    torch = _torch()
    with torch.no_grad():
        for param in list(model.parameters())[:: max(1, len(list(model.parameters())) // 8)]:
            flat = param.detach().reshape(-1)
            sample = flat[:: max(1, flat.numel() // 2048)].float().cpu().numpy()
            digest.update(sample.tobytes())
    return f"{kind}:{name}:{digest.hexdigest()[:16]}"


def _load_tokenizer(path: Any, tokenizer: Any, **kwargs: Any):
    if tokenizer is not None and not isinstance(tokenizer, (str, Path)):
        return tokenizer
    from transformers import AutoTokenizer

    source = str(tokenizer if tokenizer is not None else path)
    return AutoTokenizer.from_pretrained(source, local_files_only=True, **kwargs)


def _positions_limit(model: Any, tokenizer: Any) -> int | None:
    """Tokens a transformers model can read: its position table and the tokenizer's limit
    (whichever is smaller; tokenizers without a limit report a huge sentinel)."""
    config = getattr(model, "config", None)
    limits = [
        getattr(config, name, None)
        for name in ("max_position_embeddings", "n_positions", "max_sequence_length")
    ]
    limits.append(getattr(tokenizer, "model_max_length", None))
    known = [int(x) for x in limits if isinstance(x, int) and 0 < x < 10**8]
    return min(known) if known else None


def check_model_path(path: Any) -> str:
    """``path`` as a string when a local model directory or file exists there; otherwise a
    FileNotFoundError that says how to get one (interplay never downloads models)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(
            f"no model at {str(path)!r}: give a local directory saved with save_pretrained "
            "(interplay never downloads models; copy one there first, e.g. with "
            "`huggingface-cli download NAME --local-dir DIR` on a machine with network)"
        )
    return str(p)


class _HFBase:
    def _setup(
        self, device: Any, batch_size: int | None, num_threads: int | None, *,
        allow_auto: bool = False,
    ) -> None:
        torch = _torch()
        self.batch_size = check_batch_size(batch_size, allow_auto=allow_auto)
        if num_threads is not None:
            torch.set_num_threads(int(num_threads))
        self.device = resolve_device(device)
        self.model.to(self.device)
        self.model.eval()
        self._identity: str | None = None


class HFClassifier(_HFBase, TextClassifier):
    """A transformers sequence classifier.

    Parameters
    ----------
    model : str, Path or PreTrainedModel
        A local directory (loaded with ``AutoModelForSequenceClassification``) or a model.
    tokenizer : str, Path or tokenizer, optional
        Defaults to the tokenizer saved with the model.
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ...; default: CUDA when available.
    batch_size : int
        Texts per forward pass.
    max_length : int
        Longer texts are truncated to this many tokens.
    num_threads : int, optional
        If given, ``torch.set_num_threads(num_threads)``.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        device: Any = None,
        batch_size: int = 32,
        max_length: int = 512,
        num_threads: int | None = None,
    ) -> None:
        if isinstance(model, (str, Path)):
            from transformers import AutoModelForSequenceClassification

            path = check_model_path(model)
            self.model = AutoModelForSequenceClassification.from_pretrained(
                path, local_files_only=True
            )
            self.tokenizer = _load_tokenizer(path, tokenizer)
        else:
            if tokenizer is None:
                raise ValueError("a loaded model needs its tokenizer: pass tokenizer=...")
            self.model = model
            self.tokenizer = _load_tokenizer(None, tokenizer)
        self.max_length = int(max_length)
        self._setup(device, batch_size, num_threads)
        id2label = getattr(self.model.config, "id2label", None) or {}
        n_labels = int(getattr(self.model.config, "num_labels", len(id2label)))
        self.labels = [str(id2label.get(i, f"LABEL_{i}")) for i in range(n_labels)]
        self.mask_token = getattr(self.tokenizer, "mask_token", None)
        self.default_mask_mode = "replace" if self.mask_token else "remove"

    def predict_logits(self, texts: Sequence[str]) -> np.ndarray:
        """(N, C) float array of logits."""
        torch = _torch()
        # an empty text (every feature removed) becomes the tokenizer's "nothing" token when
        # the tokenizer adds no special tokens of its own
        blank = self.tokenizer.pad_token or self.tokenizer.eos_token or "."
        texts = [t if t.strip() else blank for t in texts]
        max_length = min(self.max_length, self.context_limit() or self.max_length)
        out = np.zeros((len(texts), len(self.labels)))
        order = np.argsort([len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), self.batch_size):
                rows = order[start : start + self.batch_size]
                enc = self.tokenizer(
                    [texts[i] for i in rows],
                    padding=True,
                    truncation=True,
                    max_length=max_length,
                    return_tensors="pt",
                ).to(self.device)
                logits = self.model(**enc).logits
                out[rows] = logits.float().cpu().numpy()
        return out

    def identity(self) -> str:
        if self._identity is None:
            self._identity = model_identity(self.model, "hf-classifier")
        return self._identity

    def context_limit(self) -> int | None:
        """``max_length``, or less when the model's position table is shorter."""
        limit = _positions_limit(self.model, self.tokenizer)
        return self.max_length if limit is None else min(limit, self.max_length)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with the special tokens, before any truncation."""
        return len(self.tokenizer(text, truncation=False)["input_ids"])


class HFCausalLM(_HFBase, LanguageModel):
    """A transformers causal LM scored by teacher forcing.

    Parameters
    ----------
    model : str, Path or PreTrainedModel
        A local directory (loaded with ``AutoModelForCausalLM``) or a loaded model.
    tokenizer : str, Path or tokenizer, optional
        Defaults to the tokenizer saved with the model.
    device : str or torch.device, optional
        Default: CUDA when available, else the CPU.
    batch_size : int, optional
        Masked prompts per forward pass. Default: chosen per call from the free memory and
        the longest prompt (:func:`auto_batch_size`; at most 32 on a CPU, 512 on a GPU).
    chat_template : bool, optional
        Wrap prompts in the tokenizer's chat template as one user turn (default: when the
        tokenizer has one, i.e. for instruct models).
    system_prompt : str, optional
        A system turn placed before the user turn (chat template only).
    dtype : torch.dtype or str, optional
        Weights' dtype when loading from a path (default float32; use bfloat16 on GPUs).
    num_threads : int, optional
        If given, ``torch.set_num_threads(num_threads)``.
    prefix_cache : bool
        Run the tokens every prompt starts with (chat template, system prompt, unmasked
        leading text) once per explanation, keep their keys and values, and expand them over
        each batch. Exact (the tests check it against the uncached path to 1e-4); with half
        of each prompt shared it cut SmolLM2's CPU time per query by 40 %. An architecture
        whose forward pass rejects the cache falls back to full passes with a warning.

    Attributes
    ----------
    prefix_forwards : int
        Forward passes spent on shared prefixes so far (one per explanation when the cache
        is reused).

    Notes
    -----
    Prompts are tokenised together, sorted by token length and cut into batches of similar
    length, so little of a batch is padding; results come back in the order of the prompts.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        device: Any = None,
        batch_size: int | None = None,
        chat_template: bool | None = None,
        system_prompt: str | None = None,
        dtype: Any = None,
        num_threads: int | None = None,
        prefix_cache: bool = True,
    ) -> None:
        torch = _torch()
        if isinstance(model, (str, Path)):
            from transformers import AutoModelForCausalLM

            path = check_model_path(model)
            if isinstance(dtype, str):
                dtype = getattr(torch, dtype)
            self.model = AutoModelForCausalLM.from_pretrained(
                path, local_files_only=True, dtype=dtype or torch.float32
            )
            self.tokenizer = _load_tokenizer(path, tokenizer)
        else:
            if tokenizer is None:
                raise ValueError("a loaded model needs its tokenizer: pass tokenizer=...")
            self.model = model
            self.tokenizer = _load_tokenizer(None, tokenizer)
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        if chat_template is None:
            chat_template = has_template
        if chat_template and not has_template:
            raise ValueError("chat_template=True but the tokenizer has no chat template")
        self.chat_template = bool(chat_template)
        self.system_prompt = system_prompt
        self.prefix_cache = bool(prefix_cache)
        self._setup(device, batch_size, num_threads, allow_auto=True)
        self._prefix_kv_store: tuple[tuple[int, ...], Any] | None = None  # (ids, their cache)
        self.prefix_forwards = 0  # forward passes spent on shared prefixes (for tests)
        self._answer_ids: dict[str, list[int]] = {}  # answer text -> the ids it is scored on
        import inspect

        params = inspect.signature(self.model.forward).parameters
        self._keeps_logits = "logits_to_keep" in params
        self._cache_arg = "cache" if "cache" in params else "past_key_values"

    # ------------------------------------------------------------- prompts
    def format_prompt(self, text: str) -> str:
        """The prompt string sent to the tokenizer (chat template applied when enabled)."""
        if not self.chat_template:
            return text
        messages = []
        if self.system_prompt is not None:
            messages.append({"role": "system", "content": self.system_prompt})
        messages.append({"role": "user", "content": text})
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True
        )

    def _prompt_ids(self, text: str) -> list[int]:
        return self._prompts_ids([text])[0]

    def _prompts_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each formatted prompt, tokenised in one call."""
        if not texts:
            return []
        formatted = [self.format_prompt(t) for t in texts]
        encoded = self.tokenizer(formatted, add_special_tokens=not self.chat_template)
        start = self.tokenizer.bos_token_id
        if start is None:
            start = self.tokenizer.eos_token_id
        # an empty prompt conditions on a start token
        return [list(ids) or [int(start if start is not None else 0)]
                for ids in encoded["input_ids"]]

    def answer_token_ids(self, answer: str) -> list[int]:
        """Token ids ``answer`` is scored on: the ids the model generated for it (or fixed by
        :meth:`prepare_answer`), else the answer tokenised on its own."""
        if answer in self._answer_ids:
            return list(self._answer_ids[answer])
        ids = list(self.tokenizer(answer, add_special_tokens=False)["input_ids"])
        if not ids:
            raise ValueError("the answer has no tokens")
        return ids

    def prepare_answer(self, prompt: str, answer: str, *, max_new_tokens: int = 32) -> int:
        """Fix the token ids a given ``answer`` is scored on; return their number.

        A text has many tokenisations and a model does not always generate the shortest
        one (SmolLM2 writes "newline" as "new" + "line"). So the answer is scored on the ids
        the model itself generates from the full ``prompt`` when its greedy answer starts
        with ``answer`` (one generation of the answer's length), exactly as if it had been
        generated; otherwise on ``answer`` tokenised after the prompt, as it would be read.
        """
        joint = self._ids_after_prompt(prompt, answer)
        room = self._room_after(prompt)
        generated = self._generate_ids(prompt, max(1, min(len(joint) + 8, room)))
        ids = joint
        for k in range(1, len(generated) + 1):
            text = self.tokenizer.decode(generated[:k], skip_special_tokens=True)
            if text == answer:
                ids = generated[:k]
                break
            if not answer.startswith(text):
                break
        self._answer_ids[answer] = ids
        return len(ids)

    def _ids_after_prompt(self, prompt: str, answer: str) -> list[int]:
        """``answer``'s ids when tokenised together with the formatted ``prompt``."""
        prompt_ids = self._prompt_ids(prompt)
        joint = self.tokenizer(
            self.format_prompt(prompt) + answer, add_special_tokens=not self.chat_template
        )["input_ids"]
        joint = [int(t) for t in joint]
        if joint[: len(prompt_ids)] == prompt_ids and len(joint) > len(prompt_ids):
            return joint[len(prompt_ids) :]
        return self.answer_token_ids(answer)

    def _room_after(self, prompt: str) -> int:
        limit = self.context_limit()
        return 10**9 if limit is None else limit - self.count_tokens(prompt)

    def count_tokens(self, text: str) -> int:
        """Number of prompt tokens the model sees for ``text``."""
        return len(self._prompt_ids(text))

    def context_limit(self) -> int | None:
        """Tokens the model can read (prompt + answer): its position table or the
        tokenizer's limit."""
        return _positions_limit(self.model, self.tokenizer)

    # ----------------------------------------------------------- generation
    def generate(self, prompt: str, *, max_new_tokens: int = 32) -> str:
        """Greedy answer to ``prompt``, without special tokens."""
        new = self._generate_ids(prompt, max_new_tokens)
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        if new and text.strip():
            self._answer_ids[text] = new
        return text

    def _generate_ids(self, prompt: str, max_new_tokens: int) -> list[int]:
        """The greedy answer's token ids, without leading or trailing special tokens."""
        torch = _torch()
        ids = torch.tensor([self._prompt_ids(prompt)], device=self.device)
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=int(max_new_tokens),
                do_sample=False,
                pad_token_id=pad,
            )
        new = [int(t) for t in out[0, ids.shape[1] :].tolist()]
        special = set(self.tokenizer.all_special_ids)
        while new and new[-1] in special:  # end-of-turn / end-of-text / padding
            new.pop()
        while new and new[0] in special:
            new.pop(0)
        return new

    # --------------------------------------------------------------- scoring
    def token_logprobs(self, prompts: Sequence[str], answer: str) -> np.ndarray:
        """(N, A) float array: log p(answer token j | prompt, answer tokens < j).

        Rows are computed in batches of similar token length and returned in prompt order.
        """
        answer_ids = self.answer_token_ids(answer)
        n_answer = len(answer_ids)
        sequences = [ids + answer_ids for ids in self._prompts_ids(prompts)]
        lengths = np.array([len(s) for s in sequences])
        order = np.argsort(lengths, kind="stable")
        out = np.zeros((len(sequences), n_answer))
        prefix, cache = self._reusable_prefix(sequences, n_answer)
        batch_size = self.batch_size or auto_batch_size(
            self.model, int(lengths.max()) if lengths.size else 1, device=self.device,
            n_answer=n_answer,
        )
        for start in range(0, len(sequences), batch_size):
            rows = order[start : start + batch_size]
            batch = [sequences[i] for i in rows]
            if cache is not None:
                try:
                    out[rows] = self._forward(batch, answer_ids, prefix, cache)
                    continue
                except Exception as exc:  # noqa: BLE001 - an architecture without cache support
                    import warnings

                    warnings.warn(f"prefix caching disabled for this model ({exc})", stacklevel=2)
                    self.prefix_cache, cache, prefix = False, None, 0
                    self._prefix_kv_store = None
            out[rows] = self._forward(batch, answer_ids, 0, None)
        return out

    def _reusable_prefix(self, sequences: list[list[int]], n_answer: int) -> tuple[int, Any]:
        """(tokens, cache): the keys and values of a prefix every sequence starts with.

        The cache of the last prefix is kept, so an explanation, whose prompts all start with
        the same unmasked tokens, runs them once; a new prefix replaces it.
        """
        if not self.prefix_cache or len(sequences) < 2:
            return 0, None
        shared = self._shared_prefix(sequences, n_answer)
        if not shared:
            return 0, None
        stored = self._prefix_kv_store
        if stored is not None:
            ids, cache = stored
            if len(ids) <= shared and tuple(sequences[0][: len(ids)]) == ids:
                return len(ids), cache
        ids = tuple(sequences[0][:shared])
        self._prefix_kv_store = (ids, self._prefix_kv(list(ids)))
        return shared, self._prefix_kv_store[1]

    @staticmethod
    def _shared_prefix(sequences: list[list[int]], n_answer: int) -> int:
        """Tokens shared by every sequence's start, leaving ≥ 1 prompt token to each row."""
        first = np.array(sequences[0])
        shared = len(first)
        for seq in sequences[1:]:
            m = min(shared, len(seq))
            diff = np.flatnonzero(np.array(seq[:m]) != first[:m])
            shared = int(diff[0]) if diff.size else m
        shared = min(shared, min(len(s) for s in sequences) - n_answer - 1)
        return shared if shared >= 8 else 0

    def _prefix_kv(self, prefix_ids: list[int]):
        torch = _torch()
        with torch.inference_mode():
            ids = torch.tensor([prefix_ids], device=self.device)
            out = self.model(input_ids=ids, use_cache=True)
        self.prefix_forwards += 1
        # transformers ≥ 5.2x names it ``cache``, earlier versions ``past_key_values``
        cache = out.get("cache")
        return cache if cache is not None else out.get("past_key_values")

    def _forward(self, batch: list[list[int]], answer_ids: list[int], prefix: int, cache: Any):
        """Log-probs (B, A) of the answer tokens for token sequences sharing ``prefix`` tokens
        whose keys and values are in ``cache`` (left padding sits between prefix and rest)."""
        import copy

        torch = _torch()
        n_answer = len(answer_ids)
        pad = self.tokenizer.pad_token_id
        if pad is None:
            pad = self.tokenizer.eos_token_id or 0
        width = max(len(s) for s in batch) - prefix
        input_ids = torch.full((len(batch), width), int(pad), dtype=torch.long)
        attention = torch.zeros((len(batch), width), dtype=torch.long)
        for r, seq in enumerate(batch):  # left padding
            rest = seq[prefix:]
            input_ids[r, width - len(rest) :] = torch.tensor(rest)
            attention[r, width - len(rest) :] = 1
        positions = prefix + (attention.cumsum(dim=1) - 1).clamp(min=0)
        kwargs: dict[str, Any] = {"use_cache": False}
        if self._keeps_logits:
            kwargs["logits_to_keep"] = n_answer + 1
        if cache is not None:
            past = copy.deepcopy(cache)
            past.batch_repeat_interleave(len(batch))
            attention = torch.cat(
                [torch.ones((len(batch), prefix), dtype=torch.long), attention], dim=1
            )
            kwargs.update({self._cache_arg: past, "use_cache": True})
        target = torch.tensor(answer_ids, device=self.device)
        with torch.inference_mode():
            logits = self.model(
                input_ids=input_ids.to(self.device),
                attention_mask=attention.to(self.device),
                position_ids=positions.to(self.device),
                **kwargs,
            ).logits
            # logits at position t predict token t+1: the n_answer positions before the end
            logp = torch.log_softmax(logits[:, -(n_answer + 1) : -1].float(), dim=-1)
            picked = logp.gather(2, target.expand(len(batch), -1).unsqueeze(-1))[..., 0]
        return picked.cpu().numpy()

    def answer_logprobs(self, prompts: Sequence[str], answer: str) -> np.ndarray:
        """(N,) float array: log p(answer | prompt), summed over the answer's tokens."""
        return self.token_logprobs(prompts, answer).sum(axis=1)

    def identity(self) -> str:
        if self._identity is None:
            self._identity = model_identity(self.model, "hf-causal-lm")
            extra = f"{self.chat_template}|{self.system_prompt}"
            self._identity += ":" + hashlib.sha256(extra.encode()).hexdigest()[:8]
        return self._identity
