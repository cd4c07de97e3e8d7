"""Attention-head pruning study: ProxySPEX interactions vs. marginal (Banzhaf/Shapley) scores.

Features are the attention heads of a causal LM (SmolLM2-135M-Instruct: 30 layers × 9 heads =
270 features); a mask switches heads off through forward pre-hooks on the attention output
projections (:class:`interplay.values.heads.AttentionHeadValue`); the value is the mean
log-probability of the correct answers of a few short factual prompts.

1. ProxySPEX queries ``--budget`` uniformly random head masks and returns a sparse Fourier
   surrogate of the task score.
2. Three removal orders are built *from those same queries* (no extra model calls):
   - ``proxyspex``: greedy backward elimination on the ProxySPEX surrogate (interactions used),
   - ``banzhaf``: Banzhaf values by least squares on the same masks (a linear model),
   - ``proxyspex+bz``: the same greedy elimination, ties (heads absent from the sparse
     surrogate) broken by the Banzhaf values,
   - ``shapley``: Shapley values of the ProxySPEX surrogate (marginal scores of the same
     surrogate, interactions ignored when ranking).
3. Each order is followed on the real model: heads are removed, least important first, and
   the task score is measured at a grid of numbers of heads kept.

It prints the timings, the faithfulness R² of both surrogates on fresh random masks, the top
interactions, and the pruning-curve table, and writes a PNG.

Run::

    .venv/bin/python benchmarks/heads.py                       # SmolLM2, 270 heads (~10 min)
    .venv/bin/python benchmarks/heads.py --model tiny          # tiny random GPT-2, seconds
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import interplay
from interplay.metrics import faithfulness, r2_score
from interplay.values.heads import (
    AttentionHeadValue,
    marginal_removal_order,
    pruning_curve,
    surrogate_removal_order,
)

#: Short factual prompts with one-token answers (for SmolLM2's tokenizer).
QA = [
    ("The capital of France is", " Paris"),
    ("The capital of Japan is", " Tokyo"),
    ("Two plus two equals", " four"),
    ("The opposite of hot is", " cold"),
    ("The color of the clear sky is", " blue"),
    ("Monday, Tuesday,", " Wednesday"),
]


class Recorder:
    """Value function wrapper that keeps every (mask, value) it forwards."""

    def __init__(self, function):
        self.function = function
        self.masks: list[np.ndarray] = []
        self.values: list[np.ndarray] = []

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        values = np.asarray(self.function(masks), dtype=np.float64)
        self.masks.append(np.asarray(masks, dtype=bool).copy())
        self.values.append(values)
        return values

    def data(self) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(self.masks), np.concatenate(self.values)


def banzhaf_by_regression(masks: np.ndarray, values: np.ndarray, alpha: float = 1e-3):
    """Linear model y ≈ b + Σ β_i m_i by (lightly) ridge-regularised least squares.

    On uniform masks β_i estimates the Banzhaf value of feature i. Returns (β, b).
    """
    x = masks.astype(np.float64)
    xm, ym = x.mean(axis=0), values.mean()
    xc = x - xm
    lam = alpha * x.shape[0]
    beta = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ (values - ym))
    return beta, ym - xm @ beta


def load_model(name: str):
    if name == "smollm2":
        from interplay.models.embedded import smollm2_gguf_path
        from interplay.models.gguf import load_gguf

        model, tokenizer = load_gguf(smollm2_gguf_path())
        return model, tokenizer, QA
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from interplay.models.tiny import build_tiny_causal_lm

    folder = build_tiny_causal_lm(Path(tempfile.mkdtemp()) / "tiny", arch="llama", seed=0)
    model = AutoModelForCausalLM.from_pretrained(folder)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    rng = np.random.default_rng(0)
    vocab = len(tokenizer)
    examples = [
        (rng.integers(5, vocab, size=6).tolist(), rng.integers(5, vocab, size=1).tolist())
        for _ in range(6)
    ]
    return model, tokenizer, examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["smollm2", "tiny"], default="smollm2")
    parser.add_argument(
        "--budget",
        type=int,
        default=None,
        help="ProxySPEX queries (default 500 for smollm2, 400 for tiny)",
    )
    parser.add_argument(
        "--test",
        type=int,
        default=None,
        help="fresh random masks for faithfulness R² (default budget/10)",
    )
    parser.add_argument("--points", type=int, default=10, help="points on each pruning curve")
    parser.add_argument("--max-order", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--batch-size", type=int, default=96, help="sequences per forward")
    parser.add_argument("--png", default="docs/img/heads_pruning.png")
    parser.add_argument(
        "--cache-dir",
        default=None,
        help="query-engine cache (a rerun with the same settings is free)",
    )
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    tic = time.perf_counter()
    model, tokenizer, examples = load_model(args.model)
    value = AttentionHeadValue(model, examples, tokenizer=tokenizer, batch_size=args.batch_size)
    n = value.n_features
    load_s = time.perf_counter() - tic
    budget = args.budget or (500 if args.model == "smollm2" else 400)
    n_test = args.test if args.test is not None else max(20, budget // 10)
    print(
        f"model={args.model}  heads n={n} ({len(value.sites)} layers)  "
        f"eval examples={value.n_examples}  budget={budget}  seed={args.seed}  "
        f"torch threads={args.threads}"
    )
    print(
        f"load: {load_s:.1f} s   unmasked score (mean log p of answers): "
        f"{value.unmasked_score():.4f}"
    )

    from interplay.runtime import QueryEngine

    engine = QueryEngine(value, n, batch_size=64, cache_dir=args.cache_dir)
    recorder = Recorder(engine)
    tic = time.perf_counter()
    result = interplay.explain(
        recorder,
        n,
        method="proxyspex",
        budget=budget,
        max_order=args.max_order,
        random_state=args.seed,
        feature_names=value.feature_names,
    )
    explain_s = time.perf_counter() - tic
    masks, values = recorder.data()
    print(
        f"proxyspex: {result.n_queries} queries, {len(result)} terms, {explain_s:.1f} s "
        f"({explain_s / max(1, result.n_queries):.2f} s/query incl. fitting)"
    )

    beta, intercept = banzhaf_by_regression(masks, values)

    # faithfulness on fresh uniform masks
    rng = np.random.default_rng(args.seed + 1)
    test_masks = rng.random((n_test, n)) < 0.5
    tic = time.perf_counter()
    test_values = engine(test_masks)
    test_s = time.perf_counter() - tic
    r2_proxy = faithfulness(result, None, masks=test_masks, values=test_values).r2
    r2_linear = r2_score(test_values, intercept + test_masks @ beta)
    print(
        f"faithfulness R² on {n_test} fresh random masks ({test_s:.1f} s): "
        f"proxyspex {r2_proxy:.3f}   linear/banzhaf {r2_linear:.3f}"
    )

    print("\ntop interactions (Fourier coefficients, degree >= 2):")
    for term in result.top(5, min_order=2):
        print(f"  {term}")

    orders = {
        "proxyspex": surrogate_removal_order(result),
        "proxyspex+bz": surrogate_removal_order(result, tie_break=beta),
        "banzhaf": marginal_removal_order(beta),
        "shapley": marginal_removal_order(result.shapley_values()),
    }
    kept = np.unique(np.linspace(0, n, args.points + 1).round().astype(int))[::-1]
    curves = {}
    tic = time.perf_counter()
    for name, order in orders.items():
        curves[name] = pruning_curve(engine, order, kept)
    curve_s = time.perf_counter() - tic
    print(
        f"\npruning curves: task score (mean log p of answers) vs heads kept "
        f"({curve_s:.1f} s, {len(orders) * kept.size} queries)"
    )
    print(f"{'kept':>6} " + " ".join(f"{name:>12}" for name in curves))
    for row, k in enumerate(kept):
        print(f"{k:>6} " + " ".join(f"{curves[name][row]:>12.3f}" for name in curves))
    area = {name: float(np.mean(c)) for name, c in curves.items()}
    print(
        "mean over the grid (higher is better): "
        + "  ".join(f"{name} {a:.3f}" for name, a in area.items())
    )

    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        for name, c in curves.items():
            ax.plot(kept, c, marker="o", label=name)
        ax.set_xlabel("attention heads kept")
        ax.set_ylabel("mean log p(correct answer)")
        ax.set_title(f"Head pruning, {args.model} ({n} heads, {result.n_queries} queries)")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        Path(args.png).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.png, dpi=120)
        print(f"wrote {args.png}")
    total = time.perf_counter() - tic + explain_s + test_s + load_s
    print(f"total wall time ≈ {total:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
