"""Queries/s of interplay's LLM query path against the bare batched forward pass.

"ours" is the whole query path an explanation uses: ``GenerativeValue`` (masking, rendering,
chat template) -> ``QueryEngine`` (deduplication, batching by length, in-memory results) ->
``HFCausalLM`` (tokenising, length-sorted batches, teacher forcing). "bare" is plain
transformers on the same masked prompts (rendered beforehand, outside the timer) with the
same batch size, in the order given: tokenise a batch, left-pad, one forward pass keeping the
answer positions' logits, log-softmax, gather. "ours" runs every token (``prefix_cache=False``);
"ours+kv", the adapter's default, computes the unmasked prefix's keys and values once per
explanation (``prefix_cache=True``).

Each cell is the median over ``--repeats`` runs (ours, ours+kv and bare interleaved); the
ratio is the median of the per-repeat ratios ours / bare. The load average is printed
before and after: on a shared machine the figures move with it.

    python benchmarks/llm_throughput.py                      # embedded SmolLM2-135M, CPU
    python benchmarks/llm_throughput.py --device cuda --config-size 1b --queries 2048
                                                    # a random-weight 1.1 B Llama on a GPU
    python benchmarks/llm_throughput.py --config-size tiny --queries 8 --repeats 1  # smoke test
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import numpy as np

SENTENCES = [
    "Marie Curie was born in Warsaw in 1867.",
    "She later moved to Paris, where she studied physics and chemistry at the Sorbonne.",
    "With Pierre Curie she discovered polonium and radium in a shed behind the school.",
    "She won two Nobel prizes, in physics in 1903 and in chemistry in 1911.",
    "During the war she drove mobile X-ray units to field hospitals near the front.",
    "Her daughter Irene also won a Nobel prize, for artificial radioactivity.",
]
INSTRUCTION = "Read the text, then answer the question in one sentence.\nText: "
QUESTION = "\nQuestion: In which city was Marie Curie born?"
ANSWER = "Marie Curie was born in Warsaw."  # as a chat reply begins: no leading space

#: Llama-style configurations with random weights: "1b" has 1.1 B parameters (TinyLlama's
#: shape with SmolLM2's vocabulary), "tiny" a few thousand, for testing this script on a CPU.
CONFIGS: dict[str, dict[str, int]] = {
    "1b": {"hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22,
           "num_attention_heads": 32, "num_key_value_heads": 4, "vocab_size": 49152},
    "tiny": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 400},
}


def context_text(n_words: int) -> str:
    """A context of ``n_words`` words, the sentences above repeated."""
    words = " ".join(SENTENCES).split()
    return " ".join(words[i % len(words)] for i in range(n_words))


def build_random_llama(size: str, *, device: str, dtype: Any = None, batch_size: int | None = None):
    """An ``HFCausalLM`` over a Llama model built from ``CONFIGS[size]`` with random weights.

    The tokenizer is the small byte-level BPE of ``interplay.models.tiny`` with a chat
    template; the model's vocabulary is ``CONFIGS[size]["vocab_size"]`` (ids past the
    tokenizer's are never read), so the embedding and output layers have their real size.
    """
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    from interplay.models.hf import HFCausalLM
    from interplay.models.tiny import build_tiny_tokenizer

    if size not in CONFIGS:
        raise ValueError(f"unknown config size {size!r}; valid: {', '.join(CONFIGS)}")
    tokenizer = build_tiny_tokenizer(chat=True)
    shape = dict(CONFIGS[size])
    shape["vocab_size"] = max(shape["vocab_size"], len(tokenizer))
    config = LlamaConfig(
        **shape, max_position_embeddings=4096, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype or torch.float32)
    return HFCausalLM(model, tokenizer, device=device, batch_size=batch_size)


def bare_forward(model, tokenizer, prompts: list[str], answer_ids: list[int],
                 batch_size: int, chat: bool) -> np.ndarray:
    """(N,) log p(answer | prompt) with plain transformers, batches in the order given."""
    import torch

    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    target = torch.tensor(answer_ids, device=device)
    keep = len(answer_ids) + 1
    out = []
    for start in range(0, len(prompts), batch_size):
        texts = prompts[start : start + batch_size]
        if chat:
            texts = [tokenizer.apply_chat_template([{"role": "user", "content": t}],
                                                   tokenize=False, add_generation_prompt=True)
                     for t in texts]
        rows = [ids + answer_ids for ids in
                tokenizer(texts, add_special_tokens=not chat)["input_ids"]]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad, dtype=torch.long)
        attention = torch.zeros_like(ids)
        for i, row in enumerate(rows):
            ids[i, width - len(row):] = torch.tensor(row)
            attention[i, width - len(row):] = 1
        with torch.inference_mode():
            logits = model(input_ids=ids.to(device), attention_mask=attention.to(device),
                           logits_to_keep=keep).logits
            logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            picked = logp.gather(2, target.expand(len(rows), -1).unsqueeze(-1))[..., 0]
        out.append(picked.sum(dim=1).cpu().numpy())
    return np.concatenate(out)


def measure(lm, value, masks: np.ndarray, batch_size: int, repeats: int) -> dict[str, float]:
    """Median queries/s of ours, ours+kv and bare, and the median per-repeat ratios."""
    from interplay.runtime import QueryEngine

    prompts = value.render(masks)
    answer_ids = lm.answer_token_ids(value.answer)
    n = masks.shape[0]
    rates: dict[str, list[float]] = {"ours": [], "ours+kv": [], "bare": []}
    for _ in range(repeats):
        for mode, per_repeat in rates.items():
            t0 = time.perf_counter()
            if mode == "bare":
                got = bare_forward(lm.model, lm.tokenizer, prompts, answer_ids, batch_size,
                                   lm.chat_template)
            else:
                lm.prefix_cache = mode == "ours+kv"
                with QueryEngine(value, value.n_features, batch_size=batch_size) as engine:
                    got = engine(masks)
            per_repeat.append(n / (time.perf_counter() - t0))
            if not np.all(np.isfinite(got)):
                raise RuntimeError(f"{mode} returned non-finite values")
    lm.prefix_cache = False
    result = {mode: statistics.median(r) for mode, r in rates.items()}
    for mode in ("ours", "ours+kv"):
        result[f"{mode}/bare"] = statistics.median(
            a / b for a, b in zip(rates[mode], rates["bare"], strict=True))
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--config-size", choices=sorted(CONFIGS), default=None,
                        help="a random-weight Llama of this size instead of SmolLM2-135M")
    parser.add_argument("--dtype", default=None,
                        help="weights' dtype (default: bfloat16 on a GPU, float32 on a CPU)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="default: chosen from free memory by the adapter")
    parser.add_argument("--queries", type=int, default=32, help="masks per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--words", type=int, nargs="+", default=[30, 90],
                        help="context lengths in words (the features)")
    parser.add_argument("--densities", type=float, nargs="+", default=[0.3, 0.7],
                        help="fractions of the features kept by the random masks")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args(argv)

    import torch

    from interplay.models.hf import auto_batch_size
    from interplay.values.text import GenerativeValue, TextFeatures

    if args.threads:
        torch.set_num_threads(args.threads)
    on_gpu = str(args.device).startswith("cuda")
    dtype = getattr(torch, args.dtype or ("bfloat16" if on_gpu else "float32"))
    if args.config_size:
        lm = build_random_llama(args.config_size, device=args.device, dtype=dtype)
        name = f"random Llama {args.config_size}"
    else:
        from interplay.models.embedded import load_smollm2

        lm = load_smollm2(device=args.device)
        lm.model.to(dtype)
        name = "SmolLM2-135M-Instruct"
    n_params = sum(p.numel() for p in lm.model.parameters())
    print(f"{name}: {n_params / 1e6:.0f} M parameters on {lm.device}, "
          f"torch threads {torch.get_num_threads()}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'words':>5} {'density':>7} {'tokens':>6} {'batch':>5} {'ours q/s':>9} "
          f"{'ours+kv q/s':>11} {'bare q/s':>9} {'ours/bare':>9} {'ours+kv/bare':>12}")
    rng = np.random.default_rng(0)
    for n_words in args.words:
        features = TextFeatures.from_text(context_text(n_words), prefix=INSTRUCTION,
                                          suffix=QUESTION)
        value = GenerativeValue(lm, features, answer=ANSWER)
        n_answer = len(lm.answer_token_ids(ANSWER))
        for density in args.densities:
            masks = rng.random((args.queries, value.n_features)) < density
            tokens = [lm.count_tokens(p) + n_answer for p in value.render(masks)]
            batch = args.batch_size or auto_batch_size(lm.model, max(tokens), device=lm.device,
                                                       n_answer=n_answer)
            lm.batch_size = batch
            r = measure(lm, value, masks, batch, args.repeats)
            print(f"{n_words:>5} {density:>7.1f} {np.mean(tokens):>6.0f} {batch:>5} "
                  f"{r['ours']:>9.2f} {r['ours+kv']:>11.2f} {r['bare']:>9.2f} "
                  f"{r['ours/bare']:>9.2f} {r['ours+kv/bare']:>12.2f}", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}; median of {args.repeats} repeats of "
          f"{args.queries} queries")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
