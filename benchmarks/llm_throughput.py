"""Throughput of the embedded LLM value function (SmolLM2-135M-Instruct, CPU).

Times ``GenerativeValue`` on random masks of the demo prompt (30 word features) for several
batch sizes and prints wall seconds and CPU seconds per query. CPU seconds (all threads) are
the figure to trust on a shared machine; on an idle machine with c cores, queries per second
are about c / (CPU s per query).

    python benchmarks/llm_throughput.py [--queries 64] [--batch-sizes 1 8 16 32] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=64)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 8, 16, 32])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=12)
    args = parser.parse_args(argv)

    import torch

    from interplay.demo_llm import PROMPT
    from interplay.models.embedded import load_smollm2
    from interplay.values.text import GenerativeValue

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    lm = load_smollm2(device="cpu")
    print(f"load: {time.perf_counter() - t0:.1f} s (cached dequantized copy after the first run)")
    t0 = time.perf_counter()
    value = GenerativeValue(lm, PROMPT, max_new_tokens=args.max_new_tokens)
    print(f"generate answer once: {time.perf_counter() - t0:.1f} s -> {value.answer!r}")
    n_prompt = lm.count_tokens(PROMPT)
    n_answer = len(lm.answer_token_ids(value.answer))
    print(f"{value.n_features} features, {n_prompt} prompt tokens (full), {n_answer} answer tokens,"
          f" torch threads {args.threads}")
    masks = np.random.default_rng(0).random((args.queries, value.n_features)) < 0.5
    print(f"\n{'batch':>6} {'prefix cache':>12} {'queries':>8} {'wall s/query':>13} "
          f"{'CPU s/query':>12} {'q/s (wall)':>11}")
    for batch in args.batch_sizes:
        for prefix_cache in (False, True):
            lm.batch_size, lm.prefix_cache = batch, prefix_cache
            w0, c0 = time.perf_counter(), time.process_time()
            value(masks)
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            print(f"{batch:>6} {prefix_cache!s:>12} {args.queries:>8} "
                  f"{wall / args.queries:>13.3f} {cpu / args.queries:>12.3f} "
                  f"{args.queries / wall:>11.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
