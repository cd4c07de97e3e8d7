"""Hugging Face adapters on tiny random models saved to disk and loaded by path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay.models.hf import HFCausalLM, HFClassifier
from interplay.values.text import ClassifierValue, GenerativeValue

PROMPTS = [
    "Marie Curie was born in",
    "born in",
    "The movie was not good at all, and the plot",
    "",
    "Paris",
]


def _reference_logprob(lm: HFCausalLM, prompt: str, answer_ids: list[int]) -> float:
    """One unpadded forward pass over prompt + answer; sum of the answer's log-probs."""
    ids = lm._prompt_ids(prompt) + answer_ids
    with torch.no_grad():
        logits = lm.model(torch.tensor([ids])).logits[0].double()
    logp = torch.log_softmax(logits, dim=-1)
    start = len(ids) - len(answer_ids)
    return float(sum(logp[start - 1 + j, t] for j, t in enumerate(answer_ids)))


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_batched_answer_logprobs_equal_one_at_a_time(arch, request):
    path = request.getfixturevalue(f"tiny_{arch}")
    lm = HFCausalLM(str(path), device="cpu", batch_size=4)
    answer = lm.generate("Marie Curie was born in", max_new_tokens=6)
    assert answer.strip()
    answer_ids = lm.answer_token_ids(answer)
    batched = lm.answer_logprobs(PROMPTS, answer)
    reference = np.array([_reference_logprob(lm, p, answer_ids) for p in PROMPTS])
    np.testing.assert_allclose(batched, reference, atol=1e-4)
    lm.batch_size = 1
    np.testing.assert_allclose(lm.answer_logprobs(PROMPTS, answer), batched, atol=1e-4)
    # values differ between prompts (the model reads the prompt)
    assert np.ptp(batched) > 1e-3
    per_token = lm.token_logprobs(PROMPTS[:2], answer)
    assert per_token.shape == (2, len(answer_ids)) and np.all(per_token <= 0)


def test_chat_template_is_used_for_instruct_models(tiny_llama, tiny_gpt2):
    chat = HFCausalLM(tiny_llama, device="cpu")
    assert chat.chat_template
    formatted = chat.format_prompt("hello")
    assert formatted.startswith("<|im_start|>user\nhello<|im_end|>") and formatted.endswith(
        "assistant\n"
    )
    with_system = HFCausalLM(tiny_llama, device="cpu", system_prompt="Be brief.")
    assert with_system.format_prompt("hi").startswith("<|im_start|>system\nBe brief.")
    plain = HFCausalLM(tiny_gpt2, device="cpu")
    assert not plain.chat_template and plain.format_prompt("hello") == "hello"
    with pytest.raises(ValueError, match="no chat template"):
        HFCausalLM(tiny_gpt2, device="cpu", chat_template=True)
    assert chat.identity() != plain.identity() != with_system.identity()


def test_loaded_model_and_tokenizer_are_accepted(tiny_gpt2):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny_gpt2)
    tokenizer = AutoTokenizer.from_pretrained(tiny_gpt2)
    lm = HFCausalLM(model, tokenizer, device="cpu")
    by_path = HFCausalLM(tiny_gpt2, device="cpu")
    np.testing.assert_allclose(
        lm.answer_logprobs(PROMPTS[:3], " Warsaw"), by_path.answer_logprobs(PROMPTS[:3], " Warsaw"),
        atol=1e-5,
    )
    assert lm.identity() == by_path.identity()
    with pytest.raises(ValueError, match="tokenizer"):
        HFCausalLM(model)


def test_missing_path_says_how_to_get_a_model(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        HFCausalLM(tmp_path / "nope")


def test_generative_value_with_real_tiny_model(tiny_llama):
    lm = HFCausalLM(tiny_llama, device="cpu", batch_size=3)
    value = GenerativeValue(lm, "Marie Curie was born in Warsaw and won two prizes.",
                            max_new_tokens=5)
    masks = np.random.default_rng(1).random((7, value.n_features)) < 0.5
    masks[0] = True
    got = value(masks)
    assert got[0] == pytest.approx(value.full_value, abs=1e-4)
    expected = lm.answer_logprobs(value.render(masks), value.answer)
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_classifier_adapter_batches_with_padding(tiny_bert):
    clf = HFClassifier(tiny_bert, device="cpu", batch_size=2)
    assert clf.labels == ["negative", "positive"]
    assert clf.mask_token == "[MASK]" and clf.default_mask_mode == "replace"
    texts = ["good", "not a good movie at all, really", "fine film", ""]
    batched = clf.predict_logits(texts)
    single = np.concatenate([clf.predict_logits([t]) for t in texts])
    assert batched.shape == (4, 2)
    np.testing.assert_allclose(batched, single, atol=1e-5)
    value = ClassifierValue(clf, "not a good movie at all")
    assert value.mask_mode == "replace"
    assert value.render(np.array([[0, 1, 1, 1, 1, 1]], bool)) == ["[MASK] a good movie at all"]
    assert value(np.ones((1, 6), bool))[0] == pytest.approx(value.full_logits[value.target])


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_shared_prefix_cache_gives_the_same_values(arch, request):
    path = request.getfixturevalue(f"tiny_{arch}")
    lm = HFCausalLM(path, device="cpu", batch_size=2, system_prompt="You answer briefly.",
                    prefix_cache=True)
    shared = "Context: the weather today is sunny with a light breeze from the west. "
    prompts = [shared + p for p in PROMPTS]
    answer = " Paris is the capital"
    sequences = [lm._prompt_ids(p) + lm.answer_token_ids(answer) for p in prompts]
    assert lm._shared_prefix(sequences, len(lm.answer_token_ids(answer))) >= 8
    cached = lm.answer_logprobs(prompts, answer)
    reference = [_reference_logprob(lm, p, lm.answer_token_ids(answer)) for p in prompts]
    np.testing.assert_allclose(cached, reference, atol=1e-4)
    lm.prefix_cache = False
    np.testing.assert_allclose(lm.answer_logprobs(prompts, answer), cached, atol=1e-4)


# ------------------------------------------------------------- given answers, input limits
QUESTION = "Marie Curie was born in Warsaw. Where was she born?"


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_a_given_answer_is_scored_on_the_ids_the_model_generates(arch, request):
    path = request.getfixturevalue(f"tiny_{arch}")
    lm = HFCausalLM(path, device="cpu")
    generated = GenerativeValue(lm, QUESTION, max_new_tokens=12)
    fresh = HFCausalLM(path, device="cpu")  # a new process: nothing remembered
    alone = fresh.tokenizer(generated.answer, add_special_tokens=False)["input_ids"]
    assert alone != lm.answer_token_ids(generated.answer)  # the model's ids are not canonical
    given = GenerativeValue(fresh, QUESTION, answer=generated.answer)
    assert given.full_value == generated.full_value
    masks = np.random.default_rng(0).random((12, given.n_features)) < 0.5
    np.testing.assert_array_equal(given(masks), generated(masks))
    # an answer the model would not write is read as it follows the prompt
    other = GenerativeValue(fresh, QUESTION, answer=" Paris")
    ids = fresh.answer_token_ids(" Paris")
    assert other.full_value == pytest.approx(_reference_logprob(fresh, QUESTION, ids), abs=1e-4)


def long_text(n_words: int) -> str:
    """A text of ``n_words`` words (one or two tokens each for the tiny tokenizer)."""
    words = ["the", "film", "was", "good", "but", "the", "ending", "was", "bad", "and", "slow"]
    return " ".join(words[i % len(words)] for i in range(n_words))


def test_a_text_past_the_classifier_context_is_refused_before_any_query(tiny_bert):
    clf = HFClassifier(tiny_bert, device="cpu")
    calls = []
    forward = clf.predict_logits
    clf.predict_logits = lambda texts: calls.append(len(texts)) or forward(texts)
    assert clf.context_limit() == 256
    with pytest.raises(ValueError, match=r"limit of 256 by \d+.*--truncate"):
        ClassifierValue(clf, long_text(400))
    assert calls == []
    with pytest.warns(UserWarning, match="features are cut"):
        value = ClassifierValue(clf, long_text(400), truncate=True)
    assert 100 < value.n_features < 256 and len(value.features_cut) == 400 - value.n_features
    # the model reads every kept feature, whatever the mask ([MASK] replaces masked words)
    masks = np.random.default_rng(0).random((300, value.n_features)) < 0.5
    masks[0], masks[1] = True, False
    assert max(clf.count_tokens(t) for t in value.render(masks)) <= 256


def test_a_prompt_and_answer_past_the_lm_context_is_refused(tiny_llama):
    lm = HFCausalLM(tiny_llama, device="cpu")
    assert lm.context_limit() == 256
    with pytest.raises(ValueError, match=r"\+ 24 for the answer\), over the model's limit of 256"):
        GenerativeValue(lm, long_text(300), max_new_tokens=24)
    with pytest.warns(UserWarning, match="cut"):
        value = GenerativeValue(lm, long_text(300), max_new_tokens=24, truncate=True)
    assert lm.count_tokens(value.features.text) + 24 <= 256
