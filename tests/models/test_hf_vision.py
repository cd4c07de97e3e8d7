"""Hugging Face vision adapters on tiny random ViT / CLIP / LLaVA models loaded by path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import interplay
from interplay.models.hf_vision import HFCLIPClassifier, HFImageClassifier, HFVisionLanguageModel
from interplay.models.tiny_vision import (
    build_tiny_clip,
    build_tiny_image_classifier,
    build_tiny_vlm,
)
from interplay.values.image import ImageClassifierValue, VisionLanguageValue
from interplay.values.image_features import ImageFeatures

QUESTION = "what colour is the sky today?"


@pytest.fixture(scope="module")
def tiny_vit(tmp_path_factory):
    return build_tiny_image_classifier(tmp_path_factory.mktemp("vit"))


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory):
    return build_tiny_clip(tmp_path_factory.mktemp("clip"))


@pytest.fixture(scope="module")
def tiny_vlm(tmp_path_factory):
    return build_tiny_vlm(tmp_path_factory.mktemp("vlm"))


def _photo(height: int = 20, width: int = 28, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)


def _masks(n_rows: int, n: int, seed: int = 1) -> np.ndarray:
    masks = np.random.default_rng(seed).random((n_rows, n)) < 0.5
    masks[0] = True
    return masks


# ------------------------------------------------------------------------- classifier
def test_image_classifier_value_is_the_models_logit(tiny_vit):
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    clf = HFImageClassifier(tiny_vit, device="cpu", batch_size=3)
    assert clf.labels == ["cat", "dog", "bird"]
    features = ImageFeatures.grid(_photo(), 2, 4, baseline="blur")
    value = ImageClassifierValue(clf, features)
    model = AutoModelForImageClassification.from_pretrained(tiny_vit)
    processor = AutoImageProcessor.from_pretrained(tiny_vit)
    masks = _masks(7, 8)
    images = features.render(masks)
    with torch.no_grad():
        reference = model(**processor(images=list(images), return_tensors="pt")).logits.numpy()
    got = value(masks)
    np.testing.assert_array_equal(got[0], reference[0, value.target])  # nothing masked
    np.testing.assert_allclose(got, reference[:, value.target], atol=1e-6)
    assert np.ptp(got) > 1e-4  # the model sees the masks
    clf.batch_size = 1
    np.testing.assert_allclose(value(masks), got, atol=1e-6)


def test_loaded_classifier_and_processor_are_accepted(tiny_vit):
    from transformers import AutoImageProcessor, AutoModelForImageClassification

    model = AutoModelForImageClassification.from_pretrained(tiny_vit)
    by_object = HFImageClassifier(model, AutoImageProcessor.from_pretrained(tiny_vit),
                                  device="cpu")
    by_path = HFImageClassifier(tiny_vit, device="cpu")
    images = np.stack([_photo(), _photo(seed=3)])
    np.testing.assert_allclose(by_object.predict_logits(images), by_path.predict_logits(images),
                               atol=1e-6)
    assert by_object.identity() == by_path.identity()
    with pytest.raises(ValueError, match="needs its processor"):
        HFImageClassifier(model)
    with pytest.raises(ValueError, match="batch_size must be positive"):
        HFImageClassifier(model, tiny_vit, batch_size=0)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        by_path.predict_logits(_photo())


def test_missing_path_says_how_to_get_a_model(tmp_path):
    for adapter in (HFImageClassifier, HFVisionLanguageModel):
        with pytest.raises(FileNotFoundError, match="never downloads"):
            adapter(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="never downloads"):
        HFCLIPClassifier(tmp_path / "nope", texts="a photo")


# ------------------------------------------------------------------------------- CLIP
def test_clip_logits_are_the_models_logits_per_image(tiny_clip):
    from transformers import AutoModel, AutoProcessor

    texts = ["a photo of a cat", "sunny sky", "the plot made no sense"]
    clip = HFCLIPClassifier(tiny_clip, texts=texts, device="cpu", batch_size=2)
    assert clip.labels == texts
    model = AutoModel.from_pretrained(tiny_clip)
    processor = AutoProcessor.from_pretrained(tiny_clip)
    features = ImageFeatures.grid(_photo(), 2, 2)
    masks = _masks(5, 4)
    images = features.render(masks)
    with torch.no_grad():
        reference = model(**processor(text=texts, images=list(images), return_tensors="pt",
                                      padding=True)).logits_per_image.numpy()
    np.testing.assert_allclose(clip.predict_logits(images), reference, atol=1e-5)
    assert np.ptp(reference[:, 0]) > 1e-4 and np.ptp(reference[0]) > 1e-4
    value = ImageClassifierValue(clip, features, target="sunny sky", output="probability")
    shifted = np.exp(reference - reference.max(axis=1, keepdims=True))
    np.testing.assert_allclose(value(masks), shifted[:, 1] / shifted.sum(axis=1), atol=1e-6)
    single = HFCLIPClassifier(tiny_clip, texts="sunny sky", device="cpu")
    np.testing.assert_allclose(single.predict_logits(images)[:, 0], reference[:, 1], atol=1e-5)
    assert single.identity() != clip.identity()


def test_clip_refuses_bad_texts_and_other_models(tiny_clip, tiny_vit):
    for texts in ([], ["a cat", ""], [3]):
        with pytest.raises(ValueError, match="texts must be one or more non-empty str"):
            HFCLIPClassifier(tiny_clip, texts=texts)
    with pytest.raises(TypeError, match="CLIP-style dual encoder"):
        HFCLIPClassifier(tiny_vit, texts="a cat")


# -------------------------------------------------------------------------------- VLM
def _reference_logprob(vlm: HFVisionLanguageModel, image, question, answer_ids) -> float:
    """One unpadded forward pass over the prompt and the answer; sum of the answer's
    log-probs."""
    encoded = vlm.processor(images=[image], text=[vlm.format_prompt(question)],
                            return_tensors="pt")
    ids = torch.cat([encoded["input_ids"], torch.tensor([answer_ids])], dim=1)
    with torch.no_grad():
        logits = vlm.model(input_ids=ids, pixel_values=encoded["pixel_values"]).logits[0]
    logp = torch.log_softmax(logits.double(), dim=-1)
    start = ids.shape[1] - len(answer_ids)
    return float(sum(logp[start - 1 + j, t] for j, t in enumerate(answer_ids)))


def test_vlm_answer_logprobs_batched_equal_one_at_a_time(tiny_vlm):
    vlm = HFVisionLanguageModel(tiny_vlm, device="cpu", batch_size=3)
    assert vlm.format_prompt("hi?") == "<image>\nhi?\n"
    answer = vlm.generate(_photo(), QUESTION, max_new_tokens=4)
    assert answer.strip()
    answer_ids = vlm.answer_token_ids(answer)
    images = np.stack([_photo(seed=s) for s in range(5)])
    questions = [QUESTION, "sky?", "", "what colour is the sea", "a b c d e f g h"]
    batched = vlm.answer_logprobs(images, questions, answer)
    reference = [_reference_logprob(vlm, im, q, answer_ids) for im, q in zip(images, questions)]
    np.testing.assert_allclose(batched, reference, atol=1e-4)
    vlm.batch_size = 1
    np.testing.assert_allclose(vlm.answer_logprobs(images, questions, answer), batched, atol=1e-4)
    assert np.ptp(batched) > 1e-3
    per_token = vlm.token_logprobs(images[:2], questions[:2], answer)
    assert per_token.shape == (2, len(answer_ids)) and np.all(per_token <= 0)
    with pytest.raises(ValueError, match="5 images but 4 questions"):
        vlm.answer_logprobs(images, questions[:4], answer)


def test_vlm_value_reproduces_the_model_and_runs_explain(tiny_vlm):
    vlm = HFVisionLanguageModel(tiny_vlm, device="cpu", batch_size=4)
    features = ImageFeatures.grid(_photo(), 2, 2)
    value = VisionLanguageValue(vlm, features, QUESTION, max_new_tokens=3)
    assert value.n_features == 4 + 6
    answer_ids = vlm.answer_token_ids(value.answer)
    assert value.full_value == pytest.approx(
        _reference_logprob(vlm, features.image, QUESTION, answer_ids), abs=1e-4
    )
    masks = _masks(6, value.n_features)
    got = value(masks)
    assert got[0] == pytest.approx(value.full_value, abs=1e-5)
    np.testing.assert_allclose(got, vlm.answer_logprobs(*value.render(masks), value.answer),
                               atol=1e-6)
    result = interplay.explain(value, value.n_features, method="proxyspex", budget=60,
                               max_order=2, random_state=0, feature_names=value.feature_names)
    assert result.n_queries <= 60 and result.feature_names[-1] == "today?"


def test_vlm_prompt_template_and_chat_template(tiny_vlm):
    with pytest.raises(ValueError, match="prompt_template must be a str containing"):
        HFVisionLanguageModel(tiny_vlm, prompt_template="no slot")
    templated = HFVisionLanguageModel(tiny_vlm, device="cpu",
                                      prompt_template="USER: {image}\n{question} ASSISTANT:")
    assert templated.format_prompt("why?") == "USER: <image>\nwhy? ASSISTANT:"
    plain = HFVisionLanguageModel(tiny_vlm, device="cpu")
    images = np.stack([_photo()])
    assert templated.answer_logprobs(images, ["why?"], " blue") != pytest.approx(
        plain.answer_logprobs(images, ["why?"], " blue")
    )
    assert templated.identity() != plain.identity()
    from transformers import AutoModelForImageTextToText, AutoProcessor

    processor = AutoProcessor.from_pretrained(tiny_vlm)
    processor.chat_template = (
        "{% for m in messages %}<|{{ m['role'] }}|>{% for c in m['content'] %}"
        "{% if c['type'] == 'image' %}<image>{% else %}{{ c['text'] }}{% endif %}"
        "{% endfor %}{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    chat = HFVisionLanguageModel(AutoModelForImageTextToText.from_pretrained(tiny_vlm),
                                 processor, device="cpu")
    assert chat.format_prompt("why?") == "<|user|><image>why?<|assistant|>"
    assert np.isfinite(chat.answer_logprobs(images, ["why?"], " blue")).all()
