"""The query engine: deduplication, batching, on-disk cache and resume, progress, retries, Ray.

Wrap an expensive model once, use the engine wherever a value function is expected::

    from interplay.runtime import QueryEngine
    engine = QueryEngine(model_fn, n, cache_dir="runs/cache", progress=True)
    result = interplay.explain(engine, n, method="proxyspex")
    print(engine.stats)
"""

from interplay.runtime.cache import MaskCache, mask_keys, resolve_cache_path
from interplay.runtime.engine import (
    BACKENDS,
    EngineOptions,
    EngineStats,
    ModelOutputError,
    ModelQueryError,
    QueryEngine,
)
from interplay.runtime.progress import ProgressBar

__all__ = [
    "BACKENDS",
    "EngineOptions",
    "EngineStats",
    "MaskCache",
    "ModelOutputError",
    "ModelQueryError",
    "ProgressBar",
    "QueryEngine",
    "mask_keys",
    "resolve_cache_path",
]
