"""Hugging Face transformers adapters for images: classifiers, CLIP, vision-language models.

Each loads from a local directory (``from_pretrained(..., local_files_only=True)``, never a
model hub download) or takes an already-loaded model and its processor. Images are (N, H, W, C)
arrays, channels last, handed to the processor as they are (uint8 0–255 is what image
processors expect); inputs are batched under ``torch.inference_mode`` on the chosen device.

- :class:`HFImageClassifier`: ``AutoModelForImageClassification`` (ViT, ConvNeXt, ...): its
  logits.
- :class:`HFCLIPClassifier`: a CLIP-style dual encoder (``CLIPModel``, ``SiglipModel``) read as
  a zero-shot classifier over the texts it is given: logit k is the model's scaled
  image–text similarity with text k (``logits_per_image``). The texts are embedded once.
- :class:`HFVisionLanguageModel`: ``AutoModelForImageTextToText`` (LLaVA, PaliGemma, Idefics,
  SmolVLM, ...): log p(answer | image, question) by teacher forcing, one forward pass per
  masked input, with the answer's tokens appended to the processor's prompt.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from interplay.models.hf import check_model_path, model_identity, resolve_device
from interplay.models.image_base import ImageClassifier, VisionLanguageModel

__all__ = ["HFCLIPClassifier", "HFImageClassifier", "HFVisionLanguageModel"]

#: images are channels last; said explicitly so that a 3-pixel-high image is not misread
_CHANNELS_LAST = {"input_data_format": "channels_last"}


def _load(model: Any, processor: Any, auto_model: str, auto_processor: str) -> tuple[Any, Any]:
    """(model, processor): loaded from local paths, or the given objects."""
    import transformers

    if isinstance(model, (str, Path)):
        path = check_model_path(model)
        model = getattr(transformers, auto_model).from_pretrained(path, local_files_only=True)
        if processor is None:
            processor = path
    elif processor is None:
        raise ValueError("a loaded model needs its processor: pass processor=...")
    if isinstance(processor, (str, Path)):
        processor = getattr(transformers, auto_processor).from_pretrained(
            check_model_path(processor), local_files_only=True
        )
    return model, processor


def _place(model: Any, device: Any, batch_size: Any, num_threads: int | None) -> tuple[Any, int]:
    """Move ``model`` to its device in eval mode; return (device, batch size)."""
    if int(batch_size) < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if num_threads is not None:
        import torch

        torch.set_num_threads(int(num_threads))
    device = resolve_device(device)
    model.to(device)
    model.eval()
    return device, int(batch_size)


def _check_images(images: Any) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim != 4:
        raise ValueError(f"images must be an (N, H, W, C) array, got shape {arr.shape}")
    return arr


def _pixel_batches(processor: Any, images: Any, batch_size: int, device: Any):
    """Yield (first row, pixel tensor on ``device``) for the (N, H, W, C) ``images``, in
    batches of ``batch_size`` images."""
    images = _check_images(images)
    for start in range(0, images.shape[0], batch_size):
        batch = processor(
            images=list(images[start : start + batch_size]), return_tensors="pt", **_CHANNELS_LAST
        )
        yield start, batch["pixel_values"].to(device)


def _identity(model: Any, processor: Any, kind: str, extra: str = "") -> str:
    """Model identity plus a digest of the processor's settings and ``extra``."""
    settings = processor.to_json_string() if hasattr(processor, "to_json_string") else ""
    digest = hashlib.sha256((settings + "|" + extra).encode("utf-8")).hexdigest()[:8]
    return f"{model_identity(model, kind)}:{digest}"


def _pooled(output: Any):
    """The embedding tensor of ``get_image_features``/``get_text_features`` (a tensor in
    transformers 4, an output object whose ``pooler_output`` it is in transformers 5)."""
    return output if hasattr(output, "ndim") else output.pooler_output


class _PixelScorer(ImageClassifier):
    """Shared batching of the image adapters: subclasses turn a batch of pixel tensors into
    logits (:meth:`_batch_logits`)."""

    model: Any
    processor: Any
    device: Any
    batch_size: int

    def predict_logits(self, images: np.ndarray) -> np.ndarray:
        """(N, K) float array of logits for (N, H, W, C) images."""
        import torch

        out = np.zeros((len(images), len(self.labels)))
        with torch.inference_mode():
            batches = _pixel_batches(self.processor, images, self.batch_size, self.device)
            for start, pixels in batches:
                out[start : start + pixels.shape[0]] = self._batch_logits(pixels).cpu().numpy()
        return out

    def _batch_logits(self, pixels: Any) -> Any:  # pragma: no cover - overridden
        raise NotImplementedError


class HFImageClassifier(_PixelScorer):
    """A transformers image classifier.

    Parameters
    ----------
    model : str, Path or PreTrainedModel
        A local directory (loaded with ``AutoModelForImageClassification``) or a model.
    processor : str, Path or image processor, optional
        Defaults to the one saved with the model (``AutoImageProcessor``).
    device, num_threads
        As in :class:`~interplay.models.hf.HFClassifier`.
    batch_size : int
        Images per forward pass.
    """

    def __init__(
        self,
        model: Any,
        processor: Any = None,
        *,
        device: Any = None,
        batch_size: int = 32,
        num_threads: int | None = None,
    ) -> None:
        self.model, self.processor = _load(
            model, processor, "AutoModelForImageClassification", "AutoImageProcessor"
        )
        self.device, self.batch_size = _place(self.model, device, batch_size, num_threads)
        config = self.model.config  # transformers fills id2label with LABEL_i by default
        self.labels = [str(config.id2label[i]) for i in range(config.num_labels)]
        self._identity: str | None = None

    def _batch_logits(self, pixels: Any) -> Any:
        return self.model(pixel_values=pixels).logits.float()

    def identity(self) -> str:
        if self._identity is None:
            self._identity = _identity(self.model, self.processor, "hf-image-classifier")
        return self._identity


class HFCLIPClassifier(_PixelScorer):
    """A CLIP-style model as a zero-shot classifier over the given texts.

    Logit k of an image is ``logit_scale · cos(image embedding, text embedding k)`` (plus the
    model's ``logit_bias`` for SigLIP), i.e. the model's ``logits_per_image``; the texts are
    embedded once. With one text, the value ``output="logit"`` is the image–text similarity;
    with several, ``output="probability"`` is CLIP's zero-shot probability of the target text.

    Parameters
    ----------
    model : str, Path or PreTrainedModel
        A local directory (loaded with ``AutoModel``) or a loaded model with
        ``get_image_features``, ``get_text_features`` and ``logit_scale``.
    processor : str, Path or processor, optional
        Text and image processor; defaults to the one saved with the model (``AutoProcessor``).
    texts : str or sequence of str
        The texts (class prompts) images are compared with; they are the ``labels``.
    device, batch_size, num_threads
        As in :class:`HFImageClassifier`.
    """

    def __init__(
        self,
        model: Any,
        processor: Any = None,
        *,
        texts: str | Sequence[str],
        device: Any = None,
        batch_size: int = 32,
        num_threads: int | None = None,
    ) -> None:
        import torch

        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts or not all(isinstance(t, str) and t.strip() for t in texts):
            raise ValueError("texts must be one or more non-empty str")
        self.model, self.processor = _load(model, processor, "AutoModel", "AutoProcessor")
        for needed in ("get_image_features", "get_text_features", "logit_scale"):
            if not hasattr(self.model, needed):
                raise TypeError(
                    f"{type(self.model).__name__} has no {needed}: HFCLIPClassifier needs a "
                    "CLIP-style dual encoder (CLIPModel, SiglipModel, ...)"
                )
        self.device, self.batch_size = _place(self.model, device, batch_size, num_threads)
        self.labels = texts
        with torch.inference_mode():
            encoded = self.processor(text=texts, return_tensors="pt", padding=True).to(self.device)
            text = _pooled(self.model.get_text_features(**encoded)).float()
            self._text_embeddings = text / text.norm(dim=-1, keepdim=True)
            self._scale = self.model.logit_scale.exp().float()
            bias = getattr(self.model, "logit_bias", None)
            self._bias = None if bias is None else bias.float()
        self._identity: str | None = None

    def _batch_logits(self, pixels: Any) -> Any:
        """Scaled image–text similarities of a batch of pixel tensors."""
        embedded = _pooled(self.model.get_image_features(pixel_values=pixels)).float()
        embedded = embedded / embedded.norm(dim=-1, keepdim=True)
        logits = self._scale * embedded @ self._text_embeddings.T
        return logits if self._bias is None else logits + self._bias

    def identity(self) -> str:
        if self._identity is None:
            self._identity = _identity(
                self.model, self.processor, "hf-clip", "\x00".join(self.labels)
            )
        return self._identity


class HFVisionLanguageModel(VisionLanguageModel):
    """A transformers vision-language model scored by teacher forcing.

    Parameters
    ----------
    model : str, Path or PreTrainedModel
        A local directory (loaded with ``AutoModelForImageTextToText``) or a loaded model.
    processor : str, Path or processor, optional
        Defaults to the one saved with the model (``AutoProcessor``); it must take
        ``images=`` and ``text=`` and have a ``tokenizer``.
    prompt_template : str, optional
        How a question becomes the prompt: ``{image}`` stands for the processor's image token
        and ``{question}`` for the question, e.g. ``"USER: {image}\\n{question} ASSISTANT:"``.
        Default: the processor's chat template (one user turn with the image and the
        question) when it has one, else ``"{image}\\n{question}\\n"``.
    device, batch_size, num_threads
        As in :class:`HFImageClassifier` (``batch_size``: masked inputs per forward pass).

    Notes
    -----
    Rows of a batch are left-padded so that the answer's tokens end every row; the language
    models of these VLMs use rotary position embeddings, which depend on relative positions
    only, so a padded row scores as it would alone.
    """

    def __init__(
        self,
        model: Any,
        processor: Any = None,
        *,
        prompt_template: str | None = None,
        device: Any = None,
        batch_size: int = 8,
        num_threads: int | None = None,
    ) -> None:
        if prompt_template is not None and (
            not isinstance(prompt_template, str) or "{question}" not in prompt_template
        ):
            raise ValueError("prompt_template must be a str containing {question}")
        self.model, self.processor = _load(
            model, processor, "AutoModelForImageTextToText", "AutoProcessor"
        )
        self.tokenizer = getattr(self.processor, "tokenizer", None)
        if self.tokenizer is None:
            raise TypeError(
                f"{type(self.processor).__name__} has no tokenizer: pass the model's processor"
            )
        self.image_token = str(getattr(self.processor, "image_token", "") or "")
        self.prompt_template = prompt_template
        self.device, self.batch_size = _place(self.model, device, batch_size, num_threads)
        self._generated_ids: dict[str, list[int]] = {}
        self._identity: str | None = None
        import inspect

        self._keeps_logits = "logits_to_keep" in inspect.signature(self.model.forward).parameters

    # ------------------------------------------------------------- prompts
    def format_prompt(self, question: str) -> str:
        """The text handed to the processor with the image."""
        if self.prompt_template is not None:
            return self.prompt_template.format(image=self.image_token, question=question)
        if getattr(self.processor, "chat_template", None):
            messages = [
                {"role": "user", "content": [{"type": "image"},
                                             {"type": "text", "text": question}]}
            ]
            return self.processor.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False
            )
        return f"{self.image_token}\n{question}\n"

    def _encode(self, images: np.ndarray, questions: Sequence[str]):
        return self.processor(
            images=list(images),
            text=[self.format_prompt(q) for q in questions],
            return_tensors="pt",
            padding=True,
            **_CHANNELS_LAST,
        )

    def answer_token_ids(self, answer: str) -> list[int]:
        """Token ids ``answer`` is scored on: the ids the model generated for it, else the
        answer tokenised on its own."""
        generated = self._generated_ids.get(answer)
        ids = generated or self.tokenizer(answer, add_special_tokens=False)["input_ids"]
        if not ids:
            raise ValueError("the answer has no tokens")
        return [int(t) for t in ids]

    # ----------------------------------------------------------- generation
    def generate(self, image: np.ndarray, question: str, *, max_new_tokens: int = 32) -> str:
        """Greedy answer to ``question`` about the (H, W, C) ``image``, without special
        tokens."""
        import torch

        encoded = self._encode(np.asarray(image)[None], [question]).to(self.device)
        pad = self.tokenizer.pad_token_id
        with torch.inference_mode():
            out = self.model.generate(
                **encoded,
                max_new_tokens=int(max_new_tokens),
                do_sample=False,
                pad_token_id=self.tokenizer.eos_token_id if pad is None else pad,
            )
        ids = np.asarray(out[0, encoded["input_ids"].shape[1] :].tolist(), dtype=np.int64)
        # end-of-turn, end-of-text and padding tokens around the answer are not part of it
        plain = np.flatnonzero(~np.isin(ids, self.tokenizer.all_special_ids))
        new = ids[plain[0] : plain[-1] + 1].tolist() if plain.size else []
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        if text.strip():
            self._generated_ids[text] = new
        return text

    # --------------------------------------------------------------- scoring
    def token_logprobs(
        self, images: np.ndarray, questions: Sequence[str], answer: str
    ) -> np.ndarray:
        """(N, A) float array: log p(answer token j | image, question, answer tokens < j)."""
        images = _check_images(images)
        questions = list(questions)
        if len(questions) != images.shape[0]:
            raise ValueError(f"{images.shape[0]} images but {len(questions)} questions")
        answer_ids = self.answer_token_ids(answer)
        out = np.zeros((images.shape[0], len(answer_ids)))
        for start in range(0, images.shape[0], self.batch_size):
            stop = start + self.batch_size
            out[start:stop] = self._forward(images[start:stop], questions[start:stop], answer_ids)
        return out

    def _forward(self, images: np.ndarray, questions: list[str], answer_ids: list[int]):
        """(B, A) log-probs of the answer tokens after each (image, question) prompt."""
        import torch

        encoded = self._encode(images, questions)
        ids, attention = encoded["input_ids"], encoded["attention_mask"].bool()
        n_rows, n_answer = ids.shape[0], len(answer_ids)
        width = int(attention.sum(dim=1).max()) + n_answer
        # rows rebuilt left-padded with the answer appended (whatever side the processor padded);
        # other per-token inputs (token type ids) follow, continued by their last value
        aligned = {k: v for k, v in encoded.items() if hasattr(v, "shape")
                   and tuple(v.shape) == tuple(ids.shape) and k != "attention_mask"}
        pad = self.tokenizer.pad_token_id
        pad = int(self.tokenizer.eos_token_id or 0) if pad is None else int(pad)
        rebuilt = {k: torch.full((n_rows, width), pad if k == "input_ids" else 0,
                                 dtype=v.dtype) for k, v in aligned.items()}
        mask = torch.zeros((n_rows, width), dtype=torch.long)
        answer = torch.tensor(answer_ids, dtype=ids.dtype)
        for r in range(n_rows):
            keep = attention[r]
            length = int(keep.sum())
            begin = width - n_answer - length
            mask[r, begin:] = 1
            for key, values in aligned.items():
                real = values[r][keep]
                rebuilt[key][r, begin : width - n_answer] = real
                rebuilt[key][r, width - n_answer :] = answer if key == "input_ids" else real[-1]
        inputs = {k: v for k, v in encoded.items() if k not in aligned and k != "attention_mask"}
        inputs.update(rebuilt)
        inputs["attention_mask"] = mask
        if self._keeps_logits:
            inputs["logits_to_keep"] = n_answer + 1
        inputs = {k: v.to(self.device) if hasattr(v, "to") else v for k, v in inputs.items()}
        with torch.inference_mode():
            logits = self.model(**inputs).logits
            # logits at position t predict token t+1: the n_answer positions before the end
            logp = torch.log_softmax(logits[:, -(n_answer + 1) : -1].float(), dim=-1)
            target = answer.to(self.device).expand(n_rows, -1).unsqueeze(-1)
            picked = logp.gather(2, target)[..., 0]
        return picked.cpu().numpy()

    def answer_logprobs(
        self, images: np.ndarray, questions: Sequence[str], answer: str
    ) -> np.ndarray:
        """(N,) float array: log p(answer | image, question), summed over its tokens."""
        return self.token_logprobs(images, questions, answer).sum(axis=1)

    def identity(self) -> str:
        if self._identity is None:
            extra = f"{self.prompt_template}|{getattr(self.processor, 'chat_template', None)}"
            self._identity = _identity(self.model, self.processor, "hf-vlm", extra)
        return self._identity
