"""The query engine: what stands between a solver and an expensive model.

A :class:`QueryEngine` is itself a value function (``engine(masks) -> values``). For every
call it

1. removes duplicate masks within the call,
2. answers the masks it already knows from memory or from the on-disk cache (SQLite),
3. sends the rest to the model in batches (sorted by the model's ``cost(masks)`` when it has
   one, so batches of similar length pad less), on the local process or on a pool of Ray
   actors,
4. commits every batch to the cache as soon as it comes back, so a run killed half-way and
   restarted re-queries nothing it already has,
5. retries failing batches with exponential backoff, then splits them in halves to isolate
   the rows that fail, finishes every other batch, and raises :class:`ModelQueryError`
   naming the failed rows; a model that keeps failing for ``max_retry_time`` seconds, or
   raises :class:`~interplay.errors.ModelUnavailableError` (a dead server), stops the call at
   once,

and returns the values in the order of the masks asked.
"""

from __future__ import annotations

import heapq
import itertools
import time
import warnings
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np

from interplay.errors import ModelUnavailableError
from interplay.runtime.cache import (
    CacheError,
    CacheWarning,
    MaskCache,
    mask_keys,
    resolve_cache_path,
)
from interplay.runtime.progress import ProgressBar
from interplay.values.base import check_masks, check_outputs

__all__ = [
    "BACKENDS",
    "EngineOptions",
    "EngineStats",
    "ModelOutputError",
    "ModelQueryError",
    "QueryEngine",
]

#: Names accepted as ``backend=``.
BACKENDS = ("local", "ray")


class ModelQueryError(RuntimeError):
    """The model kept failing on some masks (after retries and isolation).

    Every other mask of the call was evaluated (and, with a cache, stored).

    Attributes
    ----------
    rows : (K,) int array
        Rows of the mask matrix passed to the engine whose value could not be computed.
    masks : (K, n) bool array
        Those masks.
    errors : list of str
        One description of the last error per failed row.
    """

    def __init__(self, message: str, rows: np.ndarray, masks: np.ndarray, errors: list[str]):
        super().__init__(message)
        self.rows = rows
        self.masks = masks
        self.errors = errors


class ModelOutputError(ValueError):
    """The model returned something that is not one number per mask (a bug, not retried)."""


@dataclass
class EngineStats:
    """Counters of a :class:`QueryEngine` (cumulative over its calls).

    Attributes
    ----------
    n_calls : int
        Calls of the engine.
    n_asked : int
        Mask rows asked, duplicates included.
    n_unique : int
        Distinct masks asked (summed over calls).
    n_cache_hits : int
        Distinct masks answered without the model (memory or disk).
    n_disk_hits : int
        The part of ``n_cache_hits`` read from the on-disk cache.
    n_evaluated : int
        Distinct masks whose value the model computed.
    n_model_calls : int
        Batches sent to the model, retries included.
    n_model_rows : int
        Mask rows sent to the model, retries included.
    n_retries : int
        Batches sent again after a failure.
    n_failed : int
        Distinct masks given up on.
    n_unsaved : int
        Values computed but not stored in the on-disk cache (read-only cache, full disk);
        they are kept in memory for the engine's life.
    seconds : float
        Wall-clock time spent inside the engine's calls.
    model_seconds : float
        Wall-clock time spent waiting for the model (local backend: inside ``model_fn``).
    """

    n_calls: int = 0
    n_asked: int = 0
    n_unique: int = 0
    n_cache_hits: int = 0
    n_disk_hits: int = 0
    n_evaluated: int = 0
    n_model_calls: int = 0
    n_model_rows: int = 0
    n_retries: int = 0
    n_failed: int = 0
    n_unsaved: int = 0
    seconds: float = 0.0
    model_seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.n_asked} masks asked, {self.n_unique} distinct, {self.n_cache_hits} from "
            f"cache, {self.n_evaluated} evaluated in {self.n_model_calls} model calls, "
            f"{self.n_failed} failed, {self.seconds:.2f} s"
        )


@dataclass
class EngineOptions:
    """How :func:`interplay.explain` runs the value function (see :class:`QueryEngine`).

    Parameters
    ----------
    cache_dir : str or Path, optional
        On-disk cache: a directory (holding ``interplay-queries.sqlite``) or a ``.sqlite`` file.
    fingerprint : str, optional
        Identity of the model and its input for the cache; by default the model's own
        ``fingerprint()``.
    batch_size : int
        Masks per model call.
    progress : bool
        Draw a progress bar on stderr.
    max_retries : int
        Times a failing batch is sent again before it is split to isolate bad rows.
    retry_backoff : float
        Seconds before the first retry; doubled at each further retry.
    max_retry_time : float
        Seconds the model may keep failing, with no success in between, before the engine
        gives up with :class:`ModelQueryError` (a dead server is not retried for minutes).
    rebuild_cache : bool
        A corrupted cache file is moved aside and replaced by one holding its readable rows
        (otherwise it raises :class:`~interplay.runtime.cache.CacheCorruptError`).
    backend : {"local", "ray"}
        Run the model in this process, or on a pool of Ray actors.
    ray_address : str, optional
        Address of an existing Ray cluster (``"auto"``, ``"ray://host:10001"``); by default
        the Ray already initialised in this process, or a new local one.
    num_actors : int, optional
        Ray actors (model copies); by default one per GPU, or one per CPU without GPUs.
    num_gpus_per_actor : float, optional
        GPUs reserved by each actor; by default 1 when the cluster has GPUs, else 0.
    """

    cache_dir: str | Path | None = None
    fingerprint: str | None = None
    batch_size: int = 64
    progress: bool = False
    max_retries: int = 2
    retry_backoff: float = 0.5
    max_retry_time: float = 30.0
    rebuild_cache: bool = False
    backend: str = "local"
    ray_address: str | None = None
    num_actors: int | None = None
    num_gpus_per_actor: float | None = None

    @classmethod
    def coerce(cls, options: EngineOptions | dict[str, Any] | None) -> EngineOptions:
        """An :class:`EngineOptions` from itself, a dict of its fields, or ``None``."""
        if options is None:
            return cls()
        if isinstance(options, cls):
            return options
        if isinstance(options, dict):
            valid = {f.name for f in fields(cls)}
            unknown = sorted(set(options) - valid)
            if unknown:
                raise ValueError(
                    f"unknown engine option(s) {', '.join(unknown)}; valid: {', '.join(sorted(valid))}"
                )
            return cls(**options)
        raise TypeError(
            f"engine options must be EngineOptions or a dict, got {type(options).__name__}"
        )


class _ModelFromInstance:
    """A picklable factory returning a given model (for Ray when no factory was given)."""

    def __init__(self, model: Callable[[np.ndarray], Any]) -> None:
        self.model = model

    def __call__(self) -> Callable[[np.ndarray], Any]:
        return self.model


@dataclass
class _Job:
    """A batch of rows (indices into the call's missing masks) to send to the model."""

    rows: np.ndarray
    attempt: int = 0
    split: bool = False


class _LocalExecutor:
    """Runs batches one at a time in this process."""

    def __init__(self, model: Callable[[np.ndarray], Any]) -> None:
        self.model = model
        self._queue: deque[tuple[_Job, np.ndarray]] = deque()

    @property
    def in_flight(self) -> int:
        return len(self._queue)

    def can_submit(self) -> bool:
        return not self._queue

    def submit(self, job: _Job, masks: np.ndarray) -> None:
        self._queue.append((job, masks))

    def next_result(self) -> tuple[_Job, Any, BaseException | None]:
        job, masks = self._queue.popleft()
        try:
            return job, self.model(masks), None
        except Exception as exc:  # noqa: BLE001 - any model error is retried, then reported
            return job, None, exc

    def abandon(self) -> None:
        self._queue.clear()

    def close(self) -> None:
        self._queue.clear()


def _describe(exc: BaseException | str) -> str:
    if isinstance(exc, str):
        return exc
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": ")


def _split_outputs(values: Any, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate a batch's output; return the values and which of them are finite.

    A wrong shape or non-numeric output raises :class:`ModelOutputError` (a bug that retrying
    will not fix); NaN or infinite values are flagged per row so those rows can be retried.
    """
    try:
        return check_outputs(values, n_rows), np.ones(n_rows, dtype=bool)
    except ValueError as exc:
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ModelOutputError(str(exc)) from None
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.shape != (n_rows,):
            raise ModelOutputError(str(exc)) from None
        finite = np.isfinite(arr)
        # check_outputs is the single definition of a valid output: the finite rows must pass.
        check_outputs(arr[finite], int(finite.sum()))
        return arr, finite


class QueryEngine:
    """A caching, batching, retrying, optionally distributed value function.

    Parameters
    ----------
    model_fn : callable, optional
        ``model_fn(masks) -> values``: masks a (B, n) bool array (True keeps a feature), values
        B floats. Optional methods: ``fingerprint() -> str`` (identity for the cache) and
        ``cost(masks) -> (B,) array`` (e.g. tokens kept; batches are formed from masks sorted
        by cost). Give either ``model_fn`` or ``model_factory``.
    n_features : int
        Number of features n.
    model_factory : callable, optional
        A picklable zero-argument callable returning the model. With ``backend="ray"`` every
        actor calls it to build its own copy (load weights there, not in the driver); locally
        it is called once, on first use.
    options : EngineOptions or dict, optional
        Cache, batching, progress, retries and backend (see :class:`EngineOptions`): the way
        to configure an engine, ``QueryEngine(model_fn, n, options=EngineOptions(...))``.
    **settings
        The same fields given as keywords instead (``cache_dir="runs/cache", batch_size=16``);
        an unknown name is a ValueError listing the valid ones. Give ``options`` or keywords,
        not both.
    alphabet_size : int
        Number of states q of each feature: 2 for boolean masks (True keeps a feature), q > 2
        for q-ary masks, (B, n) int arrays with entries in ``0..q-1`` (``method="qsft"``).

    Attributes
    ----------
    stats : EngineStats
        Counters: masks asked, distinct, cache hits, model calls, seconds...

    Notes
    -----
    Cache problems never lose work: a read-only cache serves its hits, and values that cannot
    be stored (read-only file, full disk) are kept in memory, counted in
    ``stats.n_unsaved`` and announced once with a ``CacheWarning``.

    Failure handling: a batch that raises (or returns NaN/inf for some rows) is retried up to
    ``max_retries`` times; then it is split in halves, and halves that fail are split again,
    down to single masks, which are reported. Rows that succeed along the way are kept. Until
    the model has returned one valid value, two failing halves mean the model is broken (not
    particular masks): the engine raises :class:`ModelQueryError` at once. An output of the
    wrong shape is a bug and raises :class:`ModelOutputError` without retrying.
    """

    def __init__(
        self,
        model_fn: Callable[[np.ndarray], Any] | None = None,
        n_features: int | None = None,
        *,
        model_factory: Callable[[], Callable[[np.ndarray], Any]] | None = None,
        options: EngineOptions | dict[str, Any] | None = None,
        alphabet_size: int = 2,
        **settings: Any,
    ) -> None:
        if options is not None and settings:
            raise ValueError(
                f"give engine settings in options= or as keywords, not both "
                f"(keywords: {', '.join(sorted(settings))})"
            )
        opts = EngineOptions.coerce(settings if options is None else options)
        fingerprint, cache_dir, backend = opts.fingerprint, opts.cache_dir, opts.backend
        batch_size, max_retries = opts.batch_size, opts.max_retries
        retry_backoff, max_retry_time = opts.retry_backoff, opts.max_retry_time
        ray_address, num_actors = opts.ray_address, opts.num_actors
        if (model_fn is None) == (model_factory is None):
            raise ValueError("give exactly one of model_fn and model_factory")
        if model_fn is not None and not callable(model_fn):
            raise TypeError(f"model_fn must be callable, got {type(model_fn).__name__}")
        if model_factory is not None and not callable(model_factory):
            raise TypeError(f"model_factory must be callable, got {type(model_factory).__name__}")
        if n_features is None:
            raise ValueError("n_features (the number of features n) is required")
        n_features = int(n_features)
        if n_features < 1:
            raise ValueError(f"n_features must be positive, got {n_features}")
        if int(alphabet_size) < 2:
            raise ValueError(f"alphabet_size must be at least 2, got {alphabet_size}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        if int(max_retries) < 0:
            raise ValueError(f"max_retries must be non-negative, got {max_retries}")
        if float(retry_backoff) < 0:
            raise ValueError(f"retry_backoff must be non-negative, got {retry_backoff}")
        if not float(max_retry_time) >= 0:
            raise ValueError(f"max_retry_time must be non-negative, got {max_retry_time}")
        backend = str(backend).lower()
        if backend not in BACKENDS:
            raise ValueError(f"unknown backend {backend!r}; valid: {', '.join(BACKENDS)}")
        if backend == "local" and (num_actors is not None or ray_address is not None):
            raise ValueError("ray_address and num_actors apply to backend='ray' only")
        if num_actors is not None and int(num_actors) < 1:
            raise ValueError(f"num_actors must be at least 1, got {num_actors}")
        if fingerprint is not None and (not isinstance(fingerprint, str) or not fingerprint):
            raise ValueError("fingerprint must be a non-empty string")
        if (
            cache_dir is not None
            and fingerprint is None
            and model_fn is not None
            and not callable(getattr(model_fn, "fingerprint", None))
        ):
            raise ValueError(
                "a cache needs to know which model its values belong to: pass "
                "fingerprint='<model + input identity>' or give the model a fingerprint() "
                "method (values are never keyed by guesses such as repr)"
            )
        if backend == "ray":
            from interplay.runtime.ray_backend import import_ray

            import_ray()  # fails now, with install instructions, when Ray is missing

        self.model_fn = model_fn
        self.model_factory = model_factory
        self.n_features = n_features
        self.alphabet_size = int(alphabet_size)
        self.batch_size = int(batch_size)
        self.progress = bool(opts.progress)
        self.max_retries = int(max_retries)
        self.retry_backoff = float(retry_backoff)
        self.max_retry_time = float(max_retry_time)
        self.rebuild_cache = bool(opts.rebuild_cache)
        self.backend = backend
        self.ray_address = ray_address
        self.num_actors = None if num_actors is None else int(num_actors)
        self.num_gpus_per_actor = opts.num_gpus_per_actor
        self.cache_path = None if cache_dir is None else resolve_cache_path(cache_dir)
        self.stats = EngineStats()
        self._fingerprint = fingerprint
        self._memory: dict[bytes, float] = {}
        self._cache: MaskCache | None = None
        self._executor: Any = None
        self._model: Callable[[np.ndarray], Any] | None = model_fn
        self._cost_fn: Callable[[np.ndarray], Any] | None = None
        self._ever_succeeded = False
        self._isolated_failures = 0
        self._failing_since: float | None = None  # first failure since the last success
        self._cache_writable = True

    # ----------------------------------------------------------------- set-up
    def _start(self) -> None:
        """Build the executor (and the model or the actors) on first use."""
        if self._executor is not None:
            return
        if self.backend == "local":
            if self._model is None:
                assert self.model_factory is not None
                self._model = self.model_factory()
                if not callable(self._model):
                    raise TypeError("model_factory() must return a callable model")
            model = self._model
            cost = getattr(model, "cost", None)
            self._cost_fn = cost if callable(cost) else None
            if self._fingerprint is None:
                own = getattr(model, "fingerprint", None)
                if callable(own):
                    self._fingerprint = str(own())
            self._executor = _LocalExecutor(model)
        else:
            from interplay.runtime.ray_backend import RayActorPool

            factory = self.model_factory or _ModelFromInstance(self.model_fn)  # type: ignore[arg-type]
            pool = RayActorPool(
                factory,
                address=self.ray_address,
                num_actors=self.num_actors,
                num_gpus_per_actor=self.num_gpus_per_actor,
            )
            pool.start()
            self._executor = pool
            if pool.has_cost:
                self._cost_fn = pool.cost
            if self._fingerprint is None and pool.fingerprint is not None:
                self._fingerprint = pool.fingerprint
        if self.cache_path is not None:
            if self._fingerprint is None:
                self.close()
                raise ValueError(
                    "a cache needs to know which model its values belong to: pass "
                    "fingerprint='<model + input identity>' or give the model a fingerprint() "
                    "method"
                )
            self._cache = MaskCache(
                self.cache_path,
                self._fingerprint,
                self.n_features,
                alphabet_size=self.alphabet_size,
                rebuild=self.rebuild_cache,
            )
            try:
                self._cache.open()  # create the file (WAL mode, table) now, not mid-run
            except BaseException:
                self.close()
                raise
            if self._cache.read_only:
                self._cache_writable = False
                warnings.warn(
                    f"the cache file {str(self.cache_path)!r} is read-only: its values are "
                    "used, new values are kept in memory only",
                    CacheWarning,
                    stacklevel=4,
                )

    def fingerprint(self) -> str:
        """Identity of the model behind this engine (for caches one level up)."""
        if self._fingerprint is None:
            self._start()
        if self._fingerprint is None:
            raise ValueError("this engine's model has no fingerprint; pass fingerprint=...")
        return self._fingerprint

    @property
    def cache(self) -> MaskCache | None:
        """The on-disk cache (``None`` without ``cache_dir``)."""
        self._start()
        return self._cache

    @property
    def ray_pool(self) -> Any:
        """The Ray actor pool (``backend="ray"``, once started), else ``None``."""
        return self._executor if self.backend == "ray" else None

    def close(self) -> None:
        """Release the executor (Ray actors) and the cache connection."""
        if self._executor is not None:
            self._executor.close()
            self._executor = None
        if self._cache is not None:
            self._cache.close()
            self._cache = None

    def __enter__(self) -> QueryEngine:  # noqa: PYI034
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def clear_memory(self) -> None:
        """Forget the values remembered in memory (the on-disk cache is kept)."""
        self._memory.clear()

    # ------------------------------------------------------------------ calls
    def __call__(self, masks: Any) -> np.ndarray:
        """Values for every mask.

        Parameters
        ----------
        masks : (N, n) bool array
            True keeps a feature.

        Returns
        -------
        (N,) float array
            In the order of ``masks``.

        Raises
        ------
        ModelQueryError
            When the model kept failing on some masks; every other value has been computed
            and cached.
        """
        start = time.perf_counter()
        try:
            return self._call(masks)
        finally:
            self.stats.seconds += time.perf_counter() - start

    def _call(self, masks: Any) -> np.ndarray:
        masks = check_masks(masks, self.n_features, self.alphabet_size)
        n_rows = masks.shape[0]
        self.stats.n_calls += 1
        self.stats.n_asked += n_rows
        if n_rows == 0:
            return np.zeros(0)
        self._start()

        keys = mask_keys(masks, self.alphabet_size)
        first_of: dict[bytes, int] = {}
        inverse = np.fromiter(
            (first_of.setdefault(k, len(first_of)) for k in keys), dtype=np.intp, count=n_rows
        )
        unique_keys = list(first_of)
        n_unique = len(unique_keys)
        self.stats.n_unique += n_unique

        memory = self._memory
        found = [memory.get(k) for k in unique_keys]
        missing = [i for i, v in enumerate(found) if v is None]
        if missing and self._cache is not None:
            # rows stored since the last look (at first, all of them), by any process
            self._cache.refresh(into=memory)
            from_disk = [i for i in missing if unique_keys[i] in memory]
            if from_disk:
                self.stats.n_disk_hits += len(from_disk)
                for i in from_disk:
                    found[i] = memory[unique_keys[i]]
                missing = [i for i in missing if found[i] is None]
        self.stats.n_cache_hits += n_unique - len(missing)

        values = np.empty(n_unique)
        if missing:
            missing_idx = np.asarray(missing, dtype=np.intp)
            known = np.ones(n_unique, dtype=bool)
            known[missing_idx] = False
            values[known] = [v for v in found if v is not None]
            _, unique_rows = np.unique(inverse, return_index=True)  # first row of each
            miss_masks = masks[unique_rows[missing_idx]]
            miss_keys = [unique_keys[i] for i in missing]
            miss_values, failed = self._evaluate(miss_masks, miss_keys)
            values[missing_idx] = miss_values
            if failed:
                self._raise_failed(failed, missing_idx, inverse, masks)
        else:
            values[:] = found
        return values[inverse]

    def _raise_failed(
        self,
        failed: dict[int, str],
        missing_idx: np.ndarray,
        inverse: np.ndarray,
        masks: np.ndarray,
    ) -> None:
        bad_unique = missing_idx[np.fromiter(failed, dtype=np.intp)]
        errors_by_unique = dict(zip(bad_unique.tolist(), failed.values()))
        rows = np.flatnonzero(np.isin(inverse, bad_unique))
        errors = [errors_by_unique[int(u)] for u in inverse[rows]]
        self.stats.n_failed += len(failed)
        shown = ", ".join(str(int(r)) for r in rows[:10])
        more = f" and {rows.size - 10} more" if rows.size > 10 else ""
        first_error = next(iter(failed.values()))
        saved = " and stored in the cache" if self._cache is not None else ""
        raise ModelQueryError(
            f"the model failed on {rows.size} of {masks.shape[0]} masks (rows {shown}{more}) "
            f"after {self.max_retries} retries; last error: {first_error}. The other masks were "
            f"evaluated{saved}; call again to retry only the failed ones.",
            rows,
            masks[rows],
            errors,
        )

    # ------------------------------------------------------------- scheduling
    def _batches(self, masks: np.ndarray) -> list[np.ndarray]:
        order = np.arange(masks.shape[0])
        if self._cost_fn is not None and masks.shape[0] > self.batch_size:
            cost = np.asarray(self._cost_fn(masks), dtype=np.float64).reshape(-1)
            if cost.shape != (masks.shape[0],):
                raise ModelOutputError(
                    f"model cost(masks) returned shape {cost.shape} for {masks.shape[0]} masks"
                )
            order = np.argsort(cost, kind="stable")
        return [order[i : i + self.batch_size] for i in range(0, order.size, self.batch_size)]

    def _evaluate(self, masks: np.ndarray, keys: list[bytes]) -> tuple[np.ndarray, dict[int, str]]:
        """Run the model on distinct, uncached masks; store each batch as it finishes.

        Returns the values (NaN where failed) and {row: last error} for the failed rows.
        """
        executor = self._executor
        values = np.full(masks.shape[0], np.nan)
        failed: dict[int, str] = {}
        pending: deque[_Job] = deque(_Job(rows) for rows in self._batches(masks))
        splits: deque[_Job] = deque()  # isolation of failing rows goes first
        delayed: list[tuple[float, int, _Job]] = []  # (ready time, tie-break, job)
        tie = itertools.count()
        bar = ProgressBar(masks.shape[0], description="model queries") if self.progress else None
        stats = self.stats

        def fail(job: _Job, error: BaseException | str) -> None:
            if isinstance(error, ModelUnavailableError):  # the adapter has retried already
                raise ModelQueryError(
                    str(error), np.zeros(0, dtype=np.intp), masks[:0], [_describe(error)]
                ) from error
            now = time.perf_counter()
            if self._failing_since is None:
                self._failing_since = now
            elif now - self._failing_since > self.max_retry_time:
                raise ModelQueryError(
                    f"the model has failed on every call for {now - self._failing_since:.0f} s "
                    f"(max_retry_time={self.max_retry_time:g}); last error: {_describe(error)}",
                    np.zeros(0, dtype=np.intp),
                    masks[:0],
                    [_describe(error)],
                ) from (error if isinstance(error, BaseException) else None)
            if job.attempt < self.max_retries and not job.split:
                wait = self.retry_backoff * 2.0**job.attempt
                retry = _Job(job.rows, job.attempt + 1)
                heapq.heappush(delayed, (time.perf_counter() + wait, next(tie), retry))
                stats.n_retries += 1
                return
            if job.split and not self._ever_succeeded:
                self._isolated_failures += 1
                if self._isolated_failures >= 2:
                    raise ModelQueryError(
                        f"the model failed on every mask sent so far ({_describe(error)}); it "
                        "looks broken rather than failing on particular masks",
                        np.zeros(0, dtype=np.intp),
                        masks[:0],
                        [_describe(error)],
                    ) from (error if isinstance(error, BaseException) else None)
            if job.rows.size > 1:
                half = job.rows.size // 2
                splits.append(_Job(job.rows[:half], split=True))
                splits.append(_Job(job.rows[half:], split=True))
            else:
                failed[int(job.rows[0])] = _describe(error)

        try:
            while pending or splits or delayed or executor.in_flight:
                now = time.perf_counter()
                while delayed and delayed[0][0] <= now:
                    pending.appendleft(heapq.heappop(delayed)[2])
                while (splits or pending) and executor.can_submit():
                    job = splits.popleft() if splits else pending.popleft()
                    executor.submit(job, masks[job.rows])
                    stats.n_model_calls += 1
                    stats.n_model_rows += job.rows.size
                if not executor.in_flight:
                    if delayed:
                        time.sleep(max(0.0, delayed[0][0] - time.perf_counter()))
                    continue
                wait_start = time.perf_counter()
                job, output, error = executor.next_result()
                stats.model_seconds += time.perf_counter() - wait_start
                if error is not None:
                    fail(job, error)
                    continue
                batch_values, finite = _split_outputs(output, job.rows.size)
                good = job.rows[finite]
                if good.size:
                    self._ever_succeeded = True
                    self._failing_since = None
                    good_values = batch_values[finite]
                    values[good] = good_values
                    good_keys = [keys[i] for i in good.tolist()]
                    self._store(good_keys, good_values)  # committed now
                    self._memory.update(zip(good_keys, good_values.tolist()))
                    stats.n_evaluated += good.size
                    if bar is not None:
                        bar.update(good.size)
                if not finite.all():
                    bad = job.rows[~finite]
                    fail(_Job(bad, job.attempt, job.split), "the model returned NaN or inf")
        except BaseException:
            executor.abandon()
            raise
        finally:
            if bar is not None:
                bar.close()
        return values, failed

    def _store(self, keys: list[bytes], values: np.ndarray) -> None:
        """Commit values to the on-disk cache; when that fails, keep them in memory, count
        them and say so once (a full disk must not stop or lose the run)."""
        if self._cache is None:
            return
        if self._cache_writable:
            try:
                self._cache.store(keys, values)
                return
            except CacheError as exc:
                self._cache_writable = False
                warnings.warn(
                    f"{exc}. The values computed from now on are kept in memory only (the "
                    "result is complete; an interrupted run would recompute them)",
                    CacheWarning,
                    stacklevel=4,
                )
        self.stats.n_unsaved += len(keys)

    def __repr__(self) -> str:
        model = self.model_fn if self.model_fn is not None else self.model_factory
        cache = f", cache={str(self.cache_path)!r}" if self.cache_path is not None else ""
        return (
            f"QueryEngine({model!r}, n_features={self.n_features}, backend={self.backend!r}, "
            f"batch_size={self.batch_size}{cache})"
        )
