"""Tiny random-weight transformers, built and saved locally, for tests and examples.

They exercise exactly the code path of real models (``save_pretrained`` then
``from_pretrained`` from a local directory) in well under a second, with no download:
a byte-level BPE tokenizer trained on a few sentences with the ``tokenizers`` library and a
GPT-2, Llama (with a chat template) or BERT classifier configuration a few hundred
parameters wide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["build_tiny_causal_lm", "build_tiny_classifier", "build_tiny_tokenizer", "save_model_dir"]

_CORPUS = [
    "The movie was not good at all, and the plot made no sense.",
    "Marie Curie was born in Warsaw and won two Nobel prizes.",
    "What is the capital of France? Paris is the capital of France.",
    "I really loved this film; the acting was great and the music was wonderful.",
    "The weather today is sunny with a light breeze from the west.",
    "Question: where was she born? Answer: in Warsaw, Poland.",
]

_CHAT_TEMPLATE = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


def save_model_dir(directory: str | Path, model: Any, preprocessor: Any) -> Path:
    """Save ``model`` and its tokenizer or processor with ``save_pretrained`` to ``directory``
    (created if missing), as a real model directory is laid out; return the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(directory)
    preprocessor.save_pretrained(directory)
    return directory


def build_tiny_tokenizer(vocab_size: int = 400, *, chat: bool = False, mask: bool = False):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on a few sentences.

    Parameters
    ----------
    vocab_size : int
        Size of the BPE vocabulary (including the 256 byte tokens and the specials).
    chat : bool
        Add ``<|im_start|>``/``<|im_end|>`` tokens and a ChatML chat template.
    mask : bool
        Add a ``[MASK]`` token (for encoder classifiers).
    """
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<pad>"]
    if chat:
        specials += ["<|im_start|>", "<|im_end|>"]
    if mask:
        specials += ["[MASK]", "[CLS]"]
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(_CORPUS * 4, vocab_size=vocab_size, special_tokens=specials)
    kwargs: dict[str, Any] = {
        "bos_token": "<|endoftext|>",
        "eos_token": "<|im_end|>" if chat else "<|endoftext|>",
        "pad_token": "<pad>",
        "unk_token": "<|endoftext|>",
    }
    if chat:
        kwargs["additional_special_tokens"] = ["<|im_start|>"]
    if mask:
        kwargs["mask_token"] = "[MASK]"
        kwargs["cls_token"] = "[CLS]"
    if mask:  # an encoder: every text starts with [CLS], as BERT's tokenizers do
        from tokenizers.processors import TemplateProcessing

        cls_id = bpe.token_to_id("[CLS]")
        bpe._tokenizer.post_processor = TemplateProcessing(
            single="[CLS] $A", pair="[CLS] $A $B", special_tokens=[("[CLS]", cls_id)]
        )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe._tokenizer, **kwargs)
    if chat:
        tokenizer.chat_template = _CHAT_TEMPLATE
    return tokenizer


def build_tiny_causal_lm(
    directory: str | Path, *, arch: str = "gpt2", seed: int = 0, chat: bool | None = None
) -> Path:
    """Save a tiny random causal LM and its tokenizer to ``directory``.

    Parameters
    ----------
    directory : str or Path
        Where ``save_pretrained`` writes (created if missing).
    arch : {"gpt2", "llama"}
        Model family. ``llama`` gets a chat template by default (an "instruct" model).
    seed : int
        Seed of the random weights.
    chat : bool, optional
        Override whether the tokenizer has a chat template.

    Returns
    -------
    Path
        ``directory``, loadable with ``AutoModelForCausalLM.from_pretrained``.
    """
    import torch
    from transformers import AutoModelForCausalLM, GPT2Config, LlamaConfig

    if chat is None:
        chat = arch == "llama"
    tokenizer = build_tiny_tokenizer(chat=chat)
    vocab = len(tokenizer)
    if arch == "gpt2":
        config = GPT2Config(
            vocab_size=vocab, n_positions=256, n_embd=32, n_layer=2, n_head=2,
            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id,
        )
    elif arch == "llama":
        config = LlamaConfig(
            vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
            pad_token_id=tokenizer.pad_token_id, tie_word_embeddings=True,
        )
    else:
        raise ValueError(f"unknown arch {arch!r}; valid: gpt2, llama")
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    with torch.no_grad():  # larger logits than the default init: answers vary with the prompt
        for param in model.parameters():
            if param.ndim == 2:
                param.normal_(0.0, 0.3)
    return save_model_dir(directory, model, tokenizer)


def build_tiny_classifier(
    directory: str | Path, *, labels: tuple[str, ...] = ("negative", "positive"), seed: int = 0
) -> Path:
    """Save a tiny random BERT sequence classifier and its tokenizer to ``directory``."""
    import torch
    from transformers import AutoModelForSequenceClassification, BertConfig

    tokenizer = build_tiny_tokenizer(mask=True)
    config = BertConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=2, max_position_embeddings=256, pad_token_id=tokenizer.pad_token_id,
        num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    return save_model_dir(directory, model, tokenizer)
