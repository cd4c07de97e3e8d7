"""Batching of the causal-LM adapter: length-sorted batches, the shared-prefix KV cache, and
the batch size chosen from free memory. The oracle is one unpadded forward pass per prompt."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from interplay.models import embedded
from interplay.models.hf import (
    MAX_AUTO_BATCH,
    HFCausalLM,
    HFClassifier,
    auto_batch_size,
    free_memory_bytes,
)
from interplay.values.text import GenerativeValue

SHARED = "Context: the weather today is sunny with a light breeze from the west. "
TAILS = [
    "Marie Curie was born in",
    "born in",
    "The movie was not good at all, and the plot made no sense, really",
    "Paris",
    "What is the capital of France?",
    "",
    "the acting was great",
]


def one_at_a_time(lm: HFCausalLM, prompts: list[str], answer: str) -> np.ndarray:
    """(N,) log p(answer | prompt), one unpadded forward pass per prompt, in float64."""
    answer_ids = lm.answer_token_ids(answer)
    out = []
    for prompt in prompts:
        ids = lm.tokenizer(lm.format_prompt(prompt),
                           add_special_tokens=not lm.chat_template)["input_ids"] + answer_ids
        with torch.no_grad():
            logits = lm.model(torch.tensor([ids])).logits[0].double()
        logp = torch.log_softmax(logits, dim=-1)
        start = len(ids) - len(answer_ids)
        out.append(float(sum(logp[start - 1 + j, t] for j, t in enumerate(answer_ids))))
    return np.array(out)


@pytest.mark.parametrize("prefix_cache", [False, True])
@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_length_sorted_batches_keep_the_order_of_the_prompts(arch, prefix_cache, request):
    lm = HFCausalLM(request.getfixturevalue(f"tiny_{arch}"), device="cpu", batch_size=3,
                    prefix_cache=prefix_cache)
    prompts = [SHARED + t for t in TAILS]
    lengths = [len(lm.tokenizer(p)["input_ids"]) for p in prompts]
    assert lengths != sorted(lengths)  # the batches are really reordered
    answer = " Paris is the capital"
    reference = one_at_a_time(lm, prompts, answer)
    assert np.ptp(reference) > 1e-3  # different prompts, different values: order matters
    np.testing.assert_allclose(lm.answer_logprobs(prompts, answer), reference, atol=1e-4)
    reverse = prompts[::-1]
    np.testing.assert_allclose(lm.answer_logprobs(reverse, answer), reference[::-1], atol=1e-4)


@pytest.mark.parametrize("arch", ["gpt2", "llama"])
def test_prefix_cache_matches_the_plain_path_and_runs_the_prefix_once(arch, request):
    path = request.getfixturevalue(f"tiny_{arch}")
    plain = HFCausalLM(path, device="cpu", batch_size=2, system_prompt="You answer briefly.",
                       prefix_cache=False)
    cached = HFCausalLM(path, device="cpu", batch_size=2, system_prompt="You answer briefly.")
    assert cached.prefix_cache  # the default
    value = GenerativeValue(cached, SHARED + "Marie Curie was born in Warsaw and won prizes.",
                            answer=" Paris is the capital")
    masks = np.random.default_rng(3).random((3, 10, value.n_features)) < 0.5
    # the leading words stay unmasked in every call, as a system prompt or a question would
    masks[:, :, :4] = True
    reference = GenerativeValue(plain, value.features, answer=value.answer)
    for chunk in masks:  # three calls, as the engine makes them
        np.testing.assert_allclose(value(chunk), reference(chunk), atol=1e-4)
        np.testing.assert_allclose(value(chunk), one_at_a_time(plain, value.render(chunk),
                                                               value.answer), atol=1e-4)
    assert cached.prefix_forwards == 1  # computed once for the explanation, then reused
    assert plain.prefix_forwards == 0
    # another prompt with another prefix gets its own cache, with the same exactness
    other = [f"Where was Marie Curie born, and where did she work? {w}" for w in TAILS[:4]]
    np.testing.assert_allclose(cached.answer_logprobs(other, " Warsaw"),
                               one_at_a_time(plain, other, " Warsaw"), atol=1e-4)
    assert cached.prefix_forwards == 2


def test_embedded_smollm2_prefix_cache_and_sorting_are_exact():
    lm = embedded.load_smollm2(device="cpu", batch_size=2,
                               system_prompt="Answer in one short sentence.")
    prompts = ["Marie Curie was born in Warsaw. Where was she born?",
               "Marie Curie was born in Warsaw. Where was she",
               "Marie Curie was born. Where was she born?"]
    answer = " She was born in Warsaw."
    reference = one_at_a_time(lm, prompts, answer)
    lm.prefix_cache = False
    np.testing.assert_allclose(lm.answer_logprobs(prompts, answer), reference, atol=1e-4)
    assert lm.prefix_forwards == 0
    lm.prefix_cache = True
    np.testing.assert_allclose(lm.answer_logprobs(prompts, answer), reference, atol=1e-4)
    assert lm.prefix_forwards == 1


def test_auto_batch_size_is_bounded_and_shrinks_with_length(tiny_llama):
    lm = HFCausalLM(tiny_llama, device="cpu")
    assert lm.batch_size is None  # chosen per call
    model = lm.model
    big = 1 << 40
    assert auto_batch_size(model, 50, device="cpu", free_bytes=big) == MAX_AUTO_BATCH["cpu"]
    assert auto_batch_size(model, 50, device="cuda", free_bytes=big) == MAX_AUTO_BATCH["cuda"]
    assert auto_batch_size(model, 50, device="cpu", free_bytes=0) == 1
    sizes = [auto_batch_size(model, t, device="cuda", free_bytes=50_000_000)
             for t in (16, 64, 256)]
    assert sizes[0] > sizes[1] > sizes[2] >= 1  # longer rows, fewer of them
    assert 1 <= auto_batch_size(model, 64) <= MAX_AUTO_BATCH["cpu"]  # this machine's memory
    assert free_memory_bytes("cpu") > 0
    for bad in ({"n_tokens": 0}, {"memory_fraction": 0.0}, {"memory_fraction": 1.5}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            auto_batch_size(model, **{"n_tokens": 10, **bad})
    # the auto-sized path gives the one-at-a-time values
    prompts = [SHARED + t for t in TAILS]
    np.testing.assert_allclose(lm.answer_logprobs(prompts, " Warsaw"),
                               one_at_a_time(lm, prompts, " Warsaw"), atol=1e-4)


@pytest.mark.parametrize("bad", [0, -3, 2.5, "8", True])
def test_a_bad_batch_size_is_refused_with_its_name(bad, tiny_llama, tiny_bert):
    with pytest.raises(ValueError, match=r"batch_size must be a positive int or None"):
        HFCausalLM(tiny_llama, device="cpu", batch_size=bad)
    with pytest.raises(ValueError, match=r"batch_size must be a positive int, got"):
        HFClassifier(tiny_bert, device="cpu", batch_size=bad)
    with pytest.raises(ValueError, match="batch_size"):
        HFClassifier(tiny_bert, device="cpu", batch_size=None)


def _load_benchmark():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "benchmarks" / "llm_throughput.py"
    spec = importlib.util.spec_from_file_location("llm_throughput", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_throughput_benchmark_builds_models_from_configs_and_prints_its_table(capsys):
    bench = _load_benchmark()
    big = bench.build_random_llama("1b", device="meta")  # shapes only, no memory
    assert sum(p.numel() for p in big.model.parameters()) >= 1_000_000_000
    with pytest.raises(ValueError, match="config size"):
        bench.build_random_llama("7x", device="cpu")
    assert bench.main(["--config-size", "tiny", "--queries", "6", "--batch-size", "4",
                       "--repeats", "1", "--words", "10", "--densities", "0.5"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    row = next(r for r in rows if r[:2] == ["10", "0.5"])
    assert row[3] == "4" and all(float(x) > 0 for x in row[4:])


def test_resolve_model_sizes_language_model_batches_from_memory_by_default(tiny_llama,
                                                                           tiny_bert):
    from interplay.models.resolve import resolve_model

    assert resolve_model(str(tiny_llama), device="cpu").batch_size is None
    assert resolve_model(str(tiny_llama), device="cpu", batch_size=4).batch_size == 4
    assert resolve_model(str(tiny_bert), device="cpu").batch_size == 32
    assert resolve_model(str(tiny_bert), device="cpu", batch_size=8).batch_size == 8
