"""Attention-head pruning study: interaction surrogates vs. Banzhaf vs. random orders.

Features are the attention heads of a causal LM (SmolLM2-135M-Instruct: 30 layers × 9 heads =
270 features), or whole layers (``--unit layer``), or the heads of a few layers
(``--layers -4 -3 -2 -1``); a mask switches heads off through forward pre-hooks on the
attention output projections (:class:`interplay.values.heads.AttentionHeadValue`). The value
is a task score on short factual prompts with one-token answers that the unmasked model gets
right: ``--score`` logprob (mean log p of the answers), accuracy or margin (smallest logit
margin), over the first ``--prompts`` prompts.

Every mask is evaluated once: all three scores of all prompts are stored per mask in an
``.npz`` file (``--cache``), so every budget, score, prompt count, method and removal order
below reuses one query set, and a rerun queries nothing it has already seen.

1. Each method (``--methods``, default :data:`METHODS`: ``proxyspex`` and ``stacked``, the
   default of :func:`interplay.explain`) is fitted at every budget of ``--budgets`` (uniform random masks; a smaller
   budget's masks are a prefix of a larger one's, so the largest budget pays for all).
   Banzhaf values are a ridge regression on the same masks (a linear surrogate). R² is
   :func:`interplay.metrics.faithfulness` on ``--test`` fresh uniform masks.
2. ``--sweep``: the same R² at ``--sweep-budget`` for every score and prompt count (no new
   queries beyond the test masks).
3. ``--regime-budget``: masks drawn where pruning happens (1..``--max-removed``·n features
   removed), the ``stacked`` candidates and a Banzhaf regression fitted to them, R² on fresh
   masks of that regime.
4. Removal orders from the largest budget: greedy backward elimination on each method's
   surrogate (interactions used; ties, i.e. heads absent from a sparse surrogate, broken by
   the Banzhaf values), the Banzhaf order, the same two from the regime fits, and
   ``--random`` random orders. Each order is followed on the real model and the task score
   measured at ``--points`` + 1 numbers of heads kept; the random orders give a median and
   a min–max band.

Run::

    .venv/bin/python benchmarks/heads.py --regime-budget 1000 --sweep   # the docs' tables
    .venv/bin/python benchmarks/heads.py --unit layer --budgets 250 500 --test 150 \
        --regime-budget 400 --test-regime 100 --png docs/img/heads_pruning_layers.png
    .venv/bin/python benchmarks/heads.py --model tiny      # tiny random Llama, seconds
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

import interplay
from interplay.atomic import write_bytes_atomic
from interplay.metrics import faithfulness, r2_score, sample_masks
from interplay.solvers import available_methods, get_solver
from interplay.solvers.stacked import fit_candidates
from interplay.values.heads import (
    SCORES,
    AttentionHeadValue,
    marginal_removal_order,
    pruning_curve,
    surrogate_removal_order,
)

#: Surrogates fitted when ``--methods`` is not given (the tables of docs/applications.md).
METHODS = ("proxyspex", "stacked")

#: Short factual prompts with one-token answers, each the greedy answer of the unmasked
#: SmolLM2-135M-Instruct (``--prompts K`` uses the first K).
QA = [
    ("The capital of France is", " Paris"),
    ("The opposite of hot is", " cold"),
    ("Monday, Tuesday,", " Wednesday"),
    ("One, two, three,", " four"),
    ("The opposite of up is", " down"),
    ("Water freezes at zero degrees", " Celsius"),
    ("The capital of Japan is", " Tokyo"),
    ("The capital of Italy is", " Rome"),
    ("The capital of Germany is", " Berlin"),
    ("The opposite of yes is", " no"),
    ("A, B, C, D,", " E"),
    ("The capital of Spain is", " Madrid"),
]


class ExampleScoreCache:
    """Every score of every prompt for each mask ever queried, in memory and in an .npz file.

    Parameters
    ----------
    value : AttentionHeadValue
        The head value function (its own ``score`` is ignored: all scores are kept).
    feature_heads : (n_heads,) int array
        The feature that gates each head (``arange(n_heads)`` when features are heads).
    path : str or Path, optional
        The .npz file; loaded when it exists for the same value function, rewritten after
        every batch of new masks.
    """

    #: New masks evaluated between two saves of the file.
    SAVE_EVERY = 128

    def __init__(self, value: AttentionHeadValue, feature_heads: np.ndarray, path=None):
        self.value = value
        self.feature_heads = np.asarray(feature_heads, dtype=np.int64)
        self.n_features = int(self.feature_heads.max()) + 1
        self.path = None if path is None else Path(path)
        self.identity = f"{value.fingerprint()}:{self.feature_heads.tobytes().hex()}"
        self.rows: dict[bytes, int] = {}
        self.scores = {name: np.empty((0, value.n_examples)) for name in SCORES}
        self.n_model_queries = 0
        self.model_seconds = 0.0
        if self.path is not None and self.path.exists():  # our own file: plain arrays only
            with np.load(self.path) as saved:
                if str(saved["identity"]) == self.identity:
                    masks = np.unpackbits(saved["masks"], axis=1)[:, : self.n_features]
                    self.rows = {m.tobytes(): i for i, m in enumerate(masks.astype(bool))}
                    self.scores = {name: saved[name] for name in SCORES}

    def example_scores(self, masks: np.ndarray) -> dict[str, np.ndarray]:
        """``{score: (N, n_examples)}`` for (N, n_features) bool masks, querying new ones."""
        masks = np.asarray(masks, dtype=bool)
        keys = [m.tobytes() for m in masks]
        new = list(dict.fromkeys(k for k in keys if k not in self.rows))
        for start in range(0, len(new), self.SAVE_EVERY):
            chunk = new[start : start + self.SAVE_EVERY]
            fresh = np.array([np.frombuffer(k, dtype=bool) for k in chunk])
            tic = time.perf_counter()
            got = self.value.example_scores(fresh[:, self.feature_heads])
            self.model_seconds += time.perf_counter() - tic
            self.n_model_queries += len(chunk)
            first = len(self.rows)
            self.rows.update({k: first + i for i, k in enumerate(chunk)})
            self.scores = {
                name: np.concatenate([self.scores[name], got[name]]) for name in SCORES
            }
            self.save()
        index = np.array([self.rows[k] for k in keys], dtype=np.int64)
        return {name: values[index] for name, values in self.scores.items()}

    def value_function(self, score: str, n_prompts: int) -> Callable[[np.ndarray], np.ndarray]:
        """``f(masks) -> (N,)``: the mean ``score`` over the first ``n_prompts`` prompts."""

        def f(masks: np.ndarray) -> np.ndarray:
            return self.example_scores(masks)[score][:, :n_prompts].mean(axis=1)

        return f

    def save(self) -> None:
        if self.path is None:
            return
        masks = np.zeros((len(self.rows), self.n_features), dtype=bool)
        for key, i in self.rows.items():
            masks[i] = np.frombuffer(key, dtype=bool)
        buffer = io.BytesIO()
        np.savez(buffer, identity=self.identity, masks=np.packbits(masks, axis=1), **self.scores)
        write_bytes_atomic(self.path, buffer.getvalue())


def value_noise(cache: ExampleScoreCache, masks: np.ndarray, examples, tokenizer) -> float:
    """Largest |difference| of any per-prompt score when ``masks`` are evaluated again.

    The second evaluation bypasses the cache, runs the masks in reverse order and three
    masks per forward pass (another batch layout than the first).
    """
    first = cache.example_scores(masks)
    value = cache.value
    again = AttentionHeadValue(
        value.model, examples, tokenizer=tokenizer, batch_size=3 * value.n_examples,
        sites=value.sites,
    ).example_scores(masks[::-1][:, cache.feature_heads])
    return max(float(np.abs(again[name][::-1] - first[name]).max()) for name in SCORES)


def banzhaf_by_regression(masks: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, float]:
    """Linear model y ≈ b + Σ β_i m_i, ridge strength by leave-one-out CV. Returns (β, b).

    On uniform masks β_i estimates the Banzhaf value of feature i.
    """
    from sklearn.linear_model import RidgeCV

    model = RidgeCV(alphas=np.logspace(-3, 4, 15)).fit(masks.astype(np.float64), values)
    return model.coef_, float(model.intercept_)


def load_model(name: str):
    """(model, tokenizer, examples) for ``smollm2`` (the packaged GGUF) or ``tiny``."""
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
        for _ in range(len(QA))
    ]
    return model, tokenizer, examples


def fit(method: str, cache: ExampleScoreCache, f, budget: int, args):
    """One method's surrogate of ``f`` at ``budget`` queries.

    Returns the Interactions, the fitting time (s, model time excluded) and the (N, n)
    masks it queried.
    """
    options = {"exact_sparse": False} if method == "stacked" else {}
    solver = get_solver(method)(
        budget=budget, max_order=args.max_order, random_state=args.seed, **options
    )
    asked: list[np.ndarray] = []

    def recorded(masks: np.ndarray) -> np.ndarray:
        asked.append(np.asarray(masks, dtype=bool))
        return f(masks)

    tic, model_s = time.perf_counter(), cache.model_seconds
    result = interplay.explain(recorded, cache.n_features, method=solver)
    seconds = time.perf_counter() - tic - (cache.model_seconds - model_s)
    return result, seconds, np.concatenate(asked)


def r2_row(
    cache: ExampleScoreCache,
    methods: Sequence[str],
    budget: int,
    score: str,
    n_prompts: int,
    test_masks: np.ndarray,
    args,
) -> dict[str, object]:
    """Fit every method and the Banzhaf regression; R² on the test masks."""
    f = cache.value_function(score, n_prompts)
    test_values = f(test_masks)
    row: dict[str, object] = {"test std": float(test_values.std())}
    masks = None
    for method in methods:
        result, seconds, asked = fit(method, cache, f, budget, args)
        check = faithfulness(result, None, masks=test_masks, values=test_values)
        row[method] = (check.r2, len(result), seconds, result)
        masks = asked if masks is None else masks
    beta, intercept = banzhaf_by_regression(masks, f(masks))
    row["banzhaf"] = r2_score(test_values, intercept + test_masks @ beta)
    row["beta"], row["intercept"] = beta, intercept
    return row


def pruning_regime(cache: ExampleScoreCache, uniform: dict, methods: Sequence[str], args):
    """Surrogates fitted where pruning happens: masks with k ~ U{1..max_removed·n} removed.

    The masks come from :func:`interplay.metrics.sample_masks` (``"few_removed"``), the
    surrogate is the stack of :func:`interplay.solvers.stacked.fit_candidates` (linear,
    hierarchical pairs, trees; no uniform design needed) and the marginal baseline a
    Banzhaf-style regression on the same masks. R² is measured on fresh masks of the same
    regime, for these and for the uniform-design surrogates ``uniform``.
    """
    n = cache.n_features
    f = cache.value_function(args.score, args.prompts)
    draw = sample_masks(n, args.regime_budget + args.test_regime, distribution="few_removed",
                        max_removed=args.max_removed, random_state=20_000 + args.seed)
    train, test = draw[: args.regime_budget], draw[args.regime_budget :]
    queried = cache.n_model_queries
    y, test_values = f(train), f(test)
    tic = time.perf_counter()
    stack, held_out = fit_candidates(train, y, candidates=("linear", "pairs", "trees"),
                                     max_order=args.max_order, random_state=args.seed)
    fit_s = time.perf_counter() - tic
    beta, intercept = banzhaf_by_regression(train, y)
    print(f"\npruning regime: {args.regime_budget} masks, 1..{int(args.max_removed * n)} of "
          f"{n} removed ({cache.n_model_queries - queried} new model queries); R² on "
          f"{test.shape[0]} fresh masks of the regime (test std {test_values.std():.3f})")
    r2 = {f"regime stack ({stack.name})": faithfulness(
              stack.expansion, None, masks=test, values=test_values).r2,
          "regime banzhaf regression": r2_score(test_values, intercept + test @ beta)}
    r2.update({f"uniform-design {m}": faithfulness(
        uniform[m][3], None, masks=test, values=test_values).r2 for m in methods})
    r2["uniform-design banzhaf regression"] = r2_score(
        test_values, uniform["intercept"] + test @ uniform["beta"])
    for name, value in r2.items():
        print(f"  {name:>44}  R² {value:7.3f}")
    print("  held-out R² of each candidate: "
          + "  ".join(f"{k} {v:.3f}" for k, v in held_out.items())
          + f"   ({len(stack.expansion)} terms, fit {fit_s:.0f} s)")
    return {"stack": stack.expansion, "beta": beta}


def print_r2_table(title: str, rows: dict[str, dict], methods: Sequence[str]) -> None:
    print(f"\n{title}")
    header = " ".join(f"{m + ' R²':>14} {'terms':>6} {'fit s':>6}" for m in methods)
    print(f"{'':>18} {header} {'banzhaf R²':>11} {'test std':>9}")
    for label, row in rows.items():
        cells = " ".join(
            f"{row[m][0]:>14.3f} {row[m][1]:>6d} {row[m][2]:>6.1f}" for m in methods
        )
        print(f"{label:>18} {cells} {row['banzhaf']:>11.3f} {row['test std']:>9.3f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", choices=["smollm2", "tiny"], default="smollm2")
    parser.add_argument("--methods", nargs="+", choices=available_methods(), default=None,
                        help=f"surrogates (default: {' '.join(METHODS)})")
    parser.add_argument("--budgets", nargs="+", type=int, default=None,
                        help="queries per surrogate (default 250 500 1000 2000; tiny 100 200)")
    parser.add_argument("--test", type=int, default=None,
                        help="fresh uniform masks for R² (default 300; tiny 60)")
    parser.add_argument("--score", choices=SCORES, default="logprob")
    parser.add_argument("--prompts", type=int, default=len(QA),
                        help=f"use the first K prompts (1..{len(QA)})")
    parser.add_argument("--unit", choices=["head", "layer"], default="head",
                        help="a feature is one head or all heads of one layer")
    parser.add_argument("--layers", nargs="+", type=int, default=None,
                        help="only these layers' heads are features (e.g. -4 -3 -2 -1)")
    parser.add_argument("--sweep", action="store_true",
                        help="R² for every score and prompt count at --sweep-budget")
    parser.add_argument("--sweep-budget", type=int, default=1000)
    parser.add_argument("--sweep-methods", nargs="+", choices=available_methods(),
                        default=["stacked"], help="surrogates of the sweep (default stacked)")
    parser.add_argument("--regime-budget", type=int, default=0,
                        help="masks of the pruning-regime design (0: skip it)")
    parser.add_argument("--test-regime", type=int, default=200,
                        help="fresh pruning-regime masks for its R²")
    parser.add_argument("--max-removed", type=float, default=0.5,
                        help="pruning regime: k ~ U{1..max_removed·n} features removed")
    parser.add_argument("--points", type=int, default=18, help="pruning levels (+1)")
    parser.add_argument("--random", type=int, default=5, help="random removal orders")
    parser.add_argument("--max-order", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--batch-size", type=int, default=96, help="sequences per forward")
    parser.add_argument("--cache", default=None,
                        help="the .npz query cache (default benchmarks/out/heads-<settings>.npz)")
    parser.add_argument("--png", default="docs/img/heads_pruning.png", help="'' for none")
    args = parser.parse_args(argv)
    methods = list(dict.fromkeys(args.methods or METHODS))
    tiny = args.model == "tiny"
    budgets = sorted(args.budgets or ([100, 200] if tiny else [250, 500, 1000, 2000]))
    n_test = args.test if args.test is not None else (60 if tiny else 300)
    if not 1 <= args.prompts <= len(QA):
        parser.error(f"--prompts must lie in 1..{len(QA)}")
    if min(budgets) < 20 or n_test < 2:
        parser.error("budgets must be at least 20 and --test at least 2")

    import torch

    torch.set_num_threads(args.threads)
    tic = time.perf_counter()
    model, tokenizer, examples = load_model(args.model)
    value = AttentionHeadValue(
        model, examples, tokenizer=tokenizer, layers=args.layers, batch_size=args.batch_size
    )
    heads_layer = value.heads[:, 0]
    feature_heads = (
        np.unique(heads_layer, return_inverse=True)[1]
        if args.unit == "layer"
        else np.arange(value.n_features)
    )
    layers = "all" if args.layers is None else "_".join(map(str, args.layers))
    cache_path = args.cache or f"benchmarks/out/heads-{args.model}-{args.unit}-{layers}.npz"
    cache = ExampleScoreCache(value, feature_heads, cache_path)
    n = cache.n_features
    print(
        f"model={args.model}  features n={n} ({args.unit}s of {len(value.sites)} layers, "
        f"{value.n_features} heads)  prompts={args.prompts}  score={args.score}  "
        f"methods={','.join(methods)}  budgets={budgets}  test={n_test}  seed={args.seed}  "
        f"load {time.perf_counter() - tic:.1f} s  cache {cache_path} ({len(cache.rows)} masks)"
    )
    ones = np.ones((1, n), dtype=bool)
    unmasked = {name: float(s[0, : args.prompts].mean()) for name, s in
                cache.example_scores(ones).items()}
    print("unmasked model: " + "  ".join(f"{k} {v:.3f}" for k, v in unmasked.items()))

    # ------------------------------------------------------------- R² against budget
    test_masks = np.random.default_rng(10_000 + args.seed).random((n_test, n)) < 0.5
    tic = time.perf_counter()
    cache.value_function(args.score, args.prompts)(test_masks)
    noise = value_noise(cache, test_masks[:16], examples, tokenizer)
    print(f"value noise: {noise:.2e} (largest change of any score of any prompt when 16 "
          "test masks are evaluated again, in reverse order and another batch layout)")
    rows = {}
    for budget in budgets:
        queried = cache.n_model_queries
        rows[f"budget {budget}"] = r2_row(
            cache, methods, budget, args.score, args.prompts, test_masks, args
        )
        print(f"  fitted at budget {budget}: {cache.n_model_queries - queried} new model queries")
    query_s = time.perf_counter() - tic
    print_r2_table(
        f"R² on {n_test} fresh uniform masks, score={args.score}, {args.prompts} prompts "
        f"({cache.n_model_queries} model queries so far, {query_s:.0f} s)",
        rows,
        methods,
    )
    if args.sweep:
        sweep = {}
        for score in SCORES:
            for k in sorted({3, 6, args.prompts, len(QA)} - {0}):
                if k <= len(examples):
                    sweep[f"{score} ×{k}"] = r2_row(
                        cache, args.sweep_methods, args.sweep_budget, score, k, test_masks,
                        args,
                    )
        print_r2_table(f"R² at budget {args.sweep_budget}, every score and prompt count",
                       sweep, args.sweep_methods)

    # ------------------------------------------------------------- pruning curves
    best = rows[f"budget {budgets[-1]}"]
    beta = best["beta"]
    orders = {f"{m} greedy": surrogate_removal_order(best[m][3], tie_break=beta)
              for m in methods}
    orders["banzhaf"] = marginal_removal_order(beta)
    if args.regime_budget:
        regime = pruning_regime(cache, best, methods, args)
        orders["regime greedy"] = surrogate_removal_order(regime["stack"],
                                                          tie_break=regime["beta"])
        orders["regime banzhaf"] = marginal_removal_order(regime["beta"])
    rng = np.random.default_rng(args.seed)
    random_orders = [rng.permutation(n) for _ in range(args.random)]
    kept = np.unique(np.linspace(0, n, args.points + 1).round().astype(int))[::-1]
    f = cache.value_function(args.score, args.prompts)
    queried = cache.n_model_queries
    curves = {name: pruning_curve(f, order, kept) for name, order in orders.items()}
    random_curves = np.array([pruning_curve(f, order, kept) for order in random_orders])
    if args.random:
        curves["random median"] = np.median(random_curves, axis=0)
    print(
        f"\npruning: {args.score} over {args.prompts} prompts vs {args.unit}s kept, orders "
        f"from budget {budgets[-1]} ({cache.n_model_queries - queried} new model queries)"
    )
    spread = "  random min..max" if args.random else ""
    print(f"{'kept':>5} " + " ".join(f"{name:>17}" for name in curves) + spread)
    for row, k in enumerate(kept):
        cells = " ".join(f"{curves[name][row]:>17.3f}" for name in curves)
        band = (f"  {random_curves[:, row].min():.3f}..{random_curves[:, row].max():.3f}"
                if args.random else "")
        print(f"{k:>5} {cells}{band}")
    inner = (kept > 0) & (kept < n)
    print(f"mean over the {int(inner.sum())} inner levels (higher is better): "
          + "  ".join(f"{name} {float(np.mean(c[inner])):.3f}" for name, c in curves.items()))
    pairs = [(f"{m} greedy", "banzhaf") for m in methods]
    if args.regime_budget:
        pairs += [("regime greedy", "regime banzhaf"), ("regime greedy", "banzhaf")]
    for mine, theirs in pairs:
        above = int(np.sum(curves[mine][inner] > curves[theirs][inner]))
        print(f"{mine} above {theirs} at {above} of {int(inner.sum())} inner levels")

    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 4.2))
        if args.random:
            ax.fill_between(kept, random_curves.min(axis=0), random_curves.max(axis=0),
                            color="grey", alpha=0.25, label=f"random (min–max of {args.random})")
        for name, c in curves.items():
            ax.plot(kept, c, marker="o", markersize=3,
                    color="grey" if name == "random median" else None, label=name)
        ax.set_xlabel(f"{args.unit}s kept")
        ax.set_ylabel(f"{args.score} ({args.prompts} prompts)")
        ax.set_title(f"Pruning {args.model}: {n} {args.unit}s, orders from "
                     f"{budgets[-1]} queries")
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        Path(args.png).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.png, dpi=110)
        print(f"wrote {args.png}")
    print(f"model queries this run: {cache.n_model_queries}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
