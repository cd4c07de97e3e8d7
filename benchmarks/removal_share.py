"""Removal questions at one budget: ``stacked`` with and without masks around its removal path.

Prints, for each function family, the LassoCV baseline, ``stacked`` on uniform masks only
(``path_share=0``), the default ``stacked`` (from 500 to 1 999 queries 15 % of the budget, at
most 150 masks, around its greedy removal path in three rounds, unless its gate gives them to
uniform masks) and, with ``--share``, ``stacked`` with that ``path_share`` (and ``--rounds``)
without the gate: mean (worst) R² on fresh uniform masks, mean R² on masks with at most 10 %
of the features removed, and the median (worst) over texts and seeds of how much more the output
moves when the explanation's r = 2, 4, 8 features are removed than when LassoCV's are
(1.10 = 10 % more), with the features chosen greedily on each explanation
(``top_removal``'s default, as in the tables of ``real_models.py``) and as the best set on
it (``search="best"``). The functions, test masks and query cache are those of
``benchmarks/real_models.py``; rows go to ``benchmarks/out/removal_share.jsonl`` and a rerun
reads them back.

Usage::

    nice -n 10 .venv/bin/python benchmarks/removal_share.py                 # 500, sentiment
    .venv/bin/python benchmarks/removal_share.py --families hier1000,digits --seeds 0,1
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import real_models as study

from interplay.solvers.stacked import PATH_GATE

ROWS = study.OUT / "removal_share.jsonl"


def _gate(rows: list[dict], options: dict | None) -> str:
    """The range of the gate's R² rises over ``rows`` and how often it fired, or "" where
    the rows ran no gate (or were measured before rises were recorded)."""
    gains = [r["path_gain"] for r in rows if r.get("path_gain") is not None]
    if not gains:
        return ""
    gate = (options or {}).get("path_gate", PATH_GATE)
    fired = sum(g > gate for g in gains)
    return f"{min(gains):.2f}–{max(gains):.2f} ({fired} of {len(gains)})"


def _ratios(rows: list[dict], family: str, label: str, budget: int, key: str) -> str:
    """"median / median / median (worst / worst / worst)" of the removal ratios for
    r = 2, 4, 8 (``key`` as in ``real_models.removal_ratios``); "" without such rows."""
    ratios = [study.removal_ratios(rows, family, label, budget, r, key) for r in (2, 4, 8)]
    if not all(ratios):
        return ""
    return (" / ".join(f"{np.median(x):.2f}" for x in ratios) + " ("
            + " / ".join(f"{np.min(x):.2f}" for x in ratios) + ")")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=500)
    parser.add_argument("--seeds", default="0,1,2", help="solver seeds")
    parser.add_argument("--texts", type=int, default=6, help="review texts (sentiment)")
    parser.add_argument("--families", default="sentiment",
                        help="sentiment and/or multifact, digits, hier1000, parity250")
    parser.add_argument("--share", type=float, default=None,
                        help="also stacked with this path_share, without the gate")
    parser.add_argument("--rounds", type=int, default=3, help="path_rounds with --share")
    args = parser.parse_args(argv)
    if args.share is not None and not 0 < args.share <= 0.5:
        parser.error(f"--share must be in (0, 0.5], got {args.share}")
    if args.rounds < 1 or args.budget < 20:
        parser.error("--rounds must be at least 1 and --budget at least 20")
    seeds = [int(s) for s in args.seeds.split(",")]
    families = args.families.split(",")
    unknown = sorted(set(families) - {"sentiment", "multifact", "digits", "hier1000",
                                      "parity250"})
    if unknown:
        parser.error(f"unknown families {unknown}")
    tasks = study.sentiment_tasks(args.texts, [args.budget], []) if "sentiment" in families \
        else []
    if "multifact" in families:
        tasks += study.multifact_tasks(3, [args.budget], [])
    tasks += study.synthetic_tasks([f if f != "digits" else "digits64" for f in families
                                    if f not in ("sentiment", "multifact")], seeds,
                                   [args.budget])
    variants = {study.BASELINE: None, f"{study.OURS} uniform": {"path_share": 0.0},
                study.OURS: None}
    if args.share is not None:
        variants[f"{study.OURS} path {args.share:g}×{args.rounds}"] = {
            "path_share": args.share, "path_rounds": args.rounds, "path_gate": float("inf")}
    ROWS.parent.mkdir(parents=True, exist_ok=True)
    done = study.load_results(ROWS)
    for task in tasks:
        todo = [(label, s) for s in seeds for label in variants
                if (task.name, label, args.budget, s) not in done]
        if not todo:
            continue
        f = task.build()
        tests = study.test_sets(task, f)
        for label, seed in todo:
            method = study.BASELINE if label == study.BASELINE else study.OURS
            row = study.measure(task, method, args.budget, seed, f, tests,
                                options=variants[label], label=label)
            done[(task.name, label, args.budget, seed)] = row
            with ROWS.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(f"{task.name:12s} {label:22s} seed {seed}: R² {row.get('r2', float('nan')):.3f}",
                  flush=True)
        close = getattr(f, "close", None)
        if close:
            close()
    names = {t.name for t in tasks}
    rows = [r for r in done.values() if r["task"] in names and r["budget"] == args.budget
            and r["seed"] in seeds and "r2" in r]
    print(f"\n| family | method ({args.budget} queries) | uniform R², mean (worst) | "
          "near-full R², mean | removal vs LassoCV r = 2 / 4 / 8, greedy, median (worst) | "
          "best set, median (worst) | cases | gate: R² rise, min–max (fired) |")
    print("|---|---|---|---|---|---|---|---|")
    for family in dict.fromkeys(t.family for t in tasks):
        for label, options in variants.items():
            mine = [r for r in rows if r["family"] == family and r["method"] == label]
            if not mine:
                continue
            uniform = [r["r2"] for r in mine]
            removal = [_ratios(rows, family, label, args.budget, key)
                       for key in ("drop", "drop_best")]
            print(f"| {family} | {label} | {np.mean(uniform):.3f} ({np.min(uniform):.3f}) | "
                  f"{np.mean([r['r2_near'] for r in mine]):.2f} | {removal[0]} | "
                  f"{removal[1]} | {len(mine)} | {_gate(mine, options)} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
