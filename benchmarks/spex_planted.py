"""SPEX on planted sparse Fourier functions: queries, faithfulness, recovery, solver time.

Every run happens in a fresh Python process, so the solver time includes the cold start
(imports, building the BCH code). Query time is excluded (the planted function is cheap, but a
model would not be). When the published reference `spectralexplain` is importable, its SPEX
runs on the same functions in the same table.

    python benchmarks/spex_planted.py                       # n in {100, 300, 1000}, 40 terms
    python benchmarks/spex_planted.py --n 1000 --budget 8000 --repeats 5
    python benchmarks/spex_planted.py --n 1000 --budget 1500 --repeats 5 --no-reference
    python benchmarks/spex_planted.py --n 1000 --budget 3000 --repeats 5 --snr 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import textwrap

RUN_OURS = textwrap.dedent(
    """
    import json, sys, time
    t_start = time.perf_counter()
    import numpy as np
    import interplay
    from interplay.metrics import faithfulness
    from interplay.values.planted import PlantedFunction, random_sparse_fourier

    n, terms, degree, budget, seed, snr, log2_bins = {args}
    truth = random_sparse_fourier(n, terms, max_degree=degree, random_state=seed)
    sd = PlantedFunction.noise_sd_for_snr(truth, snr) if snr is not None else 0.0
    f = PlantedFunction(truth, noise_sd=sd, random_state=seed + 1)
    query_seconds = 0.0
    def timed(masks):
        global query_seconds
        t = time.perf_counter(); out = f(masks); query_seconds += time.perf_counter() - t
        return out
    opts = {{}} if log2_bins is None else {{"b": log2_bins}}
    result = interplay.explain(timed, n, method="spex", budget=budget, max_order=degree,
                               random_state=seed, solver_options=opts)
    total = time.perf_counter() - t_start
    masks = np.random.default_rng(10_000 + seed).random((2000, n)) < 0.5
    found = {{s for s, c in zip(result.subsets, result.coefficients) if abs(c) > 1e-6}}
    planted = set(truth.subsets) - {{()}}
    print(json.dumps(dict(
        queries=result.n_queries,
        r2=faithfulness(result, None, masks=masks, values=truth.predict(masks)).r2,
        recall=len(planted & found) / len(planted),
        seconds=total - query_seconds,
    )))
    """
)

RUN_REFERENCE = textwrap.dedent(
    """
    import json, sys, time
    t_start = time.perf_counter()
    import numpy as np
    import spectralexplain as spex
    from interplay.metrics import r2_score
    from interplay.values.planted import random_sparse_fourier

    n, terms, degree, budget, seed, snr, log2_bins = {args}
    truth = random_sparse_fourier(n, terms, max_degree=degree, random_state=seed)
    query_seconds = 0.0
    n_queries = 0
    def value_function(masks):
        global query_seconds, n_queries
        t = time.perf_counter()
        masks = np.asarray(masks, dtype=bool)
        n_queries += len(masks)
        out = truth.predict(masks)
        query_seconds += time.perf_counter() - t
        return out
    explainer = spex.Explainer(value_function=value_function, features=n,
                               sample_budget=budget, max_order=degree)
    total = time.perf_counter() - t_start
    fourier = explainer.fourier_transform  # {{0/1 tuple of length n: coefficient}}
    masks = np.random.default_rng(10_000 + seed).random((2000, n)) < 0.5
    keys = np.array(list(fourier.keys()), dtype=bool).reshape(len(fourier), n)
    coef = np.array(list(fourier.values()), dtype=float)
    parity = (masks.astype(np.float32) @ keys.T.astype(np.float32)).astype(int) % 2
    pred = (1 - 2 * parity) @ coef
    found = {{tuple(np.flatnonzero(k)) for k, c in zip(keys, coef) if abs(c) > 1e-6}}
    planted = set(truth.subsets) - {{()}}
    print(json.dumps(dict(
        queries=n_queries,
        r2=r2_score(truth.predict(masks), pred),
        recall=len(planted & found) / len(planted),
        seconds=total - query_seconds,
    )))
    """
)


def run(script: str, args: tuple, python: str) -> dict | None:
    code = script.format(args=repr(args))
    proc = subprocess.run(
        [python, "-c", code], check=False, capture_output=True, text=True, timeout=3600
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-2000:])
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])


def reference_available(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import spectralexplain"], check=False,
                           capture_output=True)
    return probe.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[100, 300, 1000])
    parser.add_argument("--terms", type=int, default=40)
    parser.add_argument("--degree", type=int, default=4)
    parser.add_argument("--budget", type=int, default=12_000)
    parser.add_argument("--log2-bins", type=int, default=None)
    parser.add_argument("--snr", type=float, default=None, help="noise level in dB (default none)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-reference", action="store_true", help="skip spectralexplain")
    parser.add_argument("--reference-python", default=sys.executable,
                        help="interpreter with spectralexplain installed (default: this one)")
    args = parser.parse_args()

    with_reference = not args.no_reference and reference_available(args.reference_python)
    header = (f"{'method':<16}{'n':>6}{'queries':>9}{'max q':>7}{'R2':>10}{'worst R2':>10}"
              f"{'recall':>8}{'worst':>7}{'solver s':>10}")
    print(f"planted: {args.terms} Fourier terms of degree <= {args.degree}, budget {args.budget}, "
          f"SNR {args.snr if args.snr is not None else 'inf'} dB; medians over {args.repeats} seeds")
    print(header)
    print("-" * len(header))
    for n in args.n:
        rows = {"interplay spex": [], "spectralexplain": []}
        for seed in range(args.repeats):
            params = (n, args.terms, args.degree, args.budget, seed, args.snr, args.log2_bins)
            rows["interplay spex"].append(run(RUN_OURS, params, sys.executable))
            if with_reference:
                rows["spectralexplain"].append(run(RUN_REFERENCE, params, args.reference_python))
        medians = {}
        for name, results in rows.items():
            results = [r for r in results if r]
            if not results:
                continue
            med = {k: statistics.median(r[k] for r in results) for k in results[0]}
            worst = min(r["r2"] for r in results)
            worst_recall = min(r["recall"] for r in results)
            most = max(r["queries"] for r in results)
            medians[name] = med
            print(f"{name:<16}{n:>6}{med['queries']:>9.0f}{most:>7.0f}{med['r2']:>10.4f}"
                  f"{worst:>10.4f}{med['recall']:>8.2f}{worst_recall:>7.2f}"
                  f"{med['seconds']:>10.2f}")
        if len(medians) == 2:
            ours, ref = medians["interplay spex"], medians["spectralexplain"]
            print(f"{'ratio ref/ours':<16}{n:>6}{ref['queries'] / ours['queries']:>9.2f}"
                  f"{'':>42}{ref['seconds'] / ours['seconds']:>10.1f}")
    if not with_reference and not args.no_reference:
        print("(spectralexplain not importable: reference rows omitted; "
              "pass --reference-python to a venv that has it)")


if __name__ == "__main__":
    main()
