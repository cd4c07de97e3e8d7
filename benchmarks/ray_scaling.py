"""Throughput of the query engine's Ray backend with 1 and 2 actors, and its cost per batch.

Starts a local Ray cluster (``ray.init(num_cpus=...)``) unless ``--address`` names one, and
runs the same distinct masks through

* the local backend (the model in this process, BLAS limited to one thread),
* ``backend="ray"`` with 1 actor and with 2 actors (one CPU and one BLAS thread each),

on a compute-bound model (a numpy MLP, no sleeping). Then it measures the scheduling overhead
per batch: a model that does nothing, sent batch by batch through one actor.

    .venv/bin/python benchmarks/ray_scaling.py            # full run
    .venv/bin/python benchmarks/ray_scaling.py --quick
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

from interplay.runtime import QueryEngine


class MLPFactory:
    """Builds, on whichever process calls it, a single-threaded numpy MLP on the mask."""

    def __init__(self, n: int, hidden: int, seed: int = 0) -> None:
        self.n, self.hidden, self.seed = n, hidden, seed

    def __call__(self):
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)  # one core per model copy, so actors scale like real workers
        return _MLP(self.n, self.hidden, self.seed)


class _MLP:
    def __init__(self, n: int, hidden: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.w1 = rng.normal(0, 1 / np.sqrt(n), size=(n, hidden)).astype(np.float32)
        self.w2 = rng.normal(0, 1 / np.sqrt(hidden), size=(hidden, hidden)).astype(np.float32)
        self.w3 = rng.normal(0, 1 / np.sqrt(hidden), size=hidden).astype(np.float32)

    def __call__(self, masks: np.ndarray) -> np.ndarray:
        h = np.tanh(masks.astype(np.float32) @ self.w1)
        h = np.tanh(h @ self.w2)
        return (h @ self.w3).astype(np.float64)


class _Nothing:
    def __call__(self, masks: np.ndarray) -> np.ndarray:
        return np.zeros(masks.shape[0])


def _nothing_factory() -> _Nothing:
    return _Nothing()


def _run(engine: QueryEngine, masks: np.ndarray, repeats: int) -> tuple[float, np.ndarray]:
    """Best time over ``repeats`` runs of masks[1:] (memory cleared each time)."""
    engine(masks[:1])  # start-up (actors, model copies) is not throughput
    best = float("inf")
    for _ in range(repeats):
        engine.clear_memory()
        start = time.perf_counter()
        values = engine(masks[1:])
        best = min(best, time.perf_counter() - start)
    return best, values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--address", default=None, help="existing Ray cluster (default: local)")
    parser.add_argument("--num-cpus", type=int, default=2, help="CPUs of the local cluster")
    parser.add_argument("--n", type=int, default=256)
    parser.add_argument("--hidden", type=int, default=2048)
    parser.add_argument("--masks", type=int, default=4096)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n_masks = 1024 if args.quick else args.masks

    import ray

    if args.address:
        ray.init(address=args.address)
    else:
        ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False)
    cpus = int(ray.cluster_resources().get("CPU", 0))

    rng = np.random.default_rng(0)
    masks = np.unique(rng.random((n_masks + 1, args.n)) < 0.5, axis=0)
    masks = masks[rng.permutation(masks.shape[0])]
    factory = MLPFactory(args.n, args.hidden)
    n_batches = -(-(masks.shape[0] - 1) // args.batch_size)

    rows = []
    local = QueryEngine(model_factory=factory, n_features=args.n, batch_size=args.batch_size)
    t_local, reference = _run(local, masks, args.repeats)
    rows.append(("local (this process)", 1, t_local))
    for actors in (1, 2):
        with QueryEngine(
            model_factory=factory,
            n_features=args.n,
            batch_size=args.batch_size,
            backend="ray",
            num_actors=actors,
        ) as engine:
            seconds, values = _run(engine, masks, args.repeats)
            assert np.array_equal(values, reference), "Ray and local results differ"
        rows.append((f"ray, {actors} actor{'s' if actors > 1 else ''}", actors, seconds))

    print(
        f"\nModel: single-threaded numpy MLP n={args.n} hidden={args.hidden}; "
        f"{masks.shape[0] - 1} distinct masks in {n_batches} batches of {args.batch_size}; "
        f"Ray cluster: {cpus} CPUs, host has {os.cpu_count()} cores; best of {args.repeats}"
    )
    print(f"{'backend':<24}{'actors':>7}{'seconds':>10}{'masks/s':>10}{'vs local':>10}")
    for name, actors, seconds in rows:
        rate = (masks.shape[0] - 1) / seconds
        print(f"{name:<24}{actors:>7}{seconds:>10.2f}{rate:>10.0f}{t_local / seconds:>9.2f}x")
    print("(all results bit-identical to the local backend)")

    # scheduling overhead: a model that does nothing, one actor, one batch at a time in flight
    small = masks[: 1 + (256 if args.quick else 1024)]
    per_batch = []
    for in_flight in (1, 2):
        with QueryEngine(
            model_factory=_nothing_factory,
            n_features=args.n,
            batch_size=8,
            backend="ray",
            num_actors=1,
        ) as engine:
            engine(small[:1])  # start the actor
            engine.ray_pool.max_in_flight = in_flight
            calls = engine.stats.n_model_calls
            start = time.perf_counter()
            engine(small[1:])
            seconds = time.perf_counter() - start
            per_batch.append((in_flight, 1e3 * seconds / (engine.stats.n_model_calls - calls)))
    t0 = time.perf_counter()
    empty = _Nothing()
    for i in range(1, small.shape[0], 8):
        empty(small[i : i + 8])
    direct_ms = 1e3 * (time.perf_counter() - t0) / ((small.shape[0] - 1) / 8)
    print("\nScheduling overhead per batch (a model that does nothing, batches of 8, 1 actor)")
    print(f"{'batches in flight per actor':<30}{'ms per batch':>14}")
    for in_flight, ms in per_batch:
        print(f"{in_flight:<30}{ms:>14.2f}")
    print(f"{'(direct call, no Ray)':<30}{direct_ms:>14.3f}")
    ray.shutdown()


if __name__ == "__main__":
    main()
