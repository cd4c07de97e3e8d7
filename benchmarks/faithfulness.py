"""Faithfulness against queries: methods × budgets × value functions.

Prints a table of R² on fresh masks (uniform, and masks with at most 10 % of the features
removed) against the number of queries each method really spent, writes it to
``benchmarks/out/faithfulness.csv`` and plots ``benchmarks/out/faithfulness.png``.

Value functions
---------------
- ``hier1000``: planted hierarchical Möbius function, n = 1000, 20 planted interactions of
  order ≤ 4 with all their subsets (133 terms): the shape LLM value functions have.
- ``hier200``: the same at n = 200 (where the reference packages are run side by side).
- ``parity250``: planted sparse Fourier function, n = 250, 20 terms of degree 2–4 on random
  supports without their subsets (parity-like: no marginal signal for trees to split on).
- ``digits64``: a scikit-learn MLP on the 8×8 digits data set scikit-learn ships; features are
  the 64 pixels, a removed pixel is set to 0 (background), the output is the log-odds of the
  true class of one test image.

Reference packages (optional, ``[bench]`` extra): spectralexplain's SPEX and ProxySPEX and
shapiq's SPEX and ProxySPEX are run on ``hier200`` in a separate interpreter (shapiq needs
Python >= 3.12) given by ``--ref-python``; the same test masks score them.

Usage::

    .venv/bin/python benchmarks/faithfulness.py                 # everything (cached)
    .venv/bin/python benchmarks/faithfulness.py --quick         # small budgets only
    .venv/bin/python benchmarks/faithfulness.py --ref-python ~/refvenv/bin/python

Results are cached in ``benchmarks/out/faithfulness.jsonl`` (one line per run); ``--fresh``
discards the cache. Timings are wall-clock seconds on whatever machine runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

MAX_ORDER = 4
N_TEST = 2000
THRESHOLD = 0.9

BUDGETS: dict[str, list[int]] = {
    "proxyspex": [250, 500, 1000, 2000, 4000, 8000],
    "spex": [2000, 4000, 8000, 12000, 16000, 24000],
    "lime": [500, 1000, 2000, 4000],
    "kernelshap": [500, 1000, 2000, 4000],
    "banzhaf": [500, 1000, 2000, 4000],
    "faith_banzhaf": [1000, 2000, 4000],
    "faith_shap": [1000, 2000, 4000],
}
QUICK_BUDGETS: dict[str, list[int]] = {
    "proxyspex": [500, 1000, 2000],
    "spex": [2000, 8000, 16000],
    "lime": [1000],
    "kernelshap": [1000],
    "banzhaf": [1000],
    "faith_banzhaf": [2000],
    "faith_shap": [2000],
}
#: (reference method, budget) pairs, most informative first (each can take many minutes:
#: the references grid-search 12 LightGBM settings with 5-fold CV, or JIT-compile galois).
REF_JOBS: list[tuple[str, int]] = [
    ("shapiq:proxyspex", 1000),
    ("spectralexplain:proxyspex", 1000),
    ("shapiq:spex", 8000),
    ("spectralexplain:spex", 8000),
    ("shapiq:proxyspex", 4000),
    ("spectralexplain:proxyspex", 4000),
]
REF_FUNCTION = "hier200"
FUNCTIONS = ["hier1000", "hier200", "parity250", "digits64"]


# ----------------------------------------------------------------------- value functions
class MaskedClassifier:
    """Log-odds of one class for an input whose removed features are set to a baseline."""

    def __init__(self, model: Any, x: np.ndarray, baseline: np.ndarray, label: int) -> None:
        self.model = model
        self.x = np.asarray(x, dtype=np.float64)
        self.baseline = np.asarray(baseline, dtype=np.float64)
        self.label = int(label)

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks, dtype=bool)
        inputs = np.where(masks, self.x[None, :], self.baseline[None, :])
        p = self.model.predict_proba(inputs)[:, self.label]
        p = np.clip(p, 1e-12, 1 - 1e-12)
        return np.log(p) - np.log1p(-p)


def _digits_model() -> tuple[Any, np.ndarray, int]:
    from sklearn.datasets import load_digits
    from sklearn.neural_network import MLPClassifier

    data = load_digits()
    x = data.data / 16.0
    y = data.target
    model = MLPClassifier(hidden_layer_sizes=(64,), max_iter=400, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x[:1500], y[:1500])
    return model, x[1500], int(y[1500])


def spec_of(name: str) -> dict[str, Any]:
    """A picklable description from which both interpreters build the same function."""
    from interplay.values.planted import random_hierarchical, random_sparse_fourier

    if name == "hier1000":
        truth = random_hierarchical(1000, 20, max_degree=4, random_state=1)
    elif name == "hier200":
        truth = random_hierarchical(200, 20, max_degree=4, random_state=2)
    elif name == "parity250":
        truth = random_sparse_fourier(250, 20, min_degree=2, max_degree=4, random_state=3)
    elif name == "digits64":
        model, x, label = _digits_model()
        return {"kind": "classifier", "n": 64, "model": pickle.dumps(model), "x": x,
                "baseline": np.zeros(64), "label": label}
    else:
        raise ValueError(f"unknown function {name!r}; valid: {', '.join(FUNCTIONS)}")
    return {"kind": "planted", "n": truth.n_features, "truth": truth.to_json()}


def build(spec: dict[str, Any]) -> Any:
    """The value function of a spec."""
    if spec["kind"] == "planted":
        from interplay.spectral.interactions import Interactions
        from interplay.values.planted import PlantedFunction

        return PlantedFunction(Interactions.from_json(spec["truth"]))
    return MaskedClassifier(pickle.loads(spec["model"]), spec["x"], spec["baseline"],
                            spec["label"])


class Counting:
    """Wraps a value function; counts the distinct masks it receives."""

    def __init__(self, f: Any, n: int) -> None:
        self.f = f
        self.n = n
        self.seen: set[bytes] = set()

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        masks = np.asarray(masks).astype(bool)
        packed = np.packbits(masks, axis=1)
        self.seen.update(row.tobytes() for row in packed)
        return np.asarray(self.f(masks), dtype=np.float64)


# ----------------------------------------------------------------------------- running
def test_masks(n: int) -> dict[str, np.ndarray]:
    from interplay.metrics import sample_masks

    return {
        "uniform": sample_masks(n, N_TEST, random_state=12345),
        "few_removed": sample_masks(n, N_TEST, distribution="few_removed", random_state=54321),
    }


def run_ours(method: str, f: Any, n: int, budget: int, masks: dict, values: dict) -> dict:
    import interplay
    from interplay.metrics import faithfulness

    counted = Counting(f, n)
    tic = time.perf_counter()
    cpu = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = interplay.explain(counted, n, method=method, budget=budget,
                                   max_order=MAX_ORDER, random_state=0)
    seconds = time.perf_counter() - tic
    cpu = time.process_time() - cpu
    return {
        "cpu_seconds": cpu,
        "queries": int(result.n_queries),
        "distinct_sent": len(counted.seen),
        "r2": faithfulness(result, None, masks=masks["uniform"], values=values["uniform"]).r2,
        "r2_few_removed": faithfulness(result, None, masks=masks["few_removed"],
                                       values=values["few_removed"]).r2,
        "seconds": seconds,
        "terms": len(result),
    }


def _mobius_predict(subsets: list[tuple[int, ...]], coef: np.ndarray, masks: np.ndarray):
    out = np.zeros(masks.shape[0])
    for s, c in zip(subsets, coef, strict=True):
        out += c * (masks[:, list(s)].all(axis=1) if s else 1.0)
    return out


def _fourier_predict(keys: np.ndarray, coef: np.ndarray, masks: np.ndarray) -> np.ndarray:
    parity = (masks.astype(np.int64) @ keys.T.astype(np.int64)) & 1
    return (1.0 - 2.0 * parity) @ coef


def run_reference(method: str, f: Any, n: int, budget: int, masks: dict) -> dict:
    """Run one reference package method (in the reference interpreter)."""
    package, algo = method.split(":")
    counted = Counting(f, n)
    tic = time.perf_counter()
    cpu = time.process_time()
    if package == "spectralexplain":
        import spectralexplain as spx

        with tempfile.TemporaryDirectory() as tmp:
            cwd = os.getcwd()
            os.chdir(tmp)
            try:
                np.random.seed(0)
                explainer = spx.Explainer(lambda m: counted(np.asarray(m)), n,
                                          sample_budget=budget, max_order=MAX_ORDER,
                                          algorithm=algo)
            finally:
                os.chdir(cwd)
        ft = explainer.fourier_transform
        keys = np.array(list(ft.keys()), dtype=np.int64).reshape(-1, n)
        coef = np.array(list(ft.values()), dtype=np.float64)

        def predict(m: np.ndarray) -> np.ndarray:
            return _fourier_predict(keys, coef, m)

        terms = len(coef)
    else:
        from shapiq.approximator import SPEX as ShapiqSPEX
        from shapiq.approximator import ProxySPEX as ShapiqProxySPEX

        cls = ShapiqProxySPEX if algo == "proxyspex" else ShapiqSPEX
        approx = cls(n=n, max_order=MAX_ORDER, index="FBII", random_state=0)
        # shapiq reports indices only; capture the Möbius transform it converts from
        captured: dict[tuple[int, ...], float] = {}
        original = approx._process_moebius

        def capture(moebius_transform: dict, **kw: Any) -> Any:
            captured.update(moebius_transform)
            return original(moebius_transform=moebius_transform, **kw)

        approx._process_moebius = capture
        approx.approximate(budget, lambda m: counted(np.asarray(m)))
        subsets = [tuple(int(i) for i in s) for s in captured]
        coef = np.array([captured[s] for s in captured], dtype=np.float64)

        def predict(m: np.ndarray) -> np.ndarray:
            return _mobius_predict(subsets, coef, m)

        terms = len(coef)
    seconds = time.perf_counter() - tic
    cpu = time.process_time() - cpu
    return {
        "cpu_seconds": cpu,
        "queries": len(counted.seen),
        "distinct_sent": len(counted.seen),
        "pred_uniform": predict(masks["uniform"]).tolist(),
        "pred_few_removed": predict(masks["few_removed"]).tolist(),
        "seconds": seconds,
        "terms": terms,
    }


def _worker(job_path: str) -> None:
    """Entry point in the reference interpreter: run one job, print JSON."""
    with open(job_path, "rb") as fh:
        job = pickle.load(fh)
    f = build(job["spec"])
    try:
        out = run_reference(job["method"], f, job["spec"]["n"], job["budget"], job["masks"])
        out["values_check"] = float(
            np.max(np.abs(f(job["masks"]["uniform"][:50]) - job["values_head"]))
        )
    except Exception as exc:  # noqa: BLE001 - report it, do not crash the whole benchmark
        out = {"error": f"{type(exc).__name__}: {exc}"}
    print("RESULT " + json.dumps(out))


def run_reference_subprocess(python: str, method: str, spec: dict, budget: int, masks: dict,
                             values: dict, timeout: float) -> dict:
    from interplay.metrics import r2_score

    with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as fh:
        pickle.dump({"method": method, "spec": spec, "budget": budget, "masks": masks,
                     "values_head": values["uniform"][:50]}, fh)
        path = fh.name
    try:
        proc = subprocess.run([python, __file__, "--worker", path], capture_output=True,
                              text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    finally:
        os.unlink(path)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if not lines:
        return {"error": (proc.stderr or proc.stdout)[-400:]}
    out = json.loads(lines[-1][7:])
    if "error" in out:
        return out
    out["r2"] = r2_score(values["uniform"], np.array(out.pop("pred_uniform")))
    out["r2_few_removed"] = r2_score(values["few_removed"], np.array(out.pop("pred_few_removed")))
    return out


# ----------------------------------------------------------------------------- reporting
def load_cache(path: Path) -> dict[tuple[str, str, int], dict]:
    cache = {}
    if path.exists():
        for line in path.read_text().splitlines():
            row = json.loads(line)
            cache[(row["function"], row["method"], row["budget"])] = row
    return cache


def table(rows: list[dict]) -> str:
    head = (f"{'function':<10} {'method':<26} {'budget':>7} {'queries':>7} {'R2':>7} "
            f"{'R2 few':>7} {'terms':>6} {'wall s':>8} {'cpu s':>8}")
    lines = [head, "-" * len(head)]
    for r in rows:
        if "error" in r:
            lines.append(f"{r['function']:<10} {r['method']:<26} {r['budget']:>7}   "
                         f"{r['error'][:60]}")
            continue
        lines.append(
            f"{r['function']:<10} {r['method']:<26} {r['budget']:>7} {r['queries']:>7} "
            f"{r['r2']:>7.3f} {r['r2_few_removed']:>7.3f} {r['terms']:>6} {r['seconds']:>8.1f} "
            f"{r.get('cpu_seconds', float('nan')):>8.1f}"
        )
    return "\n".join(lines)


def queries_to_reach(rows: list[dict], function: str, method: str, level: float) -> int | None:
    hits = [r["queries"] for r in rows if r["function"] == function and r["method"] == method
            and "error" not in r and r["r2"] >= level]
    return min(hits) if hits else None


def summary(rows: list[dict]) -> str:
    out: list[str] = []
    functions = sorted({r["function"] for r in rows}, key=FUNCTIONS.index)
    methods = sorted({r["method"] for r in rows})
    for level in (THRESHOLD, 0.99):
        out.append(
            f"Queries to reach R² >= {level} (uniform masks); '-' = not reached at the "
            "budgets run"
        )
        out.append(f"{'method':<26} " + " ".join(f"{f:>10}" for f in functions))
        for m in methods:
            cells = []
            for f in functions:
                q = queries_to_reach(rows, f, m, level)
                cells.append(f"{q if q is not None else '-':>10}")
            out.append(f"{m:<26} " + " ".join(cells))
        for f in functions:
            p = queries_to_reach(rows, f, "proxyspex", level)
            s = queries_to_reach(rows, f, "spex", level)
            if p and s:
                out.append(f"{f}: SPEX needs {s / p:.1f}x the queries of ProxySPEX for R² >= "
                           f"{level}")
            elif p and not s:
                out.append(f"{f}: ProxySPEX reaches R² >= {level} at {p} queries; SPEX does "
                           "not at the budgets run")
            elif s and not p:
                out.append(f"{f}: SPEX reaches R² >= {level} at {s} queries; ProxySPEX does "
                           "not at the budgets run")
        out.append("")
    refs = [r for r in rows if ":" in r["method"] and "error" not in r]
    for r in refs:
        ours_name = r["method"].split(":")[1]
        ours = [o for o in rows if o["function"] == r["function"] and o["method"] == ours_name
                and o["budget"] == r["budget"] and "error" not in o]
        if ours:
            o = ours[0]
            out.append(
                f"{r['function']} budget {r['budget']}: {r['method']} R²={r['r2']:.3f} in "
                f"{r['seconds']:.1f} s vs ours R²={o['r2']:.3f} in {o['seconds']:.1f} s "
                f"(wall-time ratio {r['seconds'] / max(o['seconds'], 1e-9):.1f}x)"
            )
    return "\n".join(out)


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    functions = [f for f in FUNCTIONS if any(r["function"] == f for r in rows)]
    fig, axes = plt.subplots(1, len(functions), figsize=(4.2 * len(functions), 3.8),
                             squeeze=False)
    methods = sorted({r["method"] for r in rows})
    fixed = {"proxyspex": "#d62728", "spex": "#1f77b4", "lime": "#8c564b",
             "kernelshap": "#9467bd", "banzhaf": "#7f7f7f", "faith_banzhaf": "#ff7f0e",
             "faith_shap": "#2ca02c", "shapiq:proxyspex": "#e377c2",
             "spectralexplain:proxyspex": "#bcbd22", "shapiq:spex": "#17becf",
             "spectralexplain:spex": "#000000"}
    colours = {m: fixed.get(m, "#aaaaaa") for m in methods}
    for ax, f in zip(axes[0], functions, strict=True):
        for m in methods:
            pts = sorted((r["queries"], r["r2"]) for r in rows
                         if r["function"] == f and r["method"] == m and "error" not in r)
            if not pts:
                continue
            q, r2 = zip(*pts, strict=True)
            style = "--" if ":" in m else "-"
            ax.plot(q, np.maximum(r2, -0.1), style, marker="o", ms=3, label=m,
                    color=colours[m], lw=2.2 if m in ("proxyspex", "spex") else 1.0)
        ax.axhline(THRESHOLD, color="grey", lw=0.5)
        ax.set_xscale("log")
        ax.set_ylim(-0.1, 1.02)
        ax.set_title(f)
        ax.set_xlabel("queries")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("R² on fresh uniform masks")
    handles, labels = [], []
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 6), fontsize=8)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small budget grid")
    parser.add_argument("--functions", default=",".join(FUNCTIONS))
    parser.add_argument("--methods", default=",".join(BUDGETS))
    parser.add_argument("--ref-python", default=None,
                        help="interpreter with spectralexplain/shapiq installed")
    parser.add_argument("--ref-timeout", type=float, default=900.0)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker)
        return

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    cache_path = out / "faithfulness.jsonl"
    if args.fresh and cache_path.exists():
        cache_path.unlink()
    cache = load_cache(cache_path)
    grid = QUICK_BUDGETS if args.quick else BUDGETS
    functions = [f for f in args.functions.split(",") if f]
    methods = [m for m in args.methods.split(",") if m]

    ref_python = args.ref_python
    if ref_python is None:
        try:
            import shapiq  # noqa: F401
            import spectralexplain  # noqa: F401

            ref_python = sys.executable
        except ImportError:
            ref_python = None

    for fname in functions:
        spec = spec_of(fname)
        f = build(spec)
        n = spec["n"]
        masks = test_masks(n)
        values = {k: np.asarray(f(v), dtype=np.float64) for k, v in masks.items()}
        jobs: list[tuple[str, int]] = []
        for m in methods:
            if m.startswith("faith") and n > 128:
                continue
            jobs += [(m, b) for b in grid[m]]
        if ref_python and fname == REF_FUNCTION:
            jobs += REF_JOBS
        for method, budget in jobs:
            key = (fname, method, budget)
            if key in cache:
                continue
            if ":" in method:
                res = run_reference_subprocess(ref_python, method, spec, budget, masks, values,
                                               args.ref_timeout)
            else:
                try:
                    res = run_ours(method, f, n, budget, masks, values)
                except Exception as exc:  # noqa: BLE001 - a failing method is a result
                    res = {"error": f"{type(exc).__name__}: {exc}"}
            row = {"function": fname, "method": method, "budget": budget, **res}
            cache[key] = row
            with cache_path.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(table([row]).splitlines()[-1], flush=True)

    rows = [r for k, r in sorted(cache.items(), key=lambda kv: (
        FUNCTIONS.index(kv[0][0]) if kv[0][0] in FUNCTIONS else 99, kv[0][1], kv[0][2]))
        if k[0] in functions]
    text = table(rows) + "\n\n" + summary(rows)
    print("\n" + text)
    (out / "faithfulness.txt").write_text(text + "\n")
    with (out / "faithfulness.csv").open("w") as fh:
        cols = ["function", "method", "budget", "queries", "r2", "r2_few_removed", "terms",
                "seconds", "cpu_seconds", "error"]
        fh.write(",".join(cols) + "\n")
        for r in rows:
            fh.write(",".join(str(r.get(c, "")) for c in cols) + "\n")
    plot(rows, out / "faithfulness.png")
    print(f"\nwrote {out / 'faithfulness.txt'}, .csv and .png")


if __name__ == "__main__":
    main()
