"""Data attribution: faithfulness of ProxySPEX vs. a linear datamodel at equal query counts.

Features are the training examples of scikit-learn's digits (default n = 500); a mask retrains
an L2 multinomial logistic regression on the kept examples (batched Newton–CG, warm-started,
:class:`interplay.values.data.DataAttributionValue`); the value is the margin of one test
example (by default, of the first 20 test examples, the one whose nearest same-class training
example influences it most). A near-duplicate of that training example is planted, so the pair (original, copy) is redundant: either one alone does
most of the job, and only removing both moves the margin.

For each budget B, ProxySPEX queries B uniformly random masks; the linear datamodel (ridge
regression of the margin on the mask, strength by cross-validation) is fitted on *the same*
B masks and values. Both are scored by R² on fresh uniform random masks. Every query goes
through the query engine (dedup, batching, memory cache: the budgets share their queries).

Run::

    .venv/bin/python benchmarks/data_attribution.py
    .venv/bin/python benchmarks/data_attribution.py --n-train 200 --budgets 300 600 --test 200
    .venv/bin/python benchmarks/data_attribution.py --cifar ~/data   # local CIFAR-10 copy
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

import interplay
from interplay.metrics import faithfulness, r2_score
from interplay.runtime import QueryEngine
from interplay.values.data import (
    DataAttributionValue,
    fit_logistic_batched,
    load_cifar10,
    load_digits_task,
)


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


def linear_datamodel(masks: np.ndarray, values: np.ndarray):
    """Ridge regression of values on masks, alpha by (efficient) leave-one-out CV."""
    from sklearn.linear_model import RidgeCV

    model = RidgeCV(alphas=np.logspace(-3, 4, 15)).fit(masks.astype(np.float64), values)
    return model


def nearest_same_class(X, Y, x, y) -> int:
    """Index of the training example of class ``y`` closest to ``x``."""
    same = np.flatnonzero(Y == y)
    return int(same[np.argmin(((X[same] - x) ** 2).sum(axis=1))])


def choose_test_example(task, C: float, candidates: int = 20, n_threads: int = 1) -> int:
    """The test example (among the first ``candidates``) most influenced by its neighbour.

    For each candidate t, the model is retrained without t's nearest same-class training
    example; the candidate whose margin drops most is returned (a duplicate of an influential
    example makes a clearly redundant pair; of an uninfluential one, nothing to find).
    """
    X, Y = task.X_train, task.y_train
    count = min(candidates, len(task.y_test))
    xa = np.hstack([X, np.ones((X.shape[0], 1))])
    weights = np.ones((count + 1, X.shape[0]))
    for t in range(count):
        weights[t + 1, nearest_same_class(X, Y, task.X_test[t], task.y_test[t])] = 0.0
    W = fit_logistic_batched(xa, Y, weights, n_classes=task.n_classes, C=C, n_threads=n_threads)
    drops = []
    for t in range(count):
        z_full = np.append(task.X_test[t], 1.0) @ W[0]
        z_without = np.append(task.X_test[t], 1.0) @ W[t + 1]
        y = task.y_test[t]
        margin = [z[y] - np.delete(z, y).max() for z in (z_full, z_without)]
        drops.append(margin[0] - margin[1])
    return int(np.argmax(drops))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-train", type=int, default=500)
    parser.add_argument("--budgets", type=int, nargs="+", default=[500, 1000, 2000])
    parser.add_argument("--test", type=int, default=500, help="fresh masks for R²")
    parser.add_argument(
        "--test-index",
        type=int,
        default=None,
        help="test example explained (default: smallest |margin| of first 20)",
    )
    parser.add_argument("--C", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads of the learner")
    parser.add_argument(
        "--no-duplicate", action="store_true", help="do not plant the near-duplicate pair"
    )
    parser.add_argument(
        "--cifar",
        default=None,
        help="folder holding cifar-10-batches-py/ (use CIFAR-10 instead of digits)",
    )
    args = parser.parse_args(argv)

    if args.cifar:
        task = load_cifar10(
            args.cifar, n_train=args.n_train, n_test=100, pool=4, random_state=args.seed
        )
        data_name = "CIFAR-10 (4x4-pooled pixels)"
    else:
        task = load_digits_task(args.n_train, random_state=args.seed)
        data_name = "digits"
    t = (
        args.test_index
        if args.test_index is not None
        else choose_test_example(task, args.C, n_threads=args.threads)
    )
    x, y = task.X_test[t], int(task.y_test[t])
    X, Y = task.X_train, task.y_train
    pair = None
    if not args.no_duplicate:
        j = nearest_same_class(X, Y, x, y)
        rng = np.random.default_rng(args.seed)
        X = np.vstack([X, X[j] + 0.01 * rng.standard_normal(X.shape[1])])
        Y = np.append(Y, y)
        pair = (j, X.shape[0] - 1)
    n = X.shape[0]

    tic = time.perf_counter()
    value = DataAttributionValue(
        X, Y, x, y, C=args.C, n_classes=task.n_classes, batch_size=256, n_threads=args.threads
    )
    setup_s = time.perf_counter() - tic
    engine = QueryEngine(value, n, batch_size=256)
    full = float(value(np.ones((1, n), dtype=bool))[0])
    print(
        f"data={data_name}  n={n} training examples (features)  test example #{t} "
        f"(label {y}, full-data margin {full:+.3f})  C={args.C}  seed={args.seed}"
    )
    if pair is not None:
        m = np.ones((3, n), dtype=bool)
        m[0, pair[0]] = False
        m[1, pair[1]] = False
        m[2, list(pair)] = False
        drop = full - value(m)
        print(
            f"planted pair {pair}: margin drop removing one {drop[0]:+.3f} / {drop[1]:+.3f},"
            f" both {drop[2]:+.3f}"
        )
    print(f"full-data fit {setup_s:.1f} s")

    rng = np.random.default_rng(args.seed + 1)
    test_masks = rng.random((args.test, n)) < 0.5
    tic = time.perf_counter()
    test_values = engine(test_masks)
    per_query = (time.perf_counter() - tic) / args.test
    print(
        f"retraining cost: {per_query * 1e3:.1f} ms per mask (batched, warm-started); "
        f"test set {args.test} masks, Var f = {np.var(test_values):.3f}\n"
    )

    print(
        f"{'budget':>7} {'queries':>8} {'proxyspex R²':>13} {'linear R²':>10} "
        f"{'terms':>6} {'fit s':>7} {'retrain s':>9}"
    )
    last = None
    for budget in args.budgets:
        recorder = Recorder(engine)
        before = engine.stats.model_seconds
        tic = time.perf_counter()
        result = interplay.explain(
            recorder, n, method="proxyspex", budget=budget, random_state=args.seed
        )
        elapsed = time.perf_counter() - tic
        retrain_s = engine.stats.model_seconds - before
        masks, values = recorder.data()
        linear = linear_datamodel(masks, values)
        r2_p = faithfulness(result, None, masks=test_masks, values=test_values).r2
        r2_l = r2_score(test_values, linear.predict(test_masks.astype(np.float64)))
        print(
            f"{budget:>7} {result.n_queries:>8} {r2_p:>13.3f} {r2_l:>10.3f} {len(result):>6} "
            f"{elapsed - retrain_s:>7.1f} {retrain_s:>9.1f}"
        )
        last = (result, linear)
    print(
        f"(retrain s: model time for masks not already in the engine's memory cache; "
        f"engine evaluated {engine.stats.n_evaluated} distinct masks in all)"
    )

    assert last is not None
    result, linear = last
    print("\ntop training examples (ProxySPEX Banzhaf value | linear datamodel weight):")
    banzhaf = result.banzhaf_values()
    for i in np.argsort(-np.abs(banzhaf))[:8]:
        tag = "  <- planted pair" if pair is not None and i in pair else ""
        print(f"  example {i:>4} (label {Y[i]}): {banzhaf[i]:+.4f} | {linear.coef_[i]:+.4f}{tag}")
    print("\ntop interacting pairs (ProxySPEX Möbius coefficients of degree 2):")
    mobius = result.to_mobius()
    deg2 = np.flatnonzero(mobius.degrees == 2)
    subsets = mobius.subsets
    coef = mobius.coefficients
    ranked = deg2[np.argsort(-np.abs(coef[deg2]))]
    for rank, row in enumerate(ranked[:8]):
        i, j = subsets[row]
        dist = float(np.linalg.norm(X[i] - X[j]))
        tag = "  <- planted near-duplicates" if pair is not None and {i, j} == set(pair) else ""
        print(
            f"  ({i:>4}, {j:>4}) labels ({Y[i]}, {Y[j]}), distance {dist:6.2f}: "
            f"{coef[row]:+.4f}{tag}"
        )
    if pair is not None:
        where = [r for r, row in enumerate(ranked) if set(subsets[row]) == set(pair)]
        print(
            f"planted pair rank among {ranked.size} pairs: {where[0] + 1 if where else 'not found'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
