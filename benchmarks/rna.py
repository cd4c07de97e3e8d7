"""q-SFT on RNA folding energy: test NMSE against samples (q = 4: A, C, G, U).

f(x) = MFE(sequence(x)) - MFE(base) with ViennaRNA, for n positions of a fixed random base
sequence of 40 nucleotides (n in {10, 15, 20}, positions evenly spread). For each n the script
prints, against the number of distinct sequences folded, the test NMSE

    NMSE = sum (f - f^)^2 / sum (f - mean f)^2      (= 1 - R^2)

on 500 uniformly random sequences, for

- q-SFT with identity delays and q^b bins, b in {2, 3, 4}, with the recovered support refit as is
  (``complete_order=0``), or completed with every first-order (1) or first- and second-order
  (2) term before the least-squares refit;
- baselines on the same number of uniformly random sequences: least squares on all first-order
  terms (additive model), and on all first- and second-order terms (skipped when the samples
  are fewer than 1.2x the unknowns, or the unknowns exceed 1200).

"solver s" is the fitting time (folding excluded). It also prints the positions and pairs of positions with the largest variance in the best q-SFT
explanation of each n.

Run::

    python benchmarks/rna.py            # n = 10, 15, 20 (~10 minutes: folding dominates)
    python benchmarks/rna.py --quick    # n = 10
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
from interplay.solvers.qsft_design import low_order_frequencies
from interplay.values.base import as_value_function
from interplay.values.rna import RNAFoldEnergy, random_rna

LENGTH = 40
N_TEST = 500


def nmse(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sum((y - pred) ** 2) / np.sum((y - y.mean()) ** 2))


def fourier_design(states: np.ndarray, freq: np.ndarray, q: int) -> np.ndarray:
    """Real design matrix spanning the q-ary Fourier terms ``freq`` (and the constant)."""
    phase = 2 * np.pi * ((states @ freq.T) % q) / q
    return np.hstack([np.ones((states.shape[0], 1)), np.cos(phase), np.sin(phase)])


def regression_baseline(f, n, q, samples, order, x_test, rng) -> tuple[float, float] | None:
    """Test NMSE and fitting seconds (folding excluded) of least squares on random samples."""
    freq = low_order_frequencies(n, q, order)
    freq = freq[np.lexsort(freq.T[::-1])]
    # Keep one of each conjugate pair: the real design already has cos and sin.
    neg = (-freq) % q
    keep = np.array([tuple(a) <= tuple(b) for a, b in zip(freq, neg, strict=True)])
    freq = freq[keep]
    if samples < 1.2 * (1 + 2 * freq.shape[0]) or 1 + 2 * freq.shape[0] > 1200:
        return None
    x = rng.integers(0, q, size=(samples, n))
    y = f(x)
    t0 = time.perf_counter()
    coef = np.linalg.lstsq(fourier_design(x, freq, q), y, rcond=None)[0]
    seconds = time.perf_counter() - t0
    return nmse(f(x_test), fourier_design(x_test, freq, q) @ coef), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="only n = 10")
    args = parser.parse_args()
    q = 4
    base = random_rna(LENGTH, random_state=3)
    print(f"base sequence ({LENGTH} nt): {base}")
    for n in (10,) if args.quick else (10, 15, 20):
        positions = np.linspace(0, LENGTH - 1, n).round().astype(int)
        f = RNAFoldEnergy(base, positions)
        rng = np.random.default_rng(n)
        x_test = rng.integers(0, q, size=(N_TEST, n))
        y_test = f(x_test)
        print(f"\nn = {n}: positions {positions.tolist()}, Var f = {y_test.var():.3f} (kcal/mol)^2")
        header = f"{'method':<34} {'samples':>8} {'terms':>6} {'test NMSE':>10} {'solver s':>9}"
        print(header)
        print("-" * len(header))
        best = None
        for b in (2, 3, 4):
            for complete in (0, 1, 2):
                solver = QSFT(q=q, b=b, random_state=0, max_order=n, complete_order=complete)
                result = solver.fit(as_value_function(f, n, q), n)
                score = nmse(y_test, result.predict(x_test))
                name = f"q-SFT b={b} complete_order={complete}"
                print(
                    f"{name:<34} {result.n_queries:>8} {len(result):>6} {score:>10.3f} "
                    f"{result.metadata['solver_seconds']:>9.2f}",
                    flush=True,
                )
                if best is None or score < best[0]:
                    best = (score, name, result)
                for order in (1, 2) if complete == 0 else ():
                    baseline = regression_baseline(
                        f, n, q, result.n_queries, order, x_test, np.random.default_rng(b)
                    )
                    label = f"random + LS order<={order}"
                    if baseline is None:
                        print(f"{label:<34} {result.n_queries:>8} {'':>6} {'(skipped)':>10}")
                    else:
                        print(
                            f"{label:<34} {result.n_queries:>8} {'':>6} {baseline[0]:>10.3f} "
                            f"{baseline[1]:>9.2f}"
                        )
        score, name, result = best
        result.feature_names = f.feature_names
        print(f"best: {name} (test NMSE {score:.3f}); largest interactions (variance):")
        for term in result.interaction_variance()[:6]:
            print(f"   {term.value:8.3f}  {' × '.join(term.names)}")
        print(f"folds so far: {f.n_folds}")


if __name__ == "__main__":
    main()
