"""Tiny random-weight vision transformers, built and saved locally, for tests and examples.

Like :mod:`interplay.models.tiny` for text: a ViT image classifier, a CLIP dual encoder and a
LLaVA vision-language model (a CLIP vision tower and a Llama language model) a few thousand
parameters wide, saved with ``save_pretrained`` with their processors, so that loading them
back by path exercises the code path of real models in well under a second, with no download.
"""

from __future__ import annotations

from pathlib import Path

from interplay.models.tiny import build_tiny_tokenizer, save_model_dir

__all__ = ["build_tiny_clip", "build_tiny_image_classifier", "build_tiny_vlm"]

_VISION = {  # a 32 x 32 input cut into 16 patches of 8 x 8 pixels
    "image_size": 32, "patch_size": 8, "hidden_size": 32, "intermediate_size": 64,
    "num_hidden_layers": 2, "num_attention_heads": 2,
}


def _clip_image_processor():
    from transformers import CLIPImageProcessor

    size = _VISION["image_size"]
    return CLIPImageProcessor(
        size={"shortest_edge": size}, crop_size={"height": size, "width": size}
    )


def build_tiny_image_classifier(
    directory: str | Path, *, labels: tuple[str, ...] = ("cat", "dog", "bird"), seed: int = 0
) -> Path:
    """Save a tiny random ViT image classifier and its image processor to ``directory``."""
    import torch
    from transformers import AutoModelForImageClassification, ViTConfig, ViTImageProcessor

    size = _VISION["image_size"]
    config = ViTConfig(
        **_VISION, num_channels=3, num_labels=len(labels), id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
    )
    torch.manual_seed(seed)
    model = AutoModelForImageClassification.from_config(config)
    return save_model_dir(directory, model, ViTImageProcessor(size={"height": size, "width": size}))


def build_tiny_clip(directory: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny random CLIP model and its processor (image processor and a byte-level BPE
    tokenizer) to ``directory``."""
    import torch
    from tokenizers.processors import TemplateProcessing
    from transformers import CLIPConfig, CLIPModel, CLIPProcessor

    tokenizer = build_tiny_tokenizer()
    # CLIP's text tower reads the embedding at the first end-of-text token: end every text
    # with one, as CLIP's own tokenizer does
    end = tokenizer.eos_token
    tokenizer.backend_tokenizer.post_processor = TemplateProcessing(
        single=f"$A {end}", pair=f"$A $B {end}", special_tokens=[(end, tokenizer.eos_token_id)]
    )
    config = CLIPConfig(
        text_config={
            "vocab_size": len(tokenizer), "hidden_size": 32, "intermediate_size": 64,
            "num_hidden_layers": 2, "num_attention_heads": 2, "max_position_embeddings": 64,
            "bos_token_id": tokenizer.bos_token_id, "eos_token_id": tokenizer.eos_token_id,
            "pad_token_id": tokenizer.pad_token_id,
        },
        vision_config=dict(_VISION),
        projection_dim=16,
    )
    torch.manual_seed(seed)
    model = CLIPModel(config)
    processor = CLIPProcessor(image_processor=_clip_image_processor(), tokenizer=tokenizer)
    return save_model_dir(directory, model, processor)


def build_tiny_vlm(directory: str | Path, *, seed: int = 0) -> Path:
    """Save a tiny random LLaVA model (CLIP vision tower, Llama language model) and its
    processor to ``directory``.

    The processor has no chat template: prompts are ``"<image>\\n{question}\\n"`` unless a
    ``prompt_template`` is given. The image becomes 16 ``<image>`` tokens.
    """
    import torch
    from transformers import (
        CLIPVisionConfig,
        LlamaConfig,
        LlavaConfig,
        LlavaForConditionalGeneration,
        LlavaProcessor,
    )

    tokenizer = build_tiny_tokenizer()
    tokenizer.add_special_tokens({"additional_special_tokens": ["<image>"]})
    image_token = tokenizer.convert_tokens_to_ids("<image>")
    text = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    config = LlavaConfig(
        vision_config=CLIPVisionConfig(**_VISION), text_config=text,
        image_token_index=image_token, vision_feature_select_strategy="default",
        vision_feature_layer=-1,
    )
    torch.manual_seed(seed)
    model = LlavaForConditionalGeneration(config)
    with torch.no_grad():  # larger weights than the default init: answers vary with the input
        for param in model.parameters():
            if param.ndim == 2:
                param.normal_(0.0, 0.3)
    processor = LlavaProcessor(
        image_processor=_clip_image_processor(), tokenizer=tokenizer,
        patch_size=_VISION["patch_size"], vision_feature_select_strategy="default",
        num_additional_image_tokens=1,  # the CLS token, dropped by the "default" strategy
    )
    return save_model_dir(directory, model, processor)
