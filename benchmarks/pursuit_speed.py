"""The cross-validated matching pursuit of the hierarchical fit against scikit-learn's.

``interplay.solvers.hierarchical_lasso.omp_cv`` chooses the pursuit's length by the summed
validation error of its folds. It used to run scikit-learn's ``orthogonal_mp`` on each fold
to :data:`~interplay.solvers.hierarchical_lasso.MAX_RELAXED_SHARE` of its rows (up to 1 200
steps at 4 000 masks) and took the minimum; it now steps the folds together
(:class:`~interplay.solvers.hierarchical_lasso.PursuitPath`) and stops once they have gone
twice as far as the best length so far (plus 25 steps) without passing it. This script runs
both on the designs the hierarchical fit offers its pursuit (the first-order Fourier terms
and every pair of the strongest features) and prints, for each, the length each chooses,
the largest coefficient difference and the time of each, with the median and worst ratio.

Functions: the planted hierarchical function of 1 000 features, the scikit-learn MLP on
8×8 digits and a planted sparse function of 200 features (``benchmarks/faithfulness.py``),
on 1 000 to 4 000 uniform masks.

    .venv/bin/python benchmarks/pursuit_speed.py           # about four minutes on two cores
    .venv/bin/python benchmarks/pursuit_speed.py --quick   # 1 000 masks only
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from faithfulness import build, spec_of

from interplay.solvers.first_order import kfold_splits
from interplay.solvers.hierarchical_lasso import MAX_RELAXED_SHARE, omp_cv
from interplay.solvers.proxyspex import fourier_design
from interplay.solvers.stacked import uniform_design
from interplay.spectral.subsets import from_lists

#: Features whose pairs are offered (as the hierarchical fit's later pair rounds offer).
PAIR_FEATURES = 60


def scikit_learn_omp_cv(x: np.ndarray, y: np.ndarray, folds: list) -> tuple[np.ndarray, int]:
    """The former ``omp_cv``: every fold's full path by scikit-learn, the summed validation
    error's minimum, and the path on all rows that far; returns (coef, length)."""
    from sklearn.linear_model import orthogonal_mp

    def path(xs: np.ndarray, ys: np.ndarray, steps: int) -> tuple[np.ndarray, np.ndarray, float]:
        xm, ym = xs.mean(axis=0), float(ys.mean())
        xc = xs - xm
        norm = np.linalg.norm(xc, axis=0)
        norm[norm == 0] = 1.0
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            coefs = orthogonal_mp(xc / norm, ys - ym, n_nonzero_coefs=steps, return_path=True)
        return coefs.reshape(xs.shape[1], -1) / norm[:, None], xm, ym

    steps = max(1, min(x.shape[1], int(MAX_RELAXED_SHARE * min(t.size for t, _ in folds))))
    total = np.zeros(steps)
    for train, val in folds:
        coefs, xm, ym = path(x[train], y[train], steps)
        err = (((y[val] - ym)[:, None] - (x[val] - xm) @ coefs) ** 2).sum(axis=0)
        total += np.concatenate([err, np.full(steps - err.size, err[-1])])
    k = int(np.argmin(total)) + 1
    coefs, _, _ = path(x, y, k)
    return coefs[:, -1], k


def design(masks: np.ndarray, y: np.ndarray) -> np.ndarray:
    """First-order Fourier terms and every pair of the features most correlated with y."""
    n = masks.shape[1]
    z = 1.0 - 2.0 * masks
    strongest = np.sort(np.argsort(-np.abs(z.T @ (y - y.mean())))[:PAIR_FEATURES])
    i, j = np.triu_indices(strongest.size, k=1)
    terms = [(k,) for k in range(n)] + list(zip(strongest[i].tolist(), strongest[j].tolist(),
                                                strict=True))
    return fourier_design(masks, from_lists(terms, n), n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="1 000 masks only")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args(argv)
    sizes = [1000] if args.quick else [1000, 2000, 4000]
    seeds = [int(s) for s in args.seeds.split(",")]
    print("| function | masks | seed | columns | steps | length (sklearn / ours) "
          "| max coef diff | sklearn s | ours s | speed-up |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    ratios, diffs = [], []
    for name, n in (("hier1000", 1000), ("digits64", 64), ("parity250", 250)):
        f = build(spec_of(name))
        for size in sizes:
            for seed in seeds:
                masks, fold_seed = uniform_design(seed, size, n)
                y = np.asarray(f(masks), dtype=np.float64)
                x = design(masks, y)
                folds = kfold_splits(size, 4, fold_seed)
                steps = int(MAX_RELAXED_SHARE * min(t.size for t, _ in folds))
                tic = time.perf_counter()
                old, k_old = scikit_learn_omp_cv(x, y, folds)
                t_old = time.perf_counter() - tic
                tic = time.perf_counter()
                new, _, _ = omp_cv(x, y, folds)
                t_new = time.perf_counter() - tic
                diff = float(np.abs(old - new).max())
                ratios.append(t_old / t_new)
                diffs.append(diff)
                print(f"| {name} | {size} | {seed} | {x.shape[1]} | {min(steps, x.shape[1])} | "
                      f"{k_old} / {np.count_nonzero(new)} | {diff:.1e} | {t_old:.2f} | "
                      f"{t_new:.2f} | {t_old / t_new:.1f}× |")
    print(f"\nspeed-up median {np.median(ratios):.1f}×, worst {min(ratios):.1f}×; "
          f"largest coefficient difference {max(diffs):.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
