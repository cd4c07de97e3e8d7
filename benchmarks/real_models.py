"""Faithfulness on real value functions: methods × budgets × texts/prompts/seeds.

Prints a table of held-out R² (median and worst case over texts or seeds) for every method
and budget, writes every measurement to ``benchmarks/results/real_models.jsonl`` (committed,
so a clean clone prints the tables) and plots
``docs/img/real_models.png``.

Value functions
---------------
- ``sentiment``: the embedded MiniLM sentiment classifier (logit of the class predicted on the
  full text), word features, on review texts of 61–94 words, each joining four human-rated
  movie-review sentences of VADER (a negation, a contrast, a positive and a negative one;
  ``benchmarks/data/review_texts.json``, MIT licence in ``benchmarks/data/vader_LICENSE.txt``).
- ``multifact``: the embedded SmolLM2-135M, log p(answer | prompt), on prompts of ten short
  facts (sentence features) and a question, kept unmasked, whose answer needs two facts
  together (``benchmarks/data/multi_fact_prompts.json``). The answer is scored as the model
  would begin its chat reply, without a leading space (until 4 December it was scored with
  one, " Lisbon", a token sequence SmolLM2 does not start a reply with: log p −16.6 on the
  full prompt against −7.7).
- ``digits``: a scikit-learn MLP on the 8×8 digits (pixel features, a removed pixel is set
  to 0; log-odds of the true class; the same function as ``benchmarks/faithfulness.py``).
- ``hier1000``, ``parity250``: the planted hierarchical (n = 1000) and parity-like (n = 250)
  functions of ``benchmarks/faithfulness.py``.

Metrics
-------
- ``r2``: R² on 1 000 fresh uniform masks (fewer for the slow LM), the same for every method.
- ``r2_near``: R² on masks with 1 to 10 % of the features removed.
- ``drop_r`` (r = 1, 2, 4, 8): |f(full) − f(full without the r features the explanation
  chooses greedily)|, relative to the same quantity for the first-order LassoCV baseline.
- ``--ceiling``: for the tasks of at most :data:`CEILING_MAX_N` features (the multi-fact
  prompts), every mask is queried (through the cache) and the exact Fourier expansion,
  truncated at each order, is scored on the same test masks: the best uniform-measure fit
  any surrogate of that order can reach, whatever masks it queries; beside it, ``stacked``
  (seed 0) at :data:`CEILING_BUDGETS`, every query served by the cube (how many uniform
  masks a fit needs to come near the ceiling); and for removal, the largest output change
  of any r features beside that of ``stacked``'s choice, both relative to the ``lasso``
  baseline's (at :data:`CEILING_REMOVAL_BUDGET` queries).

Shared queries
--------------
``stacked``, ``proxyspex`` and the ``lasso`` baseline (first-order LassoCV on uniform masks,
ContextCite's method: ``stacked`` restricted to its linear candidate) draw their uniform
masks from one stream per seed, and a smaller budget draws a prefix of a larger one's, so
the query cache (interplay's QueryEngine SQLite cache, ``benchmarks/out/real_models_cache``)
serves them all; ``banzhaf`` and ``faith_banzhaf`` share a second stream. The other methods
have designs of their own; on the language models they run at fewer budgets (see
``--costly-budgets``), and a cell never run is left empty in the table.

Usage::

    nice -n 10 .venv/bin/python benchmarks/real_models.py            # full study (hours)
    .venv/bin/python benchmarks/real_models.py --quick               # planted + 2 texts
    .venv/bin/python benchmarks/real_models.py --table-only          # print from the results

A rerun reads finished cells from ``real_models.jsonl`` (delete a method's rows to measure it
again) and model values from the cache.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

DATA = ROOT / "benchmarks" / "data"
OUT = ROOT / "benchmarks" / "out"
RESULTS = ROOT / "benchmarks" / "results" / "real_models.jsonl"
CACHE = OUT / "real_models_cache"
PLOT = ROOT / "docs" / "img" / "real_models.png"

BUDGETS = [64, 128, 250, 500, 1000, 2000, 4000]
MAX_ORDER = 4
REMOVALS = (1, 2, 4, 8)
#: Methods that read the shared uniform streams (cheap to run at every budget from the cache).
POOLED = ("stacked", "lasso", "proxyspex", "banzhaf", "faith_banzhaf")
BASELINE = "lasso"
#: Texts/prompts on which the methods with designs of their own run (their queries are not
#: shared, and the models answer 1–30 queries a second on two CPU cores).
COSTLY_TASKS = 1
OURS = "stacked"
#: Largest number of features for which ``--ceiling`` queries every mask.
CEILING_MAX_N = 12
CEILING_ORDERS = (2, 3, 4, 5, 6)
#: Budgets at which ``--ceiling`` also scores ``stacked`` (every query served by the cube).
CEILING_BUDGETS = (250, 500, 750)
#: Budget of the fits whose removal choices ``--ceiling`` compares with the best choice.
CEILING_REMOVAL_BUDGET = 500


@dataclass
class Task:
    """One value function and how it is measured."""

    family: str
    name: str
    n: int
    build: Callable[[], Any]
    seeds: list[int]
    budgets: list[int]
    costly_budgets: list[int]
    n_test: int
    n_near: int
    extra: dict = field(default_factory=dict)


# ----------------------------------------------------------------------- value functions
def _engine(value_function: Any, n: int) -> Any:
    """A QueryEngine caching every model query on disk (keyed by the function's fingerprint)."""
    from interplay.runtime import QueryEngine

    return QueryEngine(value_function, n, cache_dir=CACHE, batch_size=32)


def sentiment_tasks(count: int, budgets: list[int], costly: list[int]) -> list[Task]:
    texts = json.loads((DATA / "review_texts.json").read_text())["texts"][:count]
    model: dict[str, Any] = {}

    def builder(text: str) -> Callable[[], Any]:
        def build() -> Any:
            from interplay.models.embedded import MiniLMSentiment
            from interplay.values.text import ClassifierValue

            if "m" not in model:
                model["m"] = MiniLMSentiment()
            f = ClassifierValue(model["m"], text, unit="word")
            return _engine(f, f.n_features)

        return build

    out = []
    for i, item in enumerate(texts):
        text = " ".join(item["sentences"])
        from interplay.values.text import TextFeatures

        n = TextFeatures.from_text(text, "word").n_features
        out.append(Task("sentiment", f"sentiment{i}", n, builder(text), [0], budgets,
                        costly if i < COSTLY_TASKS else [], 400, 200))
    return out


def multifact_tasks(count: int, budgets: list[int], costly: list[int]) -> list[Task]:
    prompts = json.loads((DATA / "multi_fact_prompts.json").read_text())["prompts"][:count]
    model: dict[str, Any] = {}

    def builder(item: dict) -> Callable[[], Any]:
        def build() -> Any:
            from interplay.models.embedded import load_smollm2
            from interplay.values.text import GenerativeValue, TextFeatures

            if "m" not in model:
                model["m"] = load_smollm2(num_threads=1)
            features = TextFeatures.from_documents(item["facts"], separator=" ",
                                                   suffix="\n" + item["question"])
            f = GenerativeValue(model["m"], features, answer=item["answer"])
            return _engine(f, f.n_features)

        return build

    return [Task("multifact", f"multifact{i}", len(item["facts"]), builder(item), [0], budgets,
                 costly if i < COSTLY_TASKS else [], 150, 60) for i, item in enumerate(prompts)]


def synthetic_tasks(names: list[str], seeds: list[int], budgets: list[int]) -> list[Task]:
    from faithfulness import build, spec_of

    out = []
    for name in names:
        family = "digits" if name == "digits64" else name
        n = {"digits64": 64, "hier1000": 1000, "parity250": 250}[name]
        out.append(Task(family, name, n, lambda name=name: build(spec_of(name)), seeds,
                        budgets, budgets, 1000, 500))
    return out


# ----------------------------------------------------------------------------- running
def explain(method: str, f: Any, n: int, budget: int, seed: int,
            options: dict | None = None) -> Any:
    """``method``'s explanation of f; ``options`` are keyword arguments of :class:`Stacked`
    (for ``stacked`` only)."""
    import interplay
    from interplay.solvers.stacked import Stacked

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == BASELINE:
            solver = Stacked(budget=budget, max_order=1, random_state=seed,
                             candidates=("linear",), exact_sparse=False, near_share=0.0,
                             path_share=0.0)
            from interplay.values.base import as_value_function

            result = solver.fit(as_value_function(f, n), n)
            result.method = BASELINE
            return result
        if options:
            return interplay.explain(f, n, method=Stacked(
                budget=budget, max_order=MAX_ORDER, random_state=seed, **options))
        return interplay.explain(f, n, method=method, budget=budget, max_order=MAX_ORDER,
                                 random_state=seed)


def measure(task: Task, method: str, budget: int, seed: int, f: Any,
            tests: dict[str, tuple[np.ndarray, np.ndarray]], options: dict | None = None,
            label: str | None = None) -> dict:
    """One row: ``method`` (with ``options``, see :func:`explain`; recorded as ``label``)
    scored on the test masks and by greedy removal."""
    from interplay.metrics import faithfulness, top_removal
    from interplay.solvers import BudgetError

    row: dict[str, Any] = {"task": task.name, "family": task.family, "method": label or method,
                           "budget": budget, "seed": seed, "n": task.n}
    tic = time.perf_counter()
    try:
        result = explain(method, f, task.n, budget, seed, options)
    except (BudgetError, ValueError) as exc:
        row["refused"] = str(exc).splitlines()[0][:200]
        return row
    row["seconds"] = time.perf_counter() - tic
    row["queries"] = int(result.n_queries)
    row["chosen"] = result.metadata["diagnostics"].get("chosen")
    row["path_gain"] = result.metadata["diagnostics"].get("path_gain")
    for key, (masks, values) in tests.items():
        row[key] = faithfulness(result, None, masks=masks, values=values).r2
    for r in REMOVALS:
        if r <= task.n:
            # drop_r: top_removal's greedy choice (the tables); drop_best_r: the best set on
            # the explanation (search="best", printed by removal_share.py)
            row[f"drop_{r}"] = abs(top_removal(result, f, r).true_change)
            row[f"drop_best_{r}"] = abs(top_removal(result, f, r, search="best").true_change)
    return row


def test_sets(task: Task, f: Any) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    from interplay.metrics import sample_masks

    uniform = sample_masks(task.n, task.n_test, random_state=12345)
    near = sample_masks(task.n, task.n_near, distribution="few_removed", random_state=54321)
    return {"r2": (uniform, np.asarray(f(uniform))), "r2_near": (near, np.asarray(f(near)))}


def load_results(path: Path = RESULTS) -> dict[tuple, dict]:
    """The rows of a results file (one JSON object a line), keyed by task, method, budget
    and seed; empty when there is no file."""
    rows = {}
    if path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            rows[(row["task"], row["method"], row["budget"], row["seed"])] = row
    return rows


def run(tasks: list[Task], methods: list[str]) -> dict[tuple, dict]:
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    done = load_results()
    for task in tasks:
        todo = [(m, b, s) for s in task.seeds for m in methods
                for b in (task.budgets if m in POOLED else task.costly_budgets)
                if (task.name, m, b, s) not in done]
        if not todo:
            continue
        f = task.build()
        tests = test_sets(task, f)
        # largest budgets first: the cache then serves every smaller prefix
        for method, budget, seed in sorted(todo, key=lambda t: (t[2], -t[1], t[0])):
            row = measure(task, method, budget, seed, f, tests)
            done[(task.name, method, budget, seed)] = row
            with RESULTS.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{task.name:12s} {method:14s} {budget:5d} seed {seed}: "
                  + (f"R² {row['r2']:.3f} near {row['r2_near']:.3f} ({row['seconds']:.1f}s"
                     f", {row.get('chosen')})" if "r2" in row else "refused"), flush=True)
        close = getattr(f, "close", None)
        if close:
            close()
    return done


def ceiling_table(tasks: list[Task]) -> str:
    """R² on each small task's test masks of its exact Fourier expansion truncated at each
    order in :data:`CEILING_ORDERS`, beside ``stacked`` (seed 0) at each budget of
    :data:`CEILING_BUDGETS` (its queries served by the queried cube), and their mean."""
    import interplay
    from interplay.metrics import faithfulness

    small = [t for t in tasks if t.n <= CEILING_MAX_N]
    header = ["task", "n", *[f"order ≤ {k}" for k in CEILING_ORDERS],
              *[f"{OURS} @ {b}" for b in CEILING_BUDGETS]]
    removals = [r for r in REMOVALS if all(r < t.n for t in small)]
    body, scores, removal_body, ratios = [], [], [], []
    for task in small:
        f = task.build()
        masks, values = test_sets(task, f)["r2"]
        exact = interplay.explain(f, task.n, method=OURS, budget=2**task.n).to_fourier()
        row = [faithfulness(exact.truncate(k), None, masks=masks, values=values).r2
               for k in CEILING_ORDERS]
        fits = {b: explain(OURS, f, task.n, b, 0)
                for b in dict.fromkeys([*CEILING_BUDGETS, CEILING_REMOVAL_BUDGET])}
        row += [faithfulness(fits[b], None, masks=masks, values=values).r2
                for b in CEILING_BUDGETS]
        scores.append(row)
        body.append([task.name, str(task.n), *[f"{v:.3f}" for v in row]])
        ratio = removal_ceiling(f, task.n, removals, exact, fits[CEILING_REMOVAL_BUDGET])
        ratios.append(ratio)
        removal_body.append([task.name, *[" / ".join(f"{v:.2f}" for v in x) for x in ratio]])
        close = getattr(f, "close", None)
        if close:
            close()
    if len(scores) > 1:
        body.append(["mean", "", *[f"{v:.3f}" for v in np.mean(scores, axis=0)]])
        median = np.median(np.asarray(ratios), axis=0)
        removal_body.append(["median", *[" / ".join(f"{v:.2f}" for v in x) for x in median]])
    return "\n".join([
        *_markdown("ceiling: R² of the exact expansion truncated at each order (every mask "
                   f"queried), and of {OURS} (seed 0) at more budgets on the same test masks",
                   header, body, 2),
        *_markdown(f"removal ceiling: |Δf| of the best r features (every choice queried) / "
                   f"of {OURS}'s greedy choice / of its best set, each relative to "
                   f"{BASELINE}'s, at {CEILING_REMOVAL_BUDGET} queries (seed 0)",
                   ["task", *[f"r = {r}" for r in removals]], removal_body, 1)])


def removal_ceiling(f: Any, n: int, removals: list[int], exact: Any, ours: Any
                    ) -> list[tuple[float, ...]]:
    """For each r: the largest |f(full) − f(full without r features)| over every choice of
    r features (the best set of ``exact``, f's expansion from every mask), and that of
    ``ours``'s (``stacked`` at :data:`CEILING_REMOVAL_BUDGET` queries, seed 0) greedy and
    best-set choices, each relative to that of the ``lasso`` baseline's (greedy) choice."""
    from interplay.metrics import top_removal

    lasso = explain(BASELINE, f, n, CEILING_REMOVAL_BUDGET, 0)
    out = []
    for r in removals:
        base = abs(top_removal(lasso, f, r).true_change)
        best = abs(top_removal(exact, f, r, search="best").true_change)
        out.append((best / base,
                    *[abs(top_removal(ours, f, r, search=search).true_change) / base
                      for search in ("greedy", "best")]))
    return out


# ----------------------------------------------------------------------------- reporting
def summarise(rows: list[dict], family: str, method: str, budget: int, key: str
              ) -> tuple[float, float, int] | None:
    """(median, worst, count) of ``key`` over the tasks and seeds of a family."""
    vals = [r[key] for r in rows if r["family"] == family and r["method"] == method
            and r["budget"] == budget and key in r]
    if not vals:
        return None
    return float(np.median(vals)), float(np.min(vals)), len(vals)


def removal_ratio(rows: list[dict], family: str, method: str, budget: int, r: int
                  ) -> float | None:
    """Median over tasks of drop_r(method) / drop_r(lasso) (> 1: moves the output more)."""
    ratios = removal_ratios(rows, family, method, budget, r)
    return float(np.median(ratios)) if ratios else None


def removal_ratios(rows: list[dict], family: str, method: str, budget: int, r: int,
                   key: str = "drop") -> list[float]:
    """{key}_r(method) / {key}_r(lasso) for every task and seed both were measured on
    (``key`` "drop": greedy choices; "drop_best": the best set on each explanation)."""
    column = f"{key}_{r}"
    base = {(x["task"], x["seed"]): x.get(column) for x in rows
            if x["family"] == family and x["method"] == BASELINE and x["budget"] == budget}
    ratios = []
    for x in rows:
        if x["family"] == family and x["method"] == method and x["budget"] == budget:
            b = base.get((x["task"], x["seed"]))
            if b and column in x:
                ratios.append(x[column] / b)
    return ratios


def _markdown(title: str, header: list[str], body: list[list[str]], labels: int) -> list[str]:
    """A titled markdown table; rows whose cells after the first ``labels`` are all empty
    are left out."""
    lines = [f"\n### {title}\n", "| " + " | ".join(header) + " |", "|---" * len(header) + "|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in body if any(cells[labels:])]
    return lines


FAMILIES = ["sentiment", "multifact", "digits", "hier1000", "parity250"]


def table(rows: list[dict], key: str = "r2") -> str:
    families = [f for f in FAMILIES if any(r["family"] == f for r in rows)]
    budgets = sorted({r["budget"] for r in rows})
    methods = sorted({r["method"] for r in rows},
                     key=lambda m: (m != OURS, m != BASELINE, m))
    lines = []
    for family in families:
        count = len({(r["task"], r["seed"]) for r in rows if r["family"] == family})
        body = []
        for method in methods:
            cells = [method]
            for b in budgets:
                s = summarise(rows, family, method, b, key)
                cells.append("" if s is None else f"{s[0]:.3f} ({s[1]:.2f})")
            body.append(cells)
        lines += _markdown(f"{family}: {key}, median (worst) over {count} texts/seeds",
                           ["method", *map(str, budgets)], body, 1)
    return "\n".join(lines)


def removal_table(rows: list[dict]) -> str:
    families = [f for f in FAMILIES if any(r["family"] == f for r in rows)]
    budgets = sorted({r["budget"] for r in rows})
    body = []
    for family in families:
        for r in REMOVALS:
            ratios = [removal_ratio(rows, family, OURS, b, r) for b in budgets]
            body.append([family, str(r)] + ["" if v is None else f"{v:.2f}" for v in ratios])
    return "\n".join(_markdown(
        f"removal: median over texts/seeds of |Δf| when {OURS}'s r features are removed, "
        f"relative to {BASELINE}'s (1.10 = 10 % more)",
        ["function", "r", *map(str, budgets)], body, 2))


def mean_r2(rows: list[dict], family: str, method: str, budget: int) -> float | None:
    vals = [r["r2"] for r in rows if r["family"] == family and r["method"] == method
            and r["budget"] == budget and "r2" in r]
    return float(np.mean(vals)) if vals else None


def paired_mean_r2(rows: list[dict], family: str, method: str, budget: int
                   ) -> tuple[float, float, int] | None:
    """Mean R² of ``method`` and of ``stacked`` over the tasks and seeds both were measured
    on (the methods with designs of their own run on the first text or prompt only), and
    their number."""
    def by_task(m: str) -> dict[tuple, float]:
        return {(r["task"], r["seed"]): r["r2"] for r in rows if r["family"] == family
                and r["method"] == m and r["budget"] == budget and "r2" in r}

    theirs, ours = by_task(method), by_task(OURS)
    common = sorted(set(theirs) & set(ours))
    if not common:
        return None
    return (float(np.mean([theirs[k] for k in common])),
            float(np.mean([ours[k] for k in common])), len(common))


def targets(rows: list[dict]) -> str:
    """The issue's targets for ``stacked``, each with the measured figure."""
    goals = [("sentiment", 250, 0.70), ("sentiment", 4000, 0.86), ("multifact", 250, 0.95),
             ("hier1000", 500, 0.92), ("parity250", 2000, 0.999)]
    body = []
    for family, budget, goal in goals:
        got = mean_r2(rows, family, OURS, budget)
        body.append([family, str(budget), f"≥ {goal}", "not measured" if got is None
                     else f"{got:.3f}", "" if got is None else ("yes" if got >= goal else "no")])
    lines = _markdown(f"targets: mean R² of {OURS}", ["function", "budget", "target",
                                                      "measured", "met"], body, 2)
    # at least as faithful as the best other method (within 0.01) in every cell, each
    # method compared with stacked on the tasks and seeds it was measured on
    cells = {(r["family"], r["budget"]) for r in rows if r["method"] == OURS}
    misses, missed = [], set()
    for family, budget in sorted(cells):
        for m in sorted({r["method"] for r in rows} - {OURS}):
            pair = paired_mean_r2(rows, family, m, budget)
            if pair is not None and pair[1] < pair[0] - 0.01:
                missed.add((family, budget))
                misses.append(f"{family} @ {budget}: {pair[1]:.3f} < {m} {pair[0]:.3f}"
                              + (f" on {pair[2]} tasks/seeds" if pair[2] > 1 else
                                 " on one task/seed"))
    lines.append(f"\nwithin 0.01 of every other method (mean R² on the tasks and seeds both "
                 f"were measured on) in {len(cells) - len(missed)} of {len(cells)} cells"
                 + ("; misses: " + "; ".join(misses) if misses else ""))
    return "\n".join(lines)


def summary_table(rows: list[dict]) -> str:
    """Per function and budget: ours, the LassoCV baseline and the best other method."""
    budgets = sorted({r["budget"] for r in rows})
    body = []
    for family in [f for f in FAMILIES if any(r["family"] == f for r in rows)]:
        ours, base, best = [f"**{OURS}**"], [BASELINE], ["best other"]
        for b in budgets:
            mine = summarise(rows, family, OURS, b, "r2")
            ours.append("" if mine is None else f"**{mine[0]:.3f}** ({mine[1]:.2f})")
            lasso = summarise(rows, family, BASELINE, b, "r2")
            base.append("" if lasso is None else f"{lasso[0]:.3f} ({lasso[1]:.2f})")
            others = [(summarise(rows, family, m, b, "r2"), m) for m in
                      sorted({r["method"] for r in rows} - {OURS, BASELINE})]
            others = [(v[0], m, v[2]) for v, m in others if v is not None]
            if others:
                value, who, k = max(others)
                part = "" if mine is None or k >= mine[2] else f" ({k} of {mine[2]})"
                best.append(f"{value:.3f} {who}{part}")
            else:
                best.append("")
        count = len({(r["task"], r["seed"]) for r in rows if r["family"] == family})
        body += [[f"{family} ({count})", *ours], ["", *base], ["", *best]]
    return "\n".join(_markdown("held-out R² on uniform masks, median (worst) over the texts, "
                               "prompts or seeds in brackets", ["function", "method",
                                                                *map(str, budgets)],
                               [[c[0], *c[1:]] for c in body], 2))


def plot(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = [f for f in FAMILIES if any(r["family"] == f for r in rows)]
    fig, axes = plt.subplots(1, len(families), figsize=(4 * len(families), 3.6), squeeze=False)
    methods = sorted({r["method"] for r in rows}, key=lambda m: (m != OURS, m != BASELINE, m))
    for ax, family in zip(axes[0], families, strict=True):
        for method in methods:
            pts = [(b, summarise(rows, family, method, b, "r2")) for b in BUDGETS]
            pts = [(b, s[0]) for b, s in pts if s is not None]
            if pts:
                style = {"lw": 2.5, "color": "k"} if method == OURS else {
                    "lw": 1, "color": plt.cm.tab10(methods.index(method) % 10),
                    "ls": "-" if methods.index(method) < 11 else "--"}
                ax.plot(*zip(*pts, strict=True), marker="o", ms=3, label=method, **style)
        ax.set_xscale("log")
        ax.set_ylim(-0.1, 1.02)
        ax.set_title(family)
        ax.set_xlabel("queries")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("median held-out R² (uniform masks)")
    legend: dict[str, Any] = {}  # every method once, whichever panel drew it
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    axes[0][-1].legend(list(legend.values()), list(legend), fontsize=7, loc="lower right")
    fig.tight_layout()
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(PLOT, dpi=110)


def spex_fallback(names: list[str], budgets: list[int], seed: int = 0) -> str:
    """SPEX against a first-order LassoCV fitted to SPEX's own samples (no extra query).

    Measures what a fallback inside SPEX's refit would give on dense functions.
    """
    from interplay.metrics import faithfulness
    from interplay.solvers.stacked import fit_candidates

    lines = [("\n### SPEX against a first-order LassoCV on SPEX's own samples "
             "(held-out uniform R²)\n"), "| function | budget | spex | lasso on spex's samples |",
             "|---|---|---|---|"]
    for task in synthetic_tasks(names, [seed], budgets):
        f = task.build()
        tests = test_sets(task, f)
        for budget in budgets:
            seen: list[np.ndarray] = []

            def recorded(masks: np.ndarray, f: Any = f, seen: list = seen) -> np.ndarray:
                seen.append(np.asarray(masks, dtype=bool))
                return f(np.asarray(masks, dtype=bool))

            try:
                result = explain("spex", recorded, task.n, budget, seed)
            except ValueError:
                continue
            masks = np.unique(np.concatenate(seen), axis=0)
            lasso, _ = fit_candidates(masks, f(masks), candidates=("linear",), max_order=1)
            uniform, values = tests["r2"]
            r2_spex = faithfulness(result, None, masks=uniform, values=values).r2
            r2_lasso = faithfulness(lasso.expansion, None, masks=uniform, values=values).r2
            lines.append(f"| {task.name} | {budget} | {r2_spex:.3f} | {r2_lasso:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from interplay.solvers import available_methods

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="planted functions and digits, two texts, budgets <= 1000")
    parser.add_argument("--table-only", action="store_true", help="print the saved results")
    parser.add_argument("--families", default="sentiment,multifact,digits,hier1000,parity250")
    parser.add_argument("--methods", default=",".join([BASELINE, *available_methods()]))
    parser.add_argument("--budgets", default=",".join(map(str, BUDGETS)))
    parser.add_argument("--costly-budgets", default="1000",
                        help="budgets of the non-pooled methods on the language models")
    parser.add_argument("--text-budgets", default="64,128,250,500,1000,2000",
                        help="budgets on the sentiment classifier (about 20 queries a second)")
    parser.add_argument("--texts", type=int, default=6, help="review texts (sentiment)")
    parser.add_argument("--prompts", type=int, default=3, help="multi-fact prompts (SmolLM2)")
    parser.add_argument("--lm-budgets", default="64,128,250,500,1000",
                        help="budgets on SmolLM2 (about ten queries a second on 2 CPU cores; "
                             "ten facts make 1 024 masks, so the cache serves every budget "
                             "once --ceiling has run)")
    parser.add_argument("--seeds", default="0,1", help="seeds of the synthetic functions")
    parser.add_argument("--ceiling", action="store_true",
                        help="the best R² of each order on the tasks of at most "
                             f"{CEILING_MAX_N} features (queries every mask)")
    parser.add_argument("--spex-fallback", action="store_true",
                        help="only compare SPEX with a LassoCV on SPEX's own samples")
    args = parser.parse_args(argv)

    budgets = [int(b) for b in args.budgets.split(",")]
    costly = [int(b) for b in args.costly_budgets.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    families = args.families.split(",")
    texts = args.texts
    if args.quick:
        budgets = [b for b in budgets if b <= 1000]
        costly = [b for b in costly if b <= 1000]
        texts, seeds = min(texts, 2), seeds[:1]
        families = [f for f in families if f != "multifact"]
    tasks: list[Task] = []
    if "sentiment" in families:
        text_budgets = [int(b) for b in args.text_budgets.split(",")]
        if args.quick:
            text_budgets = [b for b in text_budgets if b <= 1000]
        tasks += sentiment_tasks(texts, text_budgets, costly)
    if "multifact" in families:
        lm = [int(b) for b in args.lm_budgets.split(",")]
        tasks += multifact_tasks(args.prompts, lm, [b for b in costly if b <= max(lm)])
    tasks += synthetic_tasks([f if f != "digits" else "digits64" for f in families
                              if f in ("digits", "hier1000", "parity250")], seeds, budgets)
    if args.spex_fallback:
        print(spex_fallback(["digits64", "hier1000", "parity250"], [1000, 2000, 4000]))
        return 0
    if args.ceiling:
        print(ceiling_table(tasks))
        return 0
    methods = args.methods.split(",")
    rows = load_results() if args.table_only else run(tasks, methods)
    names = {t.name for t in tasks}
    selected = [r for r in rows.values() if r["task"] in names and r["method"] in methods]
    print(summary_table(selected))
    print(table(selected, "r2"))
    print(table(selected, "r2_near"))
    print(removal_table(selected))
    print(targets(selected))
    # the plot is the README's figure: every row of the results file (``rows``, with this
    # run's), whatever this run chose
    plot(list(rows.values()))
    print(f"\nplot (every family and method in {RESULTS.relative_to(ROOT)}): "
          f"{PLOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
