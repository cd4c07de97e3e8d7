"""q-SFT on planted sparse q-ary functions, side by side with the sparse-transform package.

Prints, for q = 4, n in {20, 50, 100}, S in {20, 100} interactions (conjugate pairs of Fourier
coefficients, Hamming weight <= 3), noiseless and at 10 dB SNR: the samples each method
evaluated, the NMSE of the recovered spectrum, support recall / precision, and solver seconds
(excluding the time spent evaluating the function).

Both methods get the same design: C = 3 random subsampling groups with q^b bins (b from
interplay's default rule, ``q**b >= 4 S``), identity delays when noiseless and R blocks of random
("NSO") delays at 10 dB. The reference gets the true noise level; interplay estimates it.

A third row, "q-SFT bch", runs interplay with BCH-coded delays (``delay_code="bch"``,
t = 3: ``1 + r`` delays a block instead of ``n + 1``; q a power of two or a prime) on the same
groups.

Run::

    python benchmarks/qsft_planted.py              # full table (a few minutes)
    python benchmarks/qsft_planted.py --quick      # n = 20 only
    python benchmarks/qsft_planted.py --q 3 --n 100 --sparsity 20   # one setting
    python benchmarks/qsft_planted.py --complex --no-reference       # complex-valued f

The reference (``pip install sparse-transform``, an optional benchmark extra) is used when it
imports in the running interpreter; its pins may need a separate virtual environment with
interplay installed there too (``pip install -e . --no-deps``). Otherwise only interplay is run.
"""

from __future__ import annotations

import os

# Single-threaded BLAS for every method timed here: on a small shared machine, threaded
# OpenBLAS oversubscribes the cores (a 200 x 200 solve measured 90 ms instead of 5 ms).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import time

import numpy as np

from interplay.solvers.qsft import QSFT
from interplay.spectral.interactions import Interactions
from interplay.spectral.subsets import canonical_spectrum
from interplay.values.base import as_value_function
from interplay.values.planted import PlantedFunction
from interplay.values.qary import random_sparse_qary

try:  # optional opponent
    import sparse_transform  # noqa: F401
    from sparse_transform.qsft.qsft import transform as reference_transform
    from sparse_transform.qsft.signals.input_signal_subsampled import SubsampledSignal

    HAVE_REFERENCE = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_REFERENCE = False


def spectrum_scores(
    freq: np.ndarray, coef: np.ndarray, truth: Interactions
) -> tuple[float, float, float]:
    """NMSE of the coefficients, support recall and precision."""
    q = truth.q
    freq = np.asarray(freq, dtype=np.int64).reshape(-1, truth.n_features)
    both = np.concatenate([freq, truth.frequencies])
    _, diff = canonical_spectrum(both, np.concatenate([coef, -truth.coefficients]), q)
    nmse = float(np.sum(np.abs(diff) ** 2) / np.sum(np.abs(truth.coefficients) ** 2))
    tol = 1e-6 * float(np.abs(truth.coefficients).max())
    found = {k.tobytes() for k, c in zip(freq, coef, strict=True) if abs(c) > tol}
    true = {k.tobytes() for k in truth.frequencies}
    recall = len(found & true) / len(true)
    precision = len(found & true) / max(len(found), 1)
    return nmse, recall, precision


class CountingFunction:
    """Counts rows and distinct rows and the seconds spent evaluating."""

    def __init__(self, function: PlantedFunction) -> None:
        self.function = function
        self.rows = 0
        self.distinct: set[bytes] = set()
        self.seconds = 0.0

    def __call__(self, states: np.ndarray) -> np.ndarray:
        t0 = time.perf_counter()
        states = np.asarray(states, dtype=np.int64)
        self.rows += states.shape[0]
        self.distinct.update(r.tobytes() for r in states)
        out = self.function(states)
        self.seconds += time.perf_counter() - t0
        return out


def run_interplay(truth, noise_sd, design, seed, delay_code="unit"):
    f = PlantedFunction(truth, noise_sd=noise_sd, random_state=seed + 1)
    solver = QSFT(
        q=truth.q,
        b=design["b"],
        delays=design["delays"],
        delay_code=delay_code,
        max_order=3 if delay_code == "bch" else 5,
        n_repeats=design["n_repeats"],
        random_state=seed,
    )
    t0 = time.perf_counter()
    result = solver.fit(as_value_function(f, truth.n_features, truth.q), truth.n_features)
    wall = time.perf_counter() - t0
    scores = spectrum_scores(result.frequencies, result.coefficients, truth)
    return result.n_queries, *scores, result.metadata["solver_seconds"], wall


def run_reference(truth, noise_sd, design, seed):
    np.random.seed(seed)
    n, q = truth.n_features, truth.q
    counter = CountingFunction(PlantedFunction(truth, noise_sd=noise_sd, random_state=seed + 1))
    noisy = design["delays"] == "robust"
    query_args = {
        "query_method": "complex",
        "num_subsample": 3,
        "delays_method_source": "identity",
        "subsampling_method": "qsft",
        "delays_method_channel": "nso" if noisy else "identity",
        "num_repeat": design["n_repeats"] if noisy else 1,
        "b": design["b"],
        "t": 3,
    }
    t0 = time.perf_counter()
    signal = SubsampledSignal(func=counter, n=n, q=q, query_args=query_args, noise_sd=noise_sd)
    out = reference_transform(
        signal,
        reconstruct_method_source="identity",
        reconstruct_method_channel="nso-soft" if noisy else "identity",
        b=design["b"],
        num_subsample=3,
        num_repeat=design["n_repeats"] if noisy else 1,
        noise_sd=noise_sd,
        peeling_method="single-detect" if noisy else "multi-detect",
        report=True,
    )
    wall = time.perf_counter() - t0
    spectrum = out["transform"]
    if spectrum:
        freq = np.array([list(k) for k in spectrum], dtype=np.int64)
        coef = np.array(list(spectrum.values()), dtype=complex)
    else:
        freq, coef = np.zeros((0, n), dtype=np.int64), np.zeros(0, dtype=complex)
    scores = spectrum_scores(freq, coef, truth)
    return counter.rows, *scores, wall - counter.seconds, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only n = 20")
    parser.add_argument("--seeds", type=int, default=1, help="planted functions per setting")
    parser.add_argument("--no-reference", action="store_true", help="skip sparse-transform")
    parser.add_argument("--q", type=int, default=4, help="states per feature (default 4)")
    parser.add_argument("--n", type=int, nargs="+", default=None, help="default 20 50 100")
    parser.add_argument("--sparsity", type=int, nargs="+", default=[20, 100])
    parser.add_argument("--complex", action="store_true",
                        help="complex-valued planted functions (S independent complex terms)")
    args = parser.parse_args()
    q = args.q
    # BCH-coded delays: binary digits for q a power of two, GF(q) syndromes for q prime
    coded = q & (q - 1) == 0 or all(q % d for d in range(2, q))
    use_reference = HAVE_REFERENCE and not args.no_reference
    if not use_reference:
        print("(sparse-transform not importable here: interplay only)")
    header = (
        f"{'n':>4} {'S':>4} {'SNR':>6} {'b':>2} {'R':>2} {'method':<17} {'samples':>9} "
        f"{'NMSE':>9} {'recall':>7} {'prec':>6} {'solver s':>9} {'total s':>8}"
    )
    print(header)
    print("-" * len(header))
    ratios = []
    sample_ratios = []
    sizes = args.n or ((20,) if args.quick else (20, 50, 100))
    for n in sizes:
        for s in args.sparsity:
            for snr in (None, 10.0):
                for seed in range(args.seeds):
                    truth = random_sparse_qary(
                        n, q, s, max_degree=3, real=not args.complex,
                        random_state=1000 * n + s + seed,
                    )
                    sd = 0.0 if snr is None else PlantedFunction.noise_sd_for_snr(truth, snr)
                    delays = "identity" if snr is None else "robust"
                    # sparsity counts conjugate pairs: S complex terms fill the bins as S/2 pairs
                    sized = max(1, s // 2) if args.complex else s
                    plan = QSFT(q=q, sparsity=sized, delays=delays).plan(n)
                    design = {"b": plan.b, "delays": delays, "n_repeats": plan.n_repeats}
                    label = "inf" if snr is None else f"{snr:g}dB"
                    rows = [("interplay q-SFT", run_interplay(truth, sd, design, seed))]
                    if coded:
                        rows.append(
                            ("q-SFT bch", run_interplay(truth, sd, design, seed, "bch"))
                        )
                    if use_reference:
                        rows.append(("sparse-transform", run_reference(truth, sd, design, seed)))
                        if coded:
                            sample_ratios.append((n, label, rows[-1][1][0] / rows[1][1][0]))
                    for name, (samples, nmse, rec, prec, solver_s, wall) in rows:
                        print(
                            f"{n:>4} {s:>4} {label:>6} {plan.b:>2} {plan.n_repeats:>2} "
                            f"{name:<17} {samples:>9} {nmse:>9.2e} {rec:>7.3f} {prec:>6.3f} "
                            f"{solver_s:>9.3f} {wall:>8.2f}",
                            flush=True,
                        )
                    if use_reference:
                        ratios.append((n, rows[-1][1][4] / max(rows[0][1][4], 1e-9)))
    if ratios:
        print()
        for n in sorted({r[0] for r in ratios}):
            vals = [r for m, r in ratios if m == n]
            print(
                f"n={n}: reference solver time / interplay solver time = "
                f"{np.min(vals):.1f}x .. {np.max(vals):.1f}x"
            )
    for n, label, ratio in sample_ratios:
        print(f"n={n}, {label}: sparse-transform samples / q-SFT bch samples = {ratio:.1f}x")


if __name__ == "__main__":
    main()
