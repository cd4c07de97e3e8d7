"""Image value functions on function models: exact values, batching, planted interactions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import interplay
from interplay.values.image import ImageClassifierValue, VisionLanguageValue
from interplay.values.image_features import ImageFeatures
from interplay.values.text import TextFeatures


def _photo(height: int = 16, width: int = 16, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).random((height, width, 3)) * 255).astype(np.uint8)


class CountingModel:
    """(N, H, W, C) images -> (N, 3) logits: linear in the per-channel means; counts calls."""

    labels = ("red", "green", "blue")

    def __init__(self) -> None:
        self.calls: list[int] = []

    def predict_logits(self, images):
        self.calls.append(images.shape[0])
        means = images.astype(np.float64).mean(axis=(1, 2)) / 255.0  # (N, 3)
        return means @ np.array([[2.0, -1.0, 0.0], [0.5, 1.0, -1.0], [0.0, 0.3, 1.5]])


def _patch_mean(images: np.ndarray, features: ImageFeatures, patch: int) -> np.ndarray:
    """(N,) mean brightness (0..1) of one patch's pixels."""
    return images[:, features.segments == patch].astype(np.float64).mean(axis=(1, 2)) / 255.0


def test_keeping_everything_reproduces_the_model_output_exactly():
    model = CountingModel()
    features = ImageFeatures.grid(_photo(), 4)
    value = ImageClassifierValue(model, features)
    logits = model.predict_logits(features.image[None])[0]
    assert value.target == int(np.argmax(logits)) and value.target_label == "red"
    assert value(np.ones((1, 16), bool))[0] == logits[value.target]
    for output, expected in [
        ("probability", np.exp(logits[value.target]) / np.exp(logits).sum()),
        ("log_probability", logits[value.target] - np.log(np.exp(logits).sum())),
    ]:
        other = ImageClassifierValue(model, features, output=output)
        assert other(np.ones((1, 16), bool))[0] == pytest.approx(expected, rel=1e-12)


def test_values_are_the_model_on_the_rendered_images():
    model = CountingModel()
    features = ImageFeatures.grid(_photo(), 4, baseline="blur")
    value = ImageClassifierValue(model, features, target="blue")
    masks = np.random.default_rng(0).random((9, 16)) < 0.5
    expected = model.predict_logits(features.render(masks))[:, 2]
    np.testing.assert_array_equal(value(masks), expected)
    assert ImageClassifierValue(model, features, target=1).target_label == "green"


def test_masks_are_scored_in_chunks_with_the_same_values():
    model = CountingModel()
    features = ImageFeatures.grid(_photo(), 4)
    masks = np.random.default_rng(1).random((10, 16)) < 0.5
    whole = ImageClassifierValue(model, features, chunk_size=64)(masks)
    model.calls.clear()
    chunked = ImageClassifierValue(model, features, chunk_size=3)
    model.calls.clear()
    np.testing.assert_array_equal(chunked(masks), whole)
    assert model.calls == [3, 3, 3, 1]
    one_by_one = np.concatenate([chunked(m[None]) for m in masks])
    np.testing.assert_array_equal(one_by_one, whole)
    assert chunked.n_rows == 20 and chunked(np.zeros((0, 16), bool)).shape == (0,)


class PlantedClassifier:
    """logit 1 = 4 · mean(patch a) · mean(patch b) + 2 · mean(patch c); logit 0 = 0."""

    labels = ("other", "planted")

    def __init__(self, features: ImageFeatures, a: int, b: int, c: int) -> None:
        self.features, self.patches = features, (a, b, c)

    def predict_logits(self, images):
        pa, pb, pc = (_patch_mean(images, self.features, p) for p in self.patches)
        return np.stack([np.zeros(len(images)), 4.0 * pa * pb + 2.0 * pc], axis=1)


def _mobius_oracle(value, n: int) -> dict[tuple[int, ...], float]:
    """Brute force: the Möbius transform of ``value`` over all 2^n masks."""
    masks = np.array(list(itertools.product([0, 1], repeat=n)), bool)[:, ::-1]
    values = value(masks)
    coefficients = {}
    for row, mask in enumerate(masks):
        subset = tuple(np.flatnonzero(mask))
        inner = [r for r, m in enumerate(masks) if not (m & ~mask).any()]
        signs = [(-1) ** (len(subset) - int(masks[r].sum())) for r in inner]
        total = float(np.dot(signs, values[inner]))
        if abs(total) > 1e-9:
            coefficients[subset] = total
    return coefficients


def test_a_planted_patch_pair_is_recovered_exactly_by_spex():
    features = ImageFeatures.grid(_photo(12, 12, seed=4), 3, baseline="mean")
    value = ImageClassifierValue(PlantedClassifier(features, 1, 7, 4), features, target=1)
    oracle = _mobius_oracle(value, 9)
    assert (1, 7) in oracle and set(oracle) <= {(), (1,), (7,), (4,), (1, 7)}
    result = interplay.explain(value, 9, method="spex", max_order=2, random_state=0,
                               feature_names=value.feature_names)
    mobius = result.to_mobius()
    for subset, coefficient in oracle.items():
        assert mobius[subset] == pytest.approx(coefficient, abs=1e-6)
    pairs = mobius.top(1, min_order=2)
    assert pairs[0].names == ("patch r0c1", "patch r2c1")


def test_a_planted_patch_pair_is_the_top_pair_for_proxyspex():
    features = ImageFeatures.grid(_photo(16, 16, seed=5), 4, baseline="zeros")
    value = ImageClassifierValue(PlantedClassifier(features, 2, 13, 8), features, target=1)
    result = interplay.explain(value, 16, method="proxyspex", budget=400, max_order=2,
                               random_state=0)
    top = result.to_mobius().top(1, min_order=2)[0]
    assert top.features == (2, 13)
    means = [_patch_mean(features.image[None], features, p)[0] for p in (2, 13)]
    assert top.value == pytest.approx(4.0 * means[0] * means[1], rel=0.05)


class PlantedVLM:
    """Answers " a red square"; log p(answer) = -3 + 2 · [word in question] · mean(patch)."""

    def __init__(self, features: ImageFeatures, patch: int, word: str, calls: list) -> None:
        self.features, self.patch, self.word, self.calls = features, patch, word, calls

    def generate(self, image, question, *, max_new_tokens=32):
        return " a red square"

    def answer_logprobs(self, images, questions, answer):
        self.calls.append(len(questions))
        has_word = np.array([self.word in q.split() for q in questions], float)
        return -3.0 + 2.0 * has_word * _patch_mean(images, self.features, self.patch)


def test_vision_language_features_are_regions_then_words():
    features = ImageFeatures.grid(_photo(), 2)
    calls: list[int] = []
    value = VisionLanguageValue(PlantedVLM(features, 3, "colour", calls), features,
                                "what colour is it?")
    assert value.answer == " a red square"
    assert value.n_image_features == 4 and value.n_text_features == 4 and value.n_features == 8
    assert value.feature_names == ["patch r0c0", "patch r0c1", "patch r1c0", "patch r1c1",
                                   "what", "colour", "is", "it?"]
    masks = np.array([[1, 0, 1, 1, 0, 1, 1, 1], [0, 0, 0, 0, 1, 1, 1, 1]], bool)
    images, questions = value.render(masks)
    assert questions == ["colour is it?", "what colour is it?"]
    np.testing.assert_array_equal(images, features.render(masks[:, :4]))
    replaced = VisionLanguageValue(PlantedVLM(features, 3, "colour", calls), features,
                                   "what colour is it?", mask_string="_")
    assert replaced.render(masks[:1])[1] == ["_ colour is it?"]
    image_only = VisionLanguageValue(PlantedVLM(features, 3, "colour", calls), features,
                                     TextFeatures.from_text("what colour is it?"),
                                     question_features=False, answer="red")
    assert image_only.n_features == 4 and image_only.answer == "red"
    assert image_only.render(np.zeros((1, 4), bool))[1] == ["what colour is it?"]


def test_vision_language_value_reproduces_the_model_and_chunks():
    features = ImageFeatures.grid(_photo(), 2)
    calls: list[int] = []
    model = PlantedVLM(features, 3, "colour", calls)
    value = VisionLanguageValue(model, features, "what colour is it?", chunk_size=2)
    direct = model.answer_logprobs(features.image[None], ["what colour is it?"], value.answer)
    assert value.full_value == direct[0]
    masks = np.random.default_rng(2).random((5, 8)) < 0.5
    calls.clear()
    got = value(masks)
    assert calls == [2, 2, 1]
    np.testing.assert_array_equal(got, model.answer_logprobs(*value.render(masks), value.answer))


def test_a_planted_cross_modal_pair_is_recovered():
    features = ImageFeatures.grid(_photo(12, 12, seed=6), 3, baseline="zeros")
    calls: list[int] = []
    question = "is the top right square red or blue?"
    value = VisionLanguageValue(PlantedVLM(features, 2, "red", calls), features, question)
    n = value.n_features
    assert n == 9 + 8
    result = interplay.explain(value, n, method="spex", max_order=2, random_state=0,
                               feature_names=value.feature_names)
    top = result.to_mobius().top(1, min_order=2)[0]
    assert top.names == ("patch r0c2", "red")
    mean = _patch_mean(features.image[None], features, 2)[0]
    assert top.value == pytest.approx(2.0 * mean, abs=1e-6)


def test_fingerprint_is_stable_and_tells_settings_apart():
    model = CountingModel()
    features = ImageFeatures.grid(_photo(), 4)
    first = ImageClassifierValue(model, features).fingerprint()
    assert ImageClassifierValue(model, ImageFeatures.grid(_photo(), 4)).fingerprint() == first
    assert ImageClassifierValue(model, features, target=2).fingerprint() != first
    assert ImageClassifierValue(model, features, output="probability").fingerprint() != first
    assert ImageClassifierValue(
        model, ImageFeatures.grid(_photo(), 4, baseline="zeros")
    ).fingerprint() != first
    calls: list[int] = []
    vlm = PlantedVLM(features, 3, "red", calls)
    one = VisionLanguageValue(vlm, features, "is it red?").fingerprint()
    assert VisionLanguageValue(vlm, features, "is it red?", answer="no").fingerprint() != one
    assert VisionLanguageValue(vlm, features, "is it blue?").fingerprint() != one


def test_bad_settings_fail_before_any_model_query():
    model = CountingModel()
    features = ImageFeatures.grid(_photo(), 4)
    cases = [
        ({"output": "odds"}, ValueError, "unknown output 'odds'"),
        ({"target": "purple"}, ValueError, "unknown class 'purple'"),
        ({"target": 3}, ValueError, r"outside range\(0, 3\)"),
        ({"target": 1.5}, TypeError, "target must be an int"),
        ({"chunk_size": 0}, ValueError, "chunk_size must be a positive int"),
    ]
    for kwargs, error, match in cases:
        with pytest.raises(error, match=match):
            ImageClassifierValue(model, features, **kwargs)
    with pytest.raises(TypeError, match="features must be an ImageFeatures"):
        ImageClassifierValue(model, _photo())
    calls: list[int] = []
    vlm = PlantedVLM(features, 3, "red", calls)
    with pytest.raises(TypeError, match="question must be a str"):
        VisionLanguageValue(vlm, features, ["is", "it"])
    with pytest.raises(ValueError, match="max_new_tokens must be positive"):
        VisionLanguageValue(vlm, features, "is it red?", max_new_tokens=0)
    with pytest.raises(TypeError, match="mask_string must be a str"):
        VisionLanguageValue(vlm, features, "is it red?", mask_string=3)
    assert model.calls == [] and calls == []
    for answer in ("  ", 3):
        with pytest.raises(ValueError, match="answer to explain must be a non-empty str"):
            VisionLanguageValue(vlm, features, "is it red?", answer=answer)
    value = ImageClassifierValue(model, features)
    with pytest.raises(ValueError, match=r"masks must have shape \(N, 16\)"):
        value(np.ones((2, 15), bool))


class BrokenClassifier:
    def predict_logits(self, images):
        return np.zeros((1, 2, 2))


def test_a_model_returning_the_wrong_shape_is_named():
    features = ImageFeatures.grid(_photo(), 2)
    broken = BrokenClassifier()
    with pytest.raises(ValueError, match=r"logits of shape \(1, 2, 2\) for 1 images"):
        ImageClassifierValue(broken, features)
