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
