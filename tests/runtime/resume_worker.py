"""Run one explanation of a slow planted function through the query engine (a subprocess).

Used by ``test_resume.py``, which kills this process half-way and starts it again. Prints a
JSON line with the number of mask rows the model evaluated and the engine's counters.

    python resume_worker.py OUT.json [--cache PATH] [--method support|NAME] [--delay S]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from runtime_support import explain_lsq, planted

import interplay
from interplay.runtime import EngineOptions, QueryEngine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--cache", default=None)
    parser.add_argument("--method", default="support")
    parser.add_argument("--n", type=int, default=12)
    parser.add_argument("--budget", type=int, default=400)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--delay", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    model = planted(args.n, delay=args.delay)
    options = EngineOptions(cache_dir=args.cache, batch_size=args.batch_size)
    if args.method == "support":
        engine = QueryEngine(model, args.n, options=options)
        result = explain_lsq(engine, args.n, budget=args.budget, seed=args.seed)
        stats = engine.stats.as_dict()
    else:
        result = interplay.explain(
            model,
            args.n,
            method=args.method,
            budget=args.budget,
            max_order=2,
            random_state=args.seed,
            engine=options,
        )
        stats = result.metadata["engine"]
    result.save(args.out)
    print(json.dumps({"model_rows": model.n_rows, "engine": stats}), flush=True)


if __name__ == "__main__":
    main()
